"""The job-input archive: a ZIP holding one JSON document, uploaded and downloaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import orjson
from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.operator import Operator

from quri_parts_oqtopus import _core

__all__ = [
    "DEFAULT_MAX_INFLATED_BYTES",
    "ArchiveTooLargeError",
    "build_circuits_archive",
    "build_job_archive",
    "build_programs_archive",
    "read_archive_entry",
    "read_job_archive",
    "write_archive_file",
]

#: Largest archive entry, once inflated, that a reader accepts unless told otherwise. Far
#: above any real job document, far below what a few hundred kilobytes of deflate can claim.
DEFAULT_MAX_INFLATED_BYTES = 512 << 20

#: Raised (a ``ValueError``) for an entry above the limit: refused before inflating anything.
ArchiveTooLargeError = _core.ArchiveTooLargeError


def _entry_name(archive_name: str) -> str:
    return f"{PurePosixPath(archive_name).stem}.json"


def build_job_archive(archive_name: str, job_input: Mapping[str, Any]) -> bytes:
    """ZIP bytes holding ``job_input`` as JSON in ``<stem of archive_name>.json``.

    The JSON is compact (orjson); the entry is deflated on all cores in Rust.
    """
    return _core.write_archive(_entry_name(archive_name), orjson.dumps(job_input))


def build_programs_archive(
    archive_name: str, programs: Sequence[str], operator: Operator | None = None
) -> bytes:
    """The upload archive of ``{"program": programs}`` (plus ``"operator"``), built in Rust.

    Raises:
        ValueError: If ``operator`` is given and cannot be encoded (see
            :func:`quri_parts_oqtopus.operator.encode_operator`).

    """
    return _core.programs_archive(_entry_name(archive_name), list(programs), operator)


def build_circuits_archive(
    archive_name: str,
    circuits: Iterable[ImmutableQuantumCircuit],
    operator: Operator | None = None,
) -> bytes:
    """The upload archive straight from circuits: QASM, JSON and ZIP in one native pass.

    Equal in content to ``build_job_archive(archive_name, {"program": convert_to_qasm_strs(
    circuits)})`` (plus ``"operator": encode_operator(operator)`` when given).

    Raises:
        ValueError, NotImplementedError, AssertionError, IndexError: As
            :func:`quri_parts_oqtopus.qasm.convert_to_qasm_str` for a refused gate.
        ValueError: If ``operator`` cannot be encoded.

    """
    return _core.circuits_archive(_entry_name(archive_name), circuits, operator)


def write_archive_file(entry_name: str, content: bytes) -> bytes:
    """ZIP bytes holding ``content`` as the one deflated file ``entry_name`` (written in Rust).

    The archive carries no time of its own: the same content always gives the same bytes.
    """
    return _core.write_archive(entry_name, bytes(content))


def read_archive_entry(
    data: bytes, *, max_size: int = DEFAULT_MAX_INFLATED_BYTES
) -> tuple[str, bytes]:
    """The name and content of the one file inside a ZIP archive (inflated without the GIL).

    Raises:
        ArchiveTooLargeError: If the file holds more than ``max_size`` bytes once inflated
            (a ``ValueError``; nothing is inflated then).
        ValueError: If ``data`` is not a ZIP, does not hold exactly one file, or fails its
            CRC.

    """
    name, content = _core.read_archive(bytes(data), max_size)
    return name, content


def read_job_archive(data: bytes, *, max_size: int = DEFAULT_MAX_INFLATED_BYTES) -> Any:
    """The one JSON document inside a job archive (inflated in Rust without the GIL).

    Raises:
        ArchiveTooLargeError: If the file holds more than ``max_size`` bytes once inflated
            (a ``ValueError``; nothing is inflated then).
        ValueError: If ``data`` is not a ZIP, does not hold exactly one file, or the file
            is not JSON.

    """
    name, payload = read_archive_entry(data, max_size=max_size)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise ValueError(f"archive entry {name!r} is not JSON: {e}") from e
