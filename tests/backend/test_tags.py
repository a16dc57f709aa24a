"""``backend/tags.py``: tags kept in a job's description, refused before anything is sent,
folded in once by every way of submitting, found again by ``list_jobs(tags=...)``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from quri_parts.backend import BackendError
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationBackend,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSseBackend,
)
from quri_parts_oqtopus.backend.tags import check_tags, description_with_tags, has_tags, tags_of
from quri_parts_oqtopus.estimator import (
    create_oqtopus_concurrent_estimator,
    create_oqtopus_estimator,
    create_oqtopus_packed_estimator,
)
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler, create_oqtopus_sampler
from quri_parts_oqtopus.transport import MockResponse, MockTransport

from ..conftest import x_on

QASM = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;'
Z0 = Operator({pauli_label("Z0"): 1.0})


def test_tags_go_under_the_users_description_on_one_line() -> None:
    assert description_with_tags("my run", ("chem", "run-7")) == "my run\ntags: #chem #run-7"
    assert description_with_tags(None, ("chem",)) == "tags: #chem"
    assert description_with_tags("", ("chem",)) == "tags: #chem"
    assert description_with_tags("my run", ()) == "my run"
    assert description_with_tags(None, ()) is None


def test_tags_are_read_back_from_the_last_line_only() -> None:
    assert tags_of("line one\ntags: #a #b:c") == ("a", "b:c")
    assert tags_of("tags: #a\nand more text") == ()
    assert tags_of("tags: not ours") == ()  # a line of the user's that only looks alike
    assert tags_of("") == ()
    assert tags_of(None) == ()
    assert tags_of("tags: #a #a #b") == ("a", "b")  # each once, as a submission writes them
    too_many = "tags: " + " ".join(f"#t{i}" for i in range(17))
    assert tags_of(too_many) == ()  # more than a job has: not a line a submission wrote
    assert tags_of("tags: #ok\r") == ()  # a carriage return is no tag character


def test_has_tags_is_exact_where_the_servers_search_is_a_substring() -> None:
    assert has_tags("tags: #run-7 #chem", ("run-7",))
    assert has_tags("tags: #run-7 #chem", ("chem", "run-7"))
    assert not has_tags("tags: #run-70", ("run-7",))
    assert not has_tags("about #run-7", ("run-7",))  # not on a tags line
    assert has_tags("anything", ())


def test_check_tags_keeps_the_order_and_drops_repeats() -> None:
    assert check_tags(["b", "a", "b"]) == ("b", "a")
    assert check_tags(None) == ()
    assert check_tags(("user@lab", "x=1+2", "a/b.c_d:e")) == ("user@lab", "x=1+2", "a/b.c_d:e")


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ("chem", "not one string"),
        (["two words"], "'two words'"),
        (["#chem"], "'#chem'"),
        ([""], "at least one"),
        (["é"], "'é'"),
        (["x" * 65], "at most 64 characters"),
        ([f"t{i}" for i in range(17)], "at most 16 tags"),
        ([7], "should be a string"),
    ],
)
def test_bad_tags_are_a_value_error_naming_the_tag(tags: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        check_tags(tags)
    assert isinstance(info.value, BackendError)


# -- every way of submitting refuses them before anything is sent ----------------------------


def never_called(request: requests.PreparedRequest) -> MockResponse:
    raise AssertionError(f"a request was sent: {request.method} {request.url}")


MOCK = OqtopusConfig("https://oqtopus.example", "token-0123", adapter=MockTransport(never_called))


def submissions(tmp_path: Path) -> dict[str, Callable[[list[str]], object]]:
    program = tmp_path / "program.py"
    program.write_text("print('hi')\n", encoding="utf-8")
    sampling = OqtopusSamplingBackend(MOCK)
    estimation = OqtopusEstimationBackend(MOCK)
    return {
        "sample": lambda tags: sampling.sample(x_on(0, 1), "qpu", 5, tags=tags),
        "sample_qasm": lambda tags: sampling.sample_qasm(QASM, "qpu", 5, tags=tags),
        "estimate": lambda tags: estimation.estimate(x_on(0, 1), Z0, "qpu", 5, tags=tags),
        "estimate_qasm": lambda tags: estimation.estimate_qasm(QASM, Z0, "qpu", 5, tags=tags),
        "run_sse": lambda tags: OqtopusSseBackend(MOCK).run_sse(
            str(program), "qpu", "n", tags=tags
        ),
        "job set": lambda tags: OqtopusJobSet.submit(
            [QASM], "qpu", 5, MOCK, check_device=False, tags=tags
        ),
        "sampler": lambda tags: create_oqtopus_sampler("qpu", MOCK, tags=tags),
        "concurrent sampler": lambda tags: create_oqtopus_concurrent_sampler(
            "qpu", MOCK, tags=tags
        ),
        "estimator": lambda tags: create_oqtopus_estimator("qpu", 5, MOCK, tags=tags),
        "concurrent estimator": lambda tags: create_oqtopus_concurrent_estimator(
            "qpu", 5, MOCK, tags=tags
        ),
        "packed estimator": lambda tags: create_oqtopus_packed_estimator(
            "qpu", 50, MOCK, tags=tags
        ),
        "list_jobs": lambda tags: OqtopusJobBackendBase(MOCK).list_jobs(tags=tags),
    }


@pytest.mark.parametrize(
    "way",
    [
        "sample",
        "sample_qasm",
        "estimate",
        "estimate_qasm",
        "run_sse",
        "job set",
        "sampler",
        "concurrent sampler",
        "estimator",
        "concurrent estimator",
        "packed estimator",
        "list_jobs",
    ],
)
def test_every_way_of_submitting_refuses_a_bad_tag_before_sending(way: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'has space'"):
        submissions(tmp_path)[way](["ok", "has space"])


# -- against the local server ------------------------------------------------------------------


def test_a_tagged_job_keeps_the_users_description_and_its_tags(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(
        x_on(0, 1), "qulacs", 5, description="my run", tags=["chem", "run-7"]
    )
    assert job.description == "my run\ntags: #chem #run-7"  # what the server holds
    assert job.tags == ("chem", "run-7")
    job.refresh()
    assert job.tags == ("chem", "run-7")


def test_list_jobs_by_tags_checks_them_exactly(config: OqtopusConfig) -> None:
    unique = uuid.uuid4().hex[:10]
    sampling = OqtopusSamplingBackend(config)
    seven = sampling.sample(x_on(0, 1), "qulacs", 5, tags=[f"{unique}-7", "chem"])
    seventy = sampling.sample(x_on(0, 1), "qulacs", 5, tags=[f"{unique}-70", "chem"])
    plain = sampling.sample(x_on(0, 1), "qulacs", 5, description=f"about #{unique}-7")
    backend = OqtopusJobBackendBase(config)
    assert [job.job_id for job in backend.list_jobs(tags=[f"{unique}-7"])] == [seven.job_id]
    both = backend.list_jobs(tags=["chem", f"{unique}-70"], fields=["name"])
    assert [(job.job_id, job.tags) for job in both] == [(seventy.job_id, (f"{unique}-70", "chem"))]
    found = {job.job_id for job in backend.list_jobs(q=unique)}
    assert {seven.job_id, seventy.job_id, plain.job_id} <= found


def test_a_job_set_folds_its_tags_into_every_jobs_description_once(
    config: OqtopusConfig,
) -> None:
    unique = uuid.uuid4().hex[:10]
    job_set = OqtopusJobSet.submit(
        [x_on(0, 2), x_on(1, 2)], "qulacs", 5, config, description="sweep", tags=[unique]
    )
    assert [job.description for job in job_set.jobs if job is not None] == [
        f"sweep\ntags: #{unique}"
    ] * 2
    listed = OqtopusJobBackendBase(config).list_jobs(tags=[unique])
    # Submitted concurrently: created in any order.
    assert sorted(job.job_id for job in listed) == sorted(job.job_id for job in job_set.jobs if job)
