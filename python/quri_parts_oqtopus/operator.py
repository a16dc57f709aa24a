"""Pauli operators as the estimation payload's ``operator`` list, and back."""

from __future__ import annotations

import math
import re

from quri_parts.core.operator import Operator

__all__ = ["encode_operator", "parse_pauli"]

_IMAG_TOLERANCE = 1e-9
_TOKEN = re.compile(r"([IXYZ])\s*(\d+)")


def encode_operator(operator: Operator) -> list[dict[str, str | float]]:
    """The ``[{"pauli": "X0 X1", "coeff": 1.5}, ...]`` list OQTOPUS expects for ``operator``.

    Pauli labels are spelled as ``str(PauliLabel)`` (``"I"`` for the identity).

    Raises:
        ValueError: If the operator has no term, or a coefficient has an imaginary part
            beyond 1e-9 or is not finite; the message names the term and coefficient.

    """
    if len(operator) == 0:
        raise ValueError("operator has no term: an empty operator cannot be estimated")
    terms: list[dict[str, str | float]] = []
    for pauli, coeff in operator.items():
        if isinstance(coeff, complex):
            if not math.isclose(coeff.imag, 0.0, abs_tol=_IMAG_TOLERANCE):
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


def parse_pauli(text: str) -> tuple[tuple[int, str], ...]:
    """``(qubit, "X"|"Y"|"Z")`` pairs of a Pauli string, sorted by qubit.

    Accepts both spellings OQTOPUS sees: ``"X0 X1"`` and ``"X 0 X 1"``; ``"I"`` (or an
    empty string) is the identity, and ``I`` factors are dropped.

    Raises:
        ValueError: If the text is not a Pauli string or names a qubit twice.

    """
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
