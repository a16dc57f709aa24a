"""Moves jobs through their statuses and runs them in a bounded pool of worker processes."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .settings import ServerSettings
from .simulate import Outcome, Task, run_task, warm_up
from .sse import SseRunner
from .store import JobRow, Store, utc_now

_DEFAULT_TRANSPILER = {"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": 1}}


def default_transpiler_info(given: dict[str, Any] | None) -> dict[str, Any]:
    """The real service stores an empty ``transpiler_info`` as its qiskit default."""
    return dict(given) if given else dict(_DEFAULT_TRANSPILER)


def _seed_of(simulator_info: dict[str, Any] | None) -> int | None:
    seed = (simulator_info or {}).get("seed")
    if seed is None:
        return None
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"simulator_info.seed must be a non-negative integer, got {seed!r}")
    return seed


class Scheduler:
    """One thread that promotes, dispatches and finalises jobs; wake it after any change."""

    def __init__(
        self, store: Store, settings: ServerSettings, sse: SseRunner, wake: threading.Event
    ) -> None:
        self._store = store
        self._settings = settings
        self._sse = sse
        self._wake = wake
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[str, Future[Outcome]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._pool = self._new_pool()
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and end the workers; unfinished jobs are recovered next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._sse.stop_all()
        if self._pool is not None:
            self._terminate_pool(self._pool)

    def wake(self) -> None:
        self._wake.set()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: the server process is threaded, forking it is unsafe.
        return ProcessPoolExecutor(
            max_workers=self._settings.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm_up,
        )

    @staticmethod
    def _terminate_pool(pool: ProcessPoolExecutor) -> None:
        # shutdown() would wait for running simulations; the workers hold nothing to save.
        processes = dict(getattr(pool, "_processes", None) or {})
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.join(timeout=2.0)

    def recover(self) -> None:
        """Jobs interrupted by a stop: simulations are re-queued, SSE programs failed."""
        for job in self._store.jobs_in(["ready", "running", "cancelling"]):
            if job.status == "cancelling":
                self._store.update_job(job.job_id, {"status": "cancelled", "ended_at": utc_now()})
            elif job.job_type == "sse":
                message = "the local server stopped while the SSE program was running"
                failed = {"status": "failed", "message": message, "ended_at": utc_now()}
                self._store.update_job(job.job_id, failed)
            else:
                changes: dict[str, Any] = {"status": "submitted", "ready_at": None}
                changes["running_at"] = None
                self._store.update_job(job.job_id, changes)

    # -- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self._step()
            except Exception:
                import traceback  # noqa: PLC0415

                traceback.print_exc()
            self._wake.wait(self._settings.poll_interval)

    def _step(self) -> None:
        self._finalise_cancelled()
        self._promote_submitted()
        self._dispatch_ready()

    def _finalise_cancelled(self) -> None:
        for job in self._store.jobs_in(["cancelling"]):
            with self._lock:
                busy = job.job_id in self._in_flight
            if not busy and not self._sse.is_active(job.job_id):
                self._store.update_job(
                    job.job_id,
                    {"status": "cancelled", "ended_at": utc_now()},
                    only_from=["cancelling"],
                )

    def _promote_submitted(self) -> None:
        available: dict[str, bool] = {}
        for job in self._store.jobs_in(["submitted"]):
            device_id = job.device_id or ""
            if device_id not in available:
                device = self._store.get_device(device_id)
                available[device_id] = device is not None and device["status"] == "available"
            if available[device_id]:
                changes = {"status": "ready", "ready_at": utc_now()}
                self._store.update_job(job.job_id, changes, only_from=["submitted"])

    def _dispatch_ready(self) -> None:
        for job in self._store.jobs_in(["ready"]):
            if job.job_type == "sse":
                if self._sse.active_count() < self._settings.sse_slots and self._mark_running(job):
                    self._sse.start(job.job_id)
                continue
            with self._lock:
                full = len(self._in_flight) >= self._settings.workers
            if not full and self._mark_running(job):
                self._submit(job)

    def _mark_running(self, job: JobRow) -> bool:
        changes = {"status": "running", "running_at": utc_now()}
        return self._store.update_job(job.job_id, changes, only_from=["ready"])

    # -- simulations ---------------------------------------------------------------------

    def _task_for(self, job: JobRow) -> Task:
        source = self._store.read_payload(job.job_id, "input") or {}
        device = self._store.get_device(job.device_id or "") or {}
        transpiler = job.transpiler_info or {}
        return Task(
            job_type=job.job_type or "sampling",
            programs=list(source.get("program") or []),
            shots=job.shots or 1,
            operator=list(source.get("operator") or []),
            seed=_seed_of(job.simulator_info),
            transpile=transpiler.get("transpiler_lib") is not None,
            max_qubits=int(device.get("n_qubits", 0)),
            delay=float(device.get("execution_delay", 0.0)),
        )

    def _submit(self, job: JobRow) -> None:
        try:
            task = self._task_for(job)
        except ValueError as e:
            self.record(job.job_id, Outcome(False, False, str(e)))
            return
        if self._pool is None:
            return
        try:
            future = self._pool.submit(run_task, task)
        except (BrokenProcessPool, RuntimeError):
            self._replace_broken_pool(self._pool)
            future = self._pool.submit(run_task, task)
        with self._lock:
            self._in_flight[job.job_id] = future
        used = self._pool
        future.add_done_callback(lambda done: self._on_done(job.job_id, used, done))

    def _on_done(self, job_id: str, pool: ProcessPoolExecutor, future: Future[Outcome]) -> None:
        with self._lock:
            self._in_flight.pop(job_id, None)
        if self._stopping.is_set():
            return  # recovered at the next start
        try:
            outcome = future.result()
        except BrokenProcessPool:
            outcome = Outcome(False, True, "the simulator worker process died")
            self._replace_broken_pool(pool)
        except Exception as e:
            outcome = Outcome(False, True, f"the simulator failed: {type(e).__name__}: {e}")
        self.record(job_id, outcome)
        self._wake.set()

    def _replace_broken_pool(self, broken: ProcessPoolExecutor) -> None:
        # Every job of a broken pool reports here; only the first replaces it.
        with self._lock:
            if self._pool is not broken:
                return
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def record(self, job_id: str, outcome: Outcome) -> None:
        """Store a finished task; a job cancelled meanwhile ends `cancelled` without result."""
        now = utc_now()
        if outcome.succeeded:
            self._write_payloads(job_id, outcome)
            changes: dict[str, Any] = {
                "status": "succeeded",
                "execution_time": outcome.execution_time,
                "ended_at": now,
            }
        else:
            changes = {"status": "failed", "message": outcome.message, "ended_at": now}
            if not outcome.ran:
                changes.update(running_at=None, execution_time=None)
        if not self._store.update_job(job_id, changes, only_from=["running"]):
            for name in ("result", "transpile_result", "combined_program"):
                self._store.remove_payload(job_id, name)
            self._store.update_job(
                job_id, {"status": "cancelled", "ended_at": now}, only_from=["cancelling"]
            )

    def _write_payloads(self, job_id: str, outcome: Outcome) -> None:
        if outcome.transpile_result is not None:
            self._store.write_payload(job_id, "transpile_result", outcome.transpile_result)
        if outcome.combined_program is not None:
            self._store.write_payload(job_id, "combined_program", outcome.combined_program)
        self._store.write_payload(job_id, "result", outcome.result)
