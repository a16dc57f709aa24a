"""How stored jobs look on the wire: job objects with ``job_info`` as ZIP URLs or inline.

The contract's ``Job`` and ``JobInfo`` say which fields and in what order; each field's
value is the ``JobRow`` field of its name (``job_info``'s entries: files, the log, the
message).
"""

from __future__ import annotations

from typing import Any

from quri_parts_oqtopus._contract import JOB_FIELDS, JOB_INFO_FIELDS, SSE

from .devices import public_device
from .errors import ApiError
from .presign import device_info_url, download_url
from .state import ServerState
from .store import PAYLOAD_NAMES, JobRow, UnreadablePayloadError

SSE_LOG_NAME = "sselog"
#: This server's extension header: ``job_info`` (and a device's ``device_info``) inline rather
#: than as archive URLs. The SSE programs' ``sse_driver`` sends it (a container's driver gets
#: jobs inline), and so does the dashboard (which then reads no archive itself).
INLINE_JOB_INFO_HEADER = "x-oqtopus-local-inline-job-info"


def sse_log_file(job_id: str) -> str:
    """The name of an SSE job's log file inside its archive (as OQTOPUS names it)."""
    return f"sselog_{job_id}.log"


def _job_info(
    state: ServerState, job: JobRow, damage: list[str], inline: bool, base: str
) -> dict[str, Any]:
    """``job_info``, its entries in the contract's order; a stored file that cannot be read
    is None and described in ``damage``."""
    store = state.store
    has_log = job.job_type == SSE and store.sse_log_path(job.job_id).is_file()
    log = download_url(state, job.job_id, SSE_LOG_NAME, base) if has_log else None
    others = {"sse_log": log, "message": job.message}
    info: dict[str, Any] = {}
    for name in JOB_INFO_FIELDS:
        if name not in PAYLOAD_NAMES:
            info[name] = others[name]  # a new entry without a value here fails loudly
        elif not store.has_payload(job.job_id, name):
            info[name] = None
        elif inline:
            try:
                info[name] = store.read_payload(job.job_id, name)
            except UnreadablePayloadError as e:
                info[name] = None
                damage.append(str(e))
        else:
            info[name] = download_url(state, job.job_id, name, base)
    return info


def job_object(
    state: ServerState,
    job: JobRow,
    fields: list[str] | None = None,
    *,
    base: str,
    tolerate_damage: bool = False,
    inline: bool = False,
) -> dict[str, Any]:
    """The job as ``GET /jobs/{job_id}`` answers it (only ``fields`` when given), its URLs
    under ``base``.

    Raises:
        ApiError: 500 naming the job and the file when one of its stored files cannot be
            read, unless ``tolerate_damage``: then that value is None and the job's
            ``job_info.message`` says what is damaged (one job never fails a list).

    """
    wanted = [f for f in JOB_FIELDS if fields is None or f in fields]
    view: dict[str, Any] = {}
    damage: list[str] = []
    inline = inline or state.settings.inline_job_info
    for name in wanted:
        if name == "job_info":
            view[name] = _job_info(state, job, damage, inline, base)
        else:
            view[name] = getattr(job, name)
    if damage and not tolerate_damage:
        raise ApiError(500, "; ".join(damage))
    if damage:
        view["job_info"]["message"] = "; ".join(filter(None, [job.message, *damage]))
    return view


def device_object(
    state: ServerState, device: dict[str, Any], base: str, *, inline: bool = False
) -> dict[str, Any]:
    """The device as ``GET /devices/{device_id}`` answers it: ``device_info`` a presigned
    URL (under ``base``) of its ZIP, null when the device has none, as the service serves
    it now; or its JSON text with ``inline_job_info``."""
    shown = public_device(device, state.store.count_pending(device["device_id"]))
    if "device_info" in shown and not (inline or state.settings.inline_job_info):
        shown["device_info"] = device_info_url(state, device["device_id"], base)
    else:
        shown.setdefault("device_info", None)
    return shown
