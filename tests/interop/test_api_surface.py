"""The reference's public surface is contained in ours.

Each class, method, parameter (name, kind, default) and property of the reference is ours,
and each module path of the reference exists in ours with the names user code imports from
it: its classes and functions (ours, or the very quri-parts objects) and its constants.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .test_reference_client import reference_python

DUMP = Path(__file__).parent.parent / "scripts" / "dump_api_surface.py"

# Names of the reference's modules that are not its API, by where they come from:
# the standard library and typing helpers it imports, and its HTTP client oqtopus-client
# (OqtopusClient, OqtopusJobSpec, client_models ...), which ours replaces with its own.
NOT_API_ORIGINS = {"oqtopus_client"}
# Names of the reference's modules we do not have, each with its reason.
ABSENT = {
    ("quri_parts_oqtopus.sampler", "backend"): (
        "a backend made at import time: importing the module reads ~/.oqtopus or fails; "
        "ours reads the configuration when a sampler is made"
    ),
    ("quri_parts_oqtopus.sampler", "convert_to_qasm_str"): "an import of its implementation",
    ("quri_parts_oqtopus.sampler", "execute_concurrently"): "an import of its implementation",
    ("quri_parts_oqtopus.sampler", "TYPE_CHECKING"): "an import of its implementation",
}


def surface(python: str) -> dict[str, Any]:
    # The reference's sampler module makes a backend when imported: give it a configuration.
    env = {**os.environ, "OQTOPUS_URL": "http://127.0.0.1:9", "OQTOPUS_API_TOKEN": "unused"}
    if python != sys.executable:
        env.pop("PYTHONPATH", None)
    run = subprocess.run([python, str(DUMP)], capture_output=True, text=True, check=True, env=env)
    loaded: dict[str, Any] = json.loads(run.stdout)
    return loaded


def test_reference_surface_is_contained_in_ours() -> None:
    reference = surface(reference_python())["classes"]
    ours = surface(sys.executable)["classes"]
    assert len(reference) == 16, sorted(reference)
    differences = []
    for class_name, members in reference.items():
        for name, expected in members.items():
            actual = ours.get(class_name, {}).get(name)
            if not compatible(expected, actual):
                differences.append(f"{class_name}.{name}: reference {expected}, ours {actual}")
    assert not differences, "\n".join(differences)


def test_reference_module_paths_have_the_same_names_in_ours() -> None:
    reference = surface(reference_python())["modules"]
    ours = surface(sys.executable)["modules"]
    assert len(reference) == 18, sorted(reference)
    differences = []
    for module, names in reference.items():
        for name, expected in names.items():
            if not is_api(expected) or (module, name) in ABSENT:
                continue
            actual = ours.get(module, {}).get(name)
            if not same_name(expected, actual):
                differences.append(f"{module}.{name}: reference {expected}, ours {actual}")
    assert not differences, "\n".join(differences)
    still_there = [key for key in ABSENT if key[1] in ours.get(key[0], {})]
    assert not still_there, f"no longer absent, remove from ABSENT: {still_there}"


def is_api(entry: dict[str, Any]) -> bool:
    """Whether user code may import the name from the module: ours and quri-parts' things."""
    if entry["kind"] == "constant":
        return True
    return entry["kind"] != "module" and entry.get("origin") in {"quri_parts_oqtopus", "quri_parts"}


def same_name(reference: dict[str, Any], ours: dict[str, Any] | None) -> bool:
    """The same constant, the same quri-parts object, or our class or function of that name."""
    if ours is None or ours["kind"] != reference["kind"]:
        return False
    if reference["kind"] == "constant":
        return bool(ours["value"] == reference["value"])
    return bool(ours["name"] == reference["name"] and ours["origin"] == reference["origin"])


def compatible(reference: dict[str, Any], ours: dict[str, Any] | None) -> bool:
    """Same kind and parameters; ours may add defaults, and keyword-only parameters with one."""
    if ours is None or ours["kind"] != reference["kind"]:
        return False
    expected, actual = reference.get("parameters"), ours.get("parameters")
    if expected is None or actual is None:
        return expected == actual
    if len(actual) < len(expected):
        return False
    for (name, kind, default), (our_name, our_kind, our_default) in zip(
        expected, actual, strict=False
    ):
        if (our_name, our_kind) != (name, kind) or (default is not None and our_default != default):
            return False
    extra = actual[len(expected) :]
    return all(kind == "KEYWORD_ONLY" and default is not None for _, kind, default in extra)
