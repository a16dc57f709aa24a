"""Connection limits below the ASGI app: a deadline for request headers and a connection cap.

uvicorn bounds the size of a request's headers (h11's incomplete-event limit) and closes
idle kept-alive connections, but it waits for ever for headers that arrive slowly or not
at all, and it accepts connections until the process runs out of file descriptors. Its
``limit_concurrency`` does not help there: it answers 503 only once a request's headers
have arrived, which a slowloris client never lets happen. So the h11 protocol gets:

- a header deadline: from the opening of a connection, and from the end of each response
  on a kept-alive one, the next request's headers must be complete within
  ``header_timeout`` seconds, however slowly they trickle in;
- a cap: at ``max_connections`` open connections, a new one closes the connection that
  has waited longest for its headers (a slow or silent one), so the cap cannot be
  filled by clients that never send a request; only when every connection is busy with
  a request is the new one refused with a 503;
- a bounded head answered in words: a request line longer than ``MAX_HEAD_BYTES`` (a
  200 KB ``q`` query) is a 414, headers beyond it a 431, each ``{"message": ...}``, and
  the rest of that head is read and dropped until the client closes (or the header
  deadline), where uvicorn closed at once on unread data and the client saw a reset.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# File descriptors kept for the database, logs, worker pipes and SSE programs.
_RESERVED_FDS = 128
#: A request's line and headers, at most (also h11's incomplete-event limit).
MAX_HEAD_BYTES = 16 * 1024
# What a refused head may still send before the connection is cut: its kernel buffers.
_DRAIN_BYTES = 4 << 20
_HEAD_END = re.compile(rb"\n\r?\n")
_BUSY_BODY = b'{"message": "the server has too many open connections"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def _answer(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n%s" % (status, reason.encode(), len(body), body)
    )


class _HeadMeter:
    """How much of a request's head (its line and headers) has arrived, and where it ends."""

    def __init__(self) -> None:
        self.size = 0
        self.line_size: int | None = None  # the request line's, once its end has arrived
        self._tail = b""  # the last bytes seen, for an end split across two reads

    def refusal(self, data: bytes) -> bytes | None:
        """The answer that refuses this head once ``data`` is added, None while it fits."""
        joined = self._tail + data
        if self.line_size is None and (newline := joined.find(b"\n")) >= 0:
            self.line_size = self.size - len(self._tail) + newline
        end = _HEAD_END.search(joined)
        size = self.size - len(self._tail) + (end.end() if end else len(joined))
        self.size, self._tail = self.size + len(data), joined[-3:]
        if size <= MAX_HEAD_BYTES:
            return None
        if self.line_size is None or self.line_size > MAX_HEAD_BYTES:
            return _answer(
                414,
                "URI Too Long",
                f"the request line (method, URL and query) exceeds {MAX_HEAD_BYTES} bytes",
            )
        return _answer(
            431,
            "Request Header Fields Too Large",
            f"the request's headers exceed {MAX_HEAD_BYTES} bytes",
        )


def raise_open_file_limit() -> int:
    """Lift the soft limit of open files to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit we have; the cap below adapts to it
    return soft


def connection_cap(configured: int, open_file_limit: int) -> int:
    """``configured``, lowered so that every connection fits the open-file limit."""
    return max(1, min(configured, open_file_limit - _RESERVED_FDS))


def guarded_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the header deadline and the connection cap."""

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # When this connection began waiting for a request's headers; None while one runs.
            self.waiting_since: float | None = None
            self._header_timer: asyncio.TimerHandle | None = None
            self._head = _HeadMeter()
            self._drained: int | None = None  # bytes dropped after a refused head

        def data_received(self, data: bytes) -> None:
            if self._drained is not None:
                self._drain(data)
                return
            refusal = self._head.refusal(data) if self.waiting_since is not None else None
            if refusal is None:
                super().data_received(data)
                return
            # Answered before h11 sees the head; the rest is read, so the close is clean.
            self.transport.write(refusal)
            self._drained = 0

        def _drain(self, data: bytes) -> None:
            self._drained = (self._drained or 0) + len(data)
            if self._drained > _DRAIN_BYTES:
                self.transport.close()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            if len(self.connections) > max_connections and not self._evict_one():
                self.transport.write(_BUSY)
                self.transport.close()
                return
            self._await_headers()

        def _evict_one(self) -> bool:
            """Close the connection that has waited longest for headers; False if none."""
            waiting = [
                c
                for c in self.connections
                if c is not self
                and isinstance(c, GuardedH11Protocol)
                and c.waiting_since is not None
                and not c.transport.is_closing()
            ]
            if not waiting:
                return False
            min(waiting, key=lambda c: c.waiting_since or 0.0).transport.close()
            return True

        def _await_headers(self) -> None:
            self._cancel_header_timer()
            self.waiting_since = time.monotonic()
            self._head = _HeadMeter()
            self._header_timer = self.loop.call_later(
                header_timeout, self._headers_overdue, self.cycle
            )

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_overdue(self, cycle_when_armed: object) -> None:
            # A new cycle means the headers came; otherwise they are late: hang up.
            if self.cycle is cycle_when_armed and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers arrived
                self.waiting_since = None
                self._cancel_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Not when a pipelined request has started meanwhile.
            finished = self.cycle is not None and self.cycle.response_complete
            if finished and not self.transport.is_closing():
                self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            self.waiting_since = None
            super().connection_lost(exc)

    return GuardedH11Protocol
