"""OpenQASM 3 text of QURI Parts circuits, as the OQTOPUS backends send it.

Circuits of ``quri_parts_rust`` (the circuits QURI Parts makes) are read straight from
their gate vector where a set of guards allows it; any other circuit, and any circuit the
guards are not sure of, is read through its public attributes. Both readings give the same
text and the same errors; :func:`direct_read_status` says which one this process uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict, cast

from quri_parts.circuit import ImmutableQuantumCircuit

from quri_parts_oqtopus import _core
from quri_parts_oqtopus.formats.sweep import ParameterSweep

__all__ = [
    "DIRECT_READ_SWITCH",
    "DirectReadStatus",
    "convert_to_qasm_str",
    "convert_to_qasm_strs",
    "direct_read_status",
]

#: Set this environment variable to ``0`` (before the first conversion) to read every
#: circuit through its attributes.
DIRECT_READ_SWITCH = "QURI_PARTS_OQTOPUS_DIRECT_READ"


class DirectReadStatus(TypedDict):
    """How this process reads QURI Parts circuits (see :func:`direct_read_status`)."""

    #: True when circuits are read from their gate vector.
    enabled: bool
    #: Why the direct read is on or off (the self-test passed, the version is not on the
    #: allowlist, the switch turned it off, what the self-test found, ...).
    reason: str
    #: Circuits read from their gate vector so far.
    read_directly: int
    #: Circuits read through their attributes so far.
    read_through_getters: int
    #: Why parameter sweeps are (not) printed from one reading of their circuit.
    sweeps: str
    #: Bindings printed from their circuit's one reading so far.
    bindings_from_templates: int


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


def convert_to_qasm_strs(
    circuits: Iterable[ImmutableQuantumCircuit] | ParameterSweep,
) -> list[str]:
    """OpenQASM 3 texts of ``circuits``, in order (see :func:`convert_to_qasm_str`).

    Circuits are read one after the other while the ones already read are printed on all
    cores without the GIL. The first refused gate raises, as a loop over the circuits would.
    A :class:`~quri_parts_oqtopus.sweep.ParameterSweep` (or a list of circuits bound from
    one parametric circuit) is read once and only the angles are printed per binding.
    """
    if isinstance(circuits, ParameterSweep):
        return _core.sweep_to_qasm(circuits.circuit, circuits.parameter_sets)
    return _core.circuits_to_qasm(circuits)


def direct_read_status() -> DirectReadStatus:
    """Whether this process reads QURI Parts circuits from their gate vector, and why (not).

    The first call (or the first conversion) runs the self-test that decides it.
    """
    return cast(DirectReadStatus, _core.direct_read_status())
