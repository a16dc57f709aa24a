"""The log of an SSE job as text: read out of the ZIP archive it travels in.

OQTOPUS serves the log as a ZIP holding one file: behind the presigned URL of
``job_info.sse_log``, or base64-encoded by the older ``GET /jobs/{id}/sselog``. The local
server does both. The archive is read by the package's one ZIP reader (native).
"""

from __future__ import annotations

from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient, is_url
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.formats.upload import read_archive_entry

__all__ = ["read_log"]


def read_log(client: OqtopusHttpClient, record: JobRecord, max_size: int) -> bytes:
    """The bytes of the log file of the SSE job ``record`` (not its archive).

    Raises:
        BackendError: If the log cannot be downloaded, or is not a ZIP of one file of at
            most ``max_size`` bytes.

    """
    operation = f"download SSE log of job {record.job_id}"
    url = record.info("job_info").get("sse_log")
    if is_url(url):
        return client.download_archive(url, _log_of_archive, operation=operation)
    data, _ = client.get_legacy_sselog(record.job_id)
    try:
        return _log_of_archive(data, max_size=max_size)
    except ValueError as e:
        raise BackendError(f"{operation}: {e}") from e


def _log_of_archive(data: bytes, *, max_size: int) -> bytes:
    _name, content = read_archive_entry(data, max_size=max_size)
    return content
