"""Listing jobs: ``GET /jobs`` page after page, as job objects of the right class.

The service answers one page at a time (a bare array, no total); :func:`iter_jobs` asks for
the next page until a page is short, and stops at ``limit``. A server that answers a page
past the end with its last page again (as the specification allows) is stopped too: a page
that brings no job not yet seen ends the listing, and no job is yielded twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import (
    JOB_STATUSES,
    LIST_ORDERS,
    MAX_LIST_PAGE_SIZE,
    JobListQuery,
)
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.backend.errors import OqtopusInvalidArgumentError
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.transport import preview

__all__ = ["JobListing", "iter_jobs"]

#: What a job object needs of a listed job, whatever ``fields`` the user asks for.
_NEEDED_FIELDS = ("job_id", "job_type", "status")


@dataclass(frozen=True)
class JobListing:
    """A checked ``GET /jobs`` query, and how many pages and jobs to read."""

    query: JobListQuery
    first_page: int
    size: int
    limit: int | None

    @classmethod
    def checked(
        cls,
        *,
        fields: Sequence[str] | None,
        start_time: datetime | str | None,
        end_time: datetime | str | None,
        status: str | None,
        q: str | None,
        page: int,
        size: int,
        order: str,
        limit: int | None,
    ) -> JobListing:
        """The listing, checked before anything is sent.

        Raises:
            ValueError: (also a ``BackendError``) For a status that is not a job status,
                an order other than ``ASC``/``DESC``, a page or size that is not a
                positive int (size at most 65,535), a negative ``limit``, a time that is
                neither a ``datetime`` nor a string, or ``fields`` that is one string.

        """
        query: dict[str, Any] = {"order": _order(order)}
        if fields is not None:
            query["fields"] = ",".join(_fields(fields))
        for name, moment in (("start_time", start_time), ("end_time", end_time)):
            if moment is not None:
                query[name] = _iso_time(name, moment)
        if status is not None:
            if status not in JOB_STATUSES:
                raise OqtopusInvalidArgumentError(
                    f"status should be one of {', '.join(JOB_STATUSES)}: {status!r}"
                )
            query["status"] = status
        if q is not None:
            if not isinstance(q, str):
                raise OqtopusInvalidArgumentError(f"q should be a string: {q!r}")
            query["q"] = q
        _positive("page", page, None)
        _positive("size", size, MAX_LIST_PAGE_SIZE)
        if limit is not None and (not is_int(limit) or limit < 0):
            raise OqtopusInvalidArgumentError(f"limit should be a non-negative int: {limit!r}")
        return cls(cast("JobListQuery", query), page, size, limit)


def iter_jobs(
    client: OqtopusHttpClient,
    listing: JobListing,
    keep: Callable[[JobRecord], bool] = lambda record: True,
) -> Iterator[JobRecord]:
    """The listed jobs' records, page after page, those ``keep`` accepts, up to the limit.

    Raises:
        BackendError: If a page cannot be read (``"list jobs: ..."``).

    """
    if listing.limit == 0:
        return
    seen: set[str] = set()
    kept = 0
    page = listing.first_page
    while True:
        query: JobListQuery = {**listing.query, "page": page, "size": listing.size}
        answered = client.list_jobs(**query)
        fresh = _new_records(answered, seen, page)
        for record in fresh:
            if keep(record):
                yield record
                kept += 1
                if kept == listing.limit:
                    return
        if len(answered) < listing.size or not fresh:
            return
        page += 1


def _new_records(answered: Sequence[Any], seen: set[str], page: int) -> list[JobRecord]:
    """The page's jobs not listed before (``seen`` grows as they are taken, so that a job
    repeated within one page is taken once too).

    Raises:
        BackendError: If an entry is not a job object with a string ``job_id``.

    """
    fresh: list[JobRecord] = []
    for raw in answered:
        job_id = raw.get("job_id") if isinstance(raw, dict) else None
        if not isinstance(job_id, str):
            raise BackendError(
                f"list jobs: page {page} holds an entry that is not a job: {preview(raw)}"
            )
        if job_id not in seen:
            seen.add(job_id)
            fresh.append(JobRecord(raw))
    return fresh


def _order(order: str) -> str:
    if not isinstance(order, str) or order.upper() not in LIST_ORDERS:
        raise OqtopusInvalidArgumentError(f"order should be ASC or DESC: {order!r}")
    return order.upper()


def _fields(fields: Sequence[str]) -> list[str]:
    if isinstance(fields, str) or not all(isinstance(name, str) for name in fields):
        raise OqtopusInvalidArgumentError(f"fields should be a list of field names: {fields!r}")
    return [*_NEEDED_FIELDS, *(name for name in fields if name not in _NEEDED_FIELDS)]


def _iso_time(name: str, moment: datetime | str) -> str:
    """A time as the query sends it: ISO 8601; a naive ``datetime`` is taken as UTC."""
    if isinstance(moment, str):
        return moment
    if not isinstance(moment, datetime):
        raise OqtopusInvalidArgumentError(f"{name} should be a datetime or a string: {moment!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _positive(name: str, value: object, most: int | None) -> None:
    if not is_int(value) or value < 1 or (most is not None and value > most):
        bound = "" if most is None else f" at most {most:,}"
        raise OqtopusInvalidArgumentError(f"{name} should be a positive int{bound}: {value!r}")
