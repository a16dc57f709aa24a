"""``backend/job_list.py`` and the job API of ``OqtopusJobBackendBase``: listing page after
page as job objects, status lookups and deletes. A scripted service (``MockTransport``)
checks the query as the specification spells it; the last tests run against the local
server."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationJob,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSseJob,
)
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.transport import MockResponse, MockTransport

from ..conftest import x_on

API = "https://oqtopus.example"


class ListingService:
    """``GET /jobs`` over ``total`` jobs ``j-0``, ``j-1``, ...; past the end it answers the
    last page again when ``repeat_last`` (the specification allows it), else ``[]``."""

    def __init__(self, total: int, *, repeat_last: bool = False) -> None:
        self.jobs = [self.job(index) for index in range(total)]
        self.repeat_last = repeat_last
        self.queries: list[dict[str, str]] = []

    @staticmethod
    def job(index: int) -> dict[str, Any]:
        job_type = ("sampling", "multi_manual", "estimation", "sse")[index % 4]
        return {"job_id": f"j-{index}", "job_type": job_type, "status": "succeeded"}

    def __call__(self, request: requests.PreparedRequest) -> MockResponse:
        parts = urlsplit(request.url or "")
        if (request.method, parts.path) != ("GET", "/jobs"):
            return MockResponse(404, {"message": "no route"})
        query = dict(parse_qsl(parts.query))
        self.queries.append(query)
        size, page = int(query["size"]), int(query["page"])
        pages = max(1, -(-len(self.jobs) // size))
        if page > pages and self.repeat_last:
            page = pages
        return MockResponse(200, self.jobs[(page - 1) * size : page * size])


def backend_for(service: Any) -> OqtopusJobBackendBase:
    return OqtopusJobBackendBase(
        OqtopusConfig(API, "token-0123", adapter=MockTransport(service), retries=0)
    )


def test_list_jobs_reads_page_after_page_until_a_short_page() -> None:
    service = ListingService(7)
    listed = [job.job_id for job in backend_for(service).list_jobs(size=3)]
    assert listed == [f"j-{i}" for i in range(7)]
    assert [query["page"] for query in service.queries] == ["1", "2", "3"]


def test_a_full_last_page_costs_one_more_read_which_is_empty() -> None:
    service = ListingService(6)
    assert len(list(backend_for(service).list_jobs(size=3))) == 6
    assert [query["page"] for query in service.queries] == ["1", "2", "3"]


def test_a_server_that_repeats_its_last_page_ends_the_listing_without_duplicates() -> None:
    service = ListingService(6, repeat_last=True)
    listed = [job.job_id for job in backend_for(service).list_jobs(size=3)]
    assert listed == [f"j-{i}" for i in range(6)]
    assert len(service.queries) == 3


def test_a_job_repeated_within_one_page_is_listed_once() -> None:
    service = ListingService(4)
    service.jobs[1] = service.job(0)  # j-0 twice on the first page
    listed = [job.job_id for job in backend_for(service).list_jobs(size=10)]
    assert listed == ["j-0", "j-2", "j-3"]
    service = ListingService(4)
    service.jobs[1:3] = [service.job(0), service.job(0)]
    listed = [job.job_id for job in backend_for(service).list_jobs(size=10, limit=2)]
    assert listed == ["j-0", "j-3"]  # the repeats do not use up the limit


@pytest.mark.parametrize("entry", [5, None, "j-1", {"job_id": ["j-1"]}, {"name": "no id"}])
def test_an_entry_that_is_not_a_job_is_a_backend_error_naming_it(entry: object) -> None:
    service = ListingService(3)
    service.jobs[1] = entry  # type: ignore[call-overload]
    with pytest.raises(BackendError, match="list jobs: page 1 holds an entry that is not a job"):
        list(backend_for(service).list_jobs(size=10))


def test_limit_stops_without_reading_further_pages() -> None:
    service = ListingService(50)
    listed = [job.job_id for job in backend_for(service).list_jobs(size=10, limit=12)]
    assert listed == [f"j-{i}" for i in range(12)]
    assert [query["page"] for query in service.queries] == ["1", "2"]


def test_the_first_page_is_read_only_when_iterated() -> None:
    service = ListingService(3)
    jobs = backend_for(service).list_jobs()
    assert service.queries == []
    assert next(jobs).job_id == "j-0"


def test_every_parameter_goes_out_as_the_specification_spells_it() -> None:
    service = ListingService(0)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=9)))
    list(
        backend_for(service).list_jobs(
            fields=["name", "status"],
            start_time=start,
            end_time=datetime(2026, 2, 1),  # naive: UTC
            status="cancelling",
            q="bell",
            page=3,
            size=25,
            order="asc",
        )
    )
    assert service.queries == [
        {
            "fields": "job_id,job_type,status,name",  # what a job object needs, then the rest
            "start_time": "2026-01-01T18:04:05Z",
            "end_time": "2026-02-01T00:00:00Z",
            "status": "cancelling",
            "q": "bell",
            "page": "3",
            "size": "25",
            "order": "ASC",
        }
    ]


def test_listed_jobs_are_objects_of_their_types_class() -> None:
    registered = {"job_id": "j-r", "status": "registered"}  # no type before its submit
    newer = {"job_id": "j-n", "job_type": "annealing", "status": "succeeded"}
    service = ListingService(4)
    service.jobs += [registered, newer]
    jobs = list(backend_for(service).list_jobs())
    assert [type(job) for job in jobs] == [
        OqtopusSamplingJob,
        OqtopusSamplingJob,
        OqtopusEstimationJob,
        OqtopusSseJob,
        OqtopusJobBase,
        OqtopusJobBase,  # a type this client does not know does not stop the listing
    ]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"status": "happy"}, "status"),
        ({"order": "sideways"}, "order"),
        ({"page": 0}, "page"),
        ({"size": 0}, "size"),
        ({"size": 65_536}, "size"),
        ({"size": True}, "size"),
        ({"limit": -1}, "limit"),
        ({"fields": "job_id,name"}, "fields"),
        ({"start_time": 1_700_000_000}, "start_time"),
        ({"q": 5}, "q"),
    ],
)
def test_bad_list_arguments_are_refused_before_anything_is_sent(
    arguments: dict[str, Any], named: str
) -> None:
    service = ListingService(3)
    with pytest.raises(ValueError, match=named) as info:
        backend_for(service).list_jobs(**arguments)
    assert isinstance(info.value, BackendError)
    assert service.queries == []


# -- against the local server -----------------------------------------------------------------


@pytest.fixture
def tagged_jobs(config: OqtopusConfig) -> tuple[str, list[str]]:
    """A name unique to this test and the ids of five ended jobs of that name, oldest first."""
    name = f"list-{uuid.uuid4().hex[:12]}"
    backend = OqtopusSamplingBackend(config)
    jobs = [backend.sample(x_on(i, 5), "qulacs", 5, name=name) for i in range(5)]
    for job in jobs:
        job.wait_for_completion(wait=0.05)
    return name, [job.job_id for job in jobs]


def test_list_jobs_pages_through_the_local_server_both_ways(
    config: OqtopusConfig, tagged_jobs: tuple[str, list[str]]
) -> None:
    name, ids = tagged_jobs
    backend = OqtopusJobBackendBase(config)
    assert [job.job_id for job in backend.list_jobs(q=name, size=2, order="ASC")] == ids
    newest = backend.list_jobs(q=name, size=2, limit=3)
    assert [job.job_id for job in newest] == ids[::-1][:3]
    [first] = backend.list_jobs(q=name, size=2, page=3, order="ASC")
    assert first.job_id == ids[4]
    succeeded = backend.list_jobs(q=name, status="succeeded", fields=["name"])
    assert {(job.job_id, job.name, job.status) for job in succeeded} == {
        (job_id, name, "succeeded") for job_id in ids
    }
    assert list(backend.list_jobs(q=name, status="failed")) == []


def test_status_and_delete_through_the_job_api(
    config: OqtopusConfig, tagged_jobs: tuple[str, list[str]]
) -> None:
    name, ids = tagged_jobs
    backend = OqtopusJobBackendBase(config)
    assert backend.get_job_status(ids[0]) == "succeeded"
    backend.delete_job(ids[0])
    assert [job.job_id for job in backend.list_jobs(q=name, order="ASC")] == ids[1:]
    with pytest.raises(BackendError, match="404"):
        backend.get_job_status(ids[0])
    with pytest.raises(BackendError, match="404"):
        backend.delete_job(ids[0])


def test_a_configuration_that_cannot_be_used_fails_at_the_call_not_at_iteration() -> None:
    backend = OqtopusJobBackendBase(OqtopusConfig("dummy_url", "token-0123"))
    with pytest.raises(ValueError, match="should start with http"):
        backend.list_jobs()
