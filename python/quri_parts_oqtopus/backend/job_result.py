"""What ``wait_for_completion()`` returns: the ended job as it was then.

quri-parts-oqtopus 1.1.5 returns its client's ``OqtopusJobResult`` there; these classes have
the same names, attributes and ``repr``, so code that reads ``.status`` or ``.job_info``
of the returned object runs unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from quri_parts_oqtopus._contract import ESTIMATION, MULTI_MANUAL, SAMPLING, SSE
from quri_parts_oqtopus._values import is_number

if TYPE_CHECKING:  # annotations only
    from quri_parts_oqtopus.backend.job_info import JobInfo
    from quri_parts_oqtopus.backend.record import JobRecord

__all__ = [
    "OqtopusEstimationJobResult",
    "OqtopusJobResult",
    "OqtopusMultiManualJobResult",
    "OqtopusSamplingJobResult",
    "OqtopusSseJobResult",
    "job_result_of",
]


class OqtopusJobResult:
    """A job's state and output as read from the server (absent fields are None).

    One property for each field of the contract's ``Job``, plus ``job_info``'s
    ``transpile_result`` and ``message`` and the result's parts (a test holds them so).

    Args:
        record: The job's record.
        info: Its ``job_info``, whose archives are downloaded when first read.

    """

    def __init__(self, record: JobRecord, info: JobInfo) -> None:
        self.record = record
        self._info = info

    def _text(self, key: str) -> str | None:
        value = self.record.raw.get(key)
        return None if value is None else str(value)

    def _mapping(self, key: str) -> dict[str, Any] | None:
        value = self.record.raw.get(key)
        return dict(value) if isinstance(value, Mapping) else None

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self.record.job_id

    @property
    def job_type(self) -> str | None:
        """``sampling``, ``multi_manual``, ``estimation`` or ``sse``."""
        return self._text("job_type")

    @property
    def status(self) -> str | None:
        """The job's status then."""
        return self._text("status")

    @property
    def name(self) -> str | None:
        """The job's name."""
        return self._text("name")

    @property
    def description(self) -> str | None:
        """The job's description."""
        return self._text("description")

    @property
    def device_id(self) -> str | None:
        """The device the job ran on."""
        return self._text("device_id")

    @property
    def shots(self) -> int | None:
        """The job's shots.

        Raises:
            BackendError: If the server's ``shots`` is not a number.

        """
        return self.record.number("shots", int)

    @property
    def job_info(self) -> dict[str, Any]:
        """The job's ``job_info``, as the job's own ``job_info`` property gives it.

        Raises:
            BackendError: If an archive cannot be downloaded or read.

        """
        return self._info.presented()

    @property
    def transpiler_info(self) -> dict[str, Any] | None:
        """The transpiler info sent with the job."""
        return self._mapping("transpiler_info")

    @property
    def simulator_info(self) -> dict[str, Any] | None:
        """The simulator info sent with the job."""
        return self._mapping("simulator_info")

    @property
    def mitigation_info(self) -> dict[str, Any] | None:
        """The mitigation info sent with the job."""
        return self._mapping("mitigation_info")

    @property
    def transpile_result(self) -> Any:
        """``job_info``'s transpile result (transpiled program, stats, qubit mapping)."""
        return self.job_info.get("transpile_result")

    @property
    def message(self) -> str | None:
        """``job_info``'s message: why the job failed, for instance."""
        message = self._info.entry("message")
        return None if message is None else str(message)

    @property
    def execution_time(self) -> float | None:
        """The execution time in seconds.

        Raises:
            BackendError: If the server's ``execution_time`` is not a number.

        """
        return self.record.number("execution_time", float)

    @property
    def submitted_at(self) -> datetime | None:
        """When the job was submitted."""
        return self.record.time("submitted_at")

    @property
    def ready_at(self) -> datetime | None:
        """When the job became ready to run."""
        return self.record.time("ready_at")

    @property
    def running_at(self) -> datetime | None:
        """When the job started running."""
        return self.record.time("running_at")

    @property
    def ended_at(self) -> datetime | None:
        """When the job ended."""
        return self.record.time("ended_at")

    @property
    def sampling(self) -> Mapping[str, Any] | None:
        """The ``sampling`` part of the result (bit-string keyed counts), if there is one."""
        return self._result_part(SAMPLING)

    @property
    def estimation(self) -> Mapping[str, Any] | None:
        """The ``estimation`` part of the result (``exp_value``, ``stds``), if there is one."""
        return self._result_part(ESTIMATION)

    def is_sampling(self) -> bool:
        """Whether the job is a ``sampling`` job."""
        return self.job_type == SAMPLING

    def is_estimation(self) -> bool:
        """Whether the job is an ``estimation`` job."""
        return self.job_type == ESTIMATION

    def is_multi_manual(self) -> bool:
        """Whether the job is a ``multi_manual`` job."""
        return self.job_type == MULTI_MANUAL

    def is_sse(self) -> bool:
        """Whether the job is an ``sse`` job."""
        return self.job_type == SSE

    def _result_part(self, kind: str) -> Mapping[str, Any] | None:
        result = self._info.entry("result")
        part = result.get(kind) if isinstance(result, Mapping) else None
        return part if isinstance(part, Mapping) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self.job_id!r})"


class OqtopusSamplingJobResult(OqtopusJobResult):
    """The ended state of a ``sampling`` job."""


class OqtopusMultiManualJobResult(OqtopusSamplingJobResult):
    """The ended state of a ``multi_manual`` job."""


class OqtopusEstimationJobResult(OqtopusJobResult):
    """The ended state of an ``estimation`` job."""

    @property
    def exp_value(self) -> float | None:
        """The estimated expectation value, if there is one."""
        return _number((self.estimation or {}).get("exp_value"))

    @property
    def stds(self) -> float | None:
        """The standard deviation of the estimate, if there is one."""
        return _number((self.estimation or {}).get("stds"))


class OqtopusSseJobResult(OqtopusJobResult):
    """The ended state of an ``sse`` job."""


_BY_JOB_TYPE: dict[str, type[OqtopusJobResult]] = {
    SAMPLING: OqtopusSamplingJobResult,
    MULTI_MANUAL: OqtopusMultiManualJobResult,
    ESTIMATION: OqtopusEstimationJobResult,
    SSE: OqtopusSseJobResult,
}


def _number(value: object) -> float | None:
    return float(value) if is_number(value) else None


def job_result_of(record: JobRecord, info: JobInfo) -> OqtopusJobResult:
    """The result object of the record's job type."""
    return _BY_JOB_TYPE.get(record.text("job_type"), OqtopusJobResult)(record, info)
