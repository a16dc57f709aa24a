"""An injectable transport for fast client tests without a server, like httpx's MockTransport.

``OqtopusConfig(url, token, adapter=MockTransport(handler))`` sends every request of the
backends made with that configuration to ``handler`` instead of the network; the answers
go through the same reading, limits, retries and error mapping as real ones (the handler
gives bytes; the transport reads them as it reads a socket). Tests of the wire itself
still talk real HTTP on loopback, against the local server.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

__all__ = ["MockResponse", "MockTransport"]


@dataclass(frozen=True)
class MockResponse:
    """An answer of a handler: its status, body and headers.

    ``body``: bytes or text as sent; any other value is sent as its JSON (with
    ``Content-Type: application/json``).
    """

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The body's bytes and the headers to send with them."""
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode()
        else:
            data = orjson.dumps(self.body)
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Content-Length", str(len(data)))
        return data, headers


Handler = Callable[[requests.PreparedRequest], MockResponse]


class MockTransport(BaseAdapter):
    """A ``requests`` transport adapter that answers every request with ``handler``.

    Attributes:
        requests: Every request the handler was given, in order (for assertions).

    """

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._handler = handler
        self._lock = threading.Lock()  # job sets send from several threads
        self.requests: list[requests.PreparedRequest] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: object = None,
        verify: object = True,
        cert: object = None,
        proxies: object = None,
    ) -> requests.Response:
        """The handler's answer to ``request``, as ``requests`` would give a real one."""
        with self._lock:
            self.requests.append(request)
        answer = self._handler(request)
        data, headers = answer.encoded()
        raw = HTTPResponse(
            body=io.BytesIO(data),
            headers=headers,
            status=answer.status,
            preload_content=False,
            decode_content=True,
            request_method=request.method,
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = raw
        response.url = request.url or ""
        response.request = request
        response.reason = raw.reason or ""
        return response

    def close(self) -> None:
        """Nothing to close: no connection was opened."""
