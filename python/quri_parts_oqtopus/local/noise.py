"""The noise of an emulated QPU, from its calibration, simulated on qulacs density matrices.

After every native gate the gate's qubits go through the channels ``noise_model.py``
sizes from the calibration: thermal relaxation for the gate's duration (T1, T2) and
depolarizing noise that leaves the calibrated average fidelity (``fidelity`` of the
qubit, or of the coupling for ``cx``). A virtual ``rz`` of zero duration is exact.
Readout confusion (``meas_error``) applies to the measured bits. Idle qubits do not
decay while others are driven (not modelled).

The channels are applied exactly to a density matrix (no trajectory sampling), so
probabilities carry no simulation noise: only the shots are sampled. The cost is 4^n in
the qubits the program uses, so the emulation takes at most ``MAX_DENSITY_QUBITS``.
Runs in the worker processes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import qulacs
from numpy.typing import NDArray
from qulacs import gate as qgate

from quri_parts_oqtopus.calibration import DeviceCalibration

from .device_program import NativeGate
from .mitigation import apply_per_bit, assignment_matrix
from .noise_model import gate_noise

#: Qubits a program may use on an emulated device (a density matrix of 4^12 entries: 256 MiB).
MAX_DENSITY_QUBITS = 12
# A qulacs gate or channel (qulacs has no type information).
Gate = Any


def check_density_size(n_qubits: int) -> None:
    """Raise ``ValueError`` when ``n_qubits`` is beyond ``MAX_DENSITY_QUBITS``."""
    if n_qubits > MAX_DENSITY_QUBITS:
        raise ValueError(
            f"the program uses {n_qubits} qubits of the device; the noisy emulation"
            f" simulates at most {MAX_DENSITY_QUBITS} (a density matrix grows as 4^n)"
        )


class NoisyDevice:
    """Density-matrix simulation of native gates with the device's calibrated noise.

    Args:
        calibration: The device's calibration.
        qubits: The physical qubits to simulate; any gate on another is an error.

    Raises:
        ValueError: If more than ``MAX_DENSITY_QUBITS`` qubits are asked for.

    """

    def __init__(self, calibration: DeviceCalibration, qubits: Sequence[int]) -> None:
        check_density_size(len(qubits))
        self._calibration = calibration
        self.qubits = list(qubits)
        self._index = {physical: index for index, physical in enumerate(self.qubits)}
        self.state = qulacs.DensityMatrix(len(self.qubits))

    def run(self, gates: Sequence[NativeGate]) -> None:
        """Apply each gate and then its noise."""
        for native in gates:
            local = [self._index[q] for q in native.qubits]
            self._unitary(native, local).update_quantum_state(self.state)
            for channel in self._noise(native, local):
                channel.update_quantum_state(self.state)

    @staticmethod
    def _unitary(native: NativeGate, local: list[int]) -> Gate:
        if native.name == "x":
            return qgate.X(local[0])
        if native.name == "sx":
            return qgate.sqrtX(local[0])
        if native.name == "rz":
            return qgate.RotZ(local[0], native.params[0])  # exp(-i θ Z / 2), as OpenQASM
        if native.name == "cx":
            return qgate.CNOT(local[0], local[1])
        raise ValueError(f"{native.name} is not a native gate of the device")

    def _noise(self, native: NativeGate, local: list[int]) -> list[Gate]:
        noise = gate_noise(self._calibration, native.name, native.qubits)
        channels: list[Gate] = []
        if noise.depolarizing > 0:
            if len(local) == 1:
                channels.append(qgate.DepolarizingNoise(local[0], noise.depolarizing))
            else:
                channels.append(
                    qgate.TwoQubitDepolarizingNoise(local[0], local[1], noise.depolarizing)
                )
        for index, (gamma, p_z) in zip(local, noise.relaxation, strict=True):
            if gamma > 0:
                channels.append(qgate.AmplitudeDampingNoise(index, gamma))
            if p_z > 0:
                channels.append(qgate.DephasingNoise(index, p_z))
        return channels

    def rotate_to_z(self, letters: Sequence[tuple[int, str]]) -> qulacs.DensityMatrix:
        """A copy of the state with each ``(physical qubit, "X"|"Y"|"Z")`` rotated to Z."""
        state = self.state.copy()
        for physical, letter in letters:
            index = self._index[physical]
            if letter == "Y":
                qgate.Sdag(index).update_quantum_state(state)
            if letter in {"X", "Y"}:
                qgate.H(index).update_quantum_state(state)
        return state

    def read_distribution(
        self, measured: Sequence[int], state: qulacs.DensityMatrix | None = None
    ) -> NDArray[np.float64]:
        """P(read bits), bit k of the index being physical qubit ``measured[k]`` as read out
        (with its readout error)."""
        matrix = (state or self.state).get_matrix()
        probabilities = np.clip(np.real(np.diagonal(matrix)), 0.0, None)
        width = len(self.qubits)
        tensor = probabilities.reshape((2,) * width)
        axes = [width - 1 - self._index[q] for q in measured]
        unused = tuple(a for a in range(width) if a not in axes)
        marginal = tensor.sum(axis=unused) if unused else tensor
        # The kept axes are in ascending order; put measured[-1] first so that bit k = measured[k].
        order = sorted(axes)
        marginal = np.transpose(marginal, [order.index(a) for a in reversed(axes)])
        flat = np.ascontiguousarray(marginal).reshape(-1)
        readouts = [self._calibration.qubits[q].readout for q in measured]
        noisy = apply_per_bit(flat / flat.sum(), [assignment_matrix(r) for r in readouts])
        return np.clip(noisy, 0.0, None)
