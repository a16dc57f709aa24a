"""The researcher's loop on a noisy QPU: an optimizer's batch of ansatz states, a
Hamiltonian of several measurement settings, ZNE and readout mitigation.

``--iterations`` batches of an optimizer (each ``--states`` 4-qubit ansatz states: RY, a
CNOT chain, RY, seeded angles) of H = -sum Z_i Z_i+1 - sum X_i + 0.5 sum Y_i Y_i+1 (three
measurement settings), estimated on the local server's emulated QPUs (``emu-heavyhex-16``,
``emu-square-64``), four ways, each in a subprocess of its own interpreter against the
same server:

- ``ours``: ``create_oqtopus_mitigated_estimator`` with its defaults (ZNE at scales
  1/3/5, left folding, a fitted line; QURI Parts' readout filters per device region;
  every circuit packed), ``--shots`` per folded circuit shared among the settings;
- ``ours-server``: the same with ``readout="server"`` (the service's ``pseudo_inverse``
  instead of QURI Parts' calibrated filters: no calibration circuits);
- ``raw``: ``create_oqtopus_packed_estimator``: the same circuits packed, unmitigated;
- ``reference``: quri-parts-oqtopus 1.1.5's way: one estimation job per state
  (``OqtopusEstimationBackend.estimate`` and the server's readout mitigation, then
  ``result()`` with its documented defaults), with ``--shots`` / 3 shots: the local
  server measures every Pauli term of an estimation job that many times, as often as ours
  measures each of its three settings;
- ``reference-zne``: the same client with ZNE done by hand, as the issue's user did: one
  estimation job per state and scale factor (the circuit folded G (G^-1 G)^k, submitted
  at ``optimization_level`` 0 so that the folds survive), the same line fitted.

Each side reports its estimates (the parent prints the mean |error| against the exact
energies), the jobs it made (counted on the server), the wall time from its first
submission to its last result and its client CPU over that span. The whole is run again
with ``--latency-ms`` of round trip added by the fault proxy's latency mode in front of
the server (storage URLs included). ``--quick`` (CI): one batch of 2 states, 20,000
shots, the 16-qubit device, no latency run.

    python benches/workload.py [--quick] [--iterations 3] [--states 8] [--shots 100000]
        [--devices emu-heavyhex-16,emu-square-64] [--latency-ms 50]
        [--sides ours,raw,reference,reference-zne] [--reference-python PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlparse

from _sides import REPO, reference_python, run_child

SIDES = ("ours", "ours-server", "raw", "reference", "reference-zne")
SETTINGS = 3  # of the Hamiltonian: ZZ, X, YY
SCALES = (1, 3, 5)
QUBITS = 4
SEED = {"seed": 17}


def hamiltonian() -> Any:
    """-sum Z_i Z_i+1 - sum X_i + 0.5 sum Y_i Y_i+1: three bitwise-commuting settings."""
    from quri_parts.core.operator import Operator, pauli_label

    terms = {pauli_label(f"Z{q} Z{q + 1}"): -1.0 for q in range(QUBITS - 1)}
    terms.update({pauli_label(f"X{q}"): -1.0 for q in range(QUBITS)})
    terms.update({pauli_label(f"Y{q} Y{q + 1}"): 0.5 for q in range(QUBITS - 1)})
    return Operator(terms)


def ansatz_batch(count: int, iteration: int) -> list[Any]:
    """The optimizer's batch ``iteration``: ``count`` hardware-efficient ansatz states."""
    from quri_parts.circuit import QuantumCircuit

    rng = random.Random(5 + iteration)
    batch = []
    for _ in range(count):
        angles = [rng.uniform(-math.pi, math.pi) for _ in range(2 * QUBITS)]
        circuit = QuantumCircuit(QUBITS)
        for qubit in range(QUBITS):
            circuit.add_RY_gate(qubit, angles[qubit])
        for qubit in range(QUBITS - 1):
            circuit.add_CNOT_gate(qubit, qubit + 1)
        for qubit in range(QUBITS):
            circuit.add_RY_gate(qubit, angles[QUBITS + qubit])
        batch.append(circuit)
    return batch


def exact_energies(count: int, iterations: int) -> list[float]:
    """The exact energy of each state of every batch (a state vector on qulacs)."""
    import qulacs
    from quri_parts.qulacs.circuit import convert_circuit

    operator = hamiltonian()
    energies = []
    circuits = [c for i in range(iterations) for c in ansatz_batch(count, i)]
    for circuit in circuits:
        state = qulacs.QuantumState(QUBITS)
        convert_circuit(circuit).update_quantum_state(state)
        total = 0.0
        for label, coeff in operator.items():
            spec = " ".join(f"{'IXYZ'[pauli]} {index}" for index, pauli in label)
            total += coeff.real * qulacs.PauliOperator(spec, 1.0).get_expectation_value(state).real
        energies.append(total)
    return energies


def run_side(side: str) -> dict[str, Any]:
    """One side's batches with this interpreter's quri_parts_oqtopus (environment: BENCH_*)."""
    from quri_parts_oqtopus.backend import OqtopusConfig

    config = OqtopusConfig(os.environ["BENCH_URL"], os.environ["BENCH_TOKEN"])
    device, name = os.environ["BENCH_DEVICE"], os.environ["BENCH_NAME"]
    shots, count = int(os.environ["BENCH_SHOTS"]), int(os.environ["BENCH_STATES"])
    iterations = int(os.environ["BENCH_ITERATIONS"])
    started, cpu = time.perf_counter(), time.process_time()
    if side.startswith("reference"):
        batch = _reference_batch(side, device, shots, config, name)
    else:
        batch = _our_batch(_estimator(side, device, shots, config, name))
    values = [v for i in range(iterations) for v in batch(ansatz_batch(count, i))]
    return {
        "values": values,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def _our_batch(estimator: Any) -> Any:
    from quri_parts.core.state import GeneralCircuitQuantumState

    def batch(circuits: list[Any]) -> list[float]:
        states = [GeneralCircuitQuantumState(QUBITS, c) for c in circuits]
        return [e.value.real for e in estimator([hamiltonian()], states)]

    return batch


def _reference_batch(side: str, device: str, shots: int, config: Any, name: str) -> Any:
    """The reference's way: an estimation job per state (and per scale factor, by hand)."""
    import numpy as np

    from quri_parts_oqtopus.backend import OqtopusEstimationBackend

    backend = OqtopusEstimationBackend(config)
    readout = {"ro_error_mitigation": "pseudo_inverse"}
    options: dict[str, Any] = {"name": name, "simulator_info": SEED, "mitigation_info": readout}
    scales = SCALES if side == "reference-zne" else (1,)
    if side == "reference-zne":  # the service's default transpiler would cancel the folds
        options["transpiler_info"] = {"transpiler_lib": "qiskit",
                                      "transpiler_options": {"optimization_level": 0}}  # fmt: skip

    def batch(circuits: list[Any]) -> list[float]:
        jobs = [
            backend.estimate(_folded(c, s), hamiltonian(), device, shots // SETTINGS, **options)
            for c in circuits
            for s in scales
        ]
        found = [float(job.result().exp_value or math.nan) for job in jobs]
        if len(scales) == 1:
            return found
        per_state = [found[i : i + len(scales)] for i in range(0, len(found), len(scales))]
        return [float(np.polyfit(scales, values, 1)[-1]) for values in per_state]

    return batch


def _folded(circuit: Any, scale: int) -> Any:
    """Each gate G as G (G^-1 G)^k, k = (scale - 1) / 2 (a gate-level fold)."""
    from quri_parts.circuit import QuantumCircuit, inverse_gate

    folded = QuantumCircuit(circuit.qubit_count)
    for gate in circuit.gates:
        folded.add_gate(gate)
        for _ in range((scale - 1) // 2):
            folded.add_gate(inverse_gate(gate))
            folded.add_gate(gate)
    return folded


def _estimator(side: str, device: str, shots: int, config: Any, name: str) -> Any:
    if side.startswith("ours"):
        from quri_parts_oqtopus.mitigation import create_oqtopus_mitigated_estimator

        readout = "server" if side == "ours-server" else "calibrated"
        return create_oqtopus_mitigated_estimator(
            device, shots, config, readout=readout, name=name, simulator_info=SEED
        )
    from quri_parts_oqtopus.estimator import create_oqtopus_packed_estimator

    return create_oqtopus_packed_estimator(device, shots, config, name=name, simulator_info=SEED)


def count_jobs(server: Any, name: str) -> int:
    """Jobs named ``name`` on the server (read directly, past any proxy, page by page)."""
    import requests

    found, page = 0, 1
    while True:
        query: dict[str, str | int] = {"q": name, "page": page, "size": 1000}
        answer = requests.get(
            f"{server.url}/jobs", params=query, headers={"q-api-token": server.token}, timeout=60
        )
        answer.raise_for_status()
        jobs = answer.json()
        found += sum(1 for job in jobs if (job.get("name") or "").startswith(name))
        if len(jobs) < 1000:
            return found
        page += 1


def measure_all(args: argparse.Namespace, latency: float) -> list[dict[str, Any]]:
    """Every side on every device behind a proxy of ``latency`` seconds' round trip."""
    sys.path.insert(0, str(REPO))
    from tests.faults.proxy import FaultProxy, no_faults

    from quri_parts_oqtopus.local import LocalServer

    sides = [s for s in args.sides.split(",") if s]
    pythons = dict.fromkeys(sides, sys.executable)
    if "reference" in sides:
        pythons["reference"] = reference_python(args.reference_python)
    exact = exact_energies(args.states, args.iterations)
    rows = []
    proxy = FaultProxy(0, no_faults, latency=latency)
    options = {"public_url": proxy.url}
    with proxy, LocalServer(workers=args.workers, options=options) as server:
        proxy.upstream_port = urlparse(server.url).port or 0
        for device in args.devices.split(","):
            for side in sides:
                name = f"{side}-{device}-{int(latency * 1000)}ms"
                env = {**os.environ, "BENCH_URL": proxy.url, "BENCH_TOKEN": server.token}
                env.update(BENCH_DEVICE=device, BENCH_NAME=name, BENCH_SHOTS=str(args.shots),
                           BENCH_STATES=str(args.states),
                           BENCH_ITERATIONS=str(args.iterations))  # fmt: skip
                found = run_child(pythons[side], [__file__, "--side", side], env, name)
                errors = [abs(v - e) for v, e in zip(found["values"], exact, strict=True)]
                rows.append({"device": device, "side": side, "latency_ms": latency * 1000,
                             "error": statistics.mean(errors), "jobs": count_jobs(server, name),
                             "seconds": found["seconds"], "cpu": found["cpu"]})  # fmt: skip
                report_row(rows[-1])
    return rows


def report_row(row: dict[str, Any]) -> None:
    print(
        f"{row['device']:<16} {row['latency_ms']:>4.0f} ms  {row['side']:<10}"
        f" mean|error| {row['error']:.4f}  jobs {row['jobs']:>4}"
        f"  wall {row['seconds']:>7.2f} s  client CPU {row['cpu']:>6.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 states, 20,000 shots (CI)")
    parser.add_argument("--iterations", type=int, default=3, help="the optimizer's batches")
    parser.add_argument("--states", type=int, default=8, help="states per batch")
    parser.add_argument("--shots", type=int, default=100_000)
    parser.add_argument("--devices", default="emu-heavyhex-16,emu-square-64")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=2, help="simulator processes")
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument(
        "--reference-python", default=os.environ.get("OQTOPUS_REFERENCE_PYTHON") or None
    )
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(run_side(args.side)))
        return
    latencies = [0.0, args.latency_ms / 1000]
    if args.quick:
        args.iterations, args.states, args.shots = 1, 2, 20_000
        args.devices, latencies = "emu-heavyhex-16", [0.0]
    load = os.getloadavg()[0]
    print(
        f"workload: {args.iterations} batches of {args.states} four-qubit ansatz states,"
        f" 3 settings, {args.shots:,} shots; load average {load:.1f} at the start"
    )
    rows = [row for latency in latencies for row in measure_all(args, latency)]
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    for row in rows:
        if row["side"] == "ours":
            reference = [r for r in rows if r["side"] != "ours" and _same_run(r, row)]
            for other in reference:
                print(
                    f"{row['device']} {row['latency_ms']:.0f} ms: {other['side']} / ours: error"
                    f" {other['error'] / row['error']:.1f}x, jobs {other['jobs']} vs"
                    f" {row['jobs']}, wall {other['seconds'] / row['seconds']:.1f}x"
                )


def _same_run(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return bool(first["device"] == second["device"] and first["latency_ms"] == second["latency_ms"])


if __name__ == "__main__":
    main()
