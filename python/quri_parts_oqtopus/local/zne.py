"""Zero-noise extrapolation of an estimation, as OQTOPUS's mitigator does it, with mitiq.

The transpiled program is folded to each scale factor (``fold_global``: the whole circuit,
``fold_gates_at_random``: gates picked at random), each folded program is estimated
``num_to_average`` times with the job's full shots, the runs of a scale are averaged, and
mitiq's Richardson, linear or polynomial factory extrapolates the scales' values to zero
noise. The reported ``stds`` is the mean of the scales' standard errors, as OQTOPUS
reports it (not propagated through the extrapolation).

mitiq comes with the ``[emulation]`` extra and is imported here only, in the worker
processes, when a job asks for ZNE. Where it is missing, or the folded programs would cost
too much, ZNE falls back to the plain estimate and the result says why (it fails open).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from quri_parts_oqtopus._contract import (
    GLOBAL_FOLDING,
    LINEAR,
    RICHARDSON,
    ZNE_FALLBACK,
    ZNE_PRE_PROCESS,
)
from quri_parts_oqtopus._extras import EMULATION_INSTALL

from .device_program import NativeGate
from .mitigation import ZneSettings

#: (exp_value, stds) of one run of the program folded to a scale factor; the second
#: argument is the repetition (0 .. num_to_average - 1).
EstimateAt = Callable[[float, int], tuple[float, float]]


class ZneUnavailable(Exception):  # noqa: N818 - a reason to fall back, not an error
    """ZNE cannot run for this job; the message is the fallback's reason."""


def fallback(reason: str) -> dict[str, Any]:
    """``mitigation_details.zne`` of a ZNE that fell back to the plain estimate."""
    return {"status": ZNE_FALLBACK, "stage": ZNE_PRE_PROCESS, "reason": reason}


def check_mitiq() -> None:
    """Raise ``ZneUnavailable`` naming the package and the extra when mitiq is missing."""
    try:
        import mitiq  # noqa: F401, PLC0415 - optional and slow to import
    except ImportError as e:
        raise ZneUnavailable(
            f"mitiq is not installed on the local server ({e}): {EMULATION_INSTALL}"
        ) from e


def check_zne_cost(
    settings: ZneSettings, gates: int, state_size: int, max_gate_work: int, *, folded: bool = True
) -> None:
    """Refuse, before anything is folded, a ZNE whose runs would cost more than
    ``max_gate_work`` in all: each run simulates the program's ``gates`` (about s times
    as many when ``folded`` to scale factor s), each updating ``state_size`` entries
    (4^n for a density matrix, 2^n for a state vector).

    Raises:
        ZneUnavailable: Naming the cost and the limit.

    """
    factors = settings.scale_factors if folded else [1.0] * len(settings.scale_factors)
    work = math.fsum(math.ceil(gates * factor) for factor in factors)
    work *= settings.num_to_average * state_size
    if work > max_gate_work:
        raise ZneUnavailable(
            f"the {len(settings.scale_factors)} scale factors x {settings.num_to_average}"
            f" runs of ZNE would cost {work:.3g} entry updates, beyond the limit"
            f" max_gate_work = {max_gate_work:.3g}"
        )


def extrapolate(settings: ZneSettings, values: Sequence[float]) -> float:
    """The zero-noise value of ``values`` (one per scale factor) by the settings' factory."""
    from mitiq.zne.inference import LinearFactory, PolyFactory, RichardsonFactory  # noqa: PLC0415

    factors = list(settings.scale_factors)
    if settings.factory == RICHARDSON:
        factory: Any = RichardsonFactory(factors)
    elif settings.factory == LINEAR:
        factory = LinearFactory(factors)
    else:
        factory = PolyFactory(factors, order=settings.poly_order)
    for scale_factor, value in zip(factors, values, strict=True):
        factory.push({"scale_factor": scale_factor}, value)
    return float(factory.reduce())


def zero_noise_estimate(
    settings: ZneSettings, estimate_at: EstimateAt
) -> tuple[float, float, dict[str, Any]]:
    """``(exp_value, stds, mitigation_details.zne)`` of an extrapolated estimation.

    Raises:
        OverflowError: If the extrapolated value is beyond the float range.

    """
    scale_results = []
    for scale_factor in settings.scale_factors:
        runs = [estimate_at(scale_factor, rep) for rep in range(settings.num_to_average)]
        scale_results.append(
            {
                "scale_factor": scale_factor,
                "exp_value": math.fsum(value for value, _ in runs) / len(runs),
                "stds": math.fsum(stds for _, stds in runs) / len(runs),
            }
        )
    value = extrapolate(settings, [r["exp_value"] for r in scale_results])
    stds = math.fsum(r["stds"] for r in scale_results) / len(scale_results)
    if not math.isfinite(value):
        raise OverflowError(f"the zero-noise extrapolation is beyond the range of a float: {value}")
    return value, stds, {"scale_results": scale_results}


def fold(
    gates: Sequence[NativeGate], scale_factor: float, folding: str, seed: int | None
) -> tuple[NativeGate, ...]:
    """``gates`` folded to ``scale_factor`` by mitiq, in the device's native gates again
    (an inverted ``sx`` becomes ``rz(π) sx rz(π)``; ``rz`` is virtual, so the noise of the
    folded program is that of its ``x``, ``sx`` and ``cx`` gates)."""
    if scale_factor == 1.0 or not gates:
        return tuple(gates)
    import cirq  # noqa: PLC0415 - comes with mitiq
    from mitiq.zne.scaling import fold_gates_at_random, fold_global  # noqa: PLC0415

    circuit = cirq.Circuit(_to_cirq(cirq, gate) for gate in gates)
    if folding == GLOBAL_FOLDING:
        folded = fold_global(circuit, scale_factor)
    else:
        folded = fold_gates_at_random(circuit, scale_factor, seed=seed)
    return tuple(native for op in folded.all_operations() for native in _from_cirq(cirq, op))


def _to_cirq(cirq: Any, gate: NativeGate) -> Any:
    qubits = [cirq.LineQubit(q) for q in gate.qubits]
    if gate.name == "x":
        return cirq.X(*qubits)
    if gate.name == "sx":
        return (cirq.X**0.5).on(*qubits)
    if gate.name == "rz":
        return cirq.rz(gate.params[0]).on(*qubits)
    if gate.name == "cx":
        return cirq.CNOT(*qubits)
    raise ValueError(f"{gate.name} is not a native gate of the device")


def _from_cirq(cirq: Any, operation: Any) -> list[NativeGate]:
    qubits = tuple(q.x for q in operation.qubits)
    gate = operation.gate
    turns = float(gate.exponent) % 2.0  # in half turns: X**e, Z**e (rz(θ): e = θ/π)
    if isinstance(gate, cirq.ZPowGate):
        return [NativeGate("rz", qubits, (float(gate.exponent) * math.pi,))]
    if isinstance(gate, cirq.CXPowGate) and math.isclose(turns, 1.0):
        return [NativeGate("cx", qubits)]
    if isinstance(gate, cirq.XPowGate):
        if math.isclose(turns, 1.0):
            return [NativeGate("x", qubits)]
        if math.isclose(turns, 0.5):
            return [NativeGate("sx", qubits)]
        if math.isclose(turns, 1.5):  # sx† = rz(π) sx rz(π) up to a global phase
            turn = NativeGate("rz", qubits, (math.pi,))
            return [turn, NativeGate("sx", qubits), turn]
    raise ValueError(f"folding produced {operation}, which is no native gate of the device")


__all__ = [
    "EstimateAt",
    "ZneUnavailable",
    "check_mitiq",
    "check_zne_cost",
    "extrapolate",
    "fallback",
    "fold",
    "zero_noise_estimate",
]
