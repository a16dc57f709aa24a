"""Rich displays in Jupyter: jobs, devices and job sets as small HTML tables.

Each ``_repr_html_`` of those classes calls one function here with what the object already
holds: a display never calls the server (a notebook cell must not hang on the network), so
it shows the state as last read. Every value is escaped: names, descriptions and messages
are written by whoever submitted the job, or by the server.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime

from quri_parts_oqtopus._contract import CANCELLED, FAILED, SUCCEEDED
from quri_parts_oqtopus.metrics import TimedJob, TimingsSummary, job_timing

__all__ = ["device_html", "job_html", "job_set_html"]

_STATUS_COLOURS = {SUCCEEDED: "#2e7d32", FAILED: "#c62828", CANCELLED: "#757575"}
_RUNNING_COLOUR = "#1565c0"
_NONE = "&ndash;"  # what an absent value shows


def _text(value: object) -> str:
    if value is None or value == "":
        return _NONE
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _status(status: str) -> str:
    colour = _STATUS_COLOURS.get(status, _RUNNING_COLOUR)
    return f'<b style="color:{colour}">{html.escape(status)}</b>'


def _seconds(value: float | None) -> str:
    return _NONE if value is None else f"{value:.3f} s"


def _table(title: str, rows: Iterable[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(key)}</th>'
        f'<td style="text-align:left">{value}</td></tr>'
        for key, value in rows
    )
    return f"<div><strong>{title}</strong><table>{cells}</table></div>"


def job_html(job: TimedJob, fields: Mapping[str, object], message: str) -> str:
    """A job: its id, status, device, settings and timing (``fields``: its other fields)."""
    timing = job_timing(job)
    rows = [
        ("job", f"<code>{_text(job.job_id)}</code>"),
        ("status", _status(job.status)),
        *((key, _text(fields.get(key))) for key in ("job_type", "device_id", "shots", "name")),
        ("description", _text(fields.get("description"))),
        ("submitted at", _text(timing.submitted_at)),
        ("queued / running / total", " / ".join(
            _seconds(t) for t in (timing.queued, timing.running, timing.total)
        )),
        ("execution_time", _seconds(timing.execution_time or None)),
    ]  # fmt: skip
    if message:
        rows.append(("message", _text(message)))
    return _table("OQTOPUS job", rows)


def device_html(fields: Mapping[str, object], calibrated: bool) -> str:
    """A device: id, type, status, qubits, pending jobs, calibration time, description."""
    keys = ("device_type", "status", "n_qubits", "n_pending_jobs", "calibrated_at")
    rows = [("device", f"<code>{_text(fields.get('device_id'))}</code>")]
    rows += [(key, _text(fields.get(key))) for key in keys]
    rows.append(("calibration data", "yes" if calibrated else "no"))
    rows.append(("description", _text(fields.get("description"))))
    return _table("OQTOPUS device", rows)


def job_set_html(programs: int, not_submitted: int, summary: TimingsSummary) -> str:
    """A job set: programs, jobs by status, and the timings of its jobs."""
    by_status = ", ".join(f"{_status(s)} {n}" for s, n in summary.by_status.items()) or _NONE
    rows = [
        ("programs", str(programs)),
        ("jobs", str(summary.jobs)),
        ("jobs by status", by_status),
        ("programs not submitted", str(not_submitted)),
        ("wall (first submission to last end)", _seconds(summary.wall)),
        ("device time (execution_time summed)", _seconds(summary.execution_time)),
        ("mean queued / running / total", " / ".join(
            _seconds(t) for t in (summary.queued_mean, summary.running_mean, summary.total_mean)
        )),
    ]  # fmt: skip
    return _table("OQTOPUS job set", rows)
