"""A job as the server describes it: the JSON object of ``GET /jobs/{id}``, read field by field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from quri_parts.backend import BackendError

__all__ = ["JobRecord", "parse_timestamp"]


class JobRecord:
    """One job as the server describes it: the JSON object of ``GET /jobs/{id}``."""

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw.get("job_id"), str):
            raise BackendError(f"job object without a job_id: {raw!r:.200}")
        self.raw: dict[str, Any] = dict(raw)

    @property
    def job_id(self) -> str:
        """The job's id."""
        return str(self.raw["job_id"])

    @property
    def status(self) -> str:
        """The job's status as last seen."""
        return str(self.raw.get("status") or "")

    def with_status(self, status: str) -> JobRecord:
        """A copy of this record with a newer status."""
        return JobRecord({**self.raw, "status": status})

    def text(self, key: str) -> str:
        """A string field, ``""`` when absent or null."""
        value = self.raw.get(key)
        return "" if value is None else str(value)

    def info(self, key: str) -> dict[str, Any]:
        """An object field (``transpiler_info`` ...), ``{}`` when absent, null or not JSON."""
        value = self.raw.get(key)
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                return {}
        return dict(value) if isinstance(value, Mapping) else {}

    def time(self, key: str) -> datetime | None:
        """A timestamp field as a ``datetime``, None when absent or unreadable."""
        return parse_timestamp(self.raw.get(key))

    @property
    def message(self) -> str:
        """``job_info.message``: why the job failed, for instance (``""`` when none)."""
        return str(self.info("job_info").get("message") or "")

    def __repr__(self) -> str:
        return f"JobRecord(job_id={self.job_id!r}, status={self.status!r})"


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 timestamp of the API as a ``datetime``, None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Python 3.10's fromisoformat does not read a trailing "Z".
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
