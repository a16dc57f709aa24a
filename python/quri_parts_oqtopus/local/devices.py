"""The devices the server offers: the built-in qulacs simulator, the example emulated QPUs
shipped in ``example_devices/`` and any configured extras.

A definition whose ``device_info`` holds calibration data (``qubits``, ``couplings``, the
OQTOPUS format) is an emulated QPU: its jobs are transpiled to its basis gates and
coupling map and simulated with its noise (``emulation.py`` in the workers).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from quri_parts_oqtopus._contract import (
    AVAILABLE,
    DEVICE_FIELDS,
    DEVICE_STATUSES,
    DEVICE_TYPES,
    MAX_SHOTS,
    QPU,
    SIMULATOR,
)
from quri_parts_oqtopus._values import is_int, is_number
from quri_parts_oqtopus.calibration import DeviceCalibration

from .noise_model import check_gate_noise
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
#: What an OQTOPUS superconducting QPU runs natively (its transpiler's target).
QPU_BASIS_GATES = ["sx", "x", "rz", "cx"]
EXAMPLE_DEVICES_DIR = Path(__file__).parent / "example_devices"
#: The most qubits a device definition may state (more than any QPU; a bound for the
#: 64-bit integers of other OQTOPUS clients and for the per-job transpiler target).
MAX_DEVICE_QUBITS = 10_000


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
        raise ValueError(f"a device definition needs a non-empty device_id: {partial!r:.200}")
    device = default_device()
    device["description"] = f"Noiseless qulacs state-vector simulator ({device_id})"
    info = partial.get("device_info")
    try:
        calibration = device_calibration(info)
    except ValueError as e:
        raise ValueError(f"device {device_id!r}: {e}") from e
    if calibration is not None:
        device.update(_emulated_defaults(device_id, calibration))
    device.update(partial)
    if isinstance(info, dict):
        device["device_info"] = json.dumps(info)  # on the wire it is a JSON text
    _validate_fields(device)
    _check_qubit_count(device, calibration)
    return device


def _calibration_document(info: object) -> dict[str, Any] | None:
    """The parsed ``device_info`` if it holds calibration data (a ``qubits`` key), else None.

    Decided on the parsed document, never on its text (``"qubit\u0073"`` is ``qubits``).
    """
    document = info
    if isinstance(info, str):
        try:
            document = json.loads(info)
        except json.JSONDecodeError:
            return None  # a free-form description, as a simulator's may be
    if isinstance(document, dict) and "qubits" in document:
        return document
    return None


def device_calibration(info: object) -> DeviceCalibration | None:
    """The calibration a ``device_info`` (a dict or its JSON text) holds; None if none.

    Raises:
        ValueError: Naming the field, if it is malformed or leaves a gate's noise channel
            undefined (a duration that relaxes a qubit completely).

    """
    document = _calibration_document(info)
    if document is None:
        return None
    calibration = DeviceCalibration.from_device_info(document)
    check_gate_noise(calibration)
    return calibration


def _emulated_defaults(device_id: str, calibration: DeviceCalibration) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "device_type": QPU,
        "n_qubits": calibration.n_qubits,
        "basis_gates": list(QPU_BASIS_GATES),
        "supported_instructions": ["measure", "barrier"],
        "description": f"Emulated QPU {device_id} (calibration-based noise, local server)",
    }
    if calibration.calibrated_at is not None:
        defaults["calibrated_at"] = calibration.calibrated_at
    return defaults


def validate_device(device: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first field with a value clients would reject, or
    a calibration (``device_info``) the emulation cannot run (see ``device_calibration``)."""
    _validate_fields(device)
    _check_qubit_count(device, device_calibration(device.get("device_info")))


def _check_qubit_count(device: dict[str, Any], calibration: DeviceCalibration | None) -> None:
    if calibration is not None and device["n_qubits"] != calibration.n_qubits:
        raise ValueError(
            f"device {device.get('device_id')!r}: n_qubits is {device['n_qubits']} but its"
            f" device_info calibrates {calibration.n_qubits} qubits"
        )


def _validate_fields(device: dict[str, Any]) -> None:
    if device.get("status") not in DEVICE_STATUSES:
        raise ValueError(f"device status must be one of {DEVICE_STATUSES}: {device['status']!r}")
    if device.get("device_type") not in DEVICE_TYPES:
        raise ValueError(f"device_type must be one of {DEVICE_TYPES}: {device['device_type']!r}")
    n_qubits = device.get("n_qubits")
    if not is_int(n_qubits) or n_qubits < 1:
        raise ValueError(f"n_qubits must be a positive integer: {n_qubits!r:.40}")
    if n_qubits > MAX_DEVICE_QUBITS:
        raise ValueError(f"n_qubits must be at most {MAX_DEVICE_QUBITS}: {n_qubits:.3g}")
    for name in ("execution_delay", "transpile_delay", "cancel_delay"):
        delay = device.get(name, 0.0)
        if not is_number(delay) or not 0 <= delay < math.inf:  # refuses NaN and Infinity too
            raise ValueError(f"{name} must be a finite non-negative number: {delay!r}")
    for name in ("basis_gates", "supported_instructions"):
        value = device.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings: {value!r}")


def load_devices_file(path: Path) -> list[dict[str, Any]]:
    """Device definitions from a JSON file holding a (partial) device object or a list of them.

    Raises:
        ValueError: If the file is not such a list or a definition is invalid; the
            message names the file.

    """
    try:
        definitions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read devices file {str(path)!r}: {e}") from e
    if isinstance(definitions, dict):
        definitions = [definitions]
    if not isinstance(definitions, list) or not all(isinstance(d, dict) for d in definitions):
        raise ValueError(f"devices file {str(path)!r} must hold a JSON object or list of objects")
    try:
        devices = [complete_device(d) for d in definitions]
    except ValueError as e:
        raise ValueError(f"devices file {str(path)!r}: {e}") from e
    ids = Counter(device["device_id"] for device in devices)
    repeated = sorted(device_id for device_id, n in ids.items() if n > 1)
    if repeated:
        raise ValueError(f"devices file {str(path)!r} defines device_id {repeated} more than once")
    return devices


def example_devices() -> list[dict[str, Any]]:
    """The emulated QPUs shipped with the server (``example_devices/*.json``)."""
    files = sorted(EXAMPLE_DEVICES_DIR.glob("*.json"))
    return [device for path in files for device in load_devices_file(path)]


def install_devices(store: Store, devices_file: Path | None, *, with_examples: bool = True) -> None:
    """Make sure the default device exists and the example and configured ones are as
    shipped and configured (a configured device of the same id wins)."""
    store.put_device(default_device(), replace=False)
    if with_examples:
        for device in example_devices():
            store.put_device(device, replace=True)
    if devices_file is not None:
        for device in load_devices_file(devices_file):
            store.put_device(device, replace=True)


def public_device(device: dict[str, Any], n_pending_jobs: int) -> dict[str, Any]:
    """The device object clients see, with the live pending-job count."""
    merged = {**device, "n_pending_jobs": n_pending_jobs}
    # Anything else in a device record (e.g. `execution_delay`) is internal.
    return {name: merged[name] for name in DEVICE_FIELDS if merged.get(name) is not None}


def emulated_device_info(device: dict[str, Any]) -> str | None:
    """The calibration (``device_info`` text) of an emulated QPU; None for a simulator."""
    info = device.get("device_info")
    if not isinstance(info, str) or _calibration_document(info) is None:
        return None
    return info
