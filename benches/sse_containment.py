"""What containing SSE programs costs: the wall time of a trivial SSE job, contained or not.

Two local servers, one containing its programs and one not, each run one warm-up job,
then ``--runs`` jobs of ``print('hello')``, taking turns. Prints the median of the server-side
``execution_time`` (launcher start to exit) and of the client-side time from submit to
the ended job. Not a test: nothing is asserted on time. Usage:
``python benches/sse_containment.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests

from quri_parts_oqtopus.backend import OqtopusSseBackend
from quri_parts_oqtopus.local import LocalServer


def run_once(server: LocalServer, program: Path) -> tuple[float, float]:
    """One trivial job: its execution time (server side) and submit-to-end time."""
    started = time.perf_counter()
    job = OqtopusSseBackend(server.config).run_sse(str(program), "qulacs", name="bench")
    job.wait_for_completion(timeout=120, wait=0.01)
    ended = time.perf_counter() - started
    headers = {"q-api-token": server.token}
    raw = requests.get(f"{server.url}/jobs/{job.job_id}", headers=headers, timeout=30).json()
    assert raw["status"] == "succeeded", raw["job_info"]["message"]
    return float(raw["execution_time"]), ended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = ("require", "none")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "hello.py"
        program.write_text("print('hello')\n")
        with (
            LocalServer(sse_containment="require") as contained,
            LocalServer(sse_containment="none") as plain,
        ):
            servers = {"require": contained, "none": plain}
            for run in range(args.runs + 1):
                for name in settings:  # interleaved: both see the same machine load
                    measured = run_once(servers[name], program)
                    if run:  # the first of each is the warm-up
                        times[name].append(measured)
    medians = {}
    for name in settings:
        execution = statistics.median(t[0] for t in times[name])
        wall = statistics.median(t[1] for t in times[name])
        medians[name] = execution
        print(
            f"containment={name:8s} execution_time {execution:.3f} s   submit->ended {wall:.3f} s"
        )
    overhead = medians["require"] - medians["none"]
    print(f"overhead of containment (median execution_time): {overhead:+.3f} s per job")


if __name__ == "__main__":
    main()
