"""A job set's budget: how many jobs it may submit, and how much device time its jobs may use.

Modelled on QURI Parts' tracker of runtime jobs (``quri_parts.qiskit.backend.tracker``):
a status (``Empty``, ``Running``, ``Done``, ``Exceeded``), the device time used so far
(``total_run_time``: the service's ``execution_time`` of the jobs that have ended), and, once
the limit is reached, the jobs to cancel. Here a job set also stops submitting: programs
beyond the budget are not submitted, and say why.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from quri_parts_oqtopus._contract import CANCELLABLE_STATUSES, FINAL_STATUSES
from quri_parts_oqtopus._values import is_int, is_number

__all__ = ["BudgetTracker", "JobSetBudget", "TrackedJob", "TrackerStatus"]


class TrackerStatus(enum.Enum):
    """Where a budget stands (the names of QURI Parts' ``TrackerStatus``)."""

    Empty = enum.auto()  # nothing submitted yet
    Running = enum.auto()  # jobs submitted, not all ended, within the budget
    Done = enum.auto()  # every job ended within the budget
    Exceeded = enum.auto()  # the budget is spent: nothing more is submitted


class TrackedJob(Protocol):
    """What the tracker reads of a job (every job class of the backends has it)."""

    @property
    def status(self) -> str:
        """The job's status as last read."""

    @property
    def execution_time(self) -> float:
        """The service's execution time in seconds (0.0 until known)."""


@dataclass(frozen=True)
class JobSetBudget:
    """The limits of a job set.

    Attributes:
        max_jobs: Jobs it may submit in all (a packed job counts once); None: no limit.
        max_total_time: Seconds of device time its jobs may use in all (the service's
            ``execution_time`` of the ended jobs); None: no limit. Once reached, the jobs
            not yet ended are cancelled.

    Raises:
        ValueError: If ``max_jobs`` is not a positive int, or ``max_total_time`` not a
            positive finite number.

    """

    max_jobs: int | None = None
    max_total_time: float | None = None

    def __post_init__(self) -> None:
        jobs = self.max_jobs
        if jobs is not None and (not is_int(jobs) or jobs < 1):
            raise ValueError(f"max_jobs must be a positive int or None, got {jobs!r}")
        seconds = self.max_total_time
        if seconds is not None and (not is_number(seconds) or not 0 < seconds < math.inf):
            raise ValueError(
                f"max_total_time must be a positive number of seconds or None, got {seconds!r}"
            )


_J = TypeVar("_J", bound=TrackedJob)


class BudgetTracker:
    """Counts a job set's jobs and device time against its :class:`JobSetBudget`."""

    def __init__(self, budget: JobSetBudget) -> None:
        self.budget = budget
        self._status = TrackerStatus.Empty
        self._jobs_submitted = 0
        self._total_run_time = 0.0

    @property
    def status(self) -> TrackerStatus:
        """Where the budget stands."""
        return self._status

    @property
    def total_run_time(self) -> float:
        """The device time used so far: the ``execution_time`` of the jobs that ended."""
        return self._total_run_time

    @property
    def jobs_submitted(self) -> int:
        """The jobs submitted so far (packed jobs once each)."""
        return self._jobs_submitted

    def allow(self, count: int) -> int:
        """How many of ``count`` new jobs may be submitted now (the first ones)."""
        if self._status is TrackerStatus.Exceeded:
            return 0
        limit = self.budget.max_jobs
        return count if limit is None else max(0, min(count, limit - self._jobs_submitted))

    def submitted(self, count: int) -> None:
        """``count`` jobs went out."""
        self._jobs_submitted += count
        if count and self._status is not TrackerStatus.Exceeded:
            self._status = TrackerStatus.Running

    def refusal(self) -> str:
        """Why a program is not submitted once the budget is spent."""
        budget = self.budget
        if self._status is TrackerStatus.Exceeded:
            return (
                f"not submitted: the job set's budget max_total_time={budget.max_total_time:g} s"
                f" is spent ({self._total_run_time:.3g} s of device time used)"
            )
        return f"not submitted: the job set's budget max_jobs={budget.max_jobs} is spent"

    def track(self, jobs: Sequence[_J]) -> list[_J]:
        """Count the device time of ``jobs`` (the set's current jobs, as just polled); the
        jobs to cancel, once ``max_total_time`` is reached (a job already ``cancelling`` is
        not cancelled again)."""
        ended = [job for job in jobs if job.status in FINAL_STATUSES]
        self._total_run_time = sum(job.execution_time for job in ended)
        limit = self.budget.max_total_time
        if limit is not None and self._total_run_time >= limit:
            self._status = TrackerStatus.Exceeded
            return [job for job in jobs if job.status in CANCELLABLE_STATUSES]
        if self._status is not TrackerStatus.Exceeded and jobs and len(ended) == len(jobs):
            self._status = TrackerStatus.Done
        return []
