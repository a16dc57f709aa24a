"""Calibration data as typed objects: reading, refusing malformed data, choosing qubits;
the noise channels fitted to it; the shipped example devices; the client's view."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import qulacs
from qulacs import gate as qgate

from quri_parts_oqtopus.backend import OqtopusDeviceBackend
from quri_parts_oqtopus.calibration import CouplingCalibration, DeviceCalibration, coupling_map
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.device_program import NativeGate
from quri_parts_oqtopus.local.devices import EXAMPLE_DEVICES_DIR, load_devices_file
from quri_parts_oqtopus.local.mitigation import (
    apply_per_bit,
    assignment_matrix,
    nearest_probability,
    pseudo_inverse,
)
from quri_parts_oqtopus.local.noise import NoisyDevice
from quri_parts_oqtopus.local.simulate import run_task
from quri_parts_oqtopus.local.tasks import Task

from .example_devices import OUT, example_devices, render


def device_info(device_id: str) -> dict[str, Any]:
    device = load_devices_file(EXAMPLE_DEVICES_DIR / f"{device_id}.json")[0]
    info: dict[str, Any] = json.loads(device["device_info"])
    return info


def test_example_devices_are_generated() -> None:
    shipped = sorted(p.name for p in OUT.glob("*.json"))
    assert shipped == sorted(example_devices())
    for name, device in example_devices().items():
        assert (OUT / name).read_text(encoding="utf-8") == render(device), name


def test_example_devices_read_as_typed_calibrations() -> None:
    square = DeviceCalibration.from_device_info(device_info("emu-square-64"))
    assert square.n_qubits == 64
    assert len(square.couplings) == 2 * 8 * 7
    assert square.neighbors(9) == [1, 8, 10, 17]
    heavy = DeviceCalibration.from_device_info(json.dumps(device_info("emu-heavyhex-16")))
    assert max(len(heavy.neighbors(q)) for q in range(16)) == 3  # heavy-hex: degree <= 3
    qubit = heavy.qubits[0]
    assert 0.99 < (qubit.fidelity or 0) < 1
    assert qubit.t1
    assert qubit.t2
    assert qubit.t2 <= 2 * qubit.t1
    assert qubit.readout is not None
    assert 0 < qubit.readout.prob_meas0_prep1 < 0.1
    assert heavy.calibrated_at == "2026-11-30T09:00:00.000000+00:00"


BAD = [
    ({"qubits": []}, "device_info: qubits must be a non-empty list"),
    ({"qubits": [{"id": 1}]}, "qubit ids must be 0..0 once each, got [1]"),
    ({"qubits": [{"id": 0, "fidelity": 1.5}]}, "qubits[0].fidelity must be in [0, 1], got 1.5"),
    (
        {"qubits": [{"id": 0, "meas_error": {"prob_meas1_prep0": "x", "prob_meas0_prep1": 0}}]},
        "qubits[0].meas_error.prob_meas1_prep0 must be a number, got 'x'",
    ),
    (
        {"qubits": [{"id": 0}], "couplings": [{"control": 0, "target": 3}]},
        "couplings[0] names qubit 3; the device has 1",
    ),
    ({"qubits": [{"id": 0, "qubit_lifetime": {"t1": -5}}]}, "qubit_lifetime.t1 must be in >= 0"),
]


@pytest.mark.parametrize(("info", "message"), BAD)
def test_malformed_calibration_is_refused_naming_the_field(info: Any, message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        DeviceCalibration.from_device_info(info)
    assert message in str(caught.value)


def test_best_qubits_rank_by_gate_and_readout_error() -> None:
    ring = DeviceCalibration.from_device_info(device_info("emu-ring-8"))
    ranked = ring.best_qubits()
    scores = [ring.qubit_score(q) for q in ranked]
    assert scores == sorted(scores)
    assert sorted(ranked) == list(range(8))
    assert ring.best_qubits(3) == ranked[:3]
    with pytest.raises(ValueError, match=r"count must be in 1\.\.8, got 9"):
        ring.best_qubits(9)


@pytest.mark.parametrize("device_id", ["emu-square-64", "emu-heavyhex-16", "emu-ring-8"])
@pytest.mark.parametrize("width", [1, 3, 5, 8])
def test_connected_layout_is_a_coupled_path(device_id: str, width: int) -> None:
    calibration = DeviceCalibration.from_device_info(device_info(device_id))
    layout = calibration.connected_layout(width)
    assert len(set(layout)) == width
    for a, b in itertools.pairwise(layout):
        assert calibration.coupling(a, b) is not None, (layout, a, b)


def test_connected_layout_refuses_a_disconnected_width() -> None:
    islands = [{"control": 0, "target": 1}, {"control": 2, "target": 3}]
    two_islands = {"qubits": [{"id": q} for q in range(4)], "couplings": islands}
    with pytest.raises(ValueError, match="the device has no 3 connected qubits"):
        DeviceCalibration.from_device_info(two_islands).connected_layout(3)


@pytest.mark.parametrize("width", [0, 5, 2.0, True, None])
def test_connected_layout_refuses_a_bad_width_naming_it(width: object) -> None:
    calibration = DeviceCalibration.from_device_info({"qubits": [{"id": q} for q in range(4)]})
    with pytest.raises(ValueError, match=re.escape(f"width must be in 1..4, got {width!r}")):
        calibration.connected_layout(width)  # type: ignore[arg-type]


class _CountedCouplings(tuple[CouplingCalibration, ...]):
    """The couplings of a calibration, counting how often they are walked through."""

    walks = 0

    def __iter__(self) -> Iterator[CouplingCalibration]:
        type(self).walks += 1
        return super().__iter__()


def _counted(info: dict[str, Any]) -> DeviceCalibration:
    calibration = DeviceCalibration.from_device_info(info)
    _CountedCouplings.walks = 0
    return dataclasses.replace(calibration, couplings=_CountedCouplings(calibration.couplings))


def test_layouts_and_the_noise_model_walk_the_couplings_once_however_often_they_ask() -> None:
    # Every lookup once scanned the list: connected_layout took 5 s on a 32x32 lattice.
    calibration = _counted(device_info("emu-square-64"))
    layout = calibration.connected_layout(8)
    assert calibration.neighbors(9) == [1, 8, 10, 17]
    device = NoisyDevice(calibration, layout[:2])
    device.run([NativeGate("cx", (layout[0], layout[1]))] * 50)
    assert _CountedCouplings.walks == 1


def test_repeated_couplings_are_one_link_and_the_first_listed_counts() -> None:
    first = {"control": 0, "target": 1, "fidelity": 0.9}
    repeated = [first, {"control": 0, "target": 1, "fidelity": 0.5}] * 1000
    calibration = _counted({"qubits": [{"id": q} for q in range(3)], "couplings": repeated})
    assert calibration.neighbors(0) == [1]
    assert calibration.neighbors(2) == []
    found = calibration.coupling(1, 0)
    assert found is not None
    assert found.fidelity == 0.9
    assert calibration.connected_layout(2) in ([0, 1], [1, 0])
    assert _CountedCouplings.walks == 1


# -- the noise channels, checked against the calibrated fidelities ----------------------------


def _entanglement_fidelity(device: NoisyDevice, native: NativeGate, inverse: Any) -> float:
    """F_e of the noisy gate: one half of a Bell pair per qubit through it, then undone."""
    k = len(native.qubits)
    for system in range(k):
        qgate.H(system).update_quantum_state(device.state)
        qgate.CNOT(system, system + k).update_quantum_state(device.state)
    device.run([native])
    inverse.update_quantum_state(device.state)
    bell = qulacs.QuantumState(2 * k)
    for system in range(k):
        qgate.H(system).update_quantum_state(bell)
        qgate.CNOT(system, system + k).update_quantum_state(bell)
    vector = bell.get_vector()
    return float(np.real(np.conj(vector) @ device.state.get_matrix() @ vector))


def _test_device(
    fidelity_1q: float, fidelity_2q: float, t1: float = 100.0, t2: float = 80.0
) -> DeviceCalibration:
    qubit = {"fidelity": fidelity_1q, "qubit_lifetime": {"t1": t1, "t2": t2},
             "gate_duration": {"sx": 30, "x": 60, "rz": 0}}  # fmt: skip
    return DeviceCalibration.from_device_info({
        "qubits": [{"id": q, **qubit} for q in range(4)],
        "couplings": [{"control": 0, "target": 1, "fidelity": fidelity_2q,
                       "gate_duration": {"cx": 300}}],
    })  # fmt: skip


@pytest.mark.parametrize("fidelity", [0.999, 0.99, 0.97])
def test_single_qubit_gate_noise_has_the_calibrated_average_fidelity(fidelity: float) -> None:
    device = NoisyDevice(_test_device(fidelity, 0.95), [0, 1])
    f_e = _entanglement_fidelity(device, NativeGate("sx", (0,)), qgate.sqrtXdag(0))
    assert (2 * f_e + 1) / 3 == pytest.approx(fidelity, abs=1e-9)


@pytest.mark.parametrize("fidelity", [0.99, 0.95, 0.9])
def test_two_qubit_gate_noise_has_the_calibrated_average_fidelity(fidelity: float) -> None:
    device = NoisyDevice(_test_device(0.999, fidelity), [0, 1, 2, 3])
    f_e = _entanglement_fidelity(device, NativeGate("cx", (0, 1)), qgate.CNOT(0, 1))
    assert (4 * f_e + 1) / 5 == pytest.approx(fidelity, abs=1e-9)


def test_relaxation_beyond_the_calibrated_error_is_what_remains() -> None:
    # T1 = 1 us: 300 ns of CNOT relax more than a 0.99 fidelity allows; no depolarizing is
    # added, and the gate is as good as relaxation lets it be (worse than calibrated).
    device = NoisyDevice(_test_device(0.999, 0.99, t1=1.0, t2=1.0), [0, 1, 2, 3])
    f_e = _entanglement_fidelity(device, NativeGate("cx", (0, 1)), qgate.CNOT(0, 1))
    assert (4 * f_e + 1) / 5 < 0.99


def test_relaxation_alone_decays_the_excited_state_as_t1_says() -> None:
    # Fidelity 0 would be "no information": use None (uncalibrated) to see relaxation alone.
    calibration = DeviceCalibration.from_device_info(
        {
            "qubits": [
                {"id": 0, "qubit_lifetime": {"t1": 30.0, "t2": 20.0}, "gate_duration": {"x": 3000}}
            ]
        }
    )
    device = NoisyDevice(calibration, [0])
    device.run([NativeGate("x", (0,))])
    excited = float(np.real(device.state.get_matrix()[1, 1]))
    assert excited == pytest.approx(math.exp(-3.0 / 30.0), abs=1e-9)


def test_a_channel_the_calibration_leaves_undefined_fails_the_job_naming_it() -> None:
    # T1 = 0.0001 us relaxes a 60 ns x gate completely: the dephasing's division by what
    # damping leaves was a ZeroDivisionError, which ended the worker process. Device files
    # and device changes refuse such a calibration; a job given one directly fails alone.
    info = {"qubits": [{"id": 0, "qubit_lifetime": {"t1": 0.0001}, "gate_duration": {"x": 60}}]}
    program = (
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;'
    )
    task = Task(job_type="sampling", programs=[program], shots=10, max_qubits=1,
                device_id="t1", device_info=json.dumps(info),
                transpiler_info={"transpiler_lib": None})  # fmt: skip
    outcome, payloads = run_task(task)
    assert not outcome.succeeded
    assert outcome.ran
    assert outcome.message is not None
    assert outcome.message.startswith("the job failed while simulating: "), outcome.message
    assert "60 ns relax a qubit of T1 = 0.0001 us completely" in outcome.message
    assert payloads == {}


def test_virtual_rz_is_exact() -> None:
    device = NoisyDevice(_test_device(0.9, 0.9), [0, 1])
    f_e = _entanglement_fidelity(device, NativeGate("rz", (0,), (0.7,)), qgate.RotZ(0, -0.7))
    assert f_e == pytest.approx(1.0, abs=1e-12)


# -- the mitigation's arithmetic ----------------------------------------------------------------


def test_pseudo_inverse_of_exactly_confused_probabilities_is_the_original() -> None:
    calibration = DeviceCalibration.from_device_info(device_info("emu-ring-8"))
    readouts = [calibration.qubits[q].readout for q in (0, 1, 2)]
    original = np.array([0.5, 0.0, 0.1, 0.0, 0.0, 0.3, 0.0, 0.1])
    confused = apply_per_bit(original, [assignment_matrix(r) for r in readouts])
    assert not np.allclose(confused, original)
    assert np.allclose(pseudo_inverse(confused, readouts), original, atol=1e-12)


def test_nearest_probability_clips_negatives_and_keeps_the_total() -> None:
    quasi = np.array([0.6, 0.5, -0.05, -0.05])
    nearest = nearest_probability(quasi)
    assert nearest.min() >= 0
    assert nearest.sum() == pytest.approx(1.0)
    assert nearest == pytest.approx([0.55, 0.45, 0.0, 0.0])


# -- the client's view ------------------------------------------------------------------------


def test_client_reads_a_devices_calibration_as_typed_objects(emulator: LocalServer) -> None:
    devices = {d.device_id: d for d in OqtopusDeviceBackend(emulator.config).get_devices()}
    ring = devices["emu-ring-8"]
    assert isinstance(ring.device_info, dict)
    assert len(ring.device_info["qubits"]) == 8
    calibration = DeviceCalibration.from_device(ring)
    assert calibration.n_qubits == ring.n_qubits == 8
    assert ring.device_type == "QPU"
    assert ring.calibrated_at is not None
    assert datetime.fromisoformat(calibration.calibrated_at or "") == ring.calibrated_at
    with pytest.raises(ValueError, match="the device has no calibration data"):
        DeviceCalibration.from_device(devices["qulacs"])


# -- coupling_map: the lenient reader packing places circuits by -----------------------------


def test_a_coupling_map_reads_only_ids_any_ids_and_leaves_out_unlisted_qubits() -> None:
    info = {
        "qubits": [{"id": 4}, {"id": 0}, {"id": 7, "fidelity": "not read"}],
        "couplings": [
            {"control": 0, "target": 4},
            {"control": 7, "target": 4},
            {"control": 4, "target": 9},  # qubit 9 is not listed: left out
        ],
    }
    assert coupling_map(info) == {4: {0, 7}, 0: {4}, 7: {4}}


@pytest.mark.parametrize(
    "info", [{}, {"qubits": [{"id": 0}]}, {"couplings": []}, {"qubits": {}, "couplings": []}]
)
def test_device_info_without_both_lists_has_no_coupling_map(info: dict[str, Any]) -> None:
    assert coupling_map(info) is None


@pytest.mark.parametrize(
    ("info", "field"),
    [
        ({"qubits": [{"id": -1}], "couplings": []}, "qubits[0].id"),
        ({"qubits": [{"id": 0}, 1], "couplings": []}, "qubits[1].id"),
        (
            {"qubits": [{"id": 0}], "couplings": [{"control": 0, "target": 1.0}]},
            "couplings[0].target",
        ),
        ({"qubits": [{"id": 0}], "couplings": [{"target": 0}]}, "couplings[0].control"),
    ],
)
def test_a_coupling_map_names_the_field_that_is_no_qubit_id(
    info: dict[str, Any], field: str
) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"device_info.{field} should be a non-negative")
    ):
        coupling_map(info)
