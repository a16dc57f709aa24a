"""Counts of sampling results: bit-string keys decoded to ints, and per-program splits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from quri_parts.backend import SamplingCounts

from quri_parts_oqtopus import _core

__all__ = ["decode_counts", "decode_divided_counts", "split_counts"]


def decode_counts(raw: Mapping[Any, Any] | str | bytes) -> SamplingCounts:
    """``SamplingCounts`` with int keys from server counts.

    ``raw`` maps bit strings (last character = classical bit 0) or ints to counts,
    either as a mapping or as its JSON text.

    Raises:
        ValueError: For a key that is not a binary string, keys of different widths, or
            a count that is not a non-negative integer; the message names the key.

    """
    mapping = _as_mapping(raw, "counts")
    decoded: Counter[int] = Counter()
    width: int | None = None
    for key, count in mapping.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count of {key!r} is not a non-negative integer: {count!r}")
        if isinstance(key, str):
            width = len(key) if width is None else width
            if len(key) != width:
                raise ValueError(f"counts keys of mixed widths: {key!r} is not {width} bits")
        decoded[_decode_key(key)] += count
    return decoded


def decode_divided_counts(
    raw: Mapping[Any, Any] | str | bytes | None,
) -> dict[int, SamplingCounts] | None:
    """``{program index: SamplingCounts}`` from a server's ``divided_counts``, or None.

    Raises:
        ValueError: For an index that is not an integer, or bad counts inside.

    """
    if raw is None:
        return None
    mapping = _as_mapping(raw, "divided_counts")
    if not mapping:
        return None
    divided: dict[int, SamplingCounts] = {}
    for index, counts in mapping.items():
        try:
            program = int(index)
        except (TypeError, ValueError):
            raise ValueError(f"divided_counts key is not a program index: {index!r}") from None
        divided[program] = decode_counts(counts)
    return divided


def split_counts(counts: Mapping[int, int], bit_widths: Sequence[int]) -> dict[int, SamplingCounts]:
    """Split counts of a combined register into ``{program index: SamplingCounts}``.

    Program 0 owns the lowest ``bit_widths[0]`` bits, program 1 the next ones, and so on.

    Raises:
        ValueError: If a key does not fit in the programs' bits.

    """
    parts = _core.split_counts(list(counts.items()), list(bit_widths))
    return {index: Counter(part) for index, part in enumerate(parts)}


def _as_mapping(raw: Mapping[Any, Any] | str | bytes, what: str) -> Mapping[Any, Any]:
    if isinstance(raw, (str, bytes)):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"{what} is not valid JSON: {e}") from e
    if not isinstance(raw, Mapping):
        raise ValueError(f"{what} is not an object: {raw!r:.200}")
    return raw


def _decode_key(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if key < 0:
            raise ValueError(f"counts key is negative: {key!r}")
        return key
    if isinstance(key, str):
        try:
            return _core.parse_bits(key)
        except ValueError:
            pass
    raise ValueError(f"counts key is not a bit string: {key!r}")
