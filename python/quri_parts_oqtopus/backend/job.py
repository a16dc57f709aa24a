"""Jobs: the job model, the one polling loop every job kind shares, and job submission."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient, is_url
from quri_parts_oqtopus.backend.base import OqtopusBackendBase

__all__ = [
    "JOB_FINAL_STATUS",
    "JobRecord",
    "OqtopusJobBackendBase",
    "OqtopusJobBase",
    "poll_delays",
    "submit_all",
    "wait_for_all_or_raise",
    "wait_for_jobs",
]

JOB_FINAL_STATUS = ("succeeded", "failed", "cancelled")
MAX_SHOTS = 10_000_000
_RESOLVED_INFO_KEYS = ("input", "combined_program", "result", "transpile_result")


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

    def __repr__(self) -> str:
        return f"JobRecord(job_id={self.job_id!r}, status={self.status!r})"


class OqtopusJobBase:
    """What every OQTOPUS job has: its properties, refresh, waiting, cancel and JSON form.

    Args:
        job: The job's record, as read from the server.
        client: The HTTP client of the backend that made or retrieved the job.

    Raises:
        ValueError: If ``job`` or ``client`` is None.

    """

    #: The server ``job_type`` values this class stands for.
    JOB_TYPES: ClassVar[tuple[str, ...]] = ()
    _by_job_type: ClassVar[dict[str, type[OqtopusJobBase]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for job_type in cls.JOB_TYPES:
            OqtopusJobBase._by_job_type[job_type] = cls

    def __init__(self, job: JobRecord, client: OqtopusHttpClient) -> None:
        if job is None:
            raise ValueError("'job' should not be None")
        if client is None:
            raise ValueError("'client' should not be None")
        self._job = job
        self._client = client
        self._resolved: dict[str, Any] = {}

    @classmethod
    def for_record(cls, job: JobRecord, client: OqtopusHttpClient) -> OqtopusJobBase:
        """The job object of the right class for the record's ``job_type``.

        Raises:
            BackendError: If the job type is unknown.

        """
        job_type = job.text("job_type")
        if job_type not in cls._by_job_type:
            raise BackendError(f"Unknown job_type of job {job.job_id}: {job_type!r}")
        return cls._by_job_type[job_type](job, client)

    # -- properties ----------------------------------------------------------------------
    @property
    def job_id(self) -> str:
        """The id of the job."""
        return self._job.job_id

    @property
    def name(self) -> str:
        """The name of the job (``""`` when it has none)."""
        return self._job.text("name")

    @property
    def description(self) -> str:
        """The description of the job (``""`` when it has none)."""
        return self._job.text("description")

    @property
    def job_type(self) -> str:
        """The job type: ``sampling``, ``multi_manual``, ``estimation`` or ``sse``."""
        return self._job.text("job_type")

    @property
    def status(self) -> str:
        """The status of the job as last read from the server."""
        return self._job.status

    @property
    def device_id(self) -> str:
        """The device id of the job."""
        return self._job.text("device_id")

    @property
    def shots(self) -> int:
        """The shots of the job (0 when unknown)."""
        return int(self._job.raw.get("shots") or 0)

    @property
    def job_info(self) -> dict[str, Any]:
        """The detail information of the job, with archive URLs replaced by their content.

        Raises:
            BackendError: If an archive cannot be downloaded or read.

        """
        info = self._job.info("job_info")
        for key in _RESOLVED_INFO_KEYS:
            if key in info:
                info[key] = self._info_entry(key)
        return info

    @property
    def transpiler_info(self) -> dict[str, Any]:
        """The transpiler info of the job."""
        return self._job.info("transpiler_info")

    @property
    def simulator_info(self) -> dict[str, Any]:
        """The simulator info of the job."""
        return self._job.info("simulator_info")

    @property
    def mitigation_info(self) -> dict[str, Any]:
        """The mitigation info of the job."""
        return self._job.info("mitigation_info")

    @property
    def execution_time(self) -> float:
        """The execution time of the job in seconds (0.0 until known)."""
        return float(self._job.raw.get("execution_time") or 0.0)

    @property
    def submitted_at(self) -> datetime | None:
        """When the job was submitted."""
        return self._job.time("submitted_at")

    @property
    def ready_at(self) -> datetime | None:
        """When the job became ready to run."""
        return self._job.time("ready_at")

    @property
    def running_at(self) -> datetime | None:
        """When the job started running."""
        return self._job.time("running_at")

    @property
    def ended_at(self) -> datetime | None:
        """When the job ended."""
        return self._job.time("ended_at")

    # -- actions -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Retrieve the latest job information from OQTOPUS Cloud.

        Raises:
            BackendError: If the job cannot be found, authentication fails, the call
                times out, etc.

        """
        self._job = JobRecord(self._client.get_job(self.job_id))
        self._resolved.clear()

    def wait_for_completion(
        self, timeout: float | None = None, wait: float = 10.0
    ) -> JobRecord | None:
        """Wait until the job ends (``succeeded``, ``failed`` or ``cancelled``).

        Polls the cheap status endpoint at once, then after 0.05 s, with each gap twice
        the one before up to ``wait``, and reads the whole job once it has ended: a short
        job is seen soon after its end.

        Args:
            timeout: The number of seconds to wait for the job; None waits for ever.
            wait: The longest time in seconds between two queries.

        Returns:
            The ended job's record, or None if ``timeout`` passed first.

        Raises:
            ValueError: If ``timeout`` or ``wait`` is negative or not a number.
            BackendError: If the job cannot be read from the server.

        """
        return self._job if wait_for_jobs([self], timeout, wait) else None

    def cancel(self) -> None:
        """Cancel the job.

        A job that has already ended cannot be cancelled. A cancel can also lose the race
        with the job: read :attr:`status` afterwards (or wait) to see how it ended.

        Raises:
            BackendError: If the job cannot be found, authentication fails, or the server
                refuses the cancel (e.g. the job has ended), with the server's reason.

        """
        self._client.cancel_job(self.job_id)
        self.refresh()

    def to_json(self) -> str:
        """A JSON text of the job's properties (timestamps in ISO 8601).

        Raises:
            BackendError: If an archive in ``job_info`` cannot be downloaded.

        """
        payload = {
            "job_id": self.job_id,
            "name": self.name,
            "description": self.description,
            "job_type": self.job_type,
            "status": self.status,
            "device_id": self.device_id,
            "shots": self.shots,
            "job_info": self.job_info,
            "transpiler_info": self.transpiler_info,
            "simulator_info": self.simulator_info,
            "mitigation_info": self.mitigation_info,
            "execution_time": self.execution_time,
            "submitted_at": self.submitted_at,
            "ready_at": self.ready_at,
            "running_at": self.running_at,
            "ended_at": self.ended_at,
        }
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS).decode()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(job_id={self.job_id!r}, job_type={self.job_type!r}, "
            f"status={self.status!r}, device_id={self.device_id!r})"
        )

    # -- for the subclasses and the polling loop -----------------------------------------
    def _poll(self) -> bool:
        """Ask the job's status once; read the job whole if it has ended. True if ended."""
        status = self._client.get_job_status(self.job_id)
        if status in JOB_FINAL_STATUS:
            self.refresh()
            return True
        self._job = self._job.with_status(status)
        return False

    def _ended_job(self, timeout: float | None, wait: float) -> None:
        """Wait for the job's end; raise unless it succeeded."""
        if self.status not in JOB_FINAL_STATUS:
            started = time.monotonic()
            if self.wait_for_completion(timeout, wait) is None:
                raise BackendError(
                    f"Timeout occurred after {timeout} seconds: job {self.job_id} is still "
                    f"{self.status!r} after {time.monotonic() - started:.1f} s of waiting."
                )
        if self.status != "succeeded":
            message = self._job.info("job_info").get("message")
            reason = f": {message}" if message else ""
            raise BackendError(f"Job {self.job_id} ended with status {self.status}{reason}")

    def _result_payload(self) -> dict[str, Any]:
        """The ``job_info.result`` object of an ended job, downloaded if it is a URL."""
        result = self._info_entry("result")
        if not isinstance(result, Mapping):
            raise BackendError(f"Job {self.job_id} has no result: {result!r:.200}")
        return dict(result)

    def _info_entry(self, key: str) -> Any:
        if key not in self._resolved:
            value = self._job.info("job_info").get(key)
            if is_url(value):
                operation = f"download {key} of job {self.job_id}"
                value = self._client.download_archive_json(value, operation=operation)
            elif isinstance(value, str) and key != "combined_program":
                value = _json_or_text(value)
            self._resolved[key] = value
        return self._resolved[key]


class OqtopusJobBackendBase(OqtopusBackendBase):
    """Base class of the backends that submit and retrieve OQTOPUS jobs.

    Args:
        config: A :class:`OqtopusConfig` (see :class:`OqtopusBackendBase` for how it is
            found when None).

    """

    def retrieve_job(self, job_id: str) -> Any:
        """Retrieve the job with the given id from OQTOPUS Cloud.

        Args:
            job_id: The id of the job to retrieve.

        Returns:
            An ``OqtopusSamplingJob`` (``sampling`` and ``multi_manual``), an
            ``OqtopusEstimationJob`` or an ``OqtopusSseJob``, by the job's type.

        Raises:
            BackendError: If the job cannot be found, authentication fails, or its type
                is unknown.

        """
        return OqtopusJobBase.for_record(JobRecord(self._client.get_job(job_id)), self._client)

    def _submit(
        self,
        job_type: str,
        build_archive: Callable[[str], bytes],
        settings: Mapping[str, Any],
        on_registered: Callable[[str], None] | None = None,
    ) -> JobRecord:
        """Register, upload the input archive, submit; the submitted job's record.

        ``build_archive`` makes the ZIP of the job input for the archive name the server
        gives; ``on_registered`` hears the job id as soon as the job exists.
        """
        body = {"job_type": job_type, **{k: v for k, v in settings.items() if v is not None}}
        job_id = self._client.submit_new_job(build_archive, body, on_registered=on_registered)
        return JobRecord(self._client.get_job(job_id))


def job_settings(
    device_id: str,
    shots: int,
    name: str | None,
    description: str | None,
    transpiler_info: Mapping[str, Any] | None,
    simulator_info: Mapping[str, Any] | None,
    mitigation_info: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The submit body's settings, checked: the documented ``ValueError`` on bad input.

    Raises:
        ValueError: If ``shots`` is not an int in 1..10,000,000, ``device_id`` is not a
            string, or an info is not a dict.

    """
    if isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= MAX_SHOTS:
        raise ValueError(f"shots should be a positive integer up to {MAX_SHOTS}.: {shots!r}")
    if not isinstance(device_id, str):
        # "" is allowed: inside SSE the server picks the device whatever is passed.
        raise ValueError(f"device_id should be a string: {device_id!r}")
    infos = {
        "transpiler_info": transpiler_info,
        "simulator_info": simulator_info,
        "mitigation_info": mitigation_info,
    }
    for key, value in infos.items():
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"{key} should be a dict or None: {value!r}")
    return {
        "device_id": device_id,
        "shots": shots,
        "name": name,
        "description": description,
        **{key: dict(value or {}) for key, value in infos.items()},
    }


_Job = TypeVar("_Job", bound=OqtopusJobBase)


def submit_all(submissions: Sequence[Callable[[], _Job]], concurrency: int) -> list[_Job]:
    """Run job submissions, at most ``concurrency`` at a time; the jobs in order.

    Raises:
        ValueError: If ``concurrency`` is not a positive integer, or a submission refuses
            its input.
        BackendError: If any submission fails; the message names the jobs that were
            submitted all the same, so that none of them is lost with the error.

    """
    check_concurrency(concurrency)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(submission) for submission in submissions]
    failures = [(i, f.exception()) for i, f in enumerate(futures) if f.exception() is not None]
    if not failures:
        return [future.result() for future in futures]
    index, first = failures[0]
    if isinstance(first, ValueError) and len(failures) == len(futures):
        raise first
    submitted = [f.result().job_id for f in futures if f.exception() is None]
    raise BackendError(
        f"{len(failures)} of {len(futures)} submissions failed (first: item {index}: {first}); "
        f"submitted jobs: {submitted}"
    ) from first


def check_concurrency(concurrency: int) -> None:
    """Refuse a ``concurrency`` that is not a positive integer, with a ``ValueError``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency should be a positive integer: {concurrency!r}")


def wait_for_jobs(
    jobs: Sequence[OqtopusJobBase],
    timeout: float | None = None,
    wait: float = 10.0,
    on_round: Callable[[Sequence[OqtopusJobBase]], None] | None = None,
) -> bool:
    """Wait until every job has ended: the one polling loop of every job kind.

    Each round asks the cheap status endpoint of every job still pending and reads a job
    whole once it has ended. The first round is at once; the gaps between rounds start at
    :data:`FIRST_POLL_DELAY` and double up to ``wait`` (see :func:`poll_delays`), so a
    short job is seen soon after it ends and a long one costs only a few extra calls.
    No sleep goes past the deadline.

    Args:
        jobs: The jobs to wait for; their status is updated as it is polled.
        timeout: The number of seconds to wait; None waits for ever.
        wait: The longest time in seconds between two rounds.
        on_round: Called with all ``jobs`` after each round (progress reports).

    Returns:
        True when every job has ended, False when ``timeout`` passed first.

    Raises:
        ValueError: If ``timeout`` or ``wait`` is negative or not a number.
        BackendError: If a job cannot be read from the server.

    """
    _check_seconds("wait", wait)
    if timeout is not None:
        _check_seconds("timeout", timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = list(jobs)
    delays = poll_delays(wait)
    while True:
        pending = [job for job in pending if not job._poll()]
        if on_round is not None:
            on_round(jobs)
        if not pending:
            return True
        remaining = math.inf if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(next(delays), remaining))


#: Seconds before the second status query of a wait; each later gap doubles, up to ``wait``.
FIRST_POLL_DELAY = 0.05


def poll_delays(wait: float) -> Iterator[float]:
    """The gaps between status queries: 0.05 s, doubling each time, never more than ``wait``.

    With ``wait=10`` the queries come at 0, 0.05, 0.15, 0.35, 0.75, 1.55, 3.15, 6.35,
    12.75, 22.75 s and then every 10 s: a job of an hour costs 7 more queries than
    polling every 10 s would, and a job of 0.2 s is seen 0.35 s after it started.
    """
    delay = FIRST_POLL_DELAY
    while True:
        yield min(delay, wait)
        delay *= 2.0


def wait_for_all_or_raise(
    jobs: Sequence[OqtopusJobBase], timeout: float | None, wait: float
) -> None:
    """:func:`wait_for_jobs`, raising a ``BackendError`` that names the pending jobs on timeout."""
    if not wait_for_jobs(jobs, timeout, wait):
        pending = [job.job_id for job in jobs if job.status not in JOB_FINAL_STATUS]
        raise BackendError(f"Timeout occurred after {timeout} seconds; pending jobs: {pending}")


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 timestamp of the API as a ``datetime``, None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Python 3.10's fromisoformat does not read a trailing "Z".
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None


def _check_seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} should be a non-negative number of seconds: {value!r}")


def _json_or_text(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
