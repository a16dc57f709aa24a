"""Reading, listing, cancelling and deleting jobs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from quri_parts_oqtopus._contract import (
    CANCELLED,
    CANCELLING,
    JOB_FIELDS,
    JOB_INFO_FIELDS,
    SUBMITTED,
    SUCCEEDED,
)
from quri_parts_oqtopus.local import ServerSettings, routes_user, submission
from quri_parts_oqtopus.local.app import build_state
from quri_parts_oqtopus.local.codec import write_payload_files
from quri_parts_oqtopus.local.errors import ApiError
from quri_parts_oqtopus.local.state import Caller, ServerState
from quri_parts_oqtopus.local.store import JobRow
from quri_parts_oqtopus.local.tasks import Outcome

from .helpers import Api, bell_qasm

BELL = {"program": [bell_qasm()]}
RESULT = {"sampling": {"counts": {"00": 1}, "divided_counts": None}}


def test_status_route_answers_id_and_status_only(api: Api) -> None:
    job_id = api.submit("sampling", BELL, shots=1)
    api.wait(job_id)
    assert api.get(f"/jobs/{job_id}/status").json() == {"job_id": job_id, "status": "succeeded"}


def test_job_object_has_every_contract_field(api: Api) -> None:
    job = api.wait(api.submit("sampling", BELL, shots=1))
    assert list(job) == list(JOB_FIELDS)
    assert list(job["job_info"]) == list(JOB_INFO_FIELDS)


def test_list_filters_by_q_status_and_fields(api: Api) -> None:
    tag = uuid.uuid4().hex
    ids = [api.submit("sampling", BELL, shots=1, name=f"{tag}-{i}") for i in range(3)]
    for job_id in ids:
        api.wait(job_id)
    listed = api.get("/jobs", params={"q": tag, "fields": "job_id,status", "size": 50}).json()
    assert {job["job_id"] for job in listed} == set(ids)
    assert all(set(job) == {"job_id", "status"} for job in listed)
    failed = api.get("/jobs", params={"q": tag, "status": "failed"}).json()
    assert failed == []
    by_description = api.submit("sampling", BELL, shots=1, description=f"about {tag}")
    assert by_description in {j["job_id"] for j in api.get("/jobs", params={"q": tag}).json()}


def test_list_pages_in_creation_order_both_ways(api: Api) -> None:
    tag = uuid.uuid4().hex
    ids = [api.submit("sampling", BELL, shots=1, name=tag) for _ in range(5)]

    def page(number: int, order: str) -> list[str]:
        params = {"q": tag, "size": 2, "page": number, "order": order, "fields": "job_id"}
        return [job["job_id"] for job in api.get("/jobs", params=params).json()]

    assert page(1, "ASC") + page(2, "ASC") + page(3, "ASC") == ids
    assert page(1, "DESC") == ids[::-1][:2]
    assert page(4, "ASC") == []


def test_list_without_order_is_oldest_first_as_the_specification_says(api: Api) -> None:
    tag = uuid.uuid4().hex
    ids = [api.submit("sampling", BELL, shots=1, name=tag) for _ in range(3)]
    listed = api.get("/jobs", params={"q": tag, "fields": "job_id"}).json()
    assert [job["job_id"] for job in listed] == ids
    by_id = api.get("/jobs", params={"q": ids[1][-12:]}).json()  # q also searches ids
    assert [job["job_id"] for job in by_id] == [ids[1]]


@pytest.mark.timing
def test_list_time_window_selects_jobs_submitted_inside_it(api: Api) -> None:
    tag = uuid.uuid4().hex
    before = api.submit("sampling", BELL, shots=1, name=tag)
    time.sleep(0.05)
    # The reference client's format: microseconds and a +0000 offset.
    start = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    time.sleep(0.05)
    inside = api.submit("sampling", BELL, shots=1, name=tag)
    params = {"q": tag, "start_time": start}
    assert [job["job_id"] for job in api.get("/jobs", params=params).json()] == [inside]
    params = {"q": tag, "end_time": start.replace("+0000", "Z")}
    assert [job["job_id"] for job in api.get("/jobs", params=params).json()] == [before]
    # As the specification says, the window is on submitted_at: a job registered inside it
    # but never submitted is in no window.
    registered = api.register()["job_id"]
    params = {"start_time": start, "size": "1000", "fields": "job_id"}
    listed = {job["job_id"] for job in api.get("/jobs", params=params).json()}
    assert inside in listed
    assert registered not in listed


@pytest.mark.parametrize(
    "params",
    [{"order": "sideways"}, {"status": "happy"}, {"page": 0}, {"size": 0}, {"start_time": "x"}],
)
def test_list_with_invalid_query_is_400(api: Api, params: dict[str, object]) -> None:
    response = api.get("/jobs", params=params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_cancel_of_a_waiting_job_ends_cancelled(api: Api) -> None:
    api.set_device("qulacs", status="unavailable")
    job_id = api.submit("sampling", BELL, shots=1)
    response = api.post(f"/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["message"]
    assert api.status(job_id) in {"cancelling", "cancelled"}
    job = api.wait(job_id)
    assert job["status"] == "cancelled"
    assert job["job_info"]["result"] is None


def test_cancel_of_a_running_job_ends_cancelled_without_result(api: Api) -> None:
    api.set_device("qulacs", execution_delay=1.5)
    job_id = api.submit("sampling", BELL, shots=1)
    api.wait_for(job_id, {"running"})
    assert api.post(f"/jobs/{job_id}/cancel").status_code == 200
    assert api.status(job_id) == "cancelling"
    job = api.wait(job_id)
    assert job["status"] == "cancelled"
    assert job["job_info"]["result"] is None


def test_cancel_delay_holds_a_running_job_cancelling_until_released(api: Api) -> None:
    # Both holds are an hour: what is seen cannot depend on the machine's speed.
    api.set_device("qulacs", execution_delay=3600, cancel_delay=3600)
    job_id = api.submit("sampling", BELL, shots=1)
    api.wait_for(job_id, {"running"})
    assert api.post(f"/jobs/{job_id}/cancel").status_code == 200
    assert api.status(job_id) == "cancelling"
    again = api.post(f"/jobs/{job_id}/cancel")  # the contract: 400 unless submitted|ready|running
    assert again.status_code == 400
    assert "cannot be cancelled in status cancelling" in again.json()["message"]
    assert api.status(job_id) == "cancelling"
    api.set_device("qulacs", cancel_delay=0.0)  # release the stop
    job = api.wait(job_id)
    assert job["status"] == "cancelled"
    assert job["job_info"]["result"] is None


def test_a_job_that_succeeds_while_cancelling_ends_succeeded_with_its_result(
    offline_state: ServerState,
) -> None:
    # The worker's success arrives after the cancel request and before the stop: the
    # scheduler records it as the worker reports it (no HTTP, no timing).
    store = offline_state.store
    job_id = store.register_job()
    store.update_job(job_id, {"status": CANCELLING})
    write_payload_files(store.job_dir(job_id), "result", RESULT, stage=True)
    offline_state.scheduler.record(job_id, Outcome(True, True, None, 0.25, ("result",)))
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.execution_time) == (SUCCEEDED, 0.25)
    assert store.read_payload(job_id, "result") == RESULT


def test_a_job_that_fails_while_cancelling_ends_cancelled_without_result(
    offline_state: ServerState,
) -> None:
    # Its worker was killed by the stop: the failure is the cancel's doing.
    store = offline_state.store
    job_id = store.register_job()
    store.update_job(job_id, {"status": CANCELLING})
    offline_state.scheduler.record(job_id, Outcome(False, True, "killed"))
    job = store.get_job(job_id)
    assert job is not None
    assert job.status == CANCELLED
    assert store.read_payload(job_id, "result") is None


def test_cancel_of_an_ended_or_registered_job_is_400(api: Api) -> None:
    ended = api.submit("sampling", BELL, shots=1)
    api.wait(ended)
    registered = api.register()["job_id"]
    for job_id in (ended, registered):
        response = api.post(f"/jobs/{job_id}/cancel")
        assert response.status_code == 400
        assert "cannot be cancelled" in response.json()["message"]


def test_delete_needs_a_terminal_job_and_then_it_is_gone(api: Api) -> None:
    api.set_device("qulacs", status="unavailable")
    job_id = api.submit("sampling", BELL, shots=1)
    refused = api.delete(f"/jobs/{job_id}")
    assert refused.status_code == 400
    assert "cannot be deleted" in refused.json()["message"]
    api.set_device("qulacs", status="available")
    result_url = api.wait(job_id)["job_info"]["result"]
    assert api.delete(f"/jobs/{job_id}").status_code == 200
    assert api.get(f"/jobs/{job_id}").status_code == 404
    assert api.delete(f"/jobs/{job_id}").status_code == 404
    assert api.session.get(result_url, timeout=10).status_code == 404


def test_many_jobs_at_once_all_succeed(api: Api) -> None:
    ids = [api.submit("sampling", BELL, shots=100) for _ in range(8)]
    assert {api.wait(job_id)["status"] for job_id in ids} == {"succeeded"}


@pytest.mark.timing
def test_the_worker_pool_bounds_how_many_jobs_run_at_once(api: Api) -> None:
    # Jobs that never end on their own (1 h each), so that what is seen cannot depend on
    # how fast the machine submits and polls; cancelled at the end.
    api.set_device("qulacs", execution_delay=3600)
    ids = [api.submit("sampling", BELL, shots=1) for _ in range(3)]
    try:
        most_running = 0
        deadline = time.monotonic() + 120  # only stops a hang
        while True:
            statuses = [api.status(job_id) for job_id in ids]
            most_running = max(most_running, statuses.count("running"))
            if sorted(statuses) == ["ready", "running", "running"]:
                break
            assert time.monotonic() < deadline, f"never two running, one ready: {statuses}"
            time.sleep(0.05)
        # The session server has two workers: the third job waits, ready, for a free one.
        assert most_running == 2
    finally:
        api.set_device("qulacs", execution_delay=0.0)
        for job_id in ids:
            api.post(f"/jobs/{job_id}/cancel")
    assert {api.wait(job_id)["status"] for job_id in ids} == {"cancelled"}


# -- delete racing submit and delete: interleavings forced by a hook, in process -----------


@pytest.fixture
def offline_state(tmp_path: Path) -> Iterator[ServerState]:
    """The server's state without HTTP or workers: routes called as functions."""
    state = build_state(ServerSettings(data_dir=tmp_path, token="t"))
    yield state
    state.store.close()


def _after_first_read(state: ServerState, action: Callable[[], object]) -> None:
    """Run ``action`` once, right after the next route reads a job: the race's other side."""
    read = state.store.get_job
    pending = [action]

    def get_job_then_race(job_id: str) -> JobRow | None:
        job = read(job_id)
        while pending:
            pending.pop()()
        return job

    state.store.get_job = get_job_then_race  # type: ignore[method-assign]


def test_a_delete_that_read_registered_does_not_delete_a_job_submitted_meanwhile(
    offline_state: ServerState,
) -> None:
    store = offline_state.store
    job_id = store.register_job()
    _after_first_read(offline_state, lambda: store.update_job(job_id, {"status": SUBMITTED}))
    with pytest.raises(ApiError) as refused:
        routes_user.delete_job(job_id, offline_state, Caller())
    assert refused.value.status_code == 400
    assert "cannot be deleted in status submitted" in str(refused.value.detail)
    job = store.get_job(job_id)
    assert job is not None
    assert job.status == SUBMITTED
    assert store.job_dir(job_id).is_dir()


def test_of_two_racing_deletes_only_one_deletes_and_the_other_is_404(
    offline_state: ServerState,
) -> None:
    store = offline_state.store
    job_id = store.register_job()
    answers: list[dict[str, str]] = []
    _after_first_read(
        offline_state,
        lambda: answers.append(routes_user.delete_job(job_id, offline_state, Caller())),
    )
    with pytest.raises(ApiError) as second:
        routes_user.delete_job(job_id, offline_state, Caller())
    assert answers == [{"message": "job deleted"}]
    assert second.value.status_code == 404
    assert store.get_job(job_id) is None
    assert not store.job_dir(job_id).exists()


def test_an_upload_that_loses_to_a_delete_leaves_nothing_behind(
    offline_state: ServerState,
) -> None:
    # The upload checked the job, then wrote into its directory: after a delete in between,
    # the write made the directory again, with the input in it, for no job.
    store = offline_state.store
    job_id = store.register_job()
    job = store.get_job(job_id)
    assert job is not None

    def stage_then_race(directory: Path) -> None:
        write_payload_files(directory, "input", BELL)
        assert store.delete_job(job_id)

    with pytest.raises(ApiError) as refused:
        submission.keep_input(offline_state, job, stage_then_race)
    assert refused.value.status_code == 404
    assert not store.job_dir(job_id).exists()
    assert list((offline_state.settings.data_dir / "staging").iterdir()) == []
