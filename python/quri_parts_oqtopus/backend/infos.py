"""Typed shapes of the ``transpiler_info``, ``simulator_info`` and ``mitigation_info`` dicts.

They are ``TypedDict``s: plain dicts stay accepted everywhere, and these only let a type
checker see the keys OQTOPUS knows. The helpers build the common ones, checked before
anything is sent; mitigation parts compose as dicts do::

    mitigation = {**readout_mitigation(), **zne(scale_factors=(1, 3, 5), factory="poly")}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from quri_parts_oqtopus._contract import (
    GLOBAL_FOLDING,
    PSEUDO_INVERSE,
    READOUT_METHODS,
    RICHARDSON,
    ZNE_DEFAULT_NUM_TO_AVERAGE,
    ZNE_DEFAULT_SCALE_FACTORS,
    ZNE_FACTORIES,
    ZNE_FOLDINGS,
)
from quri_parts_oqtopus._values import is_int, is_number

__all__ = [
    "MitigationInfo",
    "ReadoutMitigation",
    "SimulatorInfo",
    "TranspilerInfo",
    "ZneMitigation",
    "ZneParams",
    "mitigation_info",
    "no_transpilation",
    "readout_mitigation",
    "transpiler_info",
    "zne",
]


class TranspilerInfo(TypedDict, total=False):
    """How the service transpiles the programs (``{}``: qiskit, optimization level 1)."""

    transpiler_lib: str | None
    transpiler_options: dict[str, Any]


class SimulatorInfo(TypedDict, total=False):
    """Settings a simulator device reads; ``seed`` makes runs reproducible."""

    seed: int


class ReadoutMitigation(TypedDict, total=False):
    """``mitigation_info.readout``: readout-error mitigation by ``method``."""

    method: str
    params: dict[str, Any]


class ZneParams(TypedDict, total=False):
    """``mitigation_info.zne.params``: zero-noise extrapolation of an estimation."""

    scale_factors: list[float]
    factory: str
    folding: str
    num_to_average: int
    poly_order: int


class ZneMitigation(TypedDict):
    """``mitigation_info.zne``."""

    params: ZneParams


class MitigationInfo(TypedDict, total=False):
    """Error mitigation the service applies: readout mitigation (the released key
    ``ro_error_mitigation``, or ``readout``) and zero-noise extrapolation (``zne``)."""

    ro_error_mitigation: Literal["pseudo_inverse", "least_square"] | str
    readout: ReadoutMitigation
    zne: ZneMitigation


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
    """Readout error mitigation by ``readout`` (``pseudo_inverse`` or ``least_square``), in
    the key the released OQTOPUS engine reads (``ro_error_mitigation``)."""
    return {"ro_error_mitigation": readout}


def readout_mitigation(method: str = PSEUDO_INVERSE) -> MitigationInfo:
    """Readout error mitigation in today's schema: ``{"readout": {"method": method}}``.

    OQTOPUS knows ``pseudo_inverse``, ``mthree`` and ``local``, and runs the same
    inversion of each qubit's assignment matrix for all three.

    Raises:
        ValueError: If ``method`` is not one of those, naming it.

    """
    if method not in READOUT_METHODS:
        raise ValueError(f"readout method should be one of {list(READOUT_METHODS)}: {method!r}")
    return {"readout": {"method": method}}


def zne(
    scale_factors: Sequence[float] = ZNE_DEFAULT_SCALE_FACTORS,
    factory: str = RICHARDSON,
    folding: str = GLOBAL_FOLDING,
    num_to_average: int = ZNE_DEFAULT_NUM_TO_AVERAGE,
    poly_order: int | None = None,
) -> MitigationInfo:
    """Zero-noise extrapolation of an estimation: ``{"zne": {"params": {...}}}``.

    The service folds the transpiled program to each scale factor (``global``: the whole
    circuit, ``random``: gates at random), estimates each ``num_to_average`` times with
    the job's shots, and extrapolates to zero noise (``richardson``, ``linear``, or
    ``poly`` of ``poly_order``). Only estimation jobs use it; for others the service
    reports a fallback and runs the job unmitigated.

    Raises:
        ValueError: Naming the bad value: fewer than two scale factors, one that is not a
            positive finite number or is repeated, an unknown factory or folding, a
            ``num_to_average`` below 1, or a ``poly_order`` outside 1..len(scale_factors)-1.

    """
    factors = [_scale_factor(value) for value in scale_factors]
    if len(factors) < 2 or len(set(factors)) != len(factors):
        raise ValueError(f"zne needs at least two distinct scale factors: {list(scale_factors)!r}")
    if factory not in ZNE_FACTORIES:
        raise ValueError(f"zne factory should be one of {list(ZNE_FACTORIES)}: {factory!r}")
    if folding not in ZNE_FOLDINGS:
        raise ValueError(f"zne folding should be one of {list(ZNE_FOLDINGS)}: {folding!r}")
    if not is_int(num_to_average) or num_to_average < 1:
        raise ValueError(f"zne num_to_average should be an integer >= 1: {num_to_average!r}")
    params: ZneParams = {
        "scale_factors": factors,
        "factory": factory,
        "folding": folding,
        "num_to_average": num_to_average,
    }
    if poly_order is not None:
        if not is_int(poly_order) or not 1 <= poly_order <= len(factors) - 1:
            raise ValueError(
                f"zne poly_order should be an integer from 1 to {len(factors) - 1} (one less"
                f" than the scale factors): {poly_order!r}"
            )
        params["poly_order"] = poly_order
    return {"zne": {"params": params}}


def _scale_factor(value: object) -> float:
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"zne scale factors should be positive finite numbers: {value!r}")
    return float(value)
