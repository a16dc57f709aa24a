"""The transport's one error, and how what a server says becomes part of a message.

Whatever a server sends (an error body, a payload shown for context) is escaped, so that
it cannot start a forged log line or drive a terminal, and bounded, so that a 60 KB
message does not end up whole in an exception.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator

import orjson
import requests
from quri_parts.backend import BackendError
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
)
from urllib3.response import BaseHTTPResponse

from quri_parts_oqtopus._contract import FINAL_LIMIT_CODES
from quri_parts_oqtopus.transport.origin import without_query

__all__ = [
    "SHOWN_CHARACTERS",
    "TRANSIENT_STATUS",
    "OqtopusHttpError",
    "bounded",
    "no_answer",
    "preview",
    "refusal",
    "server_message",
]

#: The most characters of one text from a server (a message, a value) that a message shows.
SHOWN_CHARACTERS = 1000
#: Answers after which repeating a call may succeed.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


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
        final: Whether the failure is known to repeat itself: another attempt is futile.
        unreachable: ``(url, reason)`` when the server could not be connected to.
        message_code: The ``message_code`` of the server's error body, ``""`` if none.
        retry_response: The answer, for the retry budget's counting (``urllib3.Retry``).
        retry_cause: The urllib3 exception, for the same counting.

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
        unreachable: tuple[str, str] | None = None,
        message_code: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.broken_answer = broken_answer
        self.sent = sent
        self.final = final
        self.unreachable = unreachable
        self.message_code = message_code
        self.retry_response: BaseHTTPResponse | None = None
        self.retry_cause: Exception | None = None

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later: no answer, 429, a 5xx, a broken answer."""
        if self.final:
            return False
        return self.broken_answer or self.status is None or self.status in TRANSIENT_STATUS


def no_answer(
    operation: str, url: str, error: requests.RequestException, timeout: tuple[float, float]
) -> OqtopusHttpError:
    """The failure of a request that got no answer; ``sent=False`` if it never left."""
    cause = _urllib3_cause(error)
    shown = without_query(url)
    if isinstance(cause, ProxyError) and isinstance(cause.original_error, ConnectTimeoutError):
        cause = cause.original_error
    repeating = _failure_that_repeats(error)
    if repeating is not None:
        why, sent = repeating
        failure = OqtopusHttpError(
            f"{operation} failed: {why} ({type(cause).__name__})", None, sent=sent, final=True
        )
    elif isinstance(cause, ConnectTimeoutError):  # NewConnectionError and name failures too
        reason = _connect_reason(cause, timeout[0])
        failure = OqtopusHttpError(
            f"{operation} failed: cannot connect to {shown}: {reason}",
            None,
            sent=False,
            unreachable=(shown, reason),
        )
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
            f"({type(broken).__name__}: {bounded(str(broken))})",
            None,
        )
    else:
        failure = OqtopusHttpError(f"{operation} failed: {_describe(error)}", None)
    failure.retry_cause = cause
    return failure


#: OpenSSL's reasons for a handshake with a server that does not speak TLS at all.
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL"})


def _failure_that_repeats(error: BaseException) -> tuple[str, bool] | None:
    """Why a failure without an answer would come back at every attempt, and whether the
    request may have left; None for one that may pass (a dropped or reset connection, a
    timeout, a refused connection)."""
    for seen in _causes(error):
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"the server's TLS certificate is refused: {seen.verify_message}", False
        if isinstance(seen, ssl.SSLError) and seen.reason in _NOT_TLS:
            return (
                "the server does not answer in TLS (an http:// server at an https:// URL?)",
                False,
            )
        if isinstance(seen, http.client.LineTooLong):
            return f"the answer's head is not HTTP: {bounded(str(seen))}", True
        if isinstance(seen, http.client.BadStatusLine) and not isinstance(
            seen, http.client.RemoteDisconnected
        ):
            line = str(seen.args[0]) if seen.args else ""
            if not line.startswith("HTTP/"):  # a status line cut short may pass
                return f"the answer is not HTTP (it starts {preview(line, 60)})", True
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps: in its arguments, urllib3's ``reason`` and
    ``original_error``, and its ``__cause__`` and ``__context__``."""
    todo, seen = [error], set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (
            *current.args,
            getattr(current, "reason", None),
            getattr(current, "original_error", None),
            current.__cause__,
            current.__context__,
        )
        todo.extend(item for item in wrapped if isinstance(item, BaseException))


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


def _describe(error: requests.RequestException) -> str:
    return f"{type(error).__name__}: {bounded(str(error))}"


def refusal(
    operation: str, status: int, body: bytes, reason: str | None, retry_after: float | None
) -> OqtopusHttpError:
    """The error of an answer with an error status, saying what the server said.

    A 429 whose ``message_code`` names a limit that waiting does not clear (the registered
    jobs quota) is final: repeating it would only spend the budget's waits.
    """
    try:
        code = message_code_of(orjson.loads(body))
    except orjson.JSONDecodeError:
        code = ""
    said = server_message(body, reason)
    message = f"{operation} failed: HTTP {status}" + (f": {said}" if said else "")
    final = status == 429 and code in FINAL_LIMIT_CODES
    if final:
        message += "; not repeated, since waiting does not clear this limit"
    return OqtopusHttpError(message, status, retry_after, final=final, message_code=code)


# -- what a server says, as part of a message -------------------------------------------------
def server_message(body: bytes, reason: str | None) -> str:
    """What an error body says, on one line, or a short preview of whatever was sent.

    The shapes OQTOPUS answers: ``{"message": ...}``, FastAPI's ``{"detail": "..."}``
    (401, 403) and ``{"detail": [{"loc": [...], "msg": ...}, ...]}`` (422), each maybe
    with a ``message_code`` (500).
    """
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return preview(body) if body else bounded(reason or "")
    if not isinstance(parsed, dict):
        return preview(parsed)
    said = ""
    for key in ("message", "detail", "error"):
        said = _said(parsed.get(key))
        if said:
            break
    said = bounded(said) if said else ""
    code = bounded(message_code_of(parsed), 80)
    if code:
        said = f"{said} (message_code {code})" if said else f"message_code {code}"
    return said or preview(parsed)


def message_code_of(parsed: object) -> str:
    """The ``message_code`` of an error body already parsed, ``""`` when it has none."""
    code = parsed.get("message_code") if isinstance(parsed, dict) else None
    if isinstance(code, (str, int)) and not isinstance(code, bool):
        return str(code).strip()
    return ""


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


def bounded(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` escaped (see :func:`_escaped`) and cut after ``limit`` characters, with a
    marker that says how much was cut: the one way server-held text enters a message."""
    text = _escaped(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit:,} more characters]"


def preview(value: object, limit: int = 200) -> str:
    """A short text of ``value`` for a message: bytes decoded, others as their ``repr``."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)
    return bounded(text, limit)
