"""``gates.py``: the one Python gate table, its rows the native core's (``rust/src/gates.rs``),
its Python columns (factory, device name) checked against them and against QURI Parts."""

from __future__ import annotations

import pytest
from quri_parts.circuit import QuantumCircuit, QuantumGate, gates
from quri_parts.openqasm.circuit import convert_to_qasm_str as reference_qasm

from quri_parts_oqtopus.formats.gates import (
    GATES,
    GATES_BY_NAME,
    NativeGateSpec,
    native_gate_rows,
    shifted,
)
from quri_parts_oqtopus.local.device_program import qasm_name
from quri_parts_oqtopus.qasm import convert_to_qasm_str
from quri_parts_oqtopus.qasm_reader import read_qasm

ANGLES = (0.25, 0.5, 0.75)


def made(gate: NativeGateSpec) -> QuantumCircuit:
    """A circuit holding just ``gate``, made by its factory on qubits 0, 1, ..."""
    circuit = QuantumCircuit(gate.n_qubits)
    circuit.add_gate(gate.factory(*range(gate.n_qubits), *ANGLES[: gate.n_params]))
    return circuit


def test_the_table_has_one_row_per_native_gate_of_the_core_in_its_order() -> None:
    assert [gate.name for gate in GATES] == [row[0] for row in native_gate_rows()]
    assert len(GATES_BY_NAME) == len(GATES)
    assert [gate.printed for gate in GATES] == sorted((g.printed for g in GATES), reverse=True)


@pytest.mark.parametrize("gate", GATES, ids=lambda gate: gate.name)
def test_each_factory_makes_the_gate_of_the_cores_name_qubits_and_angles(
    gate: NativeGateSpec,
) -> None:
    (made_gate,) = made(gate).gates
    assert made_gate.name == gate.name
    assert [*made_gate.control_indices, *made_gate.target_indices] == list(range(gate.n_qubits))
    assert tuple(made_gate.params) == ANGLES[: gate.n_params]


@pytest.mark.parametrize("gate", [g for g in GATES if g.printed], ids=lambda gate: gate.name)
def test_each_printed_gate_is_written_under_its_qasm_name_as_quri_parts_writes_it(
    gate: NativeGateSpec,
) -> None:
    ours = convert_to_qasm_str(made(gate))
    assert ours == reference_qasm(made(gate))
    empty = convert_to_qasm_str(QuantumCircuit(gate.n_qubits)).splitlines()
    (gate_line,) = [line for line in ours.splitlines() if line not in empty]
    assert gate_line.startswith(gate.qasm_name + ("(" if gate.n_params else " "))


@pytest.mark.parametrize("gate", GATES, ids=lambda gate: gate.name)
def test_each_gate_reads_back_from_its_qasm_name(gate: NativeGateSpec) -> None:
    angles = f"({', '.join(map(str, ANGLES[: gate.n_params]))})" if gate.n_params else ""
    qubits = ", ".join(f"q[{i}]" for i in range(gate.n_qubits))
    program = read_qasm(
        f"OPENQASM 3;\nqubit[{gate.n_qubits}] q;\n{gate.qasm_name}{angles} {qubits};"
    )
    assert list(program.circuit.gates) == list(made(gate).gates)


def test_the_unprinted_gates_are_refused_by_quri_parts_writer_too() -> None:
    for gate in (g for g in GATES if not g.printed):
        with pytest.raises(NotImplementedError):
            reference_qasm(made(gate))


def test_the_server_names_each_gate_on_a_device_from_the_table() -> None:
    assert {gate.name: qasm_name(gate.name) for gate in GATES} == {
        gate.name: gate.device_name for gate in GATES
    }
    assert (GATES_BY_NAME["U1"].device_name, GATES_BY_NAME["U3"].device_name) == ("p", "u")


def test_a_shifted_gate_moves_its_qubits_only() -> None:
    gate = QuantumGate(
        name="PauliRotation",
        target_indices=(0, 2),
        control_indices=(),
        classical_indices=(1,),
        params=(0.5,),
        pauli_ids=(1, 3),
    )
    moved = shifted(gate, 5)
    assert (moved.target_indices, moved.control_indices) == ((5, 7), ())
    assert moved == QuantumGate(
        name="PauliRotation",
        target_indices=(5, 7),
        control_indices=(),
        classical_indices=(1,),
        params=(0.5,),
        pauli_ids=(1, 3),
    )
    toffoli = shifted(gates.TOFFOLI(0, 1, 2), 3)
    assert (toffoli.control_indices, toffoli.target_indices) == ((3, 4), (5,))
    assert shifted(gates.RZ(1, 0.25), 0) == gates.RZ(1, 0.25)
