"""Job sets: many sampling jobs submitted, awaited and collected as one, and resumable.

A job set submits one sampling job per program with bounded concurrency (or, with
``pack=True``, as many programs per ``multi_manual`` job as fit the device: see
:mod:`quri_parts_oqtopus.packing`), waits for all of them with one shared polling loop,
and returns results per program in submission order, with failures reported per program.
With a journal file it survives a crash of the client: every job id is written the moment
the job exists, and :meth:`OqtopusJobSet.resume` reattaches to what was submitted and
submits only the rest, so no job is lost or run twice (see
:mod:`quri_parts_oqtopus.batch.journal`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quri_parts.backend import BackendError
from quri_parts.circuit import NonParametricQuantumCircuit

from quri_parts_oqtopus._contract import (
    CANCELLED,
    FAILED,
    FINAL_STATUSES,
    SUBMITTED,
    SUCCEEDED,
)
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
)
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.backend.submission import JobSettings, check_concurrency
from quri_parts_oqtopus.backend.waiting import wait_for_jobs
from quri_parts_oqtopus.batch.budget import BudgetTracker, JobSetBudget
from quri_parts_oqtopus.batch.journal import (
    Journal,
    JournalEvent,
    JournalHeader,
    fingerprint_mismatch,
    latest_events,
)
from quri_parts_oqtopus.batch.packing import Layout, PackingPolicy
from quri_parts_oqtopus.batch.progress import WaitBar, tqdm_class
from quri_parts_oqtopus.batch.units import Packer, Unit, UnitSubmitter
from quri_parts_oqtopus.formats.sweep import ParameterSweep
from quri_parts_oqtopus.formats.upload import JobInput, Programs, prepare_job_inputs
from quri_parts_oqtopus.metrics import TimingsSummary, count_by_status, job_timing, timings_summary
from quri_parts_oqtopus.notebook import job_set_html

__all__ = ["JobSetProgress", "OqtopusJobFailure", "OqtopusJobSet"]

#: The status of a failure whose program never reached the server (not a job status).
_NOT_SUBMITTED = "not submitted"


@dataclass(frozen=True)
class OqtopusJobFailure:
    """Why one program of a job set has no result.

    Attributes:
        index: The program's position in the set.
        job_id: The job's id, or None when it was never submitted.
        status: The job's final status (``failed``, ``cancelled``) or ``not submitted``.
        message: The reason, as the server or the client gave it.
        packed_with: The positions of every program of its packed job (this one included);
            empty for a job of its own.

    """

    index: int
    job_id: str | None
    status: str
    message: str
    packed_with: tuple[int, ...] = ()


@dataclass(frozen=True)
class JobSetProgress:
    """How far a job set has come: counts of jobs by status, and the total.

    ``by_status`` lists the statuses present in the order a job goes through them
    (``registered``, ``submitted``, ``ready``, ``running``, ``succeeded``, ``failed``,
    ``cancelling``, ``cancelled``; any other status last), the same order every round.
    """

    by_status: dict[str, int]
    total: int

    @property
    def ended(self) -> int:
        """Jobs that have ended (succeeded, failed or cancelled)."""
        return sum(self.by_status.get(s, 0) for s in FINAL_STATUSES)


class OqtopusJobSet:
    """Sampling jobs of many programs, handled as one. Make it with :meth:`submit`.

    A set with a journal holds the journal file's lock until :meth:`close` (also called on
    leaving a ``with`` block, and when the set is garbage-collected).
    """

    def __init__(
        self,
        backend: OqtopusSamplingBackend,
        size: int,
        settings: JobSettings,
        journal: Journal | None,
        progress_bar: bool = False,
        *,
        inputs: Sequence[JobInput] = (),
        packer: Packer | None = None,
        budget: JobSetBudget | None = None,
    ) -> None:
        self._backend = backend
        self._tracker = BudgetTracker(budget or JobSetBudget())
        self._size = size
        self._inputs = list(inputs)
        self._packer = packer
        self._settings = settings
        self._journal = journal
        self._closed = False
        self._submitter = UnitSubmitter(backend, settings, journal, progress_bar)
        self._units: list[Unit] = []  # every job the set has made, oldest first
        self._unit_of: list[Unit | None] = [None] * size
        self._progress_bar = progress_bar
        self._fingerprints: tuple[str, ...] | None = None

    # -- making a job set ------------------------------------------------------------------
    @classmethod
    def submit(
        cls,
        programs: Sequence[NonParametricQuantumCircuit | str] | ParameterSweep,
        device_id: str,
        shots: int,
        config: OqtopusConfig | None = None,
        *,
        concurrency: int = 4,
        journal: str | Path | None = None,
        check_device: bool = True,
        name: str | None = None,
        description: str | None = None,
        transpiler_info: dict[str, Any] | None = None,
        simulator_info: dict[str, Any] | None = None,
        mitigation_info: dict[str, Any] | None = None,
        progress_bar: bool = False,
        pack: bool | PackingPolicy = False,
        max_jobs: int | None = None,
        max_total_time: float | None = None,
        tags: Sequence[str] | None = None,
    ) -> OqtopusJobSet:
        """Submit one sampling job per program (circuit or OpenQASM 3 text), or pack them.

        A :class:`~quri_parts_oqtopus.sweep.ParameterSweep` submits one job per binding of
        one parametric circuit; the circuit is read once and only the angles are printed
        per job.

        Args:
            programs: The circuits or QASM texts (or a sweep), in the order results come
                back.
            device_id: The device the jobs run on.
            shots: Shots of every job.
            config: The OQTOPUS configuration (None: environment, then ``~/.oqtopus``).
            concurrency: At most this many submissions at a time.
            journal: A new file recording the set (and the SHA-256 of each program's
                OpenQASM 3 text), for :meth:`resume` after a crash. The set holds it
                locked until :meth:`close`. If a line cannot be written (a full disk), the
                programs not yet submitted are not submitted: each failure says so.
            check_device: Read the device first and refuse programs it cannot run (too
                many qubits, device unavailable) before anything is submitted.
            name: Name of every job (``#index`` is appended; ``#first-last`` for a packed
                job).
            description: Description of every job.
            transpiler_info: The transpiler information of every job.
            simulator_info: The simulator information of every job.
            mitigation_info: The mitigation information of every job.
            progress_bar: Show a ``tqdm`` bar of the submissions, and by default of the
                :meth:`wait` that follows (needs the ``progress`` extra).
            pack: True or a :class:`~quri_parts_oqtopus.packing.PackingPolicy`: put as
                many programs per ``multi_manual`` job as fit the device (which is read
                for it); each program's result is still its own, as unpacked.
            max_jobs: Submit at most this many jobs (a packed job counts once); the
                programs beyond fail as not submitted, saying so (see :attr:`tracker`).
            max_total_time: Seconds of device time (the jobs' ``execution_time``) the set
                may use; once its ended jobs reach it, :meth:`wait` cancels the jobs that
                have not ended and nothing more is submitted.
            tags: Tags of every job (see :mod:`~quri_parts_oqtopus.backend.tags`): kept
                in each job's description, found again with ``list_jobs(tags=...)``.

        Returns:
            The job set; submissions that failed are listed by :meth:`failures`.

        Raises:
            ValueError: For bad settings, an empty list, a program that cannot be written
                as OpenQASM 3, a program the device cannot run, a journal file that
                exists already (or a platform without file locks: Windows), a bad
                ``pack``, or ``progress_bar`` without ``tqdm`` installed; all before
                anything is submitted.
            OSError: If the journal file cannot be made or its first line written (the
                file is removed again), before anything is submitted.
            BackendError: If ``check_device`` (or ``pack``) and the device cannot be read.

        """
        if progress_bar:
            tqdm_class()  # refused before any work, not after the submissions
        budget = JobSetBudget(max_jobs, max_total_time)
        policy = PackingPolicy.of(pack)
        listed = _program_list(programs)
        settings = JobSettings.checked(
            device_id,
            shots,
            name=name,
            description=description,
            transpiler_info=transpiler_info,
            simulator_info=simulator_info,
            mitigation_info=mitigation_info,
            tags=tags,
        )
        check_concurrency(concurrency)
        inputs = prepare_job_inputs(programs) if policy is None else []
        backend = OqtopusSamplingBackend(config)
        packer = None
        if check_device or policy is not None:
            device = OqtopusDeviceBackend(backend.config).get_device(device_id)
            if check_device:
                device.check_fits([_widest(programs)], shots)
            if policy is not None:
                layout = Layout.of_device(device, policy, settings.transpiler_info)
                packer = Packer(listed, policy, layout)
        units = packer.units(range(len(listed))) if packer is not None else None
        writer = fingerprints = None
        if journal is not None:
            fingerprints = _fingerprints(inputs if policy is None else prepare_job_inputs(listed))
            header = JournalHeader(backend.config.url, len(listed), settings, policy, fingerprints)
            writer = Journal.create(Path(journal), header)
        with _released_on_error(writer):
            job_set = cls(
                backend,
                len(listed),
                settings,
                writer,
                progress_bar,
                inputs=inputs,
                packer=packer,
                budget=budget,
            )
            job_set._fingerprints = fingerprints
            if units is None:
                job_set._submit_indices(range(len(listed)), concurrency)
            else:
                job_set._submit_units(units, concurrency)
        return job_set

    @classmethod
    def resume(
        cls,
        journal: str | Path,
        programs: Sequence[NonParametricQuantumCircuit | str] | ParameterSweep,
        config: OqtopusConfig | None = None,
        *,
        concurrency: int = 4,
        progress_bar: bool = False,
        max_jobs: int | None = None,
        max_total_time: float | None = None,
    ) -> OqtopusJobSet:
        """Reattach to a journaled job set and submit the programs it never submitted.

        The programs must be the ones submitted: each program's OpenQASM 3 text is checked
        against the SHA-256 the journal recorded (version 1 journals, written by earlier
        clients, have none and are not checked). A job that was registered but whose
        submission is not recorded is looked up: if the server shows it submitted, it is
        adopted; if it is still registered it is deleted (so that it never runs); if it is
        gone, or its submission was refused, its program is submitted afresh. So each
        program runs once. A packed set stays packed: the programs still to submit are packed again
        with its policy (the device is read for it). ``progress_bar`` is as in
        :meth:`submit`, and so are ``max_jobs`` and ``max_total_time`` (a budget is not
        journaled: give it again; the adopted jobs count against it). The set holds the
        journal locked until :meth:`close`.

        Raises:
            ValueError: If the journal is not a job set journal (the message names the
                line and the field), another job set (in any process) holds it, it
                belongs to another URL, ``programs`` is not the same number of programs or
                not the same programs (the first that differs is named), or
                ``progress_bar`` is asked for without ``tqdm`` installed.
            BackendError: If a recorded job (or, for a packed set, the device) cannot be
                read from the server.

        """
        if progress_bar:
            tqdm_class()
        budget = JobSetBudget(max_jobs, max_total_time)
        check_concurrency(concurrency)
        listed = _program_list(programs)
        writer, header, events = Journal.open(Path(journal))
        with _released_on_error(writer):
            backend = OqtopusSamplingBackend(config)
            inputs = _checked_inputs(writer, header, programs, listed, backend.config.url)
            packer = None
            if header.packing is not None:
                policy = header.packing
                device = OqtopusDeviceBackend(backend.config).get_device(header.settings.device_id)
                layout = Layout.of_device(device, policy, header.settings.transpiler_info)
                packer = Packer(listed, policy, layout)
            job_set = cls(
                backend,
                len(listed),
                header.settings,
                writer,
                progress_bar,
                inputs=inputs if packer is None else (),
                packer=packer,
                budget=budget,
            )
            job_set._fingerprints = _fingerprints(inputs)
            missing = job_set._adopt(events)
            job_set._tracker.submitted(len(job_set._current_jobs()))
            job_set._submit_indices(missing, concurrency)
        return job_set

    # -- using it --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    def __enter__(self) -> OqtopusJobSet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the journal: its file is closed and its lock let go, so that another
        process may :meth:`resume` it.

        The jobs are left as they are, and :meth:`wait`, :meth:`results` and
        :meth:`failures` still work; :meth:`resubmit_failed` of a journaled set is
        refused afterwards. Leaving a ``with`` block closes the set, and so does its
        garbage collection. Closing again, or a set without a journal, does nothing.
        """
        if self._journal is not None:
            self._journal.close()
            self._closed = True

    @property
    def jobs(self) -> list[OqtopusSamplingJob | None]:
        """The job of each program (shared by the programs of a packed job), None where
        the submission failed."""
        return [None if unit is None else unit.job for unit in self._unit_of]

    @property
    def tracker(self) -> BudgetTracker:
        """The set's budget and where it stands: ``status`` (``TrackerStatus``: ``Empty``,
        ``Running``, ``Done``, ``Exceeded``), ``jobs_submitted``, ``total_run_time`` (device
        seconds of the ended jobs, as of the last :meth:`wait` round) and ``budget``."""
        return self._tracker

    def metrics(self) -> TimingsSummary:
        """How long the set's jobs took, from their timestamps as last read (no call to the
        server): jobs by status, the wall span from the first submission to the last end,
        the device time used (``execution_time`` summed), mean queued, running and total
        times, and the longest job. Per job: :func:`quri_parts_oqtopus.metrics.job_timing`.
        """
        return timings_summary(job_timing(job) for job in self._current_jobs())

    def _repr_html_(self) -> str:
        """The set as Jupyter shows it: programs, jobs by status, timings; as last read."""
        missing = sum(unit is None or unit.job is None for unit in self._unit_of)
        return job_set_html(len(self), missing, self.metrics())

    def wait(
        self,
        timeout: float | None = None,
        wait: float = 1.0,
        on_progress: Callable[[JobSetProgress], None] | None = None,
        progress_bar: bool | None = None,
    ) -> bool:
        """Wait until every submitted job has ended, polling all of them in one loop.

        With ``max_total_time``, each round also counts the device time of the ended jobs;
        once it reaches the budget, the jobs not yet ended are cancelled (a job already
        ``cancelling`` is not asked again), and the wait goes on until they end.

        Args:
            timeout: Seconds to wait; None waits for ever.
            wait: Seconds between polling rounds.
            on_progress: Called after each round with the counts of jobs by status (after
                the progress bar, if any, has been drawn for that round).
            progress_bar: Show a ``tqdm`` bar, drawn once per round with that round's
                counts (needs the ``progress`` extra); None: as given to :meth:`submit`.

        Returns:
            True when every job has ended, False when ``timeout`` passed first.

        Raises:
            ValueError: If ``progress_bar`` is asked for without ``tqdm`` installed,
                before anything is polled.
            BackendError: If a job cannot be read from the server.

        """
        jobs = self._current_jobs()
        show_bar = self._progress_bar if progress_bar is None else progress_bar
        bar = WaitBar(len(jobs)) if show_bar else None

        def report(polled: Sequence[OqtopusJobBase]) -> None:
            for job in self._tracker.track(polled):  # max_total_time reached: stop the rest
                with contextlib.suppress(BackendError):  # it may have ended meanwhile
                    job.cancel()
            progress = JobSetProgress(count_by_status(job.status for job in polled), len(polled))
            if bar is not None:
                bar.show(progress.ended, progress.by_status)
            if on_progress is not None:
                on_progress(progress)

        try:
            return wait_for_jobs(jobs, timeout, wait, on_round=report)
        finally:
            if bar is not None:
                bar.close()

    def results(self) -> list[OqtopusSamplingResult | OqtopusJobFailure]:
        """The result of each program, in order, or why it has none.

        A program of a packed job gets its own counts (keyed by its own bits, without
        ``divided_counts``), as a job of its own would give. Call after :meth:`wait`; a
        job not yet ended (``running``, or ``cancelling``, which may still end
        ``succeeded``) is reported as a failure with its status, never waited for here.
        """
        return [self._result(index) for index in range(len(self))]

    def failures(self) -> list[OqtopusJobFailure]:
        """The programs without a result, and why (every program of a failed packed job)."""
        return [r for r in self.results() if isinstance(r, OqtopusJobFailure)]

    def resubmit_failed(self, concurrency: int = 4) -> list[int]:
        """Submit again every program whose job failed, was cancelled or never went out.

        A program whose submission failed after its job was registered is looked up
        first: if that job was submitted after all, it is adopted instead. The programs
        of a packed set are packed again among themselves.

        Returns:
            The indices submitted again (not those the budget or a failed submission
            left out: :meth:`failures` says why).

        Raises:
            ValueError: If the set has a journal and was closed (resume the journal
                instead).
            BackendError: If the job a failed submission registered cannot be read.

        """
        if self._closed and self._journal is not None:
            raise ValueError(
                f"the job set is closed: its journal {str(self._journal.path)!r} is "
                "released (resume it to submit again)"
            )
        if self._journal is not None:
            self._journal.clear_write_error()  # the disk may have room again
        ended = (FAILED, CANCELLED, _NOT_SUBMITTED)
        indices = [failure.index for failure in self.failures() if failure.status in ended]
        found = self._found_submitted(indices)
        indices = [index for index in indices if index not in found]
        self._submit_indices(indices, concurrency)
        return [index for index in indices if (unit := self._unit_of[index]) and unit.job]

    def save(self, path: str | Path) -> None:
        """Write a journal of the set as it stands now, for :meth:`resume` elsewhere.

        Raises:
            ValueError: If the file exists already.
            OSError: If it cannot be written.

        """
        journal = Journal.create(Path(path), self._journal_header())
        try:
            current = {id(unit) for unit in self._unit_of if unit is not None}
            for unit in self._units:  # oldest first: a later job of a program supersedes it
                if unit.job is not None and id(unit) in current:
                    journal.record(SUBMITTED, unit.job.job_id, unit.indices, unit.pack)
        finally:
            journal.close()

    # -- internals -------------------------------------------------------------------------
    def _journal_header(self) -> JournalHeader:
        if self._fingerprints is None:
            packer = self._packer
            inputs = self._inputs if packer is None else prepare_job_inputs(packer.programs)
            self._fingerprints = _fingerprints(inputs)
        policy = None if self._packer is None else self._packer.policy
        url = self._backend.config.url
        return JournalHeader(url, len(self), self._settings, policy, self._fingerprints)

    def _current_jobs(self) -> list[OqtopusSamplingJob]:
        jobs = {id(u.job): u.job for u in self._unit_of if u is not None and u.job is not None}
        return list(jobs.values())

    def _submit_indices(self, indices: Sequence[int], concurrency: int) -> None:
        if not indices:
            return
        if self._packer is None:
            units = [Unit((i,), None, self._inputs[i]) for i in indices]
        else:
            units = self._packer.units(indices)
        self._submit_units(units, concurrency)

    def _submit_units(self, units: Sequence[Unit], concurrency: int) -> None:
        for unit in units:
            self._units.append(unit)
            for index in unit.indices:
                self._unit_of[index] = unit
        allowed = self._tracker.allow(len(units))
        for unit in units[allowed:]:
            unit.error = self._tracker.refusal()
        self._submitter.submit(units[:allowed], concurrency)
        self._tracker.submitted(sum(unit.job is not None for unit in units[:allowed]))

    def _adopt(self, events: Sequence[JournalEvent]) -> list[int]:
        """Attach the recorded jobs; the indices still to submit."""
        latest = latest_events(events)
        adopted: dict[int, Unit | None] = {}  # by the line of the event that recorded it
        missing = []
        for index in range(len(self)):
            event = latest.get(index)
            if event is not None and event.line not in adopted:
                adopted[event.line] = unit = self._submitter.adopted(event)
                if unit is not None:
                    self._units.append(unit)
            unit = None if event is None else adopted[event.line]
            if unit is None:
                missing.append(index)
            else:
                self._unit_of[index] = unit
        return missing

    def _found_submitted(self, indices: Sequence[int]) -> set[int]:
        """The programs among ``indices`` whose failed submission's job was submitted
        after all (its answer was lost): that job is adopted rather than submitted again."""
        found: set[int] = set()
        units = {id(unit): unit for i in indices if (unit := self._unit_of[i]) is not None}
        for unit in units.values():
            if unit.job is None and unit.registered_id is not None:
                unit.job = self._submitter.running_job(unit.registered_id)
                unit.registered_id = None
                if unit.job is not None:
                    unit.error = ""
                    found.update(unit.indices)
        return found

    def _result(self, index: int) -> OqtopusSamplingResult | OqtopusJobFailure:
        unit = self._unit_of[index]
        shared = () if unit is None or unit.pack is None else unit.indices
        if unit is None or unit.job is None:
            reason = unit.error if unit is not None and unit.error else "never submitted"
            return OqtopusJobFailure(index, None, _NOT_SUBMITTED, reason, shared)
        job = unit.job
        about = "" if unit.pack is None else f"packed job {job.job_id} of programs {shared}: "
        if job.status not in FINAL_STATUSES:  # running, or cancelling: it may still succeed
            message = f"{about}job {job.job_id} has not ended ({job.status}): wait() for it"
            return OqtopusJobFailure(index, job.job_id, job.status, message, shared)
        if job.status != SUCCEEDED:
            message = f"{about}{job.record.message}"
            return OqtopusJobFailure(index, job.job_id, job.status, message, shared)
        try:
            result = job.result(timeout=0)
            if unit.pack is None:
                return result
            if unit.unpacked is None:
                unit.unpacked = [
                    OqtopusSamplingResult.from_counts(counts, None)
                    for counts in unit.pack.counts(result, job.job_id)
                ]
        except (BackendError, ValueError) as error:
            return OqtopusJobFailure(index, job.job_id, job.status, f"{about}{error}", shared)
        return unit.unpacked[unit.indices.index(index)]


def _fingerprints(inputs: Sequence[JobInput]) -> tuple[str, ...]:
    """Each program's fingerprint: the SHA-256 of its OpenQASM 3 text, taken as printed."""
    return tuple(job_input.program_digests[0] for job_input in inputs)


@contextlib.contextmanager
def _released_on_error(journal: Journal | None) -> Iterator[None]:
    """Release the journal of a set that is not returned (an error while making it)."""
    try:
        yield
    except BaseException:
        if journal is not None:
            journal.close()
        raise


def _checked_inputs(
    journal: Journal,
    header: JournalHeader,
    programs: Programs,
    listed: Sequence[NonParametricQuantumCircuit | str],
    url: str,
) -> list[JobInput]:
    """The programs' upload documents, once they are known to be the journal's programs.

    Raises:
        ValueError: If the number of programs, the URL or a program's fingerprint differs.

    """
    where = f"journal {str(journal.path)!r}"
    if header.size != len(listed):
        raise ValueError(f"{where} holds {header.size} programs, got {len(listed)}")
    if header.url != url:
        raise ValueError(f"{where} belongs to {header.url!r}, not {url!r}")
    inputs = prepare_job_inputs(programs)  # for a packed set, only for the fingerprints
    if header.fingerprints is not None:
        given = [job_input.program_digests[0] for job_input in inputs]
        why = fingerprint_mismatch(header.fingerprints, given)
        if why is not None:
            raise ValueError(f"{where} was written for other programs: {why}")
    return inputs


def _program_list(programs: Programs) -> list[NonParametricQuantumCircuit | str]:
    """The programs as a list; an empty list or an empty text is refused here, before
    anything is sent."""
    listed = list(programs)
    if not isinstance(programs, ParameterSweep):
        for index, item in enumerate(listed):
            if isinstance(item, str) and not item.strip():
                raise ValueError(f"program {index} is an empty string")
    if len(listed) == 0:
        raise ValueError("a job set needs at least one program: got an empty list")
    return listed


def _widest(programs: Programs) -> int:
    """The most qubits a program of the set uses (0 for texts)."""
    if isinstance(programs, ParameterSweep):
        return int(programs.circuit.qubit_count)
    return max((p.qubit_count for p in programs if not isinstance(p, str)), default=0)
