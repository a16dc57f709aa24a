"""QURI Parts estimators that run on OQTOPUS: ``QuantumEstimator`` and its concurrent form.

Nothing is read or connected at import time; the configuration is resolved when a
factory is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from quri_parts.backend import BackendError
from quri_parts.core.estimator import (
    ConcurrentQuantumEstimator,
    Estimatable,
    Estimate,
    QuantumEstimator,
)
from quri_parts.core.estimator.sampling import (
    distribute_shots_among_pauli_sets,
    get_estimate_from_sampling_result,
    get_sampling_circuits_and_shots,
)
from quri_parts.core.measurement import (
    CommutablePauliSetMeasurement,
    CommutablePauliSetMeasurementFactory,
    bitwise_commuting_pauli_measurement,
)
from quri_parts.core.operator import PAULI_IDENTITY, Operator, PauliLabel
from quri_parts.core.sampling import (
    ConcurrentSampler,
    MeasurementCounts,
    PauliSamplingShotsAllocator,
)
from quri_parts.core.sampling.shots_allocator import create_equipartition_shots_allocator
from quri_parts.core.state import CircuitQuantumState

from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationBackend,
    OqtopusEstimationJob,
    OqtopusSamplingBackend,
)
from quri_parts_oqtopus.backend.submission import check_concurrency, submit_all
from quri_parts_oqtopus.backend.tags import with_tags
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise
from quri_parts_oqtopus.batch.packing import PackingPolicy, packed_sampler

__all__ = [
    "OqtopusEstimate",
    "create_oqtopus_concurrent_estimator",
    "create_oqtopus_estimator",
    "create_oqtopus_packed_estimator",
    "estimator_from_sampler",
    "pair_up",
]


@dataclass(frozen=True)
class OqtopusEstimate:
    """An estimate of an expectation value: ``value`` and its standard error ``error``."""

    value: complex
    error: float


def create_oqtopus_estimator(
    device_id: str,
    shots: int,
    config: OqtopusConfig | None = None,
    *,
    timeout: float | None = None,
    wait: float = 1.0,
    tags: Sequence[str] | None = None,
    **job_options: Any,
) -> QuantumEstimator[CircuitQuantumState]:
    """A QURI Parts ``QuantumEstimator``: ``estimator(operator, state)`` runs one job.

    Args:
        device_id: The device the jobs run on.
        shots: Shots of every estimation job.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        timeout: Seconds to wait for each job; None waits for ever.
        wait: Seconds between status queries.
        tags: Tags of every job (checked here; see :mod:`~quri_parts_oqtopus.backend.tags`).
        job_options: Further keyword arguments of :meth:`OqtopusEstimationBackend.estimate`.

    Returns:
        An estimator of circuit states; each estimate has ``value`` and ``error``.

    Raises:
        ValueError: If no configuration can be found, or a tag is refused.

    """
    job_options = with_tags(job_options, tags)
    backend = OqtopusEstimationBackend(config)

    def estimate(operator: Estimatable, state: CircuitQuantumState) -> Estimate[complex]:
        job = backend.estimate(
            state.circuit, _as_operator(operator), device_id, shots, **job_options
        )
        return _estimate_of(job, timeout, wait)

    return estimate


def create_oqtopus_concurrent_estimator(
    device_id: str,
    shots: int,
    config: OqtopusConfig | None = None,
    *,
    concurrency: int = 4,
    timeout: float | None = None,
    wait: float = 1.0,
    tags: Sequence[str] | None = None,
    **job_options: Any,
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """A QURI Parts ``ConcurrentQuantumEstimator`` over OQTOPUS.

    ``estimator(operators, states)`` pairs them up (one operator or one state is used
    with every item of the other), submits one job per pair, ``concurrency`` at a time,
    waits for all with one polling loop and returns the estimates in order. ``tags`` are
    the tags of every job.

    Raises:
        ValueError: If no configuration can be found, ``concurrency`` is below 1 or a tag
            is refused. The
            estimator raises ``ValueError`` for sequences of different lengths and
            ``BackendError`` when a job fails or times out.

    """
    check_concurrency(concurrency)  # refused when the factory is made, not at first use
    job_options = with_tags(job_options, tags)
    backend = OqtopusEstimationBackend(config)

    def estimate(
        operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
    ) -> Iterable[Estimate[complex]]:
        jobs = submit_all(
            [
                partial(
                    backend.estimate, s.circuit, _as_operator(o), device_id, shots, **job_options
                )
                for o, s in pair_up(operators, states)
            ],
            concurrency,
        )
        wait_for_all_or_raise(jobs, timeout, wait)
        return [_estimate_of(job, 0, wait) for job in jobs]

    return estimate


def create_oqtopus_packed_estimator(
    device_id: str,
    total_shots: int,
    config: OqtopusConfig | None = None,
    *,
    pack: PackingPolicy | bool = True,
    measurement_factory: CommutablePauliSetMeasurementFactory = bitwise_commuting_pauli_measurement,
    shots_allocator: PauliSamplingShotsAllocator | None = None,
    concurrency: int = 4,
    timeout: float | None = None,
    wait: float = 1.0,
    tags: Sequence[str] | None = None,
    **job_options: Any,
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """A ``ConcurrentQuantumEstimator`` that estimates from sampling, in packed jobs.

    ``estimator(operators, states)`` pairs them up as
    :func:`create_oqtopus_concurrent_estimator` does, groups each operator's Pauli terms
    into measurement settings (``measurement_factory``; by default bitwise commuting
    groups) and shares ``total_shots`` among them (``shots_allocator``; by default
    equally), as QURI Parts' sampling estimator does. The measurement circuits of all
    pairs then run as packed ``multi_manual`` jobs (settings of equal shots side by side,
    as :class:`~quri_parts_oqtopus.packing.PackingPolicy` allows), and each pair's
    estimate is computed from its own settings' counts. ``tags`` are the tags of every job.

    Raises:
        ValueError: If no configuration can be found, ``concurrency`` is below 1 or
            ``pack`` is False or neither a bool nor a ``PackingPolicy``, or
            ``total_shots`` is not a positive integer. The estimator raises
            ``ValueError`` for sequences of different lengths and ``BackendError`` when
            a job fails (naming the positions of the settings it held) or times out.

    """
    check_concurrency(concurrency)
    policy = PackingPolicy.of(pack)
    if policy is None:
        raise ValueError("pack=False: use create_oqtopus_concurrent_estimator for unpacked jobs")
    _check_total_shots(total_shots)  # before the configuration is looked for
    job_options = with_tags(job_options, tags)
    backend = OqtopusSamplingBackend(config)
    sampler = packed_sampler(backend, device_id, policy, concurrency, timeout, wait, job_options)
    return estimator_from_sampler(sampler, total_shots, measurement_factory, shots_allocator)


def estimator_from_sampler(
    sampler: ConcurrentSampler,
    total_shots: int,
    measurement_factory: CommutablePauliSetMeasurementFactory = bitwise_commuting_pauli_measurement,
    shots_allocator: PauliSamplingShotsAllocator | None = None,
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """A ``ConcurrentQuantumEstimator`` that estimates from ``sampler``'s counts, every
    measurement circuit of a call in one call of the sampler (so a packing sampler shares
    its jobs among all the pairs and settings).

    ``estimator(operators, states)`` pairs them up, groups each operator's Pauli terms into
    measurement settings (``measurement_factory``) and shares ``total_shots`` among them
    (``shots_allocator``; by default equally), as QURI Parts' sampling estimator does.

    Raises:
        ValueError: If ``total_shots`` is not a positive integer. The estimator raises
            ``ValueError`` for sequences of different lengths, or a ``total_shots`` that
            leaves a setting without shots.

    """
    _check_total_shots(total_shots)
    allocator = shots_allocator or create_equipartition_shots_allocator()

    def estimate(
        operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
    ) -> Iterable[Estimate[complex]]:
        settings: list[tuple[Operator, list[CommutablePauliSetMeasurement], int, int]] = []
        requests: list[tuple[Any, int]] = []
        for estimatable, state in pair_up(operators, states):
            operator = _as_operator(estimatable)
            groups = [m for m in measurement_factory(operator) if m.pauli_set != {PAULI_IDENTITY}]
            start = len(requests)
            if groups:
                shots = distribute_shots_among_pauli_sets(operator, groups, allocator, total_shots)
                circuits = list(get_sampling_circuits_and_shots(state, groups, shots))
                if len(circuits) != len(groups):  # a setting given no shots is left out
                    raise ValueError(
                        f"total_shots {total_shots} leaves a measurement setting of"
                        f" {len(groups)} without shots"
                    )
                requests += circuits
            settings.append((operator, groups, start, len(requests)))
        counts: list[MeasurementCounts] = list(sampler(requests)) if requests else []
        return [
            get_estimate_from_sampling_result(operator, groups, operator.constant, counts[a:b])
            if groups
            else OqtopusEstimate(complex(operator.constant), 0.0)
            for operator, groups, a, b in settings
        ]

    return estimate


def _check_total_shots(total_shots: int) -> None:
    if not is_int(total_shots) or total_shots < 1:
        raise ValueError(f"total_shots should be a positive integer: {total_shots!r}")


def _as_operator(operator: Estimatable) -> Operator:
    return Operator({operator: 1.0}) if isinstance(operator, PauliLabel) else operator


def pair_up(
    operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
) -> list[tuple[Estimatable, CircuitQuantumState]]:
    """The (operator, state) pairs of a concurrent estimator's call: one operator or one
    state goes with every item of the other.

    Raises:
        ValueError: If both have several items, in different numbers.

    """
    if len(operators) == 1:
        return [(operators[0], state) for state in states]
    if len(states) == 1:
        return [(operator, states[0]) for operator in operators]
    if len(operators) != len(states):
        raise ValueError(
            f"operators and states differ in number: {len(operators)} and {len(states)}"
        )
    return list(zip(operators, states, strict=True))


def _estimate_of(job: OqtopusEstimationJob, timeout: float | None, wait: float) -> OqtopusEstimate:
    result = job.result(timeout=timeout, wait=wait)
    if result.exp_value is None:
        raise BackendError(f"Job {job.job_id} has no exp_value")
    return OqtopusEstimate(complex(result.exp_value), float(result.stds or 0.0))
