"""``backend/job.py``: a cancel tells the truth, ``cancelling`` is not final, and a late
success is a success. A scripted service (``MockTransport``) plays the server's statuses;
tests/local/test_jobs_api.py holds the server's side of the same story."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest
import requests
from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.transport import MockResponse, MockTransport

API = "https://oqtopus.example"
RESULT = {"sampling": {"counts": {"11": 5}, "divided_counts": None}}


class CancellingService:
    """One running job ``j-1``: a cancel makes it ``cancelling``; after ``polls`` status
    reads it ends ``ended`` (``succeeded``: the cancel lost the race)."""

    def __init__(self, *, ended: str, polls: int, refuse_cancel: bool = False) -> None:
        self.status = "running"
        self.ended = ended
        self.polls = polls
        self.refuse_cancel = refuse_cancel
        self.seen: Counter[tuple[str, str]] = Counter()

    def __call__(self, request: requests.PreparedRequest) -> MockResponse:
        where = (request.method or "", urlsplit(request.url or "").path)
        self.seen[where] += 1
        if where == ("POST", "/jobs/j-1/cancel"):
            if self.refuse_cancel or self.status != "running":
                self.status = "cancelling" if self.refuse_cancel else self.status
                message = f"job j-1 cannot be cancelled in status {self.status}"
                return MockResponse(400, {"message": message})
            self.status = "cancelling"
            return MockResponse(200, {"message": "cancel requested"})
        if where == ("GET", "/jobs/j-1/status"):
            if self.status == "cancelling" and self.seen[where] > self.polls:
                self.status = self.ended
            return MockResponse(200, {"job_id": "j-1", "status": self.status})
        if where == ("GET", "/jobs/j-1"):
            return MockResponse(200, self.job())
        return MockResponse(404, {"message": f"no route {where}"})

    def job(self) -> dict[str, object]:
        result = RESULT if self.status == "succeeded" else None
        return {
            "job_id": "j-1",
            "job_type": "sampling",
            "status": self.status,
            "device_id": "qpu",
            "shots": 5,
            "job_info": {"result": result, "message": None},
        }


def backend_for(service: CancellingService) -> OqtopusSamplingBackend:
    config = OqtopusConfig(API, "token-0123", adapter=MockTransport(service), retries=0)
    return OqtopusSamplingBackend(config)


def test_cancel_shows_cancelling_and_a_late_success_gives_its_result() -> None:
    service = CancellingService(ended="succeeded", polls=3)
    job = backend_for(service).retrieve_job("j-1")
    job.cancel()
    assert job.status == "cancelling"  # what the server says, not what was asked
    counts = job.result(timeout=60, wait=0.01)
    assert counts.counts == {0b11: 5}
    assert job.status == "succeeded"
    assert service.seen[("GET", "/jobs/j-1/status")] > 3  # it waited through cancelling


def test_a_cancelling_job_is_not_asked_to_cancel_again() -> None:
    service = CancellingService(ended="cancelled", polls=1_000)
    job = backend_for(service).retrieve_job("j-1")
    job.cancel()
    job.cancel()
    assert service.seen[("POST", "/jobs/j-1/cancel")] == 1
    assert job.status == "cancelling"
    assert job.wait_for_completion(timeout=0.05, wait=0.01) is None  # not final


def test_a_cancel_refused_because_the_job_is_already_cancelling_is_not_an_error() -> None:
    # Someone else (another process, a job set's budget) cancelled it since it was read.
    service = CancellingService(ended="cancelled", polls=1, refuse_cancel=True)
    job = backend_for(service).retrieve_job("j-1")
    job.cancel()
    assert job.status in {"cancelling", "cancelled"}
    with pytest.raises(BackendError, match="Job ended with status cancelled"):
        job.result(timeout=60, wait=0.01)


def test_a_cancel_refused_for_an_ended_job_still_raises_the_references_text() -> None:
    service = CancellingService(ended="cancelled", polls=0)
    service.status = "succeeded"
    job = backend_for(service).retrieve_job("j-1")
    with pytest.raises(BackendError, match=r"^To cancel job is failed\. .*status succeeded"):
        job.cancel()
    assert job.status == "succeeded"


def test_a_cancel_whose_answer_was_lost_after_it_took_effect_is_not_an_error() -> None:
    # The server cancelled the (not yet running) job, then a gateway lost its answer (502).
    service = CancellingService(ended="cancelled", polls=0)
    service.status = "submitted"

    def cancel_then_lose(request: requests.PreparedRequest) -> MockResponse:
        answer = service(request)
        if urlsplit(request.url or "").path == "/jobs/j-1/cancel":
            service.status = "cancelled"
            return MockResponse(502, {"message": "bad gateway"})
        return answer

    lose = MockTransport(cancel_then_lose)
    backend = OqtopusSamplingBackend(OqtopusConfig(API, "token-0123", adapter=lose, retries=0))
    assert backend.cancel_job("j-1") == "cancelled"
    job = backend.retrieve_job("j-1")
    job.cancel()  # already cancelled: asking again is refused, and that is no error
    assert job.status == "cancelled"


def test_a_cancel_whose_status_cannot_be_read_reports_the_cancels_own_error() -> None:
    def nothing_there(request: requests.PreparedRequest) -> MockResponse:
        return MockResponse(404, {"message": "job not found"})

    config = OqtopusConfig(API, "token-0123", adapter=MockTransport(nothing_there), retries=0)
    with pytest.raises(BackendError, match=r"^To cancel job is failed\. cancel job j-9") as raised:
        OqtopusSamplingBackend(config).cancel_job("j-9")
    assert isinstance(raised.value.__cause__, BackendError)  # the status read, chained
