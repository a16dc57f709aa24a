"""Submitting jobs: the checked settings of a job, the one submission call, many at once.

The backends, job sets, samplers and estimators submit through these (their internal API):
:class:`JobSettings` checks what the user gave before anything is sent, :func:`submit_job`
registers, uploads and submits one job, :func:`submit_all` runs many submissions with
bounded concurrency.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import MAX_SHOTS, SubmitBody
from quri_parts_oqtopus._http import encode_json_body
from quri_parts_oqtopus._job_api import JobApi
from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.backend.errors import (
    OqtopusArgumentTypeError,
    OqtopusInvalidArgumentError,
    reported_as,
)
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.backend.tags import check_tags, description_with_tags
from quri_parts_oqtopus.formats.upload import JobInput

__all__ = ["JobSettings", "check_concurrency", "check_shots", "submit_all", "submit_job"]


@dataclasses.dataclass(frozen=True)
class JobSettings:
    """What is submitted with a job's input: device, shots, name and the three infos.

    The fields of the contract's ``SubmitBody`` but ``job_type``, which each job kind adds
    (a test holds them equal). Make it with :meth:`checked`, which refuses bad values
    before anything is sent.
    """

    device_id: str
    shots: int
    name: str | None = None
    description: str | None = None
    transpiler_info: dict[str, Any] = dataclasses.field(default_factory=dict)
    simulator_info: dict[str, Any] = dataclasses.field(default_factory=dict)
    mitigation_info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def checked(
        cls,
        device_id: str,
        shots: int,
        *,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: Mapping[str, Any] | None = None,
        simulator_info: Mapping[str, Any] | None = None,
        mitigation_info: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        summary: str = "",
    ) -> JobSettings:
        """The settings, checked: the documented ``ValueError`` on bad input.

        ``summary`` starts the messages of the checks the reference leaves to the service
        (``"To execute sampling on OQTOPUS Cloud is failed."``); the first check of
        ``shots`` is the reference's own and has its own text. ``tags`` are folded into
        the description here, once (:mod:`~quri_parts_oqtopus.backend.tags`).

        Raises:
            ValueError: If ``shots`` is not an int in 1..10,000,000, ``device_id`` is not
                a string, ``name`` or ``description`` is not a string or None, an info is
                not a dict, a tag is refused (reserved characters, too
                long, too many: see ``check_tags``), or a value cannot be sent as JSON (a numpy
                integer, an integer beyond 64 bits, a lone surrogate in ``name``, NaN; the
                message names the field); also a ``BackendError``, as the reference raises
                for all but ``shots < 1``.

        """
        check_shots(shots, summary)
        infos = {
            "transpiler_info": transpiler_info,
            "simulator_info": simulator_info,
            "mitigation_info": mitigation_info,
        }
        with reported_as(summary):
            if not isinstance(device_id, str):
                # "" is allowed: inside SSE the server picks the device whatever is passed.
                raise OqtopusInvalidArgumentError(f"device_id should be a string: {device_id!r}")
            for key, value in infos.items():
                if value is not None and not isinstance(value, Mapping):
                    raise OqtopusInvalidArgumentError(f"{key} should be a dict or None: {value!r}")
            for key, text in (("name", name), ("description", description)):
                if text is not None and not isinstance(text, str):  # not made text by tags
                    raise OqtopusInvalidArgumentError(
                        f"{key} should be a string or None: {text!r:.80}"
                    )
            description = description_with_tags(description, check_tags(tags))
        settings = cls(
            device_id,
            shots,
            name,
            description,
            **{key: dict(value or {}) for key, value in infos.items()},
        )
        settings.body("", summary)  # a setting JSON cannot carry is refused here, named
        return settings

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> JobSettings:
        """The settings of :meth:`as_dict` (a job set's journal keeps them so)."""
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def as_dict(self) -> dict[str, Any]:
        """The settings as the submit body's fields (None where not given)."""
        return dataclasses.asdict(self)

    def named(self, name: str | None) -> JobSettings:
        """These settings with another job name."""
        return dataclasses.replace(self, name=name)

    def body(self, job_type: str, summary: str = "") -> SubmitBody:
        """The body of ``POST /jobs/{id}/submit``: the job type and every setting given.

        Raises:
            ValueError: (also a ``BackendError`` whose message starts with ``summary``) If
                a setting cannot be sent as JSON, naming it.

        """
        given = {key: value for key, value in self.as_dict().items() if value is not None}
        body = cast("SubmitBody", {"job_type": job_type, **given})
        with reported_as(summary):
            try:
                encode_json_body(body)
            except ValueError as e:
                raise OqtopusInvalidArgumentError(str(e)) from None
        return body


def check_shots(shots: int, summary: str = "") -> None:
    """Refuse ``shots`` outside 1..10,000,000, the reference's check first.

    Raises:
        ValueError: ``"shots should be a positive integer.: <shots>"`` (also a
            ``TypeError`` when ``shots`` cannot be compared with 1, as in the reference);
            then, for a non-int or too many, a ``ValueError`` and ``BackendError`` whose
            message starts with ``summary``.

    """
    try:
        positive = shots >= 1
    except TypeError:
        raise OqtopusArgumentTypeError(f"shots should be a positive integer.: {shots!r}") from None
    if not positive:
        raise OqtopusInvalidArgumentError(f"shots should be a positive integer.: {shots}")
    with reported_as(summary):
        if not is_int(shots) or shots > MAX_SHOTS:
            raise OqtopusInvalidArgumentError(
                f"shots should be an int from 1 to {MAX_SHOTS:,}: {shots!r}"
            )


def submit_job(
    client: JobApi,
    job_type: str,
    job_input: JobInput,
    settings: JobSettings,
    on_registered: Callable[[str], None] | None = None,
) -> JobRecord:
    """Submit ``job_input`` with ``settings`` (register, upload, submit over HTTP; whole
    to ``sse_driver`` in an SSE container); the submitted job's record.

    ``on_registered`` hears the job id as soon as the job exists.

    Raises:
        BackendError: When a step fails (see ``OqtopusHttpClient.submit_new_job``).

    """
    job_id = client.submit_new_job(job_input, settings.body(job_type), on_registered=on_registered)
    return JobRecord(client.get_job(job_id))


def check_concurrency(concurrency: int) -> None:
    """Refuse a ``concurrency`` that is not a positive integer, with a ``ValueError``."""
    if not is_int(concurrency) or concurrency < 1:
        raise ValueError(f"concurrency should be a positive integer: {concurrency!r}")


_T = TypeVar("_T")


def submit_all(submissions: Sequence[Callable[[], _T]], concurrency: int) -> list[_T]:
    """Run job submissions, at most ``concurrency`` at a time; the jobs in order.

    Raises:
        ValueError: If ``concurrency`` is not a positive integer, or a submission refuses
            its input.
        BackendError: If any submission fails; the message names the jobs that were
            submitted all the same, so that none of them is lost with the error.

    """
    check_concurrency(concurrency)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(submission) for submission in submissions]
    failures = [(i, f.exception()) for i, f in enumerate(futures) if f.exception() is not None]
    if not failures:
        return [future.result() for future in futures]
    index, first = failures[0]
    if isinstance(first, ValueError) and len(failures) == len(futures):
        raise first
    submitted = [getattr(f.result(), "job_id", None) for f in futures if f.exception() is None]
    raise BackendError(
        f"{len(failures)} of {len(futures)} submissions failed (first: item {index}: {first}); "
        f"submitted jobs: {submitted}"
    ) from first
