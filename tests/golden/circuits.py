"""The circuits behind the golden QASM files."""

from __future__ import annotations

import math

from quri_parts.circuit import QuantumCircuit


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def _every_gate() -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    for add in (
        circuit.add_Identity_gate,
        circuit.add_X_gate,
        circuit.add_Y_gate,
        circuit.add_Z_gate,
        circuit.add_H_gate,
        circuit.add_S_gate,
        circuit.add_Sdag_gate,
        circuit.add_SqrtX_gate,
        circuit.add_T_gate,
        circuit.add_Tdag_gate,
    ):
        add(1)
    circuit.add_RX_gate(0, math.pi / 3)
    circuit.add_RY_gate(1, -0.0)
    circuit.add_RZ_gate(2, 1e-05)
    circuit.add_U1_gate(0, 2.0)
    circuit.add_U2_gate(1, 1e16, -1e-300)
    circuit.add_U3_gate(2, math.inf, -math.inf, math.nan)
    circuit.add_CNOT_gate(2, 0)
    circuit.add_CZ_gate(0, 1)
    circuit.add_SWAP_gate(1, 2)
    circuit.add_TOFFOLI_gate(0, 2, 1)
    return circuit


GOLDEN_CIRCUITS = {
    "empty_0q": QuantumCircuit(0),
    "empty_3q": QuantumCircuit(3),
    "bell": _bell(),
    "every_gate": _every_gate(),
}
