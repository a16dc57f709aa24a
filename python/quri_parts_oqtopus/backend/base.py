"""What every OQTOPUS backend starts from: a resolved configuration and one job API client."""

from __future__ import annotations

from quri_parts_oqtopus._job_api import JobApi, job_api_for
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
        self._api: JobApi | None = None
        self._unusable_config = ""
        try:
            self._api = job_api_for(self.config.with_environment_proxy())
        except ValueError as e:
            self._unusable_config = str(e)

    @property
    def _client(self) -> JobApi:
        """The backend's client (HTTP, or an SSE container's driver); raises if the
        configuration cannot make one."""
        if self._api is None:
            raise OqtopusInvalidArgumentError(self._unusable_config)
        return self._api

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.config.url!r})"


def client_of(backend: OqtopusBackendBase) -> JobApi:
    """The client a backend submits and reads jobs with: for job sets, samplers, estimators.

    Raises:
        ValueError: If the backend's configuration cannot make one (also a
            ``BackendError``), with the reason.

    """
    return backend._client
