"""Job sets: many sampling jobs as one, with a journal that survives the client.

:mod:`~quri_parts_oqtopus.batch.jobset` is the set itself, :mod:`~quri_parts_oqtopus.batch.journal`
its journal file (format, lock, program fingerprints, reading and repair), and
:mod:`~quri_parts_oqtopus.batch.progress` its ``tqdm`` bars. ``quri_parts_oqtopus.jobset``
re-exports the public names.
"""

from quri_parts_oqtopus.batch.jobset import JobSetProgress, OqtopusJobFailure, OqtopusJobSet

__all__ = ["JobSetProgress", "OqtopusJobFailure", "OqtopusJobSet"]
