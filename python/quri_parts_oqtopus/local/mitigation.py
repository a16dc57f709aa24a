"""What ``mitigation_info`` asks for, and the readout mitigation OQTOPUS applies.

``mitigation_info`` is read once per job (``mitigation_request``): the released engine's
``{"ro_error_mitigation": "pseudo_inverse"}``, today's ``{"readout": {"method": ...}}``
(``pseudo_inverse``, ``mthree`` or ``local``: OQTOPUS runs the same inversion for all three,
and so does this server, saying so in ``mitigation_details``) and ``{"zne": {"params":
{...}}}`` (run by ``zne.py``). Anything else is refused, naming it.

Each measured bit has an assignment matrix ``A = [[1-p(1|0), p(0|1)], [p(1|0), 1-p(0|1)]]``
(columns: prepared 0/1, rows: read 0/1) from its qubit's calibration. ``pseudo_inverse``
multiplies the measured distribution by the tensor product of the inverses (a
quasi-distribution, possibly negative), takes the nearest probability distribution
(Smolin, Gambetta and Smith, PRL 108, 070502) and turns it back into counts as
``int(p * shots)``. Numpy only; runs in the worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from quri_parts_oqtopus._contract import (
    PSEUDO_INVERSE,
    READOUT,
    READOUT_METHODS,
    RO_ERROR_MITIGATION,
    ZNE,
    ZNE_DEFAULT_NUM_TO_AVERAGE,
    ZNE_DEFAULT_POLY_ORDER,
    ZNE_DEFAULT_SCALE_FACTORS,
    ZNE_FACTORIES,
    ZNE_FACTORY,
    ZNE_FOLDING,
    ZNE_FOLDINGS,
    ZNE_NUM_TO_AVERAGE,
    ZNE_POLY_ORDER,
    ZNE_SCALE_FACTORS,
)
from quri_parts_oqtopus._values import is_int, is_number
from quri_parts_oqtopus.calibration import ReadoutError

#: The values of ``mitigation_info.ro_error_mitigation`` the server knows (None: off).
RO_ERROR_MITIGATIONS = (PSEUDO_INVERSE,)
# ``zne.params`` the OQTOPUS engine sets itself, whatever the user sends: ignored here too.
_SYSTEM_ZNE_PARAMS = frozenset({"fail_open", "basis_gates", "enabled"})

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class ZneSettings:
    """``mitigation_info.zne.params`` over the service's defaults (``poly_order`` clamped to
    1..len(scale_factors)-1, as OQTOPUS clamps it)."""

    scale_factors: tuple[float, ...] = ZNE_DEFAULT_SCALE_FACTORS
    factory: str = ZNE_FACTORIES[0]
    folding: str = ZNE_FOLDINGS[0]
    num_to_average: int = ZNE_DEFAULT_NUM_TO_AVERAGE
    poly_order: int = ZNE_DEFAULT_POLY_ORDER


@dataclass(frozen=True)
class MitigationRequest:
    """What a job's ``mitigation_info`` asks for.

    Attributes:
        readout: The readout method named (the legacy key's or ``readout.method``), or None.
        zne: The ZNE settings, or None.
    """

    readout: str | None = None
    zne: ZneSettings | None = None

    def readout_details(self, **applied_to: Any) -> dict[str, Any]:
        """``mitigation_details.readout``: the method named, the algorithm run, and what
        it was applied to (``before`` counts, or the count of results and their shots)."""
        return {"method": self.readout, "applied": PSEUDO_INVERSE, **applied_to}


def mitigation_request(mitigation_info: Mapping[str, Any]) -> MitigationRequest:
    """The mitigation ``mitigation_info`` asks for.

    Raises:
        ValueError: Naming the key and the value: an unknown readout method, factory or
            folding, malformed ZNE parameters, or an unknown key.

    """
    unknown = sorted(set(mitigation_info) - {RO_ERROR_MITIGATION, READOUT, ZNE})
    if unknown:
        raise ValueError(
            f"mitigation_info has unknown keys {unknown}; known:"
            f" {[RO_ERROR_MITIGATION, READOUT, ZNE]}"
        )
    method = readout_mitigation(mitigation_info)
    readout = mitigation_info.get(READOUT)
    if readout is not None:
        named = readout.get("method") if isinstance(readout, Mapping) else None
        if named not in READOUT_METHODS:
            raise ValueError(
                f"mitigation_info.readout.method must be one of {list(READOUT_METHODS)},"
                f" got {named!r}"
            )
        method = str(named)
    zne = mitigation_info.get(ZNE)
    return MitigationRequest(method, None if zne is None else zne_settings(zne))


def zne_settings(zne: object) -> ZneSettings:
    """``mitigation_info.zne`` (``{"params": {...}}``) as settings.

    Raises:
        ValueError: Naming the parameter and its value.

    """
    params = zne.get("params") if isinstance(zne, Mapping) else None
    if not isinstance(params, Mapping):
        raise ValueError(f'mitigation_info.zne must be {{"params": {{...}}}}, got {zne!r}')
    known = {ZNE_SCALE_FACTORS, ZNE_FACTORY, ZNE_FOLDING, ZNE_NUM_TO_AVERAGE, ZNE_POLY_ORDER}
    unknown = sorted(set(params) - known - _SYSTEM_ZNE_PARAMS)
    if unknown:
        raise ValueError(
            f"mitigation_info.zne.params has unknown keys {unknown}; known: {sorted(known)}"
        )
    defaults = ZneSettings()
    factors = _scale_factors(params.get(ZNE_SCALE_FACTORS, defaults.scale_factors))
    factory = params.get(ZNE_FACTORY, defaults.factory)
    if factory not in ZNE_FACTORIES:
        raise ValueError(
            f"mitigation_info.zne.params.factory must be one of {list(ZNE_FACTORIES)},"
            f" got {factory!r}"
        )
    folding = params.get(ZNE_FOLDING, defaults.folding)
    if folding not in ZNE_FOLDINGS:
        raise ValueError(
            f"mitigation_info.zne.params.folding must be one of {list(ZNE_FOLDINGS)},"
            f" got {folding!r}"
        )
    repeats = params.get(ZNE_NUM_TO_AVERAGE, defaults.num_to_average)
    order = params.get(ZNE_POLY_ORDER, defaults.poly_order)
    for name, value in ((ZNE_NUM_TO_AVERAGE, repeats), (ZNE_POLY_ORDER, order)):
        if not is_int(value) or value < 1:
            raise ValueError(
                f"mitigation_info.zne.params.{name} must be an integer >= 1, got {value!r}"
            )
    return ZneSettings(factors, str(factory), str(folding), repeats, min(order, len(factors) - 1))


def _scale_factors(value: object) -> tuple[float, ...]:
    factors = tuple(value) if isinstance(value, list | tuple) else ()
    valid = all(is_number(f) and math.isfinite(f) and f > 0 for f in factors)
    if not valid or len(set(factors)) < 2 or len(set(factors)) != len(factors):
        raise ValueError(
            "mitigation_info.zne.params.scale_factors must list at least two distinct positive"
            f" numbers, got {value!r}"
        )
    return tuple(float(f) for f in factors)


def readout_mitigation(mitigation_info: Mapping[str, object]) -> str | None:
    """The released key's readout mitigation (``ro_error_mitigation``), or None.

    Raises:
        ValueError: For a value other than ``"pseudo_inverse"`` or null.

    """
    method = mitigation_info.get(RO_ERROR_MITIGATION)
    if method is not None and method not in RO_ERROR_MITIGATIONS:
        raise ValueError(
            f"mitigation_info.ro_error_mitigation must be one of {list(RO_ERROR_MITIGATIONS)}"
            f" or null, got {method!r}"
        )
    return None if method is None else str(method)


def check_invertible(qubit: int, readout: ReadoutError | None) -> None:
    """Raise ``ValueError`` when ``qubit``'s readout cannot be undone: with
    ``p(1|0) + p(0|1) = 1`` the bit read is independent of the state."""
    if readout is not None and abs(np.linalg.det(assignment_matrix(readout))) < 1e-9:
        raise ValueError(
            f"pseudo_inverse mitigation cannot undo the readout of qubit {qubit}:"
            f" prob_meas1_prep0 {readout.prob_meas1_prep0:g} + prob_meas0_prep1"
            f" {readout.prob_meas0_prep1:g} = 1 (the bit read tells nothing of the state)"
        )


def assignment_matrix(readout: ReadoutError | None) -> Matrix:
    """``A[read, prepared]`` of one bit (the identity for an uncalibrated qubit)."""
    if readout is None:
        return np.eye(2)
    p10, p01 = readout.prob_meas1_prep0, readout.prob_meas0_prep1
    return np.array([[1.0 - p10, p01], [p10, 1.0 - p01]])


def apply_per_bit(distribution: Vector, matrices: Sequence[NDArray[np.float64]]) -> Vector:
    """``(M_{m-1} ⊗ ... ⊗ M_0) @ distribution``; entry ``i`` has bit ``k`` = ``(i >> k) & 1``."""
    width = len(matrices)
    tensor: NDArray[Any] = distribution.reshape((2,) * width) if width else distribution
    for bit, matrix in enumerate(matrices):
        axis = width - 1 - bit  # C order: the last axis is bit 0
        tensor = np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)
    result: Vector = np.ascontiguousarray(tensor).reshape(-1)
    return result


def nearest_probability(quasi: Vector) -> Vector:
    """The probability vector nearest (in 2-norm) to a quasi-distribution summing to 1."""
    order = np.argsort(quasi, kind="stable")
    result = np.zeros_like(quasi)
    carried = 0.0
    for position, index in enumerate(order):
        remaining = len(order) - position
        if quasi[index] + carried / remaining < 0:
            carried += float(quasi[index])  # dropped; its mass is shared by the rest
            continue
        rest = order[position:]
        result[rest] = quasi[rest] + carried / remaining
        break
    return result


def pseudo_inverse(distribution: Vector, readouts: Sequence[ReadoutError | None]) -> Vector:
    """The mitigated probability vector of a measured one (bit k read with ``readouts[k]``)."""
    inverses = [np.asarray(np.linalg.inv(assignment_matrix(r)), np.float64) for r in readouts]
    return nearest_probability(apply_per_bit(distribution, inverses))


def mitigate_counts(
    counts: Mapping[str, int], bits: Sequence[tuple[int, ReadoutError | None]], bit_count: int
) -> dict[str, int]:
    """Counts keyed by bit string (clbit 0 last) with the readout errors of ``bits`` undone.

    ``bits`` are the measured ``(clbit, readout error of its qubit)``; the other clbits are
    never written, so they stay 0. Outcomes that round to no count are left out.
    """
    shots = sum(counts.values())
    measured = np.zeros(1 << len(bits))
    for key, n in counts.items():
        value = int(key, 2)
        measured[sum(((value >> clbit) & 1) << k for k, (clbit, _) in enumerate(bits))] += n
    probabilities = pseudo_inverse(measured / shots, [r for _, r in bits])
    mitigated: dict[str, int] = {}
    for index in np.flatnonzero(probabilities):
        count = int(probabilities[index] * shots)
        if count:
            value = sum(((int(index) >> k) & 1) << clbit for k, (clbit, _) in enumerate(bits))
            mitigated[format(value, f"0{bit_count}b")] = count
    return mitigated
