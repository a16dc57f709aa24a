"""SSE jobs: the uploaded Python program runs in its own limited child process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .settings import ServerSettings
from .store import CANCELLABLE_STATUSES, TERMINAL_STATUSES, Store, utc_now

LOG_TAIL_CHARS = 2000
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def log_tail(path: Path, limit: int = LOG_TAIL_CHARS) -> str:
    """The last ``limit`` characters of a log file ('' when there is none)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace").strip()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The program may have started children of its own: end its whole session.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


class SseRunner:
    """Starts, watches, cancels and finishes SSE programs (one thread each)."""

    def __init__(
        self,
        store: Store,
        settings: ServerSettings,
        server_url: str,
        token_for: Callable[[str], str],
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._settings = settings
        self._server_url = server_url
        self._token_for = token_for
        self._wake = wake
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()

    def active_count(self) -> int:
        with self._lock:
            return len(self._threads)

    def is_active(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._threads

    def start(self, job_id: str) -> None:
        thread = threading.Thread(target=self._run, args=(job_id,), name=f"sse-{job_id}")
        with self._lock:
            self._threads[job_id] = thread
        thread.start()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            process = self._processes.get(job_id)
        if process is not None:
            _kill_group(process)

    def stop_all(self) -> None:
        """Kill every running program; their jobs stay `running` for the restart recovery."""
        self._stopping.set()
        with self._lock:
            processes = list(self._processes.values())
            threads = list(self._threads.values())
        for process in processes:
            _kill_group(process)
        for thread in threads:
            thread.join(timeout=5.0)

    def _environment(self, job_id: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("OQTOPUS_") and key.lower() not in _PROXY_VARIABLES
        }
        env.update(
            OQTOPUS_URL=self._server_url,
            OQTOPUS_API_TOKEN=self._token_for(job_id),
            OQTOPUS_SSE_JOB_ID=job_id,
            NO_PROXY="127.0.0.1,localhost,::1",
            no_proxy="127.0.0.1,localhost,::1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _command(self, script: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "quri_parts_oqtopus.local.sse_launcher",
            "--memory-bytes",
            str(self._settings.sse_memory_bytes),
            "--parent-pid",
            str(os.getpid()),
            str(script),
        ]

    def _execute(self, job_id: str, scratch: Path) -> tuple[int | None, float]:
        """Run the program; the exit code (None on timeout) and the wall time."""
        source = self._store.read_payload(job_id, "input") or {}
        script = scratch / "main.py"
        script.write_text(str(source.get("sse_program", "")), encoding="utf-8")
        started = time.monotonic()
        with self._store.sse_log_path(job_id).open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our interpreter and launcher
                self._command(script),
                cwd=scratch,
                env=self._environment(job_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            with self._lock:
                self._processes[job_id] = process
            try:
                code: int | None = process.wait(timeout=self._settings.sse_timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.wait()
                code = None
            finally:
                with self._lock:
                    self._processes.pop(job_id, None)
        return code, time.monotonic() - started

    def _run(self, job_id: str) -> None:
        scratch = self._store.data_dir / "sse-scratch" / job_id
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            code, elapsed = self._execute(job_id, scratch)
            if not self._stopping.is_set():
                self._finish(job_id, code, elapsed)
        except Exception as e:
            self._fail(job_id, f"the SSE program could not be run: {type(e).__name__}: {e}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            with self._lock:
                self._threads.pop(job_id, None)
            self._wake()

    def _finish(self, job_id: str, code: int | None, elapsed: float) -> None:
        job = self._store.get_job(job_id)
        if job is None:
            return
        if job.status == "cancelling":
            self._cancel_children(job_id)
            self._store.update_job(job_id, {"status": "cancelled", "ended_at": utc_now()})
            return
        tail = log_tail(self._store.sse_log_path(job_id))
        if code is None:
            limit = self._settings.sse_timeout
            self._fail(job_id, f"the SSE program exceeded its time limit of {limit} s\n{tail}")
        elif code != 0:
            self._fail(job_id, f"the SSE program exited with code {code}\n{tail}")
        else:
            self._succeed(job_id, elapsed)

    def _succeed(self, job_id: str, elapsed: float) -> None:
        self._wait_for_children(job_id)
        finished = [
            child
            for child in self._store.children_of(job_id)
            if child.status == "succeeded" and self._store.has_payload(child.job_id, "result")
        ]
        if finished:
            result = self._store.read_payload(finished[-1].job_id, "result")
            self._store.write_payload(job_id, "result", result)
        changes = {"status": "succeeded", "execution_time": elapsed, "ended_at": utc_now()}
        if not self._store.update_job(job_id, changes, only_from=["running"]):
            self._store.update_job(job_id, {"status": "cancelled", "ended_at": utc_now()})

    def _wait_for_children(self, job_id: str) -> None:
        # A program may exit without waiting for the jobs it submitted.
        deadline = time.monotonic() + self._settings.sse_timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            children = self._store.children_of(job_id)
            if all(child.status in TERMINAL_STATUSES for child in children):
                return
            time.sleep(0.1)

    def _cancel_children(self, job_id: str) -> None:
        for child in self._store.children_of(job_id):
            self._store.update_job(
                child.job_id, {"status": "cancelling"}, only_from=CANCELLABLE_STATUSES
            )

    def _fail(self, job_id: str, message: str) -> None:
        self._cancel_children(job_id)
        self._store.update_job(
            job_id,
            {"status": "failed", "message": message, "ended_at": utc_now()},
            only_from=["running", "cancelling"],
        )
