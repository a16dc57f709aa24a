"""What the side-by-side benchmarks share: the reference's interpreter, and one side run.

Standard library only: the benchmark scripts import it under the reference's venv too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def reference_python(given: str | None) -> str:
    """The interpreter of the reference's venv: ``given``, else the repository's ``.ref-venv``."""
    for candidate in (given, REPO / ".ref-venv" / "bin" / "python"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise SystemExit("no reference interpreter: run `make ref-venv` or pass --reference-python")


def run_child(python: str, command: list[str], env: dict[str, str], what: str) -> Any:
    """Run one side in ``python``; the JSON of its last output line (exit with its output
    if it failed)."""
    child = subprocess.run([python, *command], env=env, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(f"{python} failed on {what}:\n{child.stdout}\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])
