"""Every script in examples/ runs unchanged against the local server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

from .conftest import run_script

EXAMPLES = Path(__file__).parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "sse_program.py")
#: Scripts that take seconds (drawing the docs' pictures): only CI runs them.
SLOW = {"pictures.py"}


def test_every_example_is_listed() -> None:
    assert len(SCRIPTS) >= 7, SCRIPTS


@pytest.mark.parametrize(
    "script", [pytest.param(s, marks=pytest.mark.slow) if s in SLOW else s for s in SCRIPTS]
)
def test_example_runs(script: str, server: LocalServer, tmp_path: Path) -> None:
    run = run_script(sys.executable, EXAMPLES / script, server, tmp_path)
    assert run.returncode == 0, f"{script}:\n{run.stdout}\n{run.stderr}"
    assert run.stdout.strip(), f"{script} printed nothing"
