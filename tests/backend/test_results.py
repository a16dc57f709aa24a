"""Result objects: counts decoding as the contract describes, and the documented errors."""

from __future__ import annotations

from collections import Counter

import pytest

from quri_parts_oqtopus.backend import OqtopusEstimationResult, OqtopusSamplingResult


def test_counts_built_directly_keep_their_keys_as_the_reference() -> None:
    # quri-parts-oqtopus 1.1.5 keeps the given keys ("11" is not read as the number 11).
    result = OqtopusSamplingResult({"counts": {"0": 600, "11": 300}})
    counts: object = result.counts  # typed with int keys, which a job's result() has
    assert counts == {"0": 600, "11": 300}
    assert result.divided_counts is None
    assert OqtopusSamplingResult({"counts": {0: 600, 3: 100}}).counts == {0: 600, 3: 100}


def test_divided_counts_built_directly_keep_the_index_and_read_keys_as_ints() -> None:
    given = {"counts": {0: 1}, "divided_counts": {"0": {"11": 2}, "1": {3: 1}}}
    result = OqtopusSamplingResult(given)
    assert result.divided_counts == {"0": {11: 2}, "1": {3: 1}}
    assert repr(result) == str(given)


def test_missing_counts_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'counts' does not exist"):
        OqtopusSamplingResult({"divided_counts": {}})


def test_server_bit_strings_put_bit_zero_last() -> None:
    result = OqtopusSamplingResult.from_server({"counts": {"01": 7, "10": 3}})
    assert result.counts == {1: 7, 2: 3}


def test_server_counts_as_json_text_are_accepted() -> None:
    result = OqtopusSamplingResult.from_server(
        {
            "counts": '{"11": 5, "00": 5}',
            "divided_counts": '{"0": {"1": 5, "0": 5}, "1": {"1": 5, "0": 5}}',
        }
    )
    assert result.counts == {3: 5, 0: 5}
    assert result.divided_counts == {0: {1: 5, 0: 5}, 1: {1: 5, 0: 5}}


def test_contract_divided_counts_example() -> None:
    result = OqtopusSamplingResult.from_server(
        {
            "counts": {"0000": 490, "0001": 10, "0110": 20, "1111": 480},
            "divided_counts": {
                "0": {"00": 490, "01": 10, "10": 20, "11": 480},
                "1": {"00": 500, "01": 20, "11": 480},
            },
        }
    )
    assert result.divided_counts == {
        0: Counter({0: 490, 1: 10, 2: 20, 3: 480}),
        1: Counter({0: 500, 1: 20, 3: 480}),
    }


@pytest.mark.parametrize(
    ("counts", "offender"),
    [
        ({"0x1": 1}, "0x1"),
        ({"012": 1}, "012"),
        ({"": 1}, "''"),
        ({"01": -1}, "-1"),
        ({"01": 1.5}, "1.5"),
        ({"01": "3"}, "'3'"),
    ],
)
def test_bad_server_counts_name_the_offender(counts: dict[str, object], offender: str) -> None:
    with pytest.raises(ValueError) as info:
        OqtopusSamplingResult.from_server({"counts": counts})
    assert offender in str(info.value), str(info.value)


def test_divided_counts_key_must_be_an_index() -> None:
    with pytest.raises(ValueError, match="'first'"):
        OqtopusSamplingResult.from_server({"counts": {"0": 1}, "divided_counts": {"first": {}}})


def test_estimation_result_accepts_inner_and_wrapped_dicts() -> None:
    inner = OqtopusEstimationResult({"exp_value": 2, "stds": 1.1})
    wrapped = OqtopusEstimationResult({"estimation": {"exp_value": 2.0, "stds": 1.1}})
    for result in (inner, wrapped):
        assert result.exp_value == 2.0
        assert result.stds == 1.1
    assert isinstance(inner.exp_value, int)  # kept as given, as the reference keeps it


def test_estimation_result_without_value_has_none_as_the_reference() -> None:
    result = OqtopusEstimationResult({"counts": {}})
    assert (result.exp_value, result.stds, repr(result)) == (None, None, "{'counts': {}}")


def test_estimation_result_of_something_else_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"result should be a dict: 2\.0"):
        OqtopusEstimationResult(2.0)  # type: ignore[arg-type]
