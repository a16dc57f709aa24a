"""Figures of the server attacks of the second review, for the README's tables (not a test).

Run from the repository root, e.g. ``python -m tests.local.attack_figures uploads``:

- ``uploads``: a 61 KB ZIP holding one program of 60 MiB of spaces, uploaded three times;
  bytes sent and bytes stored under the data directory.
- ``orphan``: ``kill -9`` of a server while its worker simulates a long job (``job_timeout``
  10 s); the CPU seconds each of its children spends in the 60 s after the kill.
- ``crashers``: ten jobs whose transpilation raises (``rx(1e308)`` on ``emu-ring-8``), then
  a normal job: how long the normal job takes from its submission to its end.
- ``layout``: ``DeviceCalibration.connected_layout`` on a 32x32 lattice and on 200,000
  duplicated couplings, wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, child_pids, qasm, zip_members


def stored_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def uploads() -> None:
    padding = b" " * (60 << 20)
    document = b'{"program": ["OPENQASM 3;' + padding + b'"]}'
    archive = zip_members({"input.json": document})
    with LocalServer() as server:
        api = Api(server)
        jobs = server.data_dir / "jobs"
        before = stored_bytes(jobs)
        answers = []
        for _ in range(3):
            registered = api.register()
            answers.append(api.upload(registered["presigned_url"], archive).status_code)
        stored = stored_bytes(jobs) - before
    print(f"sent {3 * len(archive)} bytes (3 x {len(archive)}), answers {answers}")
    print(f"stored {stored} bytes under {jobs}")


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] == "Z":
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def orphan() -> None:
    program = qasm(22, "\n".join(f"h q[{g % 22}];" for g in range(30_000)))
    with LocalServer(options={"job_timeout": 10}) as server:
        api = Api(server)
        job_id = api.submit("sampling", {"program": [program]}, shots=1)
        api.wait_for(job_id, {"running"})
        assert server.pid is not None
        workers = child_pids(server.pid)
        time.sleep(1.0)  # the simulation is under way
        at_kill = {pid: cpu_seconds(pid) for pid in workers}
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        last = dict(at_kill)
        while time.monotonic() < deadline:
            now = {pid: cpu_seconds(pid) for pid in workers}
            if all(value is None for value in now.values()):
                break
            last.update({pid: value for pid, value in now.items() if value is not None})
            time.sleep(0.5)
        alive = sorted(pid for pid in workers if cpu_seconds(pid) is not None)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
    for pid in sorted(workers):
        spent = (last[pid] or 0.0) - (at_kill[pid] or 0.0)
        print(f"child {pid}: {spent:.1f} CPU-s after the server's kill -9")
    print(f"still alive 60 s after the kill (then killed here): {alive}")


def crashers() -> None:
    crashing = qasm(2, "rx(1e308) q[0];\ncx q[0], q[1];")
    with LocalServer() as server:
        api = Api(server)
        api.wait(api.submit("sampling", {"program": [qasm(2, "x q[0];")]}, shots=10))  # warm
        for _ in range(10):
            api.submit("sampling", {"program": [crashing]}, shots=10, device_id="emu-ring-8")
        started = time.monotonic()
        normal = api.wait(api.submit("sampling", {"program": [qasm(2, "x q[0];")]}, shots=10))
        waited = time.monotonic() - started
        last = api.get("/jobs", params={"size": 2}).json()[-1]
    print(f"a normal job after 10 crashing ones: {normal['status']} in {waited:.2f} s")
    print(f"the crashing jobs' message: {last['job_info']['message']}")


def lattice(side: int, copies: int = 1) -> DeviceCalibration:
    qubits = [{"id": q, "fidelity": 0.999} for q in range(side * side)]
    couplings = []
    for row in range(side):
        for column in range(side):
            here = row * side + column
            if column + 1 < side:
                couplings.append({"control": here, "target": here + 1, "fidelity": 0.99})
            if row + 1 < side:
                couplings.append({"control": here, "target": here + side, "fidelity": 0.99})
    return DeviceCalibration.from_device_info(
        json.dumps({"qubits": qubits, "couplings": couplings * copies})
    )


def layout() -> None:
    for label, calibration in (
        ("32x32 lattice", lattice(32)),
        ("200k duplicated couplings (4x4 lattice, 24 edges x 8,334)", lattice(4, 8334)),
    ):
        started = time.perf_counter()
        chosen = calibration.connected_layout(4)
        elapsed = time.perf_counter() - started
        print(f"{label}: connected_layout(4) = {chosen} in {elapsed:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    figures = {"uploads": uploads, "orphan": orphan, "crashers": crashers, "layout": layout}
    parser.add_argument("figure", choices=sorted(figures))
    figures[parser.parse_args().figure]()


if __name__ == "__main__":
    main()
