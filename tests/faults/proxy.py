"""A loopback HTTP proxy that breaks chosen exchanges on their way to the local server.

It speaks just enough HTTP/1.1 for the client under test: one request per connection
(it answers ``Connection: close``), bodies sized by ``Content-Length``. A plan decides,
for each request, whether and how to break it: before the server sees it, or after the
server has acted (the answer is then lost or damaged, the case that tests duplicates).

In latency mode (``latency`` seconds of round trip) every exchange is held half of it on
the way to the server and half on the way back, as a network that far away would (this
kernel has no netem). Give the server ``public_url=proxy.url`` and the storage URLs it
hands out go through the proxy too.
"""

from __future__ import annotations

import contextlib
import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

#: Every way an exchange can be broken, by the step at which it happens.
BEFORE_SERVER = ("drop", "reset", "429", "429_retry_after", "500", "502", "503", "stall")
AFTER_SERVER = ("drop_answer", "truncate", "malformed", "wrong_type", "503_after")
FAULTS = BEFORE_SERVER + AFTER_SERVER


@dataclass(frozen=True)
class Request:
    """What the plan sees of a request."""

    method: str
    path: str


Plan = Callable[[Request], str | None]


def random_plan(seed: int, rate: float, faults: tuple[str, ...] = FAULTS) -> Plan:
    """A reproducible plan: each request is broken with probability ``rate``."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def plan(request: Request) -> str | None:
        with lock:
            return rng.choice(faults) if rng.random() < rate else None

    return plan


def no_faults(request: Request) -> str | None:
    """A plan that breaks nothing (latency mode alone)."""
    return None


def lost_submit_answers(request: Request) -> str | None:
    """A plan: every submit acts on the server but its answer is lost, and no job status
    can be read (so the client cannot tell whether its submit took effect)."""
    if request.method == "POST" and request.path.endswith("/submit"):
        return "drop_answer"
    return "drop" if request.path.endswith("/status") else None


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream`` and breaks what the plan says."""

    def __init__(
        self,
        upstream_port: int,
        plan: Plan,
        stall_seconds: float = 0.3,
        *,
        latency: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.upstream_port = upstream_port
        self.plan = plan
        self.stall_seconds = stall_seconds
        self.latency = latency
        self.sleep = sleep  # how the latency is waited (a test records it instead)
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._lock = threading.Lock()
        handler = _handler_for(self)
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def decide(self, request: Request) -> str | None:
        fault = self.plan(request)
        with self._lock:
            self.requests += 1
            if fault is not None:
                self.injected[fault] += 1
        return fault


def _handler_for(proxy: FaultProxy) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            client: socket.socket = self.request
            client.settimeout(30)
            raw = _read_request(client)
            if raw is None:
                return
            head, body = raw
            method, path = head.split(b" ", 2)[:2]
            fault = proxy.decide(Request(method.decode(), path.decode().split("?")[0]))
            # OSError: the client gave up on this exchange (its timeout): nothing to answer.
            with contextlib.suppress(OSError):
                _exchange(proxy, client, head, body, fault)

    return Handler


def _exchange(
    proxy: FaultProxy, client: socket.socket, head: bytes, body: bytes, fault: str | None
) -> None:
    if proxy.latency > 0:
        proxy.sleep(proxy.latency / 2)  # on the way to the server
    if fault == "drop":
        return  # closed without a word: the server never saw the request
    if fault == "reset":
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return
    if fault == "stall":
        time.sleep(proxy.stall_seconds)
    elif fault in ("429", "429_retry_after", "500", "502", "503"):
        status = int(fault[:3])
        extra = b"Retry-After: 0\r\n" if fault == "429_retry_after" else b""
        _answer(client, status, b'{"message": "injected fault"}', extra)
        return
    answer = _forward(proxy.upstream_port, head, body)
    if fault == "drop_answer":
        return  # the server acted; its answer is lost
    if fault == "503_after":
        _answer(client, 503, b'{"message": "injected after the server acted"}')
        return
    if proxy.latency > 0:
        proxy.sleep(proxy.latency / 2)  # and back
    client.sendall(_damage(answer, fault))


def _damage(answer: bytes, fault: str | None) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    if fault == "truncate" and len(body) > 1:
        return head + b"\r\n\r\n" + body[: len(body) // 2]  # Content-Length promises more
    if fault == "malformed" and head.startswith(b"HTTP/1.1 200"):
        broken = body[: max(1, len(body) // 2)]
        return _replace_length(head, len(broken)) + b"\r\n\r\n" + broken
    if fault == "wrong_type":
        lines = [
            b"Content-Type: text/html" if line.lower().startswith(b"content-type:") else line
            for line in head.split(b"\r\n")
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
    return answer


def _replace_length(head: bytes, length: int) -> bytes:
    lines = [
        b"Content-Length: %d" % length if line.lower().startswith(b"content-length:") else line
        for line in head.split(b"\r\n")
    ]
    return b"\r\n".join(lines)


def _answer(client: socket.socket, status: int, body: bytes, extra: bytes = b"") -> None:
    client.sendall(
        b"HTTP/1.1 %d Injected\r\nContent-Type: application/json\r\n" % status
        + extra
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


def _read_request(client: socket.socket) -> tuple[bytes, bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body


def _forward(port: int, head: bytes, body: bytes) -> bytes:
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    request = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=60) as upstream:
        upstream.sendall(request)
        chunks = []
        while chunk := upstream.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
