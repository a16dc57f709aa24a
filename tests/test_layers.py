"""Who may call the native core: only its seam modules (the rest of the layers are checked
by import-linter in ``make lint``; ``_core`` has no Python source for it to follow)."""

from __future__ import annotations

import ast
from pathlib import Path

import quri_parts_oqtopus

PACKAGE = Path(quri_parts_oqtopus.__file__).parent
#: The modules that hold a Python signature and docstring for each native function.
SEAMS = {
    f"formats/{name}.py"
    for name in ("qasm", "upload", "counts", "operator", "qasm_reader", "gates")
}


def native_imports(source: str) -> list[int]:
    """Lines of ``source`` that import ``quri_parts_oqtopus._core`` (or a name from it)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "quri_parts_oqtopus._core":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "quri_parts_oqtopus":
            lines.extend(node.lineno for alias in node.names if alias.name == "_core")
        elif isinstance(node, ast.Import):
            lines.extend(node.lineno for a in node.names if a.name == "quri_parts_oqtopus._core")
    return lines


def test_only_the_seam_modules_import_the_native_core() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in SEAMS:
            found += [f"{relative}:{line}" for line in native_imports(path.read_text())]
    assert not found, f"_core imported outside the seam modules: {found}"


def test_the_check_sees_each_way_of_importing_the_core() -> None:
    probe = "from quri_parts_oqtopus import _core\nimport quri_parts_oqtopus._core\n"
    probe += (
        "from quri_parts_oqtopus._core import read_archive\nfrom quri_parts_oqtopus import qasm\n"
    )
    assert native_imports(probe) == [1, 2, 3]


ARCHIVE_MODULES = {"zipfile", "zlib", "gzip", "tarfile", "lzma", "bz2"}


def archive_imports(source: str) -> list[str]:
    """The archive and compression modules ``source`` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in ARCHIVE_MODULES]
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in ARCHIVE_MODULES
        ):
            found.append(str(node.module))
    return found


def test_no_server_module_reads_or_writes_archives_itself() -> None:
    # The server's archives go through the native seams (local/codec.py), as the client's.
    found = {
        path.relative_to(PACKAGE).as_posix(): archive_imports(path.read_text())
        for path in sorted((PACKAGE / "local").rglob("*.py"))
    }
    assert not {name: mods for name, mods in found.items() if mods}
    assert archive_imports("import zipfile\nfrom zlib import crc32\nimport json\n") == [
        "zipfile",
        "zlib",
    ]


def calls_of(source: str, name: str) -> list[int]:
    """Lines of ``source`` that call ``name`` (``name(...)`` or ``module.name(...)``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = node.func
            spelled = called.attr if isinstance(called, ast.Attribute) else None
            if isinstance(called, ast.Name):
                spelled = called.id
            if spelled == name:
                found.append(node.lineno)
    return found


def names_used(source: str, names: set[str]) -> list[str]:
    """Which of ``names`` ``source`` imports or mentions."""
    tree = ast.parse(source)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    return sorted(used & names)


def test_one_gate_shifter_builds_every_moved_gate() -> None:
    # Gates are moved (packed jobs, side-by-side programs) by gates.shifted alone.
    found = {
        path.relative_to(PACKAGE).as_posix(): calls_of(path.read_text(), "QuantumGate")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() != "formats/gates.py"
    }
    assert not {name: lines for name, lines in found.items() if lines}
    assert calls_of(
        "from x import QuantumGate\nQuantumGate(name='X')\nc.QuantumGate()\n", "QuantumGate"
    ) == [2, 3]


DEVICE_INFO_NAMES = {
    "DEVICE_INFO_QUBITS",
    "DEVICE_INFO_COUPLINGS",
    "QUBIT_ID",
    "COUPLING_CONTROL",
    "COUPLING_TARGET",
}


def test_calibration_is_the_one_reader_of_device_info_qubits_and_couplings() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix(): names_used(path.read_text(), DEVICE_INFO_NAMES)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in {"calibration.py", "_contract.py"}
    }
    assert not {name: names for name, names in found.items() if names}
    probe = "from q._contract import QUBIT_ID, MAX_SHOTS\nx = DEVICE_INFO_QUBITS\n"
    assert names_used(probe, DEVICE_INFO_NAMES) == ["DEVICE_INFO_QUBITS", "QUBIT_ID"]
