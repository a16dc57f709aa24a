"""Request bodies of the user API and the admin switch, as the contract defines them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

JobType = Literal["sampling", "multi_manual", "estimation", "sse"]
JobStatus = Literal[
    "registered", "submitted", "ready", "running", "succeeded", "failed", "cancelling", "cancelled"
]
MAX_SHOTS = 10_000_000


class OperatorItem(BaseModel):
    """One Pauli term; ``pauli`` as ``"X0 X1"``, ``"X 0 X 1"`` or ``"I"``."""

    model_config = ConfigDict(extra="ignore")
    pauli: StrictStr
    coeff: StrictFloat | StrictInt | None = None


class JobInput(BaseModel):
    """The uploaded JSON (``job_info`` in the legacy one-shot submission)."""

    model_config = ConfigDict(extra="ignore")
    program: list[StrictStr] | None = None
    operator: list[OperatorItem] | None = None
    sse_program: StrictStr | None = None


class SubmitJobRequest(BaseModel):
    """Body of ``POST /jobs/{job_id}/submit``."""

    model_config = ConfigDict(extra="ignore")
    device_id: StrictStr
    job_type: JobType
    shots: Annotated[StrictInt, Field(ge=1, le=MAX_SHOTS)]
    name: StrictStr | None = None
    description: StrictStr | None = None
    transpiler_info: dict[str, Any] | None = None
    simulator_info: dict[str, Any] | None = None
    mitigation_info: dict[str, Any] | None = None


class LegacySubmitRequest(SubmitJobRequest):
    """Body of the one-shot ``POST /jobs`` of older clients: the submit fields plus the input."""

    job_info: JobInput


class DeviceChange(BaseModel):
    """Fields ``PUT /_admin/devices/{device_id}`` may set (missing ones keep their value)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "unavailable"] | None = None
    device_type: Literal["QPU", "simulator"] | None = None
    available_at: StrictStr | None = None
    n_qubits: Annotated[StrictInt, Field(ge=1)] | None = None
    basis_gates: list[StrictStr] | None = None
    supported_instructions: list[StrictStr] | None = None
    device_info: StrictStr | None = None
    calibrated_at: StrictStr | None = None
    description: StrictStr | None = None
    execution_delay: Annotated[float, Field(ge=0)] | None = None


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
