"""Fault injection for client tests: answer chosen requests with a canned response or a delay."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# Paths faults never touch: the switch itself and the readiness probe.
_EXEMPT_PREFIXES = ("/_admin", "/_health")


@dataclass
class FaultRule:
    """Answer ``status``/``body`` (or only wait ``delay`` s) for the next ``times`` matches.

    ``method`` is a regex matched against the whole method, case-insensitively (None
    matches every method); ``path`` is a regex searched in the URL path;
    ``status`` None means "delay only, then answer normally"; ``times`` -1 means forever.
    """

    rule_id: int
    path: str
    method: str | None = None
    status: int | None = None
    body: str = ""
    content_type: str = "application/json"
    delay: float = 0.0
    times: int = 1
    fired: int = 0
    path_pattern: re.Pattern[str] = field(init=False, repr=False)
    method_pattern: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path_pattern = re.compile(self.path)
        self.method_pattern = None if self.method is None else re.compile(self.method, re.I)

    def matches(self, method: str, path: str) -> bool:
        if self.times == 0:
            return False
        if self.method_pattern is not None and not self.method_pattern.fullmatch(method):
            return False
        return self.path_pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "body": self.body,
            "content_type": self.content_type,
            "delay": self.delay,
            "times": self.times,
            "fired": self.fired,
        }


class FaultBook:
    """The active rules, shared by the admin routes and the middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, **fields: Any) -> FaultRule:
        rule = FaultRule(rule_id=next(self._ids), **fields)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching the request, counted as fired (one use spent)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.fired += 1
                    if rule.times > 0:
                        rule.times -= 1
                    return rule
        return None


class FaultMiddleware:
    """ASGI middleware that applies the :class:`FaultBook` before the real app."""

    def __init__(self, app: ASGIApp, book: FaultBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(_EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        rule = self.book.take(str(scope["method"]), path)
        if rule is not None and rule.delay > 0:
            await asyncio.sleep(rule.delay)
        if rule is None or rule.status is None:
            await self.app(scope, receive, send)
            return
        response = Response(rule.body, status_code=rule.status, media_type=rule.content_type)
        await response(scope, receive, send)
