"""Where a backend finds its OQTOPUS URL, API token, proxy, timeouts and retries."""

from __future__ import annotations

import configparser
import math
import os
from pathlib import Path
from typing import Any

from quri_parts_oqtopus.backend.errors import OqtopusConfigError, OqtopusConfigFileError

_SSE_CONTAINER = "sse_container"

#: Seconds to connect and to wait for an answer, for every API call.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
#: How many times a failed call is repeated (0: never).
DEFAULT_RETRIES = 5
#: Base of the exponential backoff between repeats, in seconds.
DEFAULT_BACKOFF = 0.5


class OqtopusConfig:
    """A configuration information class for using OQTOPUS backend.

    Args:
        url: Base URL for OQTOPUS Cloud.
        api_token: API token for OQTOPUS Cloud.
        proxy: Proxy URL for API calls and storage transfers, or ``None``.
        timeout: Seconds to connect and to wait for an answer, as one number or a
            ``(connect, read)`` pair, for every API call.
        retries: How many times a failed call is repeated after a connection error,
            429 or 5xx (0 turns retrying off). Submissions are repeated only where that
            cannot run a job twice.
        backoff: Base of the capped exponential backoff between repeats, in seconds.

    Raises:
        ValueError: If ``url`` or ``api_token`` is None, or a timeout, retry count or
            backoff is out of range.

    """

    __slots__ = ("_api_token", "_backoff", "_proxy", "_retries", "_timeout", "_url")

    def __init__(
        self,
        url: str,
        api_token: str,
        proxy: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
    ) -> None:
        if url is None:
            raise ValueError("url should not be None.")
        if api_token is None:
            raise ValueError("api_token should not be None.")
        self._url: str = url
        self._api_token: str = api_token
        self._proxy: str | None = proxy
        self._timeout = _timeout_pair(timeout)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries should be a non-negative integer: {retries!r}")
        self._retries = retries
        if not _is_seconds(backoff):
            raise ValueError(f"backoff should be a non-negative number of seconds: {backoff!r}")
        self._backoff = float(backoff)

    @property
    def url(self) -> str:
        """Return the url.

        Returns:
            str: the url to access OQTOPUS Cloud.

        """
        return self._url

    @property
    def api_token(self) -> str:
        """Return the API token.

        Returns:
            str: the API token to access OQTOPUS Cloud.

        """
        return self._api_token

    @property
    def proxy(self) -> str | None:
        """Return the proxy.

        Returns:
            str | None: the proxy to access OQTOPUS Cloud.

        """
        return self._proxy

    @property
    def timeout(self) -> tuple[float, float]:
        """Seconds to connect and to wait for an answer, for every API call."""
        return self._timeout

    @property
    def retries(self) -> int:
        """How many times a failed call is repeated (0: never)."""
        return self._retries

    @property
    def backoff(self) -> float:
        """Base of the exponential backoff between repeats, in seconds."""
        return self._backoff

    def with_proxy(self, proxy: str | None) -> OqtopusConfig:
        """A copy of this configuration with another proxy."""
        return OqtopusConfig(
            self._url,
            self._api_token,
            proxy,
            timeout=self._timeout,
            retries=self._retries,
            backoff=self._backoff,
        )

    def __repr__(self) -> str:
        # The token is a secret: never part of any text this object produces.
        return (
            f"OqtopusConfig(url={self._url!r}, api_token='***', proxy={self._proxy!r}, "
            f"timeout={self._timeout}, retries={self._retries}, backoff={self._backoff})"
        )

    def _key(self) -> tuple[object, ...]:
        return (
            self._url,
            self._api_token,
            self._proxy,
            self._timeout,
            self._retries,
            self._backoff,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OqtopusConfig):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @staticmethod
    def from_file(
        section: str | None = "default", path: str | None = "~/.oqtopus"
    ) -> OqtopusConfig:
        """Read configuration information from a file.

        The file is INI-style: a ``[section]`` header, then ``url=``, ``api_token=``
        and the optional ``proxy=``, ``timeout=`` (seconds, or ``connect,read``),
        ``retries=`` and ``backoff=``. ``~`` and environment variables in ``path`` are
        expanded. Inside an SSE container (``OQTOPUS_ENV=sse_container``) no file is
        read and an empty configuration is returned: jobs go to the container's driver.

        Args:
            section: The section of the file to read.
            path: A path for config file.

        Returns:
            Configuration information :class:`OqtopusConfig`.

        Raises:
            ValueError: If ``path`` or ``section`` is None, or if the file, the section
                or one of the required keys is missing; the message names the file,
                the section and the key. A missing file, section or key is also a
                ``KeyError`` and an unreadable file a ``configparser.Error``, as the
                reference raises.

        """
        if os.getenv("OQTOPUS_ENV") == _SSE_CONTAINER:
            return OqtopusConfig(url="", api_token="")
        if path is None:
            raise ValueError("path should not be None.")
        if section is None:
            raise ValueError("section should not be None.")
        file = Path(os.path.expandvars(path)).expanduser()
        if not file.is_file():
            raise OqtopusConfigError(
                f"OQTOPUS config file not found: {str(file)!r} (for section [{section}])"
            )
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(file, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as e:
            raise OqtopusConfigFileError(
                f"OQTOPUS config file {str(file)!r} cannot be parsed: {e}"
            ) from e
        if not parser.has_section(section):
            raise OqtopusConfigError(
                f"OQTOPUS config file {str(file)!r} has no section [{section}]"
            )
        values = parser[section]
        for key in ("url", "api_token"):
            if key not in values:
                raise OqtopusConfigError(
                    f"OQTOPUS config file {str(file)!r}, section [{section}], has no key {key!r}"
                )
        where = f"OQTOPUS config file {str(file)!r}, section [{section}]"
        try:
            return OqtopusConfig(
                url=values["url"],
                api_token=values["api_token"],
                proxy=values.get("proxy"),
                **_transport_settings(values),
            )
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from e

    @staticmethod
    def resolve(config: OqtopusConfig | None) -> OqtopusConfig:
        """The configuration a backend uses when given ``config``.

        ``config`` itself when not None; else ``OQTOPUS_URL`` and ``OQTOPUS_API_TOKEN``
        (with ``OQTOPUS_PROXY``) when both are set; else section ``default`` of
        ``~/.oqtopus``. A configuration without a proxy takes ``OQTOPUS_PROXY``.

        Raises:
            ValueError: If no configuration can be found.

        """
        if config is None:
            url = os.getenv("OQTOPUS_URL")
            api_token = os.getenv("OQTOPUS_API_TOKEN")
            if url is not None and api_token is not None:
                config = OqtopusConfig(url, api_token, os.getenv("OQTOPUS_PROXY"))
            else:
                config = OqtopusConfig.from_file()
        if config.proxy is None and os.getenv("OQTOPUS_PROXY"):
            config = config.with_proxy(os.getenv("OQTOPUS_PROXY"))
        return config


def _is_seconds(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value >= 0
    )


def _timeout_pair(timeout: float | tuple[float, float]) -> tuple[float, float]:
    pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if len(pair) != 2 or not all(_is_seconds(t) and t > 0 for t in pair):
        raise ValueError(
            f"timeout should be positive seconds or a (connect, read) pair: {timeout!r}"
        )
    return (float(pair[0]), float(pair[1]))


def _transport_settings(values: configparser.SectionProxy) -> dict[str, Any]:
    """The optional timeout, retries and backoff keys of a config file section."""
    settings: dict[str, Any] = {}
    if "timeout" in values:
        parts = [float(part) for part in values["timeout"].split(",")]
        settings["timeout"] = parts[0] if len(parts) == 1 else tuple(parts)
    if "retries" in values:
        settings["retries"] = int(values["retries"])
    if "backoff" in values:
        settings["backoff"] = float(values["backoff"])
    return settings
