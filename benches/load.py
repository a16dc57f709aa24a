"""Load benchmark: many sampling jobs from several threads against the local server.

Every result is checked. Prints throughput and the p50/p99 latency of each HTTP step
(register, upload, submit, get, status, download). Not a test: nothing is asserted on
time. Usage: ``python benches/load.py [--jobs 1000] [--threads 8] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus import transport
from quri_parts_oqtopus.backend import OqtopusSamplingBackend
from quri_parts_oqtopus.local import LocalServer

#: Each HTTP exchange is timed under the step its operation names (the first prefix that fits).
STEPS = {
    "register": "register job",
    "upload": "upload input",
    "submit": "submit job",
    "status": "get status",
    "get": "get job",
    "download": "download",
}
_latencies: dict[str, list[float]] = defaultdict(list)
_lock = threading.Lock()


def step_of(operation: str) -> str | None:
    return next((step for step, prefix in STEPS.items() if operation.startswith(prefix)), None)


def instrument() -> None:
    exchange = transport.Transport.exchange

    def timed(self: transport.Transport, request: transport.Request, deadline: float) -> bytes:
        started = time.perf_counter()
        try:
            return exchange(self, request, deadline)
        finally:
            step = step_of(request.operation)
            if step is not None:
                with _lock:
                    _latencies[step].append(time.perf_counter() - started)

    transport.Transport.exchange = timed  # type: ignore[method-assign]


def circuit_for(index: int) -> QuantumCircuit:
    circuit = QuantumCircuit(8)
    circuit.add_X_gate(index % 8)
    return circuit


def run_one(backend: OqtopusSamplingBackend, index: int) -> bool:
    job = backend.sample(circuit_for(index), "qulacs", 10, name=f"load-{index}")
    return job.result(wait=0.05).counts == {1 << (index % 8): 10}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="simulator processes")
    args = parser.parse_args()
    instrument()
    with LocalServer(workers=args.workers) as server:
        backend = OqtopusSamplingBackend(server.config)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            checks = list(pool.map(lambda i: run_one(backend, i), range(args.jobs)))
        elapsed = time.perf_counter() - started
    print(f"{args.jobs} jobs from {args.threads} threads, {args.workers} simulator workers")
    print(f"results correct: {sum(checks)}/{len(checks)}")
    print(f"wall time: {elapsed:.1f} s, throughput: {args.jobs / elapsed:.1f} jobs/s")
    print(f"{'step':<10}{'calls':>8}{'mean ms':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for step in STEPS:
        values = _latencies.get(step, [])
        if values:
            print(
                f"{step:<10}{len(values):>8}{statistics.mean(values) * 1e3:>10.1f}"
                f"{percentile(values, 0.5) * 1e3:>10.1f}{percentile(values, 0.99) * 1e3:>10.1f}"
            )


if __name__ == "__main__":
    main()
