"""Waiting for jobs: the one polling loop every job kind, job set, sampler and estimator shares."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import FINAL_STATUSES, JOB_STATUSES
from quri_parts_oqtopus._values import is_number
from quri_parts_oqtopus.backend.errors import OqtopusTimeoutError
from quri_parts_oqtopus.transport import preview

__all__ = [
    "FIRST_POLL_DELAY",
    "Pollable",
    "poll_delays",
    "wait_for_all_or_raise",
    "wait_for_jobs",
]

#: Seconds before the second status query of a wait; each later gap doubles, up to ``wait``.
FIRST_POLL_DELAY = 0.05


class Pollable(Protocol):
    """What the loop waits for: a job that can ask its status once (``OqtopusJobBase``)."""

    @property
    def job_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    def poll(self) -> bool: ...


_Job = TypeVar("_Job", bound=Pollable)


def wait_for_jobs(
    jobs: Sequence[_Job],
    timeout: float | None = None,
    wait: float = 10.0,
    on_round: Callable[[Sequence[_Job]], None] | None = None,
) -> bool:
    """Wait until every job has ended: the one polling loop of every job kind.

    Each round asks the cheap status endpoint of every job still pending and reads a job
    whole once it has ended (``job.poll()``). The first round is at once; the gaps between
    rounds start at :data:`FIRST_POLL_DELAY` and double up to ``wait`` (see
    :func:`poll_delays`), so a short job is seen soon after it ends and a long one costs
    only a few extra calls. No sleep goes past the deadline.

    Args:
        jobs: The jobs to wait for; their status is updated as it is polled.
        timeout: The number of seconds to wait; None waits for ever.
        wait: The longest time in seconds between two rounds.
        on_round: Called with all ``jobs`` after each round (progress reports).

    Returns:
        True when every job has ended, False when ``timeout`` passed first.

    Raises:
        ValueError: If ``timeout`` or ``wait`` is negative or not a number.
        BackendError: If a job cannot be read from the server, or the server gives one a
            status that is not an OQTOPUS job status (waiting for it could never end).

    """
    _check_seconds("wait", wait)
    if timeout is not None:
        _check_seconds("timeout", timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = list(jobs)
    delays = poll_delays(wait)
    while True:
        pending = [job for job in pending if not job.poll()]
        _refuse_unknown_statuses(pending)
        if on_round is not None:
            on_round(jobs)
        if not pending:
            return True
        remaining = math.inf if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(next(delays), remaining))


def poll_delays(wait: float) -> Iterator[float]:
    """The gaps between status queries: 0.05 s, doubling each time, never more than ``wait``.

    With ``wait=10`` the queries come at 0, 0.05, 0.15, 0.35, 0.75, 1.55, 3.15, 6.35,
    12.75, 22.75 s and then every 10 s: a job of an hour costs 7 more queries than
    polling every 10 s would, and a job of 0.2 s is seen 0.35 s after it started.
    """
    delay = FIRST_POLL_DELAY
    while True:
        yield min(delay, wait)
        delay *= 2.0


def wait_for_all_or_raise(jobs: Sequence[Pollable], timeout: float | None, wait: float) -> None:
    """:func:`wait_for_jobs`, raising a ``BackendError`` (and ``TimeoutError``) that names the
    pending jobs on timeout."""
    if not wait_for_jobs(jobs, timeout, wait):
        pending = [job.job_id for job in jobs if job.status not in FINAL_STATUSES]
        raise OqtopusTimeoutError(
            f"Timeout occurred after {timeout} seconds. Pending jobs: {pending}"
        )


def _refuse_unknown_statuses(jobs: Sequence[Pollable]) -> None:
    """Fail at once for a status no OQTOPUS job has: its end could never be recognised."""
    for job in jobs:
        if job.status not in JOB_STATUSES:
            raise BackendError(
                f"Job {job.job_id} has the status {preview(job.status, 80)}, which is not an"
                f" OQTOPUS job status ({', '.join(JOB_STATUSES)}): waiting for it could"
                " never end"
            )


def _check_seconds(name: str, value: float) -> None:
    if not is_number(value) or not value >= 0:
        raise ValueError(f"{name} should be a non-negative number of seconds: {value!r}")
