"""No import cycles: a module that needs another never is needed by it, in Rust or Python."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
RUST = ROOT / "rust" / "src"
USE = re.compile(r"\bcrate::(\w+)")


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of ``graph``: its strongly connected components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _rust_module(path: Path) -> str:
    relative = path.relative_to(RUST)
    return relative.parts[0].removesuffix(".rs")  # qasm_parse/lex.rs belongs to qasm_parse


def test_the_rust_modules_have_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in RUST.rglob("*.rs"):
        module = _rust_module(path)
        if module == "lib":
            continue  # the #[pymodule]: it uses every module, none uses it
        text = path.read_text(encoding="utf-8")
        text = text.split("#[cfg(test)]", 1)[0]  # tests may use whatever they check against
        uses = set(USE.findall(text)) - {module}
        graph.setdefault(module, set()).update(uses)
    assert "ir" in graph
    assert "direct" in graph["read"]
    assert _strongly_connected(graph) == []


def test_the_python_modules_have_no_cycle() -> None:
    # grimp builds import-linter's graph: every import, the lazy ones inside functions too.
    graph = grimp.build_graph("quri_parts_oqtopus")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert "quri_parts_oqtopus.local.transpile" in edges
    assert _strongly_connected(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]
    ]
