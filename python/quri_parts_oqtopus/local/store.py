"""Persistent state: devices and jobs in SQLite, job payloads as JSON files beside it."""

from __future__ import annotations

import fcntl
import json
import secrets
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, get_args, get_origin, get_type_hints

from quri_parts_oqtopus._contract import ARCHIVED_INFO_FIELDS, PENDING_STATUSES, REGISTERED

from . import codec

# Payload files of a job: the `job_info` entries served as ZIP URLs (or inline).
PAYLOAD_NAMES = ARCHIVED_INFO_FIELDS

# The jobs table: a column per JobRow field, and the store's own (STORAGE_COLUMNS). A field
# added to JobRow later becomes a column when a database is opened (_ADDED_COLUMNS).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL,
    job_type TEXT,
    name TEXT,
    description TEXT,
    device_id TEXT,
    shots INTEGER,
    transpiler_info TEXT,
    simulator_info TEXT,
    mitigation_info TEXT,
    message TEXT,
    execution_time REAL,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    ready_at TEXT,
    running_at TEXT,
    ended_at TEXT,
    parent_job_id TEXT,
    input_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_INDEXES = "CREATE INDEX IF NOT EXISTS jobs_parent ON jobs (parent_job_id);"
DATABASE_NAME = "oqtopus-local.sqlite3"


class QuotaExceeded(Exception):  # noqa: N818 - reads as what happened
    """Registering one more job would pass the configured number of registered jobs."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} jobs are registered and not submitted")
        self.limit = limit


class InputQuotaExceeded(Exception):  # noqa: N818 - reads as what happened
    """Keeping one more input would pass what its owner may keep of job inputs."""

    def __init__(self, kept: int, size: int, quota: int) -> None:
        super().__init__(f"{kept} bytes kept, {size} more would pass {quota}")
        self.kept = kept
        self.size = size
        self.quota = quota


class NotRegisteredError(Exception):
    """The job is gone (``status`` None) or no longer registered."""

    def __init__(self, job_id: str, status: str | None) -> None:
        super().__init__(f"job {job_id} is {status or 'gone'}")
        self.status = status


class UnreadablePayloadError(ValueError):
    """A stored payload file that cannot be read back (damaged on disk)."""

    def __init__(self, job_id: str, name: str, reason: str) -> None:
        super().__init__(f"the stored {name} of job {job_id} is unreadable: {reason}")
        self.job_id = job_id
        self.name = name


def new_job_id() -> str:
    """A uuid7 (RFC 9562), as the service makes job ids: unix milliseconds, then random bits.

    Ids of jobs registered later sort later (within a millisecond, in any order).
    """
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = value & ~(0xF << 76) | (0x7 << 76)  # version 7
    value = value & ~(0x3 << 62) | (0x2 << 62)  # the RFC 4122 variant
    return str(uuid.UUID(int=value))


def utc_now() -> str:
    """The current time as ISO-8601 UTC with a ``Z`` (microseconds keep the order exact)."""
    return format_time(datetime.now(timezone.utc))


def format_time(moment: datetime) -> str:
    """``moment`` as the server writes every timestamp."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class JobRow:
    """One job as stored; ``None`` for what is not known yet.

    A field for each of the contract's job fields but ``job_info``, whose entries are files
    (``PAYLOAD_NAMES``) but for ``message``; then the server's own (``SERVER_FIELDS``).
    ``tests/local/test_store.py`` holds them so.
    """

    job_id: str
    status: str
    created_at: str
    job_type: str | None = None
    name: str | None = None
    description: str | None = None
    device_id: str | None = None
    shots: int | None = None
    transpiler_info: dict[str, Any] | None = None
    simulator_info: dict[str, Any] | None = None
    mitigation_info: dict[str, Any] | None = None
    message: str | None = None
    execution_time: float | None = None
    submitted_at: str | None = None
    ready_at: str | None = None
    running_at: str | None = None
    ended_at: str | None = None
    parent_job_id: str | None = None


#: Fields of JobRow that the service's job object does not have: when and by whom (an SSE
#: job) the job was registered.
SERVER_FIELDS = ("created_at", "parent_job_id")
#: Columns of the jobs table that JobRow does not show: the order of registration, and the
#: bytes the job's input takes (its owner's quota).
STORAGE_COLUMNS = ("seq", "input_bytes")

_JOB_COLUMNS = tuple(f.name for f in fields(JobRow))
_JOB_COLUMN_TYPES = get_type_hints(JobRow)


def _holds(hint: object, kind: type) -> bool:
    """Whether a field's type is ``kind`` (``dict[str, Any]``), or a union with it."""
    return any((get_origin(arg) or arg) is kind for arg in (hint, *get_args(hint)))


def _sql_type(hint: object) -> str:
    for kind, sql_type in ((int, "INTEGER"), (float, "REAL")):
        if _holds(hint, kind):
            return sql_type
    return "TEXT"


# Objects are stored as their JSON text.
_JSON_COLUMNS = tuple(name for name in _JOB_COLUMNS if _holds(_JOB_COLUMN_TYPES[name], dict))
# Columns made when a database without them is opened (an older one): the store's own added
# since the first release, and every JobRow field, so that a new field needs no schema change.
_ADDED_COLUMNS = {
    "input_bytes": "INTEGER NOT NULL DEFAULT 0",
    **{name: _sql_type(_JOB_COLUMN_TYPES[name]) for name in _JOB_COLUMNS},
}


def _row_to_job(row: sqlite3.Row) -> JobRow:
    values = {name: row[name] for name in _JOB_COLUMNS}
    for name in _JSON_COLUMNS:
        if values[name] is not None:
            # An older server stored the NaN of a submit as it came: shown as null.
            values[name] = json.loads(values[name], parse_constant=lambda _: None)
    return JobRow(**values)


def _encode_column(name: str, value: object) -> object:
    if name in _JSON_COLUMNS and value is not None:
        return codec.dumps_strict(value).decode("utf-8")
    return value


@dataclass(frozen=True)
class JobQuery:
    """Filters of ``GET /jobs``; times are already in the stored format."""

    status: str | None = None
    q: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    page: int = 1
    size: int = 10
    descending: bool = True
    parent_job_id: str | None = None  # only the jobs of this SSE job


def _lock_exclusively(path: Path) -> IO[bytes]:
    """Hold ``path`` locked while the server lives: one server per data directory.

    Raises:
        RuntimeError: If another server holds the directory.

    """
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        handle.close()
        raise RuntimeError(f"another server is using the data directory {path.parent}") from e
    return handle


def _check_database(database: Path, jobs_dir: Path) -> None:
    """Refuse a data directory whose job files outlived its database.

    Starting would silently show an empty server beside the jobs, and the next job ids
    would be stored next to files the database knows nothing of.

    Raises:
        RuntimeError: Naming the directory and what is wrong with the database.

    """
    if database.is_file() and database.stat().st_size > 0:
        return
    jobs = sum(1 for entry in jobs_dir.iterdir() if entry.is_dir()) if jobs_dir.is_dir() else 0
    if jobs == 0:
        return
    state = "is empty (0 bytes)" if database.is_file() else "is missing"
    raise RuntimeError(
        f"the database {database} {state} while {jobs} job directories exist in {jobs_dir};"
        " refusing to start: restore the database, or move the job directories away"
    )


class Store:
    """Thread-safe access to the database and the job files under ``data_dir``.

    The job files' archives are read and written by ``archives`` (helper processes).
    """

    def __init__(self, data_dir: Path, archives: codec.Codec | None = None) -> None:
        self.data_dir = data_dir
        # Reads and writes the archives, in helper processes (see codec.py).
        self.archives = archives if archives is not None else codec.Codec()
        self.jobs_dir = data_dir / "jobs"
        self._lock_file = _lock_exclusively(data_dir / "oqtopus-local.lock")
        database = data_dir / DATABASE_NAME
        try:
            _check_database(database, self.jobs_dir)
        except RuntimeError:
            self._lock_file.close()
            raise
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        # One connection shared by the request threads and the scheduler, serialised by a lock.
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            present = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
            self._db.executescript(_INDEXES)
        # What uploads left half staged when the server stopped.
        shutil.rmtree(self._staging_root, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._lock_file.close()
        self.archives.stop()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- secrets -------------------------------------------------------------------------

    def secret(self, name: str) -> str:
        """A random secret that is created once and survives restarts."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return str(row["value"])
            value = secrets.token_hex(32)
            db.execute("INSERT INTO secrets (name, value) VALUES (?, ?)", (name, value))
            return value

    # -- devices -------------------------------------------------------------------------

    def put_device(self, device: dict[str, Any], *, replace: bool) -> None:
        """Store ``device``; an existing one is kept unless ``replace``."""
        with self._transaction() as db:
            exists = db.execute(
                "SELECT 1 FROM devices WHERE device_id = ?", (device["device_id"],)
            ).fetchone()
            if exists and not replace:
                return
            if exists:
                db.execute(
                    "UPDATE devices SET body = ? WHERE device_id = ?",
                    (json.dumps(device), device["device_id"]),
                )
            else:
                seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM devices").fetchone()[0]
                db.execute(
                    "INSERT INTO devices (device_id, seq, body) VALUES (?, ?, ?)",
                    (device["device_id"], seq, json.dumps(device)),
                )

    def get_device(self, device_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM devices WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row["body"]))

    def list_devices(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM devices ORDER BY seq").fetchall()
        return [dict(json.loads(row["body"])) for row in rows]

    def update_device(self, device_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Merge ``changes`` into a device; ``None`` when it does not exist."""
        with self._transaction() as db:
            row = db.execute("SELECT body FROM devices WHERE device_id = ?", (device_id,))
            found = row.fetchone()
            if found is None:
                return None
            device = dict(json.loads(found["body"]))
            device.update(changes)
            db.execute(
                "UPDATE devices SET body = ? WHERE device_id = ?", (json.dumps(device), device_id)
            )
            return device

    def count_pending(self, device_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE device_id = ? AND status IN (?, ?)",
                (device_id, *PENDING_STATUSES),
            ).fetchone()
        return int(row[0])

    # -- jobs ----------------------------------------------------------------------------

    def register_job(self, parent_job_id: str | None = None, *, limit: int | None = None) -> str:
        """A new job in `registered`; ``parent_job_id`` is the SSE job registering it.

        Raises:
            QuotaExceeded: If ``limit`` jobs of the same owner (the user, or that SSE job)
                are registered already: one owner's flood never blocks another.

        """
        job_id = new_job_id()
        with self._transaction() as db:
            if limit is not None:
                waiting = db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE status = ? AND parent_job_id IS ?",
                    (REGISTERED, parent_job_id),
                )
                if int(waiting.fetchone()[0]) >= limit:
                    raise QuotaExceeded(limit)
            db.execute(
                "INSERT INTO jobs (job_id, status, created_at, parent_job_id) VALUES (?, ?, ?, ?)",
                (job_id, REGISTERED, utc_now(), parent_job_id),
            )
        self.job_dir(job_id).mkdir(parents=True, exist_ok=True)
        return job_id

    def get_job(self, job_id: str) -> JobRow | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else _row_to_job(row)

    def update_job(
        self, job_id: str, changes: dict[str, Any], *, only_from: Iterable[str] | None = None
    ) -> bool:
        """Apply ``changes`` if the job exists (and is in one of ``only_from``); True if applied."""
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [_encode_column(name, value) for name, value in changes.items()]
        sql = f"UPDATE jobs SET {assignments} WHERE job_id = ?"  # noqa: S608 - names are ours
        values.append(job_id)
        if only_from is not None:
            allowed = list(only_from)
            sql += f" AND status IN ({', '.join('?' * len(allowed))})"
            values.extend(allowed)
        with self._transaction() as db:
            return db.execute(sql, values).rowcount == 1

    def jobs_in(self, statuses: Iterable[str], limit: int | None = None) -> list[JobRow]:
        """Jobs in any of ``statuses``, oldest first."""
        wanted = list(statuses)
        sql = f"SELECT * FROM jobs WHERE status IN ({', '.join('?' * len(wanted))}) ORDER BY seq"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, wanted).fetchall()
        return [_row_to_job(row) for row in rows]

    def children_of(self, parent_job_id: str) -> list[JobRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE parent_job_id = ? ORDER BY seq", (parent_job_id,)
            ).fetchall()
        return [_row_to_job(row) for row in rows]

    def query_jobs(self, query: JobQuery) -> list[JobRow]:
        clauses: list[str] = []
        values: list[object] = []
        if query.status is not None:
            clauses.append("status = ?")
            values.append(query.status)
        if query.q:
            clauses.append(
                "(instr(job_id, ?) OR instr(COALESCE(name, ''), ?)"
                " OR instr(COALESCE(description, ''), ?))"
            )
            values.extend([query.q] * 3)
        # The specification's window is on submitted_at (the older router's on created_at):
        # a job not yet submitted is in no window.
        if query.start_time is not None:
            clauses.append("submitted_at >= ?")
            values.append(query.start_time)
        if query.end_time is not None:
            clauses.append("submitted_at <= ?")
            values.append(query.end_time)
        if query.parent_job_id is not None:
            clauses.append("parent_job_id = ?")
            values.append(query.parent_job_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if query.descending else "ASC"
        sql = f"SELECT * FROM jobs {where} ORDER BY seq {order} LIMIT ? OFFSET ?"  # noqa: S608
        values.extend([query.size, (query.page - 1) * query.size])
        with self._lock:
            rows = self._db.execute(sql, values).fetchall()
        return [_row_to_job(row) for row in rows]

    def delete_job(self, job_id: str, *, only_from: Iterable[str] | None = None) -> bool:
        """Delete the job and its files if it exists (and is in one of ``only_from``).

        One conditional statement: a job whose status changed since the caller read it
        (a racing submit) is left alone, and of two racing deletes only one deletes.
        True if this call deleted the job.
        """
        sql = "DELETE FROM jobs WHERE job_id = ?"
        values = [job_id]
        if only_from is not None:
            allowed = list(only_from)
            sql += f" AND status IN ({', '.join('?' * len(allowed))})"
            values.extend(allowed)
        with self._transaction() as db:
            deleted = db.execute(sql, values).rowcount == 1
        if deleted:
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        return deleted

    # -- job inputs ----------------------------------------------------------------------

    @property
    def _staging_root(self) -> Path:
        return self.data_dir / "staging"

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh directory beside the jobs (one file system) for a payload being checked;
        removed, with whatever is left in it, when the block ends."""
        directory = self._staging_root / uuid.uuid4().hex
        directory.mkdir(parents=True)
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def commit_input(self, job_id: str, staged: Path, quota: int) -> int:
        """Make the ``input`` payload files staged in ``staged`` the input of a registered job;
        the bytes they take.

        In one transaction with the checks, so that a racing delete or submit never sees
        half of it and the quota holds however many uploads race.

        Raises:
            NotRegisteredError: If the job is gone or no longer registered.
            InputQuotaExceeded: If its owner's other jobs keep so many input bytes that
                these would pass ``quota`` (the job's earlier input does not count).

        """
        files = [codec.archive_path(staged, "input"), codec.payload_path(staged, "input")]
        size = sum(path.stat().st_size for path in files)
        with self._transaction() as db:
            row = db.execute(
                "SELECT status, parent_job_id FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            if row is None or row["status"] != REGISTERED:
                raise NotRegisteredError(job_id, None if row is None else row["status"])
            kept = db.execute(
                "SELECT COALESCE(SUM(input_bytes), 0) FROM jobs"
                " WHERE parent_job_id IS ? AND job_id != ?",
                (row["parent_job_id"], job_id),
            ).fetchone()[0]
            if kept + size > quota:
                raise InputQuotaExceeded(int(kept), size, quota)
            db.execute("UPDATE jobs SET input_bytes = ? WHERE job_id = ?", (size, job_id))
            job_dir = self.job_dir(job_id)
            job_dir.mkdir(parents=True, exist_ok=True)
            for path in files:  # the ZIP first: wherever the JSON file is, its archive is too
                path.replace(job_dir / path.name)
        return size

    # -- job files -----------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        # job ids are server-made UUIDs; callers validate ids from URLs before using them.
        return self.jobs_dir / job_id

    def payload_path(self, job_id: str, name: str) -> Path:
        return codec.payload_path(self.job_dir(job_id), name)

    def sse_log_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "sse.log"

    def archive_path(self, job_id: str, name: str) -> Path:
        """The payload as the ZIP that its download URL serves."""
        return codec.archive_path(self.job_dir(job_id), name)

    def copy_payload(self, source_job_id: str, job_id: str, name: str) -> None:
        """Give ``job_id`` the payload ``name`` of ``source_job_id``: the same two files."""
        for path in (
            self.archive_path(source_job_id, name),
            self.payload_path(source_job_id, name),
        ):
            target = self.job_dir(job_id) / path.name
            partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
            shutil.copyfile(path, partial)
            partial.replace(target)

    def read_payload(self, job_id: str, name: str) -> Any:
        """The payload's JSON value, or ``None`` when the job has none.

        Raises:
            UnreadablePayloadError: If the file exists but does not hold readable JSON.

        """
        path = self.payload_path(job_id, name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise UnreadablePayloadError(job_id, name, str(e)) from e
        try:
            return codec.loads_strict(data)
        except (ValueError, RecursionError) as e:  # not JSON, or a NaN no answer can carry
            raise UnreadablePayloadError(job_id, name, f"{type(e).__name__}: {e}") from e

    def has_payload(self, job_id: str, name: str) -> bool:
        return self.payload_path(job_id, name).is_file()

    def ensure_archive(self, job_id: str, name: str) -> Path:
        """The payload's ZIP, made from its JSON file if an older server left none.

        Blocking work: call it off the event loop.
        """
        archive = self.archive_path(job_id, name)
        return (
            archive
            if archive.is_file()
            else self.archives.ensure_archive(self.job_dir(job_id), name)
        )

    def remove_payload(self, job_id: str, name: str) -> None:
        for path in (self.payload_path(job_id, name), self.archive_path(job_id, name)):
            path.unlink(missing_ok=True)
            codec.staged(path).unlink(missing_ok=True)

    def commit_staged(self, job_id: str, names: Iterable[str]) -> None:
        """Put the payloads a worker staged (``codec.write_payload_files``) in place."""
        for name in names:
            for path in (self.archive_path(job_id, name), self.payload_path(job_id, name)):
                codec.staged(path).replace(path)
