"""``LocalServer``: the local OQTOPUS server in a child process, for scripts and tests."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quri_parts_oqtopus.backend.config import OqtopusConfig

from .children import kill_group, log_tail
from .settings import TOKEN_VARIABLE, new_token, temporary_data_dir

_STOP_GRACE_SECONDS = 10.0
_LOG_TAIL_CHARS = 3000
_SERVE_OPTIONS = frozenset(
    {
        "job_timeout",
        "worker_memory_mb",
        "sse_memory_mb",
        "max_program_mb",
        "input_quota_mb",
        "sse_input_quota_mb",
        "public_url",
        "presign_ttl",
        "header_timeout",
        "body_timeout",
        "max_connections",
        "max_registered_jobs",
    }
)


def _devices_file(
    file: str | Path | None, devices: Sequence[Mapping[str, Any] | str | Path]
) -> Path | None:
    """One devices file holding ``file``'s devices and ``devices`` (None: no extra device).

    Raises:
        ValueError: If a device file cannot be read or is not a JSON object or list.

    """
    if not devices:
        return Path(file) if file is not None else None
    merged: list[Any] = []
    for entry in [*([file] if file is not None else []), *devices]:
        if isinstance(entry, Mapping):
            merged.append(dict(entry))
            continue
        try:
            loaded = json.loads(Path(entry).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read device file {str(entry)!r}: {e}") from e
        if not isinstance(loaded, dict | list):
            raise ValueError(f"device file {str(entry)!r} holds neither a device nor a list")
        merged.extend(loaded if isinstance(loaded, list) else [loaded])
    handle, name = tempfile.mkstemp(prefix="oqtopus-local-devices-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(merged, out)
    atexit.register(Path(name).unlink, missing_ok=True)
    return Path(name)


# Loopback only: never through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalServer:
    """A local OQTOPUS server running in a child process on ``127.0.0.1``.

    Use it as a context manager; the child (and its worker processes) is killed on exit,
    also when the block raises.

    Args:
        data_dir: Database and job files; a temporary directory (removed on ``close``)
            when None.
        token: The ``q-api-token``; a random one when None.
        workers: Simulator worker processes.
        admin: Enable the ``/_admin`` routes (device switch, fault injection).
        port: TCP port; 0 picks a free one at the first start (kept by ``restart``).
        inline_job_info: Serve ``job_info`` values inline instead of as ZIP URLs.
        devices_file: JSON list of extra device definitions.
        devices: More device definitions: device objects (dicts), or device files such as
            ``oqtopus devices snapshot`` writes (paths); with ``devices_file``, all of them.
        example_devices: Offer the example emulated QPUs (``emu-*``) beside ``qulacs``.
        sse_timeout: Wall-clock limit of one SSE program, in seconds.
        sse_python: The interpreter that runs SSE programs (None: this one).
        sse_containment: ``"auto"``, ``"require"`` or ``"none"`` (see ``ServerSettings``).
        startup_timeout: How long ``start`` waits for the server to answer.
        options: More ``oqtopus-local serve`` options by name, ``_`` for ``-``, e.g.
            ``{"job_timeout": 30, "max_connections": 100}``: job_timeout,
            worker_memory_mb, sse_memory_mb, max_program_mb, input_quota_mb,
            sse_input_quota_mb, public_url, presign_ttl, header_timeout, body_timeout,
            max_connections, max_registered_jobs (``serve --help`` describes them).

    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        token: str | None = None,
        workers: int = 1,
        admin: bool = False,
        port: int = 0,
        *,
        inline_job_info: bool = False,
        devices_file: str | Path | None = None,
        devices: Sequence[Mapping[str, Any] | str | Path] = (),
        example_devices: bool = True,
        sse_timeout: float = 300.0,
        sse_python: str | Path | None = None,
        sse_containment: str = "auto",
        startup_timeout: float = 60.0,
        options: Mapping[str, float | int | str] | None = None,
    ) -> None:
        self._owns_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else temporary_data_dir()
        self.token = token or new_token()
        self.workers = workers
        self.admin = admin
        self.port = port
        self._inline_job_info = inline_job_info
        self._devices_file = _devices_file(devices_file, devices)
        self._example_devices = example_devices
        self._sse_timeout = sse_timeout
        self._sse_python = None if sse_python is None else str(sse_python)
        self._sse_containment = sse_containment
        self._startup_timeout = startup_timeout
        self._options = dict(options or {})
        unknown = set(self._options) - _SERVE_OPTIONS
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; known: {sorted(_SERVE_OPTIONS)}")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> OqtopusConfig:
        """An :class:`OqtopusConfig` pointing a backend at this server."""
        # Imported here: the backend package loads the native module, and the server
        # process (which imports this package) must not map it.
        from quri_parts_oqtopus.backend.config import OqtopusConfig  # noqa: PLC0415

        return OqtopusConfig(url=self.url, api_token=self.token)

    @property
    def log_path(self) -> Path:
        """The child's stdout and stderr (appended across restarts)."""
        return self.data_dir / "server.log"

    @property
    def running(self) -> bool:
        """Whether the server's process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (its workers are its children)."""
        return self._process.pid if self.running and self._process is not None else None

    def _command(self, port_file: Path) -> list[str]:
        command = [
            sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--quiet",
            "--workers", str(self.workers), "--sse-timeout", str(self._sse_timeout),
            "--port-file", str(port_file), "--parent-pid", str(os.getpid()),
            "--sse-containment", self._sse_containment, "--token-stdin",
        ]  # fmt: skip
        if self._sse_python is not None:
            command.extend(["--sse-python", self._sse_python])
        if self.admin:
            command.append("--admin")
        if self._inline_job_info:
            command.append("--inline-job-info")
        if self._devices_file is not None:
            command.extend(["--devices", str(self._devices_file)])
        if not self._example_devices:
            command.append("--no-example-devices")
        for name, value in self._options.items():
            command.extend([f"--{name.replace('_', '-')}", str(value)])
        return command

    def start(self) -> LocalServer:
        """Start the child and wait until it answers.

        Raises:
            RuntimeError: If the child exits or does not answer within ``startup_timeout``;
                the message holds the end of its log.

        """
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "server.port"
        port_file.unlink(missing_ok=True)
        with self.log_path.open("ab") as log:
            # Own session: stop() can end the server and every worker it spawned at once.
            self._process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
                self._command(port_file),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE},
            )
        assert self._process.stdin is not None
        # Neither argv nor the environment: other processes can read both.
        self._process.stdin.write(f"{self.token}\n".encode())
        self._process.stdin.close()
        atexit.register(self.stop)
        try:
            self._wait_until_answering(port_file)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, port_file: Path) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"the local server exited at startup:\n{self._log_tail()}")
            if port_file.is_file():
                self.port = int(port_file.read_text(encoding="ascii"))
                if self._answers():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the local server did not answer in time:\n{self._log_tail()}")

    def _answers(self) -> bool:
        try:
            with _DIRECT.open(f"{self.url}/_health", timeout=2.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self) -> str:
        return log_tail(self.log_path, _LOG_TAIL_CHARS)

    def stop(self) -> None:
        """Stop the server (graceful first, then by force); the data directory stays."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        kill_group(process.pid, wait=2.0)  # workers of a server that died or was killed

    def restart(self) -> None:
        """Stop and start again on the same port with the same data directory."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop, and remove the data directory if it was a temporary one."""
        self.stop()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalServer(url={self.url!r}, data_dir={str(self.data_dir)!r}, {state})"
