"""The request guard: what every request must pass before the app reads a byte of its body.

A pure ASGI middleware, outside every route: the token is checked and the declared size
bounded on the headers alone, and the body is then counted and timed as the app reads
it. FastAPI reads a route's body before it runs the route's dependencies, so neither
check could live in the routes.
"""

from __future__ import annotations

import asyncio
import hmac
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quri_parts_oqtopus._contract import TOKEN_HEADER

from .errors import ApiError, error_response
from .presign import UPLOAD_PATH
from .state import ServerState

# Routes without a token: the probe, the API documents, and the signed storage URLs.
_OPEN_PATHS = frozenset({"/_health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_STORAGE_PREFIX = "/_storage/"
_ADMIN_PREFIX = "/_admin"
# Room for the form fields and multipart framing around the uploaded file.
FORM_OVERHEAD = 64 * 1024


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _declared_length(headers: Headers) -> int | None:
    text = headers.get("content-length")
    if text is None or "transfer-encoding" in headers:
        return None  # chunks frame the body whatever Content-Length says (RFC 9112 6.3)
    # h11 already refused what is not digits; this bounds what int() is asked to read.
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise ApiError(400, f"invalid Content-Length {text[:40]!r}", close=True)
    return int(text)


class RequestGuard:
    """Refuse unauthenticated, oversized or slow requests before their body is read."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            limit = self._admit(str(scope["path"]), headers)
        except ApiError as refusal:
            response = error_response(refusal.status_code, str(refusal.detail), refusal.headers)
            await response(scope, receive, send)
            return
        body = _BoundedBody(receive, limit, self.state.settings.body_timeout)
        await self.app(scope, body, send)

    def _admit(self, path: str, headers: Headers) -> int:
        """The body limit of an admitted request; ApiError for one refused on its headers."""
        settings = self.state.settings
        declared = _declared_length(headers)
        # A refused body is not read: close unless what is left of it is small to skip.
        close = declared is None and "transfer-encoding" in headers
        close = close or (declared is not None and declared > settings.max_request_bytes)
        limit = settings.max_request_bytes
        if path == UPLOAD_PATH:
            limit = settings.max_upload_bytes + FORM_OVERHEAD
            if declared is None:
                # Like S3: the declared length is what bounds the body the server reads.
                raise ApiError(400, "the upload needs a Content-Length header", close=close)
        elif not (path in _OPEN_PATHS or path.startswith(_STORAGE_PREFIX)):
            self._check_token(path, headers.get(TOKEN_HEADER), close)
        if declared is not None and declared > limit:
            raise ApiError(
                413, f"the request body of {declared} bytes exceeds {limit} bytes", close=True
            )
        return limit

    def _check_token(self, path: str, token: str | None, close: bool) -> None:
        """401 unless the token is the server's or (outside /_admin) a signed SSE token.

        Whether that SSE job is still running is the route's check (``state.authenticate``).
        """
        if token is None:
            raise ApiError(401, f"missing {TOKEN_HEADER} header", close=close)
        if _same(token, self.state.settings.token):
            return
        if not path.startswith(_ADMIN_PREFIX) and self.state.signer.sse_job_of(token) is not None:
            return
        raise ApiError(401, f"invalid {TOKEN_HEADER}", close=close)


class _BoundedBody:
    """``receive`` that refuses a body past ``limit`` bytes or ``timeout`` seconds."""

    def __init__(self, receive: Receive, limit: int, timeout: float) -> None:
        self._receive = receive
        self._limit = limit
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._received = 0
        self._done = False

    async def __call__(self) -> Message:
        if self._done:  # what follows the body (a disconnect) may take any time
            return await self._receive()
        remaining = max(self._deadline - time.monotonic(), 0.0)
        try:
            message = await asyncio.wait_for(self._receive(), remaining)
        except asyncio.TimeoutError as e:
            raise ApiError(
                408, f"the request body did not arrive within {self._timeout:g} s", close=True
            ) from e
        if message["type"] != "http.request":
            self._done = True
            return message
        self._received += len(message.get("body", b""))
        if self._received > self._limit:
            raise ApiError(413, f"the request body exceeds {self._limit} bytes", close=True)
        self._done = not message.get("more_body", False)
        return message
