"""A scripted HTTP/1.1 server on loopback that records what it receives, for attack tests.

A test gives a function from each received request to a ``Reply``; the reply's body may
be bytes or an iterable of pieces (sent as they come, for huge or dripping answers). A
reply of ``None`` closes the connection without a word.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    """One request as the stub saw it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """An answer: status, headers, and a body given whole or in pieces."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Content-Length to announce: the body's length by default for bytes; None for pieces
    #: means no length at all (the body then ends when the connection closes).
    length: int | None = -1


def json_reply(value: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, orjson.dumps(value), {"Content-Type": "application/json", **headers})


Responder = Callable[[Received], Reply | None]


class _Ipv6HTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class StubServer:
    """``with StubServer(respond) as stub:`` serves ``stub.url``; ``stub.received`` grows.

    ``host`` and ``port`` say where it listens (``"::1"`` for IPv6; port 0: a free one).
    """

    def __init__(self, respond: Responder, host: str = "127.0.0.1", port: int = 0) -> None:
        self.respond = respond
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        server_class = _Ipv6HTTPServer if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a stalling or dripping answer must not hold exit
        self.host = f"[{host}]" if ":" in host else host
        self.port = self._server.server_address[1]
        # A short poll: shutdown() waits for it, and tests start and stop many stubs.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1


def _handler_for(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            stub.count_connection()
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            stub.record(received)
            reply = stub.respond(received)
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            length = reply.length
            if length == -1:
                length = len(reply.body) if isinstance(reply.body, bytes) else None
            if length is None:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            pieces: Iterable[bytes] = [reply.body] if isinstance(reply.body, bytes) else reply.body
            try:
                for piece in pieces:
                    self.wfile.write(piece)
                    self.wfile.flush()
            except OSError:  # the client stopped reading: what a refusal looks like here
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815

    return Handler
