"""SSE jobs: the uploaded Python program runs contained and limited in a child process.

Programs run as in an OQTOPUS SSE container: ``OQTOPUS_ENV=sse_container`` and an
importable ``sse_driver`` module that runs their jobs on this server (see
``sse_runtime/sse_driver.py``). They also get ``OQTOPUS_URL`` and an ``OQTOPUS_API_TOKEN``
that is valid only while their job runs and only for the jobs it creates.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from quri_parts_oqtopus._contract import (
    CANCELLABLE_STATUSES,
    CANCELLED,
    CANCELLING,
    FAILED,
    FINAL_STATUSES,
    REGISTERED,
    RUNNING,
    SSE,
    SUCCEEDED,
)

from .children import kill_group, log_tail
from .settings import ServerSettings
from .sse_cgroup import JobCgroup
from .sse_sandbox import DRIVER_DIR, SSE_FILE_BYTES, Sandbox
from .store import JobRow, Store, utc_now

LOG_TAIL_CHARS = 2000
# What programs keep of the server's environment: nothing secret, nothing that redirects.
_KEPT_VARIABLES = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH")
_LOOPBACK = "127.0.0.1,localhost,::1"
_STOP_GRACE_SECONDS = 2.0


def _end(process: subprocess.Popen[bytes]) -> None:
    """End the launcher and everything the program started.

    SIGTERM first: the launcher then kills the program's whole tree (the namespace, or every
    orphan it reaped); SIGKILL to its process group if it has not gone after a grace time.
    """
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE_SECONDS)
    kill_group(process.pid)
    process.wait()


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
        self._sandbox = Sandbox.open(settings)

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
            _end(process)

    def stop_all(self) -> None:
        """Kill every running program; their jobs stay `running` for the restart recovery."""
        self._stopping.set()
        with self._lock:
            processes = list(self._processes.values())
            threads = list(self._threads.values())
        for process in processes:  # each may take its grace time: all at once
            threading.Thread(target=_end, args=(process,), daemon=True).start()
        for thread in threads:
            thread.join(timeout=5.0)
        self._sandbox.close()

    def _environment(self, job: JobRow, scratch: Path) -> dict[str, str]:
        """What a program's environment holds: the container's variables, no server secret."""
        env = {key: os.environ[key] for key in _KEPT_VARIABLES if key in os.environ}
        job_json = {
            "job_id": job.job_id,
            "name": job.name or "",
            "description": job.description,
            "job_type": SSE,
            "status": RUNNING,
            "device_id": job.device_id,
            "shots": job.shots,
        }
        env.update(
            OQTOPUS_ENV="sse_container",
            PYTHONPATH=str(DRIVER_DIR),
            JOB_JSON=json.dumps(job_json),
            IN_PATH=str(scratch / "in"),
            OUT_PATH=str(scratch / "out"),
            OQTOPUS_URL=self._server_url,
            OQTOPUS_API_TOKEN=self._token_for(job.job_id),
            OQTOPUS_SSE_JOB_ID=job.job_id,
            HOME=str(scratch),
            TMPDIR=str(scratch / "tmp"),
            NO_PROXY=_LOOPBACK,
            no_proxy=_LOOPBACK,
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            TERM="dumb",
        )
        return env

    def _execute(self, job: JobRow, scratch: Path) -> tuple[int | None, float, bool]:
        """Run the program: exit code (None on timeout), wall time, whether it ran out of memory."""
        cgroup = self._sandbox.cgroup(self._settings, job.job_id)
        try:
            code, elapsed = self._launch(job, scratch, cgroup)
            return code, elapsed, cgroup is not None and cgroup.ran_out_of_memory()
        finally:
            if cgroup is not None:
                cgroup.remove()

    def _launch(
        self, job: JobRow, scratch: Path, cgroup: JobCgroup | None
    ) -> tuple[int | None, float]:
        """Start the launcher and wait for it: the exit code (None on timeout), the wall time."""
        job_id = job.job_id
        source = self._store.read_payload(job_id, "input") or {}
        # In the job's directory, which the program cannot see: the launcher reads it first.
        program = self._store.job_dir(job_id) / "sse_program.py"
        program.write_text(str(source.get("sse_program", "")), encoding="utf-8")
        started = time.monotonic()
        with self._store.sse_log_path(job_id).open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our interpreter and launcher
                self._sandbox.command(self._settings, program, scratch, cgroup),
                cwd=self._sandbox.scratch_root,
                env=self._environment(job, scratch),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            with self._lock:
                self._processes[job_id] = process
            if self._stopping.is_set() or self._cancel_requested(job_id):
                _end(process)  # a cancel or a stop that came before the process existed
            try:
                code: int | None = process.wait(timeout=self._settings.sse_timeout)
            except subprocess.TimeoutExpired:
                _end(process)
                code = None
            finally:
                with self._lock:
                    self._processes.pop(job_id, None)
                # Whatever the program left running ends with its job, on every path.
                kill_group(process.pid)
        return code, time.monotonic() - started

    def clear_scratch(self) -> None:
        """Remove what programs of an earlier run of the server left behind."""
        shutil.rmtree(self._store.data_dir / "sse-scratch", ignore_errors=True)  # before 2.1

    def _cancel_requested(self, job_id: str) -> bool:
        job = self._store.get_job(job_id)
        return job is None or job.status == CANCELLING

    def _run(self, job_id: str) -> None:
        scratch = self._sandbox.scratch(job_id)
        try:
            job = self._store.get_job(job_id)
            if job is None:
                return
            code, elapsed, out_of_memory = self._execute(job, scratch)
            # The program is gone: what it registered and never submitted goes before the
            # job is seen to end (on the failure path too, below).
            self._forget_unsubmitted(job_id)
            if not self._stopping.is_set():
                self._finish(job_id, code, elapsed, out_of_memory=out_of_memory)
        except Exception as e:  # a job must never be left hanging
            with contextlib.suppress(Exception):
                self._forget_unsubmitted(job_id)
            self._fail(job_id, f"the SSE program could not be run: {type(e).__name__}: {e}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self._store.job_dir(job_id).joinpath("sse_program.py").unlink(missing_ok=True)
            with self._lock:
                self._threads.pop(job_id, None)
            self._wake()

    def _finish(
        self, job_id: str, code: int | None, elapsed: float, *, out_of_memory: bool = False
    ) -> None:
        job = self._store.get_job(job_id)
        if job is None:
            return
        if job.status == CANCELLING:
            self._cancel_children(job_id)
            self._store.update_job(job_id, {"status": CANCELLED, "ended_at": utc_now()})
            return
        log = self._store.sse_log_path(job_id)
        tail = log_tail(log, LOG_TAIL_CHARS)
        if log.is_file() and log.stat().st_size >= SSE_FILE_BYTES:
            tail = f"(the log reached its limit of {SSE_FILE_BYTES} bytes)\n{tail}"
        if code is None:
            limit = self._settings.sse_timeout
            self._fail(job_id, f"the SSE program exceeded its time limit of {limit:g} s\n{tail}")
        elif code == 125:
            self._fail(job_id, f"the SSE program could not be contained\n{tail}")
        elif code != 0 and out_of_memory:
            limit = self._settings.sse_memory_bytes >> 20
            how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
            self._fail(
                job_id,
                f"the SSE program ran out of its memory limit of {limit} MiB (all its processes"
                f" together; ended with {how})\n{tail}",
            )
        elif code < 0:
            name = signal.Signals(-code).name
            self._fail(job_id, f"the SSE program was killed by signal {name}\n{tail}")
        elif code != 0:
            self._fail(job_id, f"the SSE program exited with code {code}\n{tail}")
        else:
            self._succeed(job_id, elapsed)

    def _submitted_children(self, job_id: str) -> list[JobRow]:
        return [c for c in self._store.children_of(job_id) if c.status != REGISTERED]

    def _forget_unsubmitted(self, job_id: str) -> None:
        # Jobs the program registered but never submitted cannot run any more.
        for child in self._store.children_of(job_id):
            if child.status == REGISTERED:
                self._store.delete_job(child.job_id, only_from=[REGISTERED])

    def _succeed(self, job_id: str, elapsed: float) -> None:
        self._wait_for_children(job_id)
        children = self._submitted_children(job_id)
        # The result is the last job's; a last job that failed leaves the SSE job without one.
        if children and self._store.has_payload(children[-1].job_id, "result"):
            self._store.copy_payload(children[-1].job_id, job_id, "result")
        changes = {"status": SUCCEEDED, "execution_time": elapsed, "ended_at": utc_now()}
        if not self._store.update_job(job_id, changes, only_from=[RUNNING]):
            self._store.update_job(job_id, {"status": CANCELLED, "ended_at": utc_now()})

    def _wait_for_children(self, job_id: str) -> None:
        # A program may exit without waiting for the jobs it submitted.
        deadline = time.monotonic() + self._settings.sse_timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            children = self._submitted_children(job_id)
            if all(child.status in FINAL_STATUSES for child in children):
                return
            time.sleep(0.1)

    def _cancel_children(self, job_id: str) -> None:
        for child in self._store.children_of(job_id):
            self._store.update_job(
                child.job_id, {"status": CANCELLING}, only_from=CANCELLABLE_STATUSES
            )

    def _fail(self, job_id: str, message: str) -> None:
        self._cancel_children(job_id)
        self._store.update_job(
            job_id,
            {"status": FAILED, "message": message, "ended_at": utc_now()},
            only_from=[RUNNING, CANCELLING],
        )
