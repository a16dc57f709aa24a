"""Typed shapes of the ``transpiler_info``, ``simulator_info`` and ``mitigation_info`` dicts.

They are ``TypedDict``s: plain dicts stay accepted everywhere, and these only let a type
checker see the keys OQTOPUS knows. The helpers build the common ones.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from quri_parts_oqtopus._contract import PSEUDO_INVERSE

__all__ = [
    "MitigationInfo",
    "SimulatorInfo",
    "TranspilerInfo",
    "mitigation_info",
    "no_transpilation",
    "transpiler_info",
]


class TranspilerInfo(TypedDict, total=False):
    """How the service transpiles the programs (``{}``: qiskit, optimization level 1)."""

    transpiler_lib: str | None
    transpiler_options: dict[str, Any]


class SimulatorInfo(TypedDict, total=False):
    """Settings a simulator device reads; ``seed`` makes runs reproducible."""

    seed: int


class MitigationInfo(TypedDict, total=False):
    """Error mitigation the service applies, e.g. readout mitigation."""

    ro_error_mitigation: Literal["pseudo_inverse", "least_square"] | str


def transpiler_info(lib: str = "qiskit", optimization_level: int = 1) -> TranspilerInfo:
    """Transpile with ``lib`` at ``optimization_level``.

    Raises:
        ValueError: If ``optimization_level`` is not 0..3.

    """
    if optimization_level not in (0, 1, 2, 3):
        raise ValueError(f"optimization_level should be 0, 1, 2 or 3: {optimization_level!r}")
    return {"transpiler_lib": lib, "transpiler_options": {"optimization_level": optimization_level}}


def no_transpilation() -> TranspilerInfo:
    """Run the programs as written: no transpilation (and no ``transpile_result``)."""
    return {"transpiler_lib": None}


def mitigation_info(readout: str = PSEUDO_INVERSE) -> MitigationInfo:
    """Readout error mitigation by ``readout`` (``pseudo_inverse`` or ``least_square``)."""
    return {"ro_error_mitigation": readout}
