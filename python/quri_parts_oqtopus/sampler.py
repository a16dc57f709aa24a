"""QURI Parts samplers that run on OQTOPUS: ``Sampler`` and ``ConcurrentSampler``.

Nothing is read or connected at import time; the configuration is resolved when a
factory is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, cast

from quri_parts.backend import BackendError
from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.sampling import ConcurrentSampler, MeasurementCounts, Sampler

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
)
from quri_parts_oqtopus.backend.submission import check_concurrency, submit_all
from quri_parts_oqtopus.backend.waiting import wait_for_all_or_raise
from quri_parts_oqtopus.packing import (
    Layout,
    PackedJob,
    PackingPolicy,
    group_by_shots,
    placed_programs,
    plan_packs,
)

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
        return _packed_sampler(backend, device_id, policy, concurrency, timeout, wait, job_options)

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


def _packed_sampler(
    backend: OqtopusSamplingBackend,
    device_id: str,
    policy: PackingPolicy,
    concurrency: int,
    timeout: float | None,
    wait: float,
    job_options: dict[str, Any],
) -> ConcurrentSampler:
    layouts: list[Layout] = []  # the device is read once, at the first call

    def layout() -> Layout:
        if not layouts:
            device = OqtopusDeviceBackend(backend.config).get_device(device_id)
            layouts.append(Layout.of_device(device, policy))
        return layouts[0]

    def sample(pairs: Iterable[tuple[ImmutableQuantumCircuit, int]]) -> Iterable[MeasurementCounts]:
        listed = list(pairs)
        circuits = [circuit for circuit, _ in listed]
        packs: list[tuple[PackedJob, int]] = []
        for shots, indices in group_by_shots([shots for _, shots in listed]).items():
            packs += [(p, shots) for p in plan_packs(circuits, indices, layout(), policy)]
        jobs = submit_all(
            [
                partial(backend.sample, _placed(circuits, p), device_id, shots, **job_options)
                for p, shots in packs
            ],
            concurrency,
        )
        wait_for_all_or_raise(jobs, timeout, wait)
        found: list[MeasurementCounts] = [{} for _ in listed]
        for (p, _), job in zip(packs, jobs, strict=True):
            for slot, counts in zip(p.slots, _packed_counts(p, job, wait), strict=True):
                found[slot.index] = counts
        return found

    return sample


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
