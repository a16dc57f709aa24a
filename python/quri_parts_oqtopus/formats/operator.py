"""Pauli operators as the estimation payload's ``operator`` list, and back."""

from __future__ import annotations

from quri_parts.core.operator import Operator

from quri_parts_oqtopus import _core

__all__ = ["encode_operator", "parse_pauli"]


def encode_operator(operator: Operator) -> list[dict[str, str | float]]:
    """The ``[{"pauli": "X0 X1", "coeff": 1.5}, ...]`` list OQTOPUS expects for ``operator``.

    Pauli labels are spelled as ``str(PauliLabel)`` (``"I"`` for the identity); terms keep
    the operator's order.

    Raises:
        ValueError: If the operator has no term, or a coefficient has an imaginary part
            beyond 1e-9 or is not finite; the message names the term and coefficient.

    """
    return _core.encode_operator(operator)


def parse_pauli(text: str) -> tuple[tuple[int, str], ...]:
    """``(qubit, "X"|"Y"|"Z")`` pairs of a Pauli string, sorted by qubit.

    Accepts both spellings OQTOPUS sees: ``"X0 X1"`` and ``"X 0 X 1"``; ``"I"`` (or an
    empty string) is the identity, and ``I`` factors are dropped.

    Raises:
        ValueError: If the text is not a Pauli string or names a qubit twice.

    """
    return tuple(_core.parse_pauli(text))
