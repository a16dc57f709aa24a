"""Waiting polls soon after submission, then less and less often, never rarer than ``wait``."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.backend import job as job_module
from quri_parts_oqtopus.backend.waiting import FIRST_POLL_DELAY, poll_delays

from .conftest import bell


def test_poll_delays_start_short_and_double_up_to_wait() -> None:
    delays = list(itertools.islice(poll_delays(10.0), 12))
    assert delays[:9] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0]
    assert delays[9:] == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("wait", [0.0, 0.01, FIRST_POLL_DELAY, 0.3, 2.5, 60.0])
def test_poll_delays_never_exceed_wait_and_reach_it(wait: float) -> None:
    delays = list(itertools.islice(poll_delays(wait), 40))
    assert all(0 <= delay <= wait for delay in delays), delays
    assert delays == sorted(delays), delays
    assert delays[-1] == wait, delays


def test_an_hour_long_job_costs_only_a_few_more_queries_than_fixed_polling() -> None:
    hour, wait = 3600.0, 10.0
    elapsed, queries = 0.0, 1
    for delay in poll_delays(wait):
        if elapsed + delay > hour:
            break
        elapsed += delay
        queries += 1
    fixed = 1 + int(hour // wait)
    assert 0 < queries - fixed <= 8, (queries, fixed)


def recording_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every sleep of the polling loop (the sleeps still happen)."""
    slept: list[float] = []
    real_sleep: Callable[[float], None] = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(job_module, "time", SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    return slept


def test_result_with_the_default_wait_follows_the_schedule_and_stops_once_ended(
    config: OqtopusConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = OqtopusSamplingBackend(config).sample(bell(), device_id="qulacs", shots=100)
    slept = recording_sleep(monkeypatch)
    counts = job.result().counts  # the documented defaults: no timeout, wait=10.0
    assert set(counts) <= {0, 3}
    assert sum(counts.values()) == 100
    expected = list(itertools.islice(poll_delays(10.0), len(slept)))
    assert slept == expected, "the loop slept off-schedule"
    # A tiny job on an idle local server ends within a second: a 10 s gap would mean the
    # loop waited `wait` before looking again.
    assert all(delay < 10.0 for delay in slept), slept
