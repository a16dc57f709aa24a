"""The job-input archive: a ZIP holding one JSON document, uploaded and downloaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import orjson
from quri_parts.circuit import ImmutableQuantumCircuit
from quri_parts.core.operator import Operator

from quri_parts_oqtopus import _core
from quri_parts_oqtopus.formats.sweep import ParameterSweep

__all__ = [
    "DEFAULT_MAX_INFLATED_BYTES",
    "ArchiveTooLargeError",
    "JobInput",
    "build_circuits_archive",
    "build_job_archive",
    "build_programs_archive",
    "prepare_estimation_input",
    "prepare_job_input",
    "prepare_job_inputs",
    "prepare_programs_input",
    "prepare_sse_input",
    "read_archive_entry",
    "read_job_archive",
    "read_program_archive",
    "read_transpile_result_archive",
    "write_archive_file",
]

#: Largest archive entry, once inflated, that a reader accepts unless told otherwise. Far
#: above any real job document, far below what a few hundred kilobytes of deflate can claim.
DEFAULT_MAX_INFLATED_BYTES = 512 << 20

#: Raised (a ``ValueError``) for an entry above the limit: refused before inflating anything.
ArchiveTooLargeError = _core.ArchiveTooLargeError

#: What a job set or ``sample()`` accepts as programs.
Programs = Sequence[ImmutableQuantumCircuit | str] | ParameterSweep


def _entry_name(archive_name: str) -> str:
    return f"{PurePosixPath(archive_name).stem}.json"


class JobInput:
    """A job's upload document (``{"program": [...]}``, or ``{"sse_program": ...}``),
    already deflated: the one form every job kind's input takes.

    Made before the job is registered, so that a circuit that cannot be written fails
    before anything is sent; :meth:`archive` frames it once the server has named the file,
    :meth:`document` hands it over without a ZIP (an SSE container's driver takes that).
    """

    __slots__ = ("_deflated",)

    def __init__(self, deflated: _core.JobInput) -> None:
        self._deflated = deflated

    def archive(self, archive_name: str) -> bytes:
        """ZIP bytes holding the document as ``<stem of archive_name>.json``."""
        return self._deflated.archive(_entry_name(archive_name))

    def document(self) -> bytes:
        """The document's compact JSON bytes, exactly as the archive holds them."""
        return self._deflated.document()

    @property
    def deflated_size(self) -> int:
        """Bytes of the deflated document."""
        return self._deflated.deflated_size

    @property
    def program_digests(self) -> list[str]:
        """The SHA-256 (64 hex digits) of each program's OpenQASM 3 text, in order.

        Taken while the text was printed, so it costs no second printing; a job set's
        journal records them to recognise its programs at a resume.
        """
        return self._deflated.program_digests


def prepare_job_input(
    circuits: Iterable[ImmutableQuantumCircuit] | ParameterSweep,
    operator: Operator | None = None,
) -> JobInput:
    """The upload document of one job of ``circuits``: QASM, JSON and deflate in one pass.

    Equal in content to ``{"program": convert_to_qasm_strs(circuits)}`` (plus
    ``"operator": encode_operator(operator)`` when given).

    Raises:
        ValueError, NotImplementedError, AssertionError, IndexError: As
            :func:`quri_parts_oqtopus.qasm.convert_to_qasm_str` for a refused gate.
        ValueError: If ``operator`` cannot be encoded.

    """
    if isinstance(circuits, ParameterSweep):
        native = _core.sweep_input(circuits.circuit, circuits.parameter_sets)
        if operator is None:
            return JobInput(native)
        circuits = list(circuits)
    return JobInput(_core.circuits_input(circuits, operator))


def prepare_job_inputs(programs: Programs) -> list[JobInput]:
    """One upload document per program (a circuit or an OpenQASM 3 text), in order.

    Circuits are read in one pass and deflated on all cores.

    Raises:
        ValueError, NotImplementedError, AssertionError, IndexError: As
            :func:`quri_parts_oqtopus.qasm.convert_to_qasm_str` for a refused gate.

    """
    if isinstance(programs, ParameterSweep):
        return [JobInput(n) for n in _core.sweep_inputs(programs.circuit, programs.parameter_sets)]
    items = list(programs)
    made = iter(_core.circuit_inputs([p for p in items if not isinstance(p, str)]))
    return [
        JobInput(_core.programs_input([p]) if isinstance(p, str) else next(made)) for p in items
    ]


def prepare_programs_input(programs: Sequence[ImmutableQuantumCircuit | str]) -> JobInput:
    """The upload document of one ``multi_manual`` job of circuits and OpenQASM 3 texts.

    Raises:
        ValueError, NotImplementedError, AssertionError, IndexError: As
            :func:`quri_parts_oqtopus.qasm.convert_to_qasm_str` for a refused gate.

    """
    items = list(programs)
    if not any(isinstance(p, str) for p in items):
        return JobInput(_core.circuits_input(items, None))
    circuits = [p for p in items if not isinstance(p, str)]
    printed = iter(_core.circuits_to_qasm(circuits) if circuits else [])
    return JobInput(
        _core.programs_input([p if isinstance(p, str) else next(printed) for p in items], None)
    )


def prepare_estimation_input(program: str, operator: Operator) -> JobInput:
    """The upload document of an estimation: ``{"program": [program], "operator": [...]}``.

    The operator is read once, in Rust, as :func:`quri_parts_oqtopus.operator.encode_operator`
    reads it; its coefficients are written as Python's ``repr`` writes floats.

    Raises:
        ValueError: If the operator has no term, or a coefficient has an imaginary part
            beyond 1e-9 or is not finite (as ``encode_operator``).

    """
    return JobInput(_core.programs_input([program], operator))


def prepare_sse_input(source: str) -> JobInput:
    """The upload document of an SSE job: ``{"sse_program": source}``, deflated in Rust."""
    return JobInput(_core.sse_input(source))


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
    return JobInput(_core.programs_input(list(programs), operator)).archive(archive_name)


def build_circuits_archive(
    archive_name: str,
    circuits: Iterable[ImmutableQuantumCircuit] | ParameterSweep,
    operator: Operator | None = None,
) -> bytes:
    """The upload archive straight from circuits: :func:`prepare_job_input`, then its ZIP.

    Raises:
        ValueError, NotImplementedError, AssertionError, IndexError: As
            :func:`quri_parts_oqtopus.qasm.convert_to_qasm_str` for a refused gate.
        ValueError: If ``operator`` cannot be encoded.

    """
    return prepare_job_input(circuits, operator).archive(archive_name)


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


def read_program_archive(
    data: bytes, *, max_size: int = DEFAULT_MAX_INFLATED_BYTES
) -> str | dict[str, Any] | None:
    """The program inside a one-file archive: OpenQASM text, as the OQTOPUS engine writes it.

    The text may also be a JSON string (older servers); JSON ``null`` is None, and a JSON
    object is returned as it is (as the reference client returns it).

    Raises:
        ArchiveTooLargeError: If the file holds more than ``max_size`` bytes once inflated.
        ValueError: If ``data`` is not a one-file ZIP, or its file is neither UTF-8 text nor
            such JSON.

    """
    name, payload = read_archive_entry(data, max_size=max_size)
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _text_of(name, payload)
    if value is None or isinstance(value, (str, dict)):
        return value
    raise ValueError(f"archive entry {name!r} holds a JSON {_json_kind(value)}, not a program")


def read_transpile_result_archive(
    data: bytes, *, max_size: int = DEFAULT_MAX_INFLATED_BYTES
) -> Any:
    """The transpile result inside a one-file archive: its JSON document, or, for an
    archive holding the transpiled program itself (OpenQASM text),
    ``{"transpiled_program": text}``.

    Raises:
        ArchiveTooLargeError: If the file holds more than ``max_size`` bytes once inflated.
        ValueError: If ``data`` is not a one-file ZIP, or its file is neither JSON nor an
            OpenQASM program.

    """
    name, payload = read_archive_entry(data, max_size=max_size)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        if payload.lstrip().startswith(b"OPENQASM"):
            return {"transpiled_program": _text_of(name, payload)}
        raise ValueError(f"archive entry {name!r} is neither JSON nor OpenQASM: {e}") from e


def _text_of(name: str, payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"archive entry {name!r} is neither JSON nor UTF-8 text: {e}") from e


def _json_kind(value: object) -> str:
    kinds = ((bool, "boolean"), ((int, float), "number"), (list, "array"), (dict, "object"))
    return next((kind for types, kind in kinds if isinstance(value, types)), "string")
