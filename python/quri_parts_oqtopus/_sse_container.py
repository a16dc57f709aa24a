"""Jobs of a program inside an OQTOPUS SSE container: handed to the container's ``sse_driver``.

Inside an SSE container (``OQTOPUS_ENV=sse_container``) ``OqtopusConfig.from_file()`` is
empty, and a backend whose configuration has no URL runs each job through
``sse_driver.submit_job(request, upload_info)``, the module the container provides, as the
reference client does. The driver blocks until the job has ended and returns it with its
``job_info`` inline; a job that did not succeed makes it raise.

:class:`SseDriverClient` stands where the backends' HTTP client stands, as the other
implementation of their :class:`~quri_parts_oqtopus._job_api.JobApi`: submitting a job and
reading it back. The container has no API of its own to call, so nothing else is on it.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import JOB_INFO_FIELDS, JOB_INPUT_FIELDS, Job
from quri_parts_oqtopus.formats.upload import JobInput

__all__ = ["DriverJobInfo", "DriverRequest", "SseDriverClient", "hands_jobs_to_driver"]

_ENV, _CONTAINER = "OQTOPUS_ENV", "sse_container"


def hands_jobs_to_driver(url: str) -> bool:
    """Whether a backend configured with ``url`` runs its jobs through ``sse_driver``."""
    return not url and os.getenv(_ENV) == _CONTAINER


@dataclasses.dataclass(frozen=True)
class DriverRequest:
    """The submit settings of a job, as ``sse_driver.submit_job`` receives them."""

    device_id: str
    job_type: str
    shots: int
    name: str | None = None
    description: str | None = None
    transpiler_info: dict[str, Any] | None = None
    simulator_info: dict[str, Any] | None = None
    mitigation_info: dict[str, Any] | None = None

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """The fields as a dict, as pydantic models (which drivers expect) give them."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DriverJobInfo:
    """The input of a job (what would be uploaded), as ``sse_driver.submit_job`` receives it."""

    program: list[str] | None = None
    operator: list[dict[str, Any]] | None = None
    sse_program: str | None = None

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """The fields as a dict, as pydantic models (which drivers expect) give them."""
        return dataclasses.asdict(self)


class SseDriverClient:
    """The backends' :class:`~quri_parts_oqtopus._job_api.JobApi` inside an SSE container:
    each job goes to ``sse_driver``.

    It never talks HTTP; the jobs it ran are kept, ended, for ``get_job`` and
    ``get_job_status``.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SseDriverClient()"

    def submit_new_job(
        self,
        job_input: JobInput,
        body: Mapping[str, Any],
        on_registered: Callable[[str], None] | None = None,
    ) -> str:
        """Run the job through ``sse_driver`` (blocking until it ended); its job id.

        The driver gets the settings in ``body`` and the input document itself (no ZIP).

        Raises:
            BackendError: If there is no ``sse_driver`` module, or it fails or refuses the
                job (a job that did not succeed), with its reason.

        """
        job_type = str(body.get("job_type"))
        given = orjson.loads(job_input.document())
        fields = {f.name for f in dataclasses.fields(DriverRequest)}
        request = DriverRequest(**{k: v for k, v in body.items() if k in fields})
        upload = DriverJobInfo(**{k: given.get(k) for k in JOB_INPUT_FIELDS})
        try:
            driver = importlib.import_module("sse_driver")
        except ImportError as e:
            raise BackendError(
                f"submit {job_type} job: inside an SSE container ({_ENV}={_CONTAINER}) a "
                f"configuration without url hands jobs to the 'sse_driver' module, which "
                f"cannot be imported: {e}"
            ) from e
        try:
            ended = driver.submit_job(request, upload)
        except Exception as e:  # the driver's own errors, whatever their type
            raise BackendError(f"submit {job_type} job through sse_driver failed: {e}") from e
        job = _job_object(ended)
        job_id = job.get("job_id")
        if not isinstance(job_id, str):
            raise BackendError(f"sse_driver returned a job without a job_id: {job!r:.200}")
        with self._lock:
            self._jobs[job_id] = job
        if on_registered is not None:
            on_registered(job_id)
        return job_id

    def get_job(self, job_id: str) -> Job:
        """The ended job as the driver returned it (``job_info`` inline).

        Raises:
            BackendError: If this client did not run the job.

        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise BackendError(f"get job {job_id}: not a job run by this program's sse_driver")
        return cast("Job", json.loads(json.dumps(job)))  # a copy: the caller may change it

    def get_job_status(self, job_id: str) -> str:
        """The status of a job this client ran (it has ended).

        Raises:
            BackendError: If this client did not run the job.

        """
        return str(self.get_job(job_id).get("status"))


def _job_object(ended: object) -> dict[str, Any]:
    """The driver's answer (a pydantic model or a mapping) as the API's job object."""
    if hasattr(ended, "model_dump_json"):
        ended = json.loads(ended.model_dump_json())
    elif hasattr(ended, "model_dump"):
        ended = ended.model_dump(mode="json")
    if not isinstance(ended, Mapping):
        raise BackendError(f"sse_driver returned {type(ended).__name__}, not a job")
    job: dict[str, Any] = json.loads(json.dumps(dict(ended), default=str))
    if "job_info" not in job:  # some drivers answer job_info's fields at the top level
        job["job_info"] = {key: job.pop(key) for key in JOB_INFO_FIELDS if key in job}
    return job
