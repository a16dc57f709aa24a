"""Origins: where the API token may go, read as the request is sent; URLs as they may be shown.

An origin is decided on the URL that requests will send, after its own preparation
(leading whitespace dropped, host IDNA-encoded, path quoted), and read by both parsers
that may pick the host to connect to: urllib3's ``parse_url`` (requests before 2.32,
proxies) and ``urllib.parse`` (the connection pool key of requests 2.32 and later). A URL
they read differently has no origin: nothing carrying the token is sent to it.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from requests.exceptions import RequestException
from requests.models import PreparedRequest
from urllib3.util import parse_url

__all__ = [
    "UnclearUrlError",
    "api_url_refusal",
    "location_refusal",
    "origin",
    "redact_queries_in_urllib3_logs",
    "without_query",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnclearUrlError(ValueError):
    """A URL whose origin cannot be told for sure: unreadable, or read two ways."""


def origin(url: str) -> str:
    """``scheme://host:port`` that requests connects to for ``url``, the port filled in.

    Raises:
        UnclearUrlError: If requests cannot prepare ``url``, or the two parsers that pick
            the host read the prepared URL differently.

    """
    try:
        prepared = _prepared(url)
        by_urllib3 = parse_url(prepared)
        by_stdlib = urlsplit(prepared)
        first = _origin_text(by_urllib3.scheme, by_urllib3.host, by_urllib3.port)
        second = _origin_text(by_stdlib.scheme, by_stdlib.hostname, by_stdlib.port)
    except (ValueError, RequestException) as e:  # urllib3's LocationParseError is a ValueError
        raise UnclearUrlError(f"cannot be read as a URL ({type(e).__name__}: {e})") from e
    if first != second:
        raise UnclearUrlError(f"is read as {first} by one URL parser and {second} by another")
    return first


def _prepared(url: str) -> str:
    request = PreparedRequest()
    request.prepare_url(url, None)
    return str(request.url)


def _origin_text(scheme: str | None, host: str | None, port: int | None) -> str:
    scheme = (scheme or "").lower()
    host = (host or "").lower().removeprefix("[").removesuffix("]")
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port or _DEFAULT_PORTS.get(scheme)}"


def location_refusal(location: str, target: str) -> str:
    """Why a redirect to ``location`` (``target`` once joined) may not carry the token: ``""``
    when nothing speaks against it.

    Backslashes, whitespace and control characters are where URL parsers part ways (one
    ends the host at a backslash, another strips a tab), and a user name in a redirect is
    a way to hide the host after it: none of them has a place in an API's redirect.
    """
    odd = _odd_characters(location)
    if odd:
        return odd
    try:
        userinfo = parse_url(target).auth is not None or "@" in urlsplit(target).netloc
    except ValueError:
        return ""  # unreadable: origin() says so
    return "it holds a user name (userinfo)" if userinfo else ""


def api_url_refusal(url: str) -> str:
    """Why ``url`` cannot be the API's URL, ``""`` if it can: the same characters as for
    redirects, and a URL whose origin cannot be told."""
    odd = _odd_characters(url)
    if odd:
        return odd
    try:
        origin(url)
    except UnclearUrlError as e:
        return f"it {e}"
    return ""


def _odd_characters(url: str) -> str:
    if "\\" in url:
        return "it holds a backslash"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "it holds whitespace or a control character"
    return ""


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
