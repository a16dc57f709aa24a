"""The installed ``oqtopus`` console script, run as a user runs it: a separate process."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin
from .request_log import RequestLog, logged_requests

SCRIPT = Path(sys.executable).parent / "oqtopus"


@pytest.fixture
def env(server: LocalServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a user configured by OQTOPUS_URL / OQTOPUS_API_TOKEN."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("OQTOPUS_")}
    variables.update(
        OQTOPUS_URL=server.url,
        OQTOPUS_API_TOKEN=server.token,
        HOME=str(tmp_path),
        NO_PROXY="127.0.0.1",
    )
    return variables


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: install the package (maturin develop)"
    done = subprocess.run(
        [str(SCRIPT), *argv], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    token = env["OQTOPUS_API_TOKEN"]
    assert token not in done.stdout + done.stderr, f"oqtopus {argv} printed the token"
    assert "Traceback" not in done.stderr, f"oqtopus {argv}: {done.stderr}"
    return done


def test_console_script_lists_devices_as_json(env: dict[str, str]) -> None:
    done = run(env, "--json", "devices")
    assert done.returncode == 0, done.stderr
    assert "qulacs" in {device["device_id"] for device in json.loads(done.stdout)}, done.stdout


def x1_program(directory: Path) -> Path:
    program = directory / "x1.qasm"
    program.write_text(
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n',
        encoding="utf-8",
    )
    return program


def test_console_script_submits_and_waits(env: dict[str, str], tmp_path: Path) -> None:
    program = x1_program(tmp_path)
    done = run(
        env, "submit", "sampling", str(program), "--device", "qulacs", "--shots", "8",
        "--wait", "--interval", "0.05", "--timeout", "120",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["BITS  COUNT", "  10      8"], done.stdout


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (("jobs", "get", "no-such-job"), 3),
        (("submit", "sampling", "missing.qasm", "--device", "qulacs", "--shots", "5"), 2),
        (("jobs", "list", "--page", "zero"), 2),
    ],
)
def test_console_script_errors_are_one_line_with_their_exit_code(
    env: dict[str, str], argv: tuple[str, ...], code: int
) -> None:
    done = run(env, *argv)
    assert done.returncode == code, f"oqtopus {argv}: {done.stderr}"
    assert done.stdout == "", f"oqtopus {argv}: {done.stdout}"
    assert done.stderr.count("\n") == 1, f"oqtopus {argv}: {done.stderr}"


def test_python_m_runs_the_same_cli(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "quri_parts_oqtopus.cli", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exit codes:" in done.stdout, done.stdout


# SIG_DFL, unlike SIG_IGN, is not kept across exec: the command's Python then makes Ctrl-C
# a KeyboardInterrupt, as it does when started from a terminal.
_WITH_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def interrupted(
    env: dict[str, str], log: RequestLog, *argv: str
) -> subprocess.CompletedProcess[str]:
    """Run ``oqtopus ARGV`` (configured to go through ``log``), Ctrl-C once it polls a status.

    The command starts with Ctrl-C's default handling, as from a terminal, whatever this
    process inherited: a job started with ``&`` (``make test &``, a CI runner) ignores
    SIGINT, and so would the command.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGINT, str(SCRIPT), *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(path.endswith("/status") for _, path in log.take()):
            assert time.monotonic() < deadline, "the command never started waiting"
            assert process.poll() is None, f"ended early: {process.communicate()}"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def cancel_command_in(stderr: str) -> list[str]:
    command = stderr.strip().split("to cancel it: ", 1)[1]
    argv = shlex.split(command)
    assert argv[0] == "oqtopus", stderr
    return argv[1:]


@pytest.mark.timing
def test_ctrl_c_during_submit_wait_says_the_job_runs_on_and_how_to_cancel_it(
    env: dict[str, str], server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    admin.set_device_status("qulacs", "unavailable")  # the job waits in "submitted"
    argv = ("submit", "sampling", str(x1_program(tmp_path)), "--device", "qulacs", "--shots", "5")
    with logged_requests(server) as log:
        done = interrupted({**env, "OQTOPUS_URL": log.url}, log, *argv, "--wait")
    job_id = done.stdout.strip()
    assert done.returncode == 130, done
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert f"job {job_id} is still submitted on the server" in done.stderr, done.stderr
    assert done.stderr.strip().endswith(f"to cancel it: oqtopus jobs cancel {job_id}"), done.stderr
    status = run(env, "jobs", "status", job_id)
    assert status.stdout == "submitted\n", "Ctrl-C stopped the wait, not the job"
    cancelled = run(env, *cancel_command_in(done.stderr))
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"cancel requested for job {job_id}" in cancelled.stdout, cancelled.stdout


@pytest.mark.timing
def test_ctrl_c_during_jobs_result_gives_a_cancel_command_with_the_same_config(
    env: dict[str, str], server: LocalServer, admin: Admin, tmp_path: Path
) -> None:
    admin.set_device_status("qulacs", "unavailable")
    argv = ("submit", "sampling", str(x1_program(tmp_path)), "--device", "qulacs", "--shots", "5")
    job_id = run(env, *argv).stdout.strip()
    only_file = {k: v for k, v in env.items() if not k.startswith("OQTOPUS_")}
    config = tmp_path / "my config.ini"
    options = ("--config", str(config), "--section", "lab")
    with logged_requests(server) as log:
        config.write_text(f"[lab]\nurl={log.url}\napi_token={server.token}\n", encoding="utf-8")
        # --json prints the outcome, so that a script reads the id and the status too.
        done = interrupted(only_file, log, *options, "--json", "jobs", "result", job_id)
    assert done.returncode == 130, done
    assert json.loads(done.stdout)["status"] == "submitted", done.stdout
    assert f"job {job_id} is still submitted" in done.stderr, done.stderr
    cancel = cancel_command_in(done.stderr)
    assert cancel == [*options, "jobs", "cancel", job_id], done.stderr
    config.write_text(f"[lab]\nurl={server.url}\napi_token={server.token}\n", encoding="utf-8")
    cancelled = subprocess.run(
        [str(SCRIPT), *cancel],
        env=only_file,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cancelled.returncode == 0, cancelled.stderr
