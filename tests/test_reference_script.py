"""A script written for the reference API runs unchanged against the local server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from quri_parts_oqtopus.local import LocalServer

SCRIPT = Path(__file__).parent / "scripts" / "reference_api_script.py"


def test_reference_api_script_runs_unchanged_with_env_config(
    server: LocalServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "OQTOPUS_URL": server.url,
        "OQTOPUS_API_TOKEN": server.token,
        "HOME": str(tmp_path),  # no ~/.oqtopus: the environment is the only config
    }
    run = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reference script: 0 failed" in run.stdout
