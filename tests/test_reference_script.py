"""A script written for the reference API runs unchanged against the local server."""

from __future__ import annotations

import sys
from pathlib import Path

from quri_parts_oqtopus.local import LocalServer

from .conftest import run_script

SCRIPT = Path(__file__).parent / "scripts" / "reference_api_script.py"


def test_reference_api_script_runs_unchanged_with_env_config(
    server: LocalServer, tmp_path: Path
) -> None:
    run = run_script(sys.executable, SCRIPT, server, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reference script: 0 failed" in run.stdout
