"""The QURI Parts sampler and estimator factories inside a small real QURI Parts workflow."""

from __future__ import annotations

import math

import pytest
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.estimator import Estimate
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.state import quantum_state

from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.estimator import (
    create_oqtopus_concurrent_estimator,
    create_oqtopus_estimator,
)
from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler, create_oqtopus_sampler

from .conftest import ghz

DEVICE = "qulacs"


def test_sampler_counts_have_int_keys(config: OqtopusConfig) -> None:
    sampler = create_oqtopus_sampler(DEVICE, config, wait=0.05)
    counts = sampler(ghz(3), 300)
    assert set(counts) <= {0, 7}, counts
    assert sum(counts.values()) == 300


def test_concurrent_sampler_keeps_the_order_of_pairs(config: OqtopusConfig) -> None:
    sampler = create_oqtopus_concurrent_sampler(DEVICE, config, concurrency=3, wait=0.05)
    circuits = []
    for qubit in range(4):
        circuit = QuantumCircuit(4)
        circuit.add_X_gate(qubit)
        circuits.append(circuit)
    results = list(sampler([(c, 10 + i) for i, c in enumerate(circuits)]))
    assert results == [{1 << i: 10 + i} for i in range(4)]


def test_concurrency_below_one_is_refused_when_the_factory_is_made(config: OqtopusConfig) -> None:
    with pytest.raises(ValueError, match="concurrency should be a positive integer: 0"):
        create_oqtopus_concurrent_sampler(DEVICE, config, concurrency=0)


def test_estimator_gives_the_energy_of_a_ghz_state(config: OqtopusConfig) -> None:
    # H = Z0 Z1 + Z1 Z2 + 0.5 X0 X1 X2: on GHZ(3), <ZZ> = 1 each and <XXX> = 1, so E = 2.5.
    hamiltonian = Operator(
        {
            pauli_label("Z0 Z1"): 1.0,
            pauli_label("Z1 Z2"): 1.0,
            pauli_label("X0 X1 X2"): 0.5,
        }
    )
    estimator = create_oqtopus_estimator(DEVICE, 4000, config, wait=0.05)
    estimate: Estimate[complex] = estimator(hamiltonian, quantum_state(3, circuit=ghz(3)))
    assert math.isclose(estimate.value.real, 2.5, abs_tol=max(5 * estimate.error, 1e-9))


def test_a_vqe_style_scan_finds_the_minimum(config: OqtopusConfig) -> None:
    # E(theta) = <Z0> on RY(theta)|0> = cos(theta): the scan's minimum is at pi.
    estimator = create_oqtopus_concurrent_estimator(DEVICE, 2000, config, concurrency=4, wait=0.05)
    angles = [0.0, math.pi / 2, math.pi, 3 * math.pi / 2]
    states = []
    for angle in angles:
        circuit = QuantumCircuit(1)
        circuit.add_RY_gate(0, angle)
        states.append(quantum_state(1, circuit=circuit))
    energies = [e.value.real for e in estimator([Operator({pauli_label("Z0"): 1.0})], states)]
    assert min(range(len(angles)), key=energies.__getitem__) == 2, energies
    for angle, energy in zip(angles, energies, strict=True):
        assert math.isclose(energy, math.cos(angle), abs_tol=0.15), (angle, energy)


def test_concurrent_estimator_refuses_mismatched_lengths(config: OqtopusConfig) -> None:
    estimator = create_oqtopus_concurrent_estimator(DEVICE, 10, config)
    operator = Operator({pauli_label("Z0"): 1.0})
    states = [quantum_state(1, circuit=QuantumCircuit(1)) for _ in range(3)]
    with pytest.raises(ValueError, match="differ in number: 2 and 3"):
        list(estimator([operator, operator], states))
