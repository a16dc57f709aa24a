"""The devices the server offers: the built-in qulacs simulator and any configured extras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quri_parts_oqtopus._contract import (
    AVAILABLE,
    DEVICE_FIELDS,
    DEVICE_STATUSES,
    DEVICE_TYPES,
    MAX_SHOTS,
    SIMULATOR,
)

from .store import Store, utc_now

DEFAULT_DEVICE_ID = "qulacs"
# 26 qubits: the worst sampling job (uniform state, 10^7 shots) peaks at 2.6 GiB in a worker,
# so several workers fit 24 GiB beside the server and the client.
DEFAULT_N_QUBITS = 26
BASIS_GATES = [
    "x",
    "y",
    "z",
    "h",
    "s",
    "sdg",
    "t",
    "tdg",
    "rx",
    "ry",
    "rz",
    "cx",
    "cz",
    "swap",
    "u1",
    "u2",
    "u3",
    "u",
    "p",
    "id",
    "sx",
    "sxdg",
]
SUPPORTED_INSTRUCTIONS = ["measure", "barrier", "reset"]


def default_device() -> dict[str, Any]:
    """The built-in state-vector simulator every server offers."""
    info = {
        "simulator": "qulacs",
        "method": "state vector",
        "noise": None,
        "max_shots": MAX_SHOTS,
        "n_qubits": DEFAULT_N_QUBITS,
    }
    return {
        "device_id": DEFAULT_DEVICE_ID,
        "device_type": SIMULATOR,
        "status": AVAILABLE,
        "n_qubits": DEFAULT_N_QUBITS,
        "basis_gates": list(BASIS_GATES),
        "supported_instructions": list(SUPPORTED_INSTRUCTIONS),
        "device_info": json.dumps(info),
        "calibrated_at": utc_now(),
        "description": "Noiseless qulacs state-vector simulator run by the local OQTOPUS server",
        "execution_delay": 0.0,
    }


def complete_device(partial: dict[str, Any]) -> dict[str, Any]:
    """A full device record from a partial definition (missing fields from the default).

    Raises:
        ValueError: If the definition has no string ``device_id`` or an invalid field.

    """
    device_id = partial.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise ValueError(f"a device definition needs a non-empty device_id: {partial!r}")
    device = default_device()
    device["description"] = f"Noiseless qulacs state-vector simulator ({device_id})"
    device.update(partial)
    validate_device(device)
    return device


def validate_device(device: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first field with a value clients would reject."""
    if device.get("status") not in DEVICE_STATUSES:
        raise ValueError(f"device status must be one of {DEVICE_STATUSES}: {device['status']!r}")
    if device.get("device_type") not in DEVICE_TYPES:
        raise ValueError(f"device_type must be one of {DEVICE_TYPES}: {device['device_type']!r}")
    n_qubits = device.get("n_qubits")
    if not isinstance(n_qubits, int) or isinstance(n_qubits, bool) or n_qubits < 1:
        raise ValueError(f"n_qubits must be a positive integer: {n_qubits!r}")
    delay = device.get("execution_delay", 0.0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise ValueError(f"execution_delay must be a non-negative number: {delay!r}")
    for name in ("basis_gates", "supported_instructions"):
        value = device.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings: {value!r}")


def load_devices_file(path: Path) -> list[dict[str, Any]]:
    """Device definitions from a JSON file holding a list of (partial) device objects.

    Raises:
        ValueError: If the file is not such a list or a definition is invalid.

    """
    try:
        definitions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read devices file {str(path)!r}: {e}") from e
    if not isinstance(definitions, list) or not all(isinstance(d, dict) for d in definitions):
        raise ValueError(f"devices file {str(path)!r} must hold a JSON list of objects")
    return [complete_device(d) for d in definitions]


def install_devices(store: Store, devices_file: Path | None) -> None:
    """Make sure the default device exists and the configured ones are as configured."""
    store.put_device(default_device(), replace=False)
    if devices_file is not None:
        for device in load_devices_file(devices_file):
            store.put_device(device, replace=True)


def public_device(device: dict[str, Any], n_pending_jobs: int) -> dict[str, Any]:
    """The device object clients see, with the live pending-job count."""
    merged = {**device, "n_pending_jobs": n_pending_jobs}
    # Anything else in a device record (e.g. `execution_delay`) is internal.
    return {name: merged[name] for name in DEVICE_FIELDS if merged.get(name) is not None}
