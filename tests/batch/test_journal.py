"""Job-set journals: a killed client resumes, and each program runs exactly once.

The journal's lock (two clients never submit for one journal), the programs' fingerprints
(a resume with other programs is refused), refused and vanished jobs (submitted again, not
a dead end), torn lines and full disks (repaired, never glued), malformed files (a
``ValueError`` naming the file, the line and the field).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import orjson
import pytest
import requests
from quri_parts.circuit import QuantumCircuit, UnboundParametricQuantumCircuit

from quri_parts_oqtopus._contract import TOKEN_HEADER
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingResult
from quri_parts_oqtopus.backend.submission import JobSettings
from quri_parts_oqtopus.batch import journal as journal_module
from quri_parts_oqtopus.batch.journal import JournalHeader
from quri_parts_oqtopus.jobset import OqtopusJobFailure, OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.qasm import convert_to_qasm_str
from quri_parts_oqtopus.sweep import ParameterSweep
from quri_parts_oqtopus.upload import prepare_job_inputs

from ..admin import Admin
from ..conftest import server_jobs, x_on
from ..faults.proxy import FaultProxy, lost_submit_answers

DEVICE = "qulacs"
BAD_QASM = "OPENQASM 3;\nqubit[1] q;\nnot_a_gate q[0];"
REFUSAL = '{"message": "refused by the test"}'


def unique(prefix: str) -> str:
    """A job name prefix no other test uses on the shared server."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def runs_per_program(server: LocalServer, name: str) -> Counter[str]:
    """How many jobs of each ``name#index`` left ``registered`` (ran, or will)."""
    return Counter(
        job["name"]
        for job in server_jobs(server, f"{name}#")
        if job["name"].startswith(f"{name}#") and job["status"] != "registered"
    )


def assert_each_ran_once(server: LocalServer, name: str, size: int) -> None:
    runs = runs_per_program(server, name)
    assert sorted(runs) == sorted(f"{name}#{i}" for i in range(size)), runs
    assert set(runs.values()) == {1}, [n for n, count in runs.items() if count > 1]


def unsent(job_set: OqtopusJobSet) -> list[OqtopusJobFailure]:
    """The programs of the set that have no job (running jobs are failures too, for now)."""
    return [f for f in job_set.failures() if f.status == "not submitted"]


def assert_all_results(job_set: OqtopusJobSet, expected: list[dict[int, int]]) -> None:
    assert job_set.wait(timeout=300, wait=0.05)
    results = job_set.results()
    assert [r for r in results if isinstance(r, OqtopusJobFailure)] == []
    assert [dict(r.counts) for r in results if isinstance(r, OqtopusSamplingResult)] == expected


def refused_journal(
    config: OqtopusConfig, admin: Admin, path: Path, size: int, name: str
) -> list[QuantumCircuit]:
    """A journal of ``size`` programs whose every registration was refused: none has a job."""
    circuits = [x_on(i % 4, 4) for i in range(size)]
    admin.add_fault(method="POST", path="^/jobs$", status=400, body=REFUSAL, times=-1)
    with OqtopusJobSet.submit(circuits, DEVICE, 3, config, journal=path, name=name) as job_set:
        assert len(unsent(job_set)) == size
    admin.clear_faults()
    return circuits


def lines_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


# -- a new journal ----------------------------------------------------------------------------
def test_journal_must_be_new(config: OqtopusConfig, tmp_path: Path) -> None:
    journal = tmp_path / "set.jobs"
    journal.write_text("taken")
    with pytest.raises(ValueError, match="journal already exists"):
        OqtopusJobSet.submit([x_on(0, 8)], DEVICE, 5, config, journal=journal)


def test_resume_of_a_finished_set_submits_nothing(config: OqtopusConfig, tmp_path: Path) -> None:
    journal = tmp_path / "set.jobs"
    first = OqtopusJobSet.submit([x_on(i, 8) for i in range(3)], DEVICE, 5, config, journal=journal)
    first.close()  # releases the journal's lock
    again = OqtopusJobSet.resume(journal, [x_on(i, 8) for i in range(3)], config)
    assert [j.job_id for j in again.jobs if j] == [j.job_id for j in first.jobs if j]
    again.close()
    with pytest.raises(ValueError, match="holds 3 programs, got 2"):
        OqtopusJobSet.resume(journal, [x_on(0, 8), x_on(1, 8)], config)


KILLED_CLIENT = """
import sys
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.jobset import OqtopusJobSet

url, token, journal, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
circuits = []
for i in range(size):
    c = QuantumCircuit(10)
    c.add_X_gate(i % 10)
    circuits.append(c)
OqtopusJobSet.submit(circuits, "qulacs", 3, OqtopusConfig(url, token), journal=journal,
                     name="crash", concurrency=4)
"""


def submitted_lines(journal: Path) -> int:
    if not journal.exists():
        return 0
    return journal.read_text(encoding="utf-8").count('"event":"submitted"')


def test_a_killed_client_resumes_and_every_program_runs_once(
    server: LocalServer, tmp_path: Path
) -> None:
    # 300 keeps CI short; JOBSET_CRASH_SIZE=1000 is the full case of the issue.
    size = int(os.environ.get("JOBSET_CRASH_SIZE", "300"))
    journal = tmp_path / "crash.jobs"
    script = tmp_path / "client.py"
    script.write_text(KILLED_CLIENT, encoding="utf-8")
    client = subprocess.Popen(
        [sys.executable, str(script), server.url, server.token, str(journal), str(size)]
    )
    deadline = time.monotonic() + 300
    while submitted_lines(journal) < size // 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    client.kill()  # midway: some jobs submitted, some registered only, most not yet
    client.wait()
    killed_at = submitted_lines(journal)
    assert 0 < killed_at < size, killed_at

    circuits = []
    for i in range(size):
        circuit = QuantumCircuit(10)
        circuit.add_X_gate(i % 10)
        circuits.append(circuit)
    job_set = OqtopusJobSet.resume(journal, circuits, server.config, concurrency=4)
    assert job_set.wait(timeout=600, wait=0.2)
    results = job_set.results()
    assert not [r for r in results if isinstance(r, OqtopusJobFailure)]
    assert [r.counts for r in results if isinstance(r, OqtopusSamplingResult)] == [
        {1 << (i % 10): 3} for i in range(size)
    ]
    # On the server, every program ran exactly once: one job per name that left 'registered'.
    ran = Counter(
        job["name"]
        for job in server_jobs(server, "crash#")
        if job["name"].startswith("crash#") and job["status"] != "registered"
    )
    assert sorted(ran) == sorted(f"crash#{i}" for i in range(size))
    assert set(ran.values()) == {1}, [name for name, n in ran.items() if n > 1]


# -- J4: one holder at a time -------------------------------------------------------------------
HOLDER = """
import sys
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.jobset import OqtopusJobSet

url, token, journal, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
circuits = []
for i in range(size):
    c = QuantumCircuit(4)
    c.add_X_gate(i % 4)
    circuits.append(c)
job_set = OqtopusJobSet.resume(journal, circuits, OqtopusConfig(url, token))
print("holding", flush=True)
sys.stdin.read()  # held until the test closes our stdin
"""


def test_a_journal_another_process_holds_is_refused(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    journal, script = tmp_path / "held.jobs", tmp_path / "holder.py"
    name = unique("held")
    circuits = refused_journal(server.config, admin, journal, 4, name)
    script.write_text(HOLDER, encoding="utf-8")
    args = [sys.executable, str(script), server.url, server.token, str(journal), "4"]
    with subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        with pytest.raises(ValueError, match="is in use: another process") as refused:
            OqtopusJobSet.resume(journal, circuits, server.config)
        assert str(journal) in str(refused.value)
        holder.communicate("", timeout=120)  # the holder exits: its lock goes with it
    assert holder.returncode == 0
    with OqtopusJobSet.resume(journal, circuits, server.config) as job_set:
        assert_all_results(job_set, [{1 << (i % 4): 3} for i in range(4)])
    assert_each_ran_once(server, name, 4)


RACER = """
import sys, time
from pathlib import Path
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.jobset import OqtopusJobSet

url, token, journal, size, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
circuits = []
for i in range(size):
    c = QuantumCircuit(4)
    c.add_X_gate(i % 4)
    circuits.append(c)
while not Path(go).exists():
    time.sleep(0.005)
try:
    job_set = OqtopusJobSet.resume(journal, circuits, OqtopusConfig(url, token), concurrency=4)
except ValueError as error:
    print("refused:", error)
else:
    unsent = [f for f in job_set.failures() if f.status == "not submitted"]
    print("resumed:", len(unsent), "not submitted")
"""


def test_two_processes_resuming_one_journal_at_once_run_each_program_once(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    size, name = 30, unique("race")
    journal, script, go = tmp_path / "race.jobs", tmp_path / "racer.py", tmp_path / "go"
    refused_journal(server.config, admin, journal, size, name)
    script.write_text(RACER, encoding="utf-8")
    args = [sys.executable, str(script), server.url, server.token, str(journal), str(size), str(go)]
    racers = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(1.0)  # both interpreters started and waiting (a late one only resumes later)
    go.touch()
    outcomes = [racer.communicate(timeout=300)[0].strip() for racer in racers]
    assert all(o.startswith(("resumed: 0 not submitted", "refused: ")) for o in outcomes), outcomes
    assert any(o.startswith("resumed") for o in outcomes), outcomes
    for outcome in outcomes:
        if outcome.startswith("refused"):
            assert "is in use: another process" in outcome, outcome
    assert_each_ran_once(server, name, size)


def test_the_lock_is_released_by_close_by_a_with_block_and_by_garbage_collection(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    journal, circuits = tmp_path / "set.jobs", [x_on(0, 2), x_on(1, 2)]
    job_set = OqtopusJobSet.submit(circuits, DEVICE, 5, config, journal=journal)
    with pytest.raises(ValueError, match="is in use"):
        OqtopusJobSet.resume(journal, circuits, config)  # a second holder, in this process
    job_set.close()
    job_set.close()  # idempotent
    assert job_set.wait(timeout=120, wait=0.05)  # the jobs are still there
    with pytest.raises(ValueError, match="is closed: its journal"):
        job_set.resubmit_failed()
    with (
        OqtopusJobSet.resume(journal, circuits, config),
        pytest.raises(ValueError, match="is in use"),
    ):
        OqtopusJobSet.resume(journal, circuits, config)
    again = OqtopusJobSet.resume(journal, circuits, config)
    del again
    gc.collect()
    OqtopusJobSet.resume(journal, circuits, config).close()


def test_journals_are_refused_where_there_are_no_file_locks(
    config: OqtopusConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "HAS_FILE_LOCKS", False)
    journal = tmp_path / "set.jobs"
    with pytest.raises(ValueError, match=r"need POSIX file locks \(flock\)"):
        OqtopusJobSet.submit([x_on(0, 2)], DEVICE, 5, config, journal=journal)
    assert not journal.exists()


# -- J5: the same programs ----------------------------------------------------------------------
def test_resume_with_other_programs_of_the_same_number_is_refused_naming_the_first(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    journal = tmp_path / "set.jobs"
    circuits = [x_on(0, 3), x_on(1, 3), x_on(2, 3)]
    OqtopusJobSet.submit(circuits, DEVICE, 5, config, journal=journal).close()
    swapped = [circuits[0], circuits[2], circuits[1]]
    with pytest.raises(ValueError, match="program 1 is not the one the journal recorded") as err:
        OqtopusJobSet.resume(journal, swapped, config)
    assert "was written for other programs" in str(err.value)
    assert str(journal) in str(err.value)
    texts = [convert_to_qasm_str(c) for c in circuits]
    OqtopusJobSet.resume(journal, texts, config).close()  # the same text is the same program


def test_fingerprints_are_the_sha256_of_each_programs_qasm_text() -> None:
    ansatz = UnboundParametricQuantumCircuit(2)
    ansatz.add_ParametricRX_gate(0)
    ansatz.add_CNOT_gate(0, 1)
    sweep = ParameterSweep(ansatz, [[0.1], [0.25]])
    text = "OPENQASM 3;\nqubit[1] q;\n// é\n"

    def sha256(texts: list[str]) -> list[list[str]]:
        return [[hashlib.sha256(t.encode()).hexdigest()] for t in texts]

    mixed = prepare_job_inputs([x_on(1, 3), text])
    assert [i.program_digests for i in mixed] == sha256([convert_to_qasm_str(x_on(1, 3)), text])
    swept = prepare_job_inputs(sweep)
    assert [i.program_digests for i in swept] == sha256([convert_to_qasm_str(c) for c in sweep])


def test_a_sweep_journal_resumes_with_the_bound_circuits(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    ansatz = UnboundParametricQuantumCircuit(1)
    ansatz.add_ParametricRX_gate(0)
    sweep = ParameterSweep(ansatz, [[0.0], [3.141592653589793]])
    journal = tmp_path / "sweep.jobs"
    OqtopusJobSet.submit(sweep, DEVICE, 5, config, journal=journal).close()
    with OqtopusJobSet.resume(journal, list(sweep), config) as again:
        assert_all_results(again, [{0: 5}, {1: 5}])
    with pytest.raises(ValueError, match="program 0 is not the one"):
        OqtopusJobSet.resume(journal, ParameterSweep(ansatz, [[0.5], [0.0]]), config)


def test_a_version_1_journal_without_fingerprints_resumes_unchecked(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    journal = tmp_path / "v1.jobs"
    circuits = [x_on(0, 2), x_on(1, 2)]
    OqtopusJobSet.submit(circuits, DEVICE, 5, config, journal=journal).close()
    header, *events = journal.read_bytes().split(b"\n")
    old = json.loads(header)
    del old["program_sha256"]
    old["version"] = 1
    journal.write_bytes(b"\n".join([json.dumps(old).encode(), *events]))
    with OqtopusJobSet.resume(journal, circuits[::-1], config) as again:  # not checked
        assert len([j for j in again.jobs if j is not None]) == 2


# -- J1: refused and vanished jobs --------------------------------------------------------------
def test_a_refused_submission_is_submitted_again_at_resume(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    journal, name = tmp_path / "refused.jobs", unique("refused")
    circuits = [x_on(i, 3) for i in range(3)]
    admin.add_fault(
        method="POST", path="^/jobs/[^/]+/submit$", status=400, body='{"message": "no"}'
    )
    with OqtopusJobSet.submit(circuits, DEVICE, 5, server.config, journal=journal, name=name) as s:
        refused = [f.index for f in unsent(s)]
    assert len(refused) == 1  # its job was registered, then deleted by the client
    failed = [line for line in lines_of(journal) if line.get("event") == "failed"]
    assert len(failed) == 1
    assert failed[0]["job_id"] is not None, failed  # the job it registered, for the resume
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert_all_results(again, [{1 << i: 5} for i in range(3)])
    assert_each_ran_once(server, name, 3)


def test_a_registered_job_that_is_gone_is_submitted_again(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    journal, name = tmp_path / "gone.jobs", unique("gone")
    circuits = [x_on(i, 2) for i in range(2)]
    admin.add_fault(
        method="POST", path="^/jobs/[^/]+/submit$", status=400, body='{"message": "no"}'
    )
    OqtopusJobSet.submit(circuits, DEVICE, 5, server.config, journal=journal, name=name).close()
    # As a client killed before it wrote the 'failed' line (or an earlier client) left it.
    kept = [line for line in journal.read_bytes().split(b"\n") if b'"failed"' not in line]
    journal.write_bytes(b"\n".join(kept))
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert_all_results(again, [{1: 5}, {2: 5}])
    assert_each_ran_once(server, name, 2)


def register_only(server: LocalServer) -> str:
    """A job registered on the server and never submitted: its id."""
    answer = requests.post(f"{server.url}/jobs", headers=auth(server), timeout=30)
    answer.raise_for_status()
    job_id: str = answer.json()["job_id"]
    return job_id


def http_status_of(server: LocalServer, job_id: str) -> int:
    answer = requests.get(f"{server.url}/jobs/{job_id}", headers=auth(server), timeout=30)
    return answer.status_code


def auth(server: LocalServer) -> dict[str, str]:
    return {TOKEN_HEADER: server.token}


def test_a_registered_only_job_is_deleted_at_resume(server: LocalServer, tmp_path: Path) -> None:
    journal, name = tmp_path / "orphan.jobs", unique("orphan")
    programs: list[QuantumCircuit | str] = [x_on(0, 2), BAD_QASM]
    with OqtopusJobSet.submit(programs, DEVICE, 5, server.config, journal=journal, name=name) as s:
        assert s.wait(timeout=120, wait=0.05)
        assert [f.index for f in s.failures()] == [1]
    # A resubmission of program 1 killed right after it registered its job.
    orphan = register_only(server)
    with journal.open("ab") as file:
        file.write(json.dumps({"job_id": orphan, "event": "registered", "index": 1}).encode())
        file.write(b"\n")
    with OqtopusJobSet.resume(journal, programs, server.config) as again:
        new_job = again.jobs[1]
        assert new_job is not None
        assert new_job.job_id != orphan
    assert http_status_of(server, orphan) == 404, f"registered-only job {orphan} left behind"


def test_an_earlier_clients_failed_line_looks_up_the_job_registered_before_it(
    server: LocalServer, tmp_path: Path
) -> None:
    journal, name = tmp_path / "earlier.jobs", unique("earlier")
    port = urlparse(server.url).port
    assert port is not None
    with FaultProxy(port, lost_submit_answers) as proxy:
        config = OqtopusConfig(
            proxy.url, server.token, timeout=(2.0, 5.0), retries=1, backoff=0.005
        )
        with OqtopusJobSet.submit([x_on(1, 2)], DEVICE, 5, config, journal=journal, name=name) as s:
            [failure] = unsent(s)
        assert "left as it is" in failure.message  # its submit may have taken effect
        lines = lines_of(journal)
        [registered] = [line for line in lines if line.get("event") == "registered"]
        for line in lines:  # as clients before this one wrote it: no job id
            if line.get("event") == "failed":
                line["job_id"] = None
        journal.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
        proxy.plan = lambda request: None
        with OqtopusJobSet.resume(journal, [x_on(1, 2)], config) as again:
            assert [job.job_id if job else None for job in again.jobs] == [registered["job_id"]]
            assert_all_results(again, [{2: 5}])
    assert_each_ran_once(server, name, 1)


# -- J2/J3: torn lines, full disks ------------------------------------------------------------
def test_a_torn_last_line_is_cut_before_the_next_append(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    journal, name = tmp_path / "torn.jobs", unique("torn")
    circuits = refused_journal(server.config, admin, journal, 3, name)
    with journal.open("ab") as file:
        file.write(b'{"job_id":"4f0c2a","event":"regis')  # the process died mid-line
    with OqtopusJobSet.resume(journal, circuits, server.config) as first:  # appends 6 lines
        assert unsent(first) == []
    lines_of(journal)  # every line is whole JSON: nothing was glued to the torn one
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert [j.job_id for j in again.jobs if j] == [j.job_id for j in first.jobs if j]
        assert_all_results(again, [{1 << i: 3} for i in range(3)])
    assert_each_ran_once(server, name, 3)


def test_a_tear_inside_a_multibyte_character_is_tolerated(
    server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    journal, name = tmp_path / "utf8.jobs", unique("utf8")
    circuits = refused_journal(server.config, admin, journal, 2, name)
    line = '{"job_id":null,"event":"failed","index":0,"error":"refusé"}'.encode()
    with journal.open("ab") as file:
        file.write(line[: line.index("é".encode()) + 1])  # one byte of the two of 'é'
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert_all_results(again, [{1: 3}, {2: 3}])
    assert_each_ran_once(server, name, 2)


def test_a_line_glued_to_a_torn_one_by_an_earlier_client_is_read(
    server: LocalServer, tmp_path: Path
) -> None:
    journal, name = tmp_path / "glued.jobs", unique("glued")
    circuits = [x_on(0, 2), x_on(1, 2)]
    OqtopusJobSet.submit(circuits, DEVICE, 5, server.config, journal=journal, name=name).close()
    header, first, second, *rest = [line for line in journal.read_bytes().split(b"\n") if line]
    glued = b'{"job_id":"0f3e","event":"submit' + second  # a torn line, then the next
    journal.write_bytes(b"\n".join([header, first, glued, *rest, b""]))
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert_all_results(again, [{1: 5}, {2: 5}])
    assert_each_ran_once(server, name, 2)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 32 KiB file system (a tmpfs: needs root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the RLIMIT_FSIZE test runs everywhere)")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def assert_unwritten(failures: list[OqtopusJobFailure], reason: str) -> None:
    assert failures, "the journal never filled up"
    for failure in failures:
        assert (failure.status, failure.job_id) == ("not submitted", None), failure
        assert "could not be written" in failure.message, failure
        assert reason in failure.message, failure


def test_a_full_disk_stops_the_submissions_which_resume_once_there_is_room(
    server: LocalServer, small_disk: Path
) -> None:
    filler = small_disk / "filler"
    filler.write_bytes(bytes(24 * 1024))  # 8 KiB left: the header and ~25 programs' lines
    journal, size, name = small_disk / "full.jobs", 60, unique("full")
    circuits = [x_on(i % 4, 4) for i in range(size)]
    job_set = OqtopusJobSet.submit(circuits, DEVICE, 3, server.config, journal=journal, name=name)
    failures = unsent(job_set)
    assert len(failures) < size
    assert_unwritten(failures, "No space left on device")
    assert journal.read_bytes().endswith(b"\n")
    lines_of(journal)  # no torn line left behind
    filler.unlink()
    assert job_set.resubmit_failed() == [f.index for f in failures]
    assert_all_results(job_set, [{1 << (i % 4): 3} for i in range(size)])
    job_set.close()
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert [j.job_id for j in again.jobs if j] == [j.job_id for j in job_set.jobs if j]
    assert_each_ran_once(server, name, size)


FILE_SIZE_LIMITED = """
import json, resource, signal, sys
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.jobset import OqtopusJobSet

url, token, journal, size, name, limit = sys.argv[1:7]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), resource.RLIM_INFINITY))
circuits = []
for i in range(int(size)):
    c = QuantumCircuit(4)
    c.add_X_gate(i % 4)
    circuits.append(c)
job_set = OqtopusJobSet.submit(circuits, "qulacs", 3, OqtopusConfig(url, token), journal=journal,
                               name=name)
unsent = [f for f in job_set.failures() if f.status == "not submitted"]
print(json.dumps([[f.index, f.job_id, f.status, f.message] for f in unsent]))
"""


def test_a_file_size_limit_stops_the_submissions_and_a_new_process_resumes(
    server: LocalServer, tmp_path: Path
) -> None:
    journal, script = tmp_path / "limited.jobs", tmp_path / "limited.py"
    size, name = 30, unique("fsize")
    circuits = [x_on(i % 4, 4) for i in range(size)]
    fingerprints = tuple(i.program_digests[0] for i in prepare_job_inputs(circuits))
    settings = JobSettings.checked(DEVICE, 3, name=name)
    header = JournalHeader(server.config.url, size, settings, None, fingerprints)
    limit = len(orjson.dumps(header.as_json())) + 1 + 1200  # room for ~8 programs' lines
    script.write_text(FILE_SIZE_LIMITED, encoding="utf-8")
    args = [server.url, server.token, str(journal), str(size), name, str(limit)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failures = [OqtopusJobFailure(*entry) for entry in json.loads(done.stdout)]
    assert len(failures) < size
    assert_unwritten(failures, "File too large")
    assert journal.stat().st_size <= limit
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert_all_results(again, [{1 << (i % 4): 3} for i in range(size)])
    assert_each_ran_once(server, name, size)


# -- J6: malformed journals ---------------------------------------------------------------------
Line = dict[str, object]
Change = Callable[[Line], Line]


def without(key: str) -> Change:
    return lambda line: {k: v for k, v in line.items() if k != key}


def with_(key: str, value: object) -> Change:
    return lambda line: {**line, key: value}


def with_slots(value: object) -> Change:
    return lambda line: {**without("index")(line), "slots": value}


SETTINGS = {"device_id": DEVICE, "shots": 5}
MALFORMED: list[tuple[int, str, Change]] = [
    (1, "kind", with_("kind", "something else")),
    (1, "version", with_("version", 7)),
    (1, "version", without("version")),
    (1, "url", with_("url", 5)),
    (1, "size", without("size")),
    (1, "size", with_("size", "2")),
    (1, "size", with_("size", 0)),
    (1, "size", with_("size", True)),
    (1, "settings", without("settings")),
    (1, "settings", with_("settings", [])),
    (1, "settings", with_("settings", {"device_id": DEVICE})),
    (1, "settings", with_("settings", {**SETTINGS, "shots": "5"})),
    (1, "settings", with_("settings", {**SETTINGS, "device_id": 3})),
    (1, "settings", with_("settings", {**SETTINGS, "name": 5})),
    (1, "settings", with_("settings", {**SETTINGS, "simulator_info": "seed"})),
    (1, "packing", with_("packing", "yes")),
    (1, "packing", with_("packing", {"max_programs": 0})),
    (1, "program_sha256", without("program_sha256")),
    (1, "program_sha256", with_("program_sha256", ["ab", "cd"])),
    (1, "program_sha256", with_("program_sha256", ["0" * 64])),
    (2, "event", without("event")),
    (2, "event", with_("event", "done")),
    (2, "job_id", with_("job_id", 5)),
    (2, "job_id", with_("job_id", None)),
    (2, "job_id", with_("job_id", "")),
    (2, "index", without("index")),
    (2, "index", with_("index", "0")),
    (2, "index", with_("index", 2)),
    (2, "index", with_("index", -1)),
    (2, "index", with_("index", True)),
    (2, "index", with_("slots", [[0, 0, 1]])),
    (2, "slots", with_slots([])),
    (2, "slots", with_slots([[0]])),
    (2, "slots", with_slots("0,0,1")),
    (2, "slots", with_slots([[0, 0, True]])),
    (2, "slots", with_slots([[0, -1, 1]])),
    (2, "slots", with_slots([[5, 0, 1]])),
    (2, "slots", with_slots([[0, 0, 1], [0, 1, 1]])),
    (2, "error", with_("error", 5)),
]


@pytest.mark.parametrize(
    ("number", "field", "change"),
    MALFORMED,
    ids=[f"line{n}-{field}-{i}" for i, (n, field, _) in enumerate(MALFORMED)],
)
def test_a_malformed_journal_is_a_value_error_naming_the_file_line_and_field(
    config: OqtopusConfig, tmp_path: Path, number: int, field: str, change: Change
) -> None:
    circuits = [x_on(0, 2), x_on(1, 2)]
    fingerprints = tuple(i.program_digests[0] for i in prepare_job_inputs(circuits))
    settings = JobSettings.checked(DEVICE, 5)
    header = JournalHeader(config.url, 2, settings, None, fingerprints).as_json()
    lines: list[Line] = [header, {"job_id": "j-0", "event": "submitted", "index": 0}]
    lines[number - 1] = change(lines[number - 1])
    journal = tmp_path / "edited.jobs"
    journal.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    with pytest.raises(ValueError) as refused:
        OqtopusJobSet.resume(journal, circuits, config)
    message = str(refused.value)
    assert str(journal) in message
    assert f"line {number}, field {field!r}" in message or (
        f"line {number}" in message and f"field {field!r}" in message
    ), message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not a job set journal: '{}' (it is empty)"),
        (b"[1, 2]\n", "not a job set journal: '{}' (line 1 is not a JSON object)"),
        (b'{"kind": "x"}\n', "not a job set journal: '{}' (line 1, field 'kind')"),
        (b"{header}\n[1, 2]\n", "journal '{}', line 2, is not a JSON object: [1, 2]"),
        (b"{header}\nnot json\n{header}\n", "journal '{}', line 2, is not JSON"),
        (b"{header}\n\n", "journal '{}', line 2, is not JSON"),
    ],
    ids=["empty", "a list", "another kind", "an event not an object", "not json", "a blank line"],
)
def test_a_journal_that_is_not_json_lines_is_a_value_error_naming_the_line(
    config: OqtopusConfig, tmp_path: Path, content: bytes, expected: str
) -> None:
    circuits = [x_on(0, 2)]
    fingerprints = tuple(i.program_digests[0] for i in prepare_job_inputs(circuits))
    header = JournalHeader(config.url, 1, JobSettings.checked(DEVICE, 5), None, fingerprints)
    journal = tmp_path / "broken.jobs"
    journal.write_bytes(content.replace(b"{header}", orjson.dumps(header.as_json())))
    with pytest.raises(ValueError) as refused:
        OqtopusJobSet.resume(journal, circuits, config)
    assert str(refused.value).startswith(expected.format(journal)), refused.value
