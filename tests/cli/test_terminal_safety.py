"""Server-held text never drives the terminal: every command prints controls as escapes.

Job names, descriptions, device descriptions, failure messages and SSE logs come from the
server (or from whoever submitted the job); ESC/OSC/CSI sequences in them could rewrite
lines, set the window title or write the clipboard (OSC 52) of the user running ``oqtopus``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin
from .conftest import Cli, Run

# Clipboard write (OSC 52, BEL-terminated), clear screen (CSI), the 8-bit CSI, a carriage
# return that rewrites the line, a backspace, right-to-left override, a title (OSC 0).
HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x9b31m\rok\b\u202eevil\x1b]0;pwned\x1b\\"
UNSAFE = ["\x1b", "\x07", "\x9b", "\r", "\b", "\u202e"]


def _assert_inert(run: Run) -> None:
    printed = run.out + run.err
    found = [repr(c) for c in UNSAFE if c in printed]
    assert not found, f"{found} reached the terminal: {run}"


@pytest.fixture
def hostile_job(server: LocalServer, tmp_path: Path) -> str:
    """A job whose name and description hold terminal control sequences."""
    circuit = QuantumCircuit(1)
    circuit.add_X_gate(0)
    config = OqtopusConfig(server.url, server.token)
    tag = f"hostile-{uuid.uuid4().hex[:10]}"
    job = OqtopusSamplingBackend(config).sample(
        circuit, device_id="qulacs", shots=5, name=tag + HOSTILE, description=HOSTILE
    )
    job.wait_for_completion(timeout=120, wait=0.05)
    return job.job_id


@pytest.mark.parametrize(
    "command",
    [("jobs", "get"), ("jobs", "list", "--q", "hostile-"), ("--json", "jobs", "get")],
    ids=["get", "list", "get-json"],
)
def test_job_names_and_descriptions_print_as_escapes(
    cli: Cli, hostile_job: str, command: tuple[str, ...]
) -> None:
    argv = [*command, hostile_job] if command[-1] == "get" else list(command)
    run = cli.ok(*argv)
    _assert_inert(run)
    if "--json" in command:
        assert run.json()["description"] == HOSTILE, run  # the same text, escaped as JSON
    else:
        assert "\\x1b]52;c;" in run.out, run  # shown, as an escape


def test_a_device_description_prints_as_escapes(cli: Cli, admin: Admin) -> None:
    device_id = f"hostile-{uuid.uuid4().hex[:8]}"
    admin.set_device(device_id, description=HOSTILE, n_qubits=2)
    for argv in (("devices", device_id), ("devices", device_id, "--json"), ("devices",)):
        run = cli.ok(*argv)
        _assert_inert(run)
    assert "\\x1b[2J" in cli.ok("devices", device_id).out


def test_a_hostile_server_message_in_an_error_prints_as_escapes(cli: Cli, admin: Admin) -> None:
    body = json.dumps({"message": "denied" + HOSTILE})
    admin.add_fault(path="^/devices$", method="GET", status=403, body=body)
    run = cli.fails(3, "devices")
    _assert_inert(run)
    assert "denied" in run.err, run


def test_an_sse_log_keeps_its_lines_and_tabs_but_no_controls(cli: Cli, tmp_path: Path) -> None:
    program = tmp_path / "noisy.py"
    program.write_text(f"print('line 1\\tcol')\nprint({HOSTILE!r})\nprint('line 3')\n")
    submit = ("--json", "submit", "sse", str(program), "--device", "qulacs", "--name", "noisy")
    job_id = cli.ok(*submit).json()["job_id"]
    cli("jobs", "result", job_id, "--interval", "0.05", "--timeout", "120")  # waits for its end
    run = cli.ok("jobs", "log", job_id)
    _assert_inert(run)
    assert "line 1\tcol\n" in run.out, run
    assert "line 3" in run.out.splitlines()[-1], run
    saved = tmp_path / "saved.log"
    cli.ok("jobs", "log", job_id, "--output", str(saved))
    assert HOSTILE.encode() in saved.read_bytes()  # a file gets the bytes as they were


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text", "plain text"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("tab\there", "tab\\there"),
        ("\u202eright-to-left", "\\u202eright-to-left"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("日本語 ok", "日本語 ok"),
    ],
)
def test_terminal_text_escapes_exactly_the_unprintable_characters(text: str, shown: str) -> None:
    assert render.terminal_text(text, keep="") == shown


def test_json_output_escapes_every_unprintable_character_and_stays_json() -> None:
    value = {"name": "a\x7fb\x9bc\u2028d\U000e0001e 日本語", "n": 1}
    text = render.to_json(value)
    assert all(c.isprintable() or c in "\n" for c in text), repr(text)
    assert json.loads(text) == value
