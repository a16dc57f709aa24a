"""Client-side error mitigation the QURI Parts way over packed jobs: ZNE of a whole batch
and readout filters calibrated per device region, in shared jobs, folds kept through the
transpiler, and the error cut against raw on the emulated QPUs (seeded)."""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pytest
import qulacs
from quri_parts.algo.mitigation.readout_mitigation import (
    create_readout_mitigation_concurrent_sampler,
)
from quri_parts.algo.mitigation.zne import (
    create_folding_left,
    create_polynomial_extrapolate,
    create_zne_estimator,
    scaling_circuit_folding,
)
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.state import GeneralCircuitQuantumState
from quri_parts.qulacs.circuit import convert_circuit

from quri_parts_oqtopus.backend import OqtopusSamplingBackend
from quri_parts_oqtopus.estimator import create_oqtopus_packed_estimator
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.mitigation import (
    ZneOptions,
    create_oqtopus_mitigated_estimator,
    fold_keeping_transpiler_info,
)
from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler

from .conftest import server_jobs

QUBITS = 4
SHOTS = 200_000


def ising_chain(qubits: int = QUBITS) -> Operator:
    """H = -sum Z_i Z_i+1 - sum X_i: a transverse-field Ising chain, two settings."""
    terms = {pauli_label(f"Z{q} Z{q + 1}"): -1.0 for q in range(qubits - 1)}
    terms.update({pauli_label(f"X{q}"): -1.0 for q in range(qubits)})
    return Operator(terms)


def ansatz(angles: list[float]) -> QuantumCircuit:
    """RY on each qubit, a CNOT chain, RY on each qubit again."""
    circuit = QuantumCircuit(QUBITS)
    for qubit in range(QUBITS):
        circuit.add_RY_gate(qubit, angles[qubit])
    for qubit in range(QUBITS - 1):
        circuit.add_CNOT_gate(qubit, qubit + 1)
    for qubit in range(QUBITS):
        circuit.add_RY_gate(qubit, angles[QUBITS + qubit])
    return circuit


def batch(count: int = 6, seed: int = 1) -> list[QuantumCircuit]:
    rng = random.Random(seed)
    return [ansatz([rng.uniform(-np.pi, np.pi) for _ in range(2 * QUBITS)]) for _ in range(count)]


def exact(operator: Operator, circuit: QuantumCircuit) -> float:
    state = qulacs.QuantumState(circuit.qubit_count)
    convert_circuit(circuit).update_quantum_state(state)
    total = 0.0
    for label, coeff in operator.items():
        spec = " ".join(f"{'IXYZ'[pauli]} {index}" for index, pauli in label)
        total += coeff.real * qulacs.PauliOperator(spec, 1.0).get_expectation_value(state).real
    return total


def states(circuits: list[QuantumCircuit]) -> list[GeneralCircuitQuantumState]:
    return [GeneralCircuitQuantumState(c.qubit_count, c) for c in circuits]


@pytest.fixture(scope="module")
def emulator() -> Iterator[LocalServer]:
    with LocalServer(workers=2) as local:
        yield local


def mean_error(estimates: Any, circuits: list[QuantumCircuit]) -> float:
    operator = ising_chain()
    errors = [
        abs(e.value.real - exact(operator, c)) for e, c in zip(estimates, circuits, strict=True)
    ]
    return float(statistics.mean(errors))


@pytest.mark.slow  # six states through ZNE and readout calibration: CI runs it (--runslow)
@pytest.mark.parametrize(("device_id", "tag"), [("emu-heavyhex-16", "hh"), ("emu-square-64", "sq")])
def test_a_mitigated_batch_shares_jobs_and_cuts_the_error_against_raw(
    emulator: LocalServer, device_id: str, tag: str
) -> None:
    circuits = batch()
    config = emulator.config
    seed = {"seed": 11}
    raw = create_oqtopus_packed_estimator(device_id, SHOTS, config, wait=0.05,
                                          name=f"raw-{tag}", simulator_info=seed)  # fmt: skip
    mitigated = create_oqtopus_mitigated_estimator(
        device_id, SHOTS, config, wait=0.05, name=f"mit-{tag}", simulator_info=seed
    )
    raw_error = mean_error(raw([ising_chain()], states(circuits)), circuits)
    mitigated_error = mean_error(mitigated([ising_chain()], states(circuits)), circuits)
    assert mitigated_error * 2 <= raw_error, (raw_error, mitigated_error)
    # 6 states x 3 scale factors x 2 settings, and 16 calibration circuits per region.
    jobs = cast("list[dict[str, Any]]", server_jobs(emulator, f"mit-{tag}"))
    regions = {tuple(j["transpiler_info"]["transpiler_options"]["initial_layout"]) for j in jobs}
    circuits_run = 36 + 16 * len({r[i : i + 4] for r in regions for i in range(0, len(r), 4)})
    assert len(jobs) * 3 <= circuits_run, (len(jobs), circuits_run)
    assert {j["transpiler_info"]["transpiler_options"]["optimization_level"] for j in jobs} == {0}


def test_readout_filters_are_kept_for_later_calls(emulator: LocalServer) -> None:
    circuits = batch(3, seed=2)
    mitigated = create_oqtopus_mitigated_estimator("emu-ring-8", 20_000, emulator.config,
                                                   zne=None, wait=0.05, name="kept-filters",
                                                   simulator_info={"seed": 2})  # fmt: skip
    list(mitigated([ising_chain()], states(circuits)))
    first = len(server_jobs(emulator, "kept-filters"))
    list(mitigated([ising_chain()], states(circuits)))
    second = len(server_jobs(emulator, "kept-filters")) - first
    assert second < first  # no calibration jobs the second time
    assert second == 3  # 6 measurement circuits, two per job on the ring's 8 qubits


def test_folds_survive_level_0_and_are_cancelled_at_level_1(emulator: LocalServer) -> None:
    # The trap: the service's default transpiler (Qiskit, level 1) cancels each fold.
    circuit = batch(1, seed=3)[0]
    folded = scaling_circuit_folding(circuit, 5, create_folding_left())
    backend = OqtopusSamplingBackend(emulator.config)
    gates = {}
    for level in (0, 1):
        info = {"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": level}}
        for name, program in (("plain", circuit), ("folded", folded)):
            job = backend.sample(program, "emu-ring-8", 10, transpiler_info=info)
            job.result(timeout=120, wait=0.05)
            stats = job.job_info["transpile_result"]["stats"]["after"]
            gates[level, name] = stats["n_gates_2q"]
    assert gates[0, "folded"] >= 5 * gates[0, "plain"]  # every CNOT thrice, at scale 5
    assert gates[1, "folded"] == gates[1, "plain"]  # folded away


def test_an_optimizing_transpiler_is_refused_naming_the_trap() -> None:
    assert fold_keeping_transpiler_info(None) == {
        "transpiler_lib": "qiskit",
        "transpiler_options": {"optimization_level": 0},
    }
    assert fold_keeping_transpiler_info({"transpiler_lib": None}) == {"transpiler_lib": None}
    info = {"transpiler_options": {"optimization_level": 1}}
    with pytest.raises(ValueError, match=re.escape("would cancel the folds")):
        fold_keeping_transpiler_info(info)
    with pytest.raises(ValueError, match=re.escape("would cancel the folds")):
        create_oqtopus_mitigated_estimator("emu-ring-8", 100, None, transpiler_info=info)


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"readout": "twirl"}, "readout should be 'calibrated', 'server' or None: 'twirl'"),
        ({"pack": False}, "pass True"),
        ({"calibration_shots": 0}, "calibration_shots should be a positive integer: 0"),
        (
            {"readout": "server", "mitigation_info": {"ro_error_mitigation": "mthree"}},
            "mitigation_info asks for 'mthree'",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(
    arguments: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        create_oqtopus_mitigated_estimator("emu-ring-8", 100, None, **arguments)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"scale_factors": (0.5, 1.0)}, "scale_factors should be numbers >= 1"),
        ({"scale_factors": (1.0, 3.0), "order": 2}, "order 2 needs at least 3 distinct"),
        ({"folding": "middle"}, "folding should be one of"),
    ],
)
def test_bad_zne_options_are_refused_naming_the_value(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        ZneOptions(**options)


def test_quri_parts_own_zne_estimator_packs_its_scaled_circuits(emulator: LocalServer) -> None:
    keeping = fold_keeping_transpiler_info(None)
    packed = create_oqtopus_packed_estimator("emu-square-64", 20_000, emulator.config,
                                             wait=0.05, name="qp-zne",
                                             transpiler_info=keeping)  # fmt: skip
    zne = create_zne_estimator(packed, [1, 3, 5], create_polynomial_extrapolate(1),
                               create_folding_left())  # fmt: skip
    estimate = zne(ising_chain(), states(batch(1, seed=4))[0])
    assert np.isfinite(estimate.value)
    assert len(server_jobs(emulator, "qp-zne")) == 1  # 3 scales x 2 settings, one job


def test_quri_parts_own_readout_sampler_packs_its_calibration(emulator: LocalServer) -> None:
    sampler = create_oqtopus_concurrent_sampler("emu-square-64", emulator.config, pack=True,
                                                wait=0.05, name="qp-readout")  # fmt: skip
    mitigated = create_readout_mitigation_concurrent_sampler(2, sampler, 2000)
    assert len(server_jobs(emulator, "qp-readout")) == 1  # the 4 calibration circuits
    flipped = QuantumCircuit(2)
    flipped.add_X_gate(0)
    (counts,) = mitigated([(flipped, 2000)])
    assert max(counts, key=lambda key: counts[key]) == 1


def test_calibrated_readout_on_a_device_without_a_map_is_refused(emulator: LocalServer) -> None:
    mitigated = create_oqtopus_mitigated_estimator("qulacs", 100, emulator.config, zne=None)
    with pytest.raises(ValueError, match=re.escape("use readout='server'")):
        list(mitigated([ising_chain()], states(batch(1))))
