"""The ``oqtopus`` CLI driven in-process against the session's local server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from quri_parts_oqtopus.cli import main
from quri_parts_oqtopus.local import LocalServer

#: Poll fast: the local simulator ends small jobs in milliseconds.
FAST = ("--interval", "0.05", "--timeout", "120")

X1_QASM = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n'
BELL_QASM = (
    'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)
X0_ONE_QUBIT_QASM = (
    'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;\n'
)
INVALID_QASM = "OPENQASM 3;\nqubit[2] q;\nthis is not qasm;\n"
SSE_PROGRAM = """
from quri_parts.circuit import QuantumCircuit
from quri_parts_oqtopus.backend import OqtopusSamplingBackend

circuit = QuantumCircuit(2)
circuit.add_X_gate(1)
job = OqtopusSamplingBackend().sample(circuit, device_id="sse", shots=64)
print("counts:", job.result(wait=0.05).counts)
"""


@dataclass(frozen=True)
class Run:
    """One finished ``oqtopus`` command."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON: fails if anything but JSON was printed."""
        return json.loads(self.out)

    def __str__(self) -> str:
        command = " ".join(self.argv)
        return f"oqtopus {command} -> {self.code}; stdout {self.out!r}; stderr {self.err!r}"


class Cli:
    """Runs ``main(argv)``, capturing its output; no run may ever print the token."""

    def __init__(self, capsys: pytest.CaptureFixture[str], token: str) -> None:
        self._capsys = capsys
        self._token = token

    def __call__(self, *argv: str) -> Run:
        self._capsys.readouterr()  # drop anything printed before this command
        code = main(list(argv))
        captured = self._capsys.readouterr()
        run = Run(argv, code, captured.out, captured.err)
        assert self._token not in run.out + run.err, f"the token was printed: {run}"
        return run

    def ok(self, *argv: str) -> Run:
        """Run a command that should succeed."""
        run = self(*argv)
        assert run.code == 0, str(run)
        assert run.err == "", str(run)
        return run

    def fails(self, code: int, *argv: str) -> Run:
        """Run a command that should fail with ``code`` and exactly one stderr line."""
        run = self(*argv)
        assert run.code == code, str(run)
        assert run.err.count("\n") == 1, f"stderr should be one line: {run}"
        assert run.err.startswith("oqtopus"), str(run)
        assert ": error: " in run.err, str(run)
        assert "Traceback" not in run.err, str(run)
        return run


@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No configuration anywhere: no env, an empty home. The home directory."""
    for name in ("OQTOPUS_URL", "OQTOPUS_API_TOKEN", "OQTOPUS_PROXY", "OQTOPUS_ENV"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def cli(
    server: LocalServer,
    no_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """The CLI configured through the environment, as most users would."""
    monkeypatch.setenv("OQTOPUS_URL", server.url)
    monkeypatch.setenv("OQTOPUS_API_TOKEN", server.token)
    return Cli(capsys, server.token)


@pytest.fixture
def programs(tmp_path: Path) -> dict[str, str]:
    """Program files by name: ``x1``, ``bell``, ``x0``, ``invalid`` (.qasm) and ``sse`` (.py)."""
    texts = {
        "x1.qasm": X1_QASM,
        "bell.qasm": BELL_QASM,
        "x0.qasm": X0_ONE_QUBIT_QASM,
        "invalid.qasm": INVALID_QASM,
        "sse.py": SSE_PROGRAM,
    }
    paths = {}
    for name, text in texts.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths[name.split(".")[0]] = str(path)
    return paths
