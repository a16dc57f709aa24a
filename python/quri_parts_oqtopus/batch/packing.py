"""Packing many small circuits into ``multi_manual`` jobs: the policy, the plan, the unpacking.

OQTOPUS runs the programs of a ``multi_manual`` job side by side: program 0 on the lowest
qubits and classical bits, program 1 on the next ones, and so on, all with the job's
shots; the result's ``divided_counts`` holds each program's counts keyed by its own bits.
Packing groups the circuits of a job set (or of a concurrent sampler's call) into such
jobs, in submission order, as many per job as the device's qubits and the policy allow,
and gives each circuit back the counts an unpacked job of its own would give.

Where the device's ``device_info`` has a coupling map (``qubits`` and ``couplings``),
every circuit is placed on a region of it that holds the circuit's own interaction graph
(:mod:`quri_parts_oqtopus.placement`: disjoint regions, the best calibrated preferred),
and the job pins the placement with ``transpiler_options.initial_layout``, which the
service's transpiler keeps. A job whose ``transpiler_lib`` is null runs as written, so
there each circuit goes on consecutive connected qubits instead: a circuit whose next
free qubits are not connected is moved up past them, the skipped qubits added to it as
idle qubits (their bits, always 0, are dropped again from its counts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from quri_parts.backend import BackendError, SamplingCounts
from quri_parts.circuit import ImmutableQuantumCircuit, QuantumCircuit, QuantumGate
from quri_parts.core.sampling import MeasurementCounts

from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.backend import (
    OqtopusDevice,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
)
from quri_parts_oqtopus.backend.submission import submit_all
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise
from quri_parts_oqtopus.batch.placement import DeviceMap, JobPlacement, ProgramGraph
from quri_parts_oqtopus.calibration import DeviceCalibration, coupling_map
from quri_parts_oqtopus.formats.gates import shifted
from quri_parts_oqtopus.formats.qasm_reader import read_qasm
from quri_parts_oqtopus.formats.upload import JobInput, prepare_programs_input

__all__ = ["MAX_PACKED_BITS", "PackedSampler", "PackingPolicy", "pinned_transpiler_info"]

#: Classical bits of one packed job at most: the client reads a counts key into 64 bits.
MAX_PACKED_BITS = 64


def _check_bound(name: str, value: int | None) -> None:
    if value is None:
        return
    if not is_int(value) or value < 1:
        raise ValueError(f"PackingPolicy {name} should be a positive integer or None: {value!r}")


@dataclass(frozen=True)
class PackingPolicy:
    """How circuits are packed into ``multi_manual`` jobs (``pack=PackingPolicy(...)``).

    ``pack=True`` is ``PackingPolicy()``: as many circuits per job as fit the device.

    Attributes:
        max_programs: At most this many circuits in one job; None: no bound but the qubits.
        max_qubits: At most this many qubits used by one job; None: the device's
            ``n_qubits`` (never more than the device has, nor more than 64 bits).
        follow_coupling_map: Place every circuit on a region of the device's coupling map
            that holds its interaction graph, where ``device_info`` has one.
        keep_apart: Leave a qubit between the regions of two circuits (no coupling joins
            them), against crosstalk; fewer circuits fit in a job.

    Raises:
        ValueError: If a bound is not a positive integer or None, naming the value.

    """

    max_programs: int | None = None
    max_qubits: int | None = None
    follow_coupling_map: bool = True
    keep_apart: bool = False

    def __post_init__(self) -> None:
        """Refuse bad bounds at once, before anything is read or sent."""
        _check_bound("max_programs", self.max_programs)
        _check_bound("max_qubits", self.max_qubits)
        for name in ("follow_coupling_map", "keep_apart"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"PackingPolicy {name} should be a bool: {getattr(self, name)!r}")

    @classmethod
    def of(cls, pack: bool | PackingPolicy) -> PackingPolicy | None:
        """The policy ``pack`` asks for: None for False, the default for True.

        Raises:
            ValueError: If ``pack`` is neither a bool nor a :class:`PackingPolicy`.

        """
        if isinstance(pack, PackingPolicy):
            return pack
        if isinstance(pack, bool):
            return cls() if pack else None
        raise ValueError(f"pack should be True, False or a PackingPolicy: {pack!r}")

    def as_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready values (a job set's journal keeps it so)."""
        return {
            "max_programs": self.max_programs,
            "max_qubits": self.max_qubits,
            "follow_coupling_map": self.follow_coupling_map,
            "keep_apart": self.keep_apart,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PackingPolicy:
        """The policy of :meth:`as_dict`."""
        return cls(
            values.get("max_programs"),
            values.get("max_qubits"),
            bool(values.get("follow_coupling_map", True)),
            bool(values.get("keep_apart", False)),
        )


@dataclass(frozen=True)
class Slot:
    """One circuit's place in a packed job.

    Attributes:
        index: The circuit's position in the caller's list.
        lead: Idle qubits put before the circuit (its counts are shifted down by as many bits).
        bits: The circuit's own classical bits.

    """

    index: int
    lead: int
    bits: int


@dataclass(frozen=True)
class PackedJob:
    """The circuits of one ``multi_manual`` job, in their program order.

    Attributes:
        slots: Each circuit's place.
        layout: The device qubit of each qubit of the combined program (program 0's
            first), sent as ``initial_layout``; None when the job is not placed so.
    """

    slots: tuple[Slot, ...]
    layout: tuple[int, ...] | None = None

    @property
    def indices(self) -> tuple[int, ...]:
        """The positions of its circuits in the caller's list."""
        return tuple(slot.index for slot in self.slots)

    def counts(self, result: OqtopusSamplingResult, job_id: str) -> list[SamplingCounts]:
        """Each circuit's counts out of the job's ``divided_counts``, keyed by its own bits.

        Raises:
            ValueError: If the result lacks a circuit's counts or has keys beyond its bits.

        """
        divided = result.divided_counts or {}
        found = []
        for position, slot in enumerate(self.slots):
            part = divided.get(position)
            if part is None:
                raise ValueError(
                    f"packed job {job_id} has no divided_counts for program {position}"
                )
            found.append(_own_bits(part, slot, job_id))
        return found


def _own_bits(part: SamplingCounts, slot: Slot, job_id: str) -> SamplingCounts:
    width = slot.lead + slot.bits
    if any(key >> width for key in part):  # with or without idle qubits before it
        raise ValueError(f"packed job {job_id}: counts of program {slot.index} exceed its bits")
    if slot.lead == 0:
        return Counter(part)
    counts: Counter[int] = Counter()
    for key, count in part.items():
        counts[(key >> slot.lead) & ((1 << slot.bits) - 1)] += int(count)
    return counts


class Layout:
    """Where a device can hold programs: its usable qubits and, if known, its couplings.

    Attributes:
        capacity: Qubits a job may use (from 0, or anywhere on the map when placed).
        device_map: The coupling map with its calibrated errors; None: any qubits will do.
        placed: Whether each program goes on a region of the map found for it, pinned by
            ``initial_layout`` (False: on consecutive connected qubits, as written).
        keep_apart: Whether placed regions stay a qubit apart.
    """

    def __init__(
        self,
        capacity: int,
        device_map: DeviceMap | None,
        *,
        placed: bool = False,
        keep_apart: bool = False,
    ) -> None:
        self.capacity = capacity
        self.device_map = device_map
        self.placed = placed and device_map is not None
        self.keep_apart = keep_apart

    @classmethod
    def of_device(
        cls,
        device: OqtopusDevice,
        policy: PackingPolicy,
        transpiler_info: Mapping[str, Any] | None = None,
    ) -> Layout:
        """The layout of ``device`` within ``policy``'s bound on qubits, for jobs submitted
        with ``transpiler_info`` (placed by ``initial_layout`` unless it runs as written).

        Raises:
            ValueError: If the device's coupling map is malformed (naming the field),
                nothing tells how many qubits it has (no ``n_qubits``, no coupling map
                followed, no ``max_qubits``), or ``transpiler_info`` has an
                ``initial_layout`` of its own while the packer places the programs.
            BackendError: (also a ``ValueError``) If the coupling map is to be followed and
                the device's ``device_info`` cannot be downloaded or read: packing as if
                the device had no coupling map could put a circuit on uncoupled qubits.

        """
        info = device.read_device_info() if policy.follow_coupling_map else {}
        links = coupling_map(info)
        known = [n for n in (device.n_qubits, policy.max_qubits) if n]
        if not known and links is None:
            raise ValueError(
                f"device {device.device_id!r} states no n_qubits and no coupling map: pass"
                " PackingPolicy(max_qubits=...) to say how many qubits a packed job may use"
            )
        device_map = None if links is None else DeviceMap(links, _calibration_or_none(info))
        placed = (
            device_map is not None
            and (transpiler_info or {}).get("transpiler_lib", "qiskit") is not None
        )
        if placed:
            _check_no_layout_of_its_own(transpiler_info or {})
        capacity = min([MAX_PACKED_BITS, *known])
        return cls(capacity, device_map, placed=placed, keep_apart=policy.keep_apart)

    def connected(self, start: int, width: int) -> bool:
        """Whether qubits ``start .. start + width - 1`` exist and are connected."""
        if start + width > self.capacity:
            return False
        return self.device_map is None or self.device_map.connected(range(start, start + width))

    def job_placement(self) -> JobPlacement:
        """An empty placement of one job's programs on the map."""
        assert self.device_map is not None  # only asked of a placed layout
        return JobPlacement(self.device_map, self.capacity, int(self.keep_apart))


def _calibration_or_none(info: Mapping[str, Any]) -> DeviceCalibration | None:
    """The calibration placement prefers regions by; None when ``device_info`` holds a
    coupling map without one that reads (then every region is as good)."""
    try:
        return DeviceCalibration.from_device_info(info)
    except ValueError:
        return None


def _check_no_layout_of_its_own(transpiler_info: Mapping[str, Any]) -> None:
    options = transpiler_info.get("transpiler_options")
    if isinstance(options, Mapping) and "initial_layout" in options:
        raise ValueError(
            "transpiler_options.initial_layout cannot go with packing along the coupling map:"
            " the packer places each circuit and pins that layout itself (drop it, or pass"
            " PackingPolicy(follow_coupling_map=False) to keep yours)"
        )


def pinned_transpiler_info(
    transpiler_info: Mapping[str, Any] | None, layout: Sequence[int]
) -> dict[str, Any]:
    """``transpiler_info`` with ``initial_layout`` set to ``layout`` (and the service's
    default ``optimization_level`` 1 unless one is given: a non-empty ``transpiler_info``
    would otherwise run Qiskit's own default)."""
    info = dict(transpiler_info or {})
    options = dict(info.get("transpiler_options") or {})
    options.setdefault("optimization_level", 1)
    options["initial_layout"] = list(layout)
    info.setdefault("transpiler_lib", "qiskit")
    info["transpiler_options"] = options
    return info


@dataclass(frozen=True)
class _Shape:
    qubits: int
    bits: int
    text: bool  # a QASM text cannot be given idle qubits
    graph: ProgramGraph  # the pairs of qubits its gates link


def _gate_qubits(gates: Iterable[QuantumGate]) -> list[tuple[int, ...]]:
    return [(*gate.control_indices, *gate.target_indices) for gate in gates]


def _shape(index: int, program: ImmutableQuantumCircuit | str) -> _Shape:
    if not isinstance(program, str):
        graph = ProgramGraph.of_gates(program.qubit_count, _gate_qubits(program.gates))
        return _Shape(program.qubit_count, program.qubit_count, text=False, graph=graph)
    parsed = read_qasm(program)
    if parsed.clbit_count < 1 or not parsed.measurements:
        raise ValueError(
            f"program {index} measures nothing into classical bits: a packed program's counts"
            " are its own bits"
        )
    graph = ProgramGraph.of_gates(parsed.qubit_count, _gate_qubits(parsed.circuit.gates))
    return _Shape(parsed.qubit_count, parsed.clbit_count, text=True, graph=graph)


def plan_packs(
    programs: Sequence[ImmutableQuantumCircuit | str],
    indices: Sequence[int],
    layout: Layout,
    policy: PackingPolicy,
) -> list[PackedJob]:
    """The packed jobs of ``programs[i]`` for ``i`` in ``indices``, filled in that order.

    Raises:
        ValueError: If a program cannot be placed on the device at all, naming it.

    """
    if layout.placed:
        return _plan_placed(programs, indices, layout, policy)
    packs: list[PackedJob] = []
    slots: list[Slot] = []
    qubits = bits = 0
    limit = policy.max_programs
    for index in indices:
        shape = _shape(index, programs[index])
        lead = _lead(layout, shape, qubits, bits)
        if lead is None or (limit is not None and len(slots) >= limit):
            if slots:
                packs.append(PackedJob(tuple(slots)))
            slots, qubits, bits = [], 0, 0
            lead = _lead(layout, shape, 0, 0)
            if lead is None:
                raise _fits_nowhere(index, shape, layout)
        slots.append(Slot(index, lead, shape.bits))
        qubits += lead + shape.qubits
        bits += lead + shape.bits
    if slots:
        packs.append(PackedJob(tuple(slots)))
    return packs


def _fits_nowhere(index: int, shape: _Shape, layout: Layout) -> ValueError:
    return ValueError(
        f"program {index} ({shape.qubits} qubits) fits nowhere on the device's"
        f" {layout.capacity} usable qubits (coupling map and bounds)"
    )


def _plan_placed(
    programs: Sequence[ImmutableQuantumCircuit | str],
    indices: Sequence[int],
    layout: Layout,
    policy: PackingPolicy,
) -> list[PackedJob]:
    """:func:`plan_packs` with each program on a region of the map that holds its
    interaction graph, the job's layout pinned (see :mod:`quri_parts_oqtopus.placement`)."""
    packs: list[PackedJob] = []
    slots: list[Slot] = []
    placement = layout.job_placement()
    bits = 0
    limit = policy.max_programs
    for index in indices:
        shape = _shape(index, programs[index])
        full = limit is not None and len(slots) >= limit
        if full or bits + shape.bits > MAX_PACKED_BITS or not placement.add(shape.graph):
            if slots:
                packs.append(_placed_job(slots, placement))
            slots, bits, placement = [], 0, layout.job_placement()
            if shape.bits > MAX_PACKED_BITS or not placement.add(shape.graph):
                raise _fits_nowhere(index, shape, layout)
        slots.append(Slot(index, 0, shape.bits))
        bits += shape.bits
    if slots:
        packs.append(_placed_job(slots, placement))
    return packs


def _placed_job(slots: list[Slot], placement: JobPlacement) -> PackedJob:
    layout = tuple(qubit for region in placement.regions for qubit in region)
    return PackedJob(tuple(slots), layout)


def _lead(layout: Layout, shape: _Shape, qubits: int, bits: int) -> int | None:
    """Idle qubits to put before a program starting at ``qubits``; None if it cannot go there."""
    leads = range(1) if shape.text else range(layout.capacity - qubits - shape.qubits + 1)
    for lead in leads:
        if bits + lead + shape.bits > MAX_PACKED_BITS:
            return None
        if layout.connected(qubits + lead, shape.qubits):
            return lead
    return None


def placed_programs(
    programs: Sequence[ImmutableQuantumCircuit | str], pack: PackedJob
) -> list[ImmutableQuantumCircuit | str]:
    """The programs of one packed job in its order, circuits with idle qubits widened."""
    return [
        _widened(programs[slot.index], slot.lead) if slot.lead else programs[slot.index]
        for slot in pack.slots
    ]


def pack_input(programs: Sequence[ImmutableQuantumCircuit | str], pack: PackedJob) -> JobInput:
    """The upload document of one packed job (circuits with idle qubits widened first)."""
    return prepare_programs_input(placed_programs(programs, pack))


def _widened(program: ImmutableQuantumCircuit | str, lead: int) -> ImmutableQuantumCircuit:
    """The circuit on qubits ``lead ..``, with ``lead`` idle qubits below it."""
    if isinstance(program, str):
        raise TypeError("a QASM text cannot be given idle qubits")  # _lead never asks for it
    circuit = QuantumCircuit(program.qubit_count + lead)
    for gate in program.gates:
        circuit.add_gate(shifted(gate, lead))
    return circuit


def group_by_shots(shots: Sequence[int]) -> dict[int, list[int]]:
    """The positions of each distinct ``shots`` value, in order (only equal shots share a job)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, value in enumerate(shots):
        groups[value].append(index)
    return dict(groups)


class PackedSampler:
    """A QURI Parts ``ConcurrentSampler`` whose pairs of equal shots are packed into
    ``multi_manual`` jobs on one device (read at the first call), each pair given its own
    counts. Make it with :func:`packed_sampler`.

    Calling it raises ``BackendError`` when a submission fails, on timeout, and when a
    packed job fails, naming the positions of every pair it held.
    """

    def __init__(
        self,
        backend: OqtopusSamplingBackend,
        device_id: str,
        policy: PackingPolicy,
        concurrency: int,
        timeout: float | None,
        wait: float,
        job_options: Mapping[str, Any],
    ) -> None:
        self._backend = backend
        self.device_id = device_id
        self.policy = policy
        self._concurrency = concurrency
        self._timeout = timeout
        self._wait = wait
        self._job_options = dict(job_options)
        self._layouts: list[Layout] = []  # the device is read once, at the first call

    @property
    def layout(self) -> Layout:
        """Where the device holds programs (the device is read at the first use).

        Raises:
            ValueError: As :meth:`Layout.of_device`.

        """
        if not self._layouts:
            device = OqtopusDeviceBackend(self._backend.config).get_device(self.device_id)
            info = self._job_options.get("transpiler_info")
            self._layouts.append(Layout.of_device(device, self.policy, info))
        return self._layouts[0]

    def __call__(
        self, pairs: Iterable[tuple[ImmutableQuantumCircuit, int]]
    ) -> Iterable[MeasurementCounts]:
        """Each pair's counts, in order (see the class)."""
        listed = list(pairs)
        circuits = [circuit for circuit, _ in listed]
        return self.run(circuits, self.plan(circuits, [shots for _, shots in listed]))

    def plan(
        self, circuits: Sequence[ImmutableQuantumCircuit], shots: Sequence[int]
    ) -> list[tuple[PackedJob, int]]:
        """The packed jobs of ``circuits`` (``shots[i]`` each), with their shots."""
        packs: list[tuple[PackedJob, int]] = []
        for value, indices in group_by_shots(shots).items():
            packs += [(p, value) for p in plan_packs(circuits, indices, self.layout, self.policy)]
        return packs

    def run(
        self, circuits: Sequence[ImmutableQuantumCircuit], packs: Sequence[tuple[PackedJob, int]]
    ) -> list[MeasurementCounts]:
        """Submit ``packs`` (all at once, ``concurrency`` at a time), wait for them, and
        give each circuit its counts, by its position in ``circuits``."""
        jobs = submit_all(
            [
                partial(self._backend.sample, _placed(circuits, p), self.device_id, shots,
                        **self._options(p))
                for p, shots in packs
            ],
            self._concurrency,
        )  # fmt: skip
        wait_for_all_or_raise(jobs, self._timeout, self._wait)
        found: list[MeasurementCounts] = [{} for _ in circuits]
        for (p, _), job in zip(packs, jobs, strict=True):
            for slot, counts in zip(p.slots, _packed_counts(p, job, self._wait), strict=True):
                found[slot.index] = counts
        return found

    def _options(self, pack: PackedJob) -> dict[str, Any]:
        if pack.layout is None:
            return dict(self._job_options)
        info = self._job_options.get("transpiler_info")
        return {**self._job_options, "transpiler_info": pinned_transpiler_info(info, pack.layout)}


def packed_sampler(
    backend: OqtopusSamplingBackend,
    device_id: str,
    policy: PackingPolicy,
    concurrency: int,
    timeout: float | None,
    wait: float,
    job_options: Mapping[str, Any],
) -> PackedSampler:
    """A :class:`PackedSampler` of ``backend`` on ``device_id``."""
    return PackedSampler(backend, device_id, policy, concurrency, timeout, wait, job_options)


def slot_regions(pack: PackedJob, widths: Sequence[int]) -> list[tuple[int, ...] | None]:
    """The device qubits of each circuit of a placed job (``widths[i]``: qubits of its
    ``i``-th circuit), None for each when the job is not placed."""
    if pack.layout is None:
        return [None] * len(pack.slots)
    regions: list[tuple[int, ...] | None] = []
    start = 0
    for width in widths:
        regions.append(pack.layout[start : start + width])
        start += width
    return regions


def _placed(
    circuits: Sequence[ImmutableQuantumCircuit], pack: PackedJob
) -> list[ImmutableQuantumCircuit]:
    # Circuits in, circuits out: only texts would stay texts.
    return cast("list[ImmutableQuantumCircuit]", placed_programs(circuits, pack))


def _packed_counts(
    pack: PackedJob, job: OqtopusSamplingJob, wait: float
) -> Sequence[MeasurementCounts]:
    try:
        return pack.counts(job.result(timeout=0, wait=wait), job.job_id)
    except (BackendError, ValueError) as error:
        raise BackendError(
            f"packed job {job.job_id} of the pairs at {list(pack.indices)}: {error}"
        ) from error
