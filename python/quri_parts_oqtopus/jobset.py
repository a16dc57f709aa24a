"""Job sets: many sampling jobs submitted, awaited and collected as one, and resumable.

A job set submits one sampling job per program with bounded concurrency (or, with
``pack=True``, as many programs per ``multi_manual`` job as fit the device: see
:mod:`quri_parts_oqtopus.packing`), waits for all of them with one shared polling loop,
and returns results per program in submission order, with failures reported per program.
With a journal file it survives a crash of the client: :meth:`OqtopusJobSet.resume`
reattaches to what was submitted and submits only the rest, so each program runs once.

This module is the public import path; the code lives in :mod:`quri_parts_oqtopus.batch`.
"""

from quri_parts_oqtopus.batch.jobset import JobSetProgress, OqtopusJobFailure, OqtopusJobSet

__all__ = ["JobSetProgress", "OqtopusJobFailure", "OqtopusJobSet"]
