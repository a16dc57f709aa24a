"""The commands of ``oqtopus``: each reads its arguments, calls the API once or waits, prints."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationBackend,
    OqtopusEstimationJob,
    OqtopusEstimationResult,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
    OqtopusSseBackend,
    OqtopusSseJob,
)
from quri_parts_oqtopus.backend.job import JobRecord, OqtopusJobBase
from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.cli.errors import JobFailedError, JobTimeoutError, UsageError
from quri_parts_oqtopus.cli.operator_syntax import parse_operator

DEFAULT_CONFIG_PATH = "~/.oqtopus"


def resolve_config(
    url: str | None, token: str | None, path: str | None, section: str | None
) -> OqtopusConfig:
    """``--url``/``--token``, else ``--config``/``--section``, else what the backends use.

    Unless the configuration sets ``connect_retries``, a server that cannot be reached is
    reported at once (one line, exit 3): someone is waiting at the terminal. Other
    failures are repeated as configured.

    Raises:
        UsageError: If only one of ``--url`` and ``--token`` is given.
        ValueError: If the configuration file, section or a key is missing.

    """
    if url is not None or token is not None:
        if url is None or token is None:
            raise UsageError("--url and --token go together: give both, or neither")
        config = OqtopusConfig.resolve(OqtopusConfig(url, token))
    elif path is not None or section is not None:
        chosen = OqtopusConfig.from_file(section or "default", path or DEFAULT_CONFIG_PATH)
        config = OqtopusConfig.resolve(chosen)
    else:
        config = OqtopusConfig.resolve(None)
    if config.connect_retries is None:
        config = config.with_transport(connect_retries=0)
    return config


class Context:
    """What every command gets: its arguments, the output, and the configuration on demand."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = render.Output(as_json=bool(getattr(args, "json", False)))

    @cached_property
    def config(self) -> OqtopusConfig:
        a = self.args
        return resolve_config(
            getattr(a, "url", None),
            getattr(a, "token", None),
            getattr(a, "config", None),
            getattr(a, "section", None),
        )

    @cached_property
    def client(self) -> OqtopusHttpClient:
        return OqtopusHttpClient(self.config)

    def redact(self, text: str) -> str:
        """``text`` with every token this command may know replaced by ``***``."""
        tokens = {getattr(self.args, "token", None), os.environ.get("OQTOPUS_API_TOKEN")}
        if "config" in self.__dict__:  # resolved: its token may come from a file
            tokens.add(self.config.api_token)
        for token in tokens:
            if token:
                text = text.replace(token, "***")
        return text

    def close(self) -> None:
        """Close the HTTP client's connections, if the command opened any."""
        if "client" in self.__dict__:
            self.client.close()

    def job(self, job_id: str) -> OqtopusJobBase:
        """The job, as the object of its kind (sampling, estimation, SSE)."""
        return OqtopusJobBase.for_record(JobRecord(self.client.get_job(job_id)), self.client)


# -- devices -------------------------------------------------------------------------------------
def devices(ctx: Context) -> None:
    device_id: str | None = ctx.args.device_id
    if device_id is None:
        found = ctx.client.list_devices()
        ctx.out.show(found, render.devices_table(found))
    else:
        device = ctx.client.get_device(device_id)
        ctx.out.show(device, render.device_detail(device))


# -- jobs ----------------------------------------------------------------------------------------
def jobs_list(ctx: Context) -> None:
    a = ctx.args
    options = {"status": a.status, "q": a.q, "page": a.page, "size": a.size, "order": a.order}
    query = {key: value for key, value in options.items() if value is not None}
    found = ctx.client.list_jobs(**query)
    ctx.out.show(found, render.jobs_table(found))


def jobs_get(ctx: Context) -> None:
    job = ctx.client.get_job(ctx.args.job_id)
    ctx.out.show(job, render.job_detail(job))


def jobs_status(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    status = ctx.client.get_job_status(job_id)
    ctx.out.show({"job_id": job_id, "status": status}, status)


def jobs_result(ctx: Context) -> None:
    show_outcome(ctx, ctx.job(ctx.args.job_id), ctx.args.timeout, ctx.args.interval)


def jobs_cancel(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    ctx.client.cancel_job(job_id)
    # The client drops the server's action message; the status says what happened.
    status = ctx.client.get_job_status(job_id)
    ctx.out.show(
        {"job_id": job_id, "status": status}, f"cancel requested for job {job_id} ({status})"
    )


def jobs_delete(ctx: Context) -> None:
    job_id: str = ctx.args.job_id
    ctx.client.delete_job(job_id)
    ctx.out.show({"job_id": job_id, "deleted": True}, f"deleted job {job_id}")


def jobs_log(ctx: Context) -> None:
    job = ctx.job(ctx.args.job_id)
    if not isinstance(job, OqtopusSseJob):
        raise UsageError(f"job {job.job_id} is a {job.job_type} job; only SSE jobs have a log")
    path = job.download_log(save_dir=ctx.args.dir)
    ctx.out.show({"job_id": job.job_id, "path": path}, path)


# -- submit --------------------------------------------------------------------------------------
def submit_sampling(ctx: Context) -> None:
    a = ctx.args
    texts = [read_text(file) for file in a.files]
    if a.job_type == "multi_manual" or len(texts) > 1:
        program: str | list[str] = texts
    else:
        program = texts[0]
    backend = OqtopusSamplingBackend(ctx.config)
    job = backend.sample_qasm(
        program=program,
        device_id=a.device,
        shots=a.shots,
        name=a.name,
        description=a.description,
        job_type=a.job_type,
    )
    submitted(ctx, job)


def submit_estimation(ctx: Context) -> None:
    a = ctx.args
    operator = parse_operator(a.operator)  # bad syntax fails before the file is read
    program = read_text(a.file)
    backend = OqtopusEstimationBackend(ctx.config)
    job = backend.estimate_qasm(
        program=program,
        operator=operator,
        device_id=a.device,
        shots=a.shots,
        name=a.name,
        description=a.description,
    )
    submitted(ctx, job)


def submit_sse(ctx: Context) -> None:
    a = ctx.args
    job = OqtopusSseBackend(ctx.config).run_sse(
        a.program, device_id=a.device, name=a.name, description=a.description
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
    show_outcome(ctx, job, ctx.args.timeout, ctx.args.interval)


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


# -- outcome of a job ----------------------------------------------------------------------------
def show_outcome(ctx: Context, job: OqtopusJobBase, timeout: float | None, interval: float) -> None:
    """Wait for the job's end and print its result.

    With ``--json`` the outcome object (``job_id``, ``job_type``, ``status``, ``message``,
    ``result``) is printed whatever the end, so scripts can read the status.

    Raises:
        JobTimeoutError: If ``timeout`` passed first.
        JobFailedError: If the job failed or was cancelled.

    """
    ended = job.wait_for_completion(timeout=timeout, wait=interval) is not None
    message = _job_message(ctx, job.job_id) if ended else None
    if not ended or job.status != "succeeded":
        if ctx.out.as_json:
            ctx.out.show(_outcome(job, message, None), "")
        if not ended:
            raise JobTimeoutError(f"job {job.job_id} is still {job.status} after {timeout} s")
        reason = f": {message}" if message else ""
        raise JobFailedError(f"job {job.job_id} ended {job.status}{reason}")
    typed = _typed_result(job)
    payload = _json_object(job.job_info.get("result"))
    ctx.out.show(_outcome(job, message, payload), result_text(typed, payload))


def _typed_result(job: OqtopusJobBase) -> OqtopusSamplingResult | OqtopusEstimationResult:
    """The ended job's result, checked by the typed API (a malformed one is a BackendError)."""
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


def _job_message(ctx: Context, job_id: str) -> str | None:
    # From the raw job: ``job.job_info`` would download every archive just for this text.
    message = JobRecord(ctx.client.get_job(job_id)).info("job_info").get("message")
    return str(message) if message else None


def result_text(
    typed: OqtopusSamplingResult | OqtopusEstimationResult, payload: Mapping[str, Any]
) -> str:
    """Counts tables (whole, then per program), or ``exp_value ± stds``."""
    if isinstance(typed, OqtopusEstimationResult):
        return f"{_number(typed.exp_value)} ± {_number(typed.stds)}"
    sampling = payload["sampling"]
    parts = [render.counts_table(_json_object(sampling["counts"]))]
    divided = sampling.get("divided_counts")
    for index, counts in sorted(_json_object(divided).items(), key=lambda kv: int(kv[0])):
        parts.append(f"\nprogram {index}\n{render.counts_table(_json_object(counts))}")
    return "\n".join(parts)


def _json_object(value: Any) -> Mapping[str, Any]:
    # Some servers send counts as JSON text; the typed result has already checked them.
    if isinstance(value, (str, bytes)):
        value = orjson.loads(value)
    return value if isinstance(value, Mapping) else {}


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"
