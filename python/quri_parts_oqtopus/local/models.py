"""Request bodies of the user API and the admin switch, as the contract defines them."""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from quri_parts_oqtopus._contract import MAX_SHOTS, DeviceStatus, DeviceType, JobStatus, JobType

_T = TypeVar("_T")


def _finite(value: object, where: str = "") -> None:
    """``ValueError`` naming the place of the first NaN or infinity in a JSON value.

    Python's JSON parser reads them, but they are not JSON: stored, they would make every
    answer holding them (the job list too) fail to be written.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where or 'the value'} is {value}, not a finite number")
    if isinstance(value, dict):
        items: list[tuple[object, object]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, item in items:
        _finite(item, f"{where}.{key}" if where else str(key))


def _finite_json(value: _T) -> _T:
    """``value`` if it holds no NaN or infinity (a pydantic ``AfterValidator``)."""
    _finite(value)
    return value


class OperatorItem(BaseModel):
    """One Pauli term; ``pauli`` as ``"X0 X1"``, ``"X 0 X 1"`` or ``"I"``."""

    # Inputs are stored and served back: a key nobody reads would only take up room.
    model_config = ConfigDict(extra="forbid")
    pauli: StrictStr
    coeff: Annotated[StrictFloat | StrictInt | None, AfterValidator(_finite_json)] = None


class JobInput(BaseModel):
    """The uploaded JSON (``job_info`` in the legacy one-shot submission)."""

    model_config = ConfigDict(extra="forbid")
    program: list[StrictStr] | None = None
    operator: list[OperatorItem] | None = None
    sse_program: StrictStr | None = None


#: An info object of a submit: stored and echoed back, so only what JSON can carry.
FiniteObject = Annotated[dict[str, Any], AfterValidator(_finite_json)]


class SubmitJobRequest(BaseModel):
    """Body of ``POST /jobs/{job_id}/submit``."""

    model_config = ConfigDict(extra="ignore")
    device_id: StrictStr
    job_type: JobType
    shots: Annotated[StrictInt, Field(ge=1, le=MAX_SHOTS)]
    name: StrictStr | None = None
    description: StrictStr | None = None
    transpiler_info: FiniteObject | None = None
    simulator_info: FiniteObject | None = None
    mitigation_info: FiniteObject | None = None


class LegacySubmitRequest(SubmitJobRequest):
    """Body of the one-shot ``POST /jobs`` of older clients: the submit fields plus the input."""

    job_info: JobInput


class DeviceChange(BaseModel):
    """Fields ``PUT /_admin/devices/{device_id}`` may set (missing ones keep their value)."""

    model_config = ConfigDict(extra="forbid")
    status: DeviceStatus | None = None
    device_type: DeviceType | None = None
    available_at: StrictStr | None = None
    n_qubits: Annotated[StrictInt, Field(ge=1)] | None = None
    basis_gates: list[StrictStr] | None = None
    supported_instructions: list[StrictStr] | None = None
    device_info: StrictStr | None = None
    calibrated_at: StrictStr | None = None
    description: StrictStr | None = None
    execution_delay: Annotated[float, Field(ge=0)] | None = None
    transpile_delay: Annotated[float, Field(ge=0)] | None = None


class FaultRequest(BaseModel):
    """Body of ``POST /_admin/faults``; see :class:`~.faults.FaultRule`."""

    model_config = ConfigDict(extra="forbid")
    path: StrictStr
    method: StrictStr | None = None
    status: Annotated[StrictInt, Field(ge=100, le=599)] | None = None
    body: StrictStr = ""
    content_type: StrictStr = "application/json"
    delay: Annotated[float, Field(ge=0, le=600)] = 0.0
    times: Annotated[StrictInt, Field(ge=-1)] = 1


class FaultRules(BaseModel):
    """``POST /_admin/faults`` may also carry several rules at once."""

    model_config = ConfigDict(extra="forbid")
    rules: list[FaultRequest]


# -- response shapes: documentation of /openapi.json only (routes answer plain dicts) --------


class Message(BaseModel):
    """Every error, and the answer of the action routes."""

    message: str


class DeviceInfo(BaseModel):
    device_id: str
    device_type: DeviceType
    status: DeviceStatus
    available_at: str | None = None
    n_pending_jobs: int
    n_qubits: int | None = None
    basis_gates: list[str]
    supported_instructions: list[str]
    device_info: str | None = Field(None, description="JSON text with calibration data")
    calibrated_at: str | None = None
    description: str


class JobInfo(BaseModel):
    """Each of the first five: a presigned ZIP URL, an inline value, or null."""

    input: Any
    combined_program: Any = None
    result: Any = None
    transpile_result: Any = None
    sse_log: str | None = None
    message: str | None = None


class Job(BaseModel):
    job_id: str
    name: str | None = None
    description: str | None = None
    job_type: JobType | None = None
    status: JobStatus
    device_id: str | None = None
    shots: int | None = None
    job_info: JobInfo | None = None
    transpiler_info: dict[str, Any] | None = None
    simulator_info: dict[str, Any] | None = None
    mitigation_info: dict[str, Any] | None = None
    execution_time: float | None = None
    submitted_at: str | None = None
    ready_at: str | None = None
    running_at: str | None = None
    ended_at: str | None = None


class PresignedUpload(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="send back verbatim, with a `file` part")


class RegisteredJob(BaseModel):
    """``POST /jobs`` without a body; the legacy one-shot answers only ``job_id``."""

    job_id: str
    presigned_url: PresignedUpload | None = None


class JobStatusResponse(BaseModel):
    job_id: str
    status: JobStatus


class SselogResponse(BaseModel):
    file: str = Field(description="base64 of the log archive (a ZIP)")
    file_name: str
