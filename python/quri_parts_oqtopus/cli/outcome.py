"""The outcome of a job: wait for its end, read its typed result once, print it.

A job that has ended costs one read of the job and one download of its result; nothing
else of ``job_info`` (input, combined program, transpile result) is fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quri_parts.backend import SamplingCounts

from quri_parts_oqtopus._contract import FINAL_STATUSES, SUCCEEDED
from quri_parts_oqtopus.backend import (
    OqtopusEstimationJob,
    OqtopusEstimationResult,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
    OqtopusSseJob,
)
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.cli.context import Context
from quri_parts_oqtopus.cli.errors import (
    JobFailedError,
    JobTimeoutError,
    UsageError,
    WaitInterruptedError,
)

__all__ = ["result_json", "result_text", "show_outcome"]

TypedResult = OqtopusSamplingResult | OqtopusEstimationResult


def show_outcome(
    ctx: Context,
    job: OqtopusJobBase,
    record: JobRecord | None,
    timeout: float | None,
    interval: float,
) -> None:
    """Wait for the job's end (unless ``record``, just read, shows it ended) and print its result.

    With ``--json`` the outcome object (``job_id``, ``job_type``, ``status``, ``message``,
    ``result``) is printed whatever the end, so scripts can read the status.

    Raises:
        JobTimeoutError: If ``timeout`` passed first.
        WaitInterruptedError: On Ctrl-C while waiting; the job is left running.
        JobFailedError: If the job failed or was cancelled.
        BackendError: If the job or its result cannot be read.

    """
    if record is None or record.status not in FINAL_STATUSES:
        record = _ended_record(ctx, job, timeout, interval)
    message = record.message or None
    if record.status != SUCCEEDED:
        if ctx.out.as_json:
            ctx.out.show(_outcome(job, message, None), "")
        reason = f": {message}" if message else ""
        raise JobFailedError(f"job {job.job_id} ended {record.status}{reason}")
    typed = _typed_result(job)
    ctx.out.show(_outcome(job, message, result_json(typed)), result_text(typed))


def _ended_record(
    ctx: Context, job: OqtopusJobBase, timeout: float | None, interval: float
) -> JobRecord:
    try:
        ended = job.wait_for_completion(timeout=timeout, wait=interval)
    except KeyboardInterrupt:
        if ctx.out.as_json:
            ctx.out.show(_outcome(job, None, None), "")
        if job.status in FINAL_STATUSES:  # the interrupt came as the job's end was read
            result = ctx.command_line("jobs", "result", job.job_id)
            raise WaitInterruptedError(
                f"interrupted: job {job.job_id} has ended {job.status}; its result: {result}"
            ) from None
        cancel = ctx.command_line("jobs", "cancel", job.job_id)
        raise WaitInterruptedError(
            f"interrupted: job {job.job_id} is still {job.status} on the server (the wait"
            f" stopped, the job did not); to cancel it: {cancel}"
        ) from None
    if ended is None:
        if ctx.out.as_json:
            ctx.out.show(_outcome(job, None, None), "")
        raise JobTimeoutError(f"job {job.job_id} is still {job.status} after {timeout} s")
    return ended.record


def _typed_result(job: OqtopusJobBase) -> TypedResult:
    """The ended job's result, read and checked by the typed API (one download)."""
    if isinstance(job, (OqtopusSamplingJob, OqtopusEstimationJob, OqtopusSseJob)):
        return job.result(timeout=0)
    raise UsageError(f"job {job.job_id} of type {job.job_type} has no result the CLI can show")


def _outcome(job: OqtopusJobBase, message: str | None, result: Any) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "job_type": job.job_type,
        "status": job.status,
        "message": message,
        "result": result,
    }


def result_json(typed: TypedResult) -> dict[str, Any]:
    """The typed result as JSON: ``exp_value``/``stds``, or ``counts`` (and ``divided_counts``).

    Counts are keyed by the measured value, an integer whose bit 0 is classical bit 0
    (``result().counts`` of the Python API); JSON writes the keys as strings.
    """
    if isinstance(typed, OqtopusEstimationResult):
        return {"exp_value": typed.exp_value, "stds": typed.stds}
    shown: dict[str, Any] = {"counts": _sorted(typed.counts)}
    if typed.divided_counts is not None:
        shown["divided_counts"] = {
            index: _sorted(counts) for index, counts in sorted(typed.divided_counts.items())
        }
    return shown


def result_text(typed: TypedResult) -> str:
    """Counts tables (whole, then per program), or ``exp_value ± stds``."""
    if isinstance(typed, OqtopusEstimationResult):
        return f"{_number(typed.exp_value)} ± {_number(typed.stds)}"
    parts = [render.counts_table(typed.counts)]
    for index, counts in sorted((typed.divided_counts or {}).items()):
        parts.append(f"\nprogram {index}\n{render.counts_table(counts)}")
    return "\n".join(parts)


def _sorted(counts: SamplingCounts) -> Mapping[int, int | float]:
    return {value: counts[value] for value in sorted(counts)}


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"
