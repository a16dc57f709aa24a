"""A device of a server as a device file of the local server (``oqtopus devices snapshot``).

The file is the device object the server describes, without what only holds at the moment
it was read (status, pending jobs, availability), and with ``device_info`` downloaded and
written inline as JSON: ``oqtopus-local serve --devices FILE`` (or
``LocalServer(devices=[FILE])``) then offers the device with the same calibration, topology
and ``calibrated_at``, and runs its jobs with that noise.
"""

from __future__ import annotations

from typing import Any

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient, is_url

__all__ = ["SNAPSHOT", "SNAPSHOT_FIELDS", "device_snapshot"]

#: The word of ``oqtopus devices snapshot DEVICE_ID``.
SNAPSHOT = "snapshot"
#: What a snapshot keeps of a device object, in the service's order.
SNAPSHOT_FIELDS = (
    "device_id",
    "device_type",
    "n_qubits",
    "basis_gates",
    "supported_instructions",
    "device_info",
    "calibrated_at",
    "description",
)


def device_snapshot(client: OqtopusHttpClient, device_id: str) -> dict[str, Any]:
    """The device file of ``device_id``: its lasting fields, ``device_info`` inline.

    Raises:
        BackendError: If the device cannot be read, or its ``device_info`` cannot be
            downloaded or is not a JSON object (a snapshot without its calibration would
            be a different device).

    """
    device = client.get_device(device_id)
    snapshot = {key: value for key in SNAPSHOT_FIELDS if (value := device.get(key)) is not None}
    info = device.get("device_info")
    if info is None:
        return snapshot
    operation = f"download device_info of device {device_id}"
    if is_url(info):
        document = client.download_archive_json(info, operation=operation)
    else:
        try:
            document = orjson.loads(info) if isinstance(info, str) else info
        except orjson.JSONDecodeError as e:
            raise BackendError(f"{operation}: device_info is not JSON: {e}") from None
    if not isinstance(document, dict):
        raise BackendError(f"{operation}: device_info is not a JSON object")
    snapshot["device_info"] = document
    return snapshot
