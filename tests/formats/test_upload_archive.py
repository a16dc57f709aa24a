"""Job archives built in Rust read back exactly with Python's ``zipfile`` and ``json``.

The reference (``OqtopusStorage._build_zip_payload``) writes ``json.dumps(data)`` into
``<stem>.json`` with ZIP_DEFLATED; the bytes differ (compact JSON, another deflate level),
the meaning must not.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.openqasm.circuit import convert_to_qasm_str as reference_qasm

from quri_parts_oqtopus.operator import encode_operator
from quri_parts_oqtopus.upload import (
    build_circuits_archive,
    build_job_archive,
    build_programs_archive,
    read_job_archive,
)


def read_with_zipfile(data: bytes) -> tuple[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        (info,) = archive.infolist()
        assert info.compress_type == zipfile.ZIP_DEFLATED
        return info.filename, json.loads(archive.read(info))


def reference_payload(data: dict[str, object], archive_name: str) -> bytes:
    """What the reference uploads (oqtopus_client's ``_build_zip_payload``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        stem = archive_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        archive.writestr(f"{stem}.json", json.dumps(data))
    return buffer.getvalue()


# Any text JSON can carry: quotes, backslashes, control characters, non-ASCII (no lone
# surrogates, which no JSON encoder writes).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=30,
)  # fmt: skip


@given(st.dictionaries(texts, json_values, max_size=6))
def test_any_job_input_reads_back_exactly(job_input: dict[str, Any]) -> None:
    archive = build_job_archive("uploads/abc.zip", job_input)
    name, content = read_with_zipfile(archive)
    assert name == "abc.json"
    assert content == job_input
    assert read_job_archive(archive) == job_input


@given(st.lists(texts, max_size=20))
def test_program_texts_read_back_exactly(programs: list[str]) -> None:
    archive = build_programs_archive("job.zip", programs)
    assert read_with_zipfile(archive) == ("job.json", {"program": programs})


@pytest.mark.parametrize(
    ("archive_name", "entry"),
    [("a/b/c.zip", "c.json"), ("x.tar.zip", "x.tar.json"), ("noext", "noext.json")],
)
def test_entry_is_named_after_the_key_stem(archive_name: str, entry: str) -> None:
    assert read_with_zipfile(build_job_archive(archive_name, {"program": []}))[0] == entry


def circuit(seed: int, qubits: int = 5, gates: int = 30) -> QuantumCircuit:
    c = QuantumCircuit(qubits)
    for i in range(gates):
        c.add_RZ_gate((seed + i) % qubits, seed / (i + 1) - 3)
        c.add_CNOT_gate(i % qubits, (i + 1) % qubits)
    return c


@settings(max_examples=50)
@given(st.integers(0, 30), st.booleans())
def test_circuits_archive_means_what_the_reference_uploads(count: int, estimate: bool) -> None:
    circuits = [circuit(seed) for seed in range(count)]
    operator = Operator({pauli_label("X0 Z3"): 0.5, pauli_label("Y1"): -2.0 + 0j})
    programs = [reference_qasm(c) for c in circuits]
    job_input: dict[str, object] = {"program": programs}
    if estimate:
        job_input["operator"] = encode_operator(operator)
    ours = build_circuits_archive("in/job.zip", circuits, operator if estimate else None)
    assert read_with_zipfile(ours) == read_with_zipfile(reference_payload(job_input, "job.zip"))
    from_texts = build_programs_archive("job.zip", programs, operator if estimate else None)
    assert read_with_zipfile(from_texts)[1] == job_input


def test_archives_larger_than_one_deflate_chunk_read_back() -> None:
    circuits = [circuit(seed, qubits=64, gates=1000) for seed in range(80)]
    archive = build_circuits_archive("big.zip", circuits)
    _, content = read_with_zipfile(archive)
    assert len(json.dumps(content)) > 3 * 2**20
    assert content == {"program": [reference_qasm(c) for c in circuits]}


def test_refused_gate_in_a_circuit_archive_raises_like_the_writer() -> None:
    bad = QuantumCircuit(1)
    bad.add_SqrtY_gate(0)
    with pytest.raises(NotImplementedError):
        build_circuits_archive("job.zip", [circuit(1), bad])


def python_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_archives_written_by_python_are_read(compression: int) -> None:
    data = python_zip({"result.json": b'{"sampling": {"counts": {"01": 3}}}'}, compression)
    assert read_job_archive(data) == {"sampling": {"counts": {"01": 3}}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "not a valid job archive"),
        (python_zip({"a.json": b"{}", "b.json": b"{}"}), "exactly one file"),
        (python_zip({"a.json": b"{not json"}), "not JSON"),
        (python_zip({"a.json": b"{}"})[:-30], "not a valid job archive"),
    ],
    ids=["garbage", "two-files", "not-json", "truncated"],
)
def test_bad_archives_are_value_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_job_archive(data)
