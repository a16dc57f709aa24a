"""``local/sse_runtime/sse_driver.py`` runs where this package may be absent, so it spells
the contract's names itself: they must be the contract's."""

from __future__ import annotations

from quri_parts_oqtopus._contract import (
    FINAL_STATUSES,
    JOB_INPUT_FIELDS,
    SUBMIT_FIELDS,
)
from quri_parts_oqtopus.local import views
from quri_parts_oqtopus.local.sse_runtime import sse_driver


def test_the_drivers_submit_fields_are_the_contracts() -> None:
    # Its own tuples: the driver sends the infos as {} when not given, the others as they are.
    driver = (*sse_driver._SUBMIT_FIELDS, *sse_driver._INFO_FIELDS)
    assert sorted(driver) == sorted(SUBMIT_FIELDS)


def test_the_drivers_input_fields_and_ended_statuses_are_the_contracts() -> None:
    assert sse_driver._INPUT_FIELDS == JOB_INPUT_FIELDS
    assert set(sse_driver._ENDED) == set(FINAL_STATUSES)


def test_the_drivers_inline_header_is_the_servers() -> None:
    assert sse_driver._INLINE_HEADER == views.INLINE_JOB_INFO_HEADER
