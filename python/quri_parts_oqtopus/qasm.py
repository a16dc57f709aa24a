"""OpenQASM 3 text of QURI Parts circuits, as the OQTOPUS backends send it."""

from __future__ import annotations

from collections.abc import Sequence

from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.openqasm.circuit import convert_to_qasm_str as _reference_qasm

__all__ = ["convert_to_qasm_str", "convert_to_qasm_strs"]


def convert_to_qasm_str(circuit: ImmutableQuantumCircuit) -> str:
    """OpenQASM 3 text of ``circuit``, byte for byte as ``quri-parts-openqasm`` writes it.

    A text without any measurement gets ``bit[n] c;`` after the qubit declaration and
    ``c = measure q;`` at the end, as the reference backend does.

    Raises:
        ValueError: For parametric or multi-qubit Pauli gates the writer refuses.
        NotImplementedError: For gates OpenQASM's stdgates cannot express.

    """
    return _with_measurement(_reference_qasm(circuit), circuit.qubit_count)


def convert_to_qasm_strs(circuits: Sequence[ImmutableQuantumCircuit]) -> list[str]:
    """OpenQASM 3 texts of ``circuits``, in order (see :func:`convert_to_qasm_str`)."""
    return [convert_to_qasm_str(c) for c in circuits]


def _with_measurement(qasm: str, qubit_count: int) -> str:
    if "measure" in qasm:
        return qasm
    declaration_end = qasm.find(";", qasm.find("qubit"))
    if qasm.find("qubit") != -1 and declaration_end != -1:
        qasm = f"{qasm[: declaration_end + 1]}\nbit[{qubit_count}] c;{qasm[declaration_end + 1 :]}"
    return qasm + "\nc = measure q;"
