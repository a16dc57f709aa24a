"""Native operator encoding and Pauli parsing against the reference logic.

The oracle is the reference backend's loop (``str(pauli)``, ``float`` of the coefficient,
``math.isclose(imag, 0, abs_tol=1e-9)``) plus the two refusals our seam adds (empty
operator, non-finite coefficient), written here in plain Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quri_parts.core.operator import PAULI_IDENTITY, Operator, pauli_label

from quri_parts_oqtopus.operator import encode_operator, parse_pauli


def oracle_encode(operator: Operator) -> list[dict[str, str | float]]:
    if len(operator) == 0:
        raise ValueError("operator has no term: an empty operator cannot be estimated")
    terms: list[dict[str, str | float]] = []
    for pauli, coeff in operator.items():
        if isinstance(coeff, complex):
            if not math.isclose(coeff.imag, 0.0, abs_tol=1e-9):
                raise ValueError(
                    f"Complex numbers are not supported in coefficient: {coeff} (term {pauli})"
                )
            real = coeff.real
        else:
            real = float(coeff)
        if not math.isfinite(real):
            raise ValueError(f"coefficient of term {pauli} is not finite: {coeff}")
        terms.append({"pauli": str(pauli), "coeff": real})
    return terms


_TOKEN = re.compile(r"([IXYZ])\s*(\d+)")


def oracle_parse(text: str) -> tuple[tuple[int, str], ...]:
    stripped = text.strip()
    if stripped in ("", "I"):
        return ()
    pos = 0
    factors: dict[int, str] = {}
    for match in _TOKEN.finditer(stripped):
        if stripped[pos : match.start()].strip():
            break
        qubit, letter = int(match.group(2)), match.group(1)
        if qubit in factors:
            raise ValueError(f"Pauli string {text!r} names qubit {qubit} twice")
        if letter != "I":
            factors[qubit] = letter
        pos = match.end()
    if stripped[pos:].strip() or pos == 0:
        raise ValueError(f"Not a Pauli string: {text!r}")
    return tuple(sorted(factors.items()))


def outcome(function: Callable[[Any], Any], argument: Any) -> tuple[str, Any]:
    try:
        return ("ok", function(argument))
    except Exception as e:  # type and message are what is compared
        return ("raises", (type(e), str(e)))


labels = st.dictionaries(
    st.one_of(st.integers(0, 70), st.integers(0, 10**6)), st.integers(1, 3), max_size=12
).map(lambda factors: pauli_label(set(factors.items())) if factors else PAULI_IDENTITY)
coefficients = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.tuples(st.floats(-5, 5), st.sampled_from([0.0, 1e-10, -1e-9, 1e-9, 2e-9, 1e-3])).map(
        lambda parts: complex(*parts)
    ),
    st.floats(-5, 5).map(np.float64),
    st.floats(-5, 5).map(lambda x: np.complex128(complex(x, 0))),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e16, math.nan, math.inf]),
)
operators = st.dictionaries(labels, coefficients, max_size=25).map(Operator)


@given(operators)
def test_random_operators_encode_like_the_reference(operator: Operator) -> None:
    ours, expected = outcome(encode_operator, operator), outcome(oracle_encode, operator)
    assert ours == expected, repr(operator)
    if ours[0] == "ok":
        # equal floats can still differ in sign of zero; compare the bits too
        signs = [[math.copysign(1, t["coeff"]) for t in terms] for terms in (ours[1], expected[1])]
        assert signs[0] == signs[1]


@settings(max_examples=40)
@given(st.integers(1, 3000))
def test_big_operators_keep_term_order(size: int) -> None:
    operator = Operator(
        {pauli_label({(i % 64, 1 + i % 3), ((i * 7 + 1) % 64, 1)}): i / 3 for i in range(size)}
    )
    assert encode_operator(operator) == oracle_encode(operator)


def test_identity_is_spelled_i() -> None:
    assert encode_operator(Operator({PAULI_IDENTITY: 2})) == [{"pauli": "I", "coeff": 2.0}]


@pytest.mark.parametrize("coeff", [1 + 1e-8j, complex(0, math.nan), complex(1, math.inf)])
def test_imaginary_part_beyond_tolerance_names_the_coefficient(coeff: complex) -> None:
    operator = Operator({pauli_label("X0 Y1"): coeff})
    with pytest.raises(ValueError, match=re.escape(str(coeff))):
        encode_operator(operator)


def test_empty_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="no term"):
        encode_operator(Operator())


tokens = st.tuples(
    st.sampled_from("IXYZ"), st.sampled_from(["", " ", "  ", "\t"]), st.integers(0, 200)
)


@given(
    st.lists(tokens, max_size=10),
    st.sampled_from([" ", "", "  ", "\n"]),
    st.sampled_from(["", " ", " \t "]),
)
def test_pauli_strings_in_both_spellings_parse_like_the_oracle(
    factors: list[tuple[str, str, int]], separator: str, padding: str
) -> None:
    text = padding + separator.join(f"{p}{gap}{q}" for p, gap, q in factors) + padding
    assert outcome(parse_pauli, text) == outcome(oracle_parse, text), repr(text)


@given(st.text(alphabet="IXYZ0123456789 \t,x-_.I", max_size=20))
def test_arbitrary_text_is_accepted_or_refused_like_the_oracle(text: str) -> None:
    assert outcome(parse_pauli, text) == outcome(oracle_parse, text), repr(text)


@given(labels)
def test_label_text_parses_back_to_the_label(label: Any) -> None:
    expected = tuple(sorted((q, "_XYZ"[p]) for q, p in label))
    assert parse_pauli(str(label)) == expected
    spaced = " ".join(f"{letter} {qubit}" for qubit, letter in expected) or "I"
    assert parse_pauli(spaced) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("X0 X0", "names qubit 0 twice"), ("X0,X1", "Not a Pauli string"), ("X", "Not a Pauli")],
)
def test_parse_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_pauli(text)
