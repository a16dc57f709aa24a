"""Hostile SSE programs: each escape the attack review found is tried, and must fail.

The programs print what they got; the tests read the SSE log. Every program gets the
server's URL and its own job-scoped token in ``OQTOPUS_URL`` / ``OQTOPUS_API_TOKEN``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from ..faults.proxy import FaultProxy
from .helpers import Api, Endpoint, bell_qasm, unzip_one, zip_json

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="containment is Linux-only")

_SESSION = """
import json, os, requests
session = requests.Session()
session.trust_env = False
session.headers["q-api-token"] = os.environ["OQTOPUS_API_TOKEN"]
url = os.environ["OQTOPUS_URL"]
"""


def _run(api: Api, source: str, timeout: float = 120) -> tuple[dict[str, Any], str]:
    """Run ``source`` as an SSE job; the ended job and its log."""
    job_id = api.submit("sse", {"sse_program": source}, shots=1)
    job = api.wait(job_id, timeout=timeout)
    log = ""
    if job["job_info"]["sse_log"]:
        response = requests.get(job["job_info"]["sse_log"], timeout=30)
        log = unzip_one(response.content)[1].decode("utf-8", "replace")
    return job, log


def _value(log: str, key: str) -> str:
    """What the program printed after ``key``."""
    for line in log.splitlines():
        if line.startswith(key + " "):
            return line[len(key) + 1 :]
    raise AssertionError(f"the program printed no {key!r}:\n{log}")


# -- the SSE token acts only on the jobs its program created --------------------------------


def test_sse_token_lists_and_reads_only_the_jobs_its_program_created(api: Api) -> None:
    other = api.submit("sampling", {"program": [bell_qasm()]}, shots=10)
    api.wait(other)
    source = (
        _SESSION
        + f"""
other = {other!r}
mine = session.post(url + "/jobs").json()["job_id"]
listed = [job["job_id"] for job in session.get(url + "/jobs", params={{"size": 1000}}).json()]
print("listed", json.dumps(listed))
print("mine", mine)
for suffix in ("", "/status", "/sselog"):
    print("get" + suffix, session.get(url + "/jobs/" + other + suffix).status_code)
print("delete", session.delete(url + "/jobs/" + other).status_code)
"""
    )
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert _value(log, "listed") == f'["{_value(log, "mine")}"]'
    assert [_value(log, key) for key in ("get", "get/status", "get/sselog", "delete")] == [
        "404"
    ] * 4
    assert api.status(other) == "succeeded"  # still there
    # What it registered and never submitted does not outlive it.
    assert api.get(f"/jobs/{_value(log, 'mine')}").status_code == 404


def test_sse_token_cannot_cancel_another_users_job(api: Api) -> None:
    api.set_device("qulacs", execution_delay=4.0)
    other = api.submit("sampling", {"program": [bell_qasm()]}, shots=10)
    api.wait_for(other, {"running"})
    source = _SESSION + f"print('cancel', session.post(url + '/jobs/{other}/cancel').status_code)"
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert _value(log, "cancel") == "404"
    assert api.wait(other)["status"] == "succeeded"


def test_sse_token_cannot_submit_another_users_registered_job_as_its_own(api: Api) -> None:
    registered = api.register()
    other = registered["job_id"]
    assert api.upload(registered["presigned_url"], zip_json({"program": [bell_qasm()]})).ok
    body = {"device_id": "qulacs", "job_type": "sampling", "shots": 10}
    source = _SESSION + (
        f"print('submit', session.post(url + '/jobs/{other}/submit', json={body!r}).status_code)"
    )
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert _value(log, "submit") == "404"
    assert api.status(other) == "registered"


@pytest.fixture(scope="module")
def small_quota() -> Iterator[LocalServer]:
    with LocalServer(sse_timeout=60, options={"max_registered_jobs": 3}) as local:
        yield local


def _log_so_far(api: Api, job_id: str) -> str:
    url = api.get(f"/jobs/{job_id}").json()["job_info"]["sse_log"]
    if not url:
        return ""
    return unzip_one(requests.get(url, timeout=30).content)[1].decode("utf-8", "replace")


@pytest.mark.timing
def test_an_sse_program_filling_its_registered_quota_leaves_the_users_alone(
    small_quota: LocalServer,
) -> None:
    api = Api(small_quota)
    source = (
        _SESSION
        + """
import time
codes = [session.post(url + "/jobs").status_code for _ in range(5)]
print("codes", codes, flush=True)
time.sleep(60)
"""
    )
    registered = api.register()
    job_id = registered["job_id"]
    mine = [api.register()["job_id"] for _ in range(2)]
    assert api.upload(registered["presigned_url"], zip_json({"sse_program": source})).ok
    body = {"device_id": "qulacs", "job_type": "sse", "shots": 1}
    assert api.post(f"/jobs/{job_id}/submit", json=body).status_code == 200
    mine.append(api.register()["job_id"])  # the user's quota is full
    try:
        deadline = time.monotonic() + 60
        while "codes " not in (log := _log_so_far(api, job_id)):
            assert time.monotonic() < deadline, f"the program never registered: {log}"
            time.sleep(0.1)
        # The program has a quota of its own: the user's full one did not stop it ...
        assert _value(log, "codes") == "[200, 200, 200, 429, 429]"
        # ... and its full one does not stop the user once one of theirs is gone.
        assert api.delete(f"/jobs/{mine[0]}").status_code == 200
        assert api.post("/jobs").status_code == 200
        assert api.post("/jobs").status_code == 429
    finally:
        api.post(f"/jobs/{job_id}/cancel")
        api.wait(job_id)


# -- the program cannot reach the server's token, files or process -------------------------

_TOKEN_HUNT = """
import os
seen = [f"{k}={v}" for k, v in os.environ.items()]
for pid in os.listdir("/proc"):
    for name in ("cmdline", "environ"):
        try:
            seen.append(open(f"/proc/{pid}/{name}", "rb").read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass
print("processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("HUNT", "\\x1f".join(seen).replace("\\n", " ").replace("\\x00", " "))
"""


def test_sse_program_never_finds_the_server_token_in_any_process(
    api: Api, server: LocalServer
) -> None:
    job, log = _run(api, _TOKEN_HUNT)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert server.token not in log
    assert "OQTOPUS_LOCAL_TOKEN" not in log
    # Its own PID namespace: it sees its init and itself, not the server.
    assert len(_value(log, "processes").split(",")) <= 3


@pytest.fixture(scope="module")
def argv_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A server started by hand with the token on its command line and in its environment."""
    data_dir = tmp_path_factory.mktemp("argv-server")
    token = secrets.token_urlsafe(24)
    port_file = data_dir / "port"
    command = [sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve", "--port", "0"]
    # One word, so that a token starting with "-" (1 in 64) is not read as an option.
    command += ["--data-dir", str(data_dir), f"--token={token}", "--port-file", str(port_file)]
    env = {**os.environ, "OQTOPUS_LOCAL_TOKEN": token}
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 60
            while not port_file.is_file():
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.05)
            endpoint = Endpoint(f"http://127.0.0.1:{port_file.read_text()}", token)
            while requests.get(endpoint.url + "/_health", timeout=5).status_code != 200:
                time.sleep(0.05)
            yield endpoint
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_sse_program_never_finds_a_token_given_on_the_command_line(argv_server: Endpoint) -> None:
    job, log = _run(Api(argv_server), _TOKEN_HUNT)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert argv_server.token not in log


def test_sse_program_cannot_read_the_data_directory_or_the_signing_secret(
    api: Api, server: LocalServer
) -> None:
    database = server.data_dir / "oqtopus-local.sqlite3"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        secret = db.execute("SELECT value FROM secrets WHERE name = 'signing'").fetchone()[0]
    source = f"""
import os, sqlite3
for attempt in ("listdir", "read", "sqlite"):
    try:
        if attempt == "listdir":
            got = os.listdir({str(server.data_dir)!r})
        elif attempt == "read":
            got = open({str(database)!r}, "rb").read()[-100000:].decode("latin-1")
        else:
            got = sqlite3.connect({str(database)!r}).execute("SELECT * FROM secrets").fetchall()
        print(attempt, "GOT", got)
    except Exception as e:
        print(attempt, "refused", type(e).__name__)
"""
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert secret not in log
    assert "GOT ['" not in log  # an empty listing is what the hiding mount shows
    assert "read refused" in log
    assert "sqlite refused" in log


def test_sse_program_cannot_write_outside_its_scratch_directory(
    api: Api, server: LocalServer, tmp_path: Path
) -> None:
    tmp_path.chmod(0o777)  # writable for anyone: only the containment can stop the write
    escaped = f"escaped-{secrets.token_hex(8)}"
    targets = [tmp_path / escaped, server.data_dir / escaped, Path(tempfile.gettempdir()) / escaped]
    source = f"""
import os
for target in {[str(t) for t in targets]!r}:
    try:
        with open(target, "w") as f:
            f.write("out")
        print("WROTE", target)
    except OSError as e:
        print("refused", target, e.strerror)
with open("inside", "w") as f:
    f.write("fine")
print("scratch", os.getcwd(), os.path.getsize("inside"))
"""
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert "WROTE" not in log
    assert not any(target.exists() for target in targets)
    assert _value(log, "scratch").endswith(" 4")


@pytest.fixture(scope="module")
def own_server() -> Iterator[LocalServer]:
    """A server of its own: the attacks below would take a shared one down with them."""
    with LocalServer(sse_timeout=60) as local:
        yield local


def test_sse_program_cannot_kill_the_server(own_server: LocalServer) -> None:
    api = Api(own_server)
    source = """
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
        print("sent", target)
    except OSError as e:
        print("refused", target, e.strerror)
print("still here")
"""
    job, log = _run(api, source)
    assert own_server.running
    assert api.get("/_health").status_code == 200
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert "still here" in log


# -- every process of the program ends with its job ---------------------------------------


def _sleepers(marker: str) -> list[int]:
    """Processes of this machine whose command line holds ``marker``."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace"):
                found.append(int(pid))
        except OSError:
            continue
    return found


def _escapers(marker: str) -> str:
    """A program that leaves a child, a setsid child and a double-forked daemon behind."""
    return f"""
import os, subprocess, time
sleep = ["sleep", "{marker}"]
subprocess.Popen(sleep)
subprocess.Popen(sleep, start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", sleep)
    os._exit(0)
time.sleep(0.5)
print("left", len([p for p in os.listdir("/proc") if p.isdigit()]), flush=True)
"""


@pytest.mark.timing
@pytest.mark.parametrize("ending", ["exit", "failure", "cancel", "timeout"])
def test_no_process_of_an_sse_program_outlives_its_job(
    ending: str, api: Api, impatient: LocalServer
) -> None:
    marker = f"{300 + secrets.randbelow(10**6) / 10**7:.7f}"  # sleep seconds, unique
    source = _escapers(marker)
    if ending == "failure":
        source += "raise SystemExit(3)\n"
    elif ending in ("cancel", "timeout"):
        source += "time.sleep(120)\n"
    target = Api(impatient) if ending == "timeout" else api
    job_id = target.submit("sse", {"sse_program": source}, shots=1)
    if ending == "cancel":
        deadline = time.monotonic() + 120  # only stops a hang
        while len(_sleepers(marker)) < 3:  # all three, however slowly they start
            assert time.monotonic() < deadline, "the program never started its children"
            time.sleep(0.05)
        assert target.post(f"/jobs/{job_id}/cancel").status_code == 200
    expected = {"exit": "succeeded", "failure": "failed", "cancel": "cancelled"}
    assert target.wait(job_id, timeout=120)["status"] == expected.get(ending, "failed")
    deadline = time.monotonic() + 60  # only stops a hang: they would sleep 300 s
    while (left := _sleepers(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"processes left behind after a job that ended by {ending}: {left}"


@pytest.fixture(scope="module")
def impatient() -> Iterator[LocalServer]:
    with LocalServer(sse_timeout=4) as local:
        yield local


_SYSV_IPC = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
shmid = libc.shmget(KEY, 4 << 20, 0o1000 | 0o600)  # IPC_CREAT
address = libc.shmat(shmid, None, 0)
ctypes.memset(address, 1, 4 << 20)  # the segment's pages are now the machine's memory
libc.shmdt(ctypes.c_void_p(address))
print("segment", shmid, "queue", libc.msgget(KEY, 0o1000 | 0o600))
"""


def _host_ipc_keys(table: str) -> set[int]:
    """The keys of the SysV IPC objects of the server's machine (``shm`` or ``msg``)."""
    lines = Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines}


def _remove_ipc(key: int) -> None:
    # A failing run must not leave the segment and the queue behind on the test machine.
    libc = ctypes.CDLL(None, use_errno=True)
    for get, control in ((libc.shmget, libc.shmctl), (libc.msgget, libc.msgctl)):
        identifier = get(key, 0, 0)
        if identifier >= 0:
            control(identifier, 0, None)  # IPC_RMID


def test_sysv_ipc_objects_of_an_sse_program_do_not_outlive_its_job(api: Api) -> None:
    key = 0x5E000000 + secrets.randbelow(1 << 24)
    try:
        job, log = _run(api, _SYSV_IPC.replace("KEY", str(key)))
        assert job["status"] == "succeeded", job["job_info"]["message"]
        segment, queue = _value(log, "segment").split(" queue ")
        assert int(segment) >= 0, log  # the program did create both
        assert int(queue) >= 0, log
        # Its own IPC namespace: gone with the job, never in the machine's tables.
        assert key not in _host_ipc_keys("shm"), "a 4 MiB shared memory segment was left"
        assert key not in _host_ipc_keys("msg"), "a message queue was left"
    finally:
        _remove_ipc(key)


def test_an_sse_program_cannot_reach_the_launchers_status_pipe(api: Api) -> None:
    source = """
import os, stat
reached = []
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"0\\n")
            reached.append(fd)
    except OSError:
        pass
print("pipes", reached)
raise SystemExit(7)
"""
    job, log = _run(api, source)
    assert _value(log, "pipes") == "[]"
    # Its own exit code is what the job reports, not a crash of the launcher.
    assert job["status"] == "failed"
    assert job["job_info"]["message"].startswith("the SSE program exited with code 7")
    assert "Traceback" not in log


# -- limits -------------------------------------------------------------------------------


def test_an_sse_program_reaches_the_server_and_no_other_port(api: Api) -> None:
    with socket.create_server(("127.0.0.1", 0)) as other:  # a service of the machine
        port = other.getsockname()[1]
        source = (
            _SESSION
            + f"""
import socket
print("interfaces", sorted(name for _, name in socket.if_nameindex()))
for host in ("127.0.0.1", "::1"):
    try:
        socket.create_connection((host, {port}), timeout=5).close()
        print("other", host, "reached")
    except OSError as e:
        print("other", host, type(e).__name__)
print("server", session.get(url + "/jobs/no-such-job/status").status_code)
"""
        )
        job, log = _run(api, source)
    assert job["status"] == "succeeded", log
    assert _value(log, "interfaces") == "['lo']"
    assert _value(log, "other 127.0.0.1") == "ConnectionRefusedError"
    assert _value(log, "other ::1") in {"ConnectionRefusedError", "OSError"}
    assert _value(log, "server") == "404"  # through the launcher's forwarder


def test_an_sse_program_gets_storage_urls_it_can_reach_behind_a_public_url() -> None:
    # The public URL is where users reach the server (here a proxy on another port, as a
    # reverse proxy would be); an SSE program is kept off every network but the server's
    # own address, and is given its storage URLs there.
    with (
        FaultProxy(0, lambda _request: None) as proxy,
        LocalServer(admin=True, options={"public_url": proxy.url}) as server,
    ):
        proxy.upstream_port = int(server.url.rsplit(":", 1)[1])
        api = Api(server)
        source = (
            _SESSION
            + """
mine = session.post(url + "/jobs").json()
print("upload", mine["presigned_url"]["url"])
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusSamplingBackend
circuit = QuantumCircuit(1)
circuit.add_X_gate(0)
print("counts", dict(OqtopusSamplingBackend().sample(circuit, "qulacs", 10).result().counts))
"""
        )
        job, log = _run(api, source)
        users_form = api.post("/jobs").json()["presigned_url"]["url"]
    assert job["status"] == "succeeded", log
    assert _value(log, "upload").startswith(server.url + "/_storage/")
    assert _value(log, "counts") == "{1: 10}"
    assert users_form.startswith(proxy.url + "/_storage/")  # everyone else: the public URL


def test_sse_program_cannot_start_more_processes_than_its_limit(api: Api) -> None:
    source = """
import os, time
started = 0
for _ in range(600):
    try:
        pid = os.fork()
    except OSError as e:
        print("refused", e.strerror, flush=True)
        break
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    started += 1
print("started", started, flush=True)
"""
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert int(_value(log, "started")) < 256  # the default sse_max_processes
    assert "refused" in log


def test_sse_program_cannot_write_more_than_its_scratch_quota_in_total(api: Api) -> None:
    source = """
import os
os.makedirs("tmp", exist_ok=True)
block = b"x" * (1024 * 1024)
written = 0
try:
    for i in range(100):
        with open(f"tmp/file{i}", "wb") as f:  # each file far below the file size limit
            f.write(block)
        written += 1
except OSError as e:
    print("refused", e.strerror)
print("written", written)
"""
    job, log = _run(api, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert int(_value(log, "written")) <= 64  # MiB: the default sse_scratch_bytes
    assert "No space left on device" in log


def _cgroups_available() -> bool:
    from quri_parts_oqtopus.local.sse_cgroup import JobCgroups  # noqa: PLC0415

    groups = JobCgroups.open()
    if groups is None:
        return False
    groups.close()
    return True


needs_cgroups = pytest.mark.skipif(
    not _cgroups_available(), reason="needs cgroups the server can make (root, v1 or delegated v2)"
)


@pytest.fixture(scope="module")
def small_memory() -> Iterator[LocalServer]:
    with LocalServer(sse_timeout=60, options={"sse_memory_mb": 256}) as local:
        yield local


@pytest.mark.timing
@needs_cgroups
def test_the_memory_limit_holds_for_all_processes_of_a_program_together(
    small_memory: LocalServer,
) -> None:
    # Four children of 200 MiB each under a 256 MiB limit: each alone fits its address space.
    # Each holds its block until every child holds its own or has died (a pipe, not a
    # sleep), so they overlap however slowly the machine forks.
    source = """
import os
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(go_w)
        block = bytearray(200 << 20)  # zero-filled: every page touched
        os.write(ready_w, b"1")
        os.close(ready_w)
        os.read(go_r, 1)  # until the parent says go
        os._exit(0)
    children.append(pid)
os.close(ready_w)
os.close(go_r)
while os.read(ready_r, 1):  # ends when every child has said ready or died
    pass
os.close(go_w)
print("exits", [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children])
"""
    job, log = _run(Api(small_memory), source)
    if job["status"] == "failed":  # the kernel may pick the program itself
        assert "ran out of its memory limit of 256 MiB" in job["job_info"]["message"]
    else:
        exits = [int(code) for code in _value(log, "exits").strip("[]").split(",")]
        # Before: all four held their 200 MiB at once (800 MiB for a 256 MiB limit).
        assert exits.count(0) <= 1, exits
        assert -9 in exits, exits  # killed for the job's memory, not refused an allocation


@pytest.mark.timing
@needs_cgroups
def test_the_processes_of_one_program_leave_room_for_another(api: Api) -> None:
    hog = api.submit(
        "sse",
        {
            "sse_program": """
import os, time
started = 0
for _ in range(400):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    started += 1
print("started", started, flush=True)
time.sleep(60)
"""
        },
        shots=1,
    )
    try:
        deadline = time.monotonic() + 60
        while "started " not in (log := _log_so_far(api, hog)):
            assert time.monotonic() < deadline, f"the first program never forked: {log}"
            time.sleep(0.1)
        assert int(_value(log, "started")) < 256  # its own limit holds
        source = """
import subprocess, threading
thread = threading.Thread(target=print, args=("thread ok",))
thread.start()
thread.join()
print("child", subprocess.run(["true"], check=False).returncode)
"""
        job, other = _run(api, source)
        # Before: all programs are nobody, and RLIMIT_NPROC counts the uid: "can't start
        # new thread" while the first one holds its 255 processes.
        assert job["status"] == "succeeded", job["job_info"]["message"]
        assert "thread ok" in other
        assert _value(other, "child") == "0"
    finally:
        api.post(f"/jobs/{hog}/cancel")
        api.wait(hog)


@needs_cgroups
def test_no_job_cgroup_outlives_its_job(api: Api) -> None:
    from quri_parts_oqtopus.local.sse_cgroup import JobCgroups  # noqa: PLC0415

    job_id = api.submit("sse", {"sse_program": "print('hello')"}, shots=1)
    assert api.wait(job_id)["status"] == "succeeded"
    parents = JobCgroups.find()
    assert parents is not None
    left = [
        path
        for parent in {parents.memory_parent, parents.pids_parent}
        for pattern in (f"*{job_id}*", f"*/*{job_id}*")  # beside or inside server groups
        for path in parent.glob(pattern)
    ]
    assert left == []


@needs_cgroups
def test_a_starting_server_leaves_the_new_job_groups_of_a_running_one_alone() -> None:
    from quri_parts_oqtopus.local.sse_cgroup import JobCgroups  # noqa: PLC0415

    base = JobCgroups.find()
    assert base is not None
    with subprocess.Popen(["sleep", "60"]) as running:  # stands for another live server
        other = base.server_group(running.pid)
        made = other.create("made-but-not-joined-yet", 64 << 20, 16)
        try:
            started = JobCgroups.open()  # what a second server does when it starts
            assert started is not None
            started.close()
            # Before: job groups sat side by side and every start removed the empty ones,
            # so the first server's launcher failed to join ("could not be contained").
            assert all(directory.is_dir() for directory in made.directories)
        finally:
            made.remove()
            other.close()
            running.kill()


# -- where the system cannot contain programs ----------------------------------------------


@pytest.fixture(scope="module")
def uncontained() -> Iterator[LocalServer]:
    with LocalServer(sse_containment="none", sse_timeout=60) as local:
        yield local


@pytest.mark.parametrize("ending", ["exit", "cancel"])
def test_without_containment_the_subreaper_still_ends_every_process(
    ending: str, uncontained: LocalServer
) -> None:
    api = Api(uncontained)
    marker = f"{300 + secrets.randbelow(10**6) / 10**7:.7f}"
    source = _escapers(marker) + ("time.sleep(120)\n" if ending == "cancel" else "")
    job_id = api.submit("sse", {"sse_program": source}, shots=1)
    if ending == "cancel":
        deadline = time.monotonic() + 60
        while len(_sleepers(marker)) < 3:
            assert time.monotonic() < deadline, "the program never started its children"
            time.sleep(0.05)
        assert api.post(f"/jobs/{job_id}/cancel").status_code == 200
    expected = "cancelled" if ending == "cancel" else "succeeded"
    assert api.wait(job_id, timeout=120)["status"] == expected
    deadline = time.monotonic() + 60  # only stops a hang: they would sleep 300 s
    while (left := _sleepers(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"processes left behind after a job that ended by {ending}: {left}"


def _interpreter_without_namespaces(tmp_path: Path) -> str:
    """An ``sse_python`` standing for a system where the launcher cannot contain programs."""
    script = tmp_path / "python-without-namespaces"
    script.write_text(
        '#!/bin/sh\nif [ "$2" = "--probe" ]; then echo "no namespaces (EPERM)"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


def _interpreter_without_network_namespaces(tmp_path: Path) -> str:
    """An ``sse_python`` standing for a system where only network namespaces are refused."""
    script = tmp_path / "python-without-network-namespaces"
    script.write_text(
        '#!/bin/sh\nif [ "$2" = "--probe" ]; then echo "namespaces"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


def test_a_server_that_cannot_keep_programs_off_the_network_says_so_or_refuses(
    tmp_path: Path,
) -> None:
    python = _interpreter_without_network_namespaces(tmp_path)
    with LocalServer(sse_python=python) as server:
        log = server.log_path.read_text()
    assert "WARNING: SSE programs share the server's network" in log
    strict = LocalServer(sse_python=python, sse_containment="require", startup_timeout=30)
    with pytest.raises(RuntimeError, match="SSE programs cannot be kept off the network"):
        strict.start()
    strict.close()


def test_a_server_that_requires_containment_refuses_to_start_without_it(tmp_path: Path) -> None:
    server = LocalServer(
        sse_python=_interpreter_without_namespaces(tmp_path),
        sse_containment="require",
        startup_timeout=30,
    )
    with pytest.raises(RuntimeError, match="SSE programs cannot be contained on this system"):
        server.start()
    server.close()


def test_a_server_that_cannot_contain_programs_says_so_loudly(tmp_path: Path) -> None:
    with LocalServer(sse_python=_interpreter_without_namespaces(tmp_path)) as server:
        log = server.log_path.read_text()
    assert "WARNING: SSE programs are NOT contained" in log


# -- an unprivileged server: a user namespace does the containing ---------------------------

_SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A directory another user can reach (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp())
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(
    os.geteuid() != 0 or not _SYSTEM_PYTHON.exists() or not Path("/usr/bin/setpriv").exists(),
    reason="needs root to become an unprivileged user, a system python3 and setpriv",
)
def test_an_unprivileged_launcher_contains_its_program_in_a_user_namespace(
    open_tmp: Path,
) -> None:
    from quri_parts_oqtopus.local.sse_sandbox import LAUNCHER  # noqa: PLC0415

    nobody = 65534
    data, scratch = open_tmp / "data", open_tmp / "scratch"
    data.mkdir()
    scratch.mkdir()
    (data / "secret").write_text("the-signing-secret")
    program = data / "main.py"
    program.write_text(
        """
import os
print("uid", os.getuid(), "processes", len([p for p in os.listdir("/proc") if p.isdigit()]))
print("caps", next(l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")))
for attempt, act in [("read", lambda: open(os.environ["DATA"] + "/secret").read()),
                     ("write", lambda: open(os.environ["OUTSIDE"], "w").write("x"))]:
    try:
        print(attempt, "GOT", act())
    except OSError as e:
        print(attempt, "refused", e.strerror)
import socket
with socket.create_connection(("127.0.0.1", int(os.environ["SERVER_PORT"])), timeout=10) as c:
    c.sendall(b"ping")
    print("server says", c.recv(4).decode())
try:
    socket.create_connection(("127.0.0.1", int(os.environ["OTHER_PORT"])), timeout=10)
    print("other reached")
except OSError as e:
    print("other", type(e).__name__)
"""
    )
    for path in (open_tmp, data, scratch, data / "secret", program):
        os.chown(path, nobody, nobody)
    open_tmp.chmod(0o755)
    command = ["/usr/bin/setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    command += [str(_SYSTEM_PYTHON), str(LAUNCHER), "--sandbox", "namespaces"]
    command += ["--memory-bytes", str(1 << 30), "--file-bytes", str(1 << 20)]
    command += ["--processes", "64", "--scratch-bytes", str(1 << 20)]
    command += ["--parent-pid", str(os.getpid()), "--scratch", str(scratch), "--hide", str(data)]
    env = {"PATH": "/usr/bin:/bin", "DATA": str(data), "OUTSIDE": str(open_tmp / "escaped")}
    with _one_echo() as server_port, socket.create_server(("127.0.0.1", 0)) as other:
        command += ["--server", f"127.0.0.1:{server_port}"]
        env.update(SERVER_PORT=str(server_port), OTHER_PORT=str(other.getsockname()[1]))
        done = subprocess.run(
            [*command, str(program)], env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uid 0 processes 2" in done.stdout  # root of its own namespace, alone in its /proc
    assert "caps 0000000000000000" in done.stdout
    assert "read refused" in done.stdout
    assert "write refused Read-only file system" in done.stdout
    assert "the-signing-secret" not in done.stdout
    assert not (open_tmp / "escaped").exists()
    assert "server says ping" in done.stdout  # the one address its network leads to
    assert "other ConnectionRefusedError" in done.stdout


@contextlib.contextmanager
def _one_echo() -> Iterator[int]:
    """A listener on loopback that echoes one connection; its port."""
    with socket.create_server(("127.0.0.1", 0)) as server:

        def echo() -> None:
            server.settimeout(60)
            with contextlib.suppress(OSError), server.accept()[0] as conn:
                conn.sendall(conn.recv(4))

        thread = threading.Thread(target=echo, daemon=True)
        thread.start()
        yield server.getsockname()[1]
