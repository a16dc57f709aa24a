"""OpenQASM 3 text of QURI Parts circuits, as the OQTOPUS backends send it."""

from __future__ import annotations

from collections.abc import Iterable

from quri_parts.circuit import ImmutableQuantumCircuit

from quri_parts_oqtopus import _core

__all__ = ["convert_to_qasm_str", "convert_to_qasm_strs"]


def convert_to_qasm_str(circuit: ImmutableQuantumCircuit) -> str:
    """OpenQASM 3 text of ``circuit``, byte for byte as ``quri-parts-openqasm`` writes it.

    The text always ends with ``c = measure q;`` after ``bit[n] c;`` is declared, so the
    reference backend's rule (add both when there is no ``measure``) holds by construction.
    Parameters print as Python's ``repr(float)``; qubit indices and non-finite angles are
    printed as given, as the reference does.

    Raises:
        ValueError: For unknown gate names, parametric or multi-qubit Pauli gates, and
            two- or three-qubit gates on the wrong number of qubits.
        NotImplementedError: For SqrtXdag, SqrtY and SqrtYdag, which stdgates lack.
        AssertionError: For known gates the reference writer has no branch for
            (multi-controlled gates, Measurement, UnitaryMatrix), as it raises.
        IndexError: For a gate without the target or parameter the writer reads.

    """
    return _core.circuit_to_qasm(circuit)


def convert_to_qasm_strs(circuits: Iterable[ImmutableQuantumCircuit]) -> list[str]:
    """OpenQASM 3 texts of ``circuits``, in order (see :func:`convert_to_qasm_str`).

    Circuits are read one after the other while the ones already read are printed on all
    cores without the GIL. The first refused gate raises, as a loop over the circuits would.
    """
    return _core.circuits_to_qasm(circuits)
