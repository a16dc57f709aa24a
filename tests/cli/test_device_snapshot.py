"""``oqtopus devices snapshot``: a device of a server, saved, served again by the local server.

The device here has the shape the OQTOPUS service gives its QPUs (per-qubit fidelity,
readout errors, T1/T2, gate durations and chip positions; couplings with their fidelity
and CNOT duration; the calibration time inside and beside ``device_info``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusDeviceBackend, OqtopusSamplingBackend
from quri_parts_oqtopus.local import LocalServer

from .conftest import Cli

CALIBRATED_AT = "2026-11-28T06:00:00+00:00"
_QUBITS = [
    {
        "id": i,
        "physical_id": 20 + i,
        "position": {"x": float(i), "y": 0.0},
        "fidelity": 0.9991 - 0.0002 * i,
        "meas_error": {
            "prob_meas1_prep0": 0.012 + 0.003 * i,
            "prob_meas0_prep1": 0.025 + 0.004 * i,
            "readout_assignment_error": 0.0185 + 0.0035 * i,
        },
        "qubit_lifetime": {"t1": 95.1 - 7 * i, "t2": 80.2 - 5 * i},
        "gate_duration": {"rz": 0, "sx": 35, "x": 35},
    }
    for i in range(4)
]
_COUPLINGS = [
    {"control": a, "target": b, "fidelity": 0.985 - 0.004 * a, "gate_duration": {"cx": 280.0}}
    for a, b in [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
]
SERVICE_DEVICE = {
    "device_id": "anemone",
    "device_type": "QPU",
    "n_qubits": 4,
    "basis_gates": ["sx", "x", "rz", "cx"],
    "supported_instructions": ["measure", "barrier"],
    "device_info": json.dumps(
        {
            "device_id": "anemone",
            "qubits": _QUBITS,
            "couplings": _COUPLINGS,
            "calibrated_at": CALIBRATED_AT,
        }
    ),
    "calibrated_at": CALIBRATED_AT,
    "description": "A 4-qubit superconducting QPU (test double)",
}


def _ghz_counts(server: LocalServer) -> dict[int, int]:
    circuit = QuantumCircuit(3)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    circuit.add_CNOT_gate(1, 2)
    job = OqtopusSamplingBackend(server.config).sample(
        circuit, device_id="anemone", shots=2000, simulator_info={"seed": 11}
    )
    return {int(k): int(v) for k, v in job.result(timeout=120, wait=0.05).counts.items()}


@pytest.mark.slow  # two servers and noisy runs of 20,000 shots: CI runs it (--runslow)
def test_a_snapshot_serves_the_same_device_and_runs_its_jobs_with_the_same_noise(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "anemone.json"
    with LocalServer(devices=[SERVICE_DEVICE], example_devices=False) as origin:
        monkeypatch.setenv("OQTOPUS_URL", origin.url)
        monkeypatch.setenv("OQTOPUS_API_TOKEN", origin.token)
        run = cli.ok("devices", "snapshot", "anemone", "-o", str(saved))
        assert run.out == f"{saved}: anemone ({CALIBRATED_AT})\n"
        original = OqtopusDeviceBackend(origin.config).get_device("anemone")
        original_info = original.device_info  # a presigned URL: read while it answers
        counts = _ghz_counts(origin)
    written = json.loads(saved.read_text(encoding="utf-8"))
    assert "status" not in written  # only what lasts: not status, pending jobs
    assert "n_pending_jobs" not in written
    assert isinstance(written["device_info"], dict)  # inline and readable
    with LocalServer(devices=[saved], example_devices=False) as copy:
        served = OqtopusDeviceBackend(copy.config).get_device("anemone")
        assert served.device_info == original_info
        assert original_info["calibrated_at"] == CALIBRATED_AT
        assert served.calibrated_at == original.calibrated_at
        assert served.calibrated_at is not None
        assert served.calibrated_at.isoformat() == CALIBRATED_AT
        assert (served.n_qubits, served.basis_gates, served.device_type) == (
            original.n_qubits, original.basis_gates, original.device_type,
        )  # fmt: skip
        assert _ghz_counts(copy) == counts  # same seed, same noise and topology: same counts
    assert counts.get(0, 0) + counts.get(7, 0) < 2000  # the noise did act


def test_a_snapshot_refuses_to_overwrite_and_needs_an_output(cli: Cli, tmp_path: Path) -> None:
    existing = tmp_path / "there.json"
    existing.write_text("keep me")
    run = cli.fails(2, "devices", "snapshot", "qulacs", "-o", str(existing))
    assert "exists: give --force" in run.err
    assert existing.read_text() == "keep me"
    assert "needs --output FILE" in cli.fails(2, "devices", "snapshot", "qulacs").err
    cli.ok("devices", "snapshot", "qulacs", "-o", str(existing), "--force")
    assert json.loads(existing.read_text())["device_id"] == "qulacs"


@pytest.mark.parametrize(
    "argv",
    [("devices", "a", "b"), ("devices", "snapshot", "a", "b"), ("devices", "qulacs", "-o", "x")],
)
def test_devices_words_other_than_an_id_or_a_snapshot_are_usage_errors(
    cli: Cli, argv: tuple[str, ...]
) -> None:
    cli.fails(2, *argv)
