"""The server's own object storage: presigned uploads of job inputs, ZIP downloads of payloads.

These routes take no ``q-api-token`` (like S3 presigned URLs); the HMAC signature in the
form fields or the query string is the authorisation (see :mod:`.presign`). The request
guard has already bounded the upload's size; :mod:`.upload_form` reads the form.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from quri_parts_oqtopus._contract import REGISTERED

from .codec import ArchiveError, CodecError
from .errors import ApiError, bad_request, not_found
from .presign import (
    DEVICE_INFO_ENTRY,
    UPLOAD_PATH,
    check_device_info_download,
    check_download,
    check_upload_form,
)
from .state import ServerState, State
from .store import PAYLOAD_NAMES
from .submission import keep_input
from .upload_form import read_upload_form
from .views import SSE_LOG_NAME, sse_log_file

router = APIRouter(include_in_schema=False)
# Archives up to this size are answered in one piece (one thread hop instead of several).
_SENT_WHOLE = 1 << 20


@router.post(UPLOAD_PATH, status_code=204)
async def upload(request: Request, state: State) -> Response:
    """Store the ZIP of a registered job's input (a presigned-POST form with a file part)."""
    job_id, data = await read_upload_form(
        request, lambda fields: check_upload_form(state, fields), state.settings.max_upload_bytes
    )
    # Decompressing and storing is blocking work: keep it off the event loop.
    await run_in_threadpool(_store_input, state, job_id, data)
    return Response(status_code=204)


def _store_input(state: ServerState, job_id: str, archive: bytes) -> None:
    job = state.store.get_job(job_id)
    if job is None:
        raise not_found(f"job {job_id} not found")
    if job.status != REGISTERED:
        raise bad_request(f"job {job_id} is already submitted (status {job.status})")
    limits = state.settings.input_limits
    keep_input(
        state, job, lambda staging: state.store.archives.stage_input(archive, staging, limits)
    )


@router.get("/_storage/jobs/{job_id}/{name}.zip")
async def download(
    job_id: str, name: str, state: State, signature: str = "", expires: str = ""
) -> Response:
    """One of a job's payloads as a ZIP holding one JSON file (or the SSE log).

    Payload archives are files on disk, sent in pieces: a large result never holds up
    the other requests.
    """
    check_download(state, job_id, name, expires, signature)
    store = state.store
    if name == SSE_LOG_NAME:
        log = store.sse_log_path(job_id)
        if not log.is_file():
            raise not_found(f"job {job_id} has no SSE log")
        archive = await run_in_threadpool(store.archives.log_archive, log, sse_log_file(job_id))
        return Response(archive, media_type="application/zip")
    if name not in PAYLOAD_NAMES or not store.has_payload(job_id, name):
        raise not_found(f"job {job_id} has no {name}")
    stored = await run_in_threadpool(_intact_archive, state, job_id, name)
    if isinstance(stored, bytes):
        return Response(stored, media_type="application/zip")
    return FileResponse(stored, media_type="application/zip")


@router.get("/_storage/devices/{device_id}/device_info.zip")
async def download_device_info(
    device_id: str, state: State, signature: str = "", expires: str = ""
) -> Response:
    """A device's calibration (``device_info``) as a ZIP holding ``device_info.json``."""
    check_device_info_download(state, device_id, expires, signature)
    device = state.store.get_device(device_id)
    info = None if device is None else device.get("device_info")
    if not isinstance(info, str):
        raise not_found(f"device {device_id} has no device_info")
    archive = await run_in_threadpool(
        state.store.archives.entry_archive, info.encode(), DEVICE_INFO_ENTRY
    )
    return Response(archive, media_type="application/zip")


def _intact_archive(state: ServerState, job_id: str, name: str) -> bytes | Path:
    """The archive's bytes when it is small, else its path (sent in pieces)."""
    try:
        path = state.store.ensure_archive(job_id, name)
        state.store.archives.check_archive(path)
        return path.read_bytes() if path.stat().st_size <= _SENT_WHOLE else path
    except (ArchiveError, CodecError, OSError) as e:
        raise ApiError(500, f"the stored {name} of job {job_id} is unreadable: {e}") from e
