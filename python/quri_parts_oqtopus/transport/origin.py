"""Origins: where the API token may go, and URLs as they may be shown."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

__all__ = ["origin", "redact_queries_in_urllib3_logs", "without_query"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def redact_queries_in_urllib3_logs() -> None:
    """Install, once, the filter that keeps signed URLs' queries out of urllib3's log lines."""
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _QueryRedactingFilter) for f in pool_logger.filters):
        pool_logger.addFilter(_QueryRedactingFilter())
