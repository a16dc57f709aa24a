# ruff: noqa: PLC0414 -- `X as X` re-exports (for mypy) the names outside __all__ that
# were importable from this path before the move: they stay importable.
"""The job-input archive: a ZIP holding one JSON document, uploaded and downloaded.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.upload`.
"""

from quri_parts_oqtopus.formats.upload import (
    DEFAULT_MAX_INFLATED_BYTES,
    ArchiveTooLargeError,
    JobInput,
    build_circuits_archive,
    build_job_archive,
    build_programs_archive,
    prepare_estimation_input,
    prepare_job_input,
    prepare_job_inputs,
    prepare_programs_input,
    prepare_sse_input,
    read_archive_entry,
    read_job_archive,
    read_program_archive,
    read_transpile_result_archive,
    write_archive_file,
)
from quri_parts_oqtopus.formats.upload import (
    Programs as Programs,
)

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
