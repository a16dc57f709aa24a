"""Counts of sampling results: bit-string keys decoded to ints, and per-program splits.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.counts`.
"""

from quri_parts_oqtopus.formats.counts import (
    decode_counts,
    decode_divided_counts,
    decode_sampling_archive,
    split_counts,
)

__all__ = [
    "decode_counts",
    "decode_divided_counts",
    "decode_sampling_archive",
    "split_counts",
]
