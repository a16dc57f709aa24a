"""Job sets: order, per-job failures, resubmission and progress (journals: tests/batch)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingJob, OqtopusSamplingResult
from quri_parts_oqtopus.jobset import JobSetProgress, OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer

from .admin import Admin
from .cli.request_log import logged_requests
from .conftest import server_jobs, x_on
from .faults.proxy import FaultProxy, lost_submit_answers

DEVICE = "qulacs"
BAD_QASM = "OPENQASM 3;\nqubit[1] q;\nnot_a_gate q[0];"


def test_results_come_back_in_submission_order(config: OqtopusConfig) -> None:
    job_set = OqtopusJobSet.submit([x_on(i, 8) for i in range(8)], DEVICE, 5, config, concurrency=3)
    seen: list[JobSetProgress] = []
    assert job_set.wait(wait=0.05, on_progress=seen.append)
    results = job_set.results()
    assert [r.counts for r in results if isinstance(r, OqtopusSamplingResult)] == [
        {1 << i: 5} for i in range(8)
    ]
    assert seen[-1].ended == 8
    assert job_set.failures() == []


def test_a_failed_job_is_reported_alone_and_can_be_resubmitted(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    programs: list[QuantumCircuit | str] = [x_on(0, 8), BAD_QASM, x_on(2, 8)]
    job_set = OqtopusJobSet.submit(programs, DEVICE, 5, config)
    job_set.wait(wait=0.05)
    failures = job_set.failures()
    assert [(f.index, f.status) for f in failures] == [(1, "failed")]
    assert failures[0].job_id is not None
    assert "not_a_gate" in failures[0].message
    results = job_set.results()
    assert isinstance(results[0], OqtopusSamplingResult)
    assert isinstance(results[2], OqtopusSamplingResult)
    first_id = failures[0].job_id
    assert job_set.resubmit_failed() == [1]
    job_set.wait(wait=0.05)
    again = job_set.failures()
    assert len(again) == 1
    assert again[0].job_id != first_id  # a new job, and it fails for the same reason


def test_failed_submissions_are_kept_per_program(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(
        method="POST", path="^/jobs/[^/]+/submit$", status=400, body='{"message": "no"}', times=-1
    )
    job_set = OqtopusJobSet.submit([x_on(0, 8), x_on(1, 8)], DEVICE, 5, config)
    failures = job_set.failures()
    assert [(f.index, f.job_id, f.status) for f in failures] == [
        (0, None, "not submitted"),
        (1, None, "not submitted"),
    ]
    assert all("HTTP 400: no" in f.message for f in failures)
    admin.clear_faults()
    assert job_set.resubmit_failed() == [0, 1]
    assert job_set.wait(wait=0.05)
    assert job_set.failures() == []


# -- progress -----------------------------------------------------------------------------------
INSTALL_HINT = "pip install 'quri-parts-oqtopus[progress]'"
CONTRACT_ORDER = (
    "registered", "submitted", "ready", "running", "succeeded", "failed", "cancelling", "cancelled",
)  # fmt: skip
FRAME_COUNTS = re.compile(r"\| *(\d+)/(\d+) \[")
FRAME_STATUS = re.compile(r"(\w+)=(\d+)")


def frames(captured: str) -> list[str]:
    """The lines tqdm drew, in order (each draw starts with a carriage return)."""
    return [frame.strip() for frame in captured.split("\r") if frame.strip()]


def frame_counts(frame: str) -> tuple[tuple[int, int], dict[str, int]]:
    """``(ended, total)`` and the counts by status (in drawn order) of one frame."""
    found = FRAME_COUNTS.search(frame)
    assert found is not None, frame
    postfix = frame[found.end() :]
    statuses = {name: int(count) for name, count in FRAME_STATUS.findall(postfix)}
    return (int(found[1]), int(found[2])), statuses


def test_progress_bar_without_tqdm_is_refused_before_any_request(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now fails as if absent
    with logged_requests(server) as log:
        config = OqtopusConfig(log.url, server.token)
        with pytest.raises(ValueError, match=re.escape(INSTALL_HINT)):
            OqtopusJobSet.submit([x_on(0, 2)] * 3, DEVICE, 5, config, progress_bar=True)
        assert log.take() == [], "nothing may be sent before the progress bar is refused"


def test_wait_progress_bar_without_tqdm_fails_before_polling(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with logged_requests(server) as log:
        job_set = OqtopusJobSet.submit(
            [x_on(0, 2)] * 2, DEVICE, 5, OqtopusConfig(log.url, server.token)
        )
        log.take()
        monkeypatch.setitem(sys.modules, "tqdm", None)
        rounds: list[JobSetProgress] = []
        with pytest.raises(ValueError, match=re.escape(INSTALL_HINT)):
            job_set.wait(wait=0.05, on_progress=rounds.append, progress_bar=True)
        assert (log.take(), rounds) == ([], []), "refused before the first poll"


def test_submit_progress_bar_shows_the_submissions_then_the_wait(
    config: OqtopusConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    job_set = OqtopusJobSet.submit(
        [x_on(i, 4) for i in range(4)], DEVICE, 5, config, concurrency=2, progress_bar=True
    )
    submitted = frames(capsys.readouterr().err)
    assert submitted, "no submit bar"
    assert all(frame.startswith("submit:") for frame in submitted), submitted
    assert frame_counts(submitted[-1])[0] == (4, 4), submitted
    assert job_set.wait(wait=0.05)  # the bar asked for at submit is the default of wait()
    waited = frames(capsys.readouterr().err)
    assert waited, "no wait bar"
    assert all(frame.startswith("wait:") for frame in waited), waited
    assert frame_counts(waited[-1]) == ((4, 4), {"succeeded": 4}), waited
    job_set.wait(wait=0.05, progress_bar=False)
    assert capsys.readouterr().err == "", "progress_bar=False turns the default bar off"


def test_wait_draws_the_bar_once_per_round_with_that_rounds_counts(
    config: OqtopusConfig, admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.set_device("qulacs", execution_delay=1.0)  # rounds see jobs queued, running, ended
    job_set = OqtopusJobSet.submit([x_on(i, 4) for i in range(3)], DEVICE, 5, config)
    capsys.readouterr()
    rounds: list[JobSetProgress] = []
    assert job_set.wait(wait=0.2, on_progress=rounds.append, progress_bar=True)
    assert len({tuple(p.by_status.items()) for p in rounds}) > 1, f"no change seen: {rounds}"
    # tqdm draws once when made and once when closed; every other draw is one round's.
    init, *drawn, closed = frames(capsys.readouterr().err)
    assert frame_counts(init) == ((0, 3), {}), init
    expected = [((p.ended, p.total), p.by_status) for p in rounds]
    assert [frame_counts(frame) for frame in drawn] == expected, "one draw per round"
    assert frame_counts(closed) == expected[-1], closed


@pytest.mark.timing
def test_statuses_are_reported_in_the_contracts_order_every_round(
    config: OqtopusConfig, admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.set_device_status("qulacs", "unavailable")  # jobs stay submitted
    circuits = [x_on(i, 4) for i in range(3)]
    job_set = OqtopusJobSet.submit(circuits, DEVICE, 5, config, check_device=False)
    first = job_set.jobs[0]
    assert first is not None
    first.cancel()  # the first job ends first: a count by first appearance would list it first
    rounds: list[JobSetProgress] = []
    assert not job_set.wait(timeout=0.4, wait=0.1, on_progress=rounds.append, progress_bar=True)
    admin.set_device_status("qulacs", "available")
    assert job_set.wait(wait=0.05, on_progress=rounds.append, progress_bar=True)
    assert rounds[0].by_status.keys() & {"cancelled", "cancelling"}, rounds[0]
    assert list(rounds[-1].by_status) == ["succeeded", "cancelled"], rounds[-1]
    for progress in rounds:
        names = list(progress.by_status)
        assert names == sorted(names, key=CONTRACT_ORDER.index), progress
    for frame in frames(capsys.readouterr().err):
        names = list(frame_counts(frame)[1])
        assert names == sorted(names, key=CONTRACT_ORDER.index), frame


def test_resubmit_failed_adopts_a_job_whose_lost_submit_took_effect(server: LocalServer) -> None:
    name = f"lost-{time.monotonic_ns()}"
    port = urlparse(server.url).port
    assert port is not None
    with FaultProxy(port, lost_submit_answers) as proxy:
        config = OqtopusConfig(
            proxy.url, server.token, timeout=(2.0, 5.0), retries=1, backoff=0.005
        )
        job_set = OqtopusJobSet.submit([x_on(1, 2)], DEVICE, 5, config, name=name)
        [failure] = job_set.failures()
        assert failure.status == "not submitted"
        assert "left as it is" in failure.message  # the submit may have taken effect
        proxy.plan = lambda request: None  # the network heals
        assert job_set.resubmit_failed() == []  # it did: that job is adopted
        assert job_set.wait(timeout=120, wait=0.05)
        [result] = job_set.results()
    assert isinstance(result, OqtopusSamplingResult)
    assert result.counts == {2: 5}
    ran = [job for job in server_jobs(server, f"{name}#") if job["status"] != "registered"]
    assert len(ran) == 1, ran


def poll_until(job: OqtopusSamplingJob, status: str) -> None:
    """Poll ``job`` until the server says ``status`` (the deadline only stops a hang)."""
    deadline = time.monotonic() + 120
    while job.status != status:
        assert time.monotonic() < deadline, f"{job.job_id} never {status}: {job.status}"
        job.poll()
        time.sleep(0.02)


def test_a_cancelling_job_keeps_the_wait_going_and_has_no_result_until_it_ends(
    config: OqtopusConfig, admin: Admin
) -> None:
    # The job runs for an hour and its stop is held for an hour: cancelling, deterministically.
    admin.set_device(DEVICE, execution_delay=3600, cancel_delay=3600)
    job_set = OqtopusJobSet.submit([x_on(1, 2)], DEVICE, 5, config)
    [job] = job_set.jobs
    assert job is not None
    poll_until(job, "running")
    job.cancel()
    assert job.status == "cancelling"
    assert not job_set.wait(timeout=0.3, wait=0.05)  # cancelling is not an end
    [failure] = job_set.failures()
    assert (failure.index, failure.job_id, failure.status) == (0, job.job_id, "cancelling")
    assert "has not ended (cancelling)" in failure.message
    assert job_set.results() == [failure]
    assert job_set.resubmit_failed() == []  # it may still succeed: never run twice
    admin.set_device(DEVICE, execution_delay=0.0, cancel_delay=0.0)  # the stop goes ahead
    assert job_set.wait(timeout=120, wait=0.05)
    [failure] = job_set.failures()
    assert failure.status == "cancelled"
