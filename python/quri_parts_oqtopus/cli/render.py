"""What the CLI prints: aligned text tables for people, JSON for programs."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from quri_parts.backend import SamplingCounts

from quri_parts_oqtopus._contract import JOB_FIELDS
from quri_parts_oqtopus.backend.record import JobRecord

__all__ = [
    "Output",
    "counts_table",
    "device_detail",
    "devices_table",
    "job_detail",
    "jobs_table",
    "one_line",
    "table",
    "to_json",
]

_MAX_ERROR_CHARS = 1000


class Output:
    """Writes each answer either as text or, with ``--json``, as JSON and nothing else."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def show(self, data: Any, text: str) -> None:
        """The answer: ``data`` as JSON with ``--json``, else ``text``."""
        print(to_json(data) if self.as_json else text, file=sys.stdout, flush=True)

    def note(self, text: str) -> None:
        """A line for people only (e.g. the job id before a long wait); silent with ``--json``."""
        if not self.as_json:
            print(text, file=sys.stdout, flush=True)


def to_json(value: Any) -> str:
    """Indented JSON text; int keys (program indexes) become strings."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def one_line(text: str) -> str:
    """``text`` on one line, shortened: stderr messages are one line each."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_ERROR_CHARS else flat[: _MAX_ERROR_CHARS - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    numeric = [
        bool(cells) and all(_is_number(row[i]) for row in cells) for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in cells)])


def key_values(pairs: Sequence[tuple[str, object]]) -> str:
    """``key: value`` lines, keys aligned."""
    width = max(len(key) for key, _ in pairs)
    return "\n".join(f"{key + ':':<{width + 1}} {_cell(value)}".rstrip() for key, value in pairs)


def devices_table(devices: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (
            d.get("device_id"),
            d.get("device_type"),
            d.get("status"),
            d.get("n_qubits") or 0,  # the documented API shows 0 when absent
            d.get("n_pending_jobs"),
        )
        for d in devices
    ]
    return table(("DEVICE", "TYPE", "STATUS", "QUBITS", "PENDING JOBS"), rows)


def device_detail(device: Mapping[str, Any]) -> str:
    keys = ("device_id", "device_type", "status", "available_at", "n_qubits", "n_pending_jobs")
    pairs: list[tuple[str, object]] = [(key, device.get(key)) for key in keys]
    pairs += [
        ("basis_gates", " ".join(device.get("basis_gates") or [])),
        ("supported_instructions", " ".join(device.get("supported_instructions") or [])),
        ("calibrated_at", device.get("calibrated_at")),
        ("description", device.get("description")),
    ]
    return key_values(pairs)


def jobs_table(jobs: Sequence[Mapping[str, Any]]) -> str:
    if not jobs:
        return "no jobs"
    rows = [
        (
            j.get("job_id"),
            j.get("job_type"),
            j.get("status"),
            j.get("device_id"),
            j.get("shots"),
            j.get("submitted_at"),
            j.get("name"),
        )
        for j in jobs
    ]
    return table(("JOB ID", "TYPE", "STATUS", "DEVICE", "SHOTS", "SUBMITTED", "NAME"), rows)


def job_detail(job: Mapping[str, Any]) -> str:
    keys = [key for key in JOB_FIELDS if not key.endswith("_info")]  # dicts: --json
    pairs: list[tuple[str, object]] = [(key, job.get(key)) for key in keys]
    pairs.append(("message", JobRecord(job).message or None))
    return key_values(pairs)


def counts_table(counts: SamplingCounts) -> str:
    """``bits count`` rows of a typed result's counts, sorted by the measured value.

    A measured value is shown in binary, classical bit 0 rightmost, padded to the
    widest value of the table (the counts do not say how many bits were measured).
    """
    width = max([1, *(value.bit_length() for value in counts)])
    rows = [(format(value, f"0{width}b"), counts[value]) for value in sorted(counts)]
    return table(("BITS", "COUNT"), rows)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
