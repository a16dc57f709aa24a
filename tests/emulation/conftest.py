"""One server for the emulation tests: the example QPUs plus devices with known noise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from quri_parts_oqtopus.local import LocalServer

from ..local.helpers import Api

# Noise of one kind only, so that each test can predict its figures from the calibration.
GATE_FIDELITIES = {(0, 1): 0.95, (1, 2): 0.90, (2, 3): 0.93}
READOUT = [(0.04, 0.10), (0.02, 0.15), (0.08, 0.05)]


def line_device(
    device_id: str, qubits: list[dict[str, Any]], fidelities: list[float]
) -> dict[str, Any]:
    couplings = []
    for q, fidelity in enumerate(fidelities):
        for a, b in ((q, q + 1), (q + 1, q)):
            couplings.append({"control": a, "target": b, "fidelity": fidelity})
    return {"device_id": device_id, "device_info": {"qubits": qubits, "couplings": couplings}}


def known_devices() -> list[dict[str, Any]]:
    """``depolarizing-4``: only two-qubit gate errors; ``readout-3``: only readout errors."""
    perfect = [{"id": q, "fidelity": 1.0} for q in range(4)]
    depolarizing = line_device("depolarizing-4", perfect, list(GATE_FIDELITIES.values()))
    readout_qubits = [
        {"id": q, "fidelity": 1.0, "meas_error": {"prob_meas1_prep0": p10, "prob_meas0_prep1": p01}}
        for q, (p10, p01) in enumerate(READOUT)
    ]
    readout = line_device("readout-3", readout_qubits, [1.0, 1.0])
    coin = {"prob_meas1_prep0": 0.5, "prob_meas0_prep1": 0.5}  # the bit read is a coin toss
    uninformative = line_device("coin-readout-2", [{"id": 0}, {"id": 1, "meas_error": coin}], [1.0])
    return [depolarizing, readout, uninformative]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    devices = tmp_path_factory.mktemp("emulation") / "devices.json"
    devices.write_text(json.dumps(known_devices()), encoding="utf-8")
    with LocalServer(workers=2, inline_job_info=True, devices_file=devices) as local:
        yield local


@pytest.fixture
def api(emulator: LocalServer) -> Api:
    return Api(emulator)
