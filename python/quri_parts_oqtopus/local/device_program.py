"""A program as an emulated QPU runs it: native gates on physical qubits, its measurements.

What the transpilers (``transpile``, ``qiskit_transpile``, ``tranqu_transpile``) make and the
noisy emulation (``emulation``, ``noise``, ``zne``) runs. Runs in the worker processes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quri_parts.circuit import QuantumGate

from quri_parts_oqtopus.formats.gates import GATES

#: What a transpiled program may hold: the native gates of an OQTOPUS superconducting QPU.
NATIVE_GATES = ("sx", "x", "rz", "cx")

# QURI Parts gate name -> its name on a device and in Qiskit.
_GATE_NAMES = {gate.name: gate.device_name for gate in GATES}


@dataclass(frozen=True)
class NativeGate:
    """One gate of a transpiled program, on physical qubits."""

    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class DeviceProgram:
    """A program as the device runs it.

    Attributes:
        gates: Native gates on physical qubits, in order.
        measurements: ``(physical qubit, clbit)`` pairs.
        bit_count: Width of the counts keys.
        qubit_mapping: Virtual qubit -> the physical qubit holding it at the end.
        transpile_result: ``job_info.transpile_result`` as OQTOPUS fills it.
    """

    gates: tuple[NativeGate, ...]
    measurements: tuple[tuple[int, int], ...]
    bit_count: int
    qubit_mapping: dict[int, int]
    transpile_result: dict[str, Any]


def qasm_name(name: str) -> str:
    """The OpenQASM name of the QURI Parts gate called ``name`` (``name`` itself if none)."""
    return _GATE_NAMES.get(name, name)


def gate_name(gate: QuantumGate) -> str:
    """The OpenQASM name of a QURI Parts gate; ValueError for one a QPU has no name for."""
    name = _GATE_NAMES.get(gate.name)
    if name is None:
        raise ValueError(f"gate {gate.name} cannot run on a QPU")
    return name
