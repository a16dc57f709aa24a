"""Where a backend finds its OQTOPUS URL, API token and proxy."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

_SSE_CONTAINER = "sse_container"


class OqtopusConfig:
    """A configuration information class for using OQTOPUS backend.

    Args:
        url: Base URL for OQTOPUS Cloud.
        api_token: API token for OQTOPUS Cloud.
        proxy: Proxy URL for API calls and storage transfers, or ``None``.

    Raises:
        ValueError: If ``url`` or ``api_token`` is None.

    """

    __slots__ = ("_api_token", "_proxy", "_url")

    def __init__(self, url: str, api_token: str, proxy: str | None = None) -> None:
        if url is None:
            raise ValueError("url should not be None.")
        if api_token is None:
            raise ValueError("api_token should not be None.")
        self._url: str = url
        self._api_token: str = api_token
        self._proxy: str | None = proxy

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

    def __repr__(self) -> str:
        # The token is a secret: never part of any text this object produces.
        return f"OqtopusConfig(url={self._url!r}, api_token='***', proxy={self._proxy!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OqtopusConfig):
            return NotImplemented
        return (self._url, self._api_token, self._proxy) == (
            other._url,
            other._api_token,
            other._proxy,
        )

    def __hash__(self) -> int:
        return hash((self._url, self._api_token, self._proxy))

    @staticmethod
    def from_file(
        section: str | None = "default", path: str | None = "~/.oqtopus"
    ) -> OqtopusConfig:
        """Read configuration information from a file.

        The file is INI-style: a ``[section]`` header, then ``url=``, ``api_token=``
        and an optional ``proxy=``. ``~`` and environment variables in ``path`` are
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
                the section and the key.

        """
        if os.getenv("OQTOPUS_ENV") == _SSE_CONTAINER:
            return OqtopusConfig(url="", api_token="")
        if path is None:
            raise ValueError("path should not be None.")
        if section is None:
            raise ValueError("section should not be None.")
        file = Path(os.path.expandvars(path)).expanduser()
        if not file.is_file():
            raise ValueError(f"OQTOPUS config file not found: {str(file)!r}")
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(file, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as e:
            raise ValueError(f"OQTOPUS config file {str(file)!r} cannot be parsed: {e}") from e
        if not parser.has_section(section):
            raise ValueError(f"OQTOPUS config file {str(file)!r} has no section [{section}]")
        values = parser[section]
        for key in ("url", "api_token"):
            if key not in values:
                raise ValueError(
                    f"OQTOPUS config file {str(file)!r}, section [{section}], has no key {key!r}"
                )
        return OqtopusConfig(
            url=values["url"], api_token=values["api_token"], proxy=values.get("proxy")
        )

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
            config = OqtopusConfig(config.url, config.api_token, os.getenv("OQTOPUS_PROXY"))
        return config
