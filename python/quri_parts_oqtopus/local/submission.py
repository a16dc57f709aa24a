"""Submitting a registered job: validate the request and its uploaded input, then queue it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quri_parts_oqtopus._contract import (
    DEFAULT_TRANSPILER_INFO,
    ESTIMATION,
    REGISTERED,
    SAMPLING,
    SSE,
    SUBMITTED,
)

from .codec import ArchiveError, CodecError
from .errors import ApiError, bad_request, not_found
from .inputs import InputError, parse_input
from .models import JobInput, SubmitJobRequest
from .state import Caller, ServerState
from .store import (
    InputQuotaExceeded,
    JobRow,
    NotRegisteredError,
    UnreadablePayloadError,
    utc_now,
)


def keep_input(state: ServerState, job: JobRow, stage: Callable[[Path], None]) -> None:
    """Make what ``stage(directory)`` writes there (the ``input`` payload files, checked)
    the input of the registered ``job``, within what its owner may keep.

    Raises:
        ApiError: 400 naming why the input is refused, or for a job no longer registered;
            404 for a job gone meanwhile; 413 naming the quota an owner's inputs would
            pass; 500 naming the job when the archive helper died.

    """
    setting, quota = state.settings.input_quota(job.parent_job_id)
    with state.store.staging() as directory:
        try:
            stage(directory)
        except (ArchiveError, InputError) as e:
            raise bad_request(str(e)) from e
        except CodecError as e:
            raise ApiError(500, f"the input of job {job.job_id} could not be read: {e}") from e
        try:
            state.store.commit_input(job.job_id, directory, quota)
        except NotRegisteredError as e:
            if e.status is None:
                raise not_found(f"job {job.job_id} not found") from e
            raise bad_request(f"job {job.job_id} is already submitted (status {e.status})") from e
        except InputQuotaExceeded as e:
            whose = "the user's jobs" if job.parent_job_id is None else "this SSE program's jobs"
            raise ApiError(
                413,
                f"the inputs {whose} keep take {e.kept} bytes; this one's {e.size} more would"
                f" pass {setting} = {quota}: delete ended jobs to make room",
            ) from e


def check_input(job_type: str, given: JobInput) -> None:
    """400 unless the input holds what ``job_type`` needs."""
    programs = given.program or []
    if job_type == SSE:
        if not given.sse_program:
            raise bad_request("an sse job needs a non-empty sse_program in its input")
        return
    if not programs:
        raise bad_request(f"a {job_type} job needs at least one program in its input")
    if job_type in {SAMPLING, ESTIMATION} and len(programs) != 1:
        raise bad_request(f"a {job_type} job takes exactly one program, got {len(programs)}")
    if job_type == ESTIMATION and not given.operator:
        raise bad_request("an estimation job needs a non-empty operator in its input")


def _device_for(state: ServerState, request: SubmitJobRequest, caller: Caller) -> str:
    if caller.sse_job_id is not None:
        # Jobs of an SSE program run on the SSE job's device, whatever it names.
        if request.job_type == SSE:
            raise bad_request("an SSE program cannot submit sse jobs")
        parent = state.store.get_job(caller.sse_job_id)
        return parent.device_id if parent and parent.device_id else request.device_id
    if state.store.get_device(request.device_id) is None:
        raise bad_request(f"unknown device_id {request.device_id!r}")
    return request.device_id


def submit_registered(
    state: ServerState, job_id: str, request: SubmitJobRequest, caller: Caller
) -> None:
    """Move a registered job with an uploaded input to `submitted`.

    Raises:
        ApiError: 404 for an unknown job; 400 when it is not registered, has no upload,
            its input does not fit the job type, or the device is unknown; 500 naming
            the job when its stored input cannot be read.

    """
    store = state.store
    job = store.get_job(job_id)
    if job is None or not caller.may_see(job):
        raise not_found(f"job {job_id} not found")
    if job.status != REGISTERED:
        raise bad_request(f"job {job_id} is already submitted (status {job.status})")
    try:
        uploaded = store.read_payload(job_id, "input")
    except UnreadablePayloadError as e:
        raise ApiError(500, str(e)) from e
    if uploaded is None:
        raise bad_request(f"job {job_id} has no uploaded input; upload it to its presigned_url")
    try:
        given = parse_input(uploaded)
    except InputError as e:
        raise bad_request(str(e)) from e
    check_input(request.job_type, given)
    changes: dict[str, Any] = {
        "status": SUBMITTED,
        "job_type": request.job_type,
        "name": request.name or "",  # the real service always has a name
        "description": request.description,
        "device_id": _device_for(state, request, caller),
        "shots": request.shots,
        # The real service stores an empty transpiler_info as its qiskit default.
        "transpiler_info": copy.deepcopy(request.transpiler_info or DEFAULT_TRANSPILER_INFO),
        "simulator_info": request.simulator_info or {},
        "mitigation_info": request.mitigation_info or {},
        "submitted_at": utc_now(),
    }
    if not store.update_job(job_id, changes, only_from=[REGISTERED]):
        current = store.get_job(job_id)  # deleted or submitted since it was read
        if current is None:
            raise not_found(f"job {job_id} not found")
        raise bad_request(f"job {job_id} is already submitted (status {current.status})")
    state.scheduler.wake()
