"""The one gate table of the Python side: every QURI Parts native gate the package prints or
reads.

Its rows come from the native core's table (``rust/src/gates.rs``: the names, the qubits and
angles, whether the OpenQASM writer prints the gate); this module adds what only Python has:
the QURI Parts factory, and the name a device's basis (and Qiskit) gives the gate. A gate the
core gains without its Python columns fails the import, naming it: the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from quri_parts.circuit import QuantumGate, gates

from quri_parts_oqtopus import _core

__all__ = ["GATES", "GATES_BY_NAME", "NativeGateSpec", "native_gate_rows", "shifted"]


@dataclass(frozen=True)
class NativeGateSpec:
    """One QURI Parts native gate.

    Attributes:
        name: Its QURI Parts name (``gate.name``).
        qasm_name: Its OpenQASM 3 (``stdgates.inc``) name.
        n_qubits: The qubits it acts on (controls, then targets).
        n_params: Its angles (``gate.params``).
        printed: Whether the OpenQASM writer prints it (the reference refuses SqrtXdag;
            the reader reads it).
        device_name: Its name in a device's basis gates and in Qiskit (``p`` for U1,
            ``u`` for U3; the OpenQASM name otherwise).
        factory: Makes the gate from ``(*qubits, *params)``.

    """

    name: str
    qasm_name: str
    n_qubits: int
    n_params: int
    printed: bool
    device_name: str
    factory: Callable[..., QuantumGate]


# QURI Parts name -> (device / Qiskit name, factory): the columns the native core has not.
_PYTHON_COLUMNS: dict[str, tuple[str, Callable[..., QuantumGate]]] = {
    "Identity": ("id", gates.Identity),
    "X": ("x", gates.X),
    "Y": ("y", gates.Y),
    "Z": ("z", gates.Z),
    "H": ("h", gates.H),
    "S": ("s", gates.S),
    "Sdag": ("sdg", gates.Sdag),
    "T": ("t", gates.T),
    "Tdag": ("tdg", gates.Tdag),
    "SqrtX": ("sx", gates.SqrtX),
    "SqrtXdag": ("sxdg", gates.SqrtXdag),
    "RX": ("rx", gates.RX),
    "RY": ("ry", gates.RY),
    "RZ": ("rz", gates.RZ),
    "U1": ("p", gates.U1),  # u1(l) is p(l) exactly
    "U2": ("u2", gates.U2),
    "U3": ("u", gates.U3),
    "CNOT": ("cx", gates.CNOT),
    "CZ": ("cz", gates.CZ),
    "SWAP": ("swap", gates.SWAP),
    "TOFFOLI": ("ccx", gates.TOFFOLI),
}


def native_gate_rows() -> list[tuple[str, str, int, int, bool]]:
    """The native core's gate table: ``(QURI Parts name, OpenQASM name, qubits, angles,
    printed)`` per gate, the printed ones first."""
    return _core.native_gates()


def _table() -> tuple[NativeGateSpec, ...]:
    missing = [row[0] for row in native_gate_rows() if row[0] not in _PYTHON_COLUMNS]
    if missing:
        raise RuntimeError(f"gates.py has no factory or device name for native gates {missing}")
    return tuple(
        NativeGateSpec(name, qasm, n_qubits, n_params, printed, *_PYTHON_COLUMNS[name])
        for name, qasm, n_qubits, n_params, printed in native_gate_rows()
    )


#: Every native gate, the printed ones first, in the native core's order.
GATES: tuple[NativeGateSpec, ...] = _table()

#: The gates by QURI Parts name.
GATES_BY_NAME: Mapping[str, NativeGateSpec] = {gate.name: gate for gate in GATES}


def shifted(gate: QuantumGate, offset: int) -> QuantumGate:
    """``gate`` moved ``offset`` qubits up: its controls and targets; its classical bits,
    angles, Pauli ids and matrix as they are. Packed jobs and side-by-side programs
    (client and server) move their gates with it."""
    return QuantumGate(
        name=gate.name,
        target_indices=tuple(i + offset for i in gate.target_indices),
        control_indices=tuple(i + offset for i in gate.control_indices),
        classical_indices=tuple(gate.classical_indices),
        params=tuple(gate.params),
        pauli_ids=tuple(gate.pauli_ids),
        unitary_matrix=gate.unitary_matrix,
    )
