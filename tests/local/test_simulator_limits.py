"""Simulations are contained: cost checks before they run, time and memory limits while
they do, cancels that stop them, and large results that never hold up other requests.

The full-size cases are marked ``slow`` (a 26-qubit, 10^7-shot job needs ~4 GiB and a
minute): ``make ci`` runs them, ``make test`` does not (``pytest --runslow`` does).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, child_pids, qasm

BELL = {"program": [bell_qasm()]}


def _every_qubit(gate: str, qubits: int, repeat: int = 1) -> str:
    return "\n".join(f"{gate} q[{i % qubits}];" for i in range(qubits * repeat))


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(admin=True, options={"job_timeout": 2}) as local:
        yield local


@pytest.fixture(scope="module")
def small_workers() -> Iterator[LocalServer]:
    with LocalServer(options={"worker_memory_mb": 700}) as local:
        yield local


def _failure(api: Api, job_id: str, timeout: float = 120) -> str:
    job = api.wait(job_id, timeout=timeout)
    assert job["status"] == "failed", job
    message: str = job["job_info"]["message"]
    return message


@pytest.mark.parametrize(
    ("job_type", "job_input", "shots", "limit"),
    [
        ("sampling", {"program": [qasm(26, _every_qubit("h", 26, 120))]}, 10, "max_gate_work"),
        (
            "estimation",
            {
                "program": [qasm(26, "h q[0];", measure=None)],
                "operator": [{"pauli": f"Z{i % 26}", "coeff": 1.0} for i in range(3000)],
            },
            100,
            "max_term_work",
        ),
    ],
    ids=["gates", "terms"],
)
def test_a_job_too_costly_to_run_fails_before_it_runs_naming_the_limit(
    api: Api, job_type: str, job_input: dict[str, object], shots: int, limit: str
) -> None:
    job_id = api.submit(job_type, job_input, shots=shots)
    message = _failure(api, job_id, timeout=60)
    assert limit in message
    assert api.get(f"/jobs/{job_id}").json()["running_at"] is None  # it never ran


def test_a_multi_manual_job_of_too_many_outcomes_fails_before_it_runs(api: Api) -> None:
    # Simulated block by block, a multi_manual job costs its blocks; what stays bounded is
    # its result: 5 uniform 24-bit programs, 10^7 shots: up to 10^7 combined outcomes and
    # 10^7 per program, 6*10^7 counts entries in all.
    api.set_device("wide", n_qubits=128)
    uniform = qasm(24, _every_qubit("h", 24))
    job_id = api.submit(
        "multi_manual", {"program": [uniform] * 5}, shots=10_000_000, device_id="wide"
    )
    message = _failure(api, job_id, timeout=60)
    assert "max_result_work" in message
    assert "6e+07 counts entries" in message
    assert api.get(f"/jobs/{job_id}").json()["running_at"] is None  # it never ran


def test_qubits_beyond_the_worker_memory_fail_before_running(api: Api) -> None:
    api.set_device("oversized", n_qubits=40)
    program = qasm(34, "h q[0];")
    message = _failure(api, api.submit("sampling", {"program": [program]}, device_id="oversized"))
    assert "34 qubits need about 640.5 GiB, beyond the worker memory limit of 6144 MiB" in message


@pytest.mark.slow  # ~12 CPU-s: 6*10^6 outcomes of 22 qubits filling a 700 MiB worker
def test_a_job_past_the_memory_limit_fails_alone_naming_the_limit(
    small_workers: LocalServer,
) -> None:
    api = Api(small_workers)
    # 22 qubits fit 700 MiB; 3*10^6 outcomes of 22 bits and their JSON do not (~900 MiB).
    uniform = {"program": [qasm(22, _every_qubit("h", 22))]}
    message = _failure(api, api.submit("sampling", uniform, shots=6_000_000))
    assert "worker memory limit of 700 MiB" in message
    assert api.wait(api.submit("sampling", BELL, shots=10))["status"] == "succeeded"


def _worker_replaced(server: LocalServer, before: set[int]) -> None:
    """One worker was killed and another started since ``before`` (the server's children)."""
    assert server.pid is not None
    replaced = child_pids(server.pid)
    assert len(before - replaced) == 1, (before, replaced)
    assert len(replaced - before) == 1, (before, replaced)


@pytest.mark.timing
def test_a_simulation_past_the_time_limit_is_stopped_naming_it(timed: LocalServer) -> None:
    api = Api(timed)
    assert timed.pid is not None
    before = child_pids(timed.pid)
    api.set_device("qulacs", execution_delay=600)  # a device that never finishes
    try:
        message = _failure(api, api.submit("sampling", BELL, shots=10), timeout=120)
        assert message == "the job exceeded the job time limit of 2 s while simulating"
    finally:
        api.set_device("qulacs", execution_delay=0.0)
    _worker_replaced(timed, before)


def _simulator_worker(server: LocalServer) -> int:
    """The pid of the server's one simulator worker, once it has loaded qulacs."""
    assert server.pid is not None
    deadline = time.monotonic() + 60
    while True:
        for pid in child_pids(server.pid):
            try:
                if "qulacs" in Path(f"/proc/{pid}/maps").read_text():
                    return pid
            except (FileNotFoundError, ProcessLookupError):
                continue
        assert time.monotonic() < deadline, "no simulator worker loaded qulacs"
        time.sleep(0.05)


@pytest.mark.timing
def test_the_time_limit_counts_from_when_the_worker_takes_the_job(timed: LocalServer) -> None:
    # A worker not ready for the job (here stopped; in life, a worker replaced after the last
    # job's limit and still importing its simulator) does not spend the job's 2 s.
    api = Api(timed)
    worker = _simulator_worker(timed)
    os.kill(worker, signal.SIGSTOP)
    try:
        job_id = api.submit("sampling", BELL, shots=10)
        time.sleep(3)  # past the limit, before the worker has seen the job
    finally:
        os.kill(worker, signal.SIGCONT)
    job = api.wait(job_id, timeout=120)
    assert job["status"] == "succeeded", job["job_info"]["message"]


@pytest.mark.timing
def test_the_time_limit_holds_while_the_job_transpiles(timed: LocalServer) -> None:
    # The device holds its transpile step far past the 2 s limit (a real transpile that long
    # would be as long only on a machine of one speed): the limit stops it there, naming it.
    api = Api(timed)
    assert timed.pid is not None
    before = child_pids(timed.pid)
    api.set_device("emu-ring-8", transpile_delay=600)
    try:
        info = {"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": 3}}
        job_id = api.submit("sampling", BELL, shots=10, device_id="emu-ring-8",
                            transpiler_info=info)  # fmt: skip
        message = _failure(api, job_id, timeout=120)
    finally:
        api.set_device("emu-ring-8", transpile_delay=0.0)
    assert message == "the job exceeded the job time limit of 2 s while transpiling"
    _worker_replaced(timed, before)


@pytest.mark.timing
def test_cancel_stops_a_running_simulation_and_its_worker_is_replaced(
    server: LocalServer, api: Api
) -> None:
    assert server.pid is not None
    before = child_pids(server.pid)
    runaway = {"program": [qasm(24, _every_qubit("h", 24, 200))]}  # minutes of qulacs
    job_id = api.submit("sampling", runaway, shots=10)
    api.wait_for(job_id, {"running"})
    assert api.post(f"/jobs/{job_id}/cancel").status_code == 200
    job = api.wait(job_id, timeout=120)  # only stops a hang: the simulation takes minutes
    assert job["status"] == "cancelled"
    assert job["job_info"]["result"] is None
    # Counted, not timed: the cancel killed the worker in the middle of the simulation (a
    # cancel that waited for its end would leave the same worker) and started another.
    replaced = child_pids(server.pid)
    assert len(replaced - before) == 1, (before, replaced)  # one worker killed, one started
    assert api.wait(api.submit("sampling", BELL, shots=10))["status"] == "succeeded"


def test_a_crashing_simulator_costs_one_worker_never_the_server() -> None:
    # Without a memory limit to stop it first, qulacs ends its process when a state vector
    # cannot be allocated (2^34 amplitudes = 256 GiB).
    unlimited = {"worker_memory_mb": 1 << 30}
    with LocalServer(admin=True, options=unlimited) as local:
        api = Api(local)
        api.set_device("oversized", n_qubits=40)
        program = qasm(34, "h q[0];")
        job_id = api.submit("sampling", {"program": [program]}, device_id="oversized")
        assert "worker process died" in _failure(api, job_id)
        assert api.wait(api.submit("sampling", BELL, shots=10))["status"] == "succeeded"


@pytest.mark.slow  # a 1 GiB state vector: 10 s of both cores
def test_26_qubit_sampling_still_runs(api: Api) -> None:
    ghz = "h q[0];\n" + "\n".join(f"cx q[{i - 1}], q[{i}];" for i in range(1, 26))
    counts = api.result(api.submit("sampling", {"program": [qasm(26, ghz)]}, shots=1000))
    assert set(counts["sampling"]["counts"]) == {"0" * 26, "1" * 26}


def _polls_during_a_held_download(api: Api, job: dict[str, Any]) -> tuple[list[float], int]:
    """Status polls made while the job's result download is open, its body half read: their
    latencies (a figure, not a check), and the bytes downloaded in the end."""
    latencies: list[float] = []
    with requests.get(job["job_info"]["result"], stream=True, timeout=60) as download:
        assert download.status_code == 200, download.text
        # Sent from its file on disk, in pieces (a FileResponse), not built per request.
        assert "last-modified" in download.headers, dict(download.headers)
        pieces = download.iter_content(64 << 10)
        size = len(next(pieces))  # the answer has begun; the rest waits, unread
        for _ in range(5):
            started = time.monotonic()
            assert api.status(str(job["job_id"])) == "succeeded"  # answered, mid-download
            latencies.append(time.monotonic() - started)
        size += sum(len(piece) for piece in pieces)
    return latencies, size


def _large_result_download(api: Api, qubits: int, shots: int) -> tuple[list[float], int]:
    uniform = {"program": [qasm(qubits, _every_qubit("h", qubits))]}
    job = api.wait(api.submit("sampling", uniform, shots=shots), timeout=600)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    return _polls_during_a_held_download(api, job)


@pytest.mark.timing
def test_a_large_result_downloads_without_holding_up_status_polls(api: Api) -> None:
    latencies, size = _large_result_download(api, 21, 2_000_000)  # 34 MiB of JSON, 3 MiB ZIP
    print(f"\n{size >> 10} KiB ZIP; worst status poll during the download "
          f"{max(latencies) * 1e3:.0f} ms")  # fmt: skip
    assert size > 2 << 20
    # Before, the server parsed and re-zipped the result while it answered (polls waited
    # ~3 s); it now streams the stored archive, and the polls above were answered meanwhile.


@pytest.mark.long  # a minute of both cores; its 34 MiB twin below is marked timing
def test_a_292_mib_result_downloads_without_holding_up_status_polls(api: Api) -> None:
    latencies, size = _large_result_download(api, 26, 10_000_000)
    print(f"\n{size >> 20} MiB ZIP; worst status poll during the download "
          f"{max(latencies) * 1e3:.0f} ms")  # fmt: skip
    assert size > 20 << 20
