"""Reads OpenQASM 3 programs into QURI Parts circuits: the input side of the local server.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.qasm_reader`.
"""

from quri_parts_oqtopus.formats.qasm_reader import (
    QasmProgram,
    read_qasm,
)

__all__ = [
    "QasmProgram",
    "read_qasm",
]
