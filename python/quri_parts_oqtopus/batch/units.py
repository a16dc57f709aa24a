"""The jobs of a job set: each one program, or several packed; submitted with their journal
lines, and found again on the server after a crash or a failed submission."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from quri_parts.backend import BackendError
from quri_parts.circuit import NonParametricQuantumCircuit

from quri_parts_oqtopus._contract import FAILED, MULTI_MANUAL, REGISTERED, SAMPLING, SUBMITTED
from quri_parts_oqtopus._http import OqtopusHttpError
from quri_parts_oqtopus._job_api import http_api
from quri_parts_oqtopus.backend import (
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
)
from quri_parts_oqtopus.backend.base import client_of
from quri_parts_oqtopus.backend.record import JobRecord
from quri_parts_oqtopus.backend.submission import JobSettings, submit_all, submit_job
from quri_parts_oqtopus.batch.journal import Journal, JournalEvent, JournalWriteError
from quri_parts_oqtopus.batch.packing import (
    Layout,
    PackedJob,
    PackingPolicy,
    pack_input,
    pinned_transpiler_info,
    plan_packs,
)
from quri_parts_oqtopus.batch.progress import SubmitBar
from quri_parts_oqtopus.formats.upload import JobInput

__all__ = ["Packer", "Unit", "UnitSubmitter", "index_text"]


@dataclass(eq=False)
class Unit:
    """One job of a set: one program (``pack`` None, a ``sampling`` job) or a packed one."""

    indices: tuple[int, ...]
    pack: PackedJob | None
    job_input: JobInput | None  # None for a job adopted from a journal
    job: OqtopusSamplingJob | None = None
    error: str = ""  # why it was not submitted
    registered_id: str | None = None  # the job a failed submission made: looked up first
    unpacked: list[OqtopusSamplingResult] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Packer:
    """The programs of a packed set and how they are packed (kept for resubmissions)."""

    programs: list[NonParametricQuantumCircuit | str]
    policy: PackingPolicy
    layout: Layout

    def units(self, indices: Sequence[int]) -> list[Unit]:
        """The packed jobs of the programs at ``indices``, in order."""
        packs = plan_packs(self.programs, indices, self.layout, self.policy)
        return [Unit(p.indices, p, pack_input(self.programs, p)) for p in packs]


@dataclass
class UnitSubmitter:
    """Submits a set's units, each step recorded in its journal (if any) as it happens."""

    backend: OqtopusSamplingBackend
    settings: JobSettings
    journal: Journal | None
    progress_bar: bool

    def submit(self, units: Sequence[Unit], concurrency: int) -> None:
        """Submit ``units``, at most ``concurrency`` at a time; each failure is kept in
        its unit's ``error`` (and the journal), not raised."""
        bar = SubmitBar(len(units)) if self.progress_bar else None

        def submit(unit: Unit) -> OqtopusSamplingJob:
            try:
                return self._submit_one(unit)
            finally:
                if bar is not None:
                    bar.step()

        try:
            with contextlib.suppress(BackendError):
                submit_all([partial(submit, unit) for unit in units], concurrency)
        finally:
            if bar is not None:
                bar.close()

    def _submit_one(self, unit: Unit) -> OqtopusSamplingJob:
        journal = self.journal
        if journal is not None and journal.write_error is not None:
            # Stop at the first line that could not be written: a job the journal does not
            # know of could run twice after a crash.
            unit.error = _unrecorded(journal.write_error)
            raise JournalWriteError(journal.path, "an earlier line could not be written")
        settings = self.settings
        if unit.pack is not None and unit.pack.layout is not None:
            pinned = pinned_transpiler_info(settings.transpiler_info, unit.pack.layout)
            settings = dataclasses.replace(settings, transpiler_info=pinned)
        if settings.name is not None:
            settings = settings.named(f"{settings.name}#{index_text(unit.indices)}")

        def registered(job_id: str) -> None:
            unit.registered_id = job_id
            if journal is not None:
                journal.record(REGISTERED, job_id, unit.indices, unit.pack)

        assert unit.job_input is not None  # only units made here are submitted
        job_type = SAMPLING if unit.pack is None else MULTI_MANUAL
        client = client_of(self.backend)
        try:
            record = submit_job(client, job_type, unit.job_input, settings, registered)
        except JournalWriteError as error:  # the submission deleted the job: it cannot run
            unit.error = _unrecorded(error)
            raise
        except BackendError as error:
            unit.error = str(error)
            if journal is not None:
                with contextlib.suppress(JournalWriteError):  # kept as its write_error
                    journal.record(FAILED, unit.registered_id, unit.indices, unit.pack, str(error))
            raise
        job = OqtopusSamplingJob(record, client)
        unit.job, unit.error, unit.registered_id = job, "", None
        if journal is not None:
            journal.record(SUBMITTED, job.job_id, unit.indices, unit.pack)
        return job

    def adopted(self, event: JournalEvent) -> Unit | None:
        """The unit of a journal line's job, or None when its programs are to be submitted.

        Raises:
            BackendError: If the job cannot be read, or was recorded as submitted and is
                gone; the message names the journal line.

        """
        if event.job_id is None:
            return None  # refused before any job was made
        try:
            job = self.running_job(event.job_id, recorded_submitted=event.event == SUBMITTED)
        except BackendError as error:
            where = "" if self.journal is None else f"journal {str(self.journal.path)!r}, "
            raise BackendError(
                f"{where}line {event.line}: job {event.job_id} of program "
                f"{index_text(event.indices)} cannot be read: {error}"
            ) from error
        return None if job is None else Unit(event.indices, event.pack, None, job)

    def running_job(
        self, job_id: str, *, recorded_submitted: bool = False
    ) -> OqtopusSamplingJob | None:
        """The job ``job_id`` if it was submitted; None if it never will run: gone (unless
        recorded as submitted), or registered only (then deleted, so that no late submit
        can run it beside the program's new job).

        Raises:
            BackendError: If the job cannot be read.

        """
        client = client_of(self.backend)
        record = self._record(job_id, recorded_submitted)
        if record is not None and record.status == REGISTERED:
            try:
                http_api(client, f"delete job {job_id}").delete_job(job_id)
            except BackendError:  # deleted all the same (a lost answer), or submitted meanwhile?
                record = self._record(job_id, recorded_submitted)
            else:
                return None
        if record is None or record.status == REGISTERED:
            return None
        return OqtopusSamplingJob(record, client)

    def _record(self, job_id: str, recorded_submitted: bool) -> JobRecord | None:
        """The job's record; None if it is gone and was never recorded as submitted."""
        try:
            return JobRecord(client_of(self.backend).get_job(job_id))
        except OqtopusHttpError as error:
            if error.status == 404 and not recorded_submitted:
                return None  # its submission was refused and the client deleted it
            raise


def _unrecorded(error: JournalWriteError) -> str:
    """A program's failure when its job could not be recorded (it was not submitted)."""
    return f"not submitted: {error} (make room, then resubmit_failed() or resume the journal)"


def index_text(indices: Sequence[int]) -> str:
    """``3`` for one program, ``0-15`` for a run, ``1,4-6`` otherwise (a packed job's name)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
