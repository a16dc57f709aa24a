"""A job set's budget: at most ``max_jobs`` jobs, and ``max_total_time`` of device time, after
which the jobs not yet ended are cancelled and nothing more is submitted."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
import requests
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.batch.budget import BudgetTracker, JobSetBudget
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin


@dataclass
class FakeJob:
    status: str
    execution_time: float = 0.0


def _x_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(1)
    circuit.add_X_gate(0)
    return circuit


# -- the tracker on its own ----------------------------------------------------------------


def test_max_jobs_lets_through_only_what_is_left_of_it() -> None:
    tracker = BudgetTracker(JobSetBudget(max_jobs=5))
    assert tracker.status.name == "Empty"
    assert tracker.allow(3) == 3
    tracker.submitted(3)
    assert tracker.status.name == "Running"
    assert tracker.allow(4) == 2
    tracker.submitted(2)
    assert tracker.allow(1) == 0
    assert tracker.refusal() == "not submitted: the job set's budget max_jobs=5 is spent"


def test_max_total_time_counts_ended_jobs_and_names_the_unended_ones_to_cancel() -> None:
    tracker = BudgetTracker(JobSetBudget(max_total_time=10.0))
    tracker.submitted(5)
    jobs = [
        FakeJob("succeeded", 4.0),
        FakeJob("running", 100.0),  # not ended: its time does not count yet
        FakeJob("failed", 3.0),
        FakeJob("ready"),
        FakeJob("cancelling"),
    ]
    assert tracker.track(jobs) == []
    assert tracker.total_run_time == 7.0
    assert tracker.status.name == "Running"
    jobs[1] = FakeJob("succeeded", 3.5)
    cancel = tracker.track(jobs)
    assert tracker.total_run_time == 10.5
    assert tracker.status.name == "Exceeded"
    assert cancel == [jobs[3]]  # the ready one; the cancelling one is not asked again
    assert tracker.allow(1) == 0
    assert "max_total_time=10 s is spent (10.5 s of device time used)" in tracker.refusal()


def test_a_budget_whose_jobs_all_ended_within_it_is_done() -> None:
    tracker = BudgetTracker(JobSetBudget(max_total_time=10.0))
    tracker.submitted(2)
    assert tracker.track([FakeJob("succeeded", 1.0), FakeJob("cancelled")]) == []
    assert tracker.status.name == "Done"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"max_jobs": 0}, "max_jobs must be a positive int"),
        ({"max_jobs": 2.0}, "max_jobs must be a positive int"),
        ({"max_jobs": True}, "max_jobs must be a positive int"),
        ({"max_total_time": 0}, "max_total_time must be a positive number"),
        ({"max_total_time": float("nan")}, "max_total_time must be a positive number"),
        ({"max_total_time": float("inf")}, "max_total_time must be a positive number"),
        ({"max_total_time": "60"}, "max_total_time must be a positive number"),
    ],
)
def test_a_bad_budget_is_refused_naming_it(fields: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        JobSetBudget(**fields)  # type: ignore[arg-type]


# -- in a job set, against the local server ------------------------------------------------


def test_a_bad_budget_is_refused_before_anything_is_sent(config: OqtopusConfig) -> None:
    with pytest.raises(ValueError, match="max_jobs must be a positive int"):
        OqtopusJobSet.submit([_x_circuit()], "qulacs", 10, config, max_jobs=0)


def _jobs_named(server: LocalServer, name: str) -> list[dict[str, object]]:
    query: dict[str, str | int] = {"q": name, "size": 100}
    answer = requests.get(
        f"{server.url}/jobs",
        params=query,
        headers={"q-api-token": server.token},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    jobs: list[dict[str, object]] = answer.json()
    return jobs


def test_max_jobs_submits_that_many_and_the_rest_say_why(
    server: LocalServer, config: OqtopusConfig
) -> None:
    name = f"budget-{uuid.uuid4().hex[:10]}"
    job_set = OqtopusJobSet.submit([_x_circuit()] * 5, "qulacs", 10, config, name=name, max_jobs=2)
    assert job_set.tracker.jobs_submitted == 2
    assert job_set.wait(timeout=120, wait=0.05)
    failures = job_set.failures()
    assert [f.index for f in failures] == [2, 3, 4]
    assert {f.message for f in failures} == {
        "not submitted: the job set's budget max_jobs=2 is spent"
    }
    assert job_set.resubmit_failed() == []  # the budget holds for resubmissions too
    assert len(_jobs_named(server, name)) == 2  # the server saw two jobs, no more
    assert job_set.tracker.status.name == "Done"


def test_past_max_total_time_the_jobs_not_ended_are_cancelled(
    server: LocalServer, config: OqtopusConfig, admin: Admin
) -> None:
    # Three jobs held running or ready by a device that never finishes; the server is made
    # to say the first one ended after 5 s of device time (a canned answer for its reads):
    # past the budget of 1 s, so the set cancels the other two.
    admin.set_device("qulacs", execution_delay=3600)
    job_set = OqtopusJobSet.submit([_x_circuit()] * 3, "qulacs", 10, config, max_total_time=1.0)
    first = job_set.jobs[0]
    assert first is not None
    ended = {"job_id": first.job_id, "job_type": "sampling", "status": "succeeded",
             "device_id": "qulacs", "shots": 10, "execution_time": 5.0,
             "job_info": {"message": None}}  # fmt: skip
    status = {"job_id": first.job_id, "status": "succeeded"}
    admin.add_fault(path=f"^/jobs/{first.job_id}/status$", method="GET", status=200,
                    body=json.dumps(status), times=-1)  # fmt: skip
    admin.add_fault(path=f"^/jobs/{first.job_id}$", method="GET", status=200,
                    body=json.dumps(ended), times=-1)  # fmt: skip
    assert job_set.wait(timeout=120, wait=0.05)
    statuses = [job.status for job in job_set.jobs if job is not None]
    assert statuses == ["succeeded", "cancelled", "cancelled"]
    assert job_set.tracker.status.name == "Exceeded"
    assert job_set.tracker.total_run_time == 5.0
    assert job_set.metrics().execution_time == 5.0
    admin.clear_faults()
    first.cancel()  # the real job, still held by the device: let it go
