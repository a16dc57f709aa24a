"""The wire contract is spelled once: every status, job type, device word and limit lives in
``quri_parts_oqtopus._contract``, and every other module of the package imports it."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import get_args

import quri_parts_oqtopus
from quri_parts_oqtopus import _contract
from quri_parts_oqtopus._sse_container import DriverJobInfo, DriverRequest

PACKAGE = Path(quri_parts_oqtopus.__file__).parent

#: The words of the contract: a string constant equal to one of them is a stray spelling.
WORDS = {
    *_contract.JOB_STATUSES,
    *_contract.JOB_TYPES,
    *_contract.DEVICE_STATUSES,
    *_contract.DEVICE_TYPES,
    _contract.TOKEN_HEADER,
}
#: The limits, as numbers: a literal equal to one of them is a stray copy.
LIMITS = {_contract.MAX_SHOTS, _contract.MAX_SSE_BASE64_BYTES}

#: Where a word may stand as a key: the result payload's parts are named after their job
#: types (``{"sampling": {...}}``), and a device's info names its simulator.
KEY_WORDS = {_contract.SAMPLING, _contract.ESTIMATION, _contract.SIMULATOR}

#: Modules that cannot import the contract, each with its reason.
ALLOWED_MODULES = {
    # Runs inside an SSE program's interpreter (maybe another venv, standard library only),
    # where this package may not be installed.
    "local/sse_runtime/sse_driver.py": "runs where the package may be absent",
}
#: Single spellings that are not the contract's word, each with its reason.
ALLOWED = {
    # LocalServer's repr says whether its process runs: a word of its own, not a job status.
    ("local/process.py", "running"),
}


def _constant_keys(tree: ast.AST) -> set[int]:
    """ids of the string constants that stand as a key: ``x["k"]``, ``{"k": v}``, ``.get("k")``."""
    keys: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            keys.add(id(node.slice))
        elif isinstance(node, ast.Dict):
            keys.update(id(key) for key in node.keys if isinstance(key, ast.Constant))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "pop", "setdefault"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(id(node.args[0]))
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and all(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
        ):
            keys.add(id(node.left))  # "sampling" in payload
    return keys


def strays(path: Path, relative: str) -> list[str]:
    """``relative:line: value`` of each stray spelling of a contract word or limit in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys = _constant_keys(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        value = node.value
        if isinstance(value, str) and value in WORDS:
            if (relative, value) in ALLOWED or (value in KEY_WORDS and id(node) in keys):
                continue
            found.append(f"{relative}:{node.lineno}: {value!r}")
        elif isinstance(value, int) and value in LIMITS:
            found.append(f"{relative}:{node.lineno}: {value!r}")
    return found


def test_no_module_but_the_contract_spells_a_status_job_type_or_limit() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "_contract.py" or relative in ALLOWED_MODULES:
            continue
        found.extend(strays(path, relative))
    assert not found, "spelled outside _contract.py:\n" + "\n".join(found)


def test_the_literal_types_and_the_constants_say_the_same() -> None:
    assert get_args(_contract.JobStatus) == _contract.JOB_STATUSES
    assert get_args(_contract.JobType) == _contract.JOB_TYPES
    assert get_args(_contract.DeviceStatus) == _contract.DEVICE_STATUSES
    assert get_args(_contract.DeviceType) == _contract.DEVICE_TYPES
    assert set(_contract.FINAL_STATUSES) <= set(_contract.JOB_STATUSES)
    assert not set(_contract.CANCELLABLE_STATUSES) & set(_contract.FINAL_STATUSES)


def test_the_check_finds_a_stray_status(tmp_path: Path) -> None:
    # The check itself can fail: a module that spells a status is reported with its line.
    module = tmp_path / "probe.py"
    module.write_text('DONE = "succeeded"\nLIMIT = 10_000_000\nOK = {"sampling": 1}\n')
    assert strays(module, "probe.py") == ["probe.py:1: 'succeeded'", "probe.py:2: 10000000"]


def test_the_reference_names_of_the_final_statuses_are_the_contract() -> None:
    from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS  # noqa: PLC0415
    from quri_parts_oqtopus.models.jobs.base import (  # noqa: PLC0415
        JOB_FINAL_STATUS as MODEL_FINAL_STATUS,
    )

    # A list, as the reference's, holding the contract's statuses; one object everywhere.
    assert list(_contract.FINAL_STATUSES) == JOB_FINAL_STATUS
    assert MODEL_FINAL_STATUS is JOB_FINAL_STATUS


def test_the_sse_container_clients_request_and_input_are_the_contracts() -> None:
    # What the backends hand to a container's sse_driver: the submit body and the input.
    assert tuple(f.name for f in dataclasses.fields(DriverRequest)) == _contract.SUBMIT_FIELDS
    assert tuple(f.name for f in dataclasses.fields(DriverJobInfo)) == _contract.JOB_INPUT_FIELDS
