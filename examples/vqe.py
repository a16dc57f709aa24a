"""A small variational loop with a QURI Parts estimator running on OQTOPUS.

Minimise E(theta) = <Z0 + Z1 + 0.5 X0 X1> over RY(theta) on both qubits by a coarse scan.
"""

import math

from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.state import quantum_state

from quri_parts_oqtopus.estimator import create_oqtopus_concurrent_estimator

hamiltonian = Operator(
    {
        pauli_label("Z0"): 1.0,
        pauli_label("Z1"): 1.0,
        pauli_label("X0 X1"): 0.5,
    }
)
estimator = create_oqtopus_concurrent_estimator("qulacs", shots=4000, concurrency=4, wait=0.2)

angles = [i * math.pi / 8 for i in range(17)]
states = []
for angle in angles:
    circuit = QuantumCircuit(2)
    circuit.add_RY_gate(0, angle)
    circuit.add_RY_gate(1, angle)
    states.append(quantum_state(2, circuit=circuit))
energies = [estimate.value.real for estimate in estimator([hamiltonian], states)]
best = min(range(len(angles)), key=energies.__getitem__)
print(f"minimum E = {energies[best]:.3f} at theta = {angles[best]:.3f}")
# E(theta) = 2 cos(theta) + 0.5 sin(theta)^2: the minimum is -2 at theta = pi.
assert abs(angles[best] - math.pi) < 0.5
