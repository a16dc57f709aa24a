"""Time to result: wall time from ``sample()`` to counts, ours against the reference.

Both clients run with the documented defaults (``result()`` with no arguments: no
timeout, ``wait=10.0``) against one local OQTOPUS server, each side in a subprocess of
its own interpreter (the reference's import names are ours), the sides alternating
run by run. Cases:

- ``tiny``: a 2-qubit Bell circuit, 1,000 shots (the server needs milliseconds);
- ``short``: a 16-qubit, 320-gate random circuit, 1,000 shots (0.1-0.5 s on the server);
- ``batch``: 50 tiny jobs submitted one after another, then every result collected.

Prints the median of each case per side and the ratio reference / ours. Nothing is
asserted: this is a measurement. ``--quick`` runs 1 repeat and a batch of 5, for CI.

    python benches/time_to_result.py [--quick] [--repeat 5] [--reference-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _sides import reference_python, run_child

# A device whose every job takes 0.2 s more (the server's execution_delay): a job that runs
# ~0.2 s whatever the machine's load, unlike a simulation whose time follows the load.
SLOW_DEVICE = "qulacs-0.2s"
SLOW_DELAY = 0.2

CASES = {
    "tiny": "one 2-qubit job, sample() -> counts",
    "short": "one 16-qubit 320-gate job, sample() -> counts",
    "slow": "one 2-qubit job on a device that takes 0.2 s per job, sample() -> counts",
    "batch": "N tiny jobs submitted in a row, then all counts",
}


def bell() -> Any:
    from quri_parts.circuit import QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def random_circuit(qubits: int, gates: int, seed: int) -> Any:
    from quri_parts.circuit import QuantumCircuit

    rng = random.Random(seed)
    circuit = QuantumCircuit(qubits)
    for _ in range(gates):
        kind = rng.randrange(3)
        if kind == 0:
            circuit.add_H_gate(rng.randrange(qubits))
        elif kind == 1:
            circuit.add_RZ_gate(rng.randrange(qubits), rng.uniform(-3.2, 3.2))
        else:
            control, target = rng.sample(range(qubits), 2)
            circuit.add_CNOT_gate(control, target)
    return circuit


def run_case(case: str, batch: int) -> dict[str, Any]:
    """One measurement of ``case`` with this interpreter's quri_parts_oqtopus."""
    from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend

    config = OqtopusConfig(os.environ["BENCH_URL"], os.environ["BENCH_TOKEN"])
    backend = OqtopusSamplingBackend(config)
    circuits = {
        "tiny": [bell()],
        "short": [random_circuit(16, 320, seed=7)],
        "slow": [bell()],
        "batch": [bell()] * batch,
    }[case]
    device_id = SLOW_DEVICE if case == "slow" else "qulacs"
    started = time.perf_counter()
    jobs = [backend.sample(circuit, device_id=device_id, shots=1000) for circuit in circuits]
    counts = [job.result().counts for job in jobs]  # the documented defaults
    elapsed = time.perf_counter() - started
    if any(sum(c.values()) != 1000 for c in counts):
        raise SystemExit(f"{case}: a result does not hold 1,000 shots: {counts!r:.200}")
    # The server's own time for the jobs: what no client can go below.
    return {"seconds": elapsed, "jobs": len(jobs), "server": max(j.execution_time for j in jobs)}


def measure(python: str, case: str, batch: int, env: dict[str, str]) -> dict[str, float]:
    outcome: dict[str, float] = run_child(
        python, [__file__, "--side", case, "--batch", str(batch)], env, case
    )
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, a batch of 5 (CI)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--reference-python", default=os.environ.get("OQTOPUS_REFERENCE_PYTHON") or None
    )
    parser.add_argument("--side", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(run_case(args.side, args.batch)))
        return
    if args.quick:
        args.repeat, args.batch = 1, 5
    sides = {"reference": reference_python(args.reference_python), "ours": sys.executable}

    from quri_parts_oqtopus.local import LocalServer

    devices = Path(tempfile.mkdtemp(prefix="ttr-")) / "devices.json"
    devices.write_text(
        json.dumps([{"device_id": SLOW_DEVICE, "n_qubits": 16, "execution_delay": SLOW_DELAY}])
    )
    with LocalServer(devices_file=devices) as local:
        env = {**os.environ, "BENCH_URL": local.url, "BENCH_TOKEN": local.token}
        measure(sys.executable, "tiny", 1, env)  # warm the simulator worker up
        times: dict[str, dict[str, list[float]]] = {s: {c: [] for c in CASES} for s in sides}
        server: dict[str, list[float]] = {c: [] for c in CASES}
        for case in CASES:
            for run in range(args.repeat):
                order = list(sides) if run % 2 == 0 else list(reversed(sides))
                for side in order:
                    outcome = measure(sides[side], case, args.batch, env)
                    times[side][case].append(outcome["seconds"])
                    server[case].append(outcome["server"])
    print(f"time to result, documented defaults, median of {args.repeat}; batch = {args.batch}")
    header = f"{'case':<8} {'reference s':>12} {'ours s':>9} {'ratio':>7} {'server s':>9}  what"
    print(header)
    for case, what in CASES.items():
        reference = statistics.median(times["reference"][case])
        ours = statistics.median(times["ours"][case])
        on_server = statistics.median(server[case])
        what_text = what.replace("N tiny", f"{args.batch} tiny")
        print(
            f"{case:<8} {reference:>12.3f} {ours:>9.3f} {reference / ours:>6.1f}x"
            f" {on_server:>9.3f}  {what_text}"
        )
    print("server s: the median of the longest execution_time the server reported per run")
    print(f"slow: the device's {SLOW_DELAY} s per job come on top of that execution_time")
    print("all runs (s):", json.dumps(times))


if __name__ == "__main__":
    main()
