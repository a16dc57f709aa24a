"""The job model: what every OQTOPUS job has, and the base class of the job backends.

A job wraps its record (:mod:`~quri_parts_oqtopus.backend.record`), waits with the one
polling loop (:mod:`~quri_parts_oqtopus.backend.waiting`), and is made by a backend through
:mod:`~quri_parts_oqtopus.backend.submission`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import (
    CANCELLED,
    CANCELLING,
    FINAL_STATUSES,
    REFERENCE_JOB_FIELDS,
    SUCCEEDED,
)
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus._job_api import JobApi, http_api
from quri_parts_oqtopus.backend.base import OqtopusBackendBase
from quri_parts_oqtopus.backend.errors import (
    CANCEL_FAILED,
    INVALID_RESULT,
    REFRESH_FAILED,
    RETRIEVE_FAILED,
    OqtopusMissingResultError,
    OqtopusTimeoutError,
    reported_as,
)
from quri_parts_oqtopus.backend.job_info import JobInfo
from quri_parts_oqtopus.backend.job_list import JobListing, iter_jobs
from quri_parts_oqtopus.backend.job_result import OqtopusJobResult, job_result_of
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.backend.tags import check_tags, has_tags, search_term, tags_of
from quri_parts_oqtopus.backend.waiting import wait_for_jobs
from quri_parts_oqtopus.models.base import OqtopusModelBase
from quri_parts_oqtopus.models.utils import DateTimeEncoder
from quri_parts_oqtopus.notebook import job_html
from quri_parts_oqtopus.transport import OqtopusHttpError, bounded, preview

__all__ = [
    "JOB_FINAL_STATUS",
    "OqtopusJobBackendBase",
    "OqtopusJobBase",
    "OqtopusJobResult",
    "request_cancel",
]

#: The reference's name of the final statuses (its module paths re-export it from here), a
#: list as there.
JOB_FINAL_STATUS = list(FINAL_STATUSES)


class OqtopusJobBase(OqtopusModelBase):
    """What every OQTOPUS job has: its properties, refresh, waiting, cancel and JSON form.

    There is one property for each field of the contract's ``Job`` (a test holds them
    equal), each as quri-parts-oqtopus 1.1.5 gives it.

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
        client: JobApi | None = None,
        *,
        job_api: JobApi | None = None,
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
    def for_record(cls, job: JobRecord, client: JobApi) -> OqtopusJobBase:
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
    def tags(self) -> tuple[str, ...]:
        """The job's tags (``tags=`` of its submission), read from the last line of its
        :attr:`description`, which stays what the server holds; ``()`` when none."""
        return tags_of(self._job.text("description"))

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
        """The shots of the job (0 when unknown).

        Raises:
            BackendError: If the server's ``shots`` is not a number.

        """
        return self._job.number("shots", int) or 0

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
        """The execution time of the job in seconds (0.0 until known).

        Raises:
            BackendError: If the server's ``execution_time`` is not a number.

        """
        return self._job.number("execution_time", float) or 0.0

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
        """Ask the server to cancel the job, then read its status: :attr:`status` is the truth.

        A cancel is a request: a job that has not started ends ``cancelled``; a running
        one shows ``cancelling`` while the server stops it, then ends ``cancelled``, or
        ``succeeded`` with its result if it finished first (the cancel lost the race).
        ``cancelling`` is not final: :meth:`result` and :meth:`wait_for_completion` wait
        through it. A job already ``cancelling`` is not asked again (nor when the server
        refuses the request because the job is ``cancelling``): its status is read.

        Raises:
            BackendError: If the job cannot be found, authentication fails, or the server
                refuses the cancel (e.g. the job has ended), with the server's reason
                (``"To cancel job is failed. ..."``).

        """
        with reported_as(CANCEL_FAILED):
            if self.status != CANCELLING:
                request_cancel(http_api(self._client, f"cancel job {self.job_id}"), self.job_id)
            self.refresh()

    def to_json(self) -> str:
        """A JSON text of the job's properties (timestamps in ISO 8601).

        The same text as quri-parts-oqtopus 1.1.5 writes for the same job: ``json.dumps``
        with :class:`~quri_parts_oqtopus.models.utils.DateTimeEncoder`.

        Raises:
            BackendError: If an archive in ``job_info`` cannot be downloaded, or a field
                is not what the service sends (``shots`` that is not a number ...).

        """
        # Each field as its property gives it, in the service's order; fields the service
        # added after the reference are properties too, but not in its text.
        payload = {name: getattr(self, name) for name in REFERENCE_JOB_FIELDS}
        return json.dumps(payload, cls=DateTimeEncoder)

    def _repr_html_(self) -> str:
        """The job as Jupyter shows it: a small table, as last read (no call to the server)."""
        return job_html(self, self._job.raw, self._job.message)

    def __repr__(self) -> str:
        # The reference's repr is its to_json(); a repr must not raise, though, whatever
        # the server sent (an archive that cannot be read, shots that are not a number).
        try:
            return self.to_json()
        except Exception:
            return (
                f"{type(self).__name__}(job_id={self.job_id!r}, job_type={self.job_type!r}, "
                f"status={self.status!r}, device_id={self.device_id!r})"
            )

    # -- for job sets and the polling loop (the internal API) ----------------------------
    @property
    def record(self) -> JobRecord:
        """The job's record as last read from the server."""
        return self._job

    def poll(self) -> bool:
        """Ask the job's status once; read the job whole if it has ended. True if ended.

        Raises:
            BackendError: If the job cannot be read (``"To refresh job is failed. ..."``).

        """
        with reported_as(REFRESH_FAILED):
            status = self._client.get_job_status(self.job_id)
        if status in FINAL_STATUSES:
            self.refresh()
            return True
        self._job = self._job.with_status(status)
        return False

    # -- for the subclasses ----------------------------------------------------------------

    def _ended_job(self, timeout: float | None, wait: float, timed_out: str = "") -> None:
        """Wait for the job's end; on timeout raise ``timed_out`` (the reference's text)."""
        if self.status in FINAL_STATUSES:
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
            f": {bounded(str(message))}" if message else "."
        )

    def _succeeded_job(self, timeout: float | None, wait: float) -> None:
        """Wait for the job's end; raise unless it succeeded."""
        self._ended_job(timeout, wait)
        if self.status != SUCCEEDED:
            raise BackendError(f"Job ended with status {self.status}. {self._end_report()}")

    def _result_payload(self) -> dict[str, Any]:
        """The ``job_info.result`` object of an ended job, downloaded if it is a URL.

        Raises:
            OqtopusMissingResultError: (a ``BackendError`` and ``KeyError``) If the job has
                none (``"The job result is not a valid type. ..."``).

        """
        result = self._info.entry("result")
        if not isinstance(result, Mapping):
            raise OqtopusMissingResultError(
                f"{INVALID_RESULT} Job {self.job_id} has no result: {preview(result)}"
            )
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

    def list_jobs(
        self,
        *,
        fields: Sequence[str] | None = None,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        status: str | None = None,
        q: str | None = None,
        page: int = 1,
        size: int = 100,
        order: str = "DESC",
        limit: int | None = None,
        tags: Sequence[str] | None = None,
    ) -> Iterator[OqtopusJobBase]:
        """The jobs the server lists, as job objects, asking for page after page.

        The parameters are those of ``GET /jobs`` (and of oqtopus-client's ``list_jobs``);
        the iterator reads the next page when it needs it, and stops at a short page or
        after ``limit`` jobs. Each job is an ``OqtopusSamplingJob``,
        ``OqtopusEstimationJob`` or ``OqtopusSseJob`` by its type (a job without a known
        type, such as a ``registered`` one, an ``OqtopusJobBase``), built from the listed
        fields: ``job.refresh()`` reads the whole job. A job created or deleted while the
        list is read may shift the pages; no job is yielded twice.

        Args:
            fields: The fields to list (the service's ``fields``); ``job_id``,
                ``job_type`` and ``status`` are always asked for. None: every field.
            start_time: Only jobs submitted at or after this time (the service's
                ``submitted_at``; a naive ``datetime`` is UTC; a string is sent as it is,
                ISO 8601).
            end_time: Only jobs submitted at or before this time.
            status: Only jobs with this status (``succeeded``, ``cancelling``, ...).
            q: Only jobs whose id, name or description contains this text.
            page: The first page to read, from 1.
            size: Jobs per page (1 to 65,535; a server may have a lower maximum).
            order: ``DESC`` newest first, ``ASC`` oldest first (by creation).
            limit: At most this many jobs; None: every job listed.
            tags: Only jobs with every one of these tags (``tags=`` of their submission):
                the server's ``q`` search finds the first tag (unless ``q`` is given), and
                each job's tags are then checked exactly here.

        Returns:
            An iterator of job objects; the first page is read at the first ``next()``.

        Raises:
            ValueError: (also a ``BackendError``) At once, for a bad argument: a status
                that is not a job status, an order other than ``ASC``/``DESC``, a page or
                size that is not a positive int, a negative limit, a refused tag (the
                message names it).
            BackendError: While iterating, if a page cannot be read.

        """
        wanted = check_tags(tags)
        if wanted:
            q = search_term(wanted[0]) if q is None else q
            fields = None if fields is None else [*fields, "description"]
        listing = JobListing.checked(
            fields=fields,
            start_time=start_time,
            end_time=end_time,
            status=status,
            q=q,
            page=page,
            size=size,
            order=order,
            limit=limit,
        )
        # Here, not in the generator: a configuration that cannot make one fails at the call.
        return _listed(http_api(self._client, "list jobs"), listing, wanted)

    def get_job_status(self, job_id: str) -> str:
        """The job's status, from the service's cheap status endpoint.

        Raises:
            BackendError: If the job cannot be found or authentication fails.

        """
        return self._client.get_job_status(job_id)

    def delete_job(self, job_id: str) -> None:
        """Delete a job that has ended (``succeeded``, ``failed`` or ``cancelled``).

        Raises:
            BackendError: If the job cannot be found, or has not ended (the service
                refuses with 400 and its reason).

        """
        http_api(self._client, f"delete job {job_id}").delete_job(job_id)

    def cancel_job(self, job_id: str) -> str:
        """Ask the server to cancel a job, and return its status after the request.

        The status is the truth: ``cancelled`` (it had not started), ``cancelling`` (the
        server is stopping it: it may still end ``succeeded`` if it finishes first), or
        what the job had reached. A job already ``cancelling`` is not an error.

        Raises:
            BackendError: If the job cannot be found, or has ended (``"To cancel job is
                failed. ..."`` with the server's reason).

        """
        with reported_as(CANCEL_FAILED):
            request_cancel(http_api(self._client, f"cancel job {job_id}"), job_id)
            return self._client.get_job_status(job_id)


def _listed(
    client: OqtopusHttpClient, listing: JobListing, tags: tuple[str, ...]
) -> Iterator[OqtopusJobBase]:
    for record in iter_jobs(client, listing, lambda r: has_tags(r.text("description"), tags)):
        yield _job_of_listed(record, client)


def _job_of_listed(record: JobRecord, client: OqtopusHttpClient) -> OqtopusJobBase:
    """The job object of a listed record. A job without a type this client knows (a
    ``registered`` one has none yet; a newer service may add types) is a plain one: one
    such job does not stop the listing."""
    try:
        return OqtopusJobBase.for_record(record, client)
    except BackendError:
        return OqtopusJobBase(record, client)


def request_cancel(client: OqtopusHttpClient, job_id: str) -> None:
    """Ask the server to cancel the job; a refusal while the job is ``cancelling``, or an
    answer lost (no answer, a 5xx) after the job became ``cancelled``, is not an error (the
    cancel is under way or took effect: nothing asks twice).

    Raises:
        BackendError: If the server refuses for any other reason (the job has ended ...),
            or the job cannot be found.

    """
    try:
        client.cancel_job(job_id)
    except BackendError as refused:
        # The cancel may have been refused because it is under way or done, or its answer
        # lost after it took effect: the status says which. If that cannot be read either,
        # the cancel's own error is the one to see.
        try:
            status = client.get_job_status(job_id)
        except BackendError as unread:
            raise refused from unread
        # A refusal of a job already cancelled stays an error, as the reference raises it;
        # an answer lost after the cancel took effect does not.
        answer_lost = isinstance(refused, OqtopusHttpError) and refused.transient
        if status != CANCELLING and not (answer_lost and status == CANCELLED):
            raise


def _as_record(job: JobRecord | OqtopusJobResult | Mapping[str, Any]) -> JobRecord:
    if isinstance(job, JobRecord):
        return job
    if isinstance(job, OqtopusJobResult):
        return job.record
    if isinstance(job, Mapping):
        return JobRecord(job)
    raise TypeError(f"'job' should be a job record or the job's JSON object: {job!r:.200}")
