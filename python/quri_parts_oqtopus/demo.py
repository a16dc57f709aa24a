"""The main job, end to end on the embedded default: ``oqtopus-local demo``.

Starts a local OQTOPUS server, then, through the public backend API only: a batch of
sampling jobs, one multi_manual job and one estimation, printing results and timings.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
)
from quri_parts_oqtopus.local import LocalServer

DEVICE = "qulacs"
_T = TypeVar("_T")


def ghz(qubit_count: int) -> QuantumCircuit:
    """A GHZ state preparation: only all-zeros and all-ones are ever measured."""
    circuit = QuantumCircuit(qubit_count)
    circuit.add_H_gate(0)
    for qubit in range(1, qubit_count):
        circuit.add_CNOT_gate(qubit - 1, qubit)
    return circuit


def rotated(qubit_count: int, angle: float) -> QuantumCircuit:
    """RY(angle) on every qubit: each bit reads 1 with probability sin(angle/2)**2."""
    circuit = QuantumCircuit(qubit_count)
    for qubit in range(qubit_count):
        circuit.add_RY_gate(qubit, angle)
    return circuit


def timed(what: str, action: Callable[[], _T]) -> _T:
    """Run ``action`` and print how long it took."""
    started = time.perf_counter()
    value = action()
    print(f"  {what}: {time.perf_counter() - started:.3f} s")
    return value


def run_sampling_batch(config: OqtopusConfig, jobs: int, shots: int) -> None:
    """Submit ``jobs`` GHZ sampling jobs, then wait for all of them."""
    print(f"\n[1] sampling: {jobs} GHZ circuits of 2..{jobs + 1} qubits, {shots} shots each")
    backend = OqtopusSamplingBackend(config)
    circuits = [ghz(2 + i) for i in range(jobs)]
    submitted: list[OqtopusSamplingJob] = timed(
        "submit",
        lambda: [backend.sample(c, DEVICE, shots, name=f"ghz-{i}") for i, c in enumerate(circuits)],
    )
    results = timed("wait for all results", lambda: [job.result(wait=0.05) for job in submitted])
    for job, circuit, result in zip(submitted, circuits, results, strict=True):
        ones = (1 << circuit.qubit_count) - 1
        share = result.counts.get(0, 0) / shots
        stray = sum(n for key, n in result.counts.items() if key not in (0, ones))
        print(f"    {job.name:>7}  P(0...0)={share:.3f}  P(1...1)={1 - share:.3f}  other={stray}")


def run_multi_manual(config: OqtopusConfig, shots: int) -> None:
    """One multi_manual job of three programs, with per-program counts."""
    print(f"\n[2] multi_manual: GHZ(3), RY(pi/3) on 2 qubits and GHZ(2) as one job, {shots} shots")
    programs = [ghz(3), rotated(2, math.pi / 3), ghz(2)]
    job = timed("submit", lambda: OqtopusSamplingBackend(config).sample(programs, DEVICE, shots))
    result = timed("wait for result", lambda: job.result(wait=0.05))
    print(f"    combined outcomes: {len(result.counts)}")
    for index, counts in sorted((result.divided_counts or {}).items()):
        width = programs[index].qubit_count
        shown = ", ".join(f"{key:0{width}b}:{n}" for key, n in sorted(counts.items()))
        print(f"    program {index}: {shown}")


def run_estimation(config: OqtopusConfig, shots: int) -> None:
    """Estimate a small Hamiltonian on a Bell pair; exact value 1.0 + 0.5 + 0.25 = 1.75."""
    print(f"\n[3] estimation: H = Z0 Z1 + 0.5 X0 X1 - 0.25 Y0 Y1 on a Bell pair, {shots} shots")
    operator = Operator(
        {
            pauli_label("Z0 Z1"): 1.0,
            pauli_label("X0 X1"): 0.5,
            pauli_label("Y0 Y1"): -0.25,
        }
    )
    job = timed(
        "submit", lambda: OqtopusEstimationBackend(config).estimate(ghz(2), operator, DEVICE, shots)
    )
    result = timed("wait for result", lambda: job.result(wait=0.05))
    print(f"    <H> = {result.exp_value:.4f} ± {result.stds:.4f}   (exact 1.75)")


def run_demo(jobs: int = 8, shots: int = 1000) -> int:
    """Run the demo; returns the process exit code."""
    started = time.perf_counter()
    with LocalServer() as server:
        print(f"local OQTOPUS server at {server.url} (data in {server.data_dir})")
        devices = OqtopusDeviceBackend(server.config).get_devices()
        for device in devices:
            print(f"  device {device.device_id}: {device.device_type}, {device.n_qubits} qubits")
        run_sampling_batch(server.config, jobs, shots)
        run_multi_manual(server.config, shots)
        run_estimation(server.config, shots * 4)
    print(f"\ndone in {time.perf_counter() - started:.2f} s")
    return 0
