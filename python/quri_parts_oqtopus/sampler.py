"""QURI Parts samplers that run on OQTOPUS: ``Sampler`` and ``ConcurrentSampler``.

Nothing is read or connected at import time; the configuration is resolved when a
factory is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.sampling import ConcurrentSampler, MeasurementCounts, Sampler

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.backend.submission import check_concurrency, submit_all
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise
from quri_parts_oqtopus.packing import PackingPolicy, packed_sampler

__all__ = ["create_oqtopus_concurrent_sampler", "create_oqtopus_sampler"]


def create_oqtopus_sampler(
    device_id: str,
    config: OqtopusConfig | None = None,
    *,
    timeout: float | None = None,
    wait: float = 1.0,
    **job_options: Any,
) -> Sampler:
    """A QURI Parts ``Sampler``: ``sampler(circuit, shots)`` runs one sampling job.

    Args:
        device_id: The device the jobs run on.
        config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
        timeout: Seconds to wait for each job; None waits for ever.
        wait: Seconds between status queries.
        job_options: Further keyword arguments of :meth:`OqtopusSamplingBackend.sample`.

    Returns:
        A sampler returning counts with int keys.

    Raises:
        ValueError: If no configuration can be found.

    """
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
    **job_options: Any,
) -> ConcurrentSampler:
    """A QURI Parts ``ConcurrentSampler`` over OQTOPUS.

    ``sampler([(circuit, shots), ...])`` submits one sampling job per pair, at most
    ``concurrency`` submissions at a time, then waits for all of them with one shared
    polling loop and returns their counts in the order of the pairs.

    With ``pack`` (True or a :class:`~quri_parts_oqtopus.packing.PackingPolicy`), the
    circuits of equal shots go into as few ``multi_manual`` jobs as fit the device (read
    at the first call), and each pair still gets its own circuit's counts.

    Raises:
        ValueError: If no configuration can be found, ``concurrency`` is below 1 or
            ``pack`` is neither a bool nor a ``PackingPolicy``.

    The sampler raises ``BackendError`` when a submission fails (naming the jobs that
    were submitted), on timeout (naming the pending jobs) and when a job fails (a packed
    job: naming the positions of every pair it held).

    """
    check_concurrency(concurrency)  # refused when the factory is made, not at first use
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
