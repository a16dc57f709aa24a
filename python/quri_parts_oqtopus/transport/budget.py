"""The one retry loop: the attempts of a call, counted by one urllib3 ``Retry``, in a deadline."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from quri_parts_oqtopus.transport.errors import OqtopusHttpError
from quri_parts_oqtopus.transport.origin import without_query

__all__ = ["Budget", "run_within_budget"]

logger = logging.getLogger("quri_parts_oqtopus")

_T = TypeVar("_T")


def run_within_budget(
    budget: Budget,
    attempt: Callable[[float], _T],
    *,
    method: str,
    url: str,
    repeatable: bool,
) -> _T:
    """``attempt(deadline)``, repeated as ``budget`` allows; the one retry loop.

    A failed attempt is repeated when its failure is transient and either the request
    never left or ``repeatable`` says repeating is safe; the budget counts it, and the
    wait is the budget's backoff or the server's ``Retry-After``. No attempt starts after
    the deadline (``time.monotonic()``) that ``attempt`` is given.

    Raises:
        OqtopusHttpError: The last failure; after more than one attempt, or when the
            server could not be reached, its message says how many attempts in how many
            seconds.

    """
    while True:
        try:
            return attempt(budget.deadline)
        except OqtopusHttpError as error:
            if not error.transient or not (repeatable or not error.sent):
                raise budget.final(error) from error
            delay = budget.spend(error, method, url)
            logger.warning(
                "%s: attempt %d failed (%s); again in %.1f s",
                budget.operation,
                budget.attempts,
                error,
                delay,
            )
            time.sleep(delay)
            budget.attempts += 1


@dataclass
class Budget:
    """What one call has spent of its retry budget: urllib3's counters, attempts, time."""

    operation: str
    retry: Retry
    seconds: float
    attempts: int = 1
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        """When, on ``time.monotonic()``'s clock, the call must have ended."""
        return self.started + self.seconds

    def spend(self, error: OqtopusHttpError, method: str, url: str) -> float:
        """Count ``error`` against the budget; the wait before the next attempt.

        Raises:
            OqtopusHttpError: The final error, when the budget is spent or the wait would
                end past the deadline.

        """
        try:
            self.retry = self.retry.increment(
                method, without_query(url), response=error.retry_response, error=error.retry_cause
            )
        except MaxRetryError:
            raise self.final(error) from error
        delay = error.retry_after
        if delay is None:
            delay = self.retry.get_backoff_time()
        if time.monotonic() + delay >= self.deadline:
            why = f"; the next attempt would start after the {self.seconds:g} s deadline"
            raise self.final(error, why) from error
        return delay

    def final(self, error: OqtopusHttpError, why: str = "") -> OqtopusHttpError:
        """``error`` as the call's outcome: attempts and seconds said where they matter."""
        seconds = time.monotonic() - self.started
        attempts = f"{self.attempts} attempt" + ("" if self.attempts == 1 else "s")
        if error.unreachable is not None:
            url, reason = error.unreachable
            message = (
                f"{self.operation}: cannot connect to {url}: {reason} "
                f"({attempts} in {seconds:.1f} s{why})"
            )
        elif self.attempts == 1 and not why:
            return error
        else:
            message = (
                f"{self.operation} gave up after {attempts} in {seconds:.1f} s{why}; "
                f"last cause: {error}"
            )
        return OqtopusHttpError(
            message,
            error.status,
            error.retry_after,
            broken_answer=error.broken_answer,
            sent=error.sent,
            final=True,
            unreachable=error.unreachable,
            message_code=error.message_code,
        )
