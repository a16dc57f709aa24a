"""Estimate H = Z0 Z1 + 0.5 X0 X1 on RY(pi/3) (x) |0> then CNOT; compare with the exact value."""

import math

from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import OqtopusEstimationBackend

theta = math.pi / 3
circuit = QuantumCircuit(2)
circuit.add_RY_gate(0, theta)
circuit.add_CNOT_gate(0, 1)
hamiltonian = Operator({pauli_label("Z0 Z1"): 1.0, pauli_label("X0 X1"): 0.5})
# cos(t/2)|00> + sin(t/2)|11>: <Z0 Z1> = 1, <X0 X1> = sin(t)
exact = 1.0 + 0.5 * math.sin(theta)

job = OqtopusEstimationBackend().estimate(circuit, hamiltonian, device_id="qulacs", shots=20000)
result = job.result(wait=0.2)
assert result.exp_value is not None
assert result.stds is not None
print(f"<H> = {result.exp_value:.4f} +/- {result.stds:.4f}  (exact {exact:.4f})")
assert abs(result.exp_value - exact) < 5 * result.stds + 1e-9
