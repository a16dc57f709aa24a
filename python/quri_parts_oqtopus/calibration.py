"""A device's calibration data (OQTOPUS ``device_info``) as typed, validated objects.

OQTOPUS QPUs publish their calibration in ``device_info``: one entry per qubit (gate
fidelity, readout errors, T1/T2, gate durations) and one per coupling (two-qubit gate
fidelity and duration). :class:`DeviceCalibration` reads that document, refusing a
malformed one with a ``ValueError`` that names the field, and answers the questions a
user asks of it: which qubits are best, which connected qubits to lay a circuit on.

Both the client (``DeviceCalibration.from_device(device)``) and the local server (which
builds its noise model and readout mitigation from it) read calibrations here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from quri_parts_oqtopus._contract import (
    COUPLING_CONTROL,
    COUPLING_TARGET,
    DEVICE_INFO_COUPLINGS,
    DEVICE_INFO_QUBITS,
    QUBIT_ID,
)
from quri_parts_oqtopus._values import is_int, is_number

__all__ = [
    "CouplingCalibration",
    "DeviceCalibration",
    "QubitCalibration",
    "ReadoutError",
    "coupling_map",
]


def _number(value: object, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if not is_number(value):
        raise ValueError(f"device_info: {where} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):  # JSON texts may hold NaN and Infinity
        raise ValueError(f"device_info: {where} must be a finite number, got {value!r}")
    if not number >= low or (high is not None and number > high):  # `not >=` also refuses NaN
        bounds = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"device_info: {where} must be in {bounds}, got {value!r}")
    return number


def _index(value: object, where: str) -> int:
    if not is_int(value) or value < 0:
        raise ValueError(f"device_info: {where} must be a non-negative integer, got {value!r}")
    return value


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"device_info: {where} must be an object, got {value!r}")
    return value


def _durations(value: object, where: str) -> dict[str, float]:
    if value is None:
        return {}
    entries = _mapping(value, where)
    return {str(name): _number(ns, f"{where}.{name}") for name, ns in entries.items()}


@dataclass(frozen=True)
class ReadoutError:
    """Readout (assignment) errors of one qubit.

    Attributes:
        prob_meas1_prep0: P(read 1 | prepared 0).
        prob_meas0_prep1: P(read 0 | prepared 1).
    """

    prob_meas1_prep0: float
    prob_meas0_prep1: float

    @property
    def assignment_error(self) -> float:
        """The mean of the two flip probabilities (``readout_assignment_error``)."""
        return (self.prob_meas1_prep0 + self.prob_meas0_prep1) / 2


@dataclass(frozen=True)
class QubitCalibration:
    """One qubit of ``device_info.qubits``.

    Attributes:
        id: The qubit's index in programs (``q[id]`` / ``$id``).
        physical_id: The chip's own label of the qubit (``id`` when absent).
        fidelity: Average single-qubit gate fidelity (None: not calibrated, taken as 1).
        readout: Readout errors (None: not calibrated, taken as perfect).
        t1: Energy relaxation time in microseconds (None: not calibrated, no relaxation).
        t2: Dephasing (echo) time in microseconds (None: not calibrated).
        gate_duration: Gate name -> duration in nanoseconds (``x``, ``sx``, ``rz``).
        position: ``(x, y)`` for drawing the chip, when given.
    """

    id: int
    physical_id: int
    fidelity: float | None = None
    readout: ReadoutError | None = None
    t1: float | None = None
    t2: float | None = None
    gate_duration: dict[str, float] = field(default_factory=dict)
    position: tuple[float, float] | None = None

    @property
    def gate_error(self) -> float:
        """``1 - fidelity`` (0 when the fidelity is not calibrated)."""
        return 0.0 if self.fidelity is None else 1.0 - self.fidelity

    @property
    def readout_error(self) -> float:
        """The readout assignment error (0 when not calibrated)."""
        return 0.0 if self.readout is None else self.readout.assignment_error

    @classmethod
    def from_dict(cls, entry: object, where: str) -> QubitCalibration:
        """One ``qubits[i]`` object; ``ValueError`` naming ``where`` and the bad field."""
        item = _mapping(entry, where)
        qubit_id = _index(item.get("id"), f"{where}.id")
        physical = item.get("physical_id", qubit_id)
        fidelity = item.get("fidelity")
        meas = item.get("meas_error")
        readout = None
        if meas is not None:
            meas = _mapping(meas, f"{where}.meas_error")
            p10, p01 = (
                _number(meas.get(key), f"{where}.meas_error.{key}", high=1)
                for key in ("prob_meas1_prep0", "prob_meas0_prep1")
            )
            readout = ReadoutError(p10, p01)
        lifetime = _mapping(item.get("qubit_lifetime") or {}, f"{where}.qubit_lifetime")
        t1, t2 = lifetime.get("t1"), lifetime.get("t2")
        position = item.get("position")
        at = None
        if position is not None:
            position = _mapping(position, f"{where}.position")
            at = (
                _number(position.get("x"), f"{where}.position.x", low=-1e300),
                _number(position.get("y"), f"{where}.position.y", low=-1e300),
            )
        return cls(
            id=qubit_id,
            physical_id=_index(physical, f"{where}.physical_id"),
            fidelity=None if fidelity is None else _number(fidelity, f"{where}.fidelity", high=1),
            readout=readout,
            # A lifetime of 0 means "not measured" in published calibrations.
            t1=None if not t1 else _number(t1, f"{where}.qubit_lifetime.t1"),
            t2=None if not t2 else _number(t2, f"{where}.qubit_lifetime.t2"),
            gate_duration=_durations(item.get("gate_duration"), f"{where}.gate_duration"),
            position=at,
        )


@dataclass(frozen=True)
class CouplingCalibration:
    """One entry of ``device_info.couplings``: a two-qubit gate the device runs natively.

    Attributes:
        control: The control qubit's id.
        target: The target qubit's id.
        fidelity: Average two-qubit gate fidelity (None: not calibrated, taken as 1).
        gate_duration: Gate name -> duration in nanoseconds (``cx``, ``rzx90``).
    """

    control: int
    target: int
    fidelity: float | None = None
    gate_duration: dict[str, float] = field(default_factory=dict)

    @property
    def gate_error(self) -> float:
        """``1 - fidelity`` (0 when the fidelity is not calibrated)."""
        return 0.0 if self.fidelity is None else 1.0 - self.fidelity

    @property
    def duration(self) -> float:
        """The two-qubit gate's duration in nanoseconds (``cx``, else ``rzx90``; 0 unknown)."""
        for name in ("cx", "rzx90"):
            if name in self.gate_duration:
                return self.gate_duration[name]
        return 0.0

    @classmethod
    def from_dict(cls, entry: object, where: str) -> CouplingCalibration:
        """One ``couplings[i]`` object; ``ValueError`` naming ``where`` and the bad field."""
        item = _mapping(entry, where)
        control = _index(item.get("control"), f"{where}.control")
        target = _index(item.get("target"), f"{where}.target")
        if control == target:
            raise ValueError(f"device_info: {where} couples qubit {control} with itself")
        fidelity = item.get("fidelity")
        return cls(
            control=control,
            target=target,
            fidelity=None if fidelity is None else _number(fidelity, f"{where}.fidelity", high=1),
            gate_duration=_durations(item.get("gate_duration"), f"{where}.gate_duration"),
        )


@dataclass(frozen=True)
class DeviceCalibration:
    """A device's calibration: its qubits and couplings, as OQTOPUS publishes them.

    Attributes:
        qubits: One entry per qubit, indexed by ``id`` (0 .. n_qubits-1).
        couplings: The directed couplings (control -> target) the device runs natively.
        device_id: The ``device_id`` (or ``name``) inside ``device_info``, if any.
        calibrated_at: The calibration's timestamp inside ``device_info``, if any.
    """

    qubits: tuple[QubitCalibration, ...]
    couplings: tuple[CouplingCalibration, ...]
    device_id: str | None = None
    calibrated_at: str | None = None

    @classmethod
    def from_device_info(cls, info: Mapping[str, Any] | str) -> DeviceCalibration:
        """Read a ``device_info`` document (a dict or its JSON text).

        Raises:
            ValueError: If it has no ``qubits`` list, an entry is malformed, the qubit ids
                are not 0..n-1 each once, or a coupling names a qubit that does not exist.

        """
        if isinstance(info, str):
            try:
                info = json.loads(info)
            except json.JSONDecodeError as e:
                raise ValueError(f"device_info is not JSON: {e}") from e
        document = _mapping(info, "the document")
        entries = document.get("qubits")
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"device_info: qubits must be a non-empty list, got {entries!r:.80}")
        qubits = sorted(
            (QubitCalibration.from_dict(e, f"qubits[{i}]") for i, e in enumerate(entries)),
            key=lambda q: q.id,
        )
        ids = [q.id for q in qubits]
        if ids != list(range(len(qubits))):
            raise ValueError(
                f"device_info: qubit ids must be 0..{len(qubits) - 1} once each, got {ids}"
            )
        links = document.get("couplings") or []
        if not isinstance(links, list):
            raise ValueError(f"device_info: couplings must be a list, got {links!r:.80}")
        couplings = tuple(
            CouplingCalibration.from_dict(e, f"couplings[{i}]") for i, e in enumerate(links)
        )
        for index, coupling in enumerate(couplings):
            if max(coupling.control, coupling.target) >= len(qubits):
                raise ValueError(
                    f"device_info: couplings[{index}] names qubit"
                    f" {max(coupling.control, coupling.target)}; the device has {len(qubits)}"
                )
        name = document.get("device_id", document.get("name"))
        stamp = document.get("calibrated_at", document.get("timestamp"))
        return cls(
            qubits=tuple(qubits),
            couplings=couplings,
            device_id=name if isinstance(name, str) else None,
            calibrated_at=stamp if isinstance(stamp, str) else None,
        )

    @classmethod
    def from_device(cls, device: object) -> DeviceCalibration:
        """The calibration of an ``OqtopusDevice`` (or a device object as a dict).

        Raises:
            ValueError: If the device has no calibration in its ``device_info`` (a
                simulator's holds none) or it is malformed; for an ``OqtopusDevice`` whose
                ``device_info`` cannot be downloaded, also a ``BackendError`` naming the
                device and the cause (its ``device_info`` property would say ``{}``).

        """
        read_device_info = getattr(device, "read_device_info", None)
        if isinstance(device, Mapping):
            info = device.get("device_info")
        elif callable(read_device_info):  # an OqtopusDevice: a failed download is no "{}"
            info = read_device_info()
        else:
            info = getattr(device, "device_info", None)
        if isinstance(info, str):
            try:
                info = json.loads(info)
            except json.JSONDecodeError as e:
                raise ValueError(f"device_info is not JSON: {e}") from e
        if not isinstance(info, Mapping) or "qubits" not in info:
            raise ValueError(
                "the device has no calibration data in its device_info (no 'qubits'):"
                f" {info!r:.200}"
            )
        return cls.from_device_info(info)

    # -- questions about the device ----------------------------------------------------------

    @property
    def n_qubits(self) -> int:
        """How many qubits the device has."""
        return len(self.qubits)

    @cached_property
    def _by_pair(self) -> dict[tuple[int, int], CouplingCalibration]:
        # Built once: the noise model asks for a coupling at every two-qubit gate, and a
        # layout search at every step; a scan of the list each time grew as qubits x couplings.
        pairs: dict[tuple[int, int], CouplingCalibration] = {}
        for coupling in self.couplings:
            pairs.setdefault((coupling.control, coupling.target), coupling)  # the first listed
        return pairs

    @cached_property
    def _adjacency(self) -> tuple[tuple[int, ...], ...]:
        linked: list[set[int]] = [set() for _ in self.qubits]
        for control, target in self._by_pair:
            linked[control].add(target)
            linked[target].add(control)
        return tuple(tuple(sorted(found)) for found in linked)

    def coupling(self, a: int, b: int) -> CouplingCalibration | None:
        """The coupling between ``a`` and ``b`` in either direction (``a -> b`` first; of
        repeated entries, the first listed)."""
        return self._by_pair.get((a, b)) or self._by_pair.get((b, a))

    def neighbors(self, qubit: int) -> list[int]:
        """The qubits coupled to ``qubit`` (either direction), ascending."""
        return list(self._adjacency[qubit])

    def qubit_score(self, qubit: int) -> float:
        """How much error one use of ``qubit`` adds: gate error plus readout error."""
        calibration = self.qubits[qubit]
        return calibration.gate_error + calibration.readout_error

    def best_qubits(self, count: int | None = None) -> list[int]:
        """Qubit ids from the best (lowest gate plus readout error) to the worst.

        Raises:
            ValueError: If ``count`` is not in 1..n_qubits.

        """
        ranked = sorted(range(self.n_qubits), key=lambda q: (self.qubit_score(q), q))
        if count is None:
            return ranked
        self._check_width(count, "count")
        return ranked[:count]

    def connected_layout(self, width: int) -> list[int]:
        """``width`` coupled qubits with the least error, for virtual qubits 0..width-1.

        The qubits form a path where the device allows one (each qubit coupled to the one
        before it, as a chain of CNOTs needs), else a connected set in which each qubit is
        coupled to an earlier one. Chosen greedily from every starting qubit, by the sum of
        the qubits' and the couplings' errors. Pass it as ``initial_layout``.

        Raises:
            ValueError: If ``width`` is not in 1..n_qubits or no connected set that wide exists.

        """
        self._check_width(width, "width")
        best: tuple[float, list[int]] | None = None
        for start in range(self.n_qubits):
            layout = self._grow_from(start, width)
            if layout is None:
                continue
            cost = self._layout_cost(layout)
            if best is None or cost < best[0]:
                best = (cost, layout)
        if best is None:
            raise ValueError(f"the device has no {width} connected qubits")
        return best[1]

    def _grow_from(self, start: int, width: int) -> list[int] | None:
        layout = [start]
        chosen = {start}
        while len(layout) < width:
            # Extend the path from its last qubit; where it is stuck, from any chosen qubit.
            step = self._best_step(layout[-1:], chosen) or self._best_step(layout, chosen)
            if step is None:
                return None
            layout.append(step)
            chosen.add(step)
        return layout

    def _best_step(self, sources: Iterable[int], chosen: set[int]) -> int | None:
        options = []
        for source in sources:
            for neighbor in self._adjacency[source]:
                if neighbor not in chosen:
                    edge = self.coupling(source, neighbor)
                    edge_error = edge.gate_error if edge is not None else 0.0
                    options.append((self.qubit_score(neighbor) + edge_error, neighbor))
        return min(options)[1] if options else None

    def _layout_cost(self, layout: list[int]) -> float:
        cost = sum(self.qubit_score(q) for q in layout)
        for index in range(1, len(layout)):
            edge = self.coupling(layout[index - 1], layout[index])
            cost += edge.gate_error if edge is not None else 1.0  # not a path: worse
        return cost

    def _check_width(self, count: int, name: str) -> None:
        if not is_int(count) or not 1 <= count <= self.n_qubits:
            raise ValueError(f"{name} must be in 1..{self.n_qubits}, got {count!r}")


def coupling_map(info: Mapping[str, Any]) -> dict[int, set[int]] | None:
    """A device's qubits and the qubits coupled to each (either direction), from the
    ``qubits`` and ``couplings`` of its ``device_info``; None when it has no such lists.

    Lenient where :meth:`DeviceCalibration.from_device_info` is strict: only the ids are
    read (no calibration needed, any ids), and a coupling of a qubit not listed is left out.

    Raises:
        ValueError: If a qubit's ``id`` or a coupling's ``control`` or ``target`` is not a
            non-negative integer, naming the field.

    """
    qubits, couplings = info.get(DEVICE_INFO_QUBITS), info.get(DEVICE_INFO_COUPLINGS)
    if not isinstance(qubits, list) or not isinstance(couplings, list):
        return None
    links: dict[int, set[int]] = {
        _qubit_id(q, QUBIT_ID, f"qubits[{i}]"): set() for i, q in enumerate(qubits)
    }
    for index, coupling in enumerate(couplings):
        where = f"couplings[{index}]"
        control = _qubit_id(coupling, COUPLING_CONTROL, where)
        target = _qubit_id(coupling, COUPLING_TARGET, where)
        if control in links and target in links:
            links[control].add(target)
            links[target].add(control)
    return links


def _qubit_id(entry: object, key: str, where: str) -> int:
    """``entry[key]``, a qubit id; ``ValueError`` naming the field when it is none."""
    value = entry.get(key) if isinstance(entry, Mapping) else None
    if not is_int(value) or value < 0:
        raise ValueError(
            f"device_info.{where}.{key} should be a non-negative integer (a qubit id) for"
            f" the coupling map: {entry!r:.80}"
        )
    return value
