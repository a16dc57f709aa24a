"""``backend/submission.py``: ``JobSettings`` holds the fields of the contract's
``SubmitBody`` (but the job type, which each job kind adds), and its body is one."""

from __future__ import annotations

import dataclasses
import inspect

from quri_parts_oqtopus._contract import SUBMIT_FIELDS, SubmitBody
from quri_parts_oqtopus.backend.submission import JobSettings

#: What JobSettings.checked takes besides the settings: the start of its error messages.
#: Parameters of ``checked`` that are not fields: message text, and tags (folded into the
#: description).
NOT_SETTINGS = {"summary", "tags"}


def test_the_settings_are_the_submit_fields_but_the_job_type_in_the_contracts_order() -> None:
    settings = [field.name for field in dataclasses.fields(JobSettings)]
    assert settings == [name for name in SUBMIT_FIELDS if name != "job_type"]


def test_checked_takes_each_setting_by_its_name() -> None:
    parameters = inspect.signature(JobSettings.checked).parameters
    settings = [field.name for field in dataclasses.fields(JobSettings)]
    assert [name for name in parameters if name not in NOT_SETTINGS] == settings


def test_the_body_holds_every_setting_given_and_the_required_fields() -> None:
    info = {"seed": 1}
    settings = JobSettings.checked("qulacs", 10, name="n", description="d", simulator_info=info)
    body = settings.body("sampling")
    assert set(body) == set(SUBMIT_FIELDS)
    assert SubmitBody.__required_keys__ <= set(JobSettings.checked("qulacs", 10).body("sampling"))
