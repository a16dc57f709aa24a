"""QURI Parts samplers that run on OQTOPUS: ``Sampler``, ``ConcurrentSampler``, and the
device-bound ``SamplingBackend`` that QURI Parts' own helpers are built on.

Nothing is read or connected at import time; the configuration is resolved when a
factory is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.sampling import ConcurrentSampler, MeasurementCounts, Sampler

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
)
from quri_parts_oqtopus.backend.submission import check_concurrency, submit_all
from quri_parts_oqtopus.backend.tags import with_tags
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise
from quri_parts_oqtopus.batch.packing import PackingPolicy, packed_sampler

__all__ = [
    "OqtopusDeviceSamplingBackend",
    "OqtopusDeviceSamplingJob",
    "create_oqtopus_concurrent_sampler",
    "create_oqtopus_sampler",
]


def create_oqtopus_sampler(
    device_id: str,
    config: OqtopusConfig | None = None,
    *,
    timeout: float | None = None,
    wait: float = 1.0,
    tags: Sequence[str] | None = None,
    **job_options: Any,
) -> Sampler:
    """A QURI Parts ``Sampler``: ``sampler(circuit, shots)`` runs one sampling job.

    Args:
        device_id: The device the jobs run on.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        timeout: Seconds to wait for each job; None waits for ever.
        wait: Seconds between status queries.
        tags: Tags of every job (checked here; see :mod:`~quri_parts_oqtopus.backend.tags`).
        job_options: Further keyword arguments of :meth:`OqtopusSamplingBackend.sample`.

    Returns:
        A sampler returning counts with int keys.

    Raises:
        ValueError: If no configuration can be found, or a tag is refused.

    """
    job_options = with_tags(job_options, tags)
    backend = OqtopusSamplingBackend(config)

    def sample(circuit: ImmutableQuantumCircuit, shots: int) -> MeasurementCounts:
        job = backend.sample(circuit, device_id, shots, **job_options)
        return job.result(timeout=timeout, wait=wait).counts

    return sample


def create_oqtopus_concurrent_sampler(
    device_id: str,
    config: OqtopusConfig | None = None,
    *,
    concurrency: int = 4,
    timeout: float | None = None,
    wait: float = 1.0,
    pack: bool | PackingPolicy = False,
    tags: Sequence[str] | None = None,
    **job_options: Any,
) -> ConcurrentSampler:
    """A QURI Parts ``ConcurrentSampler`` over OQTOPUS.

    ``sampler([(circuit, shots), ...])`` submits one sampling job per pair, at most
    ``concurrency`` submissions at a time, then waits for all of them with one shared
    polling loop and returns their counts in the order of the pairs.

    With ``pack`` (True or a :class:`~quri_parts_oqtopus.packing.PackingPolicy`), the
    circuits of equal shots go into as few ``multi_manual`` jobs as fit the device (read
    at the first call), and each pair still gets its own circuit's counts. ``tags`` are
    the tags of every job; ``job_options`` further keyword arguments of
    :meth:`OqtopusSamplingBackend.sample`.

    Raises:
        ValueError: If no configuration can be found, ``concurrency`` is below 1,
            ``pack`` is neither a bool nor a ``PackingPolicy``, or a tag is refused.

    The sampler raises ``BackendError`` when a submission fails (naming the jobs that
    were submitted), on timeout (naming the pending jobs) and when a job fails (a packed
    job: naming the positions of every pair it held).

    """
    check_concurrency(concurrency)  # refused when the factory is made, not at first use
    job_options = with_tags(job_options, tags)
    policy = PackingPolicy.of(pack)
    backend = OqtopusSamplingBackend(config)
    if policy is not None:
        return packed_sampler(backend, device_id, policy, concurrency, timeout, wait, job_options)

    def sample(pairs: Iterable[tuple[ImmutableQuantumCircuit, int]]) -> Iterable[MeasurementCounts]:
        jobs = submit_all(
            [
                partial(backend.sample, circuit, device_id, shots, **job_options)
                for circuit, shots in pairs
            ],
            concurrency,
        )
        wait_for_all_or_raise(jobs, timeout, wait)
        return [job.result(timeout=0, wait=wait).counts for job in jobs]

    return sample


class OqtopusDeviceSamplingJob:
    """A QURI Parts ``SamplingJob``: one OQTOPUS sampling job, waited for as its backend
    says.

    Attributes:
        job: The OQTOPUS job (its id, status, ``job_info``, ``cancel()``, ...).
    """

    def __init__(self, job: OqtopusSamplingJob, timeout: float | None, wait: float) -> None:
        self.job = job
        self._timeout = timeout
        self._wait = wait

    def result(self) -> OqtopusSamplingResult:
        """The job's result (``counts`` keyed by int), once it has ended.

        Raises:
            BackendError: If the job failed or was cancelled, or the wait timed out.

        """
        return self.job.result(timeout=self._timeout, wait=self._wait)


class OqtopusDeviceSamplingBackend:
    """QURI Parts' ``SamplingBackend`` protocol, bound to one OQTOPUS device, as the
    backends of QURI Parts' other clouds are: ``sample(circuit, shots)`` submits one
    sampling job. QURI Parts' helpers take it, e.g.
    ``quri_parts.core.sampling.create_sampler_from_sampling_backend(backend)``.

    Args:
        device_id: The device every job runs on.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        timeout: Seconds a job's ``result()`` waits; None waits for ever.
        wait: Longest gap between status polls of ``result()``.
        job_options: Further keyword arguments of every job
            (:meth:`OqtopusSamplingBackend.sample`: ``transpiler_info``, ``name``, ...).

    Raises:
        ValueError: If no configuration can be found, or ``device_id`` is not a string.

    """

    def __init__(
        self,
        device_id: str,
        config: OqtopusConfig | None = None,
        *,
        timeout: float | None = None,
        wait: float = 1.0,
        **job_options: Any,
    ) -> None:
        if not isinstance(device_id, str):
            raise ValueError(f"device_id should be a string: {device_id!r}")
        self.device_id = device_id
        self._backend = OqtopusSamplingBackend(config)
        self._timeout = timeout
        self._wait = wait
        self._job_options = job_options

    def sample(
        self,
        circuit: ImmutableQuantumCircuit,
        shots: int | None = None,
        n_shots: int | None = None,
    ) -> OqtopusDeviceSamplingJob:
        """Submit one sampling job of ``circuit``; ``shots`` (QURI Parts 0.27's keyword) or
        ``n_shots`` (its name before), positional either way.

        Raises:
            ValueError: If neither or two different shot counts are given, or as
                :meth:`OqtopusSamplingBackend.sample` (bad shots, a circuit that cannot
                be written as OpenQASM 3), before anything is sent.
            BackendError: If the submission fails.

        """
        if shots is None and n_shots is None:
            raise ValueError("sample() needs shots (or n_shots, its former name)")
        if shots is not None and n_shots is not None and shots != n_shots:
            raise ValueError(f"sample() got shots={shots!r} and n_shots={n_shots!r}: give one")
        count = shots if shots is not None else n_shots
        assert count is not None
        job = self._backend.sample(circuit, self.device_id, count, **self._job_options)
        return OqtopusDeviceSamplingJob(job, self._timeout, self._wait)
