"""``sse_driver``: what an OQTOPUS SSE container offers its programs, for the local server.

In a real SSE container the clients (``oqtopus_client`` 1.3, and this project's backends)
hand each job of a program to ``sse_driver.submit_job(request, upload_info)`` when
``OQTOPUS_ENV=sse_container`` and their configuration has no URL. This module keeps that
contract and runs the job on the local server instead:

- ``request`` holds the submit settings (``device_id``, ``job_type``, ``shots``, ``name``,
  ``description``, ``transpiler_info``, ``simulator_info``, ``mitigation_info``) and
  ``upload_info`` the input (``program``, ``operator``, ``sse_program``): pydantic models
  (``JobsSubmitJobRequest``, ``JobsS3SubmitJobInfo``), objects with ``model_dump()``, or
  mappings;
- the call blocks until the job has ended and returns it with its ``job_info`` inline
  (``result`` etc. are values, not URLs): an ``oqtopus_client`` ``JobsJob`` where that
  package is importable, else the same as a ``dict``;
- a job that did not succeed raises :class:`SseRuntimeError` (a ``RuntimeError``) with
  the server's message, as the real driver does.

It talks to the server named by ``OQTOPUS_URL`` with the job-scoped ``OQTOPUS_API_TOKEN``
the server gave this program, over loopback, with the standard library only (any
interpreter can run it).
"""

from __future__ import annotations

import importlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["SseRuntimeError", "submit_job"]

_SUBMIT_FIELDS = ("name", "description", "device_id", "job_type", "shots")
_INFO_FIELDS = ("transpiler_info", "simulator_info", "mitigation_info")
_INPUT_FIELDS = ("program", "operator", "sse_program")
# The local server's header for it (this module cannot import the package's names).
_INLINE_HEADER = "x-oqtopus-local-inline-job-info"
_ENDED = ("succeeded", "failed", "cancelled")
_TIMEOUT = 60.0
_LONGEST_POLL = 1.0
# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SseRuntimeError(RuntimeError):
    """The job could not be run, or ended without succeeding."""


def submit_job(input_job: Any, upload_info: Any) -> Any:
    """Run one job on the server for this SSE program and return it once it has ended.

    Args:
        input_job: The submit settings (see the module docstring).
        upload_info: The job input: ``program``, ``operator``, ``sse_program``.

    Returns:
        The ended job, ``job_info`` inline: a ``JobsJob`` if ``oqtopus_client`` is
        importable, else a ``dict`` of the same fields.

    Raises:
        OSError: If this process is not an SSE program of the local server.
        SseRuntimeError: If the server refuses the job, or the job does not succeed.

    """
    url, token = os.environ.get("OQTOPUS_URL"), os.environ.get("OQTOPUS_API_TOKEN")
    if not url or not token:
        raise OSError("sse_driver: not inside an SSE program (OQTOPUS_URL, OQTOPUS_API_TOKEN)")
    server = _Server(url.rstrip("/"), token)
    settings, given = _plain(input_job), _plain(upload_info)
    body: dict[str, Any] = {key: settings.get(key) for key in _SUBMIT_FIELDS}
    body.update({key: settings.get(key) or {} for key in _INFO_FIELDS})
    body["name"] = body["name"] or ""
    body["job_info"] = {key: given[key] for key in _INPUT_FIELDS if given.get(key) is not None}
    job_id = server.call("POST", "/jobs", body)["job_id"]
    job = server.wait(job_id)
    if job.get("status") != "succeeded":
        reason = job["job_info"].get("message") or f"the job ended {job.get('status')}"
        raise SseRuntimeError(
            f"To execute sampling on OQTOPUS server is failed. reason: {reason} (job {job_id})"
        )
    return _as_client_model(job)


def _plain(value: Any) -> dict[str, Any]:
    """A model or mapping as a JSON-ready dict (enums as their values)."""
    if hasattr(value, "model_dump"):
        try:
            value = value.model_dump(mode="json")
        except TypeError:  # a model_dump() without pydantic's mode
            value = value.model_dump()
    if not isinstance(value, Mapping):
        raise TypeError(f"sse_driver: expected a model or a mapping, got {type(value).__name__}")
    plain: dict[str, Any] = json.loads(
        json.dumps(dict(value), default=lambda v: getattr(v, "value", str(v)))
    )
    return plain


def _as_client_model(job: dict[str, Any]) -> Any:
    # The real driver returns oqtopus_client's model; where that package is, so do we.
    try:
        models = importlib.import_module("oqtopus_client.rest.models")
    except ImportError:
        return job
    return models.JobsJob.model_validate(job)


class _Server:
    def __init__(self, url: str, token: str) -> None:
        self._url, self._token = url, token

    def call(
        self, method: str, path: str, body: object = None, *, inline: bool = False
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._url + path, data=data, method=method)  # noqa: S310
        request.add_header("q-api-token", self._token)
        if inline:  # job_info's values themselves, as a container's driver gets them
            request.add_header(_INLINE_HEADER, "1")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=_TIMEOUT) as answer:
                loaded: dict[str, Any] = json.loads(answer.read())
                return loaded
        except urllib.error.HTTPError as e:
            raise SseRuntimeError(f"{method} {path}: HTTP {e.code}: {_message(e)}") from e
        except (OSError, ValueError) as e:
            raise SseRuntimeError(f"{method} {path}: {e}") from e

    def wait(self, job_id: str) -> dict[str, Any]:
        """The job once ended, its ``job_info`` inline (the server reads its archives)."""
        path, delay = f"/jobs/{quote(job_id, safe='')}", 0.02
        while self.call("GET", path + "/status")["status"] not in _ENDED:
            time.sleep(delay)
            delay = min(delay * 1.5, _LONGEST_POLL)
        job = self.call("GET", path, inline=True)
        job["job_info"] = dict(job.get("job_info") or {})
        return job


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message", ""))
    except (OSError, ValueError, AttributeError):
        return error.reason
