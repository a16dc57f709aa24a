"""The one HTTP client of the OQTOPUS user API: session, auth, timeouts, retries, errors."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar
from urllib.parse import quote, unquote, urlparse
from urllib.request import url2pathname

import orjson
import requests
from quri_parts.backend import BackendError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from quri_parts_oqtopus import __version__
from quri_parts_oqtopus.upload import read_job_archive

if TYPE_CHECKING:  # only annotations: importing the backend package here would be circular
    from quri_parts_oqtopus.backend.config import OqtopusConfig

__all__ = ["OqtopusHttpClient", "OqtopusHttpError", "RetryPolicy"]

logger = logging.getLogger("quri_parts_oqtopus")

#: Uploads and downloads of archives may read this many times longer than API calls.
_TRANSFER_READ_FACTOR = 5.0
_TOKEN_HEADER = "q-api-token"  # noqa: S105 - a header name, not a secret
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_URL_SCHEMES = ("http://", "https://", "file://")
_T = TypeVar("_T")


#: Answers after which repeating a call may succeed.
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class OqtopusHttpError(BackendError):
    """A failed call of the OQTOPUS API or its storage.

    Attributes:
        status: The HTTP status of the answer, or None when no answer came (connection
            error, timeout).
        retry_after: Seconds the server asked to wait before trying again, if it did.
        broken_answer: The answer came but was cut short or unreadable (truncated body,
            malformed JSON, corrupt archive): the transport retries never see these.

    """

    def __init__(
        self,
        message: str,
        status: int | None,
        retry_after: float | None = None,
        *,
        broken_answer: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.broken_answer = broken_answer

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later: no answer, 429, a 5xx, a broken answer."""
        return self.broken_answer or self.status is None or self.status in _TRANSIENT_STATUS


@dataclass(frozen=True)
class RetryPolicy:
    """How calls are repeated where the transport's own retries cannot help.

    That is the submission steps (registering again only leaves an unused ``registered``
    job behind, uploading again writes the same bytes to the same key, and a submit is
    repeated only after the job's status shows that the earlier one did not take effect),
    and reads whose answer arrived broken (truncated, malformed, a corrupt archive).
    """

    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 20.0

    def delay(self, attempt: int, error: OqtopusHttpError) -> float:
        """Seconds to wait before attempt ``attempt + 1``: capped exponential with jitter."""
        if error.retry_after is not None:
            return min(error.retry_after, self.backoff_max)
        ceiling: float = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def idempotent_retry(retries: int, backoff: float) -> Retry:
    """Retries for idempotent calls: connection errors, 429 and 5xx, with backoff.

    Only idempotent methods are repeated on an answer; a POST only when it never left.
    """
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        backoff_factor=backoff,
        backoff_max=30.0,
        backoff_jitter=0.25,
        status_forcelist=_TRANSIENT_STATUS,
        allowed_methods=_IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def is_url(value: object) -> TypeGuard[str]:
    """Whether a ``job_info`` entry is a URL to an archive rather than an inline value."""
    return isinstance(value, str) and value.startswith(_URL_SCHEMES)


class OqtopusHttpClient:
    """Calls of the OQTOPUS user API on one pooled ``requests.Session``.

    Every failure of a call is a :class:`BackendError` whose message names the operation,
    the job id where there is one, the HTTP status and the server's ``message``. The API
    token is sent only to the API's own URL, never to storage URLs, and never appears in
    messages.

    Raises:
        ValueError: If the URL is not ``http(s)://`` or the proxy has no scheme.

    """

    def __init__(self, config: OqtopusConfig) -> None:
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
        if config.proxy and "://" not in config.proxy:
            raise ValueError(f"OQTOPUS proxy should be a URL with a scheme: {config.proxy!r}")
        self._base_url = config.url.rstrip("/")
        self._timeout = config.timeout
        self._transfer_timeout = (config.timeout[0], config.timeout[1] * _TRANSFER_READ_FACTOR)
        self._retry = RetryPolicy(attempts=config.retries + 1, backoff=config.backoff)
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=16,
            max_retries=idempotent_retry(config.retries, config.backoff),
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"quri-parts-oqtopus/{__version__}"
        if config.proxy:
            session.proxies.update({"http": config.proxy, "https": config.proxy})
        self._session = session
        self._token = config.api_token

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._base_url

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __repr__(self) -> str:
        return f"OqtopusHttpClient(base_url={self._base_url!r})"

    # -- devices -------------------------------------------------------------------------
    def list_devices(self) -> list[dict[str, Any]]:
        """All devices, as the server's JSON objects."""
        devices = self._call("GET", "/devices", operation="list devices")
        if not isinstance(devices, list):
            raise BackendError(f"list devices: expected a JSON array, got {_preview(devices)}")
        return devices

    def get_device(self, device_id: str) -> dict[str, Any]:
        """One device, as the server's JSON object."""
        return self._object(
            "GET", f"/devices/{_segment(device_id)}", operation=f"get device {device_id!r}"
        )

    # -- jobs ----------------------------------------------------------------------------
    def register_job(self) -> tuple[str, dict[str, Any]]:
        """Step 1 of a submission: a new job id and its presigned upload target."""
        body = self._object("POST", "/jobs", operation="register job")
        job_id, presigned = body.get("job_id"), body.get("presigned_url")
        if not isinstance(job_id, str) or not isinstance(presigned, Mapping):
            raise BackendError(f"register job: unexpected answer {_preview(body)}")
        fields = presigned.get("fields")
        if (
            not isinstance(presigned.get("url"), str)
            or not isinstance(fields, Mapping)
            or not isinstance(fields.get("key"), str)
        ):
            raise BackendError(
                f"register job {job_id}: presigned_url lacks url or fields.key: "
                f"{_preview(presigned)}"
            )
        return job_id, dict(presigned)

    def upload_job_input(self, job_id: str, presigned: Mapping[str, Any], archive: bytes) -> None:
        """Step 2: the multipart form POST of the input archive to the presigned URL."""
        fields = {str(k): str(v) for k, v in presigned["fields"].items()}
        file_name = PurePosixPath(fields["key"]).name
        self._send(
            "POST",
            presigned["url"],
            f"upload input of job {job_id}",
            {_TOKEN_HEADER: None},  # None drops the session's header: storage never sees it
            self._transfer_timeout,
            any_2xx=True,  # S3 answers 204
            data=fields,
            files={"file": (file_name, archive, "application/zip")},
        )

    def submit_job(self, job_id: str, body: Mapping[str, Any]) -> None:
        """Step 3: submit the registered, uploaded job with its settings."""
        self._call(
            "POST", f"/jobs/{_segment(job_id)}/submit", json=body, operation=f"submit job {job_id}"
        )

    def submit_new_job(
        self,
        build_archive: Callable[[str], bytes],
        body: Mapping[str, Any],
        on_registered: Callable[[str], None] | None = None,
    ) -> str:
        """Register a job, upload its input archive, submit it; the job id.

        ``build_archive`` gets the archive's file name and returns the ZIP bytes. Each
        step is repeated after transient failures (see :class:`RetryPolicy`).
        ``on_registered`` hears the job id as soon as it exists (journals record it).

        Raises:
            BackendError: When a step fails for good; after registration the message names
                the job id, the step, the attempts and the last cause, so the job is never
                lost silently.

        """
        retry = self._retry
        job_id, presigned = self._repeating(retry, "register job", self.register_job)
        if on_registered is not None:
            on_registered(job_id)
        archive = build_archive(PurePosixPath(presigned["fields"]["key"]).name)
        self._repeating(
            retry,
            f"upload input of job {job_id}",
            lambda: self.upload_job_input(job_id, presigned, archive),
        )
        self._repeating(retry, f"submit job {job_id}", self._submit_once(job_id, body))
        return job_id

    def _submit_once(self, job_id: str, body: Mapping[str, Any]) -> Callable[[], None]:
        """A submit call that, when repeated, first checks whether an earlier one took effect."""
        tried = False

        def submit() -> None:
            nonlocal tried
            if tried and self._submitted(job_id):
                return  # the earlier submit went through; only its answer was lost
            tried = True
            try:
                self.submit_job(job_id, body)
            except OqtopusHttpError as error:
                if error.status == 400 and self._submitted(job_id):
                    return  # refused as already submitted by an attempt whose answer was lost
                raise

        return submit

    def _submitted(self, job_id: str) -> bool:
        try:
            return self.get_job_status(job_id) != "registered"
        except OqtopusHttpError:
            return False

    def _repeating(
        self,
        retry: RetryPolicy,
        step: str,
        call: Callable[[], _T],
        worth_repeating: Callable[[OqtopusHttpError], bool] = lambda e: e.transient,
    ) -> _T:
        """``call()``, repeated after failures ``worth_repeating`` as ``retry`` says."""
        attempt = 1
        while True:
            try:
                return call()
            except OqtopusHttpError as error:
                if not worth_repeating(error):
                    raise
                if attempt >= retry.attempts:
                    raise OqtopusHttpError(
                        f"{step} gave up after {attempt} attempts; last cause: {error}",
                        error.status,
                    ) from error
                delay = retry.delay(attempt, error)
                logger.warning(
                    "%s: attempt %d failed (%s); again in %.1fs", step, attempt, error, delay
                )
                time.sleep(delay)
                attempt += 1

    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job object; ``job_info`` entries are left as the server sent them."""
        return self._object("GET", f"/jobs/{_segment(job_id)}", operation=f"get job {job_id}")

    def get_job_status(self, job_id: str) -> str:
        """The job's status from the cheap status endpoint."""
        operation = f"get status of job {job_id}"
        body = self._object("GET", f"/jobs/{_segment(job_id)}/status", operation=operation)
        status = body.get("status")
        if not isinstance(status, str):
            raise BackendError(f"get status of job {job_id}: no status in {_preview(body)}")
        return status

    def list_jobs(self, **query: str | int) -> list[dict[str, Any]]:
        """Jobs matching ``query`` (``fields``, ``status``, ``q``, ``page``, ``size``, ...)."""
        jobs = self._call("GET", "/jobs", params=query, operation="list jobs")
        if not isinstance(jobs, list):
            raise BackendError(f"list jobs: expected a JSON array, got {_preview(jobs)}")
        return jobs

    def cancel_job(self, job_id: str) -> None:
        """Ask the server to cancel the job."""
        self._call("POST", f"/jobs/{_segment(job_id)}/cancel", operation=f"cancel job {job_id}")

    def delete_job(self, job_id: str) -> None:
        """Delete a job that has ended."""
        self._call("DELETE", f"/jobs/{_segment(job_id)}", operation=f"delete job {job_id}")

    def get_legacy_sselog(self, job_id: str) -> tuple[bytes, str]:
        """An SSE log from the older ``/sselog`` route: its bytes and file name."""
        operation = f"download SSE log of job {job_id}"
        body = self._object("GET", f"/jobs/{_segment(job_id)}/sselog", operation=operation)
        encoded, file_name = body.get("file"), body.get("file_name")
        if not isinstance(encoded, str) or not isinstance(file_name, str) or not file_name:
            raise BackendError(f"{operation}: the answer holds no file: {_preview(body)}")
        try:
            return base64.b64decode(encoded, validate=True), file_name
        except (binascii.Error, ValueError) as e:
            raise BackendError(f"{operation}: file is not valid base64: {e}") from e

    # -- storage -------------------------------------------------------------------------
    def download(self, url: str, *, operation: str) -> bytes:
        """The bytes behind a storage URL (``http(s)://`` or ``file://``), without the token."""
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = url2pathname(unquote(parsed.path))
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as e:
                raise BackendError(f"{operation}: cannot read {path!r}: {e}") from e
        # The token is for the API only: storage URLs never see it.
        response = self._send("GET", url, operation, {_TOKEN_HEADER: None}, self._transfer_timeout)
        return response.content

    def download_archive(self, url: str, read: Callable[[bytes], _T], *, operation: str) -> _T:
        """What ``read`` makes of the archive behind ``url``.

        An archive that ``read`` refuses (``ValueError``: corrupt, truncated) is downloaded
        again before giving up, as a broken answer.
        """

        def fetch() -> _T:
            data = self.download(url, operation=operation)
            try:
                return read(data)
            except ValueError as e:
                raise OqtopusHttpError(f"{operation}: {e}", 200, broken_answer=True) from e

        return self._repeating(self._retry, operation, fetch, _broken)

    def download_archive_json(self, url: str, *, operation: str) -> Any:
        """The JSON document inside the one-file ZIP archive behind ``url``."""
        return self.download_archive(url, read_job_archive, operation=operation)

    # -- plumbing ------------------------------------------------------------------------
    def _object(self, method: str, path: str, *, operation: str) -> dict[str, Any]:
        body = self._call(method, path, operation=operation)
        if not isinstance(body, dict):
            raise BackendError(f"{operation}: expected a JSON object, got {_preview(body)}")
        return body

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One API call and its decoded JSON answer; reads repeat after a broken answer."""
        headers = {_TOKEN_HEADER: self._token}
        data: bytes | None = None
        if json is not None:
            data = orjson.dumps(json)
            headers["Content-Type"] = "application/json"

        def once() -> Any:
            url = self._base_url + path
            response = self._send(
                method, url, operation, headers, self._timeout, data=data, params=params
            )
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as e:
                raise OqtopusHttpError(
                    f"{operation}: the server answered HTTP 200 with malformed JSON "
                    f"({e}): {_preview(response.content)}",
                    200,
                    broken_answer=True,
                ) from e

        if method not in _IDEMPOTENT:
            return once()  # a POST is repeated only by the submission logic that knows how
        return self._repeating(self._retry, operation, once, _broken)

    def _send(
        self,
        method: str,
        url: str,
        operation: str,
        headers: Mapping[str, str | None],
        timeout: tuple[float, float],
        *,
        any_2xx: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """One HTTP exchange on the session (whose transport retries apply); 200 or raise."""
        logger.debug("%s %s (%s)", method, url, operation)
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=timeout, **kwargs
            )
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as e:
            message = f"{operation} failed: the answer was cut short: {_describe(e)}"
            raise OqtopusHttpError(message, None, broken_answer=True) from e
        except requests.RequestException as e:
            raise OqtopusHttpError(f"{operation} failed: {_describe(e)}", None) from e
        if response.status_code != 200 and not (any_2xx and 200 <= response.status_code < 300):
            raise _status_error(operation, response)
        return response


def _segment(identifier: str) -> str:
    """An id as one URL path segment: ``/``, ``?``, ``#`` and the like cannot change the path."""
    return quote(str(identifier), safe="")


def _broken(error: OqtopusHttpError) -> bool:
    return error.broken_answer


def _status_error(operation: str, response: requests.Response) -> OqtopusHttpError:
    reason = _server_message(response)
    message = f"{operation} failed: HTTP {response.status_code}" + (f": {reason}" if reason else "")
    return OqtopusHttpError(message, response.status_code, _retry_after(response))


def _retry_after(response: requests.Response) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _server_message(response: requests.Response) -> str:
    """The ``message`` of an error body, or a short preview of whatever was sent."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return _preview(response.content) if response.content else response.reason or ""
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    return _preview(body)


def _describe(error: requests.RequestException) -> str:
    kind = type(error).__name__
    return f"{kind}: {error}"


def _preview(value: object, limit: int = 200) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
