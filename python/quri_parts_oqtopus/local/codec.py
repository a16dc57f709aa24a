"""Every ZIP the server reads or writes, through the native core, in helper processes.

The archives are read and written by the package's one implementation (``_core``, through
the :mod:`quri_parts_oqtopus.upload` seam), the client's. The server process itself never
loads the native module, as it never loads the simulator: it hands each archive to a small
pool of helper processes (:class:`Codec`), so that a crash costs a helper, not the server.
The simulator workers, already processes of their own, call the same functions directly.

The functions below run in the process that calls them; the :class:`Codec` methods run them
in a helper and wait (blocking: call them off the event loop).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn, TypeVar

from .children import end_with_parent
from .inputs import InputLimits, checked_input

__all__ = [
    "ArchiveError",
    "Codec",
    "CodecError",
    "archive_path",
    "check_archive",
    "dumps_strict",
    "ensure_archive",
    "loads_strict",
    "log_archive",
    "payload_path",
    "read_input_archive",
    "stage_input_archive",
    "staged",
    "write_payload_files",
]

_T = TypeVar("_T")
_STAGED = ".staged"
# A stored archive is read whole to check it: the native reader's own bound (no ZIP64).
_STORED_LIMIT = (1 << 32) - 1


class ArchiveError(ValueError):
    """An archive that is refused or unreadable; the message says why."""


class CodecError(RuntimeError):
    """The helper process could not do its work (it died); the message says how."""


def payload_path(job_dir: Path, name: str) -> Path:
    """Where a job's payload is kept as JSON."""
    return job_dir / f"{name}.json"


def archive_path(job_dir: Path, name: str) -> Path:
    """Where a job's payload is kept as the ZIP its download URL serves."""
    return job_dir / f"{name}.zip"


def staged(path: Path) -> Path:
    """Where a worker leaves a payload file for the server to commit."""
    return path.with_name(path.name + _STAGED)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(data: bytes | str) -> Any:
    """JSON as RFC 8259 defines it: the ``NaN`` and ``Infinity`` Python's parser takes are
    a ``ValueError``, so that nothing read can make an answer that is not JSON."""
    return json.loads(data, parse_constant=_refuse_constant)


def dumps_strict(value: object) -> bytes:
    """``value`` as JSON text (UTF-8); a NaN or infinite float is a ``ValueError``."""
    return json.dumps(value, allow_nan=False).encode("utf-8")


# -- the work (in a helper or a simulator worker) ------------------------------------------
def read_input_archive(data: bytes, max_json_bytes: int) -> dict[str, Any]:
    """The JSON object inside an uploaded ZIP that must hold exactly one ``.json`` file.

    Raises:
        ArchiveError: The bytes are not a ZIP, hold zero or several files, name a path,
            expand beyond ``max_json_bytes``, or do not hold a UTF-8 JSON object.

    """
    from quri_parts_oqtopus.formats.upload import (  # noqa: PLC0415 - the native seam: helpers only
        ArchiveTooLargeError,
        read_archive_entry,
    )

    try:
        name, raw = read_archive_entry(data, max_size=max_json_bytes)
    except ArchiveTooLargeError:
        raise ArchiveError(f"the ZIP member expands beyond {max_json_bytes} bytes") from None
    except ValueError as e:
        if "exactly one file" in str(e):
            raise ArchiveError(f"the upload {str(e).removeprefix('archive ')}") from None
        raise ArchiveError(f"the upload is not a readable ZIP archive: {e}") from None
    _check_member_name(name)
    try:
        value = loads_strict(raw.decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError, JSONDecodeError, a NaN or an Infinity
        raise ArchiveError(f"the file in the ZIP is not valid UTF-8 JSON: {e}") from None
    except RecursionError:
        raise ArchiveError("the JSON in the ZIP is nested too deeply") from None
    if not isinstance(value, dict):
        raise ArchiveError(f"the JSON in the ZIP must be an object, got {type(value).__name__}")
    return value


def stage_input_archive(data: bytes, directory: Path, limits: InputLimits) -> None:
    """Read an uploaded input ZIP, check it (``inputs.checked_input``) and write what is kept
    of it into ``directory`` as the job's ``input`` payload files, for the store to commit.

    Raises:
        ArchiveError: As ``read_input_archive``.
        InputError: Naming the field and the limit the document does not keep to.

    """
    value = read_input_archive(data, limits.max_json_bytes)
    write_payload_files(directory, "input", checked_input(value, limits))


def _check_member_name(name: str) -> None:
    # Names are never extracted to disk, but a name with directories or `..` is a
    # sign of a crafted archive; refusing it keeps the upload format unambiguous.
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or len(path.parts) != 1 or name in {".", ".."}:
        raise ArchiveError(f"ZIP member name {name!r} must be a plain file name")
    if not name.endswith(".json"):
        raise ArchiveError(f"ZIP member {name!r} is not a .json file")


def write_payload_files(job_dir: Path, name: str, value: object, *, stage: bool = False) -> None:
    """``<name>.json`` and the ``<name>.zip`` holding it, written atomically in ``job_dir``.

    Simulator workers ``stage`` their files (the server commits them with the job's
    status), so large results never pass through the server's memory. The ZIP is written
    first: wherever the JSON file exists, its archive does too.
    """
    from quri_parts_oqtopus.formats.upload import write_archive_file  # noqa: PLC0415

    job_dir.mkdir(parents=True, exist_ok=True)
    data = dumps_strict(value)  # a NaN would make every answer holding it a 500
    json_path, zip_path = payload_path(job_dir, name), archive_path(job_dir, name)
    if stage:
        json_target, zip_target = staged(json_path), staged(zip_path)
    else:
        json_target = json_path.with_name(f"{json_path.name}.{uuid.uuid4().hex}.partial")
        zip_target = zip_path.with_name(f"{zip_path.name}.{uuid.uuid4().hex}.partial")
    zip_target.write_bytes(write_archive_file(json_path.name, data))
    json_target.write_bytes(data)
    if not stage:
        zip_target.replace(zip_path)
        json_target.replace(json_path)


def ensure_archive(job_dir: Path, name: str) -> Path:
    """The payload's ZIP, made from its JSON file if an older server left none."""
    from quri_parts_oqtopus.formats.upload import write_archive_file  # noqa: PLC0415

    archive = archive_path(job_dir, name)
    if not archive.is_file():
        source = payload_path(job_dir, name)
        partial = archive.with_name(f"{archive.name}.{uuid.uuid4().hex}.partial")
        partial.write_bytes(write_archive_file(source.name, source.read_bytes()))
        partial.replace(archive)
    return archive


def check_archive(path: Path) -> int:
    """Read a stored archive whole (CRC included); the size of its file.

    Raises:
        ArchiveError: If it is not an intact ZIP of one file (truncated, overwritten).
        OSError: If it cannot be read.

    """
    from quri_parts_oqtopus.formats.upload import read_archive_entry  # noqa: PLC0415

    try:
        _name, content = read_archive_entry(path.read_bytes(), max_size=_STORED_LIMIT)
    except ValueError as e:
        raise ArchiveError(f"{path.name} is not a readable ZIP archive: {e}") from None
    return len(content)


def log_archive(log: Path, entry_name: str) -> bytes:
    """A ZIP holding the log file ``log`` as ``entry_name``."""
    return entry_archive(log.read_bytes(), entry_name)


def entry_archive(data: bytes, entry_name: str) -> bytes:
    """A ZIP holding ``data`` as its one entry, ``entry_name``."""
    from quri_parts_oqtopus.formats.upload import write_archive_file  # noqa: PLC0415

    return write_archive_file(entry_name, data)


def _ready() -> None:
    """Loads the native seam, so that a helper is warm before its first archive."""
    import quri_parts_oqtopus.formats.upload  # noqa: F401, PLC0415


def _helper_started(server_pid: int) -> None:
    # A server killed without stopping its helpers (SIGKILL) must not leave them behind.
    end_with_parent(server_pid, lambda: os._exit(0))


# -- the helper processes ------------------------------------------------------------------
class Codec:
    """A small pool of helper processes doing the server's archive work.

    A helper that dies (its pool is then broken) is replaced by a fresh pool at the next
    call; the call that saw it die fails with :class:`CodecError`.
    """

    def __init__(self, processes: int = 2) -> None:
        self._processes = processes
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the helpers now (each loads the native module before the first request)."""
        pool = self._executor()
        for _ in range(self._processes):
            pool.submit(_ready)

    def stop(self) -> None:
        """End the helpers; work not started is dropped."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def stage_input(self, data: bytes, directory: Path, limits: InputLimits) -> None:
        """:func:`stage_input_archive` in a helper: the inflated document never comes here."""
        self._run(stage_input_archive, data, directory, limits)

    def write_payload(self, job_dir: Path, name: str, value: object) -> None:
        """:func:`write_payload_files` in a helper."""
        self._run(write_payload_files, job_dir, name, value)

    def ensure_archive(self, job_dir: Path, name: str) -> Path:
        """:func:`ensure_archive` in a helper."""
        return self._run(ensure_archive, job_dir, name)

    def check_archive(self, path: Path) -> int:
        """:func:`check_archive` in a helper."""
        return self._run(check_archive, path)

    def log_archive(self, log: Path, entry_name: str) -> bytes:
        """:func:`log_archive` in a helper."""
        return self._run(log_archive, log, entry_name)

    def entry_archive(self, data: bytes, entry_name: str) -> bytes:
        """:func:`entry_archive` in a helper."""
        return self._run(entry_archive, data, entry_name)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The server is threaded: never fork it.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self._processes,
                    mp_context=context,
                    initializer=_helper_started,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        pool = self._executor()
        try:
            return pool.submit(work, *args).result()
        except BrokenProcessPool as e:
            with self._lock:
                if self._pool is pool:
                    self._pool = None  # the next call starts fresh helpers
            raise CodecError(f"the archive helper process died: {e}") from e
