"""``backend/job.py``: a job object has one property per field of the contract's ``Job``,
each reading its own field, and ``to_json`` writes the reference's fields in its order."""

from __future__ import annotations

import json

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import JOB_FIELDS, REFERENCE_JOB_FIELDS, Job
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBase
from quri_parts_oqtopus.backend.record import JobRecord

from ..contract_samples import properties, sample, shown

#: Properties of a job that are not fields of the service's job object, with why.
NOT_FIELDS = {
    "record": "the internal API's record (job sets, the polling loop)",
    "tags": "read from the last line of the description (backend/tags.py)",
}
#: Nothing is ever sent: the client is only what a job object is made with.
CLIENT = OqtopusHttpClient(OqtopusConfig("http://127.0.0.1:9", "token"))


def test_every_job_field_has_a_property_and_every_property_is_a_field() -> None:
    assert properties(OqtopusJobBase) - NOT_FIELDS.keys() == set(JOB_FIELDS)


@pytest.mark.parametrize("field", [name for name in JOB_FIELDS if name != "job_info"])
def test_each_job_property_reads_its_own_field(field: str) -> None:
    # job_info is its own class's business (backend/job_info.py): archives, presentation.
    raw = sample(Job)
    assert getattr(OqtopusJobBase(raw, CLIENT), field) == shown(Job, field, raw[field])


def test_to_json_writes_the_reference_fields_in_its_order_and_nothing_else() -> None:
    raw = {**sample(Job), "a_field_of_a_newer_service": 1}
    written = json.loads(OqtopusJobBase(raw, CLIENT).to_json())
    assert list(written) == list(REFERENCE_JOB_FIELDS)
    assert set(REFERENCE_JOB_FIELDS) <= set(JOB_FIELDS)


def _ended(job_type: str, result: object) -> dict[str, object]:
    raw = sample(Job)
    return {**raw, "job_type": job_type, "status": "succeeded", "job_info": {"result": result}}


@pytest.mark.parametrize("job_type", ["sampling", "multi_manual", "estimation", "sse"])
def test_result_of_a_job_without_result_raises_the_references_invalid_type_text(
    job_type: str,
) -> None:
    job = OqtopusJobBase.for_record(JobRecord(_ended(job_type, None)), CLIENT)
    with pytest.raises(BackendError) as info:
        job.result()
    assert str(info.value).startswith("The job result is not a valid type. "), info.value
    assert job.job_id in str(info.value)
    # The reference's sampling and estimation jobs index job_info["result"]: KeyError.
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize(
    ("job_type", "sampling"),
    [
        ("sampling", {"counts": {"2x": 3}}),
        ("multi_manual", {"counts": {"01": 3}, "divided_counts": {"0": {"ab": 3}}}),
    ],
)
def test_counts_key_that_is_not_a_bit_string_is_a_value_error(
    job_type: str, sampling: dict[str, object]
) -> None:
    job = OqtopusJobBase.for_record(JobRecord(_ended(job_type, {"sampling": sampling})), CLIENT)
    with pytest.raises(ValueError, match="not a bit string") as info:
        job.result()
    assert isinstance(info.value, BackendError)
    assert str(info.value).startswith("The job result is not a valid type. "), info.value


def test_job_final_status_is_the_references_list() -> None:
    assert JOB_FINAL_STATUS == ["succeeded", "failed", "cancelled"]
