# ruff: noqa: PLC0414 -- `X as X` re-exports (for mypy) the names outside __all__ that
# were importable from this path before the move: they stay importable.
"""Packing many small circuits into ``multi_manual`` jobs: the policy, the plan, the unpacking.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.batch.packing`.
"""

from quri_parts_oqtopus.batch.packing import (
    MAX_PACKED_BITS,
    PackedSampler,
    PackingPolicy,
    pinned_transpiler_info,
)
from quri_parts_oqtopus.batch.packing import (
    Layout as Layout,
)
from quri_parts_oqtopus.batch.packing import (
    PackedJob as PackedJob,
)
from quri_parts_oqtopus.batch.packing import (
    Slot as Slot,
)
from quri_parts_oqtopus.batch.packing import (
    group_by_shots as group_by_shots,
)
from quri_parts_oqtopus.batch.packing import (
    pack_input as pack_input,
)
from quri_parts_oqtopus.batch.packing import (
    packed_sampler as packed_sampler,
)
from quri_parts_oqtopus.batch.packing import (
    placed_programs as placed_programs,
)
from quri_parts_oqtopus.batch.packing import (
    plan_packs as plan_packs,
)
from quri_parts_oqtopus.batch.packing import (
    slot_regions as slot_regions,
)

__all__ = [
    "MAX_PACKED_BITS",
    "PackedSampler",
    "PackingPolicy",
    "pinned_transpiler_info",
]
