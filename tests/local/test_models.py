"""``local/models.py``: the request models validate the contract's bodies, field for field,
and ``/openapi.json`` documents the contract's objects as the answers."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from pydantic import BaseModel

from quri_parts_oqtopus._contract import (
    DEVICE_FIELDS,
    JOB_INPUT_FIELDS,
    SUBMIT_FIELDS,
    Device,
    Job,
    JobInfo,
    JobListQuery,
    OperatorTerm,
    RegisteredJob,
    SubmitBody,
    fields_of,
)
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.models import (
    DeviceChange,
    JobInput,
    LegacySubmitRequest,
    OperatorItem,
    SubmitJobRequest,
)

#: What the admin may set on a device that is not a field of the contract's device (the
#: local server's simulated delays).
ADMIN_ONLY = ("execution_delay", "transpile_delay", "cancel_delay")
#: Device fields the admin cannot set: the id names the device, the server counts the jobs.
NOT_SETTABLE = ("device_id", "n_pending_jobs")


def _fields(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def test_the_submit_request_is_the_contracts_submit_body() -> None:
    assert _fields(SubmitJobRequest) == list(SUBMIT_FIELDS)
    assert _fields(LegacySubmitRequest) == [*SUBMIT_FIELDS, "job_info"]
    fields = SubmitJobRequest.model_fields
    assert {name for name, field in fields.items() if field.is_required()} == (
        SubmitBody.__required_keys__
    )


def test_the_input_models_are_the_contracts_job_input_and_operator_term() -> None:
    assert _fields(JobInput) == list(JOB_INPUT_FIELDS)
    assert _fields(OperatorItem) == list(fields_of(OperatorTerm))


def test_the_admin_sets_the_contracts_device_fields_and_its_own_delays() -> None:
    settable = [name for name in DEVICE_FIELDS if name not in NOT_SETTABLE]
    assert sorted(_fields(DeviceChange)) == sorted([*settable, *ADMIN_ONLY])


@pytest.fixture(scope="module")
def document(server: LocalServer) -> dict[str, Any]:
    answer = requests.get(f"{server.url}/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    published: dict[str, Any] = answer.json()
    return published


@pytest.mark.parametrize("shape", [Job, JobInfo, Device, RegisteredJob], ids=lambda s: s.__name__)
def test_the_published_answers_are_the_contracts_objects(
    document: dict[str, Any], shape: type
) -> None:
    schema = document["components"]["schemas"][shape.__name__]
    assert list(schema["properties"]) == list(fields_of(shape))
    assert set(schema.get("required", [])) == shape.__required_keys__  # type: ignore[attr-defined]


def test_the_published_job_list_query_is_the_contracts(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/jobs"]["get"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "query"] == list(fields_of(JobListQuery))
