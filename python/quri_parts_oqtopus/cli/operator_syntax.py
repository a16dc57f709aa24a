"""The ``--operator`` text of ``oqtopus submit estimation`` as a QURI Parts ``Operator``."""

from __future__ import annotations

import math

from quri_parts.core.operator import PAULI_IDENTITY, Operator, PauliLabel, pauli_label

from quri_parts_oqtopus.formats.operator import parse_pauli

__all__ = ["OPERATOR_SYNTAX", "parse_operator"]

OPERATOR_SYNTAX = """\
operator syntax (--operator):
  Terms separated by commas; each term is PAULI or PAULI:COEFF.
  PAULI is factors like X0, Y1, Z12 (letter, then qubit index) separated by
  spaces; "I" alone is the identity. COEFF is a real number (default 1.0).
  Repeated terms add up. Examples:
    "Z0 Z1:1.0,X0:0.5"    1.0 * Z0 Z1 + 0.5 * X0
    "Z0"                  Z0
    "I:-0.5,Z0 Z1:0.5"    -0.5 + 0.5 * Z0 Z1"""


def parse_operator(text: str) -> Operator:
    """The operator written as ``"Z0 Z1:1.0,X0:0.5"`` (see :data:`OPERATOR_SYNTAX`).

    Raises:
        ValueError: If the text has no term, a term is empty, its Pauli string is not
            one, or its coefficient is not a finite real number; the message names the term.

    """
    if not text.strip():
        raise ValueError("--operator is empty: give terms like 'Z0 Z1:1.0,X0:0.5'")
    operator = Operator()
    for term in text.split(","):
        label, coeff = _parse_term(term)
        operator.add_term(label, coeff)
    return operator


def _parse_term(term: str) -> tuple[PauliLabel, float]:
    pauli_text, separator, coeff_text = term.partition(":")
    if not pauli_text.strip():
        raise ValueError(f"operator term {term!r} has no Pauli string (e.g. 'Z0 Z1:1.0')")
    try:
        factors = parse_pauli(pauli_text)
    except ValueError as e:
        raise ValueError(f"operator term {term!r}: {e}") from None
    coeff = _parse_coeff(term, coeff_text) if separator else 1.0
    if not factors:
        return PAULI_IDENTITY, coeff
    return pauli_label(" ".join(f"{letter}{qubit}" for qubit, letter in factors)), coeff


def _parse_coeff(term: str, text: str) -> float:
    try:
        coeff = float(text)
    except ValueError:
        raise ValueError(
            f"operator term {term!r}: coefficient {text.strip()!r} is not a real number"
        ) from None
    if not math.isfinite(coeff):
        raise ValueError(f"operator term {term!r}: coefficient {text.strip()!r} is not finite")
    return coeff
