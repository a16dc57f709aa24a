"""A job as the server describes it: the JSON object of ``GET /jobs/{id}`` (the contract's
``Job``), read field by field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import Job
from quri_parts_oqtopus.transport import preview

__all__ = ["JobRecord", "parse_timestamp"]

_N = TypeVar("_N", int, float)


class JobRecord:
    """One job as the server describes it: the JSON object of ``GET /jobs/{id}``.

    The accessors take a field's name and read what the server sent, whatever its type:
    what is not what the contract says is a default, or a ``BackendError`` naming it.
    """

    __slots__ = ("raw",)

    def __init__(self, raw: Job | Mapping[str, Any]) -> None:
        if not isinstance(raw.get("job_id"), str):
            raise BackendError(f"job object without a job_id: {preview(raw)}")
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

    def number(self, key: str, kind: Callable[[Any], _N]) -> _N | None:
        """A numeric field as ``kind`` (``int`` or ``float``), None when absent or null.

        Raises:
            BackendError: If the server sent something that is not a number (the message
                names the job, the field and the value).

        """
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        try:
            number = None if isinstance(value, bool) else kind(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None:
            raise BackendError(f"job {self.job_id}: {key} is not a number: {preview(value)}")
        return number

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
