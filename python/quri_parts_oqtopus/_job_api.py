"""What the backends call on a client to submit and read jobs, and the two clients that do.

:class:`JobApi` is implemented by :class:`~quri_parts_oqtopus._http.OqtopusHttpClient`
(the OQTOPUS user API over HTTP) and by
:class:`~quri_parts_oqtopus._sse_container.SseDriverClient` (a program inside an SSE
container, whose jobs go whole to the container's ``sse_driver``). The API's other calls
(cancel, delete, downloads, devices, logs) exist over HTTP only: :func:`http_api` gives
the HTTP client for them, or a ``BackendError`` saying why there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import Job
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus._sse_container import SseDriverClient, hands_jobs_to_driver
from quri_parts_oqtopus.formats.upload import JobInput
from quri_parts_oqtopus.transport import TransportConfig

__all__ = ["JobApi", "http_api", "job_api_for"]


class JobApi(Protocol):
    """Submitting a job's input and reading the job back: what every job kind needs."""

    def submit_new_job(
        self,
        job_input: JobInput,
        body: Mapping[str, Any],
        on_registered: Callable[[str], None] | None = None,
    ) -> str:
        """Run the job's submission (``body`` holds its settings); the new job's id."""
        ...

    def get_job(self, job_id: str) -> Job:
        """The job object."""
        ...

    def get_job_status(self, job_id: str) -> str:
        """The job's status."""
        ...


#: mypy proves here that both clients are a JobApi.
_IMPLEMENTATIONS: tuple[type[JobApi], ...] = (OqtopusHttpClient, SseDriverClient)


def job_api_for(config: TransportConfig) -> JobApi:
    """The client of a backend configured with ``config``: HTTP, or inside an SSE container
    without a URL, the container's ``sse_driver``.

    Raises:
        ValueError: If ``config`` cannot make an HTTP client (see ``OqtopusHttpClient``).

    """
    return SseDriverClient() if hands_jobs_to_driver(config.url) else OqtopusHttpClient(config)


def http_api(api: JobApi, operation: str) -> OqtopusHttpClient:
    """The HTTP client behind ``api``, for a call only the HTTP API has.

    Raises:
        BackendError: If ``api`` hands its jobs to an SSE container's ``sse_driver``, which
            has no API for ``operation`` (the message names it).

    """
    if isinstance(api, OqtopusHttpClient):
        return api
    raise BackendError(
        f"{operation}: inside an SSE container (OQTOPUS_ENV=sse_container, no url) there is "
        "no API for it; jobs are run whole by sse_driver, which returns them ended"
    )
