"""Where the programs of a packed job go on a device: disjoint regions of its coupling map.

Each program is placed on device qubits that hold its own interaction graph (a qubit per
program qubit, a coupling for every pair of qubits a gate links), so that the transpiler
needs no swaps: the regions are the subgraph isomorphisms rustworkx's VF2 finds
(``rustworkx.vf2_mapping``, not induced). Regions are disjoint; with ``spacing=1`` no
two programs' regions are even coupled (a qubit apart, against crosstalk).

A region's error is the calibrated error of what the program uses there: each qubit's
gate and readout error, each used coupling's gate error (``device_info``; 0 where not
calibrated). The programs of a job are placed one by one, two greedy ways side by side,
and the job keeps the one of lower mean error among those that placed every program:

- best calibrated first: the region of least error, then the one leaving fewest free
  qubits around it;
- tightest first: the region leaving fewest free qubits around it (corners and edges of
  what is left, so that more programs fit), then the least error.

Packing alone (consecutive qubits) fits few programs on a map like heavy-hex, whose
connected runs of consecutively numbered qubits are short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import rustworkx

from quri_parts_oqtopus.calibration import DeviceCalibration

__all__ = [
    "DeviceMap",
    "JobPlacement",
    "ProgramGraph",
    "RegionChoice",
    "random_region_error",
]

#: Embeddings of one program graph read from VF2 at most (a path of 8 qubits has 55,104
#: on an 8x8 lattice): past it, the free qubits are searched again as they fill.
MAX_EMBEDDINGS = 50_000


@dataclass(frozen=True)
class ProgramGraph:
    """A program's qubits and the pairs of them its gates link (its interaction graph).

    Attributes:
        qubits: How many qubits the program has (0 .. qubits-1).
        edges: The linked pairs ``(a, b)``, ``a < b``, each once, sorted.
    """

    qubits: int
    edges: tuple[tuple[int, int], ...]

    @classmethod
    def of_gates(cls, qubits: int, gates: Iterable[Sequence[int]]) -> ProgramGraph:
        """The graph of a program of ``qubits`` qubits whose gates act on ``gates``
        (a gate of three or more qubits links them as a path)."""
        edges = {(min(a, b), max(a, b)) for gate in gates for a, b in pairwise(gate) if a != b}
        return cls(qubits, tuple(sorted(edges)))

    @cached_property
    def parts(self) -> list[list[int]]:
        """The program's qubits by connected component, largest first."""
        graph = self._graph(range(self.qubits), self.edges)
        found = [sorted(graph[i] for i in c) for c in rustworkx.connected_components(graph)]
        return sorted(found, key=lambda part: (-len(part), part))

    def part_graph(self, part: Sequence[int], *, as_path: bool = False) -> rustworkx.PyGraph:
        """The subgraph of one part (or a path through its qubits); node payloads are the
        program's qubits."""
        if as_path:
            return self._graph(part, list(pairwise(part)))
        inside = set(part)
        return self._graph(part, [(a, b) for a, b in self.edges if a in inside])

    @staticmethod
    def _graph(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> rustworkx.PyGraph:
        graph = rustworkx.PyGraph()
        index = {qubit: graph.add_node(qubit) for qubit in nodes}
        graph.add_edges_from_no_data([(index[a], index[b]) for a, b in edges])
        return graph


class DeviceMap:
    """A device's coupling map (undirected) and the calibrated error of each qubit and
    coupling (0 everywhere without a calibration)."""

    def __init__(
        self, links: Mapping[int, Iterable[int]], calibration: DeviceCalibration | None = None
    ) -> None:
        """``links``: each qubit and the qubits coupled to it (either direction)."""
        self.qubits = tuple(sorted(links))
        self.neighbors = {q: frozenset(links[q]) - {q} for q in self.qubits}
        self._calibration = calibration
        self.graph = rustworkx.PyGraph()
        self._node = {q: self.graph.add_node(q) for q in self.qubits}
        pairs = {(min(a, b), max(a, b)) for a in self.qubits for b in self.neighbors[a]}
        self.graph.add_edges_from_no_data(
            [(self._node[a], self._node[b]) for a, b in sorted(pairs) if b in self._node]
        )
        self._embeddings: dict[tuple[ProgramGraph, int], list[_Embedding]] = {}

    @classmethod
    def of_calibration(cls, calibration: DeviceCalibration) -> DeviceMap:
        """The coupling map and errors of a calibrated device."""
        return cls({q: calibration.neighbors(q) for q in range(calibration.n_qubits)}, calibration)

    def connected(self, qubits: Iterable[int]) -> bool:
        """Whether ``qubits`` all exist and the couplings among them connect them."""
        wanted = list(qubits)
        if not wanted or any(q not in self._node for q in wanted):
            return False
        return bool(rustworkx.is_connected(self.graph.subgraph([self._node[q] for q in wanted])))

    def qubit_error(self, qubit: int) -> float:
        """The qubit's gate plus readout error (0 when not calibrated)."""
        if self._calibration is None or qubit >= self._calibration.n_qubits:
            return 0.0
        return self._calibration.qubit_score(qubit)

    def coupling_error(self, a: int, b: int) -> float:
        """The two-qubit gate error of the coupling of ``a`` and ``b`` (0 when unknown)."""
        coupling = None if self._calibration is None else self._calibration.coupling(a, b)
        return 0.0 if coupling is None else coupling.gate_error

    def region_error(self, program: ProgramGraph, region: Sequence[int]) -> float:
        """The calibrated error of ``program`` on ``region`` (``region[v]``: the device
        qubit of program qubit ``v``): its qubits' errors and its linked pairs' couplings."""
        qubits = sum(self.qubit_error(q) for q in region)
        return qubits + sum(self.coupling_error(region[a], region[b]) for a, b in program.edges)

    def embeddings(self, program: ProgramGraph, part: int) -> list[_Embedding]:
        """Every placement of ``program``'s part ``part`` on the whole device (at most
        ``MAX_EMBEDDINGS``, one per set of qubits and error), least error first."""
        key = (program, part)
        if key not in self._embeddings:
            # A graph the map cannot hold (a triangle on a lattice) goes on a connected
            # region all the same, as a path: the transpiler then routes within it.
            found = self._search(program, part, self.graph) or self._search(
                program, part, self.graph, as_path=True
            )
            self._embeddings[key] = sorted(found.values(), key=lambda e: (e.error, e.qubits))
        return self._embeddings[key]

    def search_free(self, program: ProgramGraph, part: int, free: set[int]) -> list[_Embedding]:
        """The placements of a part on the ``free`` qubits only (when the whole device's
        list, being capped, holds none that is still free)."""
        nodes = sorted(self._node[q] for q in free if q in self._node)
        graph = self.graph.subgraph(nodes)
        found = self._search(program, part, graph) or self._search(
            program, part, graph, as_path=True
        )
        return list(found.values())

    def _search(
        self, program: ProgramGraph, part: int, graph: rustworkx.PyGraph, *, as_path: bool = False
    ) -> dict[tuple[frozenset[int], float], _Embedding]:
        qubits = program.parts[part]
        pattern = program.part_graph(qubits, as_path=as_path)
        found: dict[tuple[frozenset[int], float], _Embedding] = {}
        mappings = rustworkx.vf2_mapping(graph, pattern, subgraph=True, induced=False)
        for count, mapping in enumerate(mappings):
            if count >= MAX_EMBEDDINGS:
                break
            placed = {pattern[v]: graph[d] for d, v in mapping.items()}
            embedding = self._embedding(program, placed)
            found.setdefault((embedding.qubits, embedding.error), embedding)
        return found

    def _embedding(self, program: ProgramGraph, placed: dict[int, int]) -> _Embedding:
        qubits = frozenset(placed.values())
        error = sum(self.qubit_error(q) for q in qubits)
        error += sum(
            self.coupling_error(placed[a], placed[b])
            for a, b in program.edges
            if a in placed and b in placed
        )
        around = frozenset().union(*(self.neighbors[q] for q in qubits)) - qubits
        return _Embedding(placed, qubits, around, error)


@dataclass(frozen=True)
class _Embedding:
    """One part of a program on device qubits: ``placed[v]`` holds program qubit ``v``."""

    placed: dict[int, int]
    qubits: frozenset[int]
    around: frozenset[int]  # the device qubits coupled to it, outside it
    error: float


@dataclass(frozen=True)
class RegionChoice:
    """How one greedy way ranks the free regions for a program."""

    name: str
    error_first: bool


#: The two ways each job is placed (see the module's description).
CHOICES = (RegionChoice("best calibrated first", True), RegionChoice("tightest first", False))


@dataclass
class _Greedy:
    """The programs placed so far by one way: their regions and the qubits taken."""

    device: DeviceMap
    choice: RegionChoice
    spacing: int
    regions: list[tuple[int, ...]] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)  # used, and with spacing their neighbours

    def copy(self) -> _Greedy:
        return _Greedy(
            self.device, self.choice, self.spacing, list(self.regions), list(self.errors),
            set(self.used), set(self.blocked),
        )  # fmt: skip

    def place(self, program: ProgramGraph) -> bool:
        """Place ``program`` on free qubits (False, nothing changed, when it fits nowhere)."""
        placed: dict[int, int] = {}
        taken = set(self.blocked)
        for part in range(len(program.parts)):
            embedding = self._best(program, part, taken)
            if embedding is None:
                return False
            placed.update(embedding.placed)
            taken |= embedding.qubits
        region = tuple(placed[v] for v in range(program.qubits))
        self.regions.append(region)
        self.errors.append(self.device.region_error(program, region))
        self.used |= set(region)
        self.blocked |= set(region)
        if self.spacing:
            for qubit in region:
                self.blocked |= self.device.neighbors[qubit]
        return True

    def _best(self, program: ProgramGraph, part: int, taken: set[int]) -> _Embedding | None:
        free = [e for e in self.device.embeddings(program, part) if e.qubits.isdisjoint(taken)]
        if not free and len(self.device.embeddings(program, part)) >= MAX_EMBEDDINGS:
            free = self.device.search_free(program, part, set(self.device.qubits) - taken)
        if not free:
            return None

        def rank(embedding: _Embedding) -> tuple[float, float, tuple[int, ...]]:
            room = len(embedding.around - taken)
            ranked = (embedding.error, room) if self.choice.error_first else (room, embedding.error)
            return (*ranked, tuple(sorted(embedding.qubits)))

        return min(free, key=rank)


class JobPlacement:
    """The regions of one packed job's programs, placed one at a time (see the module).

    Args:
        device: The device's coupling map and errors.
        capacity: Device qubits the job may use at most.
        spacing: 1: no coupling between two programs' regions; 0: adjacent regions allowed.
    """

    def __init__(self, device: DeviceMap, capacity: int, spacing: int = 0) -> None:
        self._capacity = capacity
        self._ways = [_Greedy(device, choice, spacing) for choice in CHOICES]

    def add(self, program: ProgramGraph) -> bool:
        """Place one more program; False (nothing changed) when no way can."""
        if len(self._ways[0].used) + program.qubits > self._capacity:
            return False
        placed = []
        for way in self._ways:
            trial = way.copy()
            if trial.place(program):
                placed.append(trial)
        if not placed:
            return False
        self._ways = placed
        return True

    @property
    def best(self) -> _Greedy:
        """The way of least mean error among those that placed every program."""
        return min(self._ways, key=lambda way: (sum(way.errors), CHOICES.index(way.choice)))

    @property
    def regions(self) -> list[tuple[int, ...]]:
        """Each program's device qubits (``region[v]`` for its qubit ``v``), in order."""
        return list(self.best.regions)

    @property
    def errors(self) -> list[float]:
        """Each program's calibrated error on its region."""
        return list(self.best.errors)

    @property
    def way(self) -> str:
        """Which way placed the job (``best calibrated first`` or ``tightest first``)."""
        return self.best.choice.name


def random_region_error(device: DeviceMap, program: ProgramGraph) -> float:
    """The mean calibrated error of ``program`` on a region drawn at random among all the
    places it fits on the device (each part on its own; the baseline placement beats)."""
    total = 0.0
    for part in range(len(program.parts)):
        found = device.embeddings(program, part)
        if found:
            total += sum(e.error for e in found) / len(found)
    return total
