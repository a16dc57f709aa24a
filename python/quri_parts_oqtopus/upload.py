"""The job-input archive: a ZIP holding one JSON document, uploaded and downloaded."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import orjson

__all__ = ["build_job_archive", "read_job_archive"]

# Bounds what a downloaded archive may expand to, against ZIP bombs.
_MAX_UNCOMPRESSED = 4 * 1024**3


def build_job_archive(archive_name: str, job_input: Mapping[str, Any]) -> bytes:
    """ZIP bytes holding ``job_input`` as JSON in ``<stem of archive_name>.json``."""
    entry = f"{PurePosixPath(archive_name).stem}.json"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(entry, orjson.dumps(job_input))
    return buffer.getvalue()


def read_job_archive(data: bytes) -> Any:
    """The one JSON document inside a job archive.

    Raises:
        ValueError: If ``data`` is not a ZIP, does not hold exactly one file, is too
            large once inflated, or the file is not JSON.

    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) != 1:
                names = [e.filename for e in entries]
                raise ValueError(f"archive must hold exactly one file, found {names}")
            if entries[0].file_size > _MAX_UNCOMPRESSED:
                raise ValueError(f"archive entry is too large: {entries[0].file_size} bytes")
            payload = archive.read(entries[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise ValueError(f"not a valid ZIP archive ({len(data)} bytes): {e}") from e
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise ValueError(f"archive entry {entries[0].filename!r} is not JSON: {e}") from e
