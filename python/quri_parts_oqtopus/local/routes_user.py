"""The OQTOPUS user API: devices and jobs (every route checks ``q-api-token``)."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse

from quri_parts_oqtopus._contract import (
    CANCELLABLE_STATUSES,
    CANCELLING,
    DELETABLE_STATUSES,
    LIST_ORDERS,
    REGISTERED_JOBS_QUOTA,
    SSE,
    Device,
    Job,
    JobStatus,
    JobStatusResponse,
    Message,
    RegisteredJob,
    SselogResponse,
)

from .errors import bad_request, not_found
from .inputs import check_limits, stored_input
from .models import JobInput, LegacySubmitRequest, SubmitJobRequest
from .presign import upload_form
from .state import Authenticated, Caller, ServerState, State
from .store import JobQuery, JobRow, QuotaExceeded, format_time
from .submission import check_input, keep_input, submit_registered
from .views import INLINE_JOB_INFO_HEADER, device_object, job_object, sse_log_file

# The contract's objects document the answers in /openapi.json; the routes answer plain dicts.
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Message} for code in (400, 401, 404, 413, 500)
}
router = APIRouter(responses=_ERRORS)


def _answers(model: object) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}}


def _job_or_404(state: ServerState, job_id: str, caller: Caller) -> JobRow:
    """The job, 404 when it does not exist or belongs to someone the caller is not."""
    job = state.store.get_job(job_id) if _is_uuid(job_id) else None
    if job is None or not caller.may_see(job):
        raise not_found(f"job {job_id} not found")
    return job


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


#: This server's extension: job_info and device_info inline rather than as archive URLs.
InlineHeader = Annotated[str | None, Header(alias=INLINE_JOB_INFO_HEADER, include_in_schema=False)]

# -- devices -----------------------------------------------------------------------------


@router.get("/devices", tags=["device"], response_model=None, responses=_answers(list[Device]))
def list_devices(
    state: State, caller: Authenticated, inline: InlineHeader = None
) -> list[dict[str, Any]]:
    """Every device, with its live number of pending jobs."""
    base, wanted = caller.url_base(state.settings), inline == "1"
    return [
        device_object(state, device, base, inline=wanted) for device in state.store.list_devices()
    ]


@router.get(
    "/devices/{device_id}", tags=["device"], response_model=None, responses=_answers(Device)
)
def get_device(
    device_id: str, state: State, caller: Authenticated, inline: InlineHeader = None
) -> dict[str, Any]:
    device = state.store.get_device(device_id)
    if device is None:
        raise not_found(f"device {device_id} not found")
    return device_object(state, device, caller.url_base(state.settings), inline=inline == "1")


# -- registering and submitting ------------------------------------------------------------


def _quota_refusal(limit: int, caller: Caller) -> JSONResponse:
    """The 429 of a full registered-jobs quota, with the ``message_code`` that tells
    clients waiting will not clear it (submitting or deleting registered jobs does)."""
    whose = "" if caller.sse_job_id is None else " by this SSE program"
    message = (
        f"{limit} jobs are registered{whose} and not submitted, the most this server"
        " keeps: submit or delete some of them first"
    )
    body = {"message": message, "message_code": REGISTERED_JOBS_QUOTA}
    return JSONResponse(body, status_code=429)


@router.post(
    "/jobs",
    tags=["job"],
    response_model=None,
    responses={**_answers(RegisteredJob), 429: {"model": Message}},
)
def register_job(
    state: State,
    caller: Authenticated,
    body: Annotated[LegacySubmitRequest | None, Body()] = None,
) -> dict[str, Any] | JSONResponse:
    """Without a body: register a job and answer its upload URL. With the legacy body
    (submit fields plus ``job_info``): create and submit the job at once."""
    limit = state.settings.max_registered_jobs
    try:
        job_id = state.store.register_job(parent_job_id=caller.sse_job_id, limit=limit)
    except QuotaExceeded:
        return _quota_refusal(limit, caller)
    if body is None:
        form = upload_form(state, job_id, caller.url_base(state.settings))
        return {"job_id": job_id, "presigned_url": form}
    try:
        check_input(body.job_type, body.job_info)
        _keep_legacy_input(state, job_id, body.job_info)
        submit_registered(state, job_id, body, caller)
    except Exception:  # a refused legacy submission leaves no job behind
        state.store.delete_job(job_id)
        raise
    return {"job_id": job_id}


def _keep_legacy_input(state: ServerState, job_id: str, given: JobInput) -> None:
    job = state.store.get_job(job_id)
    if job is None:
        raise not_found(f"job {job_id} not found")
    limits = state.settings.input_limits

    def stage(staging: Path) -> None:
        state.store.archives.write_payload(
            staging, "input", stored_input(check_limits(given, limits))
        )

    keep_input(state, job, stage)


@router.post(
    "/jobs/{job_id}/submit", tags=["job"], response_model=None, responses=_answers(Message)
)
def submit_job(
    job_id: str, body: SubmitJobRequest, state: State, caller: Authenticated
) -> dict[str, str]:
    """Submit a registered job whose input was uploaded."""
    _job_or_404(state, job_id, caller)
    submit_registered(state, job_id, body, caller)
    return {"message": "job submitted"}


# -- reading ----------------------------------------------------------------------------


@router.get("/jobs/{job_id}", tags=["job"], response_model=None, responses=_answers(Job))
def get_job(
    job_id: str,
    state: State,
    caller: Authenticated,
    inline: InlineHeader = None,
) -> dict[str, Any]:
    # sse_driver reads job_info inline, as in an OQTOPUS container; so does the dashboard.
    wanted = inline == "1"
    job = _job_or_404(state, job_id, caller)
    return job_object(state, job, base=caller.url_base(state.settings), inline=wanted)


@router.get(
    "/jobs/{job_id}/status",
    tags=["job"],
    response_model=None,
    responses=_answers(JobStatusResponse),
)
def get_job_status(job_id: str, state: State, caller: Authenticated) -> dict[str, str]:
    job = _job_or_404(state, job_id, caller)
    return {"job_id": job.job_id, "status": job.status}


_QUERY_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?)?"
    r"(Z|[+\- ]\d{2}:?\d{2})?"
)


def _query_time(text: str | None, name: str) -> str | None:
    """A ``start_time``/``end_time`` in the stored format; naive times are UTC.

    Written out by hand because Python 3.10's ``fromisoformat`` refuses ``Z``, ``+0000``
    and fractions that are not 3 or 6 digits, all of which clients send.
    """
    if text is None:
        return None
    match = _QUERY_TIME.fullmatch(text.strip())
    if match is None:
        raise bad_request(f"{name} is not an ISO-8601 time: {text!r}")
    date, clock, fraction, offset = match.groups()
    if offset is None or offset == "Z":
        offset = "+00:00"
    # An unencoded '+' of an offset arrives as a space.
    offset = offset.replace(" ", "+")
    if ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    clock = clock or "00:00"
    if len(clock) == len("HH:MM"):
        clock += ":00"
    micros = (fraction or "").ljust(6, "0")[:6]
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}.{micros}{offset}")
    except ValueError as e:
        raise bad_request(f"{name} is not an ISO-8601 time: {text!r}") from e
    try:
        return format_time(moment)
    except OverflowError as e:  # e.g. 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
        raise bad_request(f"{name} is out of range (years 1 to 9999 in UTC): {text!r}") from e


@router.get("/jobs", tags=["job"], response_model=None, responses=_answers(list[Job]))
def list_jobs(
    *,
    state: State,
    caller: Authenticated,
    fields: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    status: JobStatus | None = None,
    q: str | None = None,
    # Bounded so that page * size stays a 64-bit SQLite OFFSET.
    page: Annotated[int, Query(ge=1, le=2**31)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 10,
    order: str = "ASC",
) -> list[dict[str, Any]]:
    """Jobs oldest first, as the specification's default (``order=DESC``: newest first),
    filtered and paged; a page past the end is empty."""
    if order.upper() not in LIST_ORDERS:
        raise bad_request(f"order must be ASC or DESC, got {order!r}")
    query = JobQuery(
        status=status,
        q=q,
        start_time=_query_time(start_time, "start_time"),
        end_time=_query_time(end_time, "end_time"),
        page=page,
        size=size,
        descending=order.upper() == "DESC",
        parent_job_id=caller.sse_job_id,  # an SSE program lists only its own jobs
    )
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    jobs = state.store.query_jobs(query)
    # A damaged file of one job shows in that job's message, not as a failed list.
    base = caller.url_base(state.settings)
    return [job_object(state, job, wanted, base=base, tolerate_damage=True) for job in jobs]


# -- acting on jobs -------------------------------------------------------------------------


@router.post(
    "/jobs/{job_id}/cancel", tags=["job"], response_model=None, responses=_answers(Message)
)
def cancel_job(job_id: str, state: State, caller: Authenticated) -> dict[str, str]:
    """Ask a submitted, ready or running job to stop; it ends `cancelled` (or may still win)."""
    job = _job_or_404(state, job_id, caller)
    if not state.store.update_job(job_id, {"status": CANCELLING}, only_from=CANCELLABLE_STATUSES):
        current = state.store.get_job(job_id)
        shown = current.status if current else job.status
        raise bad_request(f"job {job_id} cannot be cancelled in status {shown}")
    if job.job_type == SSE:
        state.sse.cancel(job_id)
    state.scheduler.wake()
    return {"message": "cancel requested"}


@router.delete("/jobs/{job_id}", tags=["job"], response_model=None, responses=_answers(Message))
def delete_job(job_id: str, state: State, caller: Authenticated) -> dict[str, str]:
    """Delete an ended job, or a registered one that was never submitted.

    The status is checked by the delete itself: a job submitted or deleted since it was
    read is not deleted (400 naming its status, or 404).
    """
    _job_or_404(state, job_id, caller)
    if state.store.delete_job(job_id, only_from=DELETABLE_STATUSES):
        return {"message": "job deleted"}
    current = state.store.get_job(job_id)
    if current is None:
        raise not_found(f"job {job_id} not found")
    raise bad_request(f"job {job_id} cannot be deleted in status {current.status}")


@router.get(
    "/jobs/{job_id}/sselog", tags=["job"], response_model=None, responses=_answers(SselogResponse)
)
def get_sselog(job_id: str, state: State, caller: Authenticated) -> dict[str, str]:
    """The SSE log archive, base64-encoded (the older servers' way to fetch it)."""
    job = _job_or_404(state, job_id, caller)
    if job.job_type != SSE:
        raise bad_request(f"job {job_id} is not an sse job")
    log = state.store.sse_log_path(job_id)
    if not log.is_file():
        raise not_found(f"job {job_id} has no SSE log yet")
    name = sse_log_file(job_id)
    archive = state.store.archives.log_archive(log, name)
    return {"file": base64.b64encode(archive).decode("ascii"), "file_name": name}
