"""Devices of an OQTOPUS cloud: their properties, and the backend that lists them."""

from __future__ import annotations

import json
import pprint
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import AVAILABLE, DEVICE_FIELDS, DEVICE_TIMESTAMP_FIELDS
from quri_parts_oqtopus._http import OqtopusHttpClient, is_url
from quri_parts_oqtopus._job_api import http_api
from quri_parts_oqtopus.backend.base import OqtopusBackendBase
from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.errors import (
    DEVICE_REFRESH_FAILED,
    OqtopusDeviceInfoError,
    reported_as,
)
from quri_parts_oqtopus.backend.record import parse_timestamp
from quri_parts_oqtopus.backend.submission import check_shots
from quri_parts_oqtopus.models.base import OqtopusModelBase
from quri_parts_oqtopus.models.utils import DateTimeEncoder
from quri_parts_oqtopus.notebook import device_html
from quri_parts_oqtopus.transport import bounded, preview

# OqtopusBackendBase and OqtopusConfig too: the reference's module of this path has them.
__all__ = ["OqtopusBackendBase", "OqtopusConfig", "OqtopusDevice", "OqtopusDeviceBackend"]


class OqtopusDevice(OqtopusModelBase):
    """A device embedded in the OQTOPUS framework.

    One property for each field of the contract's ``Device`` (a test holds them equal).

    Args:
        device: The device's JSON object, as the server sent it.
        client: The HTTP client used to refresh it (also accepted as ``device_api``, the
            name the documentation gives).

    Raises:
        ValueError: If ``device`` or ``client`` is None.

    """

    def __init__(
        self,
        device: Mapping[str, Any],
        client: OqtopusHttpClient | None = None,
        *,
        device_api: OqtopusHttpClient | None = None,
    ) -> None:
        if client is not None and device_api is not None:
            raise TypeError("pass the HTTP client as 'client' or as 'device_api', not both")
        client = device_api if client is None else client
        if device is None:
            raise ValueError("'device' should not be None")
        if client is None:
            raise ValueError("'client' should not be None")
        if not isinstance(device.get("device_id"), str):
            raise BackendError(f"device object without a device_id: {preview(device)}")
        self._device = dict(device)
        self._client = client
        self._device_info: dict[str, Any] | None = None

    @property
    def device_id(self) -> str:
        """The device id of the device."""
        return str(self._device["device_id"])

    @property
    def device_type(self) -> str:
        """The device type of the device (``QPU`` or ``simulator``)."""
        return str(self._device.get("device_type") or "")

    @property
    def status(self) -> str:
        """The status of the device (``available`` or ``unavailable``)."""
        return str(self._device.get("status") or "")

    @property
    def available_at(self) -> datetime | None:
        """When the device becomes available, if the server says so."""
        return parse_timestamp(self._device.get("available_at"))

    @property
    def n_pending_jobs(self) -> int:
        """The number of pending jobs in the device."""
        return int(self._device.get("n_pending_jobs") or 0)

    @property
    def n_qubits(self) -> int:
        """The number of qubits in the device (0 when unknown)."""
        return int(self._device.get("n_qubits") or 0)

    @property
    def basis_gates(self) -> list[str]:
        """The basis gates of the device."""
        return list(self._device.get("basis_gates") or [])

    @property
    def supported_instructions(self) -> list[str]:
        """The supported instructions of the device."""
        return list(self._device.get("supported_instructions") or [])

    @property
    def device_info(self) -> dict[str, Any]:
        """The device information (calibration data) as a dict; ``{}`` when absent or unreadable.

        As the reference, a ``device_info`` that cannot be downloaded or read is ``{}``
        here (:meth:`read_device_info` says why instead), and a JSON value that is not an
        object (a list, a number, ``null``) is kept as ``{"value": <that value>}``.
        """
        if self._device_info is not None:
            return self._device_info
        try:
            present, value = self._decoded_device_info()
        except OqtopusDeviceInfoError:
            return {}  # not kept: the next read tries the download again
        if not present:
            return {}
        if isinstance(value, dict):
            self._device_info = value
            return value
        return {"value": value}

    def read_device_info(self) -> dict[str, Any]:
        """The device information (calibration data) as a dict; ``{}`` when the device has none.

        What packing (for the coupling map) and ``DeviceCalibration.from_device`` read:
        unlike :attr:`device_info`, a ``device_info`` that cannot be downloaded or read is
        an error, not a device without calibration data.

        Raises:
            OqtopusDeviceInfoError: (a ``BackendError`` and ``ValueError``) If the
                ``device_info`` archive cannot be downloaded, or the text is not a JSON
                object; the message names the device and the cause.

        """
        if self._device_info is not None:
            return self._device_info
        present, value = self._decoded_device_info()
        if not present or value is None:
            return {}
        if not isinstance(value, dict):
            raise OqtopusDeviceInfoError(
                f"device {self.device_id}: its device_info is not a JSON object: {preview(value)}"
            )
        self._device_info = value
        return value

    def _decoded_device_info(self) -> tuple[bool, Any]:
        """Whether the device has a ``device_info``, and its JSON value (downloaded if a URL)."""
        value = self._device.get("device_info")
        if value is None or value == "":
            return False, None
        try:
            if is_url(value):
                operation = f"download device_info of device {self.device_id}"
                value = self._client.download_archive_json(value, operation=operation)
            elif isinstance(value, (str, bytes)):
                value = orjson.loads(value)
        except (ValueError, BackendError) as e:
            raise OqtopusDeviceInfoError(
                f"device {self.device_id}: its device_info cannot be read: {bounded(str(e))}"
            ) from e
        return True, value

    @property
    def calibrated_at(self) -> datetime | None:
        """When the device was calibrated, if the server says so."""
        return parse_timestamp(self._device.get("calibrated_at"))

    @property
    def description(self) -> str:
        """The description of the device."""
        return str(self._device.get("description") or "")

    def check_fits(self, qubit_counts: Sequence[int], shots: int) -> None:
        """Refuse, before anything is submitted, programs this device cannot run.

        Args:
            qubit_counts: The qubit count of each program (``circuit.qubit_count``); the
                programs of one ``multi_manual`` job run side by side, so they add up.
            shots: The shots of the job.

        Raises:
            ValueError: If the device is unavailable, the qubits exceed ``n_qubits``
                (when the device states it), or ``shots`` is not in 1..10,000,000; the
                message names the device and the offending number.

        """
        if self.status != AVAILABLE:
            raise ValueError(f"device {self.device_id!r} is {self.status!r}, not available")
        needed = sum(qubit_counts)
        if self.n_qubits and needed > self.n_qubits:
            raise ValueError(
                f"device {self.device_id!r} has {self.n_qubits} qubits; the programs need {needed}"
            )
        check_shots(shots)

    def refresh(self) -> None:
        """Retrieve the device information from OQTOPUS Cloud.

        Raises:
            BackendError: If the device cannot be found, authentication fails, the call
                times out, etc. (``"failed to refresh device info ..."``).

        """
        with reported_as(DEVICE_REFRESH_FAILED):
            self._device = dict(self._client.get_device(self.device_id))
        self._device_info = None

    def to_json(self) -> str:
        """A JSON text of the device, the same text as quri-parts-oqtopus 1.1.5 writes.

        The fields in the order of the reference's model, absent ones left out,
        timestamps in ISO 8601 and ``device_info`` as a JSON text.
        """
        fields = {key: value for key, value in self._fields().items() if value is not None}
        return json.dumps(fields, cls=DateTimeEncoder)

    def _repr_html_(self) -> str:
        """The device as Jupyter shows it: a small table, as last read (no call to the
        server; whether it has calibration data is read from what it holds)."""
        return device_html(self._device, self._device.get("device_info") is not None)

    def __repr__(self) -> str:
        # As the reference: every field (None when absent), pretty-printed.
        return pprint.pformat(self._fields())

    def _fields(self) -> dict[str, Any]:
        """Every field, then any the server adds: timestamps as datetimes, None when absent."""
        extras = [key for key in self._device if key not in DEVICE_FIELDS]
        fields = {key: self._device.get(key) for key in (*DEVICE_FIELDS, *extras)}
        for key in DEVICE_TIMESTAMP_FIELDS:
            fields[key] = parse_timestamp(fields[key])
        if is_url(fields["device_info"]):
            fields["device_info"] = json.dumps(self.device_info)
        return fields


class OqtopusDeviceBackend(OqtopusBackendBase):
    """A backend that lists the devices of an OQTOPUS cloud.

    Args:
        config: A :class:`OqtopusConfig` (see :class:`OqtopusSamplingBackend` for how it
            is found when None).

    """

    def get_devices(self) -> list[OqtopusDevice]:
        """Get all devices registered in OQTOPUS Cloud.

        Raises:
            BackendError: If the server cannot be reached or answers an error.

        """
        client = http_api(self._client, "list devices")
        return [OqtopusDevice(device, client) for device in client.list_devices()]

    def least_busy_device(
        self, min_qubits: int = 1, device_type: str | None = None
    ) -> OqtopusDevice:
        """The available device with the fewest pending jobs that has ``min_qubits`` qubits.

        Args:
            min_qubits: Qubits the device must have at least.
            device_type: ``"QPU"`` or ``"simulator"`` to choose among those only.

        Raises:
            ValueError: If no available device qualifies (the message lists the devices
                and why each was passed over).
            BackendError: If the devices cannot be listed.

        """
        passed_over: list[str] = []
        fitting: list[OqtopusDevice] = []
        for device in self.get_devices():
            if device.status != AVAILABLE:
                passed_over.append(f"{device.device_id}: {device.status}")
            elif device_type is not None and device.device_type != device_type:
                passed_over.append(f"{device.device_id}: a {device.device_type}")
            elif device.n_qubits < min_qubits:
                passed_over.append(f"{device.device_id}: {device.n_qubits} qubits")
            else:
                fitting.append(device)
        if not fitting:
            raise ValueError(
                f"no available device with {min_qubits}+ qubits"
                + (f" of type {device_type!r}" if device_type else "")
                + f"; passed over: {passed_over}"
            )
        return min(fitting, key=lambda device: (device.n_pending_jobs, device.device_id))

    def get_device(self, device_id: str) -> OqtopusDevice:
        """Get a device by its ID.

        Raises:
            BackendError: If the device does not exist or the server answers an error.

        """
        client = http_api(self._client, f"get device {device_id!r}")
        return OqtopusDevice(client.get_device(device_id), client)
