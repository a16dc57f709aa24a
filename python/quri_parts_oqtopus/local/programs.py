"""Programs as the simulator runs them: the one place that calls the QASM reader.

Runs in the worker processes only (the reader is native code).
"""

from __future__ import annotations

from dataclasses import dataclass

from quri_parts.circuit import QuantumCircuit, QuantumGate

_HEADER = 'OPENQASM 3;\ninclude "stdgates.inc";'

# QURI Parts gate name -> OpenQASM 3 stdgates name, for printing the combined program.
_QASM_NAMES = {
    "Identity": "id",
    "X": "x",
    "Y": "y",
    "Z": "z",
    "H": "h",
    "S": "s",
    "Sdag": "sdg",
    "T": "t",
    "Tdag": "tdg",
    "SqrtX": "sx",
    "SqrtXdag": "sxdg",
    "RX": "rx",
    "RY": "ry",
    "RZ": "rz",
    "U1": "u1",
    "U2": "u2",
    "U3": "u3",
    "CNOT": "cx",
    "CZ": "cz",
    "SWAP": "swap",
    "TOFFOLI": "ccx",
}


@dataclass(frozen=True)
class Program:
    """One program ready to simulate.

    Attributes:
        qubit_count: Qubits the program declares.
        bit_count: Width of its counts keys (all qubits when it measures nothing).
        circuit: The unitary part.
        measurements: ``(qubit, clbit)`` pairs; every qubit when the program measures nothing.
    """

    qubit_count: int
    bit_count: int
    circuit: QuantumCircuit
    measurements: tuple[tuple[int, int], ...]


def load_program(text: str) -> Program:
    """Parse one OpenQASM 3 program.

    Raises:
        ValueError: The reader's message for an invalid program, or a program the
            simulator cannot run (no qubits, resets or gates after a measurement).

    """
    from quri_parts_oqtopus.qasm_reader import read_qasm  # noqa: PLC0415 - native, workers only

    parsed = read_qasm(text)
    if parsed.qubit_count < 1:
        raise ValueError("the program declares no qubits")
    if parsed.mid_circuit_lines:
        # The simulator samples the final state once: every measurement must be terminal.
        lines = ", ".join(str(line) for line in parsed.mid_circuit_lines)
        raise ValueError(
            f"line {lines}: the local simulator runs only terminal measurements "
            "(no reset of a used qubit and no gate after a measurement)"
        )
    measurements = tuple((int(q), int(c)) for q, c in parsed.measurements)
    if not measurements:
        every_qubit = tuple((q, q) for q in range(parsed.qubit_count))
        return Program(parsed.qubit_count, parsed.qubit_count, parsed.circuit, every_qubit)
    return Program(parsed.qubit_count, parsed.clbit_count, parsed.circuit, measurements)


def _shifted(gate: QuantumGate, offset: int) -> QuantumGate:
    return QuantumGate(
        name=gate.name,
        target_indices=tuple(i + offset for i in gate.target_indices),
        control_indices=tuple(i + offset for i in gate.control_indices),
        classical_indices=tuple(gate.classical_indices),
        params=tuple(gate.params),
        pauli_ids=tuple(gate.pauli_ids),
        unitary_matrix=gate.unitary_matrix,
    )


def combine_programs(programs: list[Program]) -> Program:
    """The programs side by side: program 0 on the lowest qubits and bits, then 1, ..."""
    qubit_total = sum(p.qubit_count for p in programs)
    circuit = QuantumCircuit(qubit_total)
    measurements: list[tuple[int, int]] = []
    qubit_offset = bit_offset = 0
    for program in programs:
        for gate in program.circuit.gates:
            circuit.add_gate(_shifted(gate, qubit_offset))
        measurements.extend((q + qubit_offset, c + bit_offset) for q, c in program.measurements)
        qubit_offset += program.qubit_count
        bit_offset += program.bit_count
    return Program(qubit_total, bit_offset, circuit, tuple(measurements))


def _gate_line(gate: QuantumGate) -> str:
    qubits = ", ".join(f"q[{i}]" for i in (*gate.control_indices, *gate.target_indices))
    name = _QASM_NAMES.get(gate.name)
    if name is None:
        # Not expressible with stdgates; keep the program honest about what ran.
        return f"// {gate!r}"
    params = f"({', '.join(repr(float(p)) for p in gate.params)})" if gate.params else ""
    return f"{name}{params} {qubits};"


def program_to_qasm(program: Program) -> str:
    """OpenQASM 3 text of ``program`` with explicit ``c[j] = measure q[i];`` lines."""
    lines = [_HEADER, f"qubit[{program.qubit_count}] q;", f"bit[{program.bit_count}] c;"]
    lines.extend(_gate_line(gate) for gate in program.circuit.gates)
    lines.extend(f"c[{c}] = measure q[{q}];" for q, c in program.measurements)
    return "\n".join(lines)
