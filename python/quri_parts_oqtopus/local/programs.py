"""Programs as the simulator runs them: the one place that calls the QASM reader and printer.

Runs in the worker processes only (the reader is native code).
"""

from __future__ import annotations

from dataclasses import dataclass

from quri_parts.circuit import QuantumCircuit, gate_names

from quri_parts_oqtopus.formats.gates import shifted


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
    from quri_parts_oqtopus.formats.qasm_reader import read_qasm  # noqa: PLC0415 - native, workers only

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


def combine_programs(programs: list[Program]) -> Program:
    """The programs side by side: program 0 on the lowest qubits and bits, then 1, ..."""
    qubit_total = sum(p.qubit_count for p in programs)
    circuit = QuantumCircuit(qubit_total)
    measurements: list[tuple[int, int]] = []
    qubit_offset = bit_offset = 0
    for program in programs:
        for gate in program.circuit.gates:
            circuit.add_gate(shifted(gate, qubit_offset))
        measurements.extend((q + qubit_offset, c + bit_offset) for q, c in program.measurements)
        qubit_offset += program.qubit_count
        bit_offset += program.bit_count
    return Program(qubit_total, bit_offset, circuit, tuple(measurements))


def _printable(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` in gates stdgates.inc has: the reader also takes ``sxdg``, which it lacks
    and the printer refuses, so it is written as ``sx`` three times (exactly its inverse)."""
    if all(gate.name != gate_names.SqrtXdag for gate in circuit.gates):
        return circuit
    printable = QuantumCircuit(circuit.qubit_count)
    for gate in circuit.gates:
        if gate.name == gate_names.SqrtXdag:
            for _ in range(3):
                printable.add_SqrtX_gate(gate.target_indices[0])
        else:
            printable.add_gate(gate)
    return printable


def program_to_qasm(program: Program) -> str:
    """OpenQASM 3 text of ``program`` with explicit ``c[j] = measure q[i];`` lines.

    The gates are printed by the client's native printer (one gate table, one float
    format); only the declarations of the bits and the measurements are the program's own.
    """
    from quri_parts_oqtopus.formats.qasm import convert_to_qasm_str  # noqa: PLC0415 - native, workers only

    printed = convert_to_qasm_str(_printable(program.circuit))
    declared = f"bit[{program.qubit_count}] c;\n"
    head, found, gates = printed.partition(declared)
    gates, measured, _ = gates.rpartition("c = measure q;")
    if not (found and measured):  # the printer's layout changed: refuse, never misprint
        raise RuntimeError("the QASM printer wrote an unexpected layout")
    lines = [head.rstrip("\n"), f"bit[{program.bit_count}] c;", gates.strip("\n")]
    lines.extend(f"c[{c}] = measure q[{q}];" for q, c in program.measurements)
    return "\n".join(line for line in lines if line)
