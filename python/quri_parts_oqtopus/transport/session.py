"""The Transport: the pooled session that sends requests and reads answers within limits.

Every call is one loop (:func:`~quri_parts_oqtopus.transport.budget.run_within_budget`)
around attempts. The budget is a single ``urllib3.util.Retry``: its counters (``total`` =
``retries``, ``connect`` = ``connect_retries``), its backoff and its ``Retry-After``
parsing; the adapter under the session repeats nothing itself. A call also has a deadline:
no attempt starts, and no answer is read, past it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.exceptions import DecodeError, InvalidHeader, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from quri_parts_oqtopus import __version__
from quri_parts_oqtopus._contract import TOKEN_HEADER
from quri_parts_oqtopus.transport.budget import Budget, run_within_budget
from quri_parts_oqtopus.transport.errors import (
    TRANSIENT_STATUS,
    OqtopusHttpError,
    bounded,
    no_answer,
    refusal,
)
from quri_parts_oqtopus.transport.origin import (
    UnclearUrlError,
    location_refusal,
    origin,
    redact_queries_in_urllib3_logs,
    without_query,
)

__all__ = ["Request", "Transport", "TransportConfig"]

logger = logging.getLogger("quri_parts_oqtopus")
redact_queries_in_urllib3_logs()

_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
#: Uploads and downloads of archives may read, and take in all, this many times longer.
_TRANSFER_FACTOR = 5.0
_BACKOFF_MAX = 20.0
#: Bytes asked of the socket at a time: each read returns after at most one receive.
_CHUNK = 64 << 10
#: Of an error answer only this much is read, for its message.
_ERROR_BODY_BYTES = 64 << 10
_T = TypeVar("_T")


class TransportConfig(Protocol):
    """What the transport reads of a configuration (``OqtopusConfig`` has all of it)."""

    @property
    def url(self) -> str: ...
    @property
    def api_token(self) -> str: ...
    @property
    def proxy(self) -> str | None: ...
    @property
    def timeout(self) -> tuple[float, float]: ...
    @property
    def retries(self) -> int: ...
    @property
    def connect_retries(self) -> int | None: ...
    @property
    def backoff(self) -> float: ...
    @property
    def deadline(self) -> float: ...
    @property
    def max_response_bytes(self) -> int: ...
    @property
    def max_inflated_bytes(self) -> int: ...
    @property
    def adapter(self) -> BaseAdapter | None: ...


@dataclass(frozen=True)
class Request:
    """One HTTP request of a call, as the transport sends it.

    ``token``: the request carries the API token, and may then go only to the API's origin.
    ``transfer``: an archive upload or download (longer read timeout and deadline).
    ``safe_to_repeat``: repeating it after it may have reached the server does no harm;
    None means "if the method is idempotent".
    """

    method: str
    url: str
    operation: str
    token: bool = True
    json: bytes | None = None
    form: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    params: Mapping[str, str | int] | None = None
    transfer: bool = False
    any_2xx: bool = False
    safe_to_repeat: bool | None = None

    @property
    def repeatable(self) -> bool:
        """Whether a failure after sending may be followed by another attempt."""
        if self.safe_to_repeat is not None:
            return self.safe_to_repeat
        return self.method in _IDEMPOTENT


class Transport:
    """The pooled session, and the only place where requests are sent and repeated."""

    def __init__(self, config: TransportConfig) -> None:
        self._api_origin = origin(config.url)
        self._token = config.api_token
        self._timeout = config.timeout
        self._deadline = config.deadline
        self._max_bytes = config.max_response_bytes
        self._retry = Retry(
            total=config.retries,
            connect=config.connect_retries,
            read=None,
            status=None,
            other=None,
            redirect=None,
            allowed_methods=None,  # what may be repeated is decided per call, in run()
            status_forcelist=TRANSIENT_STATUS,
            backoff_factor=config.backoff,
            backoff_max=_BACKOFF_MAX,
            backoff_jitter=config.backoff,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        session = requests.Session()
        # max_retries=0: urllib3 makes one attempt per request; this class's loop repeats.
        adapter = config.adapter or HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"quri-parts-oqtopus/{__version__}"
        if config.proxy:
            session.proxies.update({"http": config.proxy, "https": config.proxy})
        self._session = session

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def once(self, request: Request) -> bytes:
        """One attempt of ``request``, never repeated, within a call's deadline: best effort."""
        return self.exchange(request, time.monotonic() + self._deadline_of(request.transfer))

    def call(self, request: Request, decode: Callable[[bytes], _T]) -> _T:
        """``decode`` of the answer to ``request``, within one retry budget and deadline.

        ``decode`` raises :class:`OqtopusHttpError` for an answer it cannot read: with
        ``final=True`` when the answer came whole (it would read the same again), and the
        call fails at once; otherwise the attempt counts as failed and may be repeated.
        """
        return self.run(
            request.operation,
            lambda deadline: decode(self.exchange(request, deadline)),
            method=request.method,
            url=request.url,
            repeatable=request.repeatable,
            transfer=request.transfer,
        )

    def run(
        self,
        operation: str,
        attempt: Callable[[float], _T],
        *,
        method: str,
        url: str,
        repeatable: bool,
        transfer: bool = False,
    ) -> _T:
        """``attempt(deadline)``, repeated as the one budget allows; the one retry loop.

        A failed attempt is repeated when its failure is transient and either the request
        never left or ``repeatable`` says repeating is safe; the budget counts it, and the
        wait is the budget's backoff or the server's ``Retry-After``. No attempt starts
        after the deadline (``time.monotonic()``) that ``attempt`` is given.

        Raises:
            OqtopusHttpError: The last failure; after more than one attempt, or when the
                server could not be reached, its message says how many attempts in how
                many seconds.

        """
        budget = Budget(operation, self._retry, self._deadline_of(transfer))
        return run_within_budget(budget, attempt, method=method, url=url, repeatable=repeatable)

    def exchange(self, request: Request, deadline: float) -> bytes:
        """One attempt: the request (and its same-origin redirects), and the answer's body.

        A redirect of a request that carries the token to another origin is refused rather
        than followed without the token: the OQTOPUS API has no reason to send a client
        elsewhere, following would still hand the request's body (a job's settings) to a
        host nobody configured, only to fail there for want of the token, and an error
        naming the target tells the user what to change. Requests without the token
        (storage) follow redirects anywhere, as S3 clients do.

        Raises:
            OqtopusHttpError: No answer, a status other than 200 (any 2xx with
                ``any_2xx``), a refused redirect, an answer too large or too slow.

        """
        method, url, first = request.method, request.url, True
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._send(request, method, url, first, deadline)
            status = response.status_code
            location = response.headers.get("Location")
            if status not in _REDIRECT_STATUS or location is None:
                return self._body(request, response, deadline)
            response.close()
            target = urljoin(url, location)
            if request.token:
                self._check_redirect(request, status, location, target)
            if status == 303 or (status in (301, 302) and method == "POST"):
                method = "GET"  # as browsers and requests do; 307 and 308 keep method and body
            url, first = target, False
        raise OqtopusHttpError(
            f"{request.operation}: more than {_MAX_REDIRECTS} redirects", status, final=True
        )

    # -- one request ---------------------------------------------------------------------
    def _send(
        self, request: Request, method: str, url: str, first: bool, deadline: float
    ) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OqtopusHttpError(
                f"{request.operation}: the deadline of {self._seconds(request.transfer)} passed",
                None,
                final=True,
            )
        connect, read = self._read_timeouts(request)
        timeout = (min(connect, remaining), min(read, remaining))
        prepared = self._prepare(request, method, url, first)
        logger.debug("%s %s (%s)", method, without_query(url), request.operation)
        # As Session.request sends, with this prepared request: the environment's proxies
        # and CA bundle, no redirect followed (exchange follows them, checking each).
        settings = self._session.merge_environment_settings(prepared.url, {}, True, None, None)
        try:
            return self._session.send(prepared, timeout=timeout, allow_redirects=False, **settings)
        except requests.RequestException as e:
            raise no_answer(request.operation, url, e, timeout) from e

    def _prepare(
        self, request: Request, method: str, url: str, first: bool
    ) -> requests.PreparedRequest:
        """The request as requests sends it; one carrying the token only to the API's origin."""
        headers = {TOKEN_HEADER: self._token} if request.token else {}
        body: dict[str, Any] = {}
        if first or method == request.method:  # a redirect to GET drops the body
            if request.json is not None:
                headers["Content-Type"] = "application/json"
            body = {"data": request.json or request.form, "files": request.files}
        params = request.params if first else None
        try:
            prepared = self._session.prepare_request(
                requests.Request(method, url, headers=headers, params=params, **body)
            )
        except (requests.RequestException, ValueError) as e:  # the same every time
            shown = without_query(url)
            reason = str(e).replace(url, shown)  # the query of a signed URL stays out
            raise OqtopusHttpError(
                f"{request.operation}: cannot send to {bounded(shown)}: {bounded(reason)}",
                None,
                sent=False,
                final=True,
            ) from e
        if request.token:
            self._check_token_origin(request, str(prepared.url))
        return prepared

    def _check_redirect(self, request: Request, status: int, location: str, target: str) -> None:
        """Refuse a redirect that would take the token elsewhere, or that could be read so."""
        why = location_refusal(location, target)
        if not why:
            try:
                where = origin(target)
            except UnclearUrlError as e:
                why = f"it {e}"
            else:
                if where == self._api_origin:
                    return
                why = f"it is another origin ({where})"
        raise OqtopusHttpError(
            f"{request.operation}: the server redirected (HTTP {status}) to {bounded(location)};"
            f" not followed, since {why}: the API token goes only to the configured API"
            f" ({self._api_origin}) and was not sent there (if the API has moved, configure"
            " its new URL)",
            status,
            final=True,
        )

    def _check_token_origin(self, request: Request, prepared_url: str) -> None:
        """The last check before the token leaves: the URL as sent is the API's origin."""
        try:
            where = origin(prepared_url)
        except UnclearUrlError as e:
            where = f"a URL that {e}"
        if where != self._api_origin:
            raise OqtopusHttpError(
                f"{request.operation}: refusing to send the API token to {where}",
                None,
                sent=False,
                final=True,
            )

    def _read_timeouts(self, request: Request) -> tuple[float, float]:
        connect, read = self._timeout
        return connect, read * (_TRANSFER_FACTOR if request.transfer else 1.0)

    def _deadline_of(self, transfer: bool) -> float:
        return self._deadline * (_TRANSFER_FACTOR if transfer else 1.0)

    def _seconds(self, transfer: bool) -> str:
        return f"{self._deadline_of(transfer):g} s"

    def _body(self, request: Request, response: requests.Response, deadline: float) -> bytes:
        status = response.status_code
        if status == 200 or (request.any_2xx and 200 <= status < 300):
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                response.close()
                raise OqtopusHttpError(
                    f"{request.operation}: the answer of {int(declared):,} bytes is larger "
                    f"than max_response_bytes ({self._max_bytes:,}); not read",
                    status,
                    final=True,
                )
            return self._read(request, response, deadline, self._max_bytes)
        try:
            text = self._read(request, response, deadline, _ERROR_BODY_BYTES, truncate=True)
        except OqtopusHttpError:
            text = b""  # the status says enough
        error = refusal(
            request.operation, status, text, response.reason, self._retry_after(response.raw)
        )
        error.retry_response = response.raw
        raise error

    def _read(
        self,
        request: Request,
        response: requests.Response,
        deadline: float,
        limit: int,
        *,
        truncate: bool = False,
    ) -> bytes:
        """The body, a receive at a time: never more than ``limit``, never past ``deadline``."""
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() >= deadline:
                    raise OqtopusHttpError(
                        f"{request.operation}: the answer did not arrive within the deadline "
                        f"of {self._seconds(request.transfer)} ({size:,} bytes came)",
                        None,
                        final=True,
                    )
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    if truncate:
                        chunks.append(chunk[: limit - size + len(chunk)])
                        return b"".join(chunks)
                    raise OqtopusHttpError(
                        f"{request.operation}: the answer is larger than max_response_bytes "
                        f"({limit:,}); stopped reading it after {size:,} bytes",
                        None,
                        final=True,
                    )
                chunks.append(chunk)
        except (Urllib3Error, OSError) as e:
            raise _unread(request.operation, response, size, e) from e
        finally:
            response.close()  # after a whole body urllib3 has already pooled the connection

    def _retry_after(self, answer: BaseHTTPResponse) -> float | None:
        try:
            return self._retry.get_retry_after(answer)
        except InvalidHeader:
            return None


def _unread(
    operation: str, response: requests.Response, size: int, error: Urllib3Error | OSError
) -> OqtopusHttpError:
    """The failure of reading a body after ``size`` bytes: a stall or a cut are transient,
    an encoding that does not decode (the whole body came) is final."""
    if isinstance(error, DecodeError):
        encoding = response.headers.get("Content-Encoding", "")
        return OqtopusHttpError(
            f"{operation} failed: the answer's Content-Encoding ({bounded(encoding, 40)})"
            f" cannot be decoded: {bounded(str(error))}",
            None,
            broken_answer=True,
            final=True,
        )
    if isinstance(error, ReadTimeoutError):
        what = f"the answer stalled after {size:,} bytes (read timeout)"
    else:
        what = f"the answer was cut short: {type(error).__name__}: {bounded(str(error))}"
    failure = OqtopusHttpError(f"{operation} failed: {what}", None, broken_answer=True)
    failure.retry_cause = error
    return failure
