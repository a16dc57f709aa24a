"""Counts of sampling results: bit-string keys decoded to ints, and per-program splits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from quri_parts.backend import SamplingCounts

from quri_parts_oqtopus import _core
from quri_parts_oqtopus.formats.upload import DEFAULT_MAX_INFLATED_BYTES

__all__ = ["decode_counts", "decode_divided_counts", "decode_sampling_archive", "split_counts"]


def decode_counts(raw: Mapping[Any, Any] | str | bytes) -> SamplingCounts:
    """``SamplingCounts`` (a ``Counter``) with int keys from server counts.

    ``raw`` maps bit strings (last character = classical bit 0, all of one width) or ints to
    counts, either as a mapping or as its JSON text; JSON is parsed without the GIL.

    Raises:
        ValueError: For invalid JSON, a key that is not a binary string, keys of mixed
            widths, or a count that is not a non-negative integer; the message names the key.

    """
    return _core.decode_counts(raw)


def decode_divided_counts(
    raw: Mapping[Any, Any] | str | bytes | None,
) -> dict[int, SamplingCounts] | None:
    """``{program index: SamplingCounts}`` from a server's ``divided_counts``, or None.

    None, an empty mapping and an empty string all mean "no divided counts".

    Raises:
        ValueError: For an index that is not an integer, or bad counts inside.

    """
    if raw is None:
        return None
    return _core.decode_divided_counts(raw)


def decode_sampling_archive(
    data: bytes, *, max_size: int = DEFAULT_MAX_INFLATED_BYTES
) -> tuple[SamplingCounts, dict[int, SamplingCounts] | None, dict[str, Any] | None]:
    """``(counts, divided_counts, mitigation_details)`` of a sampling result archive.

    The archive is a ZIP holding ``{"sampling": {"counts": ..., "divided_counts": ...}}``
    and, where the service mitigated, ``"mitigation_details"`` beside it (None when absent
    or not an object); it is inflated and parsed in Rust without the GIL.

    Raises:
        quri_parts_oqtopus.upload.ArchiveTooLargeError: If the result holds more than
            ``max_size`` bytes once inflated (a ``ValueError``; nothing is inflated then).
        ValueError: For a bad archive, invalid JSON, or bad counts (see :func:`decode_counts`).

    """
    counts, divided, details_text = _core.read_sampling_archive(data, max_size)
    details = None if details_text is None else orjson.loads(details_text)
    return counts, divided, details if isinstance(details, dict) else None


def split_counts(
    counts: Mapping[int, int] | Iterable[tuple[int, int]], bit_widths: Sequence[int]
) -> dict[int, SamplingCounts]:
    """Split counts of a combined register into ``{program index: SamplingCounts}``.

    Program 0 owns the lowest ``bit_widths[0]`` bits, program 1 the next ones, and so on.

    Raises:
        ValueError: If a key does not fit in the programs' bits.

    """
    return dict(enumerate(_core.split_counts(counts, list(bit_widths))))
