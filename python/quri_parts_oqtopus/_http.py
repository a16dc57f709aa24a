"""The one HTTP client of the OQTOPUS user API: its calls, the submission steps, storage.

How requests are sent, bounded and repeated is :mod:`quri_parts_oqtopus.transport`;
this module says which calls exist and which of them are safe to repeat.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any, Protocol, TypeGuard, TypeVar, cast
from urllib.parse import quote, unquote, urlparse
from urllib.request import url2pathname

import orjson
from quri_parts.backend import BackendError
from typing_extensions import Unpack

from quri_parts_oqtopus._contract import (
    REGISTERED,
    Device,
    Job,
    JobListQuery,
    PresignedUpload,
    RegisteredJob,
)
from quri_parts_oqtopus.formats.upload import ArchiveTooLargeError, JobInput, read_job_archive
from quri_parts_oqtopus.transport import (
    OqtopusHttpError,
    Request,
    Transport,
    TransportConfig,
    api_url_refusal,
    bounded,
    preview,
)

__all__ = ["ArchiveReader", "OqtopusHttpClient", "OqtopusHttpError", "encode_json_body", "is_url"]

logger = logging.getLogger("quri_parts_oqtopus")

_URL_SCHEMES = ("http://", "https://", "file://")
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class ArchiveReader(Protocol[_T_co]):
    """What reads a downloaded archive: ``read_job_archive``, ``decode_sampling_archive``."""

    def __call__(self, data: bytes, /, *, max_size: int) -> _T_co: ...


def is_url(value: object) -> TypeGuard[str]:
    """Whether a ``job_info`` entry is a URL to an archive rather than an inline value."""
    return isinstance(value, str) and value.startswith(_URL_SCHEMES)


class OqtopusHttpClient:
    """Calls of the OQTOPUS user API on one pooled ``requests.Session``.

    Every failure of a call is a :class:`BackendError` whose message names the operation,
    the job id where there is one, the HTTP status and the server's ``message``. The API
    token is sent only to the origin of the API's URL, never to storage URLs, and never
    appears in messages. Each call has one retry budget and one deadline (see
    :class:`~quri_parts_oqtopus.backend.OqtopusConfig`).

    Raises:
        ValueError: If the URL is not ``http(s)://`` or holds a backslash, whitespace or a
            control character (where URL parsers disagree on the host), the proxy has no
            scheme, or the token
            holds a character that cannot be sent in an HTTP header (the message says
            which and where, never the token).

    """

    def __init__(self, config: TransportConfig) -> None:
        if not config.url.startswith(("http://", "https://")):
            hint = ""
            if not config.url and os.getenv("OQTOPUS_ENV") == "sse_container":
                hint = (
                    " (inside an SSE container the backends hand jobs to sse_driver; this"
                    " HTTP client needs OQTOPUS_URL and OQTOPUS_API_TOKEN)"
                )
            raise ValueError(
                f"OQTOPUS url should start with http:// or https://: {config.url!r}{hint}"
            )
        unusable = api_url_refusal(config.url)
        if unusable:  # where parsers part ways, the token could go to a host nobody meant
            raise ValueError(f"OQTOPUS url cannot be used, since {unusable}: {config.url!r}")
        if config.proxy and "://" not in config.proxy:
            raise ValueError(f"OQTOPUS proxy should be a URL with a scheme: {config.proxy!r}")
        _check_header_token(config.api_token)
        self._base_url = config.url.rstrip("/")
        self._transport = Transport(config)
        self._max_file_bytes = config.max_response_bytes
        self._max_inflated_bytes = config.max_inflated_bytes

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._base_url

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __repr__(self) -> str:
        return f"OqtopusHttpClient(base_url={self._base_url!r})"

    # -- devices -------------------------------------------------------------------------
    def list_devices(self) -> list[Device]:
        """All devices, as the server's JSON objects."""
        devices = self._json(self._api("GET", "/devices", "list devices"))
        if not isinstance(devices, list):
            raise BackendError(f"list devices: expected a JSON array, got {preview(devices)}")
        return cast("list[Device]", devices)

    def get_device(self, device_id: str) -> Device:
        """One device, as the server's JSON object."""
        path = f"/devices/{_segment(device_id)}"
        return cast("Device", self._object(self._api("GET", path, f"get device {device_id!r}")))

    # -- submission ----------------------------------------------------------------------
    def register_job(self) -> RegisteredJob:
        """Step 1 of a submission: a new job id and its presigned upload target (both
        checked to be there: ``presigned_url`` with ``url`` and ``fields.key``).

        Repeated after transient failures: a second registration leaves at worst an unused
        ``registered`` job behind.
        """
        body = self._object(self._api("POST", "/jobs", "register job", safe_to_repeat=True))
        job_id, presigned = body.get("job_id"), body.get("presigned_url")
        if not isinstance(job_id, str) or not isinstance(presigned, Mapping):
            raise BackendError(f"register job: unexpected answer {preview(body)}")
        fields = presigned.get("fields")
        if (
            not isinstance(presigned.get("url"), str)
            or not isinstance(fields, Mapping)
            or not isinstance(fields.get("key"), str)
        ):
            raise BackendError(
                f"register job {job_id}: presigned_url lacks url or fields.key: "
                f"{preview(presigned)}"
            )
        return cast("RegisteredJob", body)

    def upload_job_input(self, job_id: str, presigned: PresignedUpload, archive: bytes) -> None:
        """Step 2: the multipart form POST of the input archive to the presigned URL.

        Without the token (storage never sees it); repeated after transient failures, since
        it writes the same bytes to the same key.
        """
        # The service leaves optional fields null (no security token, ...): not sent.
        fields = {str(k): str(v) for k, v in presigned["fields"].items() if v is not None}
        request = Request(
            "POST",
            presigned["url"],
            f"upload input of job {job_id}",
            token=False,
            form=fields,
            files={"file": (PurePosixPath(fields["key"]).name, archive, "application/zip")},
            transfer=True,
            any_2xx=True,  # S3 answers 204
            safe_to_repeat=True,
        )
        self._transport.call(request, _ignore)

    def submit_job(self, job_id: str, body: Mapping[str, Any]) -> None:
        """Step 3 alone: submit the registered, uploaded job with its settings.

        Repeated only when the request never left; :meth:`submit_new_job` repeats it
        safely.

        Raises:
            ValueError: If ``body`` cannot be sent as JSON (see :func:`encode_json_body`).
            BackendError: If the submit fails.

        """
        self._transport.call(self._submit_request(job_id, encode_json_body(body)), _ignore)

    def submit_new_job(
        self,
        job_input: JobInput,
        body: Mapping[str, Any],
        on_registered: Callable[[str], None] | None = None,
    ) -> str:
        """Register a job, upload its input archive, submit it; the job id.

        ``job_input`` is framed as the ZIP file the server names at registration.
        ``on_registered`` hears the job id as soon as it exists (journals record it). Each
        step has its own retry budget; a submit is repeated only after the job's status
        shows that the earlier one did not take effect.

        A job whose input or submit is refused for good is deleted (best effort) when no
        submit can have reached the server; when one may have (its answer was lost), the
        job is left as it is, since it may still run, and the error says so.

        Raises:
            ValueError: If ``body`` cannot be sent as JSON (see :func:`encode_json_body`),
                before anything is sent.
            BackendError: When a step fails for good; after registration the message names
                the job id, the step, the attempts and the last cause, and what became of
                the job, so that it is never lost silently.

        """
        payload = encode_json_body(body)  # before registering: no job is left for a bad body
        registered = self.register_job()
        job_id, presigned = registered["job_id"], registered["presigned_url"]
        try:
            if on_registered is not None:
                on_registered(job_id)
            archive = job_input.archive(PurePosixPath(str(presigned["fields"]["key"])).name)
            self.upload_job_input(job_id, presigned, archive)
        except OqtopusHttpError as error:  # nothing was submitted: the job can go
            raise _noted(error, self._discard(job_id)) from error
        except Exception:
            outcome = self._discard(job_id)
            logger.warning("job %s was registered, not submitted: %s", job_id, outcome)
            raise
        self._submit_exactly_once(job_id, payload)
        return job_id

    def _submit_request(self, job_id: str, payload: bytes) -> Request:
        path = f"/jobs/{_segment(job_id)}/submit"
        return self._api("POST", path, f"submit job {job_id}", json=payload)

    def _submit_exactly_once(self, job_id: str, payload: bytes) -> None:
        """The submit step: repeated within one budget, never so that the job runs twice."""
        request = self._submit_request(job_id, payload)
        uncertain = False  # some submit may have reached the server and got no clear answer

        def attempt(deadline: float) -> None:
            nonlocal uncertain
            if uncertain and self._status_of(job_id, deadline) != REGISTERED:
                return  # the earlier submit went through; only its answer was lost
            try:
                self._transport.exchange(request, deadline)
            except OqtopusHttpError as error:
                if error.status is not None and 300 <= error.status < 500:  # answered: not acted
                    if uncertain and self._status_of(job_id, deadline) != REGISTERED:
                        return  # refused as already submitted by an attempt whose answer was lost
                elif error.sent:
                    uncertain = True  # no answer, a 5xx, or a 200 cut short: it may have acted
                raise

        try:
            self._transport.run(
                request.operation, attempt, method="POST", url=request.url, repeatable=True
            )
        except OqtopusHttpError as error:
            if not uncertain:  # every submit was refused or never left: the job cannot run
                raise _noted(error, self._discard(job_id)) from error
            if self._submitted_after_all(job_id):
                return
            raise _noted(
                error,
                f"job {job_id} was left as it is: an earlier submit got no clear answer and "
                "may still take effect, so deleting the job could lose its run; check its "
                "status before submitting again",
            ) from error

    def _status_of(self, job_id: str, deadline: float) -> str:
        """The job's status, from one attempt within the calling step's ``deadline``."""
        request = self._status_request(job_id)
        return _status_in(request.operation, self._transport.exchange(request, deadline))

    def _submitted_after_all(self, job_id: str) -> bool:
        try:
            request = self._status_request(job_id)
            return _status_in(request.operation, self._transport.once(request)) != REGISTERED
        except BackendError:
            return False

    def _discard(self, job_id: str) -> str:
        """Delete a job that was registered and never submitted, best effort: what happened."""
        request = self._api("DELETE", f"/jobs/{_segment(job_id)}", f"delete job {job_id}")
        try:
            self._transport.once(request)
        except OqtopusHttpError as error:
            return f"job {job_id} could not be deleted ({error})"
        return f"job {job_id} was deleted"

    # -- jobs ----------------------------------------------------------------------------
    def get_job(self, job_id: str) -> Job:
        """The job object; ``job_info`` entries are left as the server sent them."""
        request = self._api("GET", f"/jobs/{_segment(job_id)}", f"get job {job_id}")
        return cast("Job", self._object(request))

    def get_job_status(self, job_id: str) -> str:
        """The job's status from the cheap status endpoint."""
        request = self._status_request(job_id)
        return self._transport.call(request, lambda body: _status_in(request.operation, body))

    def _status_request(self, job_id: str) -> Request:
        path = f"/jobs/{_segment(job_id)}/status"
        return self._api("GET", path, f"get status of job {job_id}")

    def list_jobs(self, **query: Unpack[JobListQuery]) -> list[Job]:
        """Jobs matching ``query`` (``fields``, ``status``, ``q``, ``page``, ``size``, ...)."""
        jobs = self._json(self._api("GET", "/jobs", "list jobs", params=query))
        if not isinstance(jobs, list):
            raise BackendError(f"list jobs: expected a JSON array, got {preview(jobs)}")
        return cast("list[Job]", jobs)

    def cancel_job(self, job_id: str) -> None:
        """Ask the server to cancel the job (repeated only when the request never left)."""
        path = f"/jobs/{_segment(job_id)}/cancel"
        self._json(self._api("POST", path, f"cancel job {job_id}"))

    def delete_job(self, job_id: str) -> None:
        """Delete a job that has ended."""
        self._json(self._api("DELETE", f"/jobs/{_segment(job_id)}", f"delete job {job_id}"))

    def get_legacy_sselog(self, job_id: str) -> tuple[bytes, str]:
        """An SSE log from the older ``/sselog`` route: its bytes and file name."""
        operation = f"download SSE log of job {job_id}"
        body = self._object(self._api("GET", f"/jobs/{_segment(job_id)}/sselog", operation))
        encoded, file_name = body.get("file"), body.get("file_name")
        if not isinstance(encoded, str) or not isinstance(file_name, str) or not file_name:
            raise BackendError(f"{operation}: the answer holds no file: {preview(body)}")
        try:
            return base64.b64decode(encoded, validate=True), file_name
        except (binascii.Error, ValueError) as e:
            raise BackendError(f"{operation}: file is not valid base64: {e}") from e

    # -- storage -------------------------------------------------------------------------
    def download(self, url: str, *, operation: str) -> bytes:
        """The bytes behind a storage URL (``http(s)://`` or ``file://``), without the token.

        A ``file://`` URL is read only if it names a regular file within
        ``max_response_bytes``.
        """
        parsed = urlparse(url)
        if parsed.scheme == "file":
            return self._read_file(url2pathname(unquote(parsed.path)), operation)
        request = Request("GET", url, operation, token=False, transfer=True)
        return self._transport.call(request, bytes)

    def download_archive(self, url: str, read: ArchiveReader[_T], *, operation: str) -> _T:
        """What ``read`` makes of the archive behind ``url``, inflated to ``max_inflated_bytes``.

        An archive that ``read`` refuses (``ValueError``: not a ZIP, a CRC error, content
        that does not decode) came whole, as Content-Length said, and would come the same
        again: it is refused at once, as one that inflates beyond the limit. Only an
        archive cut short in transit is downloaded again, within the budget.
        """
        limit = self._max_inflated_bytes

        def decode(data: bytes) -> _T:
            try:
                return read(data, max_size=limit)
            except ArchiveTooLargeError as e:
                raise OqtopusHttpError(
                    f"{operation}: {e} (max_inflated_bytes); not inflated", 200, final=True
                ) from e
            except ValueError as e:
                raise OqtopusHttpError(
                    f"{operation}: {bounded(str(e))}", 200, broken_answer=True, final=True
                ) from e

        if urlparse(url).scheme == "file":
            return decode(self.download(url, operation=operation))
        request = Request("GET", url, operation, token=False, transfer=True)
        return self._transport.call(request, decode)

    def download_archive_json(self, url: str, *, operation: str) -> Any:
        """The JSON document inside the one-file ZIP archive behind ``url``."""
        return self.download_archive(url, read_job_archive, operation=operation)

    def _read_file(self, path: str, operation: str) -> bytes:
        limit = self._max_file_bytes
        try:
            # Non-blocking: opening a FIFO must not wait for a writer before it is refused.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as e:
            raise OqtopusHttpError(
                f"{operation}: cannot read {path!r}: {e}", None, final=True
            ) from e
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OqtopusHttpError(
                    f"{operation}: {path!r} is not a regular file; not read", None, final=True
                )
            data = file.read(limit + 1)
        if len(data) > limit:
            raise OqtopusHttpError(
                f"{operation}: {path!r} is larger than max_response_bytes ({limit:,}); not read",
                None,
                final=True,
            )
        return data

    # -- plumbing ------------------------------------------------------------------------
    def _api(self, method: str, path: str, operation: str, **options: Any) -> Request:
        return Request(method, self._base_url + path, operation, **options)

    def _json(self, request: Request) -> Any:
        operation = request.operation
        return self._transport.call(request, lambda body: _json_in(operation, body))

    def _object(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        if not isinstance(body, dict):
            raise BackendError(f"{request.operation}: expected a JSON object, got {preview(body)}")
        return body


def encode_json_body(body: Mapping[str, Any]) -> bytes:
    """``body`` as the JSON bytes of a request, or a ``ValueError`` naming the field that
    cannot be sent and why.

    What JSON cannot carry: types other than dict, list, tuple, str, int, float, bool and
    None (a numpy integer ...), integers beyond 64 bits, strings with lone surrogates, keys
    that are not strings, and infinite or NaN numbers (orjson would send them as null).

    Raises:
        ValueError: Naming the first such value, e.g. ``simulator_info['seed']``.

    """
    try:
        payload = orjson.dumps(body)
    except TypeError as e:
        where, why = _unsendable(body, "the body", e)
        raise ValueError(f"{where} cannot be sent as JSON: {why}") from None
    non_finite = _non_finite(body, "the body")
    if non_finite is not None:
        raise ValueError(f"{non_finite} cannot be sent as JSON: it is not a finite number")
    return payload


def _children(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """The items of a dict or list with where each is: ``simulator_info['seed']``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield (str(key) if where == "the body" else f"{where}[{key!r}]"), item
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield f"{where}[{index}]", item


def _unsendable(value: Any, where: str, error: TypeError) -> tuple[str, str]:
    """Where in ``value`` orjson fails, and why: the deepest part it refuses."""
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str) or _refused(key) is not None:
                return where, f"its key {preview(key, 80)} is not a string of text"
    for inner_where, item in _children(value, where):
        inner_error = _refused(item)
        if inner_error is not None:
            return _unsendable(item, inner_where, inner_error)
    return where, f"{error}: {preview(value, 80)}"


def _refused(value: Any) -> TypeError | None:
    try:
        orjson.dumps(value)
    except TypeError as e:
        return e
    return None


def _non_finite(value: Any, where: str) -> str | None:
    """Where in ``value`` a float is infinite or NaN, None if nowhere."""
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    for inner_where, item in _children(value, where):
        found = _non_finite(item, inner_where)
        if found is not None:
            return found
    return None


def _check_header_token(token: str) -> None:
    """Refuse a token that no header can carry, before any request and without showing it.

    Sent as is, requests would refuse it on every attempt, quoting the whole value.
    """
    found = next(((i, c) for i, c in enumerate(token) if not " " <= c <= "~"), None)
    if found is not None:
        where = f"{found[1]!r} at position {found[0]}"
    elif token != token.strip(" "):
        where = "a space at its start or end"
    else:
        return
    raise ValueError(
        f"OQTOPUS api_token holds {where}, which an HTTP header cannot carry (a line break"
        " or a space read with it from a file?); the token is not shown here"
    )


def _segment(identifier: str) -> str:
    """An id as one URL path segment: ``/``, ``?``, ``#`` and the like cannot change the path."""
    return quote(str(identifier), safe="")


def _ignore(_: bytes) -> None:
    return None


def _json_in(operation: str, body: bytes) -> Any:
    """The JSON of a whole answer (one cut short failed in the transport, and is repeated).

    A whole answer that is not JSON would be the same at the next attempt: it is final.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise OqtopusHttpError(
            f"{operation}: the server answered HTTP 200 with malformed JSON ({e}): {preview(body)}",
            200,
            broken_answer=True,
            final=True,
        ) from e


def _status_in(operation: str, body: bytes) -> str:
    answer = _json_in(operation, body)
    status = answer.get("status") if isinstance(answer, dict) else None
    if not isinstance(status, str):
        raise BackendError(f"{operation}: no status in {preview(answer)}")
    return status


def _noted(error: OqtopusHttpError, note: str) -> OqtopusHttpError:
    """``error`` with what became of its job added to the message."""
    return OqtopusHttpError(
        f"{error}; {note}",
        error.status,
        error.retry_after,
        broken_answer=error.broken_answer,
        sent=error.sent,
        final=True,
        message_code=error.message_code,
    )
