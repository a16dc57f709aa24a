"""How stored jobs look on the wire: job objects with ``job_info`` as ZIP URLs or inline."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .state import ServerState
from .store import PAYLOAD_NAMES, JobRow

SSE_LOG_NAME = "sselog"
JOB_FIELDS = (
    "job_id",
    "name",
    "description",
    "job_type",
    "status",
    "device_id",
    "shots",
    "job_info",
    "transpiler_info",
    "simulator_info",
    "mitigation_info",
    "execution_time",
    "submitted_at",
    "ready_at",
    "running_at",
    "ended_at",
)


def storage_url(state: ServerState, base_url: str, job_id: str, name: str) -> str:
    """A presigned download URL of one of the job's archives on this server."""
    signature = state.signer.sign(f"download:{job_id}/{name}")
    return f"{base_url}/_storage/jobs/{quote(job_id)}/{name}.zip?signature={signature}"


def _job_info(state: ServerState, job: JobRow, base_url: str) -> dict[str, Any]:
    store = state.store
    info: dict[str, Any] = {}
    for name in PAYLOAD_NAMES:
        if not store.has_payload(job.job_id, name):
            info[name] = None
        elif state.settings.inline_job_info:
            info[name] = store.read_payload(job.job_id, name)
        else:
            info[name] = storage_url(state, base_url, job.job_id, name)
    has_log = job.job_type == "sse" and store.sse_log_path(job.job_id).is_file()
    info["sse_log"] = storage_url(state, base_url, job.job_id, SSE_LOG_NAME) if has_log else None
    info["message"] = job.message
    return info


def job_object(
    state: ServerState, job: JobRow, base_url: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """The job as ``GET /jobs/{job_id}`` answers it (only ``fields`` when given)."""
    wanted = [f for f in JOB_FIELDS if fields is None or f in fields]
    view: dict[str, Any] = {}
    for name in wanted:
        view[name] = _job_info(state, job, base_url) if name == "job_info" else getattr(job, name)
    return view
