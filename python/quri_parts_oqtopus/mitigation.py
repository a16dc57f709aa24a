"""Error mitigation on OQTOPUS the QURI Parts way, every circuit in shared packed jobs.

:func:`create_oqtopus_mitigated_estimator` composes, as a user of QURI Parts would:

- **zero-noise extrapolation** with QURI Parts' own folding and extrapolation
  (``quri_parts.algo.mitigation.zne``: ``scaling_circuit_folding``, ``create_folding_*``,
  ``create_polynomial_extrapolate``), for a whole batch at once: every state of a call is
  folded at every scale factor, and all those circuits and all their measurement settings
  go to the device in one round of packed jobs;
- **readout mitigation**, either with QURI Parts' filter matrices
  (``quri_parts.algo.mitigation.readout_mitigation``: ``create_filter_matrix`` over its
  computational-basis calibration circuits, ``readout_mitigation``), calibrated on the very
  device qubits each circuit ran on and packed into the same round of jobs, or the
  service's own (``mitigation_info`` ``pseudo_inverse``);
- **folds that survive**: the service's default transpiler (Qiskit, optimization level 1)
  cancels a gate followed by its inverse, which undoes the folding and leaves every scale
  factor the same circuit. Folded circuits are therefore submitted with
  ``optimization_level`` 0 (basis translation only); an optimizing ``transpiler_info`` is
  refused naming the trap.

Needs ``quri-parts-algo`` (the ``mitigation`` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.estimator import ConcurrentQuantumEstimator, Estimatable, Estimate
from quri_parts.core.measurement import (
    CommutablePauliSetMeasurementFactory,
    bitwise_commuting_pauli_measurement,
)
from quri_parts.core.operator import Operator, is_hermitian
from quri_parts.core.sampling import (
    ConcurrentSampler,
    MeasurementCounts,
    PauliSamplingShotsAllocator,
)
from quri_parts.core.state import CircuitQuantumState, GeneralCircuitQuantumState

from quri_parts_oqtopus._contract import PSEUDO_INVERSE
from quri_parts_oqtopus._extras import require_mitigation
from quri_parts_oqtopus._values import is_int, is_number
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.backend.submission import check_concurrency
from quri_parts_oqtopus.batch.packing import (
    MAX_PACKED_BITS,
    PackedJob,
    PackedSampler,
    PackingPolicy,
    Slot,
    packed_sampler,
    slot_regions,
)
from quri_parts_oqtopus.estimator import OqtopusEstimate, estimator_from_sampler, pair_up

__all__ = [
    "READOUT_CALIBRATED",
    "READOUT_SERVER",
    "ZneOptions",
    "create_oqtopus_mitigated_estimator",
    "fold_keeping_transpiler_info",
]

#: ``readout=``: QURI Parts' filter matrices, calibrated per device region, client side.
READOUT_CALIBRATED = "calibrated"
#: ``readout=``: the service's ``pseudo_inverse`` readout mitigation (``mitigation_info``).
READOUT_SERVER = "server"
_FOLDINGS = ("left", "right", "random")
#: The widest circuit ``readout="calibrated"`` calibrates (2^n calibration circuits each).
MAX_CALIBRATED_QUBITS = 8


@dataclass(frozen=True)
class ZneOptions:
    """How zero-noise extrapolation folds and extrapolates (QURI Parts' methods).

    Attributes:
        scale_factors: Noise scale factors, each >= 1 (1 is the circuit itself).
        folding: Which gates a fractional scale folds: ``"left"``, ``"right"`` or
            ``"random"`` (QURI Parts' ``create_folding_left/right/random``).
        order: Order of the polynomial fitted (least squares) to the scaled values and
            evaluated at zero (``create_polynomial_extrapolate``); at most
            ``len(scale_factors) - 1``. The default, a line through three scales, had
            the least error on the emulated QPUs (a quadratic through 1, 3, 5 is exact
            for a parabola but triples the shot noise).
        seed: The seed of ``"random"`` folding.

    Raises:
        ValueError: For a scale factor below 1, too few of them for ``order``, or an
            unknown ``folding``, naming the value.

    """

    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    folding: str = "left"
    order: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        """Refuse bad options at once, before anything is sent."""
        factors = tuple(self.scale_factors)
        if not factors or any(not is_number(f) or not f >= 1 for f in factors):
            raise ValueError(f"ZneOptions scale_factors should be numbers >= 1: {factors!r}")
        if not is_int(self.order) or self.order < 0:
            raise ValueError(f"ZneOptions order should be a non-negative integer: {self.order!r}")
        if len(set(factors)) <= self.order:
            raise ValueError(
                f"ZneOptions order {self.order} needs at least {self.order + 1} distinct"
                f" scale_factors: {factors!r}"
            )
        if self.folding not in _FOLDINGS:
            raise ValueError(f"ZneOptions folding should be one of {_FOLDINGS}: {self.folding!r}")
        object.__setattr__(self, "scale_factors", tuple(float(f) for f in factors))

    def weights(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The extrapolated value as a weighted sum of the scaled values: its weights (the
        least-squares polynomial's constant term is linear in the values)."""
        design = np.vander(np.array(self.scale_factors), self.order + 1, increasing=True)
        weights: np.ndarray[Any, np.dtype[np.float64]] = np.linalg.pinv(design)[0]
        return weights


def fold_keeping_transpiler_info(transpiler_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """``transpiler_info`` that keeps folded gates: Qiskit at ``optimization_level`` 0 (or
    no transpiler at all, ``transpiler_lib`` null, kept as given).

    Raises:
        ValueError: If ``transpiler_info`` asks for an optimizing level, which would
            cancel each fold (a gate, its inverse, the gate) and undo the noise scaling.

    """
    info = dict(transpiler_info or {})
    if "transpiler_lib" in info and info["transpiler_lib"] is None:
        return info
    options = dict(info.get("transpiler_options") or {})
    level = options.get("optimization_level", 0)
    if level != 0:
        raise ValueError(
            f"transpiler_options.optimization_level {level!r} would cancel the folds of"
            " zero-noise extrapolation (each gate, its inverse, the gate again) and run every"
            " scale factor as the same circuit: use 0 (the default here), or transpile"
            " first and fold the transpiled circuit"
        )
    options["optimization_level"] = 0
    info.setdefault("transpiler_lib", "qiskit")
    info["transpiler_options"] = options
    return info


def create_oqtopus_mitigated_estimator(
    device_id: str,
    total_shots: int,
    config: OqtopusConfig | None = None,
    *,
    zne: ZneOptions | None = ZneOptions(),
    readout: str | None = READOUT_CALIBRATED,
    pack: PackingPolicy | bool = True,
    calibration_shots: int = 4000,
    measurement_factory: CommutablePauliSetMeasurementFactory = bitwise_commuting_pauli_measurement,
    shots_allocator: PauliSamplingShotsAllocator | None = None,
    concurrency: int = 4,
    timeout: float | None = None,
    wait: float = 1.0,
    **job_options: Any,
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """A ``ConcurrentQuantumEstimator`` with zero-noise extrapolation and readout
    mitigation, every circuit of a call in shared packed ``multi_manual`` jobs.

    ``estimator(operators, states)`` pairs them up (one operator or one state goes with
    every item of the other); folds each state's circuit at each of ``zne.scale_factors``;
    measures every folded circuit in each measurement setting of its operator
    (``total_shots`` shared among the settings, as the packed estimator does); runs all of
    them, and the readout calibration circuits not yet run, in one round of packed jobs;
    mitigates each circuit's counts with the filter matrix of the device qubits it ran on;
    and extrapolates each pair's values to zero noise. Each estimate's ``error`` is the
    standard error propagated through the extrapolation.

    Args:
        device_id: The device the jobs run on.
        total_shots: Shots per folded circuit, shared among its measurement settings.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        zne: How to fold and extrapolate; None: no zero-noise extrapolation.
        readout: ``"calibrated"`` (QURI Parts' filter matrices from its calibration
            circuits, once per device region, kept for later calls), ``"server"`` (the
            service's ``pseudo_inverse``) or None.
        pack: True or a :class:`~quri_parts_oqtopus.packing.PackingPolicy`.
        calibration_shots: Shots of each readout calibration circuit.
        measurement_factory: How an operator's terms are grouped into settings.
        shots_allocator: How ``total_shots`` is shared among the settings (default equal).
        concurrency: At most this many submissions at a time.
        timeout: Seconds to wait for a call's jobs; None waits for ever.
        wait: Longest gap between status polls.
        job_options: Further keyword arguments of every job (``transpiler_info``,
            ``simulator_info``, ``name``, ...).

    Raises:
        ValueError: Before anything is sent: bad shots, ``concurrency``, ``pack`` or
            ``readout``, a ``transpiler_info`` that would cancel the folds, or (for
            ``"server"``) a ``mitigation_info`` of another method; ``ImportError`` naming
            the extra when ``quri-parts-algo`` is missing. The estimator raises
            ``ValueError`` for a non-Hermitian operator, a circuit too wide to calibrate,
            or one that ran on no known device qubits (a device without a coupling map),
            and ``BackendError`` when a job fails or times out.

    """
    require_mitigation()
    check_concurrency(concurrency)
    policy = PackingPolicy.of(pack)
    if policy is None:
        raise ValueError("pack=False: the mitigated estimator packs its circuits; pass True")
    _check_positive("total_shots", total_shots)
    _check_positive("calibration_shots", calibration_shots)
    options = dict(job_options)
    if zne is not None:
        options["transpiler_info"] = fold_keeping_transpiler_info(options.get("transpiler_info"))
    options["mitigation_info"] = _mitigation_info(readout, options.get("mitigation_info"))
    backend = OqtopusSamplingBackend(config)
    sampler = packed_sampler(backend, device_id, policy, concurrency, timeout, wait, options)
    counts_source: Any = sampler
    if readout == READOUT_CALIBRATED:
        counts_source = ReadoutCalibratedSampler(sampler, calibration_shots)
    inner = estimator_from_sampler(counts_source, total_shots, measurement_factory, shots_allocator)
    return inner if zne is None else zne_estimator(inner, zne)


def _check_positive(name: str, value: int) -> None:
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} should be a positive integer: {value!r}")


def _mitigation_info(readout: str | None, given: Mapping[str, Any] | None) -> dict[str, Any]:
    if readout not in (READOUT_CALIBRATED, READOUT_SERVER, None):
        raise ValueError(
            f"readout should be {READOUT_CALIBRATED!r}, {READOUT_SERVER!r} or None: {readout!r}"
        )
    info = dict(given or {})
    if readout == READOUT_SERVER:
        method = info.setdefault("ro_error_mitigation", PSEUDO_INVERSE)
        if method != PSEUDO_INVERSE:
            raise ValueError(
                f"readout='server' is mitigation_info ro_error_mitigation {PSEUDO_INVERSE!r},"
                f" and mitigation_info asks for {method!r}"
            )
    return info


def zne_estimator(
    estimator: ConcurrentQuantumEstimator[CircuitQuantumState], options: ZneOptions
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """``estimator`` with zero-noise extrapolation of every pair of a call, all the folded
    circuits of the call estimated in one call of ``estimator`` (see the module)."""
    from quri_parts.algo.mitigation.zne import (  # noqa: PLC0415 - the optional extra
        create_polynomial_extrapolate,
        scaling_circuit_folding,
    )

    folding = _folding_method(options)
    extrapolate = create_polynomial_extrapolate(order=options.order)
    weights = options.weights()
    scales = options.scale_factors

    def estimate(
        operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
    ) -> Iterable[Estimate[complex]]:
        pairs = pair_up(operators, states)
        folded_ops: list[Estimatable] = []
        folded_states: list[CircuitQuantumState] = []
        for operator, state in pairs:
            if isinstance(operator, Operator) and not is_hermitian(operator):
                raise ValueError(f"zero-noise extrapolation needs a Hermitian operator: {operator}")
            for scale in scales:
                circuit = scaling_circuit_folding(state.circuit, scale, folding)
                folded_ops.append(operator)
                folded_states.append(GeneralCircuitQuantumState(circuit.qubit_count, circuit))
        found = list(estimator(folded_ops, folded_states))
        results: list[Estimate[complex]] = []
        for index in range(len(pairs)):
            scaled = found[index * len(scales) : (index + 1) * len(scales)]
            values = [e.value.real for e in scaled]
            spread = sum((w * e.error) ** 2 for w, e in zip(weights, scaled, strict=True))
            error = float(np.sqrt(spread))
            results.append(OqtopusEstimate(complex(extrapolate(scales, values)), error))
        return results

    return estimate


def _folding_method(options: ZneOptions) -> Any:
    from quri_parts.algo.mitigation.zne import (  # noqa: PLC0415 - the optional extra
        create_folding_left,
        create_folding_random,
        create_folding_right,
    )

    if options.folding == "right":
        return create_folding_right()
    if options.folding == "random":
        return create_folding_random(options.seed)
    return create_folding_left()


Region = tuple[int, ...]


class ReadoutCalibratedSampler:
    """A ``ConcurrentSampler`` over a :class:`~quri_parts_oqtopus.packing.PackedSampler`
    whose counts are readout-mitigated with QURI Parts' filter matrices, one per device
    region the circuits ran on.

    A call plans its circuits' packed jobs first, so that it knows each circuit's device
    qubits; the calibration circuits of every region not yet calibrated (QURI Parts'
    computational-basis states, ``2^n`` per region of ``n`` qubits) are packed, each on
    its region, into jobs of their own, and all of them run in the same round. The filter
    matrices are kept for later calls.
    """

    def __init__(self, sampler: PackedSampler, calibration_shots: int) -> None:
        self._sampler = sampler
        self._shots = calibration_shots
        self.filters: dict[Region, np.ndarray[Any, np.dtype[np.float64]]] = {}

    def __call__(
        self, pairs: Iterable[tuple[ImmutableQuantumCircuit, int]]
    ) -> Iterable[MeasurementCounts]:
        """Each pair's mitigated counts, in order (see the class)."""
        from quri_parts.algo.mitigation.readout_mitigation import (  # noqa: PLC0415
            readout_mitigation,
        )

        listed = list(pairs)
        circuits = [circuit for circuit, _ in listed]
        packs = self._sampler.plan(circuits, [shots for _, shots in listed])
        regions = self._regions(circuits, packs)
        missing = sorted({r for r in regions if r not in self.filters})
        calibration, calibration_packs = self._calibration_jobs(missing, len(circuits))
        counts = self._sampler.run([*circuits, *calibration], [*packs, *calibration_packs])
        self._learn(missing, counts[len(circuits) :])
        return [
            next(iter(readout_mitigation([c], self.filters[r])))
            for c, r in zip(counts[: len(circuits)], regions, strict=True)
        ]

    @staticmethod
    def _regions(
        circuits: Sequence[ImmutableQuantumCircuit], packs: Sequence[tuple[PackedJob, int]]
    ) -> list[Region]:
        found: dict[int, Region] = {}
        for pack, _ in packs:
            widths = [circuits[slot.index].qubit_count for slot in pack.slots]
            for slot, region in zip(pack.slots, slot_regions(pack, widths), strict=True):
                if region is None:
                    raise ValueError(
                        "readout='calibrated' calibrates the device qubits each circuit runs"
                        " on, and these circuits were not placed on known qubits (the device"
                        " has no coupling map, or transpiler_lib is null): use readout='server'"
                    )
                if len(region) > MAX_CALIBRATED_QUBITS:
                    raise ValueError(
                        f"readout='calibrated' would run 2^{len(region)} calibration circuits"
                        f" for a circuit of {len(region)} qubits (at most"
                        f" {MAX_CALIBRATED_QUBITS}): use readout='server'"
                    )
                found[slot.index] = region
        return [found[index] for index in range(len(circuits))]

    def _calibration_jobs(
        self, regions: Sequence[Region], first_index: int
    ) -> tuple[list[ImmutableQuantumCircuit], list[tuple[PackedJob, int]]]:
        """QURI Parts' calibration circuits of ``regions``, and their packed jobs: basis
        state ``b`` of every region side by side, as many regions per job as fit."""
        from quri_parts.core.state import ComputationalBasisState  # noqa: PLC0415

        circuits: list[ImmutableQuantumCircuit] = []
        packs: list[tuple[PackedJob, int]] = []
        for group in self._disjoint_groups(regions):
            for bits in range(1 << max(len(r) for r in group)):
                slots: list[Slot] = []
                layout: list[int] = []
                for region in group:
                    if bits >= 1 << len(region):
                        continue
                    state = ComputationalBasisState(len(region), bits=bits)
                    slots.append(Slot(first_index + len(circuits), 0, len(region)))
                    circuits.append(state.circuit)
                    layout.extend(region)
                packs.append((PackedJob(tuple(slots), tuple(layout)), self._shots))
        return circuits, packs

    def _disjoint_groups(self, regions: Sequence[Region]) -> list[list[Region]]:
        """``regions`` in groups that can share a job: disjoint, within the job's bounds."""
        layout = self._sampler.layout
        limit = self._sampler.policy.max_programs
        groups: list[list[Region]] = []
        for region in regions:
            for group in groups:
                used = [q for r in group for q in r]
                fits = len(used) + len(region) <= min(layout.capacity, MAX_PACKED_BITS)
                if fits and set(region).isdisjoint(used) and (limit is None or len(group) < limit):
                    group.append(region)
                    break
            else:
                groups.append([region])
        return groups

    def _learn(self, regions: Sequence[Region], counts: Sequence[MeasurementCounts]) -> None:
        """The filter matrix of each region, from its calibration counts (QURI Parts')."""
        from quri_parts.algo.mitigation.readout_mitigation import (  # noqa: PLC0415
            create_filter_matrix,
        )

        by_region: dict[Region, list[MeasurementCounts]] = {r: [] for r in regions}
        position = 0
        for group in self._disjoint_groups(regions):
            for bits in range(1 << max(len(r) for r in group)):
                for region in group:
                    if bits < 1 << len(region):
                        by_region[region].append(counts[position])
                        position += 1
        for region, found in by_region.items():
            self.filters[region] = create_filter_matrix(len(region), _replay(found), self._shots)


def _replay(counts: Sequence[MeasurementCounts]) -> ConcurrentSampler:
    """A sampler that answers QURI Parts' calibration call with counts already measured
    (its basis states, in order, ran in the packed round)."""

    def sample(pairs: Iterable[tuple[ImmutableQuantumCircuit, int]]) -> Iterable[MeasurementCounts]:
        return list(counts)

    return sample
