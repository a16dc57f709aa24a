"""What counts as an int or a number: the one check behind every count, index and duration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quri_parts_oqtopus._values import is_int, is_number
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.mitigation import ZneOptions
from quri_parts_oqtopus.packing import PackingPolicy


@pytest.mark.parametrize("value", [0, -3, 2**80])
def test_ints_are_ints_and_numbers(value: int) -> None:
    assert is_int(value)
    assert is_number(value)


@pytest.mark.parametrize("value", [True, False])
def test_a_bool_is_neither_an_int_nor_a_number(value: bool) -> None:
    assert not is_int(value)
    assert not is_number(value)


@pytest.mark.parametrize("value", [1.0, math.nan, math.inf, -0.5])
def test_floats_are_numbers_not_ints(value: float) -> None:
    assert is_number(value)
    assert not is_int(value)


@pytest.mark.parametrize("value", [None, "1", b"1", 1j, [1], np.int64(1), np.bool_(True)])
def test_other_values_are_neither(value: object) -> None:
    assert not is_int(value)
    assert not is_number(value)


def test_the_checks_behind_public_arguments_refuse_true() -> None:
    with pytest.raises(ValueError, match="max_programs should be a positive integer or None: True"):
        PackingPolicy(max_programs=True)
    with pytest.raises(ValueError, match="retries should be a non-negative integer: True"):
        OqtopusConfig("http://127.0.0.1:1", "token", retries=True)
    with pytest.raises(ValueError, match="max_response_bytes should be a positive number"):
        OqtopusConfig("http://127.0.0.1:1", "token", max_response_bytes=False)
    with pytest.raises(ValueError, match="scale_factors should be numbers >= 1"):
        ZneOptions(scale_factors=(True, 3.0, 5.0))
    with pytest.raises(ValueError, match="order should be a non-negative integer: True"):
        ZneOptions(order=True)
