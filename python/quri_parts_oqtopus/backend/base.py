"""What every OQTOPUS backend starts from: a resolved configuration and one HTTP client."""

from __future__ import annotations

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus._sse_container import SseDriverClient, hands_jobs_to_driver
from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.errors import OqtopusInvalidArgumentError

__all__ = ["OqtopusBackendBase", "client_of"]


class OqtopusBackendBase:
    """Base class for OQTOPUS backends.

    Args:
        config: A :class:`OqtopusConfig` for job execution. If ``None`` and both
            environment variables ``OQTOPUS_URL`` and ``OQTOPUS_API_TOKEN`` exist, they
            (with ``OQTOPUS_PROXY``) make the configuration; otherwise the ``default``
            section of ``~/.oqtopus`` is read. A configuration without a proxy takes
            ``OQTOPUS_PROXY``. Inside an SSE container (``OQTOPUS_ENV=sse_container``) a
            configuration without URL (what ``OqtopusConfig.from_file()`` returns there)
            hands every job to the container's ``sse_driver`` module.

    Raises:
        ValueError: If no configuration can be found (missing file, section or key; also
            a ``KeyError``, as the reference raises).

    A URL that is not ``http(s)://`` (or a proxy without a scheme) is accepted here, as
    the reference accepts it; every call then fails with a ``BackendError`` (and
    ``ValueError``) that says why.

    """

    def __init__(self, config: OqtopusConfig | None = None) -> None:
        # The config is kept as given (as the reference keeps it); OQTOPUS_PROXY applies to
        # the requests of a config without a proxy.
        self.config: OqtopusConfig = OqtopusConfig.located(config)
        self._http: OqtopusHttpClient | None = None
        self._unusable_config = ""
        try:
            self._http = (
                SseDriverClient()
                if hands_jobs_to_driver(self.config.url)
                else OqtopusHttpClient(self.config.with_environment_proxy())
            )
        except ValueError as e:
            self._unusable_config = str(e)

    @property
    def _client(self) -> OqtopusHttpClient:
        """The backend's HTTP client; raises if the configuration cannot make one."""
        if self._http is None:
            raise OqtopusInvalidArgumentError(self._unusable_config)
        return self._http

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.config.url!r})"


def client_of(backend: OqtopusBackendBase) -> OqtopusHttpClient:
    """The HTTP client a backend calls the API with: for job sets, samplers, estimators.

    Raises:
        ValueError: If the backend's configuration cannot make one (also a
            ``BackendError``), with the reason.

    """
    return backend._client
