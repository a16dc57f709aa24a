"""Jobs: the job model, the one polling loop every job kind shares, and job submission."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend.base import OqtopusBackendBase
from quri_parts_oqtopus.backend.errors import (
    CANCEL_FAILED,
    REFRESH_FAILED,
    RETRIEVE_FAILED,
    OqtopusArgumentTypeError,
    OqtopusInvalidArgumentError,
    OqtopusTimeoutError,
    reported_as,
)
from quri_parts_oqtopus.backend.job_info import JobInfo
from quri_parts_oqtopus.backend.job_result import OqtopusJobResult, job_result_of
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.models.base import OqtopusModelBase
from quri_parts_oqtopus.models.utils import DateTimeEncoder

__all__ = [
    "JOB_FINAL_STATUS",
    "JOB_STATUSES",
    "JobRecord",
    "OqtopusJobBackendBase",
    "OqtopusJobBase",
    "OqtopusJobResult",
    "poll_delays",
    "submit_all",
    "wait_for_all_or_raise",
    "wait_for_jobs",
]

JOB_FINAL_STATUS = ("succeeded", "failed", "cancelled")
#: Every job status, in the order a job goes through them (progress reports keep this order).
JOB_STATUSES = (
    "registered",
    "submitted",
    "ready",
    "running",
    "succeeded",
    "failed",
    "cancelling",
    "cancelled",
)
MAX_SHOTS = 10_000_000


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


class OqtopusJobBase(OqtopusModelBase):
    """What every OQTOPUS job has: its properties, refresh, waiting, cancel and JSON form.

    Args:
        job: The job's record as read from the server (a :class:`JobRecord`, the job's
            JSON object, or what :meth:`wait_for_completion` returned).
        client: The HTTP client of the backend that made or retrieved the job.
        job_api: The same as ``client``, by the name of the documented signature
            ``OqtopusSamplingJob(job, job_api)``.

    Raises:
        ValueError: If ``job`` or ``client`` is None.
        TypeError: If ``job`` is none of the above, or both ``client`` and ``job_api``
            are given.

    """

    #: The server ``job_type`` values this class stands for.
    JOB_TYPES: ClassVar[tuple[str, ...]] = ()
    _by_job_type: ClassVar[dict[str, type[OqtopusJobBase]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for job_type in cls.JOB_TYPES:
            OqtopusJobBase._by_job_type[job_type] = cls

    def __init__(
        self,
        job: JobRecord | OqtopusJobResult | Mapping[str, Any],
        client: OqtopusHttpClient | None = None,
        *,
        job_api: OqtopusHttpClient | None = None,
    ) -> None:
        if client is not None and job_api is not None:
            raise TypeError("pass the HTTP client as 'client' or as 'job_api', not both")
        client = job_api if client is None else client
        if job is None:
            raise ValueError("'job' should not be None")
        if client is None:
            raise ValueError("'client' should not be None")
        self._client = client
        self._set_record(_as_record(job))

    def _set_record(self, record: JobRecord) -> None:
        self._job = record
        self._info = JobInfo(record.info("job_info"), record.job_id, self._client)

    @classmethod
    def for_record(cls, job: JobRecord, client: OqtopusHttpClient) -> OqtopusJobBase:
        """The job object of the right class for the record's ``job_type``.

        Raises:
            BackendError: If the job type is unknown.

        """
        job_type = job.text("job_type")
        if job_type not in cls._by_job_type:
            raise BackendError(f"Unknown job_type: {job_type} (job {job.job_id})")
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

        Laid out as quri-parts-oqtopus 1.1.5 shows it: absent values left out,
        ``program`` (and ``operator``) copied from ``input``, ``message`` always present.

        Raises:
            BackendError: If an archive cannot be downloaded or read.

        """
        return self._info.presented()

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
    def result(
        self, timeout: float | None = None, wait: float = 10.0
    ) -> OqtopusSamplingResult | OqtopusEstimationResult:
        """Wait until the job ends and return its result (each job kind implements it).

        Raises:
            NotImplementedError: Here, in the base class.

        """
        raise NotImplementedError("Subclasses must implement this method.")

    def refresh(self) -> None:
        """Retrieve the latest job information from OQTOPUS Cloud.

        Raises:
            BackendError: If the job cannot be found, authentication fails, the call
                times out, etc. (``"To refresh job is failed. ..."``).

        """
        with reported_as(REFRESH_FAILED):
            self._set_record(JobRecord(self._client.get_job(self.job_id)))

    def wait_for_completion(
        self, timeout: float | None = None, wait: float = 10.0
    ) -> OqtopusJobResult | None:
        """Wait until the job ends (``succeeded``, ``failed`` or ``cancelled``).

        Polls the cheap status endpoint at once, then after 0.05 s, with each gap twice
        the one before up to ``wait``, and reads the whole job once it has ended: a short
        job is seen soon after its end.

        Args:
            timeout: The number of seconds to wait for the job; None waits for ever.
            wait: The longest time in seconds between two queries.

        Returns:
            The ended job (an ``OqtopusSamplingJobResult``, ``OqtopusEstimationJobResult``
            ... with ``status``, ``job_info`` and the job's other fields), or None if
            ``timeout`` passed first.

        Raises:
            ValueError: If ``timeout`` or ``wait`` is negative or not a number.
            BackendError: If the job cannot be read from the server.

        """
        if not wait_for_jobs([self], timeout, wait):
            return None
        return job_result_of(self._job, self._info)

    def cancel(self) -> None:
        """Cancel the job.

        A job that has already ended cannot be cancelled. A cancel can also lose the race
        with the job: read :attr:`status` afterwards (or wait) to see how it ended.

        Raises:
            BackendError: If the job cannot be found, authentication fails, or the server
                refuses the cancel (e.g. the job has ended), with the server's reason
                (``"To cancel job is failed. ..."``).

        """
        with reported_as(CANCEL_FAILED):
            self._client.cancel_job(self.job_id)
            self.refresh()

    def to_json(self) -> str:
        """A JSON text of the job's properties (timestamps in ISO 8601).

        The same text as quri-parts-oqtopus 1.1.5 writes for the same job: ``json.dumps``
        with :class:`~quri_parts_oqtopus.models.utils.DateTimeEncoder`.

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
        return json.dumps(payload, cls=DateTimeEncoder)

    def __repr__(self) -> str:
        # The reference's repr is its to_json(); a repr must not raise, though.
        try:
            return self.to_json()
        except BackendError:
            return (
                f"{type(self).__name__}(job_id={self.job_id!r}, job_type={self.job_type!r}, "
                f"status={self.status!r}, device_id={self.device_id!r})"
            )

    # -- for the subclasses and the polling loop -----------------------------------------
    def _poll(self) -> bool:
        """Ask the job's status once; read the job whole if it has ended. True if ended."""
        with reported_as(REFRESH_FAILED):
            status = self._client.get_job_status(self.job_id)
        if status in JOB_FINAL_STATUS:
            self.refresh()
            return True
        self._job = self._job.with_status(status)
        return False

    def _ended_job(self, timeout: float | None, wait: float, timed_out: str = "") -> None:
        """Wait for the job's end; on timeout raise ``timed_out`` (the reference's text)."""
        if self.status in JOB_FINAL_STATUS:
            return
        started = time.monotonic()
        if self.wait_for_completion(timeout, wait) is None:
            summary = timed_out or f"Timeout occurred after {timeout} seconds."
            raise OqtopusTimeoutError(
                f"{summary} Job {self.job_id} is still {self.status!r} after "
                f"{time.monotonic() - started:.1f} s of waiting."
            )

    def _end_report(self) -> str:
        """How the ended job ended, for messages: its id, status and the server's message."""
        message = self._info.entry("message")
        return f"Job {self.job_id} ended with status {self.status}" + (
            f": {message}" if message else "."
        )

    def _succeeded_job(self, timeout: float | None, wait: float) -> None:
        """Wait for the job's end; raise unless it succeeded."""
        self._ended_job(timeout, wait)
        if self.status != "succeeded":
            raise BackendError(f"Job ended with status {self.status}. {self._end_report()}")

    def _result_payload(self) -> dict[str, Any]:
        """The ``job_info.result`` object of an ended job, downloaded if it is a URL."""
        result = self._info.entry("result")
        if not isinstance(result, Mapping):
            raise BackendError(f"Job {self.job_id} has no result: {result!r:.200}")
        return dict(result)


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
            BackendError: If the job cannot be found or authentication fails
                (``"To retrieve_job from OQTOPUS Cloud is failed. ..."``), or its type
                is unknown (``"Unknown job_type: ..."``).

        """
        with reported_as(RETRIEVE_FAILED):
            record = JobRecord(self._client.get_job(job_id))
        return OqtopusJobBase.for_record(record, self._client)

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


def check_shots(shots: int) -> None:
    """The reference's first check, before anything else: ``shots >= 1``.

    Raises:
        ValueError: ``"shots should be a positive integer.: <shots>"`` (also a
            ``TypeError`` when ``shots`` cannot be compared with 1, as in the reference).

    """
    try:
        positive = shots >= 1
    except TypeError:
        raise OqtopusArgumentTypeError(f"shots should be a positive integer.: {shots!r}") from None
    if not positive:
        raise OqtopusInvalidArgumentError(f"shots should be a positive integer.: {shots}")


def job_settings(
    device_id: str,
    shots: int,
    name: str | None,
    description: str | None,
    transpiler_info: Mapping[str, Any] | None,
    simulator_info: Mapping[str, Any] | None,
    mitigation_info: Mapping[str, Any] | None,
    summary: str = "",
) -> dict[str, Any]:
    """The submit body's settings, checked: the documented ``ValueError`` on bad input.

    ``summary`` starts the messages of the checks the reference leaves to the service
    (``"To execute sampling on OQTOPUS Cloud is failed."``); the first check of
    ``shots`` is the reference's own and has its own text.

    Raises:
        ValueError: If ``shots`` is not an int in 1..10,000,000, ``device_id`` is not a
            string, or an info is not a dict; also a ``BackendError``, as the reference
            raises for all but ``shots < 1``.

    """
    check_shots(shots)
    with reported_as(summary):
        _check_settings(device_id, shots, transpiler_info, simulator_info, mitigation_info)
    infos = {
        "transpiler_info": transpiler_info,
        "simulator_info": simulator_info,
        "mitigation_info": mitigation_info,
    }
    return {
        "device_id": device_id,
        "shots": shots,
        "name": name,
        "description": description,
        **{key: dict(value or {}) for key, value in infos.items()},
    }


def _check_settings(
    device_id: str,
    shots: int,
    transpiler_info: Mapping[str, Any] | None,
    simulator_info: Mapping[str, Any] | None,
    mitigation_info: Mapping[str, Any] | None,
) -> None:
    if isinstance(shots, bool) or not isinstance(shots, int) or shots > MAX_SHOTS:
        raise OqtopusInvalidArgumentError(
            f"shots should be an int from 1 to {MAX_SHOTS:,}: {shots!r}"
        )
    if not isinstance(device_id, str):
        # "" is allowed: inside SSE the server picks the device whatever is passed.
        raise OqtopusInvalidArgumentError(f"device_id should be a string: {device_id!r}")
    infos = {
        "transpiler_info": transpiler_info,
        "simulator_info": simulator_info,
        "mitigation_info": mitigation_info,
    }
    for key, value in infos.items():
        if value is not None and not isinstance(value, Mapping):
            raise OqtopusInvalidArgumentError(f"{key} should be a dict or None: {value!r}")


def _as_record(job: JobRecord | OqtopusJobResult | Mapping[str, Any]) -> JobRecord:
    if isinstance(job, JobRecord):
        return job
    if isinstance(job, OqtopusJobResult):
        return job.record
    if isinstance(job, Mapping):
        return JobRecord(job)
    raise TypeError(f"'job' should be a job record or the job's JSON object: {job!r:.200}")


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
    """:func:`wait_for_jobs`, raising a ``BackendError`` (and ``TimeoutError``) that names the
    pending jobs on timeout."""
    if not wait_for_jobs(jobs, timeout, wait):
        pending = [job.job_id for job in jobs if job.status not in JOB_FINAL_STATUS]
        raise OqtopusTimeoutError(
            f"Timeout occurred after {timeout} seconds. Pending jobs: {pending}"
        )


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
