"""``local/store.py``: a job row has a field per job field of the contract (and the server's
own, listed), the jobs table a column per row field, and every field is stored and read
back as it was given, in new and older databases alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from quri_parts_oqtopus._contract import JOB_FIELDS
from quri_parts_oqtopus.local.store import (
    DATABASE_NAME,
    SERVER_FIELDS,
    STORAGE_COLUMNS,
    JobRow,
    Store,
)

from ..contract_samples import sample

ROW_FIELDS = [field.name for field in fields(JobRow)]
#: What a row's ``status`` and ``job_id`` must stay for the store to find the job.
KEPT = ("job_id", "status", "created_at")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path)
    yield opened
    opened.close()


def _columns(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / DATABASE_NAME) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(jobs)")]


def test_the_row_has_the_contracts_job_fields_and_the_servers_own() -> None:
    # job_info is stored as files, but for its message: a column of its own.
    contract = {*JOB_FIELDS} - {"job_info"} | {"message"}
    assert set(ROW_FIELDS) == contract | set(SERVER_FIELDS)
    assert not contract & set(SERVER_FIELDS)


def test_the_jobs_table_has_a_column_per_row_field_and_the_storages_own(store: Store) -> None:
    assert sorted(_columns(store.data_dir)) == sorted([*ROW_FIELDS, *STORAGE_COLUMNS])


def test_every_row_field_is_stored_and_read_back(store: Store) -> None:
    job_id = store.register_job()
    written = {k: v for k, v in sample(JobRow).items() if k not in KEPT}
    assert store.update_job(job_id, written)
    read = store.get_job(job_id)
    assert read is not None
    assert {k: v for k, v in asdict(read).items() if k not in KEPT} == written


def test_a_database_without_a_row_fields_column_gains_it_when_opened(tmp_path: Path) -> None:
    # As a database made before that field was added to JobRow (nobody writes the schema).
    Store(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_NAME) as db:
        db.execute("ALTER TABLE jobs DROP COLUMN ended_at")
        db.execute("ALTER TABLE jobs DROP COLUMN input_bytes")
    assert "ended_at" not in _columns(tmp_path)
    with_column = Store(tmp_path)
    try:
        job_id = with_column.register_job()
        assert with_column.update_job(job_id, {"ended_at": "2024-01-02T03:04:05.000000Z"})
        read = with_column.get_job(job_id)
        assert read is not None
        assert read.ended_at == "2024-01-02T03:04:05.000000Z"
    finally:
        with_column.close()
    assert sorted(_columns(tmp_path)) == sorted([*ROW_FIELDS, *STORAGE_COLUMNS])
