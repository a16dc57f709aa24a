"""Native counts decoding and splitting against the reference's decoding logic.

The oracle is ``OqtopusSamplingJob.result``'s decoding re-implemented in plain Python:
``json.loads`` of string values, then ``Counter({int(bits, 2): count})``, and
``{int(index): Counter(...)}`` for ``divided_counts``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quri_parts_oqtopus.counts import (
    decode_counts,
    decode_divided_counts,
    decode_sampling_archive,
    split_counts,
)


def oracle_counts(raw: Any) -> Counter[int]:
    if isinstance(raw, (str, bytes)):
        raw = json.loads(raw)
    return Counter({int(b, 2) if isinstance(b, str) else b: n for b, n in raw.items()})


def oracle_divided(raw: Any) -> dict[int, Counter[int]] | None:
    if not raw:
        return None
    if isinstance(raw, (str, bytes)):
        raw = json.loads(raw)
    return {int(index): oracle_counts(raw[index]) for index in raw} or None


def oracle_split(counts: dict[int, int], widths: list[int]) -> dict[int, Counter[int]]:
    parts: dict[int, Counter[int]] = {i: Counter() for i in range(len(widths))}
    for key, count in counts.items():
        shift = 0
        for i, width in enumerate(widths):
            parts[i][(key >> shift) & ((1 << width) - 1)] += count
            shift += width
    return parts


@st.composite
def bit_counts(draw: st.DrawFn, width: int | None = None) -> dict[str, int]:
    width = width if width is not None else draw(st.integers(1, 40))
    keys = st.integers(0, 2**width - 1).map(lambda v: format(v, f"0{width}b"))
    return draw(st.dictionaries(keys, st.integers(0, 10**7), max_size=60))


def as_form(counts: dict[str, int], form: str) -> Any:
    if form == "mapping":
        return counts
    if form == "json":
        return json.dumps(counts)
    if form == "bytes":
        return json.dumps(counts).encode()
    return json.dumps(json.dumps(counts))  # a JSON string holding the object's JSON


forms = st.sampled_from(["mapping", "json", "bytes", "json-in-string"])


@given(bit_counts(), forms)
def test_valid_counts_decode_like_the_reference(counts: dict[str, int], form: str) -> None:
    raw = as_form(counts, form)
    decoded = decode_counts(raw)
    assert isinstance(decoded, Counter)
    assert decoded == oracle_counts(counts), repr(raw)


@given(
    bit_counts(width=6),
    st.sampled_from(["012345", "0b0101", " 01010", "1_0101", "", "10101", "1010101", "abcdef"]),
    st.integers(0, 5),
)
def test_keys_that_are_not_bit_strings_of_one_width_name_the_key(
    counts: dict[str, int], bad_key: str, count: int
) -> None:
    raw = {**counts, bad_key: count}
    if len(counts) == 0 and bad_key in ("10101", "1010101"):
        return  # alone, a key of any width is fine
    for form in ("mapping", "json"):
        with pytest.raises(ValueError, match=repr(bad_key) if bad_key else "bit"):
            decode_counts(as_form(raw, form))


@given(bit_counts(width=4), st.sampled_from([-1, 1.5, 2.0, True, None, "3", 10**30]))
def test_counts_that_are_not_non_negative_integers_name_the_key(
    counts: dict[str, int], bad_count: Any
) -> None:
    raw = {**counts, "1111": bad_count}
    with pytest.raises(ValueError, match="'1111'"):
        decode_counts(raw)
    if not isinstance(bad_count, bool):
        with pytest.raises(ValueError, match="1111"):
            decode_counts(json.dumps(raw))


@pytest.mark.parametrize("raw", [[1, 2], None, 5, (("01", 1),), {"0": [1]}])
def test_values_that_are_not_objects_are_value_errors(raw: Any) -> None:
    with pytest.raises(ValueError, match="not an object"):
        decode_counts(raw) if not isinstance(raw, dict) else decode_divided_counts(raw)


def test_int_keys_pass_through_and_bad_json_is_a_value_error() -> None:
    assert decode_counts({3: 5, 0: 1}) == Counter({3: 5, 0: 1})
    for bad in ("{", "[1, 2]", b"\xff", '{"01": 1,}', "null"):
        with pytest.raises(ValueError):
            decode_counts(bad)


@given(st.lists(bit_counts(), max_size=5), forms)
def test_divided_counts_decode_like_the_reference(parts: list[dict[str, int]], form: str) -> None:
    raw: dict[str, Any] = {str(i): as_form(c, "mapping") for i, c in enumerate(parts)}
    encoded: Any = raw if form == "mapping" else as_form(raw, "json")
    assert decode_divided_counts(encoded) == oracle_divided(raw)


@pytest.mark.parametrize("empty", [None, {}, "", "{}", "null"])
def test_empty_divided_counts_is_none(empty: Any) -> None:
    assert decode_divided_counts(empty) is None


def test_divided_counts_index_must_be_an_integer() -> None:
    with pytest.raises(ValueError, match="'x'"):
        decode_divided_counts({"x": {"0": 1}})


@given(
    st.lists(st.integers(1, 8), min_size=1, max_size=5).flatmap(
        lambda widths: st.tuples(
            st.just(widths),
            st.dictionaries(st.integers(0, 2 ** sum(widths) - 1), st.integers(0, 1000)),
        )
    )
)
def test_split_counts_matches_a_plain_python_split(
    case: tuple[list[int], dict[int, int]],
) -> None:
    widths, counts = case
    assert split_counts(counts, widths) == oracle_split(counts, widths)
    assert split_counts(list(counts.items()), widths) == oracle_split(counts, widths)


def test_split_counts_refuses_keys_wider_than_the_programs() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        split_counts({0b100: 1}, [1, 1])


def result_archive(document: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("result.json", json.dumps(document))
    return buffer.getvalue()


@given(
    st.integers(1, 6).flatmap(lambda w: st.tuples(bit_counts(width=2 * w), st.just(w))),
    st.booleans(),
    st.booleans(),
)
def test_sampling_result_archives_decode_like_the_reference(
    case: tuple[dict[str, int], int], as_strings: bool, with_divided: bool
) -> None:
    counts, half = case
    divided = {
        "0": {k[half:]: 0 for k in counts} | {"0" * half: 1},
        "1": {k[:half]: 0 for k in counts} | {"1" * half: 2},
    }
    sampling: dict[str, Any] = {
        "counts": counts,
        "divided_counts": divided if with_divided else None,
    }
    if as_strings:
        sampling = {key: json.dumps(value) for key, value in sampling.items()}
    ours = decode_sampling_archive(result_archive({"sampling": sampling}))
    expected_divided = oracle_divided(sampling["divided_counts"]) if with_divided else None
    assert ours == (oracle_counts(sampling["counts"]), expected_divided, None)


@pytest.mark.parametrize("bad_index", [None, 10, 45_000])
def test_counts_above_a_megabyte_decode_like_the_reference(bad_index: int | None) -> None:
    # Large objects are parsed by two threads; the result and errors must not show it.
    counts = {format(k * 7919 % 2**20, "020b"): k % 13 for k in range(60_000)}
    if bad_index is not None:
        key = list(counts)[bad_index]
        counts[key] = -1
    text = json.dumps(counts)
    assert len(text) > 2**20
    if bad_index is None:
        assert decode_counts(text) == oracle_counts(text)
        assert decode_sampling_archive(result_archive({"sampling": {"counts": counts}}))[0] == (
            oracle_counts(counts)
        )
    else:
        with pytest.raises(ValueError, match=repr(key)):
            decode_counts(text)
