"""What a run will cost on a calibrated device, told before anything is sent.

:func:`estimate_run` takes what :meth:`OqtopusJobSet.submit` takes (a circuit, a batch, a
sweep; ``pack``) and reads only the device. It answers:

- **jobs**: how many jobs the run takes (packing planned exactly as ``submit`` plans it);
- **QPU time**: per job, shots x (the longest program's gate durations along its critical
  path + the readout), summed over the jobs;
- **success probability**: per program, the product of (1 - error) over its native gates
  and its measured qubits, with the calibrated errors of the qubits and couplings it is
  placed on;
- **placement**: programs per job against the bound (device qubits / widest program),
  and the mean calibrated error of the chosen regions against a random placement.

Gates are counted as the device's native gates before any optimisation (``rz`` is
virtual; ``h``, ``sx`` one ``sx``; ``rx``, ``ry``, ``u`` two; ``cx`` one ``cx``, with
Hadamards around it against the coupling's direction; ``cz`` a ``cx`` and two ``sx``;
``swap`` three ``cx``). ``device_info`` states no readout duration: ``readout_ns`` is
assumed (a qubit's ``gate_duration.measure`` is used where one is given).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from quri_parts.circuit import ImmutableQuantumCircuit, QuantumGate

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusDeviceBackend
from quri_parts_oqtopus.backend.submission import check_shots
from quri_parts_oqtopus.batch.packing import (
    Layout,
    PackedJob,
    PackingPolicy,
    Slot,
    plan_packs,
    slot_regions,
)
from quri_parts_oqtopus.batch.placement import (
    DeviceMap,
    JobPlacement,
    ProgramGraph,
    random_region_error,
)
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.formats.qasm_reader import read_qasm
from quri_parts_oqtopus.formats.sweep import ParameterSweep

__all__ = ["DEFAULT_READOUT_NS", "ProgramEstimate", "RunEstimate", "estimate_run"]

#: What :func:`estimate_run` takes: one program, a list of them, or a sweep.
Programs = ImmutableQuantumCircuit | str | Sequence[ImmutableQuantumCircuit | str] | ParameterSweep

#: Readout time assumed per shot, in nanoseconds (device_info has none).
DEFAULT_READOUT_NS = 1000.0

# QURI Parts gate -> native pulses on its one qubit: sx count, x count (rz is free).
_ONE_QUBIT = {
    "Identity": (0, 0), "X": (0, 1), "Y": (0, 1), "Z": (0, 0), "H": (1, 0), "S": (0, 0),
    "Sdag": (0, 0), "T": (0, 0), "Tdag": (0, 0), "SqrtX": (1, 0), "SqrtXdag": (1, 0),
    "RX": (2, 0), "RY": (2, 0), "RZ": (0, 0), "U1": (0, 0), "U2": (1, 0), "U3": (2, 0),
}  # fmt: skip
# Two-qubit gates as (cx count, sx on the target).
_TWO_QUBIT = {"CNOT": (1, 0), "CZ": (1, 2), "SWAP": (3, 0)}


@dataclass(frozen=True)
class ProgramEstimate:
    """One program's share of a run.

    Attributes:
        index: Its position in the run.
        qubits: The device qubits it is estimated on (its region when placed).
        native_gates: Native gates by name (``sx``, ``x``, ``cx``).
        duration_ns: One shot: gates along the critical path, then the readout.
        success_probability: Product of (1 - error) of its gates and measured qubits.
    """

    index: int
    qubits: tuple[int, ...]
    native_gates: dict[str, int]
    duration_ns: float
    success_probability: float


@dataclass(frozen=True)
class RunEstimate:
    """A run's cost on a device, before it is submitted (see the module).

    Attributes:
        device_id: The device.
        shots: Shots of every job.
        jobs: Jobs the run takes.
        programs_per_job: Programs in each job, in order.
        bound: Programs per job at most: device qubits // widest program.
        qpu_seconds: Shots x the longest program of each job, summed over the jobs.
        mean_success_probability: The mean over the programs.
        mean_region_error: Mean calibrated error of the programs' regions (qubits' gate
            and readout errors, used couplings' gate errors).
        random_region_error: The same, for regions drawn at random where each fits.
        programs: Each program's estimate.
    """

    device_id: str
    shots: int
    jobs: int
    programs_per_job: tuple[int, ...]
    bound: int
    qpu_seconds: float
    mean_success_probability: float
    mean_region_error: float
    random_region_error: float
    programs: tuple[ProgramEstimate, ...]

    def as_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready values."""
        return asdict(self)


def estimate_run(
    programs: ImmutableQuantumCircuit
    | str
    | Sequence[ImmutableQuantumCircuit | str]
    | ParameterSweep,
    device_id: str,
    shots: int,
    config: OqtopusConfig | None = None,
    *,
    pack: bool | PackingPolicy = False,
    transpiler_info: dict[str, Any] | None = None,
    readout_ns: float = DEFAULT_READOUT_NS,
) -> RunEstimate:
    """How many jobs, how much QPU time and what success probability a run has on
    ``device_id``, and how well its programs are placed; only the device is read.

    Args:
        programs: A circuit or OpenQASM 3 text, a list of them, or a sweep.
        device_id: The device; its ``device_info`` must hold a calibration.
        shots: Shots of every job.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        pack: As :meth:`OqtopusJobSet.submit`'s (False: a job per program).
        transpiler_info: As the run would be submitted with (null: run as written).
        readout_ns: The readout time per shot assumed where the calibration has none.

    Raises:
        ValueError: For bad shots or ``pack``, an empty run, a program that cannot be read
            or placed, a gate no QPU runs, or a device without calibration data.
        BackendError: If the device cannot be read.

    """
    check_shots(shots)
    listed = _listed(programs)
    policy = PackingPolicy.of(pack)
    device = OqtopusDeviceBackend(config).get_device(device_id)
    calibration = DeviceCalibration.from_device(device)
    # Unpacked, the user's own initial_layout (if any) is where each program goes.
    given = _initial_layout(transpiler_info) if policy is None else None
    layout = Layout.of_device(device, policy or PackingPolicy(), None if given else transpiler_info)
    circuits = [_circuit(p) for p in listed]
    packs = _packs(listed, layout, policy)
    regions = (
        [given[: c.qubit_count] for c in circuits] if given else _regions(circuits, packs, layout)
    )
    estimates = [
        _program(i, circuits[i], regions[i], calibration, readout_ns) for i in range(len(listed))
    ]
    qpu_ns = sum(max(estimates[s.index].duration_ns for s in p.slots) for p in packs)
    errors, baseline = _region_errors(circuits, regions, DeviceMap.of_calibration(calibration))
    widest = max(c.qubit_count for c in circuits)
    return RunEstimate(
        device_id=device_id,
        shots=shots,
        jobs=len(packs),
        programs_per_job=tuple(len(p.slots) for p in packs),
        bound=layout.capacity // max(widest, 1),
        qpu_seconds=shots * qpu_ns * 1e-9,
        mean_success_probability=statistics.mean(e.success_probability for e in estimates),
        mean_region_error=errors,
        random_region_error=baseline,
        programs=tuple(estimates),
    )


def _initial_layout(transpiler_info: dict[str, Any] | None) -> tuple[int, ...] | None:
    options = (transpiler_info or {}).get("transpiler_options") or {}
    layout = options.get("initial_layout") if isinstance(options, dict) else None
    return tuple(int(q) for q in layout) if isinstance(layout, list) else None


def _listed(
    programs: ImmutableQuantumCircuit
    | str
    | Sequence[ImmutableQuantumCircuit | str]
    | ParameterSweep,
) -> list[ImmutableQuantumCircuit | str]:
    if isinstance(programs, str | ImmutableQuantumCircuit):
        return [programs]
    listed = list(programs)
    if not listed:
        raise ValueError("an estimate needs at least one program: got an empty list")
    return listed


def _circuit(program: ImmutableQuantumCircuit | str) -> ImmutableQuantumCircuit:
    if isinstance(program, str):
        circuit: ImmutableQuantumCircuit = read_qasm(program).circuit
        return circuit
    return program


def _packs(
    listed: Sequence[ImmutableQuantumCircuit | str], layout: Layout, policy: PackingPolicy | None
) -> list[PackedJob]:
    if policy is not None:
        return plan_packs(listed, range(len(listed)), layout, policy)
    return [PackedJob((Slot(i, 0, 0),)) for i in range(len(listed))]


def _regions(
    circuits: Sequence[ImmutableQuantumCircuit], packs: Sequence[PackedJob], layout: Layout
) -> list[tuple[int, ...]]:
    """Each program's device qubits: its packed region; else its best region alone (where
    the transpiler would lay it out at best); else its qubits in the combined program."""
    found: dict[int, tuple[int, ...]] = {}
    for pack in packs:
        widths = [circuits[s.index].qubit_count for s in pack.slots]
        offset = 0
        for slot, placed in zip(pack.slots, slot_regions(pack, widths), strict=True):
            width = circuits[slot.index].qubit_count
            region = placed
            if region is None and layout.device_map is not None and len(pack.slots) == 1:
                region = _alone(circuits[slot.index], layout)
            if region is None:
                region = tuple(range(offset + slot.lead, offset + slot.lead + width))
            found[slot.index] = region
            offset += slot.lead + width
    return [found[i] for i in range(len(circuits))]


def _alone(circuit: ImmutableQuantumCircuit, layout: Layout) -> tuple[int, ...] | None:
    assert layout.device_map is not None
    placement = JobPlacement(layout.device_map, layout.capacity)
    return placement.regions[0] if placement.add(_graph(circuit)) else None


def _graph(circuit: ImmutableQuantumCircuit) -> ProgramGraph:
    gates = [(*g.control_indices, *g.target_indices) for g in circuit.gates]
    return ProgramGraph.of_gates(circuit.qubit_count, gates)


def _program(
    index: int,
    circuit: ImmutableQuantumCircuit,
    region: tuple[int, ...],
    calibration: DeviceCalibration,
    readout_ns: float,
) -> ProgramEstimate:
    clock = dict.fromkeys(region, 0.0)
    counts = {"sx": 0, "x": 0, "cx": 0}
    survival = 0.0  # the log of the success probability
    for gate in circuit.gates:
        for name, qubits in _native(gate, region, calibration):
            duration, error = _cost(name, qubits, calibration)
            start = max(clock[q] for q in qubits)
            for qubit in qubits:
                clock[qubit] = start + duration
            counts[name] += 1
            survival += math.log1p(-min(error, 1.0 - 1e-12))
    for qubit in region:
        survival += math.log1p(-min(calibration.qubits[qubit].readout_error, 1.0 - 1e-12))
    readout = max(calibration.qubits[q].gate_duration.get("measure", readout_ns) for q in region)
    duration = max(clock.values(), default=0.0) + readout
    return ProgramEstimate(index, region, counts, duration, math.exp(survival))


def _native(
    gate: QuantumGate, region: tuple[int, ...], calibration: DeviceCalibration
) -> Sequence[tuple[str, tuple[int, ...]]]:
    """The native gates ``gate`` costs on the region's qubits (see the module)."""
    qubits = [region[q] for q in (*gate.control_indices, *gate.target_indices)]
    if gate.name in _ONE_QUBIT and len(qubits) == 1:
        sx, x = _ONE_QUBIT[gate.name]
        return [("sx", (qubits[0],))] * sx + [("x", (qubits[0],))] * x
    if gate.name in _TWO_QUBIT and len(qubits) == 2:
        cx, target_sx = _TWO_QUBIT[gate.name]
        control, target = qubits
        against = calibration.coupling(control, target) is not None and (
            (control, target) not in {(c.control, c.target) for c in calibration.couplings}
        )
        turn = [("sx", (control,)), ("sx", (target,))] if against else []
        one = [*turn, ("cx", (control, target)), *turn]
        return one * cx + [("sx", (target,))] * target_sx
    if gate.name == "TOFFOLI":
        a, b, c = qubits
        return [("cx", (b, c)), ("cx", (a, c))] * 3 + [("sx", (c,))] * 2
    raise ValueError(f"gate {gate.name} on {len(qubits)} qubits cannot run on a QPU")


def _cost(
    name: str, qubits: tuple[int, ...], calibration: DeviceCalibration
) -> tuple[float, float]:
    """``(duration ns, error)`` of one native gate on its device qubits."""
    if name == "cx":
        coupling = calibration.coupling(*qubits)
        if coupling is None:  # not coupled (a graph the map cannot hold): a routed guess
            return _mean_coupling(calibration)
        return coupling.duration, coupling.gate_error
    qubit = calibration.qubits[qubits[0]]
    return qubit.gate_duration.get(name, 0.0), qubit.gate_error


def _mean_coupling(calibration: DeviceCalibration) -> tuple[float, float]:
    if not calibration.couplings:
        return 0.0, 0.0
    durations = [c.duration for c in calibration.couplings]
    errors = [c.gate_error for c in calibration.couplings]
    return 3 * statistics.mean(durations), 1 - (1 - statistics.mean(errors)) ** 3


def _region_errors(
    circuits: Sequence[ImmutableQuantumCircuit],
    regions: Sequence[tuple[int, ...]],
    device_map: DeviceMap,
) -> tuple[float, float]:
    """The mean calibrated error of the programs' regions, and of random regions."""
    graphs = [_graph(c) for c in circuits]
    chosen = [device_map.region_error(g, r) for g, r in zip(graphs, regions, strict=True)]
    baseline = [random_region_error(device_map, g) for g in graphs]
    return statistics.mean(chosen), statistics.mean(baseline)
