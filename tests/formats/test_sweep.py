"""Parameter sweeps: one parametric circuit and many parameter sets.

Every binding prints as ``convert_to_qasm_str(circuit.bind_parameters(p))`` would, whether
it is rendered from the circuit's template (a ParameterSweep, or bound circuits sharing a
parent) or bound and read one by one; sweeps go through sampling and job sets as lists of
circuits do.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from quri_parts.circuit import (
    LinearMappedUnboundParametricQuantumCircuit,
    QuantumCircuit,
    UnboundParametricQuantumCircuit,
)

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.qasm import DIRECT_READ_SWITCH, convert_to_qasm_strs, direct_read_status
from quri_parts_oqtopus.sweep import ParameterSweep
from quri_parts_oqtopus.upload import prepare_job_input, read_job_archive
from tests.formats.test_qasm_parity import SPECIAL_FLOATS, angles, oracle

SWITCHED_OFF = os.environ.get(DIRECT_READ_SWITCH, "").strip().lower() in {"0", "off", "false", "no"}
DEVICE = "qulacs"


def from_templates() -> int:
    return direct_read_status()["bindings_from_templates"]


def expect_templates(before: int, bindings: int) -> None:
    """``bindings`` were rendered from a template (none when the direct read is off)."""
    assert from_templates() - before == (0 if SWITCHED_OFF else bindings)


@st.composite
def parametric_circuits(draw: st.DrawFn, max_gates: int = 30) -> UnboundParametricQuantumCircuit:
    n = draw(st.integers(3, 12))
    circuit = UnboundParametricQuantumCircuit(n)
    qubit = st.integers(0, n - 1)
    for _ in range(draw(st.integers(0, max_gates))):
        kind = draw(st.sampled_from(["PRX", "PRY", "PRZ", "H", "T", "RZ", "U3", "CNOT", "TOFFOLI"]))
        q = draw(qubit)
        if kind in ("PRX", "PRY", "PRZ"):
            getattr(circuit, f"add_Parametric{kind[1:]}_gate")(q)
        elif kind == "H":
            circuit.add_H_gate(q)
        elif kind == "T":
            circuit.add_T_gate(q)
        elif kind == "RZ":
            circuit.add_RZ_gate(q, draw(angles))
        elif kind == "U3":
            circuit.add_U3_gate(q, draw(angles), draw(angles), draw(angles))
        else:
            a, b, c = draw(st.lists(qubit, min_size=3, max_size=3, unique=True))
            if kind == "CNOT":
                circuit.add_CNOT_gate(a, b)
            else:
                circuit.add_TOFFOLI_gate(a, b, c)
    return circuit


@st.composite
def sweeps(draw: st.DrawFn) -> tuple[UnboundParametricQuantumCircuit, list[list[float]]]:
    circuit = draw(parametric_circuits())
    count = circuit.parameter_count
    sets = draw(st.lists(st.lists(angles, min_size=count, max_size=count), max_size=6))
    return circuit, sets


def bound_texts(circuit: Any, sets: list[list[float]]) -> list[str]:
    """What the reference would upload: each binding through quri-parts-openqasm."""
    return [oracle(circuit.bind_parameters(list(values))) for values in sets]


@given(sweeps())
def test_a_sweep_prints_each_binding_like_quri_parts(
    sweep: tuple[UnboundParametricQuantumCircuit, list[list[float]]],
) -> None:
    circuit, sets = sweep
    before = from_templates()
    assert convert_to_qasm_strs(ParameterSweep(circuit, sets)) == bound_texts(circuit, sets)
    expect_templates(before, len(sets))


@given(sweeps())
def test_bound_circuits_of_one_parent_print_like_quri_parts(
    sweep: tuple[UnboundParametricQuantumCircuit, list[list[float]]],
) -> None:
    circuit, sets = sweep
    bound = [circuit.bind_parameters(values) for values in sets]
    before = from_templates()
    assert convert_to_qasm_strs(bound) == bound_texts(circuit, sets)
    # The first bound circuit of a parent is read whole; the parent's template serves the rest.
    expect_templates(before, max(len(sets) - 1, 0))


def test_a_parameter_used_twice_takes_each_of_its_values() -> None:
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_ParametricRX_gate(0)
    circuit.add_ParametricRZ_gate(1)
    twice = circuit + circuit  # the same two Parameter objects, each used twice
    assert twice.parameter_count == 4
    sets = [[0.5, 1.5, 2.5, 3.5], [-1.0, -2.0, -3.0, -4.0]]
    bound = [twice.bind_parameters(values) for values in sets]
    assert len(bound[0].parameter_map) == 2  # the map keeps one value per parameter
    expected = bound_texts(twice, sets)
    assert "rx(0.5) q[0];" in expected[0]
    assert "rx(2.5) q[0];" in expected[0]
    assert convert_to_qasm_strs(ParameterSweep(twice, sets)) == expected
    assert convert_to_qasm_strs(bound) == expected


def test_a_parent_changed_after_binding_does_not_change_what_was_bound() -> None:
    circuit = UnboundParametricQuantumCircuit(3)
    circuit.add_ParametricRX_gate(0)
    circuit.add_CNOT_gate(0, 1)
    first = [circuit.bind_parameters([0.25]), circuit.bind_parameters([0.5])]
    circuit.add_H_gate(2)  # the parent is mutable: bound circuits made before keep their gates
    later = [circuit.bind_parameters([0.75]), circuit.bind_parameters([1.0])]
    batch = [*first, *later, *first]
    assert convert_to_qasm_strs(batch) == [oracle(c) for c in batch]


def test_a_sweep_is_frozen_when_made() -> None:
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_ParametricRY_gate(1)
    sweep = ParameterSweep(circuit, [[0.125]])
    expected = bound_texts(circuit, [[0.125]])
    circuit.add_X_gate(0)
    assert convert_to_qasm_strs(sweep) == expected
    assert sweep[0].gates == circuit.freeze().bind_parameters([0.125]).gates[:1]
    assert len(sweep) == 1
    assert [c.gates for c in sweep] == [sweep[0].gates]
    assert [c.gates for c in sweep[0:1]] == [sweep[0].gates]


@pytest.mark.parametrize(
    "add",
    [
        lambda c: c.add_ParametricPauliRotation_gate([0, 1], [1, 2]),
        lambda c: c.add_SqrtY_gate(0),
        lambda c: c.measure(0, 0),
    ],
    ids=["parametric Pauli rotation", "SqrtY", "measurement"],
)
def test_a_sweep_of_a_circuit_the_writer_refuses_raises_what_the_reference_raises(add: Any) -> None:
    circuit = UnboundParametricQuantumCircuit(2, 1)
    circuit.add_ParametricRZ_gate(1)
    add(circuit)
    sets = [[0.5] * circuit.parameter_count] * 2
    with pytest.raises(Exception) as reference:  # the type is what is compared
        oracle(circuit.bind_parameters(sets[0]))
    with pytest.raises(reference.type):
        convert_to_qasm_strs(ParameterSweep(circuit, sets))
    with pytest.raises(reference.type):
        convert_to_qasm_strs([circuit.bind_parameters(p) for p in sets])


def test_a_linear_mapped_circuit_sweeps_through_its_own_binding() -> None:
    circuit = LinearMappedUnboundParametricQuantumCircuit(2)
    theta, phi = circuit.add_parameters("theta", "phi")
    circuit.add_ParametricRX_gate(0, {theta: 0.5, phi: 2.0})
    circuit.add_CNOT_gate(0, 1)
    circuit.add_ParametricRZ_gate(1, {theta: -1.0})
    sets = [[0.1, 0.2], [math.pi, -0.0]]
    assert convert_to_qasm_strs(ParameterSweep(circuit, sets)) == bound_texts(circuit, sets)


def test_numpy_parameter_sets_are_taken() -> None:
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_ParametricRX_gate(0)
    circuit.add_ParametricRZ_gate(1)
    sets = np.array([[0.1, 0.2], [0.3, 0.4], [1e-5, 1e16]])
    sweep = ParameterSweep(circuit, sets)
    assert sweep.parameter_sets == ((0.1, 0.2), (0.3, 0.4), (1e-5, 1e16))
    assert convert_to_qasm_strs(sweep) == bound_texts(circuit, sets.tolist())
    assert "rz(1e+16) q[1];" in convert_to_qasm_strs(sweep)[2]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ([[0.1]], "parameter set 0 has 1 values, the circuit takes 2"),
        ([[0.1, 0.2], [0.3]], "parameter set 1 has 1 values, the circuit takes 2"),
        ([[0.1, "x"]], "parameter set 0 holds a value that is not real: 'x'"),
        (["ab"], "parameter set 0 is not a sequence of numbers: 'ab'"),
        ([3.0], "parameter set 0 is not a sequence of numbers: 3.0"),
        ("abc", "parameter_sets should be a list of sequences: 'abc'"),
    ],
)
def test_bad_parameter_sets_are_refused_naming_the_set(sets: Any, message: str) -> None:
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_ParametricRX_gate(0)
    circuit.add_ParametricRZ_gate(1)
    with pytest.raises(ValueError) as raised:  # the message is checked below
        ParameterSweep(circuit, sets)
    assert str(raised.value) == message


def test_a_circuit_without_parameters_is_not_a_sweep() -> None:
    with pytest.raises(ValueError, match=r"should be a parametric circuit .* got QuantumCircuit"):
        ParameterSweep(QuantumCircuit(2), [[]])  # type: ignore[arg-type]


def test_a_sweep_job_input_holds_every_binding() -> None:
    circuit = UnboundParametricQuantumCircuit(3)
    circuit.add_ParametricRX_gate(2)
    sets = [[0.5], [1.5], [2.5]]
    document = read_job_archive(prepare_job_input(ParameterSweep(circuit, sets)).archive("x.zip"))
    assert document == {"program": bound_texts(circuit, sets)}


def rx_sweep() -> tuple[UnboundParametricQuantumCircuit, list[list[float]]]:
    """RX(0) leaves |0>, RX(pi) makes |1>: each binding's counts are known."""
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_ParametricRX_gate(0)
    circuit.add_X_gate(1)
    return circuit, [[0.0], [math.pi], [0.0]]


def uploaded_programs(config: OqtopusConfig, job_id: str) -> Any:
    return OqtopusSamplingBackend(config).retrieve_job(job_id).job_info["input"]["program"]


def test_a_sweep_samples_as_one_multi_manual_job(config: OqtopusConfig) -> None:
    circuit, sets = rx_sweep()
    job = OqtopusSamplingBackend(config).sample(ParameterSweep(circuit, sets), DEVICE, shots=20)
    result = job.result(timeout=60, wait=0.05)
    assert job.job_type == "multi_manual"
    assert result.divided_counts == {0: {0b10: 20}, 1: {0b11: 20}, 2: {0b10: 20}}
    assert uploaded_programs(config, job.job_id) == bound_texts(circuit, sets)


def test_a_sweep_makes_one_job_per_binding_in_a_job_set(
    config: OqtopusConfig, server: LocalServer, tmp_path: Any
) -> None:
    circuit, sets = rx_sweep()
    journal = tmp_path / "sweep.jobs"
    sweep = ParameterSweep(circuit, sets)
    job_set = OqtopusJobSet.submit(sweep, DEVICE, 10, config, journal=journal)
    assert job_set.wait(timeout=60, wait=0.05)
    assert [r.counts for r in job_set.results()] == [{0b10: 10}, {0b11: 10}, {0b10: 10}]  # type: ignore[union-attr]
    jobs = [job for job in job_set.jobs if job is not None]
    assert [uploaded_programs(config, job.job_id) for job in jobs] == [
        [text] for text in bound_texts(circuit, sets)
    ]
    job_set.close()  # releases the journal's lock for the resume
    again = OqtopusJobSet.resume(journal, sweep, config)
    assert [j.job_id for j in again.jobs if j] == [j.job_id for j in jobs]


@pytest.mark.parametrize("value", SPECIAL_FLOATS, ids=repr)
def test_special_angles_render_as_repr(value: float) -> None:
    circuit = UnboundParametricQuantumCircuit(1)
    circuit.add_ParametricRZ_gate(0)
    expected = bound_texts(circuit, [[value]])
    assert convert_to_qasm_strs(ParameterSweep(circuit, [[value]])) == expected
