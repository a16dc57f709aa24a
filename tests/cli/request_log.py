"""The requests a client makes, seen by a loopback proxy in front of the local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from quri_parts_oqtopus.local import LocalServer

from ..faults.proxy import FaultProxy, Request


class RequestLog:
    """Every request that went through the proxy, in arrival order: ``(method, path)``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, request: Request) -> None:
        with self._lock:
            self._seen.append((request.method, request.path))

    def take(self) -> list[tuple[str, str]]:
        """The requests seen since the last call."""
        with self._lock:
            seen, self._seen = self._seen, []
        return seen


@contextmanager
def logged_requests(server: LocalServer) -> Iterator[RequestLog]:
    """A proxy that forwards the API calls to ``server`` and logs them; its URL is ``log.url``.

    Storage URLs are the server's own (its public URL), so uploads and downloads of
    archives go around this proxy: :func:`logged_server` sees those too.
    """
    port = urlparse(server.url).port
    assert port is not None
    log: RequestLog

    def plan(request: Request) -> None:
        log.record(request)

    with FaultProxy(port, plan) as proxy:
        log = RequestLog(proxy.url)
        yield log


@contextmanager
def logged_server(token: str) -> Iterator[tuple[LocalServer, RequestLog]]:
    """A server of its own behind a logging proxy that is its public URL: every request,
    storage uploads and downloads included, goes through the proxy."""
    log: RequestLog

    def plan(request: Request) -> None:
        log.record(request)

    with FaultProxy(0, plan) as proxy:
        log = RequestLog(proxy.url)
        with LocalServer(token=token, options={"public_url": proxy.url}) as server:
            port = urlparse(server.url).port
            assert port is not None
            proxy.upstream_port = port
            yield server, log
