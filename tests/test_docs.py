"""The documentation: every guide's Python runs against the local server, every public member
has a docstring (the API reference is generated from them)."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The modules whose members the API reference pages (docs/reference/) document.
DOCUMENTED_MODULES = [
    "quri_parts_oqtopus.backend",
    "quri_parts_oqtopus.jobset",
    "quri_parts_oqtopus.packing",
    "quri_parts_oqtopus.placement",
    "quri_parts_oqtopus.mitigation",
    "quri_parts_oqtopus.run_estimate",
    "quri_parts_oqtopus.sweep",
    "quri_parts_oqtopus.sampler",
    "quri_parts_oqtopus.estimator",
    "quri_parts_oqtopus.local",
    "quri_parts_oqtopus.calibration",
    "quri_parts_oqtopus.plot",
    "quri_parts_oqtopus.metrics",
]


def python_blocks(guide: Path) -> list[str]:
    return PYTHON_BLOCK.findall(guide.read_text(encoding="utf-8"))


def test_the_guides_hold_runnable_python() -> None:
    with_code = [guide.name for guide in GUIDES if python_blocks(guide)]
    expected = {"README.md", "quickstart.md", "local-server.md", "job-sets.md"}
    assert expected <= set(with_code), with_code


#: Guides whose code takes many seconds (noisy emulation, pictures): run by CI (--runslow).
SLOW_GUIDES = {"emulation.md", "pictures.md", "mitigation.md"}


@pytest.mark.parametrize(
    "guide",
    [
        pytest.param(g, marks=pytest.mark.slow) if g.name in SLOW_GUIDES else g
        for g in GUIDES
        if python_blocks(g)
    ],
    ids=lambda g: g.name,
)
def test_guide_code_runs_against_the_local_server(
    guide: Path, server: LocalServer, tmp_path: Path
) -> None:
    """The blocks of one guide run in order in one fresh interpreter, as a reader would."""
    script = tmp_path / f"{guide.stem}.py"
    script.write_text("\n".join(python_blocks(guide)), encoding="utf-8")
    env = {
        **os.environ,
        "OQTOPUS_URL": server.url,
        "OQTOPUS_API_TOKEN": server.token,
        "HOME": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, f"{guide.name}:\n{run.stdout}\n{run.stderr}"


def public_members(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    members: list[tuple[str, object]] = []
    for name in module.__all__:
        value = getattr(module, name)
        members.append((f"{module_name}.{name}", value))
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_") and attribute != "__init__":
                    continue
                if isinstance(member, (property, staticmethod, classmethod)) or inspect.isfunction(
                    member
                ):
                    members.append((f"{module_name}.{name}.{attribute}", member))
    return members


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_every_public_member_has_a_docstring(module_name: str) -> None:
    undocumented = []
    for qualified, member in public_members(module_name):
        if qualified.endswith(".__init__"):
            continue  # documented in the class docstring (merge_init_into_class)
        target = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        if not (inspect.getdoc(target) or "").strip():
            undocumented.append(qualified)
    assert not undocumented, f"no docstring: {undocumented}"


LINK = re.compile(r"\]\(([^)\s]+)\)")
README_MAX_LINES = 250


def _slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = PYTHON_BLOCK.sub("", page.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def test_the_readme_is_an_entry_point_of_at_most_250_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines"


@pytest.mark.parametrize("page", GUIDES, ids=lambda g: g.name)
def test_every_relative_link_names_a_page_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.is_file():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, f"{page.name}: {broken}"
