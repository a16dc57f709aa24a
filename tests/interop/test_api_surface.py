"""Each class, method, parameter (name, kind, default) and property of the reference is ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .test_reference_client import reference_python

DUMP = Path(__file__).parent.parent / "scripts" / "dump_api_surface.py"


def surface(python: str) -> dict[str, dict[str, Any]]:
    run = subprocess.run([python, str(DUMP)], capture_output=True, text=True, check=True)
    loaded: dict[str, dict[str, Any]] = json.loads(run.stdout)
    return loaded


def test_reference_surface_is_contained_in_ours() -> None:
    reference = surface(reference_python())
    ours = surface(sys.executable)
    assert len(reference) == 12, sorted(reference)
    differences = []
    for class_name, members in reference.items():
        for name, expected in members.items():
            actual = ours.get(class_name, {}).get(name)
            if not compatible(expected, actual):
                differences.append(f"{class_name}.{name}: reference {expected}, ours {actual}")
    assert not differences, "\n".join(differences)


def compatible(reference: dict[str, Any], ours: dict[str, Any] | None) -> bool:
    """Same kind and parameters; ours may add keyword-only parameters with defaults."""
    if ours is None or ours["kind"] != reference["kind"]:
        return False
    expected, actual = reference.get("parameters"), ours.get("parameters")
    if expected is None or actual is None:
        return expected == actual
    extra = actual[len(expected) :]
    return actual[: len(expected)] == expected and all(
        kind == "KEYWORD_ONLY" and default is not None for _, kind, default in extra
    )
