"""OpenQASM 3 text of QURI Parts circuits, as the OQTOPUS backends send it.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.qasm`.
"""

from quri_parts_oqtopus.formats.qasm import (
    DIRECT_READ_SWITCH,
    DirectReadStatus,
    convert_to_qasm_str,
    convert_to_qasm_strs,
    direct_read_status,
)

__all__ = [
    "DIRECT_READ_SWITCH",
    "DirectReadStatus",
    "convert_to_qasm_str",
    "convert_to_qasm_strs",
    "direct_read_status",
]
