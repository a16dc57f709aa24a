"""How long jobs took: per job from its timestamps, and summed over many jobs.

A job's record carries when it was submitted, became ready, started running and ended,
and the service's own ``execution_time``. :func:`job_timing` turns those into the phases a
user waits through; :func:`timings_summary` aggregates them over a batch (what
``OqtopusJobSet.metrics()`` reports). Nothing here calls the server: it reads the jobs as
they were last read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from quri_parts_oqtopus._contract import JOB_STATUSES

__all__ = [
    "JobTiming",
    "TimedJob",
    "TimingsSummary",
    "count_by_status",
    "job_timing",
    "timings_summary",
]


class TimedJob(Protocol):
    """What a job offers to be timed (every job class of the backends has it)."""

    @property
    def job_id(self) -> str:
        """The job's id."""

    @property
    def status(self) -> str:
        """Its status as last read."""

    @property
    def submitted_at(self) -> datetime | None:
        """When it was submitted."""

    @property
    def ready_at(self) -> datetime | None:
        """When it became ready to run."""

    @property
    def running_at(self) -> datetime | None:
        """When it started running."""

    @property
    def ended_at(self) -> datetime | None:
        """When it ended."""

    @property
    def execution_time(self) -> float:
        """The service's execution time in seconds (0.0 until known)."""


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)  # clocks of two machines may disagree


@dataclass(frozen=True)
class JobTiming:
    """The phases of one job, in seconds; None where a timestamp is missing.

    Attributes:
        job_id: The job.
        status: Its status when it was read.
        submitted_at: When it was submitted (the start of every phase below).
        queued: Submitted until ready (waiting for its device to take it).
        ready: Ready until running (waiting for a free execution slot).
        running: Running until ended (wall time on the device, post-processing included).
        total: Submitted until ended.
        execution_time: What the service reports as the job's execution time (0.0 until
            known).
    """

    job_id: str
    status: str
    submitted_at: datetime | None
    ready_at: datetime | None
    running_at: datetime | None
    ended_at: datetime | None
    queued: float | None
    ready: float | None
    running: float | None
    total: float | None
    execution_time: float


def job_timing(job: TimedJob) -> JobTiming:
    """The phases of ``job`` from its timestamps as last read (``job.refresh()`` to update)."""
    submitted, ready, running, ended = job.submitted_at, job.ready_at, job.running_at, job.ended_at
    return JobTiming(
        job_id=job.job_id,
        status=job.status,
        submitted_at=submitted,
        ready_at=ready,
        running_at=running,
        ended_at=ended,
        queued=_seconds(submitted, ready),
        ready=_seconds(ready, running),
        running=_seconds(running, ended),
        total=_seconds(submitted, ended),
        execution_time=job.execution_time,
    )


@dataclass(frozen=True)
class TimingsSummary:
    """Timings of many jobs together.

    Attributes:
        jobs: How many jobs.
        by_status: Jobs counted by status, in the order a job goes through them.
        wall: First submission until the last end, in seconds (None until one has ended).
        execution_time: The service's execution times summed (the device time used).
        queued_mean, running_mean, total_mean: Means over the jobs that have that phase.
        total_max: The longest job, submitted until ended.
    """

    jobs: int
    by_status: dict[str, int]
    wall: float | None
    execution_time: float
    queued_mean: float | None
    running_mean: float | None
    total_mean: float | None
    total_max: float | None


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def count_by_status(statuses: Iterable[str]) -> dict[str, int]:
    """How many of each status, in the order a job goes through them (others last, by name)."""
    counts: Counter[str] = Counter(statuses)
    by_status: dict[str, int] = {s: counts.pop(s) for s in JOB_STATUSES if s in counts}
    by_status.update(sorted(counts.items()))
    return by_status


def timings_summary(timings: Iterable[JobTiming]) -> TimingsSummary:
    """``timings`` aggregated: counts by status, the wall span, device time, means."""
    listed = list(timings)
    by_status = count_by_status(t.status for t in listed)
    starts = [t.submitted_at for t in listed if t.submitted_at is not None]
    ends = [t.ended_at for t in listed if t.ended_at is not None]
    totals = [t.total for t in listed if t.total is not None]
    return TimingsSummary(
        jobs=len(listed),
        by_status=by_status,
        wall=_seconds(min(starts), max(ends)) if starts and ends else None,
        execution_time=sum(t.execution_time for t in listed),
        queued_mean=_mean([t.queued for t in listed]),
        running_mean=_mean([t.running for t in listed]),
        total_mean=_mean(totals),
        total_max=max(totals) if totals else None,
    )
