"""Emulated QPUs run packed jobs per connected component: each component on a density
matrix of its own, the 12-qubit limit per component, the shots side by side as the
block simulator puts them, and the same distribution as one matrix of the whole."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from numpy.typing import NDArray
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.components import (
    check_component_widths,
    components_of,
    sample_components,
)
from quri_parts_oqtopus.local.device_program import NativeGate
from quri_parts_oqtopus.local.noise import NoisyDevice

from ..local.helpers import Api
from .conftest import READOUT
from .example_devices import example_devices
from .test_noise_physics import AS_WRITTEN, MITIGATED, QASM, counts_of, run


def chain(width: int, first: int = 0) -> str:
    """A GHZ chain of ``width`` qubits: one connected component."""
    lines = [QASM + f"qubit[{width}] q;", f"bit[{width}] c;", f"h q[{first % width}];"]
    lines += [f"cx q[{q}], q[{q + 1}];" for q in range(width - 1)]
    return "\n".join([*lines, "c = measure q;"]) + "\n"


def test_two_eight_qubit_programs_run_as_one_sixteen_qubit_job(api: Api) -> None:
    # 16 qubits in all, 8 per component: the limit is per component, not per job.
    job = run(api, "multi_manual", {"program": [chain(8), chain(8)]},
              device_id="emu-square-64", shots=2000)  # fmt: skip
    divided = job["job_info"]["result"]["sampling"]["divided_counts"]
    for part in divided.values():
        assert sum(part.values()) == 2000
        ghz = (part.get("0" * 8, 0) + part.get("1" * 8, 0)) / 2000
        assert 0.5 < ghz < 0.98, part  # a noisy GHZ state of 8 qubits, not noise alone


def test_a_component_wider_than_the_density_matrix_is_refused_naming_its_qubits(
    api: Api,
) -> None:
    job = api.wait(api.submit("multi_manual", {"program": [chain(13), chain(2)]},
                              device_id="emu-square-64"))  # fmt: skip
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "the program's qubits 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 are linked" in message
    assert "uses 13 qubits of the device; the noisy emulation simulates at most 12" in message


def test_each_component_reads_out_with_its_own_qubits_errors_and_mitigation(api: Api) -> None:
    # Three one-qubit programs on readout-3 as written: program i runs on qubit i (the
    # combiner puts them side by side), a component of its own, read with its P(0|1).
    programs = [QASM + "bit[1] c;\nx $0;\nc[0] = measure $0;\n"] * 3
    raw = run(api, "multi_manual", {"program": programs}, device_id="readout-3",
              shots=20000, transpiler_info=AS_WRITTEN)  # fmt: skip
    divided = raw["job_info"]["result"]["sampling"]["divided_counts"]
    for qubit, (_, p01) in enumerate(READOUT):
        part = divided[str(qubit)]
        sigma = math.sqrt(p01 * (1 - p01) / 20000)
        assert abs(part.get("0", 0) / 20000 - p01) < 5 * sigma, (qubit, part)
    mitigated = run(api, "multi_manual", {"program": programs}, device_id="readout-3",
                    shots=20000, transpiler_info=AS_WRITTEN,
                    mitigation_info=MITIGATED)  # fmt: skip
    sampling = mitigated["job_info"]["result"]["sampling"]
    totals = {sum(part.values()) for part in sampling["divided_counts"].values()}
    assert totals == {sum(counts_of(mitigated).values())}  # one total: shots side by side
    for qubit in range(3):
        part = sampling["divided_counts"][str(qubit)]
        assert part.get("0", 0) / sum(part.values()) < 0.01, (qubit, part)


def _exact_joint(
    calibration: DeviceCalibration, gates: list[NativeGate], measured: list[int]
) -> NDArray[np.float64]:
    """The read distribution of the whole program on one density matrix."""
    device = NoisyDevice(calibration, sorted({q for g in gates for q in g.qubits} | set(measured)))
    device.run(gates)
    distribution: NDArray[np.float64] = device.read_distribution(measured)
    return distribution


def test_components_side_by_side_are_distributed_as_one_matrix_of_the_whole() -> None:
    calibration = DeviceCalibration.from_device_info(
        example_devices()["emu-heavyhex-16.json"]["device_info"]
    )
    # A Bell pair on 1-2, an RY on 8 and a noisy chain 12-13-14: three components.
    gates = [
        NativeGate("sx", (1,)), NativeGate("cx", (1, 2)), NativeGate("sx", (8,)),
        NativeGate("rz", (8,), (0.7,)), NativeGate("sx", (8,)), NativeGate("x", (12,)),
        NativeGate("cx", (12, 13)), NativeGate("cx", (13, 14)), NativeGate("sx", (14,)),
    ]  # fmt: skip
    measured = [1, 2, 8, 12, 13, 14]
    components = components_of(gates, [(q, c) for c, q in enumerate(measured)])
    assert [c.qubits for c in components] == [(1, 2), (8,), (12, 13, 14)]
    shots = 200_000
    counts, _ = sample_components(components, calibration, 6, shots, np.random.default_rng(11))
    assert sum(counts.values()) == shots
    expected = _exact_joint(calibration, gates, measured) * shots
    statistic = sum(
        (counts.get(format(k, "06b"), 0) - e) ** 2 / e for k, e in enumerate(expected) if e > 1
    )
    dof = sum(1 for e in expected if e > 1) - 1
    # Wilson-Hilferty quantile of chi-square at 1 - 1e-4.
    assert statistic < dof * (1 - 2 / (9 * dof) + 3.719 * math.sqrt(2 / (9 * dof))) ** 3


def four_qubit_chain(pattern: int) -> QuantumCircuit:
    """X on the qubits of ``pattern``'s low bit, then a CNOT chain: a 4-qubit component
    whose noiseless outcome is known."""
    circuit = QuantumCircuit(4)
    if pattern & 1:
        circuit.add_X_gate(0)
    for qubit in range(3):
        circuit.add_CNOT_gate(qubit, qubit + 1)
    for qubit in range(4):
        if pattern >> (qubit + 1) & 1:
            circuit.add_X_gate(qubit)
    return circuit


def ideal(pattern: int) -> int:
    chained = 0b1111 if pattern & 1 else 0
    return chained ^ ((pattern >> 1) & 0b1111)


def test_a_packed_job_set_runs_on_the_64_qubit_emulated_device(emulator: LocalServer) -> None:
    circuits = [four_qubit_chain(p) for p in range(32)]
    job_set = OqtopusJobSet.submit(circuits, "emu-square-64", 2000, emulator.config, pack=True,
                                   simulator_info={"seed": 5})  # fmt: skip
    assert job_set.wait(timeout=600, wait=0.1)
    results = job_set.results()
    assert job_set.failures() == []
    for pattern, result in enumerate(results):
        counts = Counter(result.counts)  # type: ignore[union-attr]
        assert sum(counts.values()) == 2000
        assert counts.most_common(1)[0][0] == ideal(pattern), (pattern, counts.most_common(3))
    assert len({job.job_id for job in job_set.jobs if job is not None}) <= 32 // 12 + 1


def test_the_component_check_names_the_devices_qubits_after_transpiling() -> None:
    with pytest.raises(ValueError, match="the device's qubits 3, 4, 5") as caught:
        check_component_widths([[0], list(range(3, 16))], "the device's qubits")
    assert "uses 13 qubits of the device" in str(caught.value)
