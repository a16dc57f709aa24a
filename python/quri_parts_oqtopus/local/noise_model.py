"""The calibrated noise of each native gate as channel parameters: arithmetic only.

After a gate its qubits relax for the gate's duration (amplitude damping ``1 - exp(-t/T1)``,
dephasing that brings coherences to ``exp(-t/T2)``, T2 capped at 2·T1) and are depolarized
so that the gate's average fidelity, relaxation included, is the calibrated one.

The worker's density-matrix simulation (``noise.py``) applies these parameters; the server
computes them for every gate of a device when the device is configured (``devices.py``),
so a calibration that leaves a channel undefined is refused naming its field instead of
failing every job. No simulator is imported here: the server process uses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from quri_parts_oqtopus.calibration import DeviceCalibration

_NS_PER_US = 1000.0
#: The single-qubit native gates; ``rz`` of no duration is a virtual, exact frame change.
SINGLE_QUBIT_GATES = ("x", "sx", "rz")


class UndefinedChannelError(ValueError):
    """A gate's duration relaxes a qubit completely: its noise channel has no definition."""


@dataclass(frozen=True)
class GateNoise:
    """The channels after one gate.

    Attributes:
        depolarizing: Probability of the gate's n-qubit depolarizing channel.
        relaxation: ``(gamma, p_z)`` per gate qubit: amplitude damping, phase flip.
    """

    depolarizing: float
    relaxation: tuple[tuple[float, float], ...]


def relaxation(duration_ns: float, t1_us: float | None, t2_us: float | None) -> tuple[float, float]:
    """``(gamma, p_z)``: amplitude damping and phase-flip probabilities for one duration.

    Raises:
        UndefinedChannelError: If the duration relaxes the qubit completely (``gamma``
            rounds to 1): the dephasing is then relative to nothing.

    """
    if duration_ns <= 0:
        return 0.0, 0.0
    t = duration_ns / _NS_PER_US
    gamma = 1.0 - math.exp(-t / t1_us) if t1_us else 0.0
    damped = math.sqrt(1.0 - gamma)  # what amplitude damping alone leaves of a coherence
    if damped == 0.0:
        raise UndefinedChannelError(
            f"{duration_ns:g} ns relax a qubit of T1 = {t1_us:g} us completely"
        )
    coherence = math.exp(-t / t2_us) if t2_us else damped
    coherence = min(coherence, damped)  # T2 <= 2 T1
    return gamma, (1.0 - coherence / damped) / 2.0


def relaxation_trace(gamma: float, p_z: float) -> float:
    """Trace of the relaxation's Pauli transfer matrix: 1 + 2·coherence + population factor."""
    return 1.0 + 2.0 * math.sqrt(1.0 - gamma) * (1.0 - 2.0 * p_z) + (1.0 - gamma)


def depolarizing(fidelity: float | None, relaxation_trace: float, n_qubits: int) -> float:
    """The depolarizing probability that, after relaxation, leaves ``fidelity`` on average.

    For ``n`` qubits (dimension d) the average fidelity is ``(d·F_e + 1)/(d + 1)`` and the
    entanglement fidelity ``F_e`` is the Pauli-transfer trace over d²; depolarizing with
    probability p scales every non-identity Pauli by ``1 - p·d²/(d²-1)``.
    """
    if fidelity is None:
        return 0.0
    d = 1 << n_qubits
    d2 = d * d
    entanglement = ((d + 1) * fidelity - 1) / d
    if relaxation_trace <= 1.0:
        return 0.0  # relaxation alone already destroys the state
    factor = (d2 * entanglement - 1) / (relaxation_trace - 1)  # no relaxation: trace = d²
    probability = (1.0 - factor) * (d2 - 1) / d2
    return min(max(probability, 0.0), (d2 - 1) / d2)


def gate_noise(calibration: DeviceCalibration, name: str, qubits: Sequence[int]) -> GateNoise:
    """The noise after the native gate ``name`` on physical ``qubits`` (1 or 2 of them).

    Raises:
        UndefinedChannelError: If the gate's duration relaxes one of its qubits completely.

    """
    calibrated = [calibration.qubits[q] for q in qubits]
    if len(calibrated) == 1:
        duration = calibrated[0].gate_duration.get(name, 0.0)
        if name == "rz" and duration <= 0:
            return GateNoise(0.0, ((0.0, 0.0),))  # a virtual Z: a frame change, exact
        fidelity = calibrated[0].fidelity
    else:
        coupling = calibration.coupling(*qubits)
        duration = coupling.duration if coupling is not None else 0.0
        fidelity = coupling.fidelity if coupling is not None else None
    decays = tuple(relaxation(duration, q.t1, q.t2) for q in calibrated)
    trace = math.prod(relaxation_trace(gamma, p_z) for gamma, p_z in decays)
    return GateNoise(depolarizing(fidelity, trace, len(calibrated)), decays)


def check_gate_noise(calibration: DeviceCalibration) -> None:
    """Compute the noise of every native gate of the device: each qubit's single-qubit
    gates and each coupling's ``cx``.

    Raises:
        ValueError: Naming the qubit or coupling, the duration field and the T1 that make
            a channel undefined.

    """
    for qubit in calibration.qubits:
        for name in SINGLE_QUBIT_GATES:
            try:
                gate_noise(calibration, name, (qubit.id,))
            except UndefinedChannelError as e:
                raise ValueError(
                    f"device_info: qubit {qubit.id}: gate_duration.{name} and"
                    f" qubit_lifetime.t1 leave its noise channel undefined: {e}"
                ) from None
    for index, coupling in enumerate(calibration.couplings):
        try:
            gate_noise(calibration, "cx", (coupling.control, coupling.target))
        except UndefinedChannelError as e:
            raise ValueError(
                f"device_info: couplings[{index}] ({coupling.control} -> {coupling.target}):"
                f" its gate_duration and the qubits' qubit_lifetime.t1 leave the cx noise"
                f" channel undefined: {e}"
            ) from None
