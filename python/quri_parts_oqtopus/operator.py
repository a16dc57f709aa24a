"""Pauli operators as the estimation payload's ``operator`` list, and back.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.operator`.
"""

from quri_parts_oqtopus.formats.operator import (
    encode_operator,
    parse_pauli,
)

__all__ = [
    "encode_operator",
    "parse_pauli",
]
