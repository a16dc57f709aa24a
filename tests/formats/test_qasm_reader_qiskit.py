"""read_qasm against qiskit's own OpenQASM 3 exporter (skipped when qiskit is not installed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.state import GeneralCircuitQuantumState
from quri_parts.qulacs.simulator import evaluate_state_to_vector

from quri_parts_oqtopus.qasm_reader import read_qasm

qiskit: Any = pytest.importorskip("qiskit")
qasm3: Any = pytest.importorskip("qiskit.qasm3")
quantum_info: Any = pytest.importorskip("qiskit.quantum_info")

# qiskit methods whose gates are in stdgates.inc, so the exporter writes no `gate` definition:
# (method name, parameter count, qubit count)
STDGATE_METHODS = [
    ("id", 0, 1), ("x", 0, 1), ("y", 0, 1), ("z", 0, 1), ("h", 0, 1), ("s", 0, 1),
    ("sdg", 0, 1), ("t", 0, 1), ("tdg", 0, 1), ("sx", 0, 1), ("rx", 1, 1), ("ry", 1, 1),
    ("rz", 1, 1), ("p", 1, 1), ("u", 3, 1), ("cx", 0, 2), ("cy", 0, 2), ("cz", 0, 2),
    ("ch", 0, 2), ("cp", 1, 2), ("crx", 1, 2), ("cry", 1, 2), ("crz", 1, 2), ("cu", 4, 2),
    ("swap", 0, 2), ("ccx", 0, 3), ("cswap", 0, 3),
]  # fmt: skip
ANGLES = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False, allow_infinity=False)


@st.composite
def qiskit_circuit(draw: st.DrawFn) -> Any:
    """A qiskit circuit over two named quantum registers of random sizes."""
    sizes = draw(st.tuples(st.integers(1, 3), st.integers(0, 2)))
    registers = [qiskit.QuantumRegister(n, name) for n, name in zip(sizes, "ab", strict=True) if n]
    circuit = qiskit.QuantumCircuit(*registers)
    n = circuit.num_qubits
    for _ in range(draw(st.integers(0, 20))):
        method, n_params, n_qubits = draw(st.sampled_from(STDGATE_METHODS))
        if n_qubits > n:
            continue
        qubits = draw(st.permutations(range(n)))[:n_qubits]
        params = [draw(ANGLES) for _ in range(n_params)]
        getattr(circuit, method)(*params, *qubits)
    return circuit


def state_of(circuit: QuantumCircuit) -> Any:
    n = circuit.qubit_count
    return np.asarray(evaluate_state_to_vector(GeneralCircuitQuantumState(n, circuit)).vector)


@settings(max_examples=300, deadline=None)
@given(qiskit_circuit())
def test_qiskit_qasm3_export_gives_qiskits_state_vector(circuit: Any) -> None:
    text = qasm3.dumps(circuit)
    expected = np.asarray(quantum_info.Statevector(circuit).data)
    got = state_of(read_qasm(text).circuit)
    assert np.max(np.abs(expected - got)) < 1e-9, text


def test_qiskit_measurements_across_registers_map_by_declaration_order() -> None:
    a, b = qiskit.QuantumRegister(1, "a"), qiskit.QuantumRegister(2, "b")
    c, d = qiskit.ClassicalRegister(2, "c"), qiskit.ClassicalRegister(1, "d")
    circuit = qiskit.QuantumCircuit(a, b, c, d)
    circuit.h(a[0])
    circuit.measure(b[1], c[0])
    circuit.measure(a[0], d[0])
    circuit.measure(b[0], c[1])
    text = qasm3.dumps(circuit)
    program = read_qasm(text)
    assert (program.qubit_count, program.clbit_count) == (3, 3), text
    assert program.measurements == ((2, 0), (1, 1), (0, 2)), text
