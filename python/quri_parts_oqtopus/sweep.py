"""Parameter sweeps: one parametric circuit and a list of parameter sets, handled as one.

This module is the public import path; the code lives in
:mod:`quri_parts_oqtopus.formats.sweep`.
"""

from quri_parts_oqtopus.formats.sweep import (
    ParameterSweep,
)

__all__ = [
    "ParameterSweep",
]
