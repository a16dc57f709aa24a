"""``backend/job_result.py``: what ``wait_for_completion`` returns has one property per field
of the contract's ``Job``, each reading its own field; its other properties are entries of
``job_info`` or parts of the result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from quri_parts_oqtopus._contract import (
    JOB_FIELDS,
    JOB_INFO_FIELDS,
    RESULT_FIELDS,
    EstimationPayload,
    Job,
    fields_of,
)
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.backend.job_info import JobInfo
from quri_parts_oqtopus.backend.job_result import (
    OqtopusEstimationJobResult,
    OqtopusJobResult,
    job_result_of,
)
from quri_parts_oqtopus.backend.record import JobRecord

from ..contract_samples import properties, sample, shown

CLIENT = OqtopusHttpClient(OqtopusConfig("http://127.0.0.1:9", "token"))


def _result_of(raw: Mapping[str, Any]) -> OqtopusJobResult:
    record = JobRecord(raw)
    return job_result_of(record, JobInfo(record.info("job_info"), record.job_id, CLIENT))


def test_every_job_field_has_a_property_and_the_others_are_job_info_or_result_parts() -> None:
    own = properties(OqtopusJobResult)
    assert set(JOB_FIELDS) <= own, set(JOB_FIELDS) - own
    assert own - set(JOB_FIELDS) <= set(JOB_INFO_FIELDS) | set(RESULT_FIELDS)
    assert properties(OqtopusEstimationJobResult) <= set(fields_of(EstimationPayload))


@pytest.mark.parametrize("field", [name for name in JOB_FIELDS if name != "job_info"])
def test_each_result_property_reads_its_own_field(field: str) -> None:
    raw = sample(Job)
    assert getattr(_result_of(raw), field) == shown(Job, field, raw[field])
