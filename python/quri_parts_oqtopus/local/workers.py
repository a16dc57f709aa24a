"""The simulator worker processes: one job at a time each, killed and replaced when needed.

A job that passes its wall-clock limit, or is cancelled, has its worker process killed
(a running qulacs simulation cannot be interrupted any other way) and a fresh one started
in its place, without disturbing the jobs of the other workers. Each worker runs under an
address-space limit, so a job that outgrows it fails alone instead of swapping the machine.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from .children import die_with_parent
from .tasks import Outcome, Phase, Task

# How often a busy worker's watcher looks for a cancel or a passed deadline.
_WATCH_INTERVAL = 0.05
_KILL_WAIT = 5.0
#: Seconds a worker may take to load the simulator and take its job. Not the job's time: a
#: worker replaced after the last job (killed at its limit) may still be importing qulacs.
#: (A task larger than the pipe's buffer is handed over only as the worker reads it; until
#: then the watcher waits in ``send``.)
_WARM_UP_LIMIT = 120.0


def _worker_main(conn: Connection, memory_bytes: int, server_pid: int) -> None:
    """A worker process: limit its memory, load the simulator, then run tasks until EOF.

    It dies with the server: a server killed (``kill -9``) and restarted reruns the job,
    which the old worker must neither keep computing nor write into.
    """
    die_with_parent(server_pid)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The workers already run jobs side by side: OpenMP threads in each oversubscribe the
    # cores (an emulated job's small density matrices ran 10x slower, 2 workers on 2 cores).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from .simulate import run_task  # noqa: PLC0415 - keeps qulacs out of the server process

    while True:
        try:
            task: Task = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone or replaced us
        outcome, payloads = run_task(task, lambda name: conn.send(Phase(name)))
        if os.getppid() != server_pid:
            os._exit(0)  # the job directory is no longer ours: a new server may own it
        if outcome.succeeded and task.job_dir is not None:
            outcome = _stage(Path(task.job_dir), outcome, payloads, memory_bytes)
        conn.send(outcome)


def _stage(job_dir: Path, outcome: Outcome, payloads: dict[str, Any], memory_bytes: int) -> Outcome:
    """Stage a succeeded job's payloads beside it; a payload that cannot be written fails the
    job, naming why (never the worker)."""
    from .codec import write_payload_files  # noqa: PLC0415 - loads the native core

    try:
        for name, value in payloads.items():
            write_payload_files(job_dir, name, value, stage=True)
    except MemoryError:
        limit = f"the worker memory limit of {memory_bytes >> 20} MiB"
        return Outcome(False, True, f"writing the result exceeded {limit}")
    except Exception as e:  # e.g. a full disk: the job fails, not the worker
        return Outcome(False, True, f"the result could not be written: {type(e).__name__}: {e}")
    return replace(outcome, staged=tuple(payloads))


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context: multiprocessing.context.SpawnContext, memory_bytes: int) -> None:
        self._context = context
        self._memory_bytes = memory_bytes
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None

    def start(self) -> None:
        ours, theirs = self._context.Pipe()
        self.process = self._context.Process(
            target=_worker_main,
            args=(theirs, self._memory_bytes, os.getpid()),
            name="simulator-worker",
            daemon=True,
        )
        self.process.start()
        theirs.close()
        self.conn = ours

    def kill(self) -> None:
        process, conn, self.process, self.conn = self.process, self.conn, None, None
        if conn is not None:
            conn.close()
        if process is not None:
            process.kill()
            process.join(_KILL_WAIT)

    def describe_exit(self) -> str:
        code = self.process.exitcode if self.process is not None else None
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


class _Slot:
    """A worker, the job it runs, and the thread that watches it."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.job_id: str | None = None
        self.cancel = threading.Event()
        self.inbox: queue.SimpleQueue[tuple[str, Task] | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None


class SimulatorPool:
    """``size`` worker processes; ``on_done(job_id, outcome)`` is called for every job run.

    Args:
        size: Worker processes (jobs that run at once).
        memory_bytes: Address-space limit of each worker.
        job_timeout: Wall-clock limit of one job, in seconds.
        on_done: Called from a watcher thread when a job ends, also when it was cancelled,
            timed out or its worker died.

    """

    def __init__(
        self,
        size: int,
        memory_bytes: int,
        job_timeout: float,
        on_done: Callable[[str, Outcome], None],
    ) -> None:
        context = multiprocessing.get_context("spawn")  # the server is threaded: never fork it
        self._slots = [_Slot(_Worker(context, memory_bytes)) for _ in range(size)]
        self._memory_bytes = memory_bytes
        self._job_timeout = job_timeout
        self._on_done = on_done
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start every worker (each loads the simulator before its first job)."""
        for index, slot in enumerate(self._slots):
            slot.worker.start()
            slot.thread = threading.Thread(
                target=self._serve, args=(slot,), name=f"simulator-{index}", daemon=True
            )
            slot.thread.start()

    def stop(self) -> None:
        """Kill every worker; their jobs get no ``on_done``."""
        self._stopping.set()
        for slot in self._slots:
            slot.inbox.put(None)
            slot.cancel.set()
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join(_KILL_WAIT)
            slot.worker.kill()

    def try_run(self, job_id: str, task: Task) -> bool:
        """Hand ``task`` to an idle worker; False when every worker is busy."""
        with self._lock:
            for slot in self._slots:
                if slot.job_id is None:
                    slot.job_id = job_id
                    slot.cancel.clear()
                    slot.inbox.put((job_id, task))
                    return True
        return False

    def has_idle_worker(self) -> bool:
        with self._lock:
            return any(slot.job_id is None for slot in self._slots)

    def is_running(self, job_id: str) -> bool:
        with self._lock:
            return any(slot.job_id == job_id for slot in self._slots)

    def cancel(self, job_id: str) -> None:
        """Kill the worker running ``job_id`` (if any); its ``on_done`` follows at once."""
        with self._lock:
            for slot in self._slots:
                if slot.job_id == job_id:
                    slot.cancel.set()

    def _serve(self, slot: _Slot) -> None:
        while (item := slot.inbox.get()) is not None:
            job_id, task = item
            outcome = self._run(slot, task)
            with self._lock:
                slot.job_id = None
            if not self._stopping.is_set():
                self._on_done(job_id, outcome)

    def _run(self, slot: _Slot, task: Task) -> Outcome:
        worker = slot.worker
        if worker.process is None or not worker.process.is_alive():
            worker.kill()
            worker.start()
        assert worker.conn is not None
        assert worker.process is not None
        try:
            worker.conn.send(task)
        except OSError:
            return self._replace(worker, Outcome(False, False, "the simulator worker was gone"))
        # The job's clock starts when the worker takes the task (its first phase), so that
        # a worker still loading the simulator does not spend the job's time.
        deadline = time.monotonic() + _WARM_UP_LIMIT
        phase: str | None = None
        while True:
            ready = wait([worker.conn, worker.process.sentinel], _WATCH_INTERVAL)
            if worker.conn in ready:
                with contextlib.suppress(EOFError, OSError):
                    received: Outcome | Phase = worker.conn.recv()
                    if isinstance(received, Outcome):
                        return received
                    if phase is None:
                        deadline = time.monotonic() + self._job_timeout
                    phase = received.name
                    continue
            if ready:  # the pipe closed or the process ended without an answer
                worker.process.join(_KILL_WAIT)
                how = worker.describe_exit()
                message = (
                    f"the simulator worker process died ({how}); the worker memory limit of"
                    f" {self._memory_bytes >> 20} MiB may have been reached"
                )
                return self._replace(worker, Outcome(False, True, message))
            if slot.cancel.is_set():
                return self._replace(worker, Outcome(False, True, "the job was cancelled"))
            if time.monotonic() > deadline:
                if phase is None:  # the job never started: no running time is recorded
                    message = f"the simulator worker did not start within {_WARM_UP_LIMIT:g} s"
                    return self._replace(worker, Outcome(False, False, message))
                limit = f"the job time limit of {self._job_timeout:g} s"
                message = f"the job exceeded {limit} while {phase}"
                return self._replace(worker, Outcome(False, True, message))

    def _replace(self, worker: _Worker, outcome: Outcome) -> Outcome:
        worker.kill()
        if not self._stopping.is_set():
            worker.start()  # warms up while the job is being recorded
        return outcome
