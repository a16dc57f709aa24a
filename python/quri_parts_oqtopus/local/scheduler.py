"""Moves jobs through their statuses and runs them in a bounded pool of worker processes."""

from __future__ import annotations

import threading
import time
import traceback
from multiprocessing import resource_tracker
from typing import Any

from quri_parts_oqtopus._contract import (
    AVAILABLE,
    CANCELLED,
    CANCELLING,
    FAILED,
    NOT_ENDED_STATUSES,
    READY,
    RUNNING,
    SAMPLING,
    SSE,
    SUBMITTED,
    SUCCEEDED,
)
from quri_parts_oqtopus._values import is_int

from .devices import emulated_device_info
from .settings import ServerSettings
from .sse import SseRunner
from .store import JobRow, Store, utc_now
from .tasks import Outcome, Task
from .workers import SimulatorPool


def _seed_of(simulator_info: dict[str, Any] | None) -> int | None:
    seed = (simulator_info or {}).get("seed")
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:
        raise ValueError(f"simulator_info.seed must be a non-negative integer, got {seed!r}")
    return seed


def stop_resource_tracker() -> None:
    # Spawning the workers started multiprocessing's tracker process; reap it now, or it
    # outlives the server as a zombie wherever init does not reap orphans.
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    stop = getattr(tracker, "_stop", None)
    if callable(stop):
        stop()


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
        self._pool = SimulatorPool(
            settings.workers, settings.worker_memory_bytes, settings.job_timeout, self._on_done
        )
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        # When each running job was first seen `cancelling` (monotonic seconds): its stop
        # waits for the device's `cancel_delay` (tests hold the cancelling window open).
        self._cancel_seen: dict[str, float] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._pool.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and end the workers; unfinished jobs are recovered next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._sse.stop_all()
        self._pool.stop()  # the workers hold nothing to save

    def wake(self) -> None:
        self._wake.set()

    def recover(self) -> None:
        """Jobs interrupted by a stop: queued again, except SSE programs that ran (failed)."""
        self._sse.clear_scratch()
        for job in self._store.jobs_in([READY, RUNNING, CANCELLING]):
            # `only_from`: an orphan cancelled earlier in this loop stays cancelled.
            if job.status == CANCELLING:
                ended = {"status": CANCELLED, "ended_at": utc_now()}
                self._store.update_job(job.job_id, ended, only_from=[CANCELLING])
            elif job.job_type == SSE and job.status == RUNNING:
                # Re-running user code that may have half-done its work would not be honest.
                message = "the local server stopped while the SSE program was running"
                failed = {"status": FAILED, "message": message, "ended_at": utc_now()}
                self._store.update_job(job.job_id, failed)
                self._cancel_orphans(job.job_id)
            else:
                changes: dict[str, Any] = {"status": SUBMITTED, "ready_at": None}
                changes["running_at"] = None
                self._store.update_job(job.job_id, changes, only_from=[READY, RUNNING])

    def _cancel_orphans(self, sse_job_id: str) -> None:
        # Nobody waits for the jobs of a program that is gone.
        ended = {"status": CANCELLED, "ended_at": utc_now()}
        for child in self._store.children_of(sse_job_id):
            self._store.update_job(child.job_id, ended, only_from=NOT_ENDED_STATUSES)

    # -- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self._step()
            except Exception:  # the loop must outlive one bad job; the log shows it
                traceback.print_exc()
            self._wake.wait(self._settings.poll_interval)

    def _step(self) -> None:
        self._finalise_cancelled()
        self._promote_submitted()
        self._dispatch_ready()

    def _finalise_cancelled(self) -> None:
        cancelling = self._store.jobs_in([CANCELLING])
        seen = {job.job_id for job in cancelling}
        for job_id in set(self._cancel_seen) - seen:
            del self._cancel_seen[job_id]
        for job in cancelling:
            if self._pool.is_running(job.job_id):
                if self._stop_is_due(job):
                    self._pool.cancel(job.job_id)  # the worker is killed; record() ends the job
            elif not self._sse.is_active(job.job_id):
                self._store.update_job(
                    job.job_id,
                    {"status": CANCELLED, "ended_at": utc_now()},
                    only_from=[CANCELLING],
                )

    def _stop_is_due(self, job: JobRow) -> bool:
        """Whether the device's ``cancel_delay`` has passed since the job was seen cancelling."""
        seen = self._cancel_seen.setdefault(job.job_id, time.monotonic())
        device = self._store.get_device(job.device_id or "") or {}
        return time.monotonic() - seen >= float(device.get("cancel_delay", 0.0))

    def _promote_submitted(self) -> None:
        available: dict[str, bool] = {}
        for job in self._store.jobs_in([SUBMITTED]):
            device_id = job.device_id or ""
            if device_id not in available:
                device = self._store.get_device(device_id)
                available[device_id] = device is not None and device["status"] == AVAILABLE
            if available[device_id]:
                changes = {"status": READY, "ready_at": utc_now()}
                self._store.update_job(job.job_id, changes, only_from=[SUBMITTED])

    def _dispatch_ready(self) -> None:
        for job in self._store.jobs_in([READY]):
            if job.job_type == SSE:
                if self._sse.active_count() < self._settings.sse_slots and self._mark_running(job):
                    self._sse.start(job.job_id)
                continue
            if self._pool.has_idle_worker() and self._mark_running(job):
                self._submit(job)

    def _mark_running(self, job: JobRow) -> bool:
        changes = {"status": RUNNING, "running_at": utc_now()}
        return self._store.update_job(job.job_id, changes, only_from=[READY])

    # -- simulations ---------------------------------------------------------------------

    def _task_for(self, job: JobRow) -> Task:
        source = self._store.read_payload(job.job_id, "input") or {}
        device = self._store.get_device(job.device_id or "") or {}
        transpiler = job.transpiler_info or {}
        return Task(
            job_type=job.job_type or SAMPLING,
            programs=list(source.get("program") or []),
            shots=job.shots or 1,
            operator=list(source.get("operator") or []),
            seed=_seed_of(job.simulator_info),
            transpile=transpiler.get("transpiler_lib") is not None,
            max_qubits=int(device.get("n_qubits", 0)),
            delay=float(device.get("execution_delay", 0.0)),
            transpile_delay=float(device.get("transpile_delay", 0.0)),
            job_dir=str(self._store.job_dir(job.job_id)),
            memory_bytes=self._settings.worker_memory_bytes,
            limits=self._settings.cost_limits,
            device_id=job.device_id or "",
            device_info=emulated_device_info(device),
            transpiler_info=dict(transpiler),
            mitigation_info=dict(job.mitigation_info or {}),
        )

    def _submit(self, job: JobRow) -> None:
        try:
            task = self._task_for(job)  # a damaged input file is a ValueError too
        except ValueError as e:
            self.record(job.job_id, Outcome(False, False, str(e)))
            return
        if not self._pool.try_run(job.job_id, task):
            # Not expected (only this thread dispatches); the job waits for the next round.
            back = {"status": READY, "running_at": None}
            self._store.update_job(job.job_id, back, only_from=[RUNNING])

    def _on_done(self, job_id: str, outcome: Outcome) -> None:
        try:
            self.record(job_id, outcome)
        except Exception:  # a watcher thread must outlive one bad record; the log shows it
            traceback.print_exc()
        self._wake.set()

    def record(self, job_id: str, outcome: Outcome) -> None:
        """Store a finished task.

        A job cancelled meanwhile (``cancelling``) whose task succeeded before its worker
        was stopped ends ``succeeded`` with its result: the cancel lost the race. Any other
        end of a ``cancelling`` job is ``cancelled``, without result.
        """
        now = utc_now()
        if outcome.succeeded:
            try:
                self._store.commit_staged(job_id, outcome.staged)
            except OSError as e:
                outcome = Outcome(False, True, f"the result could not be stored: {e}")
        if outcome.succeeded:
            changes: dict[str, Any] = {
                "status": SUCCEEDED,
                "execution_time": outcome.execution_time,
                "ended_at": now,
            }
        else:
            self._remove_results(job_id)  # what a killed worker may have half staged
            changes = {"status": FAILED, "message": outcome.message, "ended_at": now}
            if not outcome.ran:
                changes.update(running_at=None, execution_time=None)
        # A success stands even when a cancel came first; a failure of a job being stopped
        # is the stop's doing (its worker was killed), so that job ends cancelled below.
        ended_from = [RUNNING, CANCELLING] if outcome.succeeded else [RUNNING]
        if not self._store.update_job(job_id, changes, only_from=ended_from):
            self._remove_results(job_id)
            self._store.update_job(
                job_id, {"status": CANCELLED, "ended_at": now}, only_from=[CANCELLING]
            )

    def _remove_results(self, job_id: str) -> None:
        for name in ("result", "transpile_result", "combined_program"):
            self._store.remove_payload(job_id, name)
