"""The reference client (quri-parts-oqtopus 1.1.5 from PyPI) runs unchanged on the local server.

The reference lives in its own virtual environment (its import names are ours); `make
ref-venv` builds it and the Makefile passes its interpreter in OQTOPUS_REFERENCE_PYTHON.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

from ..conftest import run_script

SCRIPT = Path(__file__).parent.parent / "scripts" / "reference_api_script.py"
REFERENCE_PYTHON = os.environ.get("OQTOPUS_REFERENCE_PYTHON", "")


def reference_python() -> str:
    if REFERENCE_PYTHON and Path(REFERENCE_PYTHON).exists():
        return REFERENCE_PYTHON
    if os.environ.get("CI"):
        pytest.fail(
            f"CI must provide the reference client: OQTOPUS_REFERENCE_PYTHON={REFERENCE_PYTHON!r}"
        )
    pytest.skip("no reference client: run `make ref-venv` and set OQTOPUS_REFERENCE_PYTHON")


def test_reference_client_runs_every_job_type_against_the_local_server(
    server: LocalServer, tmp_path: Path
) -> None:
    python = reference_python()
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('quri-parts-oqtopus'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "1.1.5", f"{python} holds quri-parts-oqtopus {version}, not the reference"
    run = run_script(python, SCRIPT, server, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reference script: 0 failed" in run.stdout
