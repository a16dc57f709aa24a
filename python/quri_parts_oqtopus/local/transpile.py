"""Programs made runnable on an emulated QPU: its basis gates, its coupling map.

As the OQTOPUS engine does with its transpiler service, a job's ``transpiler_info`` picks
the transpiler: ``{"transpiler_lib": "qiskit", "transpiler_options": {...}}`` transpiles
with Qiskit to the device's target (``sx``, ``x``, ``rz``, ``cx`` on its couplings, with the
calibrated errors and durations), ``"tket"`` with pytket (both through tranqu, as the
service does; tket needs it), ``{"transpiler_lib": null}`` runs the program as written,
which must then already use only basis gates on coupled qubits (``$n`` / ``q[n]`` being
physical qubit n). Qiskit comes with the ``[emulation]`` extra and is imported only here,
in the worker processes.

Runs in the worker processes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quri_parts_oqtopus._contract import QISKIT, TKET
from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.calibration import DeviceCalibration

from .device_program import NATIVE_GATES, DeviceProgram, NativeGate, qasm_name
from .programs import Program

#: The ``transpiler_options`` the local server hands to ``qiskit.transpile``.
QISKIT_OPTIONS = frozenset(
    {
        "optimization_level",
        "initial_layout",
        "layout_method",
        "routing_method",
        "translation_method",
        "approximation_degree",
        "seed_transpiler",
    }
)
#: The transpilers the local server runs, each with the ``transpiler_options`` it reads
#: (tranqu's tket transpiler reads only ``optimization_level``, 0..2).
TRANSPILER_OPTIONS = {QISKIT: QISKIT_OPTIONS, TKET: frozenset({"optimization_level"})}


def to_device(
    program: Program,
    text: str,
    calibration: DeviceCalibration,
    transpiler_info: Mapping[str, Any],
    *,
    device_id: str,
    seed: int | None,
) -> DeviceProgram:
    """``program`` transpiled (or checked) for the device, as ``transpiler_info`` says.

    Raises:
        ValueError: Naming why the program cannot run on the device: a gate outside the
            basis or on uncoupled qubits when not transpiled, an unknown transpiler or
            option, Qiskit missing, or a layout the transpiler refuses.

    """
    if program.qubit_count > calibration.n_qubits:
        raise ValueError(
            f"the program needs {program.qubit_count} qubits; device {device_id!r} has"
            f" {calibration.n_qubits}"
        )
    library = transpiler_info.get("transpiler_lib", QISKIT)
    if library is None:
        return _as_written(program, text, calibration, device_id)
    if library not in TRANSPILER_OPTIONS:
        raise ValueError(
            f"transpiler_lib {library!r} is not available on the local server"
            f" (use one of {list(TRANSPILER_OPTIONS)}, or null to run the program as written)"
        )
    options = transpiler_info.get("transpiler_options") or {}
    if not isinstance(options, Mapping):
        raise ValueError(f"transpiler_options must be an object, got {options!r}")
    known = TRANSPILER_OPTIONS[library]
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"transpiler_options {unknown} are not supported by {library}; known: {sorted(known)}"
        )
    if "initial_layout" in options:
        _check_layout(options["initial_layout"], program.qubit_count, calibration.n_qubits)
    from . import qiskit_transpile  # noqa: PLC0415 - qiskit is optional and heavy

    return qiskit_transpile.transpile(
        program, calibration, library, dict(options), seed=seed, device_id=device_id
    )


def _check_layout(layout: object, width: int, n_qubits: int) -> None:
    valid = (
        isinstance(layout, list)
        and len(layout) == width
        and len(set(layout)) == width
        and all(is_int(q) and 0 <= q < n_qubits for q in layout)
    )
    if not valid:
        raise ValueError(
            f"transpiler_options.initial_layout must list {width} distinct physical qubits"
            f" (0..{n_qubits - 1}), one per program qubit, got {layout!r}"
        )


def _as_written(
    program: Program, text: str, calibration: DeviceCalibration, device_id: str
) -> DeviceProgram:
    """The program itself, when it already runs on the device (transpiler_lib null)."""
    coupled = {(c.control, c.target) for c in calibration.couplings}
    gates = []
    for index, gate in enumerate(program.circuit.gates):
        name = qasm_name(gate.name)
        qubits = (*gate.control_indices, *gate.target_indices)
        where = f"gate {index} ({name} on {', '.join(f'q[{q}]' for q in qubits)})"
        if name not in NATIVE_GATES:
            raise ValueError(
                f"{where} is not a basis gate of device {device_id!r} ({', '.join(NATIVE_GATES)})"
                " and transpiler_lib is null, so nothing translates it"
            )
        if len(qubits) == 2 and qubits not in coupled:
            raise ValueError(
                f"{where}: device {device_id!r} has no coupling {qubits[0]} -> {qubits[1]}"
                " and transpiler_lib is null, so nothing routes it"
            )
        gates.append(NativeGate(name, tuple(qubits), tuple(float(p) for p in gate.params)))
    stats = program_stats(program)
    return DeviceProgram(
        gates=tuple(gates),
        measurements=program.measurements,
        bit_count=program.bit_count,
        qubit_mapping={q: q for q in range(program.qubit_count)},
        transpile_result={
            "transpiled_program": text,
            "stats": {"before": stats, "after": stats},
            "virtual_physical_mapping": {
                "qubit_mapping": {str(q): q for q in range(program.qubit_count)},
                "bit_mapping": {str(c): c for c in range(program.bit_count)},
            },
        },
    )


def program_stats(program: Program) -> dict[str, int]:
    """What OQTOPUS's transpiler reports of a program (gates exclude measurements)."""
    gates = program.circuit.gates
    widths = [len(g.target_indices) + len(g.control_indices) for g in gates]
    return {
        "n_qubits": program.qubit_count,
        "n_gates": len(gates),
        "n_gates_1q": widths.count(1),
        "n_gates_2q": widths.count(2),
        "depth": program.circuit.depth,
    }
