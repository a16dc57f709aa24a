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
  a request is the new one refused with a 503.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# File descriptors kept for the database, logs, worker pipes and SSE programs.
_RESERVED_FDS = 128
_BUSY_BODY = b'{"message": "the server has too many open connections"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
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
