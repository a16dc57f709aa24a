"""The commands of ``oqtopus``: each reads its arguments, calls the API once or waits, prints."""

from __future__ import annotations

from pathlib import Path

from quri_parts_oqtopus._contract import MULTI_MANUAL, SSE
from quri_parts_oqtopus.backend import (
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
    OqtopusSseBackend,
)
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.batch.packing import PackingPolicy
from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.cli.checks import check_device, check_qasm, shots_from
from quri_parts_oqtopus.cli.context import Context
from quri_parts_oqtopus.cli.device_file import SNAPSHOT, device_snapshot
from quri_parts_oqtopus.cli.errors import UsageError
from quri_parts_oqtopus.cli.operator_syntax import parse_operator
from quri_parts_oqtopus.cli.outcome import show_outcome
from quri_parts_oqtopus.cli.sselog import read_log
from quri_parts_oqtopus.run_estimate import DEFAULT_READOUT_NS, estimate_run


# -- devices -------------------------------------------------------------------------------------
def devices(ctx: Context) -> None:
    words: list[str] = ctx.args.device_id
    if words[:1] == [SNAPSHOT] and len(words) == 2:
        devices_snapshot(ctx, words[1])
        return
    if len(words) > 1:
        raise UsageError(f"one DEVICE_ID, or 'snapshot DEVICE_ID'; got {' '.join(words)!r}")
    if ctx.args.output is not None:
        raise UsageError("--output goes with 'devices snapshot DEVICE_ID'")
    if not words:
        found = ctx.client.list_devices()
        ctx.out.show(found, render.devices_table(found))
    else:
        device = ctx.client.get_device(words[0])
        ctx.out.show(device, render.device_detail(device))


def devices_snapshot(ctx: Context, device_id: str) -> None:
    """Write a device as a device file the local server loads (``--devices``)."""
    output: str | None = ctx.args.output
    if output is None:
        raise UsageError("devices snapshot needs --output FILE")
    if not ctx.args.force and Path(output).exists():
        raise UsageError(f"{output} exists: give --force to overwrite it, or another --output")
    snapshot = device_snapshot(ctx.client, device_id)
    text = render.to_json(snapshot) + "\n"
    write_new_file(output, text.encode(), force=ctx.args.force)
    calibrated = snapshot.get("calibrated_at") or "no calibration time"
    ctx.out.show(
        {"device_id": device_id, "path": output, "calibrated_at": snapshot.get("calibrated_at")},
        f"{output}: {device_id} ({calibrated})",
    )


# -- jobs ----------------------------------------------------------------------------------------
#: Jobs per page of ``jobs list`` (the service's default); without ``--limit``, one page.
DEFAULT_LIST_SIZE = 10


def jobs_list(ctx: Context) -> None:
    a = ctx.args
    size = a.size or DEFAULT_LIST_SIZE
    listed = ctx.jobs.list_jobs(
        status=a.status,
        q=a.q,
        page=a.page or 1,
        size=size,
        order=a.order or "DESC",
        limit=size if a.limit is None else a.limit,
        tags=a.tags,
    )
    found = [job.record.raw for job in listed]
    ctx.out.show(found, render.jobs_table(found))


def jobs_get(ctx: Context) -> None:
    job = ctx.client.get_job(ctx.args.job_id)
    ctx.out.show(job, render.job_detail(job))


def jobs_status(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    status = ctx.jobs.get_job_status(job_id)
    ctx.out.show({"job_id": job_id, "status": status}, status)


def jobs_result(ctx: Context) -> None:
    # One read of the job; an ended one is not polled again (see outcome.show_outcome).
    record = JobRecord(ctx.client.get_job(ctx.args.job_id))
    job = OqtopusJobBase.for_record(record, ctx.client)
    show_outcome(ctx, job, record, ctx.args.timeout, ctx.args.interval)


def jobs_cancel(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    # The status after the request says what happened; a job already cancelling is not
    # an error (its cancel is under way), an ended one is.
    status = ctx.jobs.cancel_job(job_id)
    ctx.out.show(
        {"job_id": job_id, "status": status}, f"cancel requested for job {job_id} ({status})"
    )


def jobs_delete(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    ctx.jobs.delete_job(job_id)
    ctx.out.show({"job_id": job_id, "deleted": True}, f"deleted job {job_id}")


def jobs_log(ctx: Context) -> None:
    record = JobRecord(ctx.client.get_job(ctx.args.job_id))
    job_type = record.text("job_type")
    if job_type != SSE:
        raise UsageError(f"job {record.job_id} is a {job_type} job; only SSE jobs have a log")
    output: str | None = ctx.args.output
    if output is not None and not ctx.args.force and Path(output).exists():
        raise UsageError(f"{output} exists: give --force to overwrite it, or another --output")
    log = read_log(ctx.client, record, ctx.config.max_inflated_bytes)
    if output is None:
        text = log.decode("utf-8", errors="replace")
        # A log is the program's own output: its lines and tabs are kept, nothing else raw.
        log_text = text.removesuffix("\n")
        ctx.out.show({"job_id": record.job_id, "log": text}, log_text, keep="\n\t")
        return
    write_new_file(output, log, force=ctx.args.force)
    ctx.out.show({"job_id": record.job_id, "path": output}, output)


def write_new_file(output: str, data: bytes, *, force: bool) -> None:
    """Write ``data`` to ``output``; an existing file only with ``force``.

    Raises:
        UsageError: If the file exists (and not ``force``) or cannot be written.

    """
    try:
        # "x" unless forced: a file that appeared since the check is not overwritten either.
        with Path(output).open("wb" if force else "xb") as file:
            file.write(data)
    except FileExistsError:
        raise UsageError(f"{output} exists: give --force to overwrite it") from None
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from None


# -- submit --------------------------------------------------------------------------------------
def submit_sampling(ctx: Context) -> None:
    a = ctx.args
    shots = shots_from(a.shots)
    texts = [read_program(ctx, file) for file in a.files]
    if a.job_type == MULTI_MANUAL or len(texts) > 1:
        program: str | list[str] = texts
    else:
        program = texts[0]
    check_device(ctx.client, a.device)
    backend = OqtopusSamplingBackend(ctx.config)
    job = backend.sample_qasm(
        program=program,
        device_id=a.device,
        shots=shots,
        name=a.name,
        description=a.description,
        job_type=a.job_type,
        tags=a.tags,
    )
    submitted(ctx, job)


def submit_estimation(ctx: Context) -> None:
    a = ctx.args
    shots = shots_from(a.shots)
    operator = parse_operator(a.operator)  # bad syntax fails before the file is read
    program = read_program(ctx, a.file)
    check_device(ctx.client, a.device)
    backend = OqtopusEstimationBackend(ctx.config)
    job = backend.estimate_qasm(
        program=program,
        operator=operator,
        device_id=a.device,
        shots=shots,
        name=a.name,
        description=a.description,
        tags=a.tags,
    )
    submitted(ctx, job)


def submit_sse(ctx: Context) -> None:
    a = ctx.args
    check_device(ctx.client, a.device)
    job = OqtopusSseBackend(ctx.config).run_sse(
        a.program, device_id=a.device, name=a.name, description=a.description, tags=a.tags
    )
    submitted(ctx, job)


def submitted(ctx: Context, job: OqtopusJobBase) -> None:
    """Print the new job's id (the server's job object with ``--json``); wait if asked."""
    if not ctx.args.wait:
        if ctx.out.as_json:
            ctx.out.show(ctx.client.get_job(job.job_id), "")
        else:
            ctx.out.show(None, job.job_id)
        return
    ctx.out.note(job.job_id)  # first, so that a long or failed wait never loses the id
    show_outcome(ctx, job, None, ctx.args.timeout, ctx.args.interval)


def read_program(ctx: Context, file: str) -> str:
    """The text of an OpenQASM file, checked by the local reader unless ``--no-qasm-check``.

    Raises:
        UsageError: If the file cannot be read, is not UTF-8, or is not a program the
            reader accepts (``FILE:LINE:COLUMN: reason``).

    """
    text = read_text(file)
    if not ctx.args.no_qasm_check:
        check_qasm(file, text)
    return text


def read_text(file: str) -> str:
    """The UTF-8 text of a program file.

    Raises:
        UsageError: If the file cannot be read or is not UTF-8.

    """
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {file}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"{file} is not UTF-8 text: {e}") from None


# -- estimate ------------------------------------------------------------------------------------
def estimate(ctx: Context) -> None:
    """Jobs, QPU time and success probability of the files' programs, nothing submitted."""
    a = ctx.args
    shots = shots_from(a.shots)
    texts = [read_text(file) for file in a.files]
    for file, text in zip(a.files, texts, strict=True):
        check_qasm(file, text)
    if (a.keep_apart or a.max_qubits is not None) and not a.pack:
        raise UsageError("--keep-apart and --max-qubits go with --pack")
    pack: bool | PackingPolicy = False
    if a.pack:
        pack = PackingPolicy(max_qubits=a.max_qubits, keep_apart=a.keep_apart)
    readout = DEFAULT_READOUT_NS if a.readout_ns is None else a.readout_ns
    check_device(ctx.client, a.device)
    found = estimate_run(texts, a.device, shots, ctx.config, pack=pack, readout_ns=readout)
    ctx.out.show(found.as_dict(), render.run_estimate(found, a.files))
