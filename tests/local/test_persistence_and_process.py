"""LocalServer as a process: restart keeps everything, stop leaves nothing behind; the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, child_pids, sampling_program, without_url_queries

BELL = {"program": [bell_qasm()]}


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data_dir = tmp_path_factory.mktemp("persistent")
    with LocalServer(data_dir=data_dir, token="persistent-token", admin=True) as local:
        yield local


def _group_members(pgid: int, *, count_zombies: bool = True) -> list[int]:
    """Processes of group ``pgid`` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            continue
        if count_zombies or state != "Z":
            members.append(int(entry.name))
    return members


def _describe(pids: list[int]) -> list[str]:
    return [Path(f"/proc/{pid}/stat").read_text()[:120] for pid in pids]


def test_restart_keeps_jobs_inputs_results_devices_and_the_port(restartable: LocalServer) -> None:
    api = Api(restartable)
    done = api.wait(api.submit("sampling", BELL, shots=100, name="kept"))
    api.set_device("qulacs", status="unavailable")
    waiting = api.submit("sampling", BELL, shots=10)
    port = restartable.port

    restartable.restart()

    assert restartable.port == port
    api = Api(restartable)
    again = api.get(f"/jobs/{done['job_id']}").json()
    assert without_url_queries(again) == without_url_queries(done)  # the URLs expire later
    assert api.fetch(again["job_info"]["result"])["sampling"]["counts"]
    assert api.fetch(again["job_info"]["input"]) == BELL
    assert api.get("/devices/qulacs").json()["status"] == "unavailable"
    assert api.status(waiting) == "submitted"
    api.set_device("qulacs", status="available")
    assert api.wait(waiting)["status"] == "succeeded"


@pytest.mark.timing
def test_a_job_running_at_stop_is_run_again_after_restart(restartable: LocalServer) -> None:
    api = Api(restartable)
    # Still running at the stop however slow the machine; held after the restart (the device
    # unavailable) until its delay is gone, so that the run again is quick.
    api.set_device("qulacs", execution_delay=600)
    try:
        job_id = api.submit("sampling", BELL, shots=10)
        first_run = api.wait_for(job_id, {"running"})["running_at"]
        api.set_device("qulacs", status="unavailable")
        restartable.restart()
        api = Api(restartable)
        assert api.status(job_id) == "submitted"
    finally:  # the module's next tests need the device as it was
        Api(restartable).set_device("qulacs", execution_delay=0.0, status="available")
    job = api.wait(job_id)
    assert job["status"] == "succeeded"
    assert job["running_at"] > first_run
    assert job["submitted_at"] <= job["ready_at"] <= job["running_at"] <= job["ended_at"]


@pytest.mark.timing
def test_an_sse_job_running_at_stop_is_failed_with_a_message(restartable: LocalServer) -> None:
    api = Api(restartable)
    job_id = api.submit("sse", {"sse_program": "import time\ntime.sleep(3600)\n"}, shots=1)
    api.wait_for(job_id, {"running"})
    restartable.restart()
    job = Api(restartable).wait(job_id)
    assert job["status"] == "failed"
    assert "stopped while the SSE program was running" in job["job_info"]["message"]


@pytest.mark.timing
def test_jobs_of_an_sse_program_cut_off_by_a_stop_are_cancelled(
    restartable: LocalServer,
) -> None:
    api = Api(restartable)
    api.set_device("qulacs", execution_delay=3600)  # running at the stop, however slow
    sse_id = api.submit("sse", {"sse_program": sampling_program()}, shots=1)
    deadline = time.monotonic() + 60
    while not (children := api.get("/jobs", params={"q": "from sse", "status": "running"}).json()):
        assert time.monotonic() < deadline, "the SSE program's job never started"
        time.sleep(0.1)
    restartable.restart()
    api = Api(restartable)
    api.set_device("qulacs", execution_delay=0.0)
    assert api.wait(sse_id)["status"] == "failed"
    assert api.wait(children[0]["job_id"])["status"] == "cancelled"


def test_a_second_server_on_the_same_data_dir_is_refused(restartable: LocalServer) -> None:
    with pytest.raises(RuntimeError, match="another server is using the data directory"):
        LocalServer(data_dir=restartable.data_dir).start()
    assert Api(restartable).get("/devices").status_code == 200


def test_stop_ends_the_server_and_every_worker(tmp_path: Path) -> None:
    local = LocalServer(data_dir=tmp_path, workers=2)
    with local:
        assert local.running
        process = local._process
        assert process is not None
        Api(local).wait(Api(local).submit("sampling", BELL, shots=1))  # workers exist now
        assert len(_group_members(process.pid)) >= 3
        url = local.url
    assert not local.running
    assert _group_members(process.pid) == [], _describe(_group_members(process.pid))
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_health", timeout=2)
    assert tmp_path.is_dir()  # a given data dir is kept


@pytest.mark.timing
def test_a_killed_test_process_does_not_leak_its_server(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from quri_parts_oqtopus.local import LocalServer\n"
        f"server = LocalServer(data_dir={str(tmp_path)!r}).start()\n"
        "print(server._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        parent.send_signal(signal.SIGKILL)
        assert line.strip(), parent.communicate()[1]
        child_pid = int(line)
    # The orphaned server is init's to reap; what matters is that nothing still runs.
    deadline = time.monotonic() + 120  # only stops a hang
    while _group_members(child_pid, count_zombies=False) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_members(child_pid, count_zombies=False) == []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_killed_server_takes_its_simulator_workers_with_it(tmp_path: Path) -> None:
    # The worker once kept computing (52 CPU-s past a 10 s job_timeout) beside a restarted
    # server that ran the job again, and staged its result into that job's directory.
    with LocalServer(data_dir=tmp_path, admin=True) as local:
        api = Api(local)
        api.set_device("qulacs", execution_delay=3.0)  # the worker holds the job 3 s
        job_id = api.submit("sampling", BELL, shots=10)
        api.wait_for(job_id, {"running"})
        time.sleep(0.5)  # the worker has the task
        assert local.pid is not None
        children = child_pids(local.pid)
        os.kill(local.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30  # only stops a hang
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in children if _alive(pid)]
        staged = sorted(path.name for path in (tmp_path / "jobs" / job_id).glob("*.staged"))
    assert left == [], _describe(left)
    assert staged == []  # the orphan wrote nothing into a directory it no longer owned


def test_local_server_exposes_url_token_config_and_data_dir(tmp_path: Path) -> None:
    with LocalServer(token="t0k") as local:
        assert local.url == f"http://127.0.0.1:{local.port}"
        assert local.config == OqtopusConfig(local.url, "t0k")
        assert local.data_dir.is_dir()
        token = {"q-api-token": "t0k"}
        admin = requests.get(local.url + "/_admin/faults", headers=token, timeout=5)
        assert admin.status_code == 404  # no admin routes unless asked for
        owned = local.data_dir
    assert not owned.exists()  # a temporary data dir goes with the server
    assert len(LocalServer().token) >= 20  # random when not given


def test_the_token_is_neither_in_the_log_nor_on_the_command_line(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, token="never-shown-4c1d") as local:
        assert local._process is not None
        command_line = Path(f"/proc/{local._process.pid}/cmdline").read_bytes()
        Api(local).wait(Api(local).submit("sampling", BELL, shots=1))
    assert b"never-shown-4c1d" not in command_line
    assert "never-shown-4c1d" not in local.log_path.read_text()


def test_the_server_process_never_loads_the_simulator_or_the_parser(
    restartable: LocalServer,
) -> None:
    api = Api(restartable)
    api.wait(api.submit("sampling", BELL, shots=1))
    assert restartable._process is not None
    maps = Path(f"/proc/{restartable._process.pid}/maps").read_text()
    assert "qulacs" not in maps
    assert "quri_parts_oqtopus/_core" not in maps


def test_cli_help_documents_the_default_data_dir() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "oqtopus-local" in result.stdout
    assert "--data-dir" in result.stdout
    assert "--admin" in result.stdout


def test_cli_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve",
         "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "only loopback" in result.stderr


def test_cli_serve_prints_the_url_and_a_random_token(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve", "--port", "0",
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline() for _ in range(3)]
            url = banner[1].split("=", 1)[1].strip()
            token = banner[2].split("=", 1)[1].strip()
            assert url.startswith("http://127.0.0.1:")
            devices = requests.get(url + "/devices", headers={"q-api-token": token}, timeout=10)
            assert devices.status_code == 200
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
