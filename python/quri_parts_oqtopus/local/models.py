"""Request bodies of the user API and the admin switch, validated strictly.

The contract's TypedDicts define the bodies' fields (``SubmitBody``, ``JobInput``,
``OperatorTerm``); these pydantic models add what a TypedDict of the client-side contract
cannot carry: strict types, limits, finite numbers, unknown keys refused.
``tests/local/test_models.py`` holds their fields to the contract's. The answers are the
contract's TypedDicts themselves (``/openapi.json`` documents them).
"""

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

from quri_parts_oqtopus._contract import MAX_SHOTS, DeviceStatus, DeviceType, JobType

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
    cancel_delay: Annotated[float, Field(ge=0)] | None = None


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
