"""Modules moved into packages (``formats/``, ``batch/``) keep their public import paths: the
module at the old path re-exports every public name defined at the new one, the same objects."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

MOVED = {
    "quri_parts_oqtopus.qasm": "quri_parts_oqtopus.formats.qasm",
    "quri_parts_oqtopus.qasm_reader": "quri_parts_oqtopus.formats.qasm_reader",
    "quri_parts_oqtopus.counts": "quri_parts_oqtopus.formats.counts",
    "quri_parts_oqtopus.operator": "quri_parts_oqtopus.formats.operator",
    "quri_parts_oqtopus.upload": "quri_parts_oqtopus.formats.upload",
    "quri_parts_oqtopus.sweep": "quri_parts_oqtopus.formats.sweep",
    "quri_parts_oqtopus.packing": "quri_parts_oqtopus.batch.packing",
    "quri_parts_oqtopus.placement": "quri_parts_oqtopus.batch.placement",
    "quri_parts_oqtopus.jobset": "quri_parts_oqtopus.batch.jobset",
}


def defined_names(module_name: str) -> set[str]:
    """The public names a module's own source defines (classes, functions, assignments)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_a_moved_module_keeps_its_public_names_at_the_old_path(old: str, new: str) -> None:
    old_module, new_module = importlib.import_module(old), importlib.import_module(new)
    missing = sorted(
        name
        for name in defined_names(new)
        if getattr(old_module, name, None) is not getattr(new_module, name)
    )
    assert not missing, f"{old} lacks {missing} of {new}"
    assert old_module.__all__ == new_module.__all__


def test_the_old_paths_define_nothing_of_their_own() -> None:
    own = {old: defined_names(old) - {"__all__"} for old in MOVED}
    assert not {old: names for old, names in own.items() if names}
