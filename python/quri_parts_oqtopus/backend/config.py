"""Where a backend finds its OQTOPUS URL, API token, proxy, timeouts, retries and limits."""

from __future__ import annotations

import configparser
import math
import os
import warnings
from pathlib import Path
from typing import Any

from requests.adapters import BaseAdapter

from quri_parts_oqtopus._values import is_int, is_number
from quri_parts_oqtopus.backend.errors import OqtopusConfigError, OqtopusConfigFileError
from quri_parts_oqtopus.formats.upload import DEFAULT_MAX_INFLATED_BYTES

_SSE_CONTAINER = "sse_container"

#: Seconds to connect and to wait for an answer, for every API call.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
#: How many times a failed call is repeated (0: never).
DEFAULT_RETRIES = 5
#: Base of the exponential backoff between repeats, in seconds.
DEFAULT_BACKOFF = 0.5
#: Seconds a call may take in all, its attempts and the waits between them included.
DEFAULT_DEADLINE = 120.0
#: Largest answer body read: a JSON answer, a downloaded archive or file.
DEFAULT_MAX_RESPONSE_BYTES = 256 << 20

#: The keyword-only settings, as the constructor, the config file and ``with_transport`` name them.
_TRANSPORT_KEYS = (
    "timeout",
    "retries",
    "connect_retries",
    "backoff",
    "deadline",
    "max_response_bytes",
    "max_inflated_bytes",
)


class OqtopusConfig:
    """A configuration information class for using OQTOPUS backend.

    Every API call (and every storage transfer) gets one retry budget: it makes at most
    ``retries + 1`` attempts in total, each bounded by the timeouts, and gives up when its
    ``deadline`` has passed, whichever comes first. A call is repeated after a connection
    that could not be made (the request never left), and, where repeating is safe, after a
    429 or 5xx answer or an answer cut short (fewer bytes than Content-Length, a broken
    chunked stream). What would fail the same way again is not repeated: an answer that
    came whole but does not decode (malformed JSON, a corrupt archive), one that is not
    HTTP, a refused TLS certificate, a URL that cannot be sent. Reads are safe to repeat;
    of the submission steps, registering again leaves at worst an unused ``registered``
    job and uploading again writes the same bytes, and a submit is repeated only after the
    job's status shows that the earlier one did not take effect. Other POSTs (cancel) are
    repeated only when the request never left.

    Args:
        url: Base URL for OQTOPUS Cloud.
        api_token: API token for OQTOPUS Cloud. It is sent only to the origin (scheme,
            host, port) of ``url``: a redirect to another origin is refused.
        proxy: Proxy URL for API calls and storage transfers, or ``None``.
        timeout: Seconds to connect, and to wait for each piece of an answer, as one number
            or a ``(connect, read)`` pair. Archive uploads and downloads wait five times the
            read timeout.
        retries: How many times a failed call is repeated: at most ``retries + 1``
            attempts of the call in total (0 turns repeating off).
        connect_retries: How many of those repeats may follow a connection that could not
            be made (refused, unreachable, timed out while connecting); ``None``: as many as
            ``retries``. The ``oqtopus`` command uses 0 unless this is set, so that it says
            at once that a server cannot be reached.
        backoff: The waits between attempts: none before the second, then ``backoff *
            2 ** (n - 2)`` seconds before attempt ``n`` (plus up to ``backoff`` of jitter,
            at most 20 s), or what a 429 or 503 answer's ``Retry-After`` asks for.
        deadline: Seconds a call may take in all, attempts and waits included (five times
            as long for archive transfers). A call gives up at its deadline, or at most one
            read timeout after it when the server falls silent in the middle of an answer.
        max_response_bytes: Largest answer body read (a JSON answer, a downloaded archive
            or ``file://`` result); a larger one is refused, without being read whole, with
            a BackendError naming the limit.
        max_inflated_bytes: Largest content of a downloaded archive once inflated; a
            larger one is refused before anything is inflated.
        adapter: A ``requests`` transport adapter every request goes through instead of
            the network, e.g. :class:`quri_parts_oqtopus.transport.MockTransport` in tests
            (None: HTTP). Not read from configuration files.

    Raises:
        ValueError: If ``url`` or ``api_token`` is None, or a timeout, retry count,
            backoff, deadline or limit is out of range.

    """

    __slots__ = (
        "_adapter",
        "_api_token",
        "_backoff",
        "_connect_retries",
        "_deadline",
        "_max_inflated_bytes",
        "_max_response_bytes",
        "_proxy",
        "_retries",
        "_timeout",
        "_url",
    )

    def __init__(
        self,
        url: str,
        api_token: str,
        proxy: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        connect_retries: int | None = None,
        backoff: float = DEFAULT_BACKOFF,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
        adapter: BaseAdapter | None = None,
    ) -> None:
        if url is None:
            raise ValueError("url should not be None.")
        if api_token is None:
            raise ValueError("api_token should not be None.")
        self._url: str = url
        self._api_token: str = api_token
        self._proxy: str | None = proxy
        self._timeout = _timeout_pair(timeout)
        self._retries = _count("retries", retries)
        self._connect_retries = (
            None if connect_retries is None else _count("connect_retries", connect_retries)
        )
        if not _is_seconds(backoff):
            raise ValueError(f"backoff should be a non-negative number of seconds: {backoff!r}")
        self._backoff = float(backoff)
        if not _is_seconds(deadline) or deadline == 0:
            raise ValueError(f"deadline should be a positive number of seconds: {deadline!r}")
        self._deadline = float(deadline)
        self._max_response_bytes = _size("max_response_bytes", max_response_bytes)
        self._max_inflated_bytes = _size("max_inflated_bytes", max_inflated_bytes)
        if adapter is not None and not isinstance(adapter, BaseAdapter):
            raise ValueError(f"adapter should be a requests transport adapter: {adapter!r}")
        self._adapter = adapter

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
    def connect_retries(self) -> int | None:
        """How many repeats may follow a connection that could not be made (None: ``retries``)."""
        return self._connect_retries

    @property
    def backoff(self) -> float:
        """Base of the exponential backoff between repeats, in seconds."""
        return self._backoff

    @property
    def deadline(self) -> float:
        """Seconds a call may take in all, attempts and waits included."""
        return self._deadline

    @property
    def max_response_bytes(self) -> int:
        """Largest answer body read, in bytes."""
        return self._max_response_bytes

    @property
    def max_inflated_bytes(self) -> int:
        """Largest content of a downloaded archive once inflated, in bytes."""
        return self._max_inflated_bytes

    @property
    def adapter(self) -> BaseAdapter | None:
        """The transport adapter requests go through instead of the network (None: HTTP)."""
        return self._adapter

    def with_proxy(self, proxy: str | None) -> OqtopusConfig:
        """A copy of this configuration with another proxy."""
        return OqtopusConfig(
            self._url, self._api_token, proxy, **self._transport(), adapter=self._adapter
        )

    def with_transport(self, **settings: Any) -> OqtopusConfig:
        """A copy of this configuration with some keyword-only settings changed.

        Raises:
            ValueError: For a name that is not one of the keyword-only settings, or a value
                out of range.

        """
        unknown = sorted(set(settings) - set(_TRANSPORT_KEYS))
        if unknown:
            raise ValueError(f"not transport settings of OqtopusConfig: {', '.join(unknown)}")
        return OqtopusConfig(
            self._url,
            self._api_token,
            self._proxy,
            **{**self._transport(), **settings},
            adapter=self._adapter,
        )

    def _transport(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _TRANSPORT_KEYS}

    def __repr__(self) -> str:
        # The token is a secret: never part of any text this object produces.
        settings = ", ".join(f"{key}={value!r}" for key, value in self._transport().items())
        if self._adapter is not None:
            settings += f", adapter={self._adapter!r}"
        return (
            f"OqtopusConfig(url={self._url!r}, api_token='***', proxy={self._proxy!r}, {settings})"
        )

    def _key(self) -> tuple[object, ...]:
        return (self._url, self._api_token, self._proxy, *self._transport().values(), self._adapter)

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
        ``retries=``, ``connect_retries=``, ``backoff=``, ``deadline=`` (seconds),
        ``max_response_bytes=`` and ``max_inflated_bytes=``, each meaning what the
        constructor's argument of that name means; a value of these optional keys that
        cannot be used is left out with a ``UserWarning`` (the reference does not know
        them, so they never stop its files from loading). ``~`` and environment variables
        in ``path`` are expanded. Inside an SSE container (``OQTOPUS_ENV=sse_container``) no file is
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
        return OqtopusConfig(
            url=values["url"],
            api_token=values["api_token"],
            proxy=values.get("proxy"),
            **_transport_settings(values, where),
        )

    @staticmethod
    def resolve(config: OqtopusConfig | None) -> OqtopusConfig:
        """The configuration a backend's requests use when given ``config``.

        :meth:`located` with the ``OQTOPUS_PROXY`` fallback applied
        (:meth:`with_environment_proxy`).

        Raises:
            ValueError: If no configuration can be found.

        """
        return OqtopusConfig.located(config).with_environment_proxy()

    @staticmethod
    def located(config: OqtopusConfig | None) -> OqtopusConfig:
        """The configuration a backend keeps as its ``config`` when given ``config``.

        ``config`` itself when not None (kept as it is, as the reference keeps it); else
        ``OQTOPUS_URL`` and ``OQTOPUS_API_TOKEN`` (with ``OQTOPUS_PROXY``) when both are
        set; else section ``default`` of ``~/.oqtopus``.

        Raises:
            ValueError: If no configuration can be found.

        """
        if config is not None:
            return config
        url = os.getenv("OQTOPUS_URL")
        api_token = os.getenv("OQTOPUS_API_TOKEN")
        if url is not None and api_token is not None:
            return OqtopusConfig(url, api_token, os.getenv("OQTOPUS_PROXY"))
        return OqtopusConfig.from_file()

    def with_environment_proxy(self) -> OqtopusConfig:
        """This configuration, or a copy taking ``OQTOPUS_PROXY`` when it has no proxy.

        A proxy the configuration names (``""`` included) is never overridden.
        """
        proxy = os.getenv("OQTOPUS_PROXY")
        if self._proxy is None and proxy:
            return self.with_proxy(proxy)
        return self


def _is_seconds(value: object) -> bool:
    return is_number(value) and math.isfinite(value) and value >= 0


def _count(name: str, value: object) -> int:
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} should be a non-negative integer: {value!r}")
    return value


def _size(name: str, value: object) -> int:
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name} should be a positive number of bytes: {value!r}")
    return value


def _timeout_pair(timeout: float | tuple[float, float]) -> tuple[float, float]:
    pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if len(pair) != 2 or not all(_is_seconds(t) and t > 0 for t in pair):
        raise ValueError(
            f"timeout should be positive seconds or a (connect, read) pair: {timeout!r}"
        )
    return (float(pair[0]), float(pair[1]))


def _transport_settings(values: configparser.SectionProxy, where: str) -> dict[str, Any]:
    """The usable optional transport keys of a config file section, as constructor arguments.

    The reference does not know these keys, so a value that cannot be used never stops the
    file from loading: it is left out with a warning naming the key and the value.
    """
    settings: dict[str, Any] = {}
    for key in _TRANSPORT_KEYS:
        if key not in values:
            continue
        text = values[key]
        try:
            value = _setting_value(key, text)
            OqtopusConfig("", "", **{key: value})  # the constructor's own range checks
        except ValueError as e:
            warnings.warn(
                f"{where}: {key}={text!r} is ignored (the default is used): {e}",
                UserWarning,
                stacklevel=3,
            )
            continue
        settings[key] = value
    return settings


def _setting_value(key: str, text: str) -> Any:
    try:
        if key == "timeout":
            parts = [float(part) for part in text.split(",")]
            return parts[0] if len(parts) == 1 else tuple(parts)
        if key in ("backoff", "deadline"):
            return float(text)
        return int(text)
    except ValueError:
        raise ValueError(f"{key} is not a number: {text!r}") from None
