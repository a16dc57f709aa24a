"""A job on an emulated QPU simulated per connected component of its interaction graph.

The qubits a transpiled program uses, linked by its multi-qubit gates, fall into connected
components. The noise model has no crosstalk (idle qubits do not decay while others are
driven, no gate touches two components), so the components evolve independently: each is
simulated on a density matrix of its own width, read out with its own qubits' readout
errors, and sampled ``shots`` times; shot ``k`` of the job is shot ``k`` of every
component put side by side, as ``blocks.py`` does for the noiseless simulator. A packed
job of sixteen four-qubit programs on a 64-qubit device costs sixteen matrices of 4^4
entries, not one of 4^64. ``MAX_DENSITY_QUBITS`` bounds each component.

With readout mitigation, each component's counts are mitigated on their own (as if that
component had run alone); since ``int(p * shots)`` leaves each a little short of
``shots``, the job keeps as many shots as the shortest has, a random subset of the others.

Runs in the worker processes only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import rustworkx
from numpy.typing import NDArray

from quri_parts_oqtopus.calibration import DeviceCalibration

from .blocks import shuffled_shots
from .device_program import NativeGate
from .noise import MAX_DENSITY_QUBITS, NoisyDevice

__all__ = [
    "Component",
    "check_component_widths",
    "component_work",
    "components_of",
    "connected_groups",
    "sample_components",
]

#: Counts keyed by bit string (clbit 0 last) -> the same counts with readout errors undone;
#: given the ``(clbit, physical qubit)`` pairs the counts were read from.
Mitigate = Callable[[dict[str, int], Sequence[tuple[int, int]]], dict[str, int]]


@dataclass(frozen=True)
class Component:
    """Qubits that gates link, with their gates (in program order) and measurements.

    Attributes:
        qubits: Physical qubits, ascending.
        gates: The program's gates on these qubits, in order.
        measurements: ``(physical qubit, clbit)`` pairs of these qubits.
    """

    qubits: tuple[int, ...]
    gates: tuple[NativeGate, ...]
    measurements: tuple[tuple[int, int], ...]


def connected_groups(qubits: Iterable[int], links: Iterable[Sequence[int]]) -> list[list[int]]:
    """The qubits grouped by connected component of the graph the ``links`` (each the
    qubits of one gate) make; each group ascending, groups by their lowest qubit."""
    graph = rustworkx.PyGraph()
    node: dict[int, int] = {}
    for qubit in qubits:
        if qubit not in node:
            node[qubit] = graph.add_node(qubit)
    for link in links:
        for a, b in pairwise(link):
            for qubit in (a, b):
                if qubit not in node:
                    node[qubit] = graph.add_node(qubit)
            graph.add_edge(node[a], node[b], None)
    groups = [sorted(graph[i] for i in found) for found in rustworkx.connected_components(graph)]
    return sorted(groups)


def components_of(
    gates: Sequence[NativeGate], measurements: Sequence[tuple[int, int]]
) -> list[Component]:
    """The connected components of a transpiled program's gates and measured qubits."""
    groups = connected_groups(
        [q for g in gates for q in g.qubits] + [q for q, _ in measurements],
        [g.qubits for g in gates if len(g.qubits) > 1],
    )
    owner = {qubit: index for index, group in enumerate(groups) for qubit in group}
    gates_of: list[list[NativeGate]] = [[] for _ in groups]
    for gate in gates:
        gates_of[owner[gate.qubits[0]]].append(gate)
    measured: list[list[tuple[int, int]]] = [[] for _ in groups]
    for qubit, clbit in measurements:
        measured[owner[qubit]].append((qubit, clbit))
    return [
        Component(tuple(group), tuple(gates_of[i]), tuple(measured[i]))
        for i, group in enumerate(groups)
    ]


def check_component_widths(groups: Sequence[Sequence[int]], what: str) -> None:
    """Refuse a group of linked qubits wider than a density matrix may be, naming it.

    Raises:
        ValueError: Naming the widest group's qubits (``what`` says whose) and the limit.

    """
    widest = max(groups, key=len, default=[])
    if len(widest) > MAX_DENSITY_QUBITS:
        shown = ", ".join(str(q) for q in widest[:16]) + (", ..." if len(widest) > 16 else "")
        raise ValueError(
            f"{what} {shown} are linked by gates into one connected component that uses"
            f" {len(widest)} qubits of the device; the noisy emulation simulates at most"
            f" {MAX_DENSITY_QUBITS} per component (a density matrix grows as 4^n)"
        )


def component_work(groups: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    """``(work, gates, widest)`` of ``(gates, qubits)`` per component: the density-matrix
    entry updates Σ gates x 4^qubits, the gates in all, and the widest component."""
    work = gates = widest = 0
    for count, width in groups:
        work += count * 4**width
        gates += count
        widest = max(widest, width)
    return work, gates, widest


@dataclass(frozen=True)
class _Read:
    """A component's distinct outcomes as read (its clbits at their places in the job's
    bits), how often each was read, and which of its qubits each clbit reads."""

    values: NDArray[np.uint64]
    counts: NDArray[np.int64]
    by_clbit: dict[int, int]


def _read_component(
    component: Component, calibration: DeviceCalibration, shots: int, rng: np.random.Generator
) -> _Read:
    by_clbit = {clbit: qubit for qubit, clbit in component.measurements}
    read = sorted(set(by_clbit.values()))
    device = NoisyDevice(calibration, component.qubits)
    device.run(component.gates)
    outcomes = rng.multinomial(shots, device.read_distribution(read))
    indices = np.flatnonzero(outcomes)
    values: NDArray[np.uint64] = np.zeros(len(indices), dtype=np.uint64)
    for clbit, qubit in by_clbit.items():
        bit = (indices >> read.index(qubit)) & 1
        values |= bit.astype(np.uint64) << np.uint64(clbit)
    return _Read(values, outcomes[indices].astype(np.int64), by_clbit)


def _mitigated(read: _Read, mitigate: Mitigate) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    width = max(read.by_clbit) + 1
    pairs = zip(read.values, read.counts, strict=True)
    mitigated = mitigate(
        {format(int(v), f"0{width}b"): int(n) for v, n in pairs}, sorted(read.by_clbit.items())
    )
    values = np.array([int(key, 2) for key in mitigated], dtype=np.uint64)
    return values, np.array(list(mitigated.values()), dtype=np.int64)


def sample_components(
    components: Sequence[Component],
    calibration: DeviceCalibration,
    bit_count: int,
    shots: int,
    rng: np.random.Generator,
    mitigate: Mitigate | None = None,
) -> tuple[dict[str, int], dict[str, int] | None]:
    """Counts keyed by bit string (clbit 0 last) of the components side by side: as read,
    and mitigated when ``mitigate`` is given (else None).

    Every component is read and its shots shuffled before any is mitigated, so that the
    counts as read are those of the same job without mitigation (same seed, same draws).
    Components that measure nothing cannot change the counts and are not simulated.
    """
    reads = [
        _read_component(component, calibration, shots, rng)
        for component in components
        if component.measurements
    ]
    if not reads:
        nothing = {"0" * bit_count: shots}
        return nothing, None if mitigate is None else dict(nothing)
    raw = _side_by_side([shuffled_shots(r.values, r.counts, rng) for r in reads], bit_count)
    if mitigate is None:
        return raw, None
    mitigated = [shuffled_shots(*_mitigated(r, mitigate), rng) for r in reads]
    return raw, _side_by_side(mitigated, bit_count)


def _side_by_side(columns: Sequence[NDArray[np.uint64]], bit_count: int) -> dict[str, int]:
    """Shot ``k`` of every column joined; as many shots as the shortest column has."""
    kept = min(len(column) for column in columns)
    combined = np.bitwise_or.reduce(np.stack([column[:kept] for column in columns]), axis=0)
    keys, counts = np.unique(combined, return_counts=True)
    return {format(int(k), f"0{bit_count}b"): int(n) for k, n in zip(keys, counts, strict=True)}
