"""Reads OpenQASM 3 programs into QURI Parts circuits: the input side of the local server.

The native parser (`rust/src/qasm_parse.rs`) turns the text into QURI Parts native gates; this
module builds the circuit and says which operations a one-pass state-vector sampler cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus._core import parse_qasm
from quri_parts_oqtopus.formats.gates import GATES_BY_NAME

if TYPE_CHECKING:
    from quri_parts_oqtopus._core import _QasmOp

__all__ = ["QasmProgram", "read_qasm"]


@dataclass(frozen=True)
class QasmProgram:
    """An OpenQASM program read into QURI Parts terms.

    Attributes:
        qubit_count: Qubits declared (all registers, in declaration order).
        clbit_count: Classical bits declared (all registers, in declaration order).
        circuit: The unitary gates in program order; barriers are dropped, and so are
            resets of qubits that nothing has touched yet (they act on |0> and do nothing).
        measurements: `(qubit, clbit)` pairs sorted by clbit; when a bit is written more
            than once, the last measurement wins. Empty when the program measures nothing
            (the server then measures every qubit into the bit of the same index).
        mid_circuit_lines: Source lines of operations a one-pass state-vector sampler
            cannot run: a reset of a qubit already acted on, or a gate on a qubit already
            measured. Empty when the whole program is "gates, then measurements".
    """

    qubit_count: int
    clbit_count: int
    circuit: QuantumCircuit
    measurements: tuple[tuple[int, int], ...]
    mid_circuit_lines: tuple[int, ...]

    @property
    def has_mid_circuit_operations(self) -> bool:
        """True when `mid_circuit_lines` is not empty."""
        return bool(self.mid_circuit_lines)


def read_qasm(text: str) -> QasmProgram:
    """Reads an OpenQASM 3 program (the subset QURI Parts and qiskit emit).

    Raises:
        ValueError: the program is not valid or uses something unsupported (gate
            definitions, classical control, loops, unknown gates, ...); the message
            names the line and the offending text.
    """
    qubit_count, clbit_count, ops = parse_qasm(text)
    reader = _CircuitReader(QuantumCircuit(qubit_count))
    for op in ops:
        reader.apply(op)
    return QasmProgram(
        qubit_count=qubit_count,
        clbit_count=clbit_count,
        circuit=reader.circuit,
        measurements=tuple((qubit, bit) for bit, qubit in sorted(reader.bit_source.items())),
        mid_circuit_lines=tuple(sorted(reader.mid_circuit)),
    )


@dataclass
class _CircuitReader:
    """Builds the circuit op by op and remembers what each qubit has been through."""

    circuit: QuantumCircuit
    measured: set[int] = field(default_factory=set)
    touched: set[int] = field(default_factory=set)
    bit_source: dict[int, int] = field(default_factory=dict)  # clbit -> last qubit measured
    mid_circuit: set[int] = field(default_factory=set)  # source lines

    def apply(self, op: _QasmOp) -> None:
        match op:
            case ("gate", str(name), list(qubits), list(params), int(line)):
                if self.measured.intersection(qubits):
                    self.mid_circuit.add(line)
                self.touched.update(qubits)
                # The parser emits (*qubits, *params) in QURI Parts order, as factories take them.
                self.circuit.add_gate(GATES_BY_NAME[name].factory(*qubits, *params))
            case ("measure", int(qubit), int(clbit), int()):
                self.measured.add(qubit)
                self.touched.add(qubit)
                self.bit_source[clbit] = qubit
            case ("reset", int(qubit), int(line)):
                # a reset of a qubit still in |0> does nothing, so it needs no mid-circuit care
                if qubit in self.touched:
                    self.mid_circuit.add(line)
            case ("barrier", list(), int()):
                pass
            case _:
                raise AssertionError(f"unexpected operation from the native parser: {op!r}")
