"""Server-side execution (SSE): a Python program that runs its own jobs on OQTOPUS."""

from __future__ import annotations

from pathlib import Path

from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import is_url
from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase, OqtopusJobBase, job_settings
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.upload import build_job_archive

__all__ = ["OqtopusSseBackend", "OqtopusSseJob"]

#: The service refuses programs whose base64 text reaches this many bytes.
MAX_SSE_BASE64_BYTES = 10 * 1024 * 1024


class OqtopusSseJob(OqtopusJobBase):
    """A job for a SSE.

    Args:
        job: The job's record.
        client: The HTTP client of the backend.

    Raises:
        ValueError: If ``job`` or ``client`` is None.

    """

    JOB_TYPES = ("sse",)

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
            BackendError: On timeout, if the job failed or was cancelled (with the
                server's message), or if its result is neither sampling nor estimation.

        """
        self._ended_job(timeout, wait)
        payload = self._result_payload()
        try:
            if payload.get("sampling") is not None:
                return OqtopusSamplingResult.from_server(payload["sampling"])
            if payload.get("estimation") is not None:
                return OqtopusEstimationResult(payload)
        except (TypeError, ValueError) as e:
            raise BackendError(f"SSE job {self.job_id} has a malformed result: {e}") from e
        raise BackendError(
            f"SSE job {self.job_id}: the job result is not a valid type: {payload!r:.200}"
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
            BackendError: If the log cannot be downloaded.

        """
        directory = _log_directory(save_dir)
        self.refresh()
        log_url = self._job.info("job_info").get("sse_log")
        if is_url(log_url):
            target = directory / f"sselog_{self.job_id}.log"
            _refuse_existing(target)
            operation = f"download SSE log of job {self.job_id}"
            data = self._client.download(log_url, operation=operation)
        else:
            data, file_name = self._client.get_legacy_sselog(self.job_id)
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
    ) -> OqtopusSseJob:
        """Upload a Python program and run it on OQTOPUS Cloud as an SSE job.

        Args:
            file_path: The path to the ``.py`` program file to upload.
            device_id: The identifier of the device where the job is executed.
            name: The name of the job.
            description: The description of the job.

        Returns:
            The submitted SSE job.

        Raises:
            ValueError: If ``file_path`` is not set, does not exist, is not a file, is not
                a ``.py`` file, is not UTF-8 text, or its base64 size reaches 10 MiB.
            BackendError: If an error is returned from OQTOPUS Cloud.

        """
        source = _read_program(file_path)
        settings = job_settings(device_id, 1, name, description, None, None, None)
        job_input = {"sse_program": source}
        record = self._submit("sse", lambda name: build_job_archive(name, job_input), settings)
        self._last_job = OqtopusSseJob(record, self._client)
        return self._last_job

    def download_log(self, job_id: str | None = None, save_dir: str | None = None) -> str:
        """Download the log of an SSE job (``job_id``, else the last one run here).

        Prefer ``OqtopusSseJob.download_log``.

        Returns:
            The path of the saved log.

        Raises:
            ValueError: If no ``job_id`` is given and no job was run here, if ``save_dir``
                does not exist or is not a directory, or if the file already exists.
            BackendError: If the job is not an SSE job or the log cannot be downloaded.

        """
        if job_id is None:
            if self._last_job is None:
                raise ValueError("job_id is not set and no job has been executed.")
            job: OqtopusJobBase = self._last_job
        else:
            _log_directory(save_dir)  # bad input fails before anything is sent
            job = self.retrieve_job(job_id)
        if not isinstance(job, OqtopusSseJob):
            raise BackendError(f"The job with id {job.job_id} is not an SSE job.")
        return job.download_log(save_dir=save_dir)


def _read_program(file_path: str) -> str:
    if file_path is None:
        raise ValueError("file_path is not set.")
    path = Path(file_path)
    if not path.exists():
        raise ValueError(f"The file does not exist: {file_path}")
    if not path.is_file():
        raise ValueError(f"The path is not a regular file: {file_path}")
    if path.suffix != ".py":
        raise ValueError(f"The file is not python file: {file_path}")
    data = path.read_bytes()
    encoded_size = 4 * ((len(data) + 2) // 3)
    if encoded_size >= MAX_SSE_BASE64_BYTES:
        raise ValueError(
            f"size of the base64 encoded file is larger than {MAX_SSE_BASE64_BYTES}: "
            f"{encoded_size} bytes ({file_path})"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"The file is not UTF-8 text: {file_path} ({e})") from e


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
