"""The OQTOPUS user API: devices and jobs (every route checks ``q-api-token``)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from .archive import build_zip
from .devices import public_device
from .errors import bad_request, not_found
from .models import JobStatus, LegacySubmitRequest, SubmitJobRequest
from .state import Authenticated, ServerState, State
from .store import CANCELLABLE_STATUSES, TERMINAL_STATUSES, JobQuery, JobRow, format_time
from .submission import check_input, submit_registered
from .views import job_object

router = APIRouter()
UPLOAD_PATH = "/_storage/upload"


def base_url_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _job_or_404(state: ServerState, job_id: str) -> JobRow:
    job = state.store.get_job(job_id) if _is_uuid(job_id) else None
    if job is None:
        raise not_found(f"job {job_id} not found")
    return job


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


# -- devices -----------------------------------------------------------------------------


@router.get("/devices", tags=["device"])
def list_devices(state: State, _: Authenticated) -> list[dict[str, Any]]:
    """Every device, with its live number of pending jobs."""
    store = state.store
    return [public_device(d, store.count_pending(d["device_id"])) for d in store.list_devices()]


@router.get("/devices/{device_id}", tags=["device"])
def get_device(device_id: str, state: State, _: Authenticated) -> dict[str, Any]:
    device = state.store.get_device(device_id)
    if device is None:
        raise not_found(f"device {device_id} not found")
    return public_device(device, state.store.count_pending(device_id))


# -- registering and submitting ------------------------------------------------------------


def presigned_upload(state: ServerState, base_url: str, job_id: str) -> dict[str, Any]:
    """Where and how a client uploads the input of ``job_id`` (a presigned form POST)."""
    key = f"jobs/{job_id}/input.zip"
    fields = {
        "key": key,
        "AWSAccessKeyId": "oqtopus-local",
        "policy": base64.b64encode(f'{{"key": "{key}"}}'.encode()).decode("ascii"),
        "signature": state.signer.sign(f"upload:{key}"),
    }
    return {"url": f"{base_url}{UPLOAD_PATH}", "fields": fields}


@router.post("/jobs", tags=["job"])
def register_job(
    request: Request,
    state: State,
    caller: Authenticated,
    body: Annotated[LegacySubmitRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Without a body: register a job and answer its upload URL. With the legacy body
    (submit fields plus ``job_info``): create and submit the job at once."""
    job_id = state.store.register_job()
    if body is None:
        return {
            "job_id": job_id,
            "presigned_url": presigned_upload(state, base_url_of(request), job_id),
        }
    try:
        check_input(body.job_type, body.job_info)
        state.store.write_payload(job_id, "input", body.job_info.model_dump(exclude_none=True))
        submit_registered(state, job_id, body, caller)
    except Exception:
        state.store.delete_job(job_id)
        raise
    return {"job_id": job_id}


@router.post("/jobs/{job_id}/submit", tags=["job"])
def submit_job(
    job_id: str, body: SubmitJobRequest, state: State, caller: Authenticated
) -> dict[str, str]:
    """Submit a registered job whose input was uploaded."""
    _job_or_404(state, job_id)
    submit_registered(state, job_id, body, caller)
    return {"message": "job submitted"}


# -- reading ----------------------------------------------------------------------------


@router.get("/jobs/{job_id}", tags=["job"])
def get_job(job_id: str, request: Request, state: State, _: Authenticated) -> dict[str, Any]:
    return job_object(state, _job_or_404(state, job_id), base_url_of(request))


@router.get("/jobs/{job_id}/status", tags=["job"])
def get_job_status(job_id: str, state: State, _: Authenticated) -> dict[str, str]:
    job = _job_or_404(state, job_id)
    return {"job_id": job.job_id, "status": job.status}


def _query_time(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    # An unencoded '+' of an offset arrives as a space.
    cleaned = text.strip().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError as e:
        raise bad_request(f"{name} is not an ISO-8601 time: {text!r}") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_time(moment)


@router.get("/jobs", tags=["job"])
def list_jobs(
    *,
    request: Request,
    state: State,
    _: Authenticated,
    fields: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    status: JobStatus | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 10,
    order: str = "DESC",
) -> list[dict[str, Any]]:
    """Jobs newest first (``order=ASC`` for oldest first), filtered and paged."""
    if order.upper() not in {"ASC", "DESC"}:
        raise bad_request(f"order must be ASC or DESC, got {order!r}")
    query = JobQuery(
        status=status,
        q=q,
        start_time=_query_time(start_time, "start_time"),
        end_time=_query_time(end_time, "end_time"),
        page=page,
        size=size,
        descending=order.upper() == "DESC",
    )
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    base_url = base_url_of(request)
    return [job_object(state, job, base_url, wanted) for job in state.store.query_jobs(query)]


# -- acting on jobs -------------------------------------------------------------------------


@router.post("/jobs/{job_id}/cancel", tags=["job"])
def cancel_job(job_id: str, state: State, _: Authenticated) -> dict[str, str]:
    """Ask a submitted, ready or running job to stop; it ends `cancelled` (or may still win)."""
    job = _job_or_404(state, job_id)
    if not state.store.update_job(job_id, {"status": "cancelling"}, only_from=CANCELLABLE_STATUSES):
        current = state.store.get_job(job_id)
        shown = current.status if current else job.status
        raise bad_request(f"job {job_id} cannot be cancelled in status {shown}")
    if job.job_type == "sse":
        state.sse.cancel(job_id)
    state.scheduler.wake()
    return {"message": "cancel requested"}


@router.delete("/jobs/{job_id}", tags=["job"])
def delete_job(job_id: str, state: State, _: Authenticated) -> dict[str, str]:
    job = _job_or_404(state, job_id)
    if job.status not in TERMINAL_STATUSES:
        raise bad_request(f"job {job_id} cannot be deleted in status {job.status}")
    state.store.delete_job(job_id)
    return {"message": "job deleted"}


@router.get("/jobs/{job_id}/sselog", tags=["job"])
def get_sselog(job_id: str, state: State, _: Authenticated) -> dict[str, str]:
    """The SSE log archive, base64-encoded (the older servers' way to fetch it)."""
    job = _job_or_404(state, job_id)
    if job.job_type != "sse":
        raise bad_request(f"job {job_id} is not an sse job")
    log = state.store.sse_log_path(job_id)
    if not log.is_file():
        raise not_found(f"job {job_id} has no SSE log yet")
    archive = build_zip(f"sselog_{job_id}.log", log.read_bytes())
    return {"file": base64.b64encode(archive).decode("ascii"), "file_name": f"sselog_{job_id}.log"}
