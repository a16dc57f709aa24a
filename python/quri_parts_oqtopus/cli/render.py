"""What the CLI prints: aligned text tables for people, JSON for programs.

Everything printed passes through here, and much of it is held by the server (job names,
descriptions, failure messages, an SSE program's log): a job or a hostile server must not
drive the user's terminal, so control and format characters are printed as escapes
(``\\x1b``) in text, and as ``\\u`` escapes in JSON.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from quri_parts.backend import SamplingCounts

from quri_parts_oqtopus._contract import DEVICE_FIELDS, JOB_FIELDS
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.run_estimate import RunEstimate

__all__ = [
    "Output",
    "counts_table",
    "device_detail",
    "devices_table",
    "job_detail",
    "jobs_table",
    "one_line",
    "run_estimate",
    "table",
    "terminal_text",
    "to_json",
]

_MAX_ERROR_CHARS = 1000


class Output:
    """Writes each answer either as text or, with ``--json``, as JSON and nothing else."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def show(self, data: Any, text: str, *, keep: str = "\n") -> None:
        """The answer: ``data`` as JSON with ``--json``, else ``text`` (``keep``: the
        control characters printed as they are, e.g. a log's tabs)."""
        shown = to_json(data) if self.as_json else terminal_text(text, keep)
        print(shown, file=sys.stdout, flush=True)

    def note(self, text: str) -> None:
        """A line for people only (e.g. the job id before a long wait); silent with ``--json``."""
        if not self.as_json:
            print(terminal_text(text), file=sys.stdout, flush=True)


def terminal_text(text: str, keep: str = "\n") -> str:
    """``text`` safe for a terminal: every unprintable character but those in ``keep``
    written as its escape (ESC as ``\\x1b``), so none reaches the terminal as a control."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


# orjson escapes the C0 controls; these are the other characters a terminal may act on or
# that hide text (DEL, C1 controls, bidirectional and zero-width format characters, ...).
_UNPRINTABLE_NON_ASCII = re.compile(r"[^\x00-\x7e]")


def to_json(value: Any) -> str:
    """Indented JSON text; int keys (program indexes) become strings; no character a
    terminal acts on (see :func:`terminal_text`) is written raw."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    return _UNPRINTABLE_NON_ASCII.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: JSON writes a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def one_line(text: str) -> str:
    """``text`` on one line, shortened, safe for a terminal: stderr messages are one line each."""
    flat = terminal_text(" ".join(text.split()), keep="")
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
    """Every field of the device but its calibration data (``--json`` shows it), in the
    contract's order; lists as words."""
    pairs: list[tuple[str, object]] = []
    for key in DEVICE_FIELDS:
        value = device.get(key)
        if key != "device_info":
            pairs.append((key, " ".join(map(str, value)) if isinstance(value, list) else value))
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
    """Every field of the job but its ``*_info`` objects (``--json`` shows them), in the
    contract's order, and ``job_info``'s message."""
    keys = [key for key in JOB_FIELDS if not key.endswith("_info")]
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
    """One table cell, escaped now so that the columns are measured as they are printed."""
    return "" if value is None else terminal_text(str(value), keep="")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def run_estimate(found: RunEstimate, files: Sequence[str]) -> str:
    """A run's estimate: the totals, then one row per program."""
    head = [
        f"device {found.device_id}, {found.shots:,} shots: {found.jobs} jobs"
        f" ({', '.join(map(str, found.programs_per_job))} programs; at most {found.bound} per job)",
        f"QPU time {found.qpu_seconds:.4g} s, mean success probability"
        f" {found.mean_success_probability:.3f}",
        f"mean calibrated error of the regions {found.mean_region_error:.4f}"
        f" (random placement {found.random_region_error:.4f})",
    ]
    rows = [
        [files[p.index], " ".join(map(str, p.qubits)), p.native_gates["sx"], p.native_gates["x"],
         p.native_gates["cx"], f"{p.duration_ns:.0f}", f"{p.success_probability:.3f}"]
        for p in found.programs
    ]  # fmt: skip
    headers = ["program", "qubits", "sx", "x", "cx", "shot ns", "success"]
    return "\n".join([*head, "", table(headers, rows)])
