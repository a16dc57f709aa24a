"""Server-side execution (SSE): a Python program that runs its own jobs on OQTOPUS."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from quri_parts.backend import BackendError
from typing_extensions import deprecated

from quri_parts_oqtopus._contract import MAX_SSE_BASE64_BYTES, MITIGATION_DETAILS, SSE, SUCCEEDED
from quri_parts_oqtopus._http import is_url
from quri_parts_oqtopus._job_api import http_api
from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.errors import (
    INVALID_RESULT,
    SSE_FAILED,
    OqtopusDirectoryError,
    OqtopusInvalidArgumentError,
    OqtopusJobTypeError,
    reported_as,
)
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.backend.submission import JobSettings, submit_job
from quri_parts_oqtopus.formats.upload import prepare_sse_input
from quri_parts_oqtopus.transport import bounded, preview

__all__ = ["OqtopusSseBackend", "OqtopusSseJob"]

# The reference's deprecation notice, word for word: warning filters match on it.
_DOWNLOAD_LOG_DEPRECATION = (
    "OqtopusSseBackend().download_log is deprecated. "
    "Use `download_log` method of `OqtopusSseJob` instead. \n"
    "e.g. `OqtopusSseBackend().run_sse(...).download_log(...)` or "
    "`OqtopusJobBackendBase().retrieve_job(job_id=...).download_log(...)`"
)


class OqtopusSseJob(OqtopusJobBase):
    """A job for a SSE.

    Args:
        job: The job's record.
        client: The HTTP client of the backend (also accepted as ``job_api``).

    Raises:
        ValueError: If ``job`` or ``client`` is None.

    """

    JOB_TYPES = (SSE,)

    def result(
        self, timeout: float | None = None, wait: float = 10.0
    ) -> OqtopusSamplingResult | OqtopusEstimationResult:
        """Wait until the SSE job ends and return the result of the job its program ran.

        Args:
            timeout: The number of seconds to wait for the job; None waits for ever.
            wait: Time in seconds between queries.

        Returns:
            A sampling or an estimation result, by what the program ran.

        Raises:
            BackendError: On timeout (``"Timed out waiting for job <id> after <timeout>
                seconds. ..."``, also a ``TimeoutError``), or if the job failed or was
                cancelled, or its result is neither sampling nor estimation (``"The job
                result is not a valid type. ..."``, with the server's message).

        """
        self._ended_job(
            timeout, wait, f"Timed out waiting for job {self.job_id} after {timeout} seconds."
        )
        if self.status != SUCCEEDED:
            raise BackendError(f"{INVALID_RESULT} {self._end_report()}")
        payload = self._result_payload()
        try:
            details = payload.get(MITIGATION_DETAILS)
            if payload.get("sampling") is not None:
                return OqtopusSamplingResult.from_server(payload["sampling"], details)
            if isinstance(payload.get("estimation"), dict):
                return OqtopusEstimationResult(payload["estimation"], mitigation_details=details)
        except (TypeError, ValueError) as e:
            raise BackendError(
                f"{INVALID_RESULT} SSE job {self.job_id} has a malformed result: {bounded(str(e))}"
            ) from e
        raise BackendError(
            f"{INVALID_RESULT} SSE job {self.job_id} holds neither a sampling nor an "
            f"estimation result: {preview(payload)}"
        )

    def download_log(self, save_dir: str | None = None) -> str:
        """Download the log of this SSE job into ``save_dir`` (default: the current dir).

        The file is named ``sselog_<job_id>.log`` (or as the server names it) and an
        existing file is never overwritten.

        Returns:
            The path of the saved log.

        Raises:
            ValueError: If ``save_dir`` does not exist or is not a directory, or if the
                file already exists.
            BackendError: If the log cannot be downloaded (``"To perform sse on OQTOPUS
                Cloud is failed. ..."``).

        """
        directory = _log_directory(save_dir)
        with reported_as(SSE_FAILED):
            self.refresh()
        log_url = self._job.info("job_info").get("sse_log")
        operation = f"download SSE log of job {self.job_id}"
        if is_url(log_url):
            target = directory / f"sselog_{self.job_id}.log"
            _refuse_existing(target)
            with reported_as(SSE_FAILED):
                data = http_api(self._client, operation).download(log_url, operation=operation)
        else:
            with reported_as(SSE_FAILED):
                data, file_name = http_api(self._client, operation).get_legacy_sselog(self.job_id)
            target = directory / Path(file_name).name
            _refuse_existing(target)
        with target.open("xb") as f:  # "x": never overwrite a file that appeared meanwhile
            f.write(data)
        return str(target)


class OqtopusSseBackend(OqtopusJobBackendBase):
    """A backend for SSE jobs.

    Args:
        config: A :class:`OqtopusConfig` for job execution (see
            :class:`OqtopusSamplingBackend` for how it is found when None).

    """

    def __init__(self, config: OqtopusConfig | None = None) -> None:
        super().__init__(config)
        self._last_job: OqtopusSseJob | None = None

    def run_sse(
        self,
        file_path: str,
        device_id: str,
        name: str,
        description: str | None = None,
        *,
        tags: Sequence[str] | None = None,
    ) -> OqtopusSseJob:
        """Upload a Python program and run it on OQTOPUS Cloud as an SSE job.

        Args:
            file_path: The path to the ``.py`` program file to upload.
            device_id: The identifier of the device where the job is executed.
            name: The name of the job.
            description: The description of the job.
            tags: Tags of the job (see :mod:`~quri_parts_oqtopus.backend.tags`): kept in
                its description's last line, found again with ``list_jobs(tags=...)``.

        Returns:
            The submitted SSE job.

        Raises:
            ValueError: If ``file_path`` is not set, does not exist, is not a file, is not
                a ``.py`` file, is not UTF-8 text, or its base64 size reaches 10 MiB, or a
                tag is refused.
            BackendError: If an error is returned from OQTOPUS Cloud (``"To perform sse
                on OQTOPUS Cloud is failed. ..."``).

        """
        source = _read_program(file_path)
        settings = JobSettings.checked(
            device_id, 1, name=name, description=description, tags=tags, summary=SSE_FAILED
        )
        job_input = prepare_sse_input(source)
        with reported_as(SSE_FAILED):
            record = submit_job(self._client, SSE, job_input, settings)
            self._last_job = OqtopusSseJob(record, self._client)
        return self._last_job

    @deprecated(_DOWNLOAD_LOG_DEPRECATION)
    def download_log(self, job_id: str | None = None, save_dir: str | None = None) -> str:
        """Download the log of an SSE job (``job_id``, else the last one run or read here).

        Deprecated, as in the reference (a ``DeprecationWarning``): use
        ``OqtopusSseJob.download_log``.

        Returns:
            The path of the saved log.

        Raises:
            ValueError: If no ``job_id`` is given and no job was run here, if ``save_dir``
                does not exist or is not a directory, or if the file already exists.
            TypeError: If the job is not an SSE job (also a ``BackendError``).
            BackendError: If the job cannot be read or the log cannot be downloaded.

        """
        if job_id is None:
            if self._last_job is None:
                raise ValueError("job_id is not set and no job has been executed.")
            return self._last_job.download_log(save_dir=save_dir)
        _log_directory(save_dir)  # bad input fails before anything is sent
        job: OqtopusJobBase = self.retrieve_job(job_id)
        if not isinstance(job, OqtopusSseJob):
            raise OqtopusJobTypeError(
                f"The job with id {job_id} is not an SSE job. It is a {job.job_type!r} job."
            )
        self._last_job = job
        return job.download_log(save_dir=save_dir)


# The largest program whose base64 text stays under MAX_SSE_BASE64_BYTES.
_MAX_PROGRAM_BYTES: Final = 3 * ((MAX_SSE_BASE64_BYTES + 3) // 4 - 1)


def _read_program(file_path: str) -> str:
    if file_path is None:
        raise ValueError("file_path is not set.")
    path = Path(file_path)
    if not path.exists():
        raise ValueError(f"The file does not exist: {file_path}")
    if path.suffix != ".py":
        raise ValueError(f"The file is not python file: {file_path}")
    if path.is_dir():
        # OSError's own text, as the reference's failing read gives it.
        raise OqtopusDirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), file_path)
    if not path.is_file():
        raise ValueError(f"The path is not a regular file: {file_path}")
    # Read no more than fits: a file of gigabytes is refused by its size, not held in memory.
    with path.open("rb") as f:
        data = f.read(_MAX_PROGRAM_BYTES + 1)
        size = max(len(data), os.fstat(f.fileno()).st_size)
    encoded_size = 4 * ((size + 2) // 3)
    if encoded_size >= MAX_SSE_BASE64_BYTES:
        raise ValueError(
            f"size of the base64 encoded file is larger than {MAX_SSE_BASE64_BYTES}: "
            f"{encoded_size} bytes ({file_path})"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # The reference fails reading it inside its submission: a BackendError too.
        raise OqtopusInvalidArgumentError(
            f"{SSE_FAILED} The file is not UTF-8 text: {file_path} ({e})"
        ) from e


def _log_directory(save_dir: str | None) -> Path:
    if save_dir is None:
        return Path.cwd()
    directory = Path(save_dir)
    if not directory.exists():
        raise ValueError(f"The destination path does not exist: {save_dir}")
    if not directory.is_dir():
        raise ValueError(f"The destination path is not a directory: {save_dir}")
    return directory


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise ValueError(f"The file already exists: {target}")
