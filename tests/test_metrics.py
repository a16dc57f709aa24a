"""Job timings from timestamps: each phase, missing timestamps, and a batch summed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from quri_parts_oqtopus.metrics import job_timing, timings_summary

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@dataclass
class FakeJob:
    job_id: str
    status: str
    submitted_at: datetime | None = None
    ready_at: datetime | None = None
    running_at: datetime | None = None
    ended_at: datetime | None = None
    execution_time: float = 0.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_each_phase_is_the_gap_between_two_timestamps() -> None:
    job = FakeJob("a", "succeeded", at(0), at(1.5), at(4), at(10), execution_time=5.5)
    timing = job_timing(job)
    assert (timing.queued, timing.ready, timing.running, timing.total) == (1.5, 2.5, 6.0, 10.0)
    assert timing.execution_time == 5.5
    assert timing.submitted_at == at(0)


def test_a_phase_without_its_timestamps_is_none_and_clock_skew_is_not_negative() -> None:
    pending = job_timing(FakeJob("b", "submitted", at(0)))
    assert (pending.queued, pending.ready, pending.running, pending.total) == (None,) * 4
    failed_early = job_timing(FakeJob("c", "failed", at(0), at(2), None, at(1)))
    assert failed_early.running is None
    assert failed_early.total == 1.0
    skewed = job_timing(FakeJob("d", "succeeded", at(5), at(4), at(6), at(7)))
    assert skewed.queued == 0.0


def test_a_summary_counts_statuses_in_job_order_and_spans_the_batch() -> None:
    jobs = [
        FakeJob("a", "succeeded", at(0), at(1), at(1), at(3), execution_time=2.0),
        FakeJob("b", "failed", at(1), at(2), at(4), at(9), execution_time=5.0),
        FakeJob("c", "running", at(2), at(3), at(5)),
        FakeJob("d", "SOMETHING", at(3)),
    ]
    summary = timings_summary(job_timing(job) for job in jobs)
    assert list(summary.by_status.items()) == [
        ("running", 1), ("succeeded", 1), ("failed", 1), ("SOMETHING", 1),
    ]  # fmt: skip
    assert summary.jobs == 4
    assert summary.wall == 9.0  # first submission (0) to last end (9)
    assert summary.execution_time == 7.0
    assert summary.total_mean == 5.5  # (3 + 8) / 2: only the ended jobs have a total
    assert summary.total_max == 8.0
    assert summary.queued_mean == 1.0


def test_an_empty_batch_has_no_span() -> None:
    summary = timings_summary([])
    assert (summary.jobs, summary.wall, summary.total_mean) == (0, None, None)
    assert summary.by_status == {}
