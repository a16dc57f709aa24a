"""``local/views.py``: a job object holds the contract's job fields in its order, each the
stored row's field of that name, and ``job_info`` the contract's entries in theirs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from quri_parts_oqtopus._contract import JOB_FIELDS, JOB_INFO_FIELDS
from quri_parts_oqtopus.local import ServerSettings
from quri_parts_oqtopus.local.app import build_state
from quri_parts_oqtopus.local.state import ServerState
from quri_parts_oqtopus.local.store import JobRow
from quri_parts_oqtopus.local.views import job_object

from ..contract_samples import sample


@pytest.fixture
def offline_state(tmp_path: Path) -> Iterator[ServerState]:
    """The server's state without HTTP or workers."""
    state = build_state(ServerSettings(data_dir=tmp_path, token="t"))
    yield state
    state.store.close()


def test_a_job_object_is_the_contracts_fields_each_the_rows_field_of_its_name(
    offline_state: ServerState,
) -> None:
    store = offline_state.store
    job_id = store.register_job()
    given = {k: v for k, v in sample(JobRow).items() if k not in ("job_id", "created_at")}
    store.update_job(job_id, given)
    row = store.get_job(job_id)
    assert row is not None
    shown = job_object(offline_state, row, base="http://127.0.0.1:9")
    assert list(shown) == list(JOB_FIELDS)
    stored = asdict(row)
    assert {k: v for k, v in shown.items() if k != "job_info"} == {
        name: stored[name] for name in JOB_FIELDS if name != "job_info"
    }
    assert list(shown["job_info"]) == list(JOB_INFO_FIELDS)
    assert shown["job_info"]["message"] == row.message


def test_only_the_fields_asked_for_are_shown_in_the_contracts_order(
    offline_state: ServerState,
) -> None:
    row = offline_state.store.get_job(offline_state.store.register_job())
    assert row is not None
    shown = job_object(offline_state, row, ["status", "job_id"], base="http://127.0.0.1:9")
    assert list(shown) == ["job_id", "status"]
