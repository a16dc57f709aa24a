"""Job sets: many sampling jobs submitted, awaited and collected as one, and resumable.

A job set submits one sampling job per program with bounded concurrency (or, with
``pack=True``, as many programs per ``multi_manual`` job as fit the device: see
:mod:`quri_parts_oqtopus.packing`), waits for all of them with one shared polling loop,
and returns results per program in submission order, with failures reported per program.
With a journal file it survives a crash of the client: every job id is written the moment
the job exists, and :meth:`OqtopusJobSet.resume` reattaches to what was submitted and
submits only the rest, so no job is lost or run twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from quri_parts.backend import BackendError
from quri_parts.circuit import NonParametricQuantumCircuit

from quri_parts_oqtopus._contract import (
    CANCELLED,
    FAILED,
    FINAL_STATUSES,
    JOB_STATUSES,
    MULTI_MANUAL,
    REGISTERED,
    SAMPLING,
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
from quri_parts_oqtopus.backend.base import client_of
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.backend.submission import (
    JobSettings,
    check_concurrency,
    submit_all,
    submit_job,
)
from quri_parts_oqtopus.backend.waiting import wait_for_jobs
from quri_parts_oqtopus.packing import (
    Layout,
    PackedJob,
    PackingPolicy,
    Slot,
    pack_input,
    plan_packs,
)
from quri_parts_oqtopus.sweep import ParameterSweep
from quri_parts_oqtopus.upload import JobInput, Programs, prepare_job_inputs

__all__ = ["JobSetProgress", "OqtopusJobFailure", "OqtopusJobSet"]

_JOURNAL_KIND = "quri-parts-oqtopus job set"
#: The status of a failure whose program never reached the server (not a job status).
_NOT_SUBMITTED = "not submitted"
# A journal line records a submission's step by the status the job then has.
_REGISTERED_EVENT, _SUBMITTED_EVENT, _FAILED_EVENT = REGISTERED, SUBMITTED, FAILED


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


@dataclass(eq=False)
class _Unit:
    """One job of a set: one program (``pack`` None, a ``sampling`` job) or a packed one."""

    indices: tuple[int, ...]
    pack: PackedJob | None
    job_input: JobInput | None  # None for a job adopted from a journal
    job: OqtopusSamplingJob | None = None
    error: str = ""  # why it was not submitted
    unpacked: list[OqtopusSamplingResult] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Packer:
    """The programs of a packed set and how they are packed (kept for resubmissions)."""

    programs: list[NonParametricQuantumCircuit | str]
    policy: PackingPolicy
    layout: Layout

    def units(self, indices: Sequence[int]) -> list[_Unit]:
        packs = plan_packs(self.programs, indices, self.layout, self.policy)
        return [_Unit(p.indices, p, pack_input(self.programs, p)) for p in packs]


class OqtopusJobSet:
    """Sampling jobs of many programs, handled as one. Make it with :meth:`submit`."""

    def __init__(
        self,
        backend: OqtopusSamplingBackend,
        size: int,
        settings: JobSettings,
        journal: _Journal | None,
        progress_bar: bool = False,
        *,
        inputs: Sequence[JobInput] = (),
        packer: _Packer | None = None,
    ) -> None:
        self._backend = backend
        self._size = size
        self._inputs = list(inputs)
        self._packer = packer
        self._settings = settings
        self._journal = journal
        self._units: list[_Unit] = []  # every job the set has made, oldest first
        self._unit_of: list[_Unit | None] = [None] * size
        self._progress_bar = progress_bar

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
            journal: A new file recording the set, for :meth:`resume` after a crash.
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

        Returns:
            The job set; submissions that failed are listed by :meth:`failures`.

        Raises:
            ValueError: For bad settings, an empty list, a program that cannot be written
                as OpenQASM 3, a program the device cannot run, a journal file that
                exists already, a bad ``pack``, or ``progress_bar`` without ``tqdm``
                installed; all before anything is submitted.
            BackendError: If ``check_device`` (or ``pack``) and the device cannot be read.

        """
        if progress_bar:
            _tqdm()  # refused before any work, not after the submissions
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
                packer = _Packer(listed, policy, Layout.of_device(device, policy))
        units = packer.units(range(len(listed))) if packer is not None else None
        writer = None
        if journal is not None:
            writer = _Journal.create(
                Path(journal), backend.config.url, settings, len(listed), policy
            )
        job_set = cls(
            backend, len(listed), settings, writer, progress_bar, inputs=inputs, packer=packer
        )
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
    ) -> OqtopusJobSet:
        """Reattach to a journaled job set and submit the programs it never submitted.

        A job that was registered but whose submission is not recorded is looked up: if
        the server shows it submitted, it is adopted; otherwise it never runs, and the
        program is submitted afresh. So each program runs once. A packed set stays
        packed: the programs still to submit are packed again with its policy (the device
        is read for it). ``progress_bar`` is as in :meth:`submit`.

        Raises:
            ValueError: If the journal is not a job set journal, belongs to another URL,
                ``programs`` is not the same number of programs, or ``progress_bar`` is
                asked for without ``tqdm`` installed.
            BackendError: If a recorded job (or, for a packed set, the device) cannot be
                read from the server.

        """
        if progress_bar:
            _tqdm()
        header, events = _Journal.read(Path(journal))
        listed = _program_list(programs)
        if header["size"] != len(listed):
            raise ValueError(
                f"journal {str(journal)!r} holds {header['size']} programs, got {len(listed)}"
            )
        backend = OqtopusSamplingBackend(config)
        if header["url"] != backend.config.url:
            raise ValueError(
                f"journal {str(journal)!r} belongs to {header['url']!r}, not {backend.config.url!r}"
            )
        settings = JobSettings.from_dict(header["settings"])
        packer = inputs = None
        if header.get("packing") is not None:
            policy = PackingPolicy.from_dict(header["packing"])
            device = OqtopusDeviceBackend(backend.config).get_device(settings.device_id)
            packer = _Packer(listed, policy, Layout.of_device(device, policy))
        else:
            inputs = prepare_job_inputs(programs)
        job_set = cls(
            backend,
            len(listed),
            settings,
            _Journal(Path(journal)),
            progress_bar,
            inputs=inputs or [],
            packer=packer,
        )
        missing = job_set._adopt(events)
        job_set._submit_indices(missing, concurrency)
        return job_set

    # -- using it --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    @property
    def jobs(self) -> list[OqtopusSamplingJob | None]:
        """The job of each program (shared by the programs of a packed job), None where
        the submission failed."""
        return [None if unit is None else unit.job for unit in self._unit_of]

    def wait(
        self,
        timeout: float | None = None,
        wait: float = 1.0,
        on_progress: Callable[[JobSetProgress], None] | None = None,
        progress_bar: bool | None = None,
    ) -> bool:
        """Wait until every submitted job has ended, polling all of them in one loop.

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
        bar = _WaitBar(len(jobs)) if show_bar else None

        def report(polled: Sequence[OqtopusJobBase]) -> None:
            progress = JobSetProgress(_by_status(polled), len(polled))
            if bar is not None:
                bar.show(progress)
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
        job still running is reported as a failure with its status, never waited for here.
        """
        return [self._result(index) for index in range(len(self))]

    def failures(self) -> list[OqtopusJobFailure]:
        """The programs without a result, and why (every program of a failed packed job)."""
        return [r for r in self.results() if isinstance(r, OqtopusJobFailure)]

    def resubmit_failed(self, concurrency: int = 4) -> list[int]:
        """Submit again every program whose job failed, was cancelled or never went out.

        The programs of a packed set are packed again among themselves.

        Returns:
            The indices submitted again.

        """
        ended = (FAILED, CANCELLED, _NOT_SUBMITTED)
        indices = [failure.index for failure in self.failures() if failure.status in ended]
        self._submit_indices(indices, concurrency)
        return indices

    def save(self, path: str | Path) -> None:
        """Write a journal of the set as it stands now, for :meth:`resume` elsewhere."""
        policy = None if self._packer is None else self._packer.policy
        url = self._backend.config.url
        journal = _Journal.create(Path(path), url, self._settings, len(self), policy)
        current = {id(unit) for unit in self._unit_of if unit is not None}
        for unit in self._units:  # oldest first: a later job of a program supersedes it
            if unit.job is not None and id(unit) in current:
                journal.record(unit, unit.job.job_id, _SUBMITTED_EVENT)

    # -- internals -------------------------------------------------------------------------
    def _current_jobs(self) -> list[OqtopusSamplingJob]:
        jobs = {id(u.job): u.job for u in self._unit_of if u is not None and u.job is not None}
        return list(jobs.values())

    def _submit_indices(self, indices: Sequence[int], concurrency: int) -> None:
        if not indices:
            return
        if self._packer is None:
            units = [_Unit((i,), None, self._inputs[i]) for i in indices]
        else:
            units = self._packer.units(indices)
        self._submit_units(units, concurrency)

    def _submit_units(self, units: Sequence[_Unit], concurrency: int) -> None:
        for unit in units:
            self._units.append(unit)
            for index in unit.indices:
                self._unit_of[index] = unit
        bar = _SubmitBar(len(units)) if self._progress_bar else None

        def submit(unit: _Unit) -> OqtopusSamplingJob:
            try:
                return self._submit_one(unit)
            finally:
                if bar is not None:
                    bar.step()

        calls = [partial(submit, unit) for unit in units]
        # Each failure is kept per job (unit.error, the journal): not raised as one.
        try:
            with contextlib.suppress(BackendError):
                submit_all(calls, concurrency)
        finally:
            if bar is not None:
                bar.close()

    def _submit_one(self, unit: _Unit) -> OqtopusSamplingJob:
        settings = self._settings
        if settings.name is not None:
            settings = settings.named(f"{settings.name}#{_index_text(unit.indices)}")

        def registered(job_id: str) -> None:
            if self._journal is not None:
                self._journal.record(unit, job_id, _REGISTERED_EVENT)

        assert unit.job_input is not None  # only units made here are submitted
        job_type = SAMPLING if unit.pack is None else MULTI_MANUAL
        try:
            record = submit_job(
                client_of(self._backend), job_type, unit.job_input.archive, settings, registered
            )
        except BackendError as error:
            unit.error = str(error)
            if self._journal is not None:
                self._journal.record(unit, None, _FAILED_EVENT, str(error))
            raise
        job = OqtopusSamplingJob(record, client_of(self._backend))
        unit.job, unit.error = job, ""
        if self._journal is not None:
            self._journal.record(unit, job.job_id, _SUBMITTED_EVENT)
        return job

    def _adopt(self, events: list[dict[str, Any]]) -> list[int]:
        """Attach the recorded jobs; the indices still to submit."""
        latest: dict[int, dict[str, Any]] = {}
        for event in events:
            if event["event"] != _FAILED_EVENT:
                for index in _event_unit(event)[0]:
                    latest[index] = event
        adopted: dict[int, _Unit] = {}  # by id() of the event that recorded the job
        missing = []
        for index in range(len(self)):
            recorded = latest.get(index)
            if recorded is None:
                missing.append(index)
                continue
            unit = adopted.get(id(recorded))
            if unit is None:
                indices, pack = _event_unit(recorded)
                job = self._attach(recorded["job_id"], recorded["event"])
                unit = adopted[id(recorded)] = _Unit(indices, pack, None, job)
                if job is not None:
                    self._units.append(unit)
            if unit.job is None:
                missing.append(index)
            else:
                self._unit_of[index] = unit
        return missing

    def _attach(self, job_id: str, event: str) -> OqtopusSamplingJob | None:
        client = client_of(self._backend)
        record = JobRecord(client.get_job(job_id))
        if event == _REGISTERED_EVENT and record.status == REGISTERED:
            return None  # never submitted: it will never run, so submit the program afresh
        return OqtopusSamplingJob(record, client)

    def _result(self, index: int) -> OqtopusSamplingResult | OqtopusJobFailure:
        unit = self._unit_of[index]
        shared = () if unit is None or unit.pack is None else unit.indices
        if unit is None or unit.job is None:
            reason = unit.error if unit is not None and unit.error else "never submitted"
            return OqtopusJobFailure(index, None, _NOT_SUBMITTED, reason, shared)
        job = unit.job
        about = "" if unit.pack is None else f"packed job {job.job_id} of programs {shared}: "
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


class _Journal:
    """An append-only JSON-lines file: a header, then one line per submission event.

    Each line is appended and the file closed again at once, so that a killed process
    loses nothing it recorded and no handle stays open. A line names the program of its
    job (``index``) or, for a packed job, every program's place in it (``slots``).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls,
        path: Path,
        url: str,
        settings: JobSettings,
        size: int,
        packing: PackingPolicy | None = None,
    ) -> _Journal:
        header: dict[str, Any] = {"kind": _JOURNAL_KIND, "version": 1, "url": url, "size": size}
        if packing is not None:
            header["packing"] = packing.as_dict()
        try:
            with path.open("xb") as file:
                file.write(orjson.dumps({**header, "settings": settings.as_dict()}) + b"\n")
        except FileExistsError:
            raise ValueError(f"journal already exists: {str(path)!r} (resume it instead)") from None
        return cls(path)

    @staticmethod
    def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ValueError(f"cannot read journal {str(path)!r}: {error}") from error
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                if number == len(lines):
                    break  # the last line was being written when the process died
                raise ValueError(f"journal {str(path)!r}, line {number}, is not JSON") from None
        if not entries or entries[0].get("kind") != _JOURNAL_KIND:
            raise ValueError(f"not a job set journal: {str(path)!r}")
        return entries[0], entries[1:]

    def record(self, unit: _Unit, job_id: str | None, event: str, error: str = "") -> None:
        line: dict[str, Any] = {"job_id": job_id, "event": event}
        if unit.pack is None:
            line["index"] = unit.indices[0]
        else:
            line["slots"] = [[s.index, s.lead, s.bits] for s in unit.pack.slots]
        if error:
            line["error"] = error
        self._write(line)

    def _write(self, line: dict[str, Any]) -> None:
        with self._lock, self._path.open("ab") as file:
            file.write(orjson.dumps(line) + b"\n")


def _event_unit(event: Mapping[str, Any]) -> tuple[tuple[int, ...], PackedJob | None]:
    """The programs a journal line is about, and their packing (None: a job of its own)."""
    if "slots" not in event:
        return (int(event["index"]),), None
    pack = PackedJob(tuple(Slot(int(i), int(lead), int(bits)) for i, lead, bits in event["slots"]))
    return pack.indices, pack


def _index_text(indices: Sequence[int]) -> str:
    """``3`` for one program, ``0-15`` for a run, ``1,4-6`` otherwise (a packed job's name)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


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


def _by_status(jobs: Sequence[OqtopusJobBase]) -> dict[str, int]:
    """Jobs counted by status, in the contract's status order (others last, by name)."""
    counts = Counter(job.status for job in jobs)
    ordered: dict[str, int] = {s: counts.pop(s) for s in JOB_STATUSES if s in counts}
    ordered.update(sorted(counts.items()))
    return ordered


def _tqdm() -> Callable[..., Any]:
    """The ``tqdm`` class, or the ``ValueError`` that says how to install it."""
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional dependency, loaded on demand
    except ImportError:
        raise ValueError(
            "progress_bar=True needs tqdm: pip install 'quri-parts-oqtopus[progress]'"
        ) from None
    bar_class: Callable[..., Any] = tqdm
    return bar_class


class _SubmitBar:
    """The submit phase: one step per program handed to the server (or refused)."""

    def __init__(self, total: int) -> None:
        self._bar = _tqdm()(total=total, unit="job", desc="submit")
        self._lock = threading.Lock()  # steps come from the submission threads

    def step(self) -> None:
        with self._lock:
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class _WaitBar:
    """The wait phase: ended jobs out of all, and the counts by status of each round."""

    def __init__(self, total: int) -> None:
        self._bar = _tqdm()(total=total, unit="job", desc="wait")

    def show(self, progress: JobSetProgress) -> None:
        # Set everything first, then draw once: update() and set_postfix() would each draw.
        self._bar.n = progress.ended
        self._bar.set_postfix(progress.by_status, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
