"""Readout errors per bit, and their ``pseudo_inverse`` mitigation as OQTOPUS applies it.

Each measured bit has an assignment matrix ``A = [[1-p(1|0), p(0|1)], [p(1|0), 1-p(0|1)]]``
(columns: prepared 0/1, rows: read 0/1) from its qubit's calibration. The OQTOPUS engine's
``{"ro_error_mitigation": "pseudo_inverse"}`` multiplies the measured distribution by the
tensor product of the inverses (a quasi-distribution, possibly negative), takes the nearest
probability distribution (Smolin, Gambetta and Smith, PRL 108, 070502) and turns it back
into counts as ``int(p * shots)``. Numpy only; runs in the worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from quri_parts_oqtopus._contract import PSEUDO_INVERSE
from quri_parts_oqtopus.calibration import ReadoutError

#: The values of ``mitigation_info.ro_error_mitigation`` the server knows (None: off).
RO_ERROR_MITIGATIONS = (PSEUDO_INVERSE,)

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


def readout_mitigation(mitigation_info: Mapping[str, object]) -> str | None:
    """The readout mitigation a job asks for, or None.

    Raises:
        ValueError: For a value other than ``"pseudo_inverse"`` or null.

    """
    method = mitigation_info.get("ro_error_mitigation")
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
    tensor = distribution.reshape((2,) * width) if width else distribution
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
