# ruff: noqa: PLC0414 -- `X as X` re-exports (for mypy) the names outside __all__ that
# were importable from this path before the move: they stay importable.
"""Where the programs of a packed job go on a device: disjoint regions of its coupling map.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.batch.placement`.
"""

from quri_parts_oqtopus.batch.placement import (
    CHOICES as CHOICES,
)
from quri_parts_oqtopus.batch.placement import (
    MAX_EMBEDDINGS as MAX_EMBEDDINGS,
)
from quri_parts_oqtopus.batch.placement import (
    DeviceMap,
    JobPlacement,
    ProgramGraph,
    RegionChoice,
    random_region_error,
)

__all__ = [
    "DeviceMap",
    "JobPlacement",
    "ProgramGraph",
    "RegionChoice",
    "random_region_error",
]
