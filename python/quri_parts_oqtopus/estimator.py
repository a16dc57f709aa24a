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
from quri_parts.core.operator import Operator, PauliLabel
from quri_parts.core.state import CircuitQuantumState

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationBackend,
    OqtopusEstimationJob,
)
from quri_parts_oqtopus.backend.submission import check_concurrency, submit_all
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise

__all__ = ["OqtopusEstimate", "create_oqtopus_concurrent_estimator", "create_oqtopus_estimator"]


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
    **job_options: Any,
) -> QuantumEstimator[CircuitQuantumState]:
    """A QURI Parts ``QuantumEstimator``: ``estimator(operator, state)`` runs one job.

    Args:
        device_id: The device the jobs run on.
        shots: Shots of every estimation job.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        timeout: Seconds to wait for each job; None waits for ever.
        wait: Seconds between status queries.
        job_options: Further keyword arguments of :meth:`OqtopusEstimationBackend.estimate`.

    Returns:
        An estimator of circuit states; each estimate has ``value`` and ``error``.

    Raises:
        ValueError: If no configuration can be found.

    """
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
    **job_options: Any,
) -> ConcurrentQuantumEstimator[CircuitQuantumState]:
    """A QURI Parts ``ConcurrentQuantumEstimator`` over OQTOPUS.

    ``estimator(operators, states)`` pairs them up (one operator or one state is used
    with every item of the other), submits one job per pair, ``concurrency`` at a time,
    waits for all with one polling loop and returns the estimates in order.

    Raises:
        ValueError: If no configuration can be found or ``concurrency`` is below 1. The
            estimator raises ``ValueError`` for sequences of different lengths and
            ``BackendError`` when a job fails or times out.

    """
    check_concurrency(concurrency)  # refused when the factory is made, not at first use
    backend = OqtopusEstimationBackend(config)

    def estimate(
        operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
    ) -> Iterable[Estimate[complex]]:
        jobs = submit_all(
            [
                partial(
                    backend.estimate, s.circuit, _as_operator(o), device_id, shots, **job_options
                )
                for o, s in _pairs(operators, states)
            ],
            concurrency,
        )
        wait_for_all_or_raise(jobs, timeout, wait)
        return [_estimate_of(job, 0, wait) for job in jobs]

    return estimate


def _as_operator(operator: Estimatable) -> Operator:
    return Operator({operator: 1.0}) if isinstance(operator, PauliLabel) else operator


def _pairs(
    operators: Sequence[Estimatable], states: Sequence[CircuitQuantumState]
) -> list[tuple[Estimatable, CircuitQuantumState]]:
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
