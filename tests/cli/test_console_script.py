"""The installed ``oqtopus`` console script, run as a user runs it: a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

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


def test_console_script_submits_and_waits(env: dict[str, str], tmp_path: Path) -> None:
    program = tmp_path / "x1.qasm"
    program.write_text(
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n',
        encoding="utf-8",
    )
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
