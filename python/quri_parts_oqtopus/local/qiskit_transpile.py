"""Transpilation to an emulated QPU's Qiskit target (``transpiler_lib`` "qiskit", "tket").

The device's target is built from its calibration as OQTOPUS's transpiler service builds
it: ``x``, ``sx``, ``rz`` on every qubit with the qubit's gate error and durations,
``measure`` with its readout error, ``cx`` on every listed (directed) coupling with its
error and duration. The program is transpiled through tranqu, as that service does, where
tranqu is installed (``tranqu_transpile.py``); without it, "qiskit" calls Qiskit itself
(what tranqu's Qiskit transpiler calls) and "tket" is refused naming tranqu. The result is
reported the way that service reports it: the transpiled OpenQASM 3 program, gate
statistics before and after, and the final virtual -> physical qubit mapping.

Imported only by ``transpile.py`` in the worker processes, when a job is transpiled.
"""

from __future__ import annotations

import math
from typing import Any

from quri_parts_oqtopus._contract import QISKIT
from quri_parts_oqtopus._extras import EMULATION_INSTALL
from quri_parts_oqtopus.calibration import DeviceCalibration

from .device_program import DeviceProgram, NativeGate, gate_name
from .programs import Program

try:
    import qiskit
    from qiskit import qasm3
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import CXGate, Measure, RZGate, SXGate, XGate
    from qiskit.transpiler import InstructionProperties, Target, TranspilerError
except ImportError as e:  # the [emulation] extra is not installed
    raise ValueError(
        f"transpiler_lib 'qiskit' needs Qiskit on the local server: {EMULATION_INSTALL}"
        " (or submit with transpiler_lib null and a program already in the device's basis"
        " gates and coupling map)"
    ) from e

_NON_GATES = frozenset({"measure", "barrier", "reset", "delay"})
_NS = 1e-9


def device_target(calibration: DeviceCalibration) -> Target:
    """The Qiskit ``Target`` of an emulated QPU."""
    target = Target(num_qubits=calibration.n_qubits)
    one_qubit: dict[str, dict[tuple[int, ...], InstructionProperties]] = {
        "x": {},
        "sx": {},
        "rz": {},
    }
    measure = {}
    for qubit in calibration.qubits:
        for name, properties in one_qubit.items():
            duration = qubit.gate_duration.get(name)
            # A virtual rz (0 ns) is exact; the others carry the qubit's gate error.
            error = 0.0 if name == "rz" and not duration else qubit.gate_error
            properties[(qubit.id,)] = InstructionProperties(
                duration=None if duration is None else duration * _NS, error=error
            )
        measure[(qubit.id,)] = InstructionProperties(error=qubit.readout_error)
    target.add_instruction(XGate(), one_qubit["x"])
    target.add_instruction(SXGate(), one_qubit["sx"])
    target.add_instruction(RZGate(Parameter("theta")), one_qubit["rz"])
    target.add_instruction(Measure(), measure)
    couplings = {
        (c.control, c.target): InstructionProperties(
            duration=c.duration * _NS if c.duration else None, error=c.gate_error
        )
        for c in calibration.couplings
    }
    if couplings:
        target.add_instruction(CXGate(), couplings)
    return target


def to_qiskit(program: Program) -> qiskit.QuantumCircuit:
    """The program as a Qiskit circuit (its gates, then its measurements)."""
    circuit = qiskit.QuantumCircuit(program.qubit_count, program.bit_count)
    for gate in program.circuit.gates:
        qubits = [*gate.control_indices, *gate.target_indices]
        name = gate_name(gate)
        params = [float(p) for p in gate.params]
        if name == "u2":  # u2(phi, lam) = u(pi/2, phi, lam)
            circuit.u(math.pi / 2, *params, qubits[0])
        elif name == "id":
            circuit.id(qubits[0])
        else:
            getattr(circuit, name)(*params, *qubits)
    for qubit, clbit in program.measurements:
        circuit.measure(qubit, clbit)
    return circuit


def circuit_stats(circuit: qiskit.QuantumCircuit) -> dict[str, int]:
    """Gate statistics as OQTOPUS's transpiler reports them (measurements are no gates)."""
    gates = [i for i in circuit.data if i.operation.name not in _NON_GATES]
    return {
        "n_qubits": circuit.num_qubits,
        "n_gates": len(gates),
        "n_gates_1q": sum(1 for i in gates if len(i.qubits) == 1),
        "n_gates_2q": sum(1 for i in gates if len(i.qubits) == 2),
        "depth": circuit.depth(),
    }


def transpile(
    program: Program,
    calibration: DeviceCalibration,
    library: str,
    options: dict[str, Any],
    *,
    seed: int | None,
    device_id: str,
) -> DeviceProgram:
    """``program`` transpiled for the device by ``library`` ("qiskit" or "tket").

    Raises:
        ValueError: The transpiler's reason when it cannot map the program (an initial
            layout on uncoupled or missing qubits, a bad option value, ...), or naming
            tranqu when "tket" is asked for without it.

    """
    from . import tranqu_transpile  # noqa: PLC0415 - its imports are optional and slow

    if seed is not None and library == QISKIT:
        options.setdefault("seed_transpiler", seed)  # the job's seed makes routing repeatable
    source = to_qiskit(program)
    target = device_target(calibration)
    through_tranqu = tranqu_transpile.tranqu_installed()
    if not through_tranqu and library != QISKIT:
        raise ValueError(
            f"transpiler_lib {library!r} needs tranqu on the local server:"
            f" {tranqu_transpile.TRANQU_INSTALL}"
        )
    try:
        if through_tranqu:
            transpiled, stats, mapping = tranqu_transpile.transpile(
                source, target, library, options, device_id
            )
        else:
            transpiled = qiskit.transpile(source, target=target, **options)
            stats = {"before": circuit_stats(source), "after": circuit_stats(transpiled)}
            mapping = _final_mapping(transpiled, program.qubit_count)
    except (TranspilerError, TypeError, ValueError, KeyError, IndexError, RuntimeError) as e:
        raise ValueError(f"the transpiler cannot map the program onto the device: {e}") from e
    return _device_program(program, transpiled, stats, mapping)


def _final_mapping(transpiled: qiskit.QuantumCircuit, width: int) -> dict[int, int]:
    layout = transpiled.layout
    final = layout.final_index_layout() if layout is not None else range(width)
    return {virtual: int(physical) for virtual, physical in enumerate(final)}


def _device_program(
    program: Program,
    transpiled: qiskit.QuantumCircuit,
    stats: dict[str, Any],
    mapping: dict[int, int],
) -> DeviceProgram:
    """What the device runs of a transpiled circuit, and its ``transpile_result``.

    Raises:
        ValueError: If the circuit measures a qubit before a gate on it: the emulated
            device reads every qubit once, after the last gate.

    """
    gates: list[NativeGate] = []
    measurements: list[tuple[int, int]] = []
    measured: set[int] = set()
    for instruction in transpiled.data:
        name = instruction.operation.name
        qubits = tuple(transpiled.find_bit(q).index for q in instruction.qubits)
        if name == "measure":
            measurements.append((qubits[0], transpiled.find_bit(instruction.clbits[0]).index))
            measured.add(qubits[0])
        elif name not in _NON_GATES:
            if measured.intersection(qubits):
                raise ValueError(
                    f"the transpiled program measures qubit {min(measured.intersection(qubits))}"
                    f" before a {name} gate on it; the emulated device measures only at the end"
                )
            params = tuple(float(p) for p in instruction.operation.params)
            gates.append(NativeGate(name, qubits, params))
    mapping = {v: p for v, p in mapping.items() if v < program.qubit_count}
    return DeviceProgram(
        gates=tuple(gates),
        measurements=tuple(measurements),
        bit_count=program.bit_count,
        qubit_mapping=mapping,
        transpile_result={
            "transpiled_program": qasm3.dumps(transpiled),
            "stats": stats,
            "virtual_physical_mapping": {
                "qubit_mapping": {str(v): p for v, p in mapping.items()},
                "bit_mapping": {str(c): c for c in range(transpiled.num_clbits)},
            },
        },
    )
