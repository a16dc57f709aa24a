"""How the client's HTTP exchanges are made: the token's one origin, bounded answers, one budget.

Every call is one loop (:meth:`Transport.run`) around attempts. The budget is a single
``urllib3.util.Retry``: its counters (``total`` = ``retries``, ``connect`` =
``connect_retries``), its backoff and its ``Retry-After`` parsing; the adapter under the
session repeats nothing itself. A call also has a deadline: no attempt starts, and no
answer is read, past it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

import orjson
import requests
from quri_parts.backend import BackendError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from quri_parts_oqtopus import __version__
from quri_parts_oqtopus._contract import TOKEN_HEADER

__all__ = [
    "TOKEN_HEADER",
    "OqtopusHttpError",
    "Request",
    "Transport",
    "TransportConfig",
    "origin",
    "preview",
    "without_query",
]

logger = logging.getLogger("quri_parts_oqtopus")


class _QueryRedactingFilter(logging.Filter):
    """Cuts the query off URLs in urllib3's request lines: signed URLs carry signatures there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(map(_has_query, record.args)):
            record.args = tuple(_cut_query(arg) for arg in record.args)
        return True


def _has_query(value: object) -> bool:
    return isinstance(value, str) and "?" in value and not any(c.isspace() for c in value)


def _cut_query(value: object) -> object:
    if isinstance(value, str) and _has_query(value):
        return value.split("?", 1)[0] + "?..."
    return value


_URLLIB3_POOL_LOGGER = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _QueryRedactingFilter) for f in _URLLIB3_POOL_LOGGER.filters):
    _URLLIB3_POOL_LOGGER.addFilter(_QueryRedactingFilter())

_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
#: Answers after which repeating a call may succeed.
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
#: Uploads and downloads of archives may read, and take in all, this many times longer.
_TRANSFER_FACTOR = 5.0
_BACKOFF_MAX = 20.0
#: Bytes asked of the socket at a time: each read returns after at most one receive.
_CHUNK = 64 << 10
#: Of an error answer only this much is read, for its message.
_ERROR_BODY_BYTES = 64 << 10
_DEFAULT_PORTS = {"http": 80, "https": 443}
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


class OqtopusHttpError(BackendError):
    """A failed call of the OQTOPUS API or its storage.

    Attributes:
        status: The HTTP status of the answer, or None when no usable answer came
            (connection error, timeout, an answer cut short).
        retry_after: Seconds the server asked to wait before trying again, if it did.
        broken_answer: The answer came but was cut short or unreadable (truncated body,
            malformed JSON, corrupt archive).
        sent: Whether the request may have reached the server; False when the connection
            could not be made at all.

    """

    def __init__(
        self,
        message: str,
        status: int | None,
        retry_after: float | None = None,
        *,
        broken_answer: bool = False,
        sent: bool = True,
        final: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.broken_answer = broken_answer
        self.sent = sent
        self._final = final
        # For the retry loop: what urllib3's Retry counts, and what a refusal to connect says.
        self._answer: BaseHTTPResponse | None = None
        self._cause: Exception | None = None
        self._unreachable: tuple[str, str] | None = None

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later: no answer, 429, a 5xx, a broken answer."""
        if self._final:
            return False
        return self.broken_answer or self.status is None or self.status in _TRANSIENT_STATUS


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


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, the port filled in: what the token is bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number: an origin of its own
        port = None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def without_query(url: str) -> str:
    """``url`` without its query and fragment: signed storage URLs carry their signature there."""
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


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
            status_forcelist=_TRANSIENT_STATUS,
            backoff_factor=config.backoff,
            backoff_max=_BACKOFF_MAX,
            backoff_jitter=config.backoff,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        session = requests.Session()
        # max_retries=0: urllib3 makes one attempt per request; this class's loop repeats.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
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

        ``decode`` raises :class:`OqtopusHttpError` (``broken_answer=True``) for an answer
        it cannot read; that attempt then counts as failed.
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
        budget = _Budget(operation, self._retry, self._deadline_of(transfer))
        while True:
            try:
                return attempt(budget.deadline)
            except OqtopusHttpError as error:
                if not error.transient or not (repeatable or not error.sent):
                    raise budget.final(error) from error
                delay = budget.spend(error, method, url)
                logger.warning(
                    "%s: attempt %d failed (%s); again in %.1f s",
                    operation,
                    budget.attempts,
                    error,
                    delay,
                )
                time.sleep(delay)
                budget.attempts += 1

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
            if request.token and origin(target) != self._api_origin:
                raise OqtopusHttpError(
                    f"{request.operation}: the server redirected (HTTP {status}) to "
                    f"{origin(target)}, another origin than the configured API "
                    f"({self._api_origin}); not followed, so the API token was not sent "
                    "there (if the API has moved, configure its new URL)",
                    status,
                    final=True,
                )
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
        headers: dict[str, str] = {}
        if request.token:
            if origin(url) != self._api_origin:  # exchange refuses such redirects first
                raise OqtopusHttpError(
                    f"{request.operation}: refusing to send the API token to {origin(url)}",
                    None,
                    final=True,
                )
            headers[TOKEN_HEADER] = self._token
        with_body = first or method == request.method
        body: dict[str, Any] = {}
        if with_body:
            if request.json is not None:
                headers["Content-Type"] = "application/json"
            body = {"data": request.json or request.form, "files": request.files}
        logger.debug("%s %s (%s)", method, without_query(url), request.operation)
        try:
            return self._session.request(
                method,
                url,
                headers=headers,
                params=request.params if first else None,
                timeout=timeout,
                stream=True,  # read by _body, within the limit and the deadline
                allow_redirects=False,  # followed by exchange, which checks each origin
                **body,
            )
        except requests.RequestException as e:
            raise _no_answer(request.operation, url, e, timeout) from e

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
        error = OqtopusHttpError(
            f"{request.operation} failed: HTTP {status}"
            + (f": {reason}" if (reason := _server_message(text, response.reason)) else ""),
            status,
            self._retry_after(response.raw),
        )
        error._answer = response.raw
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
            if isinstance(e, ReadTimeoutError):
                what = f"the answer stalled after {size:,} bytes (read timeout)"
            else:
                what = f"the answer was cut short: {type(e).__name__}: {e}"
            error = OqtopusHttpError(
                f"{request.operation} failed: {what}", None, broken_answer=True
            )
            error._cause = e
            raise error from e
        finally:
            response.close()  # after a whole body urllib3 has already pooled the connection

    def _retry_after(self, answer: BaseHTTPResponse) -> float | None:
        try:
            return self._retry.get_retry_after(answer)
        except InvalidHeader:
            return None


@dataclass
class _Budget:
    """What one call has spent of its retry budget: urllib3's counters, attempts, time."""

    operation: str
    retry: Retry
    seconds: float
    attempts: int = 1
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return self.started + self.seconds

    def spend(self, error: OqtopusHttpError, method: str, url: str) -> float:
        """Count ``error`` against the budget; the wait before the next attempt.

        Raises:
            OqtopusHttpError: The final error, when the budget is spent or the wait would
                end past the deadline.

        """
        try:
            self.retry = self.retry.increment(
                method, without_query(url), response=error._answer, error=error._cause
            )
        except MaxRetryError:
            raise self.final(error) from error
        delay = error.retry_after
        if delay is None:
            delay = self.retry.get_backoff_time()
        if time.monotonic() + delay >= self.deadline:
            why = f"; the next attempt would start after the {self.seconds:g} s deadline"
            raise self.final(error, why) from error
        return delay

    def final(self, error: OqtopusHttpError, why: str = "") -> OqtopusHttpError:
        """``error`` as the call's outcome: attempts and seconds said where they matter."""
        seconds = time.monotonic() - self.started
        attempts = f"{self.attempts} attempt" + ("" if self.attempts == 1 else "s")
        if error._unreachable is not None:
            url, reason = error._unreachable
            message = (
                f"{self.operation}: cannot connect to {url}: {reason} "
                f"({attempts} in {seconds:.1f} s{why})"
            )
        elif self.attempts == 1 and not why:
            return error
        else:
            message = (
                f"{self.operation} gave up after {attempts} in {seconds:.1f} s{why}; "
                f"last cause: {error}"
            )
        final = OqtopusHttpError(
            message,
            error.status,
            error.retry_after,
            broken_answer=error.broken_answer,
            sent=error.sent,
            final=True,
        )
        final._unreachable = error._unreachable
        return final


def _no_answer(
    operation: str, url: str, error: requests.RequestException, timeout: tuple[float, float]
) -> OqtopusHttpError:
    """The failure of a request that got no answer; ``sent=False`` if it never left."""
    cause = _urllib3_cause(error)
    shown = without_query(url)
    if isinstance(cause, ProxyError) and isinstance(cause.original_error, ConnectTimeoutError):
        cause = cause.original_error
    if isinstance(cause, ConnectTimeoutError):  # NewConnectionError and name failures too
        reason = _connect_reason(cause, timeout[0])
        failure = OqtopusHttpError(
            f"{operation} failed: cannot connect to {shown}: {reason}", None, sent=False
        )
        failure._unreachable = (shown, reason)
    elif isinstance(error, requests.exceptions.ReadTimeout):
        failure = OqtopusHttpError(
            f"{operation} failed: no answer within {timeout[1]:g} s (read timeout)", None
        )
    elif isinstance(
        error,
        requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError,
    ):
        failure = OqtopusHttpError(
            f"{operation} failed: the answer was cut short: {_describe(error)}",
            None,
            broken_answer=True,
        )
    elif isinstance(cause, ProtocolError):  # sent, then the connection broke: no answer
        broken = cause.args[-1] if isinstance(cause.args[-1], BaseException) else cause
        failure = OqtopusHttpError(
            f"{operation} failed: the connection broke before an answer came "
            f"({type(broken).__name__}: {broken})",
            None,
        )
    else:
        failure = OqtopusHttpError(f"{operation} failed: {_describe(error)}", None)
    failure._cause = cause
    return failure


def _urllib3_cause(error: requests.RequestException) -> Exception:
    """The urllib3 exception behind a requests one: what ``Retry.increment`` classifies."""
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError) and cause.reason is not None:
        cause = cause.reason
    return cause if isinstance(cause, Exception) else error


def _connect_reason(error: ConnectTimeoutError, connect_timeout: float) -> str:
    if isinstance(error, NameResolutionError):
        return "the host name cannot be resolved"
    if not isinstance(error, NewConnectionError):
        return f"no connection within {connect_timeout:g} s"
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    return str(error)


def _server_message(body: bytes, reason: str | None) -> str:
    """What an error body says, on one line, or a short preview of whatever was sent.

    The shapes OQTOPUS answers: ``{"message": ...}``, FastAPI's ``{"detail": "..."}``
    (401, 403) and ``{"detail": [{"loc": [...], "msg": ...}, ...]}`` (422), each maybe
    with a ``message_code`` (500).
    """
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return preview(body) if body else _escaped(reason or "")
    if not isinstance(parsed, dict):
        return preview(parsed)
    said = ""
    for key in ("message", "detail", "error"):
        said = _said(parsed.get(key))
        if said:
            break
    code = parsed.get("message_code")
    if isinstance(code, (str, int)) and not isinstance(code, bool) and str(code).strip():
        said = f"{said} (message_code {code})" if said else f"message_code {code}"
    return _escaped(said) if said else preview(parsed)


def _said(value: object) -> str:
    """The text of one error field: a string, ``{"message": ...}``, or FastAPI's list."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"]).strip()
    if isinstance(value, list) and value:
        return "; ".join(_validation_item(item) for item in value)
    return ""


def _validation_item(item: object) -> str:
    """One FastAPI validation error as ``where: what`` (its ``body``/``query`` part left out)."""
    if not isinstance(item, dict):
        return preview(item, 80)
    loc = item.get("loc")
    parts = [str(p) for p in loc] if isinstance(loc, list) else []
    if parts[:1] and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    message = item.get("msg")
    text = message if isinstance(message, str) else preview(item, 80)
    return f"{'.'.join(parts)}: {text}" if parts else text


def _escaped(text: str) -> str:
    """``text`` with line breaks and other unprintable characters written as escapes.

    What a server says ends up in exceptions and log lines: it must not start a forged
    line, or drive the terminal that shows it.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _describe(error: requests.RequestException) -> str:
    return f"{type(error).__name__}: {error}"


def preview(value: object, limit: int = 200) -> str:
    """A short text of ``value`` for a message: bytes decoded, long texts cut."""
    text = _escaped(value.decode("utf-8", "replace")) if isinstance(value, bytes) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
