"""Waiting polls soon after submission, then less and less often, never rarer than ``wait``."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import requests

from quri_parts_oqtopus._contract import FINAL_STATUSES, TOKEN_HEADER
from quri_parts_oqtopus.backend import OqtopusSamplingBackend, waiting
from quri_parts_oqtopus.backend.waiting import FIRST_POLL_DELAY, poll_delays, wait_for_jobs
from quri_parts_oqtopus.local import LocalServer

from .admin import Admin
from .conftest import bell

pytestmark = pytest.mark.timing


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


class VirtualClock:
    """The polling loop's clock: each sleep is recorded and passes at once, and
    ``on_sleep(n)`` runs after the n-th; so what the loop does is the same on any machine."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self._on_sleep is not None:
            self._on_sleep(len(self.slept))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = SimpleNamespace(sleep=self.sleep, monotonic=self.monotonic)
        monkeypatch.setattr(waiting, "time", clock)


class HeldJob:
    """A job that ends at the poll after ``ends_after`` sleeps of ``clock`` (never if None)."""

    def __init__(self, clock: VirtualClock, ends_after: int | None) -> None:
        self.job_id = "held"
        self.status = "running"
        self.polls = 0
        self._clock, self._ends_after = clock, ends_after

    def poll(self) -> bool:
        self.polls += 1
        if self._ends_after is not None and len(self._clock.slept) >= self._ends_after:
            self.status = "succeeded"
        return self.status == "succeeded"


def test_a_timeout_is_waited_whole_and_no_sleep_goes_past_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = VirtualClock()
    clock.install(monkeypatch)
    job = HeldJob(clock, ends_after=None)
    assert wait_for_jobs([job], timeout=1.0, wait=10.0) is False
    # 0.05 + 0.1 + 0.2 + 0.4 = 0.75: the fifth sleep is cut to the 0.25 s left, not 0.8.
    assert clock.slept == [0.05, 0.1, 0.2, 0.4, pytest.approx(0.25)]
    assert clock.now == pytest.approx(1.0)
    assert job.polls == 6  # at once, after each sleep, and none after the deadline


def test_wait_zero_polls_back_to_back_until_the_job_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock()
    clock.install(monkeypatch)
    job = HeldJob(clock, ends_after=3)
    assert wait_for_jobs([job], timeout=None, wait=0.0) is True
    assert (clock.slept, job.polls) == ([0.0, 0.0, 0.0], 4)


def _wait_on_the_server(server: LocalServer, job_id: str) -> None:
    """Until the job has ended, asked past the client (its polling loop runs a virtual clock)."""
    url = f"{server.url}/jobs/{job_id}/status"
    deadline = time.monotonic() + 120  # only stops a hang
    while (status := _status(url, server.token)) not in FINAL_STATUSES:
        assert time.monotonic() < deadline, f"job {job_id} still {status} after 120 s"
        time.sleep(0.02)


def _status(url: str, token: str) -> str:
    answer = requests.get(url, headers={TOKEN_HEADER: token}, timeout=30)
    answer.raise_for_status()
    status: str = answer.json()["status"]
    return status


def test_result_with_the_default_wait_follows_the_schedule_and_stops_once_ended(
    server: LocalServer, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The device is off until the loop's 11th sleep and the job has ended before that sleep
    # returns, so the loop sees the end at its 12th query whatever the machine's speed; the
    # virtual clock skips the 42.75 s of sleeps.
    admin.set_device_status("qulacs", "unavailable")  # restored by the fixture
    job = OqtopusSamplingBackend(server.config).sample(bell(), device_id="qulacs", shots=100)

    def release(sleeps: int) -> None:
        assert job.status == "submitted", f"sleep {sleeps}: the job is {job.status}"
        if sleeps == 11:
            admin.set_device_status("qulacs", "available")
            _wait_on_the_server(server, job.job_id)

    clock = VirtualClock(on_sleep=release)
    clock.install(monkeypatch)
    counts = job.result().counts  # the documented defaults: no timeout, wait=10.0
    assert set(counts) <= {0, 3}
    assert sum(counts.values()) == 100
    # 0.05 s doubling up to wait=10, then 10 s; and not one sleep more once it had ended.
    assert clock.slept == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0]
    assert clock.slept == list(itertools.islice(poll_delays(10.0), 11))
