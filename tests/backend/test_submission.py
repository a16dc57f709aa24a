"""``backend/submission.py``: ``JobSettings`` holds the fields of the contract's
``SubmitBody`` (but the job type, which each job kind adds), and its body is one."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import PAULI_IDENTITY, Operator, pauli_label

from quri_parts_oqtopus._contract import SUBMIT_FIELDS, SubmitBody
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusEstimationBackend, OqtopusSseBackend
from quri_parts_oqtopus.backend.submission import JobSettings
from quri_parts_oqtopus.operator import encode_operator
from quri_parts_oqtopus.qasm import convert_to_qasm_str
from quri_parts_oqtopus.transport import MockResponse, MockTransport
from quri_parts_oqtopus.upload import (
    prepare_estimation_input,
    prepare_programs_input,
    prepare_sse_input,
    read_archive_entry,
)

from ..local.helpers import memory_mib

#: What JobSettings.checked takes besides the settings: the start of its error messages.
#: Parameters of ``checked`` that are not fields: message text, and tags (folded into the
#: description).
NOT_SETTINGS = {"summary", "tags"}


def test_the_settings_are_the_submit_fields_but_the_job_type_in_the_contracts_order() -> None:
    settings = [field.name for field in dataclasses.fields(JobSettings)]
    assert settings == [name for name in SUBMIT_FIELDS if name != "job_type"]


def test_checked_takes_each_setting_by_its_name() -> None:
    parameters = inspect.signature(JobSettings.checked).parameters
    settings = [field.name for field in dataclasses.fields(JobSettings)]
    assert [name for name in parameters if name not in NOT_SETTINGS] == settings


def test_the_body_holds_every_setting_given_and_the_required_fields() -> None:
    info = {"seed": 1}
    settings = JobSettings.checked("qulacs", 10, name="n", description="d", simulator_info=info)
    body = settings.body("sampling")
    assert set(body) == set(SUBMIT_FIELDS)
    assert SubmitBody.__required_keys__ <= set(JobSettings.checked("qulacs", 10).body("sampling"))


# -- every job kind's input goes one route: a native JobInput, uploaded as before ----------

API, STORAGE, TOKEN = "https://oqtopus.example", "https://storage.example", "mock-token-0123"


class UploadRecorder:
    """Just enough of the API to register, upload and submit one job; keeps the upload."""

    def __init__(self, job_type: str) -> None:
        self.job_type = job_type
        self.uploaded = b""

    def __call__(self, request: requests.PreparedRequest) -> MockResponse:
        url = (request.url or "").split("?")[0]
        if url == f"{STORAGE}/upload":
            body = request.body if isinstance(request.body, bytes) else b""
            self.uploaded = body[body.index(b"PK\x03\x04") :]
            return MockResponse(204)
        upload = {"url": f"{STORAGE}/upload", "fields": {"key": "j-1/input.zip"}}
        job = {"job_id": "j-1", "job_type": self.job_type, "status": "submitted", "job_info": {}}
        answers = {
            f"{API}/jobs": {"job_id": "j-1", "presigned_url": upload},
            f"{API}/jobs/j-1/submit": {"message": "job submitted"},
            f"{API}/jobs/j-1": job,
        }
        return MockResponse(200, answers[url])

    def document(self) -> bytes:
        """The JSON bytes inside the uploaded archive."""
        name, content = read_archive_entry(self.uploaded)
        assert name == "input.json"
        return content


def _config(recorder: UploadRecorder) -> OqtopusConfig:
    return OqtopusConfig(API, TOKEN, adapter=MockTransport(recorder))


def _bell_qasm() -> str:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return convert_to_qasm_str(circuit)


def test_an_estimation_uploads_the_same_json_bytes_as_before() -> None:
    operator = Operator(
        {pauli_label("X0 Z1"): 0.5, pauli_label("Y1"): -2.0 + 0j, PAULI_IDENTITY: 3}
    )
    recorder = UploadRecorder("estimation")
    OqtopusEstimationBackend(_config(recorder)).estimate_qasm(_bell_qasm(), operator, "qpu", 100)
    before = {"program": [_bell_qasm()], "operator": encode_operator(operator)}
    assert recorder.document() == orjson.dumps(before)


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["X0", "Y1 Z2", "Z0 Z3", "X2 Y3 Z4", ""]),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        min_size=1,
    )
)
def test_an_estimation_document_means_what_it_did_and_spells_numbers_as_the_reference(
    terms: dict[str, float],
) -> None:
    operator = Operator(
        {pauli_label(label) if label else PAULI_IDENTITY: c for label, c in terms.items()}
    )
    document = prepare_estimation_input("OPENQASM 3;", operator).document()
    before = {"program": ["OPENQASM 3;"], "operator": encode_operator(operator)}
    assert orjson.loads(document) == before
    # Floats as Python's repr writes them (the reference's json.dumps): 1e-07, not 1e-7.
    assert document == json.dumps(before, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=50, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_an_sse_document_is_the_bytes_orjson_wrote_before(source: str) -> None:
    assert prepare_sse_input(source).document() == orjson.dumps({"sse_program": source})


def test_an_sse_job_uploads_the_same_json_bytes_as_before(tmp_path: Path) -> None:
    source = 'print("é\\t\\u0001")\n# "quoted" \\ back\n'
    program = tmp_path / "program.py"
    program.write_text(source, encoding="utf-8")
    recorder = UploadRecorder("sse")
    OqtopusSseBackend(_config(recorder)).run_sse(str(program), "qpu", "name")
    assert recorder.document() == orjson.dumps({"sse_program": source})


@pytest.mark.parametrize("tags", [None, ["a"]])
@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("value", [b"bytes", 5])
def test_a_name_or_description_that_is_no_string_is_refused_naming_it(
    field: str, value: object, tags: list[str] | None
) -> None:
    # With tags, a description used to become text ("b'bytes'"); without, the server refused
    # it after the job was registered.
    fields: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=f"{field} should be a string or None: {value!r}"):
        JobSettings.checked("qulacs", 10, tags=tags, **fields)


def test_an_input_document_is_inflated_straight_into_its_bytes_object() -> None:
    # An SSE container hands each job's document over without a ZIP; it used to be inflated
    # into a buffer of its own and copied into the bytes, so it existed twice at its peak.
    clear_refs = Path("/proc/self/clear_refs")
    if not clear_refs.exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak")
    size = 64 << 20
    job_input = prepare_programs_input(["x q[0];\n" * (size // 8)])
    clear_refs.write_text("5")  # the peak so far is forgotten
    before = memory_mib(os.getpid(), "VmRSS")
    document = job_input.document()
    growth = (memory_mib(os.getpid(), "VmHWM") - before) * (1 << 20)
    assert len(document) > size
    assert growth < 1.25 * len(document), f"peak grew {growth / len(document):.2f} times"
