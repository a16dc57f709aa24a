"""A job's ``job_info``: its archives, downloaded once on first use, and the dict users see.

Each archive is read by what it holds: a program (``combined_program``) is OpenQASM text,
as the OQTOPUS engine writes it, or that text as a JSON string; ``input``, ``result`` and
``transpile_result`` are JSON objects (a transpile result may also be the transpiled
program's text). An archive that holds anything else is an error naming the job and the
entry, raised at once: it would read the same at every download.

The dict is laid out as quri-parts-oqtopus 1.1.5 shows it (its ``to_json`` text and the keys
user code reads): an entry downloaded from an archive keeps only the fields of the
reference's model of it, absent values are left out, ``program`` and ``operator`` are
copied up from ``input``, and ``message`` is always there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import (
    ARCHIVED_INFO_FIELDS,
    ESTIMATION,
    JOB_INFO_FIELDS,
    JOB_INPUT_FIELDS,
    PROGRAM_INFO_FIELDS,
    SAMPLING,
)
from quri_parts_oqtopus._http import ArchiveReader, is_url
from quri_parts_oqtopus._job_api import JobApi, http_api
from quri_parts_oqtopus.formats.upload import (
    read_job_archive,
    read_program_archive,
    read_transpile_result_archive,
)
from quri_parts_oqtopus.transport import preview

__all__ = ["JobInfo"]

_T = TypeVar("_T")


class JobInfo:
    """The ``job_info`` of one job record, with archive URLs resolved on demand.

    Args:
        raw: The record's ``job_info`` object as the server sent it.
        job_id: The job's id, for error messages.
        client: The HTTP client that downloads the archives.

    """

    def __init__(self, raw: Mapping[str, Any], job_id: str, client: JobApi) -> None:
        self._raw = raw
        self._job_id = job_id
        self._client = client
        self._entries: dict[str, Any] = {}
        self._archived: set[str] = set()
        self._made: dict[str, Any] = {}

    def memo(self, name: str, make: Callable[[], _T]) -> _T:
        """``make()``, made once for this record (a typed result read from the entries)."""
        if name not in self._made:
            self._made[name] = make()
        return cast("_T", self._made[name])

    def entry(self, key: str) -> Any:
        """One entry: an archive's JSON content, an inline value, or None when absent.

        Raises:
            BackendError: If an archive cannot be downloaded, or holds what the entry
                cannot hold (the message names the job and the entry).

        """
        if key not in self._entries:
            value = self._raw.get(key)
            if key in ARCHIVED_INFO_FIELDS and is_url(value):
                operation = f"download {key} of job {self._job_id}"
                downloader = http_api(self._client, operation)
                value = downloader.download_archive(value, _READERS[key], operation=operation)
                if key not in PROGRAM_INFO_FIELDS and not isinstance(value, Mapping | None):
                    raise BackendError(
                        f"{operation}: the archive holds {preview(value)}, not a JSON object"
                    )
                self._archived.add(key)
            elif isinstance(value, str) and key in ("input", "result", "transpile_result"):
                value = _json_or_text(value)
            self._entries[key] = value
        return self._entries[key]

    def presented(self) -> dict[str, Any]:
        """The whole ``job_info`` as the reference shows it (see the module docstring).

        Raises:
            BackendError: If an archive cannot be downloaded or read.

        """
        shown: dict[str, Any] = {}
        extras = [key for key in self._raw if key not in JOB_INFO_FIELDS]
        for key in (*JOB_INFO_FIELDS, *extras):
            value = self.entry(key) if key in ARCHIVED_INFO_FIELDS else self._raw.get(key)
            if key in self._archived and isinstance(value, Mapping) and key in _MODEL_LAYOUTS:
                value = _MODEL_LAYOUTS[key](value)
            if value is not None:
                shown[key] = value
        job_input = shown.get("input")
        if isinstance(job_input, Mapping):
            for key in ("program", "operator"):
                if key in job_input and key not in shown:
                    shown[key] = job_input[key]
        shown.setdefault("message", None)
        return shown


def _fields(value: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The ``names`` of ``value`` that are present and not None, in the order of ``names``."""
    return {name: value[name] for name in names if value.get(name) is not None}


def _input_layout(value: Mapping[str, Any]) -> dict[str, Any]:
    shown = _fields(value, JOB_INPUT_FIELDS)
    if isinstance(shown.get("operator"), list):
        shown["operator"] = [
            _fields(term, ("pauli", "coeff")) if isinstance(term, Mapping) else term
            for term in shown["operator"]
        ]
    return shown


def _result_layout(value: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for kind, names in (
        (SAMPLING, ("counts", "divided_counts")),
        (ESTIMATION, ("exp_value", "stds")),
    ):
        if isinstance(value.get(kind), Mapping):
            shown[kind] = _fields(value[kind], names)
    # The reference's result model files every other key under this name.
    shown["additional_properties"] = {
        key: item for key, item in value.items() if key not in (SAMPLING, ESTIMATION)
    }
    return shown


def _transpile_result_layout(value: Mapping[str, Any]) -> dict[str, Any]:
    return _fields(value, ("transpiled_program", "stats", "virtual_physical_mapping"))


#: How each archived entry is read: by what the OQTOPUS engine stores in it.
_READERS: dict[str, ArchiveReader[Any]] = {
    "input": read_job_archive,
    "combined_program": read_program_archive,
    "result": read_job_archive,
    "transpile_result": read_transpile_result_archive,
}

_MODEL_LAYOUTS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "input": _input_layout,
    "result": _result_layout,
    "transpile_result": _transpile_result_layout,
}


def _json_or_text(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
