"""A job set's journal: what was submitted, in a file that outlives the client.

The file is JSON lines: a header (the server's URL, the job settings, the packing policy
and the SHA-256 of each program's OpenQASM 3 text), then one line per step of a job's
submission: ``registered`` (the job exists on the server), ``submitted``, or ``failed``
(its submission was refused; the job, if one was made, was deleted or never submitted).

A :class:`Journal` holds an exclusive lock on its file from :meth:`Journal.create` or
:meth:`Journal.open` until :meth:`Journal.close`, until it is garbage-collected, or until
its process ends, so that two clients never submit for one journal at once. Lines are
appended with one ``write`` each to a descriptor kept open, so a killed process loses
nothing it recorded. A last line cut short (by a crash or a full disk) is ignored when the
file is read and cut off before the next line is appended, so no line is ever glued to a
torn one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from quri_parts_oqtopus._contract import FAILED, REGISTERED, SUBMITTED
from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.backend.submission import JobSettings
from quri_parts_oqtopus.batch.packing import PackedJob, PackingPolicy, Slot

if sys.platform != "win32":
    import fcntl

__all__ = [
    "EVENTS",
    "HAS_FILE_LOCKS",
    "Journal",
    "JournalEvent",
    "JournalHeader",
    "JournalWriteError",
    "fingerprint_mismatch",
    "latest_events",
    "parse_journal",
]

logger = logging.getLogger("quri_parts_oqtopus")

KIND = "quri-parts-oqtopus job set"
#: Written now: 2 (with program fingerprints). Version 1 journals (without) are still read.
VERSION = 2
#: A line records a submission's step by the status the job then has.
EVENTS = (REGISTERED, SUBMITTED, FAILED)
#: Whether this platform has the ``flock`` locks a journal needs (Windows has not).
HAS_FILE_LOCKS = sys.platform != "win32"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Every event line starts so; inside a JSON string the quotes would be escaped.
_EVENT_START = b'{"job_id":'


@dataclass(frozen=True)
class JournalHeader:
    """What a journal says of its job set as a whole (its first line)."""

    url: str
    size: int
    settings: JobSettings
    packing: PackingPolicy | None
    #: The SHA-256 (hex) of each program's OpenQASM 3 text; None in version 1 journals.
    fingerprints: tuple[str, ...] | None

    def as_json(self) -> dict[str, Any]:
        """The header line's object."""
        line: dict[str, Any] = {"kind": KIND, "version": VERSION, "url": self.url}
        line["size"] = self.size
        if self.packing is not None:
            line["packing"] = self.packing.as_dict()
        line["settings"] = self.settings.as_dict()
        if self.fingerprints is not None:
            line["program_sha256"] = list(self.fingerprints)
        return line


@dataclass(frozen=True)
class JournalEvent:
    """One step of one job's submission, as a line of the journal recorded it."""

    line: int
    event: str
    job_id: str | None
    indices: tuple[int, ...]
    pack: PackedJob | None  # None: a job of one program
    error: str = ""


class JournalWriteError(OSError):
    """A journal line could not be written (a full disk, a file size limit, an I/O error)."""

    def __init__(self, path: Path, cause: OSError | str) -> None:
        super().__init__(f"journal {str(path)!r} could not be written: {cause}")


class Journal:
    """An open, locked journal file, appended to line by line (thread-safe)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self._closer = weakref.finalize(self, os.close, fd)  # the lock goes with the fd
        self._lock = threading.Lock()
        self._size = 0  # bytes known to end with a whole line
        self._write_error: JournalWriteError | None = None

    @classmethod
    def create(cls, path: Path, header: JournalHeader) -> Journal:
        """A new journal holding ``header``, locked.

        Raises:
            ValueError: If the file exists already, or this platform has no file locks.
            OSError: If the file cannot be made, or the header not written (then the file
                is removed again).

        """
        _refuse_without_locks(path)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            raise ValueError(f"journal already exists: {str(path)!r} (resume it instead)") from None
        journal = cls(path, fd)
        try:
            journal._take_lock()
            journal._append(orjson.dumps(header.as_json()) + b"\n")
        except BaseException:
            journal.close()
            path.unlink(missing_ok=True)
            raise
        return journal

    @classmethod
    def open(cls, path: Path) -> tuple[Journal, JournalHeader, list[JournalEvent]]:
        """The journal at ``path``, locked, with its header and its events in order.

        Raises:
            ValueError: If the file cannot be read, another job set holds it, this platform
                has no file locks, or it is not a well-formed journal (the message names
                the file, the line and the field).

        """
        _refuse_without_locks(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except OSError as error:
            raise ValueError(f"cannot read journal {str(path)!r}: {error}") from error
        journal = cls(path, fd)
        try:
            journal._take_lock()
            data = journal._read_all()
            whole = data[: data.rfind(b"\n") + 1]  # a last line without its newline is torn
            header, events = parse_journal(path, whole)
        except BaseException:
            journal.close()
            raise
        journal._size = len(whole)
        return journal, header, events

    @property
    def write_error(self) -> JournalWriteError | None:
        """The first line that could not be written since :meth:`clear_write_error`."""
        return self._write_error

    def clear_write_error(self) -> None:
        """Forget the last write error (before submitting again: the disk may have room)."""
        self._write_error = None

    def record(
        self,
        event: str,
        job_id: str | None,
        indices: Sequence[int],
        pack: PackedJob | None,
        error: str = "",
    ) -> None:
        """Append one event of the job of ``indices`` (``pack``: its packing).

        Raises:
            JournalWriteError: If the line cannot be written; the file is left ending
                with the lines before it.

        """
        line: dict[str, Any] = {"job_id": job_id, "event": event}
        if pack is None:
            line["index"] = indices[0]
        else:
            line["slots"] = [[s.index, s.lead, s.bits] for s in pack.slots]
        if error:
            line["error"] = error
        self._append(orjson.dumps(line) + b"\n")

    def close(self) -> None:
        """Close the file, which releases the lock; later records raise. Idempotent."""
        with self._lock:
            self._fd = None
            self._closer()

    # -- internals -------------------------------------------------------------------------
    def _take_lock(self) -> None:
        assert self._fd is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(
                f"journal {str(self.path)!r} is in use: another process (or another job set "
                "of this one) holds it; it is released when that job set is closed"
            ) from None

    def _read_all(self) -> bytes:
        assert self._fd is not None
        chunks, offset = [], 0
        while chunk := os.pread(self._fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    def _append(self, data: bytes) -> None:
        with self._lock:
            if self._fd is None:
                raise JournalWriteError(self.path, "the journal is closed")
            try:
                if os.fstat(self._fd).st_size != self._size:
                    os.ftruncate(self._fd, self._size)  # a torn line: cut before appending
                _write_all(self._fd, data)
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
                failure = JournalWriteError(self.path, error)
                if self._write_error is None:
                    self._write_error = failure
                    logger.warning("%s", failure)
                raise failure from error
            self._size += len(data)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` (a write may be short on a nearly full disk)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError("write made no progress")
        view = view[written:]


def _refuse_without_locks(path: Path) -> None:
    if not HAS_FILE_LOCKS:
        raise ValueError(
            f"journal {str(path)!r}: journals need POSIX file locks (flock), which this "
            f"platform ({sys.platform}) lacks; submit without a journal"
        )


# -- reading -----------------------------------------------------------------------------------
def parse_journal(path: Path, data: bytes) -> tuple[JournalHeader, list[JournalEvent]]:
    """The header and the events of a journal's whole lines (``data`` ends with a newline).

    Raises:
        ValueError: If a line is not JSON, or a field is missing or wrong; the message
            names the file, the line and the field.

    """
    lines = data.split(b"\n")[:-1]
    if not lines:
        raise ValueError(f"not a job set journal: {str(path)!r} (it is empty)")
    header = _read_header(_Line(path, 1, _json(path, 1, lines[0], salvage=False)))
    events = [
        _read_event(_Line(path, number, _json(path, number, line, salvage=True)), header.size)
        for number, line in enumerate(lines[1:], start=2)
    ]
    return header, events


def _json(path: Path, number: int, line: bytes, *, salvage: bool) -> Any:
    """The line's JSON value; an event line glued to a torn one (as earlier clients
    wrote after a crash or a full disk) is read from where the event starts."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        start = line.rfind(_EVENT_START)
        if salvage and start > 0:
            with contextlib.suppress(orjson.JSONDecodeError):
                return orjson.loads(line[start:])
    if number == 1:
        raise ValueError(f"not a job set journal: {str(path)!r} (line 1 is not JSON)")
    raise ValueError(f"journal {str(path)!r}, line {number}, is not JSON")


class _Line:
    """One line's JSON object, read field by field; every refusal names file, line, field."""

    def __init__(self, path: Path, number: int, value: Any) -> None:
        self.path, self.number = path, number
        if not isinstance(value, dict) and number == 1:
            raise ValueError(f"not a job set journal: {str(path)!r} (line 1 is not a JSON object)")
        if not isinstance(value, dict):
            raise ValueError(
                f"journal {str(path)!r}, line {number}, is not a JSON object: {_short(value)}"
            )
        self.fields: dict[str, Any] = value

    def error(self, name: str, why: str) -> ValueError:
        found = f"found {_short(self.fields[name])}" if name in self.fields else "missing"
        return ValueError(
            f"journal {str(self.path)!r}, line {self.number}, field {name!r}: {why} ({found})"
        )

    def get(self, name: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = self.fields.get(name)
        if isinstance(value, bool) or not isinstance(value, kind):  # JSON true is no int here
            raise self.error(name, f"should be {what}")
        return value

    def index(self, name: str, value: Any, size: int) -> int:
        if not is_int(value) or not 0 <= value < size:
            raise self.error(name, f"a program index should be an integer from 0 to {size - 1}")
        return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _read_header(line: _Line) -> JournalHeader:
    if line.fields.get("kind") != KIND:
        raise ValueError(f"not a job set journal: {str(line.path)!r} (line 1, field 'kind')")
    version = line.get("version", int, "1 or 2")
    if version not in (1, 2):
        raise line.error("version", "should be 1 or 2 (a newer client wrote it?)")
    url = line.get("url", str, "the server's URL")
    size = line.get("size", int, "the number of programs")
    if size < 1:
        raise line.error("size", "should be at least 1")
    settings = _read_settings(line)
    packing = None
    if line.fields.get("packing") is not None:
        raw = line.get("packing", dict, "a packing policy object")
        try:
            packing = PackingPolicy.from_dict(raw)
        except (TypeError, ValueError) as error:
            raise line.error("packing", str(error)) from None
    fingerprints = None
    if version >= 2:
        fingerprints = _read_fingerprints(line, size)
    return JournalHeader(url, size, settings, packing, fingerprints)


def _read_settings(line: _Line) -> JobSettings:
    raw: dict[str, Any] = line.get("settings", dict, "the job settings object")
    for name in ("name", "description"):
        if not isinstance(raw.get(name), (str, type(None))):
            raise line.error("settings", f"{name} should be a string or null")
    try:
        return JobSettings.checked(
            raw["device_id"],
            raw["shots"],
            name=raw.get("name"),
            description=raw.get("description"),
            transpiler_info=raw.get("transpiler_info"),
            simulator_info=raw.get("simulator_info"),
            mitigation_info=raw.get("mitigation_info"),
        )
    except KeyError as missing:
        raise line.error("settings", f"{missing} is missing") from None
    except (TypeError, ValueError) as error:
        raise line.error("settings", str(error)) from None


def _read_fingerprints(line: _Line, size: int) -> tuple[str, ...]:
    what = f"a list of {size} SHA-256 hex digests"
    digests = line.get("program_sha256", list, what)
    if len(digests) != size or not all(
        isinstance(d, str) and _SHA256_HEX.fullmatch(d) for d in digests
    ):
        raise line.error("program_sha256", f"should be {what}")
    return tuple(digests)


def _read_event(line: _Line, size: int) -> JournalEvent:
    event = line.fields.get("event")
    if event not in EVENTS:
        raise line.error("event", f"should be one of {', '.join(EVENTS)}")
    if event == FAILED:
        job_id = line.get("job_id", (str, type(None)), "a job id or null")
    else:
        job_id = line.get("job_id", str, "a job id")
    if job_id == "":
        raise line.error("job_id", "should not be empty")
    error = line.get("error", str, "a message") if "error" in line.fields else ""
    if ("index" in line.fields) == ("slots" in line.fields):
        raise line.error("index", "a line names either 'index' or 'slots'")
    if "index" in line.fields:
        index = line.index("index", line.fields["index"], size)
        return JournalEvent(line.number, event, job_id, (index,), None, error)
    pack = _read_slots(line, size)
    return JournalEvent(line.number, event, job_id, pack.indices, pack, error)


def _read_slots(line: _Line, size: int) -> PackedJob:
    what = "a non-empty list of [index, idle qubits, bits]"
    raw = line.get("slots", list, what)
    slots = []
    for entry in raw:
        if (
            not isinstance(entry, list)
            or len(entry) != 3
            or not all(is_int(n) and n >= 0 for n in entry)
        ):
            raise line.error("slots", f"should be {what} (non-negative integers)")
        slots.append(Slot(line.index("slots", entry[0], size), entry[1], entry[2]))
    indices = [slot.index for slot in slots]
    if not slots or len(set(indices)) != len(indices):
        raise line.error("slots", f"should be {what}, each program once")
    return PackedJob(tuple(slots))


def latest_events(events: Sequence[JournalEvent]) -> dict[int, JournalEvent]:
    """The last event of each program that has one.

    A ``failed`` line without a job id that follows the ``registered`` line of the same
    programs (as earlier clients wrote it) is about that job: it takes its id, so that
    the job is looked up (it may have run, if only the submit's answer was lost).
    """
    latest: dict[int, JournalEvent] = {}
    for event in events:
        paired = _with_registered_job(event, latest.get(event.indices[0]))
        for index in event.indices:
            latest[index] = paired
    return latest


def _with_registered_job(event: JournalEvent, before: JournalEvent | None) -> JournalEvent:
    if event.event != FAILED or event.job_id is not None or before is None:
        return event
    if before.event != REGISTERED or before.indices != event.indices:
        return event
    return dataclasses.replace(event, job_id=before.job_id)


def fingerprint_mismatch(recorded: Sequence[str], given: Sequence[str]) -> str | None:
    """Why the programs given are not the ones recorded (the first that differs), or None."""
    for index, (was, now) in enumerate(zip(recorded, given, strict=True)):
        if was != now:
            return (
                f"program {index} is not the one the journal recorded: its OpenQASM 3 text "
                f"differs (SHA-256 {now[:12]}..., recorded {was[:12]}...)"
            )
    return None
