"""The server's own object storage: presigned uploads of job inputs, ZIP downloads of payloads.

These routes take no ``q-api-token`` (like S3 presigned URLs); the HMAC signature in the
form fields or the query string is the authorisation.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from .archive import ArchiveError, build_json_zip, build_zip, read_single_json_zip
from .errors import ApiError, bad_request, not_found
from .routes_user import UPLOAD_PATH, base_url_of, presigned_upload
from .state import ServerState, State
from .store import PAYLOAD_NAMES
from .submission import parse_input
from .views import SSE_LOG_NAME

router = APIRouter(include_in_schema=False)
_UPLOAD_KEY = re.compile(r"jobs/([0-9a-f-]{36})/input\.zip")
# Room for the form fields and multipart framing around the file part.
_FORM_OVERHEAD = 64 * 1024


async def _read_file_part(part: UploadFile, limit: int) -> bytes:
    data = await part.read(limit + 1)
    if len(data) > limit:
        raise bad_request(f"the uploaded file exceeds {limit} bytes")
    return data


def _check_fields(state: State, base_url: str, form_fields: dict[str, str]) -> str:
    """The job id of a correctly signed upload form; 400/403 otherwise."""
    match = _UPLOAD_KEY.fullmatch(form_fields.get("key", ""))
    if match is None:
        raise bad_request("the upload form has no valid key field")
    job_id = match.group(1)
    expected = presigned_upload(state, base_url, job_id)["fields"]
    for name, value in expected.items():
        if form_fields.get(name) != value:
            raise ApiError(403, f"upload field {name!r} does not match the presigned form")
    return job_id


@router.post(UPLOAD_PATH, status_code=204)
async def upload(request: Request, state: State) -> Response:
    """Store the ZIP of a registered job's input (a presigned-POST form with a file part)."""
    limit = state.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        # Like S3: the declared length is what bounds the body the server reads.
        raise bad_request("the upload needs a Content-Length header")
    if int(declared) > limit + _FORM_OVERHEAD:
        raise bad_request(f"the upload exceeds {limit} bytes")
    form = await request.form(max_files=1, max_fields=32)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        job_id = _check_fields(state, base_url_of(request), fields)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise bad_request("the upload form has no file part")
        data = await _read_file_part(part, limit)
    finally:
        await form.close()
    # Decompressing and storing is blocking work: keep it off the event loop.
    await run_in_threadpool(_store_input, state, job_id, data)
    return Response(status_code=204)


def _store_input(state: ServerState, job_id: str, archive: bytes) -> None:
    job = state.store.get_job(job_id)
    if job is None:
        raise not_found(f"job {job_id} not found")
    if job.status != "registered":
        raise bad_request(f"job {job_id} is already submitted (status {job.status})")
    try:
        value = read_single_json_zip(archive, state.settings.max_json_bytes)
    except ArchiveError as e:
        raise bad_request(str(e)) from e
    parse_input(value)
    state.store.write_payload(job_id, "input", value)


@router.get("/_storage/jobs/{job_id}/{name}.zip")
def download(job_id: str, name: str, signature: str, state: State) -> Response:
    """One of a job's payloads as a ZIP holding one JSON file (or the SSE log)."""
    if not state.signer.verify(f"download:{job_id}/{name}", signature):
        raise ApiError(403, "invalid signature")
    store = state.store
    if name == SSE_LOG_NAME:
        log = store.sse_log_path(job_id)
        if not log.is_file():
            raise not_found(f"job {job_id} has no SSE log")
        archive = build_zip(f"sselog_{job_id}.log", log.read_bytes(), log.stat().st_mtime)
    elif name in PAYLOAD_NAMES and store.has_payload(job_id, name):
        modified = store.payload_path(job_id, name).stat().st_mtime
        archive = build_json_zip(f"{name}.json", store.read_payload(job_id, name), modified)
    else:
        raise not_found(f"job {job_id} has no {name}")
    return Response(archive, media_type="application/zip")
