"""Packing: many small circuits as few multi_manual jobs, against one job per circuit.

2,000 four-qubit circuits, 1,000 shots each, on a 64-qubit device of the local server
(a ``devices_file`` entry: ``{"device_id": "qulacs64", "n_qubits": 64}``), three ways,
each in a subprocess of its own interpreter against the same server:

- ``packed``: ``OqtopusJobSet.submit(circuits, ..., pack=True)``, ``wait()``, ``results()``;
- ``unpacked``: the same job set without packing (one job per circuit);
- ``reference``: quri-parts-oqtopus 1.1.5's loop, ``sample()`` per circuit, then
  ``result()`` per job (its documented defaults).

Each side reports the jobs it submitted, the wall time from the first submission to the
last result, and the client's CPU time over that span (all its threads); the sides are
printed with their ratios. Every result is checked (1,000 shots, one per circuit, in
order); packed and unpacked are also compared per circuit with a chi-square test, whose
failures are counted. ``--quick`` (CI) runs 64 circuits of 100 shots and one repeat.

    python benches/packing.py [--quick] [--circuits 2000] [--shots 1000] [--repeat 1]
        [--reference-python PATH] [--sides packed,unpacked,reference]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _sides import reference_python, run_child

DEVICE = "qulacs64"
SIDES = ("packed", "unpacked", "reference")


def circuits(count: int) -> list[Any]:
    """The same ``count`` random four-qubit circuits on every side (seeded)."""
    from quri_parts.circuit import QuantumCircuit

    made = []
    for seed in range(count):
        rng = random.Random(seed)
        circuit = QuantumCircuit(4)
        for _ in range(16):
            kind = rng.randrange(3)
            if kind == 0:
                circuit.add_H_gate(rng.randrange(4))
            elif kind == 1:
                circuit.add_RY_gate(rng.randrange(4), rng.uniform(-3.1, 3.1))
            else:
                control, target = rng.sample(range(4), 2)
                circuit.add_CNOT_gate(control, target)
        made.append(circuit)
    return made


def run_side(side: str, count: int, shots: int, out: Path) -> dict[str, Any]:
    """One measurement of ``side`` with this interpreter's quri_parts_oqtopus."""
    from quri_parts_oqtopus.backend import OqtopusConfig

    config = OqtopusConfig(os.environ["BENCH_URL"], os.environ["BENCH_TOKEN"])
    batch = circuits(count)
    started, cpu = time.perf_counter(), time.process_time()
    if side == "reference":
        from quri_parts_oqtopus.backend import OqtopusSamplingBackend

        backend = OqtopusSamplingBackend(config)
        jobs = [backend.sample(c, device_id=DEVICE, shots=shots) for c in batch]
        counts = [dict(job.result().counts) for job in jobs]
        submitted = len(jobs)
    else:
        from quri_parts_oqtopus.jobset import OqtopusJobSet

        job_set = OqtopusJobSet.submit(batch, DEVICE, shots, config, pack=side == "packed")
        if not job_set.wait(timeout=3600, wait=0.2):
            raise SystemExit(f"{side}: jobs still pending after an hour")
        results = job_set.results()
        failed = [r for r in results if not hasattr(r, "counts")]
        if failed:
            raise SystemExit(f"{side}: {len(failed)} circuits failed, first: {failed[0]}")
        counts = [dict(r.counts) for r in results]  # type: ignore[union-attr]
        submitted = len({job.job_id for job in job_set.jobs if job is not None})
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if len(counts) != count or any(sum(c.values()) != shots for c in counts):
        raise SystemExit(f"{side}: a result does not hold {shots} shots")
    out.write_text(json.dumps([{str(k): v for k, v in c.items()} for c in counts]))
    return {"seconds": elapsed, "cpu": cpu, "jobs": submitted}


def chi_square_failures(first: list[dict[str, int]], second: list[dict[str, int]]) -> int:
    """Circuits whose two samples differ at the 1e-4 level (two-sample chi-square)."""
    failures = 0
    for a, b in zip(first, second, strict=True):
        keys = set(a) | set(b)
        na, nb = sum(a.values()), sum(b.values())
        statistic = 0.0
        for key in keys:
            total = a.get(key, 0) + b.get(key, 0)
            ea, eb = total * na / (na + nb), total * nb / (na + nb)
            statistic += (a.get(key, 0) - ea) ** 2 / ea + (b.get(key, 0) - eb) ** 2 / eb
        dof = max(len(keys) - 1, 1)
        # Wilson-Hilferty quantile of chi-square at 1 - 1e-4 (normal quantile 3.719).
        limit = dof * (1 - 2 / (9 * dof) + 3.719 * math.sqrt(2 / (9 * dof))) ** 3
        failures += statistic > limit
    return failures


def measure(python: str, side: str, args: argparse.Namespace, env: dict[str, str]) -> Any:
    out = Path(env["BENCH_DIR"]) / f"{side}.json"
    command = [__file__, "--side", side, "--circuits", str(args.circuits)]
    command += ["--shots", str(args.shots), "--out", str(out)]
    outcome: dict[str, Any] = run_child(python, command, env, side)
    outcome["counts"] = json.loads(out.read_text())
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 circuits, 100 shots (CI)")
    parser.add_argument("--circuits", type=int, default=2000)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="simulator processes")
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument(
        "--reference-python", default=os.environ.get("OQTOPUS_REFERENCE_PYTHON") or None
    )
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(run_side(args.side, args.circuits, args.shots, Path(args.out))))
        return
    if args.quick:
        args.circuits, args.shots, args.repeat = 64, 100, 1
    sides = [s for s in args.sides.split(",") if s]
    pythons = dict.fromkeys(sides, sys.executable)
    if "reference" in sides:
        pythons["reference"] = reference_python(args.reference_python)

    from quri_parts_oqtopus.local import LocalServer

    with tempfile.TemporaryDirectory() as scratch:
        devices = Path(scratch) / "devices.json"
        devices.write_text(json.dumps([{"device_id": DEVICE, "n_qubits": 64}]))
        with LocalServer(devices_file=devices, workers=args.workers) as local:
            env = {**os.environ, "BENCH_URL": local.url, "BENCH_TOKEN": local.token}
            env["BENCH_DIR"] = scratch
            warm_up = argparse.Namespace(circuits=16, shots=10)
            measure(sys.executable, "packed", warm_up, env)  # the simulator workers start
            runs: dict[str, list[Any]] = {s: [] for s in sides}
            load = [os.getloadavg()[0]]
            for run in range(args.repeat):
                for side in sides if run % 2 == 0 else sides[::-1]:
                    runs[side].append(measure(pythons[side], side, args, env))
            load.append(os.getloadavg()[0])
    report(runs, args, load)


def report(runs: dict[str, list[Any]], args: argparse.Namespace, load: list[float]) -> None:
    print(
        f"packing: {args.circuits} four-qubit circuits x {args.shots} shots, 64-qubit local"
        f" device, median of {args.repeat}; load average {load[0]:.1f} -> {load[1]:.1f}"
    )
    median = {
        side: {key: statistics.median(r[key] for r in found) for key in ("seconds", "cpu", "jobs")}
        for side, found in runs.items()
    }
    print(f"{'side':<10} {'jobs':>6} {'wall s':>9} {'client CPU s':>13}")
    for side, m in median.items():
        print(f"{side:<10} {m['jobs']:>6.0f} {m['seconds']:>9.3f} {m['cpu']:>13.3f}")
    if "packed" in median:
        for other in (s for s in median if s != "packed"):
            p, o = median["packed"], median[other]
            print(
                f"{other} / packed: jobs {o['jobs'] / p['jobs']:.1f}x, wall"
                f" {o['seconds'] / p['seconds']:.1f}x, client CPU {o['cpu'] / p['cpu']:.1f}x"
            )
    if "packed" in runs and "unpacked" in runs:
        failures = chi_square_failures(runs["packed"][0]["counts"], runs["unpacked"][0]["counts"])
        print(
            f"chi-square (1e-4) packed vs unpacked: {failures} of {args.circuits} circuits differ"
        )


if __name__ == "__main__":
    main()
