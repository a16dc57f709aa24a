"""Registering, uploading and submitting jobs: the three-step flow and the legacy one."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
import requests

from .helpers import Api, bell_qasm, zip_json, zip_members

SUBMIT = {"device_id": "qulacs", "job_type": "sampling", "shots": 100}


def _registered_with_input(api: Api, job_input: dict[str, Any]) -> str:
    registered = api.register()
    assert api.upload(registered["presigned_url"], zip_json(job_input)).status_code == 204
    job_id: str = registered["job_id"]
    return job_id


def test_register_answers_a_presigned_upload_form_on_this_server(api: Api) -> None:
    registered = api.register()
    presigned = registered["presigned_url"]
    assert presigned["url"].startswith(api.url + "/")
    assert presigned["fields"]["key"].endswith(".zip")
    assert all(isinstance(v, str) for v in presigned["fields"].values())
    job = api.get(f"/jobs/{registered['job_id']}").json()
    assert job["status"] == "registered"


def test_three_step_submission_runs_the_job_and_keeps_every_field(api: Api) -> None:
    job_id = api.submit(
        "sampling",
        {"program": [bell_qasm()]},
        shots=200,
        name="bell",
        description="three steps",
        simulator_info={"seed": 5},
        mitigation_info={"ro_error_mitigation": "pseudo_inverse"},
    )
    job = api.wait(job_id)
    assert job["status"] == "succeeded"
    assert (job["name"], job["description"], job["shots"]) == ("bell", "three steps", 200)
    assert job["job_type"] == "sampling"
    assert job["device_id"] == "qulacs"
    assert job["transpiler_info"] == {
        "transpiler_lib": "qiskit",
        "transpiler_options": {"optimization_level": 1},
    }
    assert job["simulator_info"] == {"seed": 5}
    assert job["mitigation_info"] == {"ro_error_mitigation": "pseudo_inverse"}
    assert job["execution_time"] > 0
    times = [job[k] for k in ("submitted_at", "ready_at", "running_at", "ended_at")]
    assert all(t.endswith("Z") for t in times)
    assert times == sorted(times)
    assert api.fetch(job["job_info"]["input"]) == {"program": [bell_qasm()]}


def test_unnamed_job_has_an_empty_name_and_no_description(api: Api) -> None:
    job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, shots=1))
    assert job["name"] == ""
    assert job["description"] is None


def test_legacy_one_shot_post_creates_and_submits(api: Api) -> None:
    body = {**SUBMIT, "name": "legacy", "job_info": {"program": [bell_qasm()]}}
    response = api.post("/jobs", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"job_id"}
    job = api.wait(response.json()["job_id"])
    assert job["status"] == "succeeded"
    assert job["name"] == "legacy"
    assert set(api.fetch(job["job_info"]["result"])["sampling"]["counts"]) <= {"00", "11"}


def test_legacy_post_with_an_unusable_input_is_400_and_creates_nothing(api: Api) -> None:
    before = len(api.get("/jobs", params={"size": 1000}).json())
    response = api.post("/jobs", json={**SUBMIT, "job_info": {"program": []}})
    assert response.status_code == 400
    assert "program" in response.json()["message"]
    assert len(api.get("/jobs", params={"size": 1000}).json()) == before


def test_transpiler_lib_null_means_no_transpile_result(api: Api) -> None:
    job_id = api.submit(
        "sampling", {"program": [bell_qasm()]}, transpiler_info={"transpiler_lib": None}
    )
    job = api.wait(job_id)
    assert job["transpiler_info"] == {"transpiler_lib": None}
    assert job["job_info"]["transpile_result"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"shots": 0}, "shots"),
        ({"shots": 10_000_001}, "shots"),
        ({"shots": 1.5}, "shots"),
        ({"shots": "10"}, "shots"),
        ({"shots": True}, "shots"),
        ({"job_type": "annealing"}, "job_type"),
        ({"device_id": None}, "device_id"),
        ({"device_id": "no-such-device"}, "no-such-device"),
        ({"transpiler_info": "qiskit"}, "transpiler_info"),
    ],
)
def test_invalid_submit_bodies_are_400_with_a_message(
    api: Api, change: dict[str, Any], reason: str
) -> None:
    job_id = _registered_with_input(api, {"program": [bell_qasm()]})
    response = api.post(f"/jobs/{job_id}/submit", json={**SUBMIT, **change})
    assert response.status_code == 400, response.text
    assert reason in response.json()["message"]
    assert api.status(job_id) == "registered"


@pytest.mark.parametrize(
    ("job_type", "job_input", "reason"),
    [
        ("sampling", {"program": [bell_qasm(), bell_qasm()]}, "exactly one program"),
        ("sampling", {"program": []}, "at least one program"),
        ("estimation", {"program": [bell_qasm()]}, "operator"),
        ("sse", {"program": [bell_qasm()]}, "sse_program"),
    ],
)
def test_input_that_does_not_fit_the_job_type_is_400_at_submit(
    api: Api, job_type: str, job_input: dict[str, Any], reason: str
) -> None:
    job_id = _registered_with_input(api, job_input)
    response = api.post(f"/jobs/{job_id}/submit", json={**SUBMIT, "job_type": job_type})
    assert response.status_code == 400
    assert reason in response.json()["message"]


def test_a_body_that_is_not_json_is_400(api: Api) -> None:
    job_id = _registered_with_input(api, {"program": [bell_qasm()]})
    headers = {"Content-Type": "application/json"}
    response = api.post(f"/jobs/{job_id}/submit", data="{not json", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"message": "invalid request: the body is not valid JSON"}


def test_submit_without_upload_is_400(api: Api) -> None:
    job_id = api.register()["job_id"]
    response = api.post(f"/jobs/{job_id}/submit", json=SUBMIT)
    assert response.status_code == 400
    assert "upload" in response.json()["message"]


def test_second_submit_and_late_upload_are_400(api: Api) -> None:
    registered = api.register()
    archive = zip_json({"program": [bell_qasm()]})
    assert api.upload(registered["presigned_url"], archive).status_code == 204
    job_id = registered["job_id"]
    assert api.post(f"/jobs/{job_id}/submit", json=SUBMIT).status_code == 200
    again = api.post(f"/jobs/{job_id}/submit", json=SUBMIT)
    assert again.status_code == 400
    assert "already submitted" in again.json()["message"]
    assert api.upload(registered["presigned_url"], archive).status_code == 400


def _patched(archive: bytes, header: bytes, offset: int, value: bytes) -> bytes:
    """``archive`` with ``value`` written at ``offset`` of its last ``header`` record."""
    data = bytearray(archive)
    at = data.rfind(header) + offset
    data[at : at + len(value)] = value
    return bytes(data)


_BELL_ZIP = zip_json({"program": [bell_qasm()]})
_LOCAL, _CENTRAL, _END = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
# The "encrypted" flag set in both headers of the one member.
_ENCRYPTED = _patched(_patched(_BELL_ZIP, _LOCAL, 6, b"\x01"), _CENTRAL, 8, b"\x01")
# Deflated data announced as bzip2 (method 12) in both headers.
_NOT_BZIP2 = _patched(_patched(_BELL_ZIP, _LOCAL, 8, b"\x0c"), _CENTRAL, 10, b"\x0c")
# An end record whose central directory starts 4 GiB away.
_FAR_DIRECTORY = _patched(_BELL_ZIP, _END, 16, b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (b"plain bytes", "not a readable ZIP"),
        (_ENCRYPTED, "not a readable ZIP"),
        (_NOT_BZIP2, "not a readable ZIP"),
        (_FAR_DIRECTORY, "not a readable ZIP"),
        (zip_members({"a.json": b"{}", "b.json": b"{}"}), "exactly one file"),
        (zip_members({"../../etc/input.json": b"{}"}), "plain file name"),
        (zip_members({"input.json": b'{"program": "not a list"}'}), "program"),
        # 70 MiB of spaces deflate to ~70 KiB: a bomb beyond the 64 MiB JSON bound.
        (zip_members({"input.json": b"{" + b" " * (70 * 1024 * 1024) + b"}"}), "expands beyond"),
    ],
    ids=[
        "not-zip",
        "encrypted",
        "bad-bzip2",
        "far-directory",
        "two-files",
        "traversal",
        "wrong-type",
        "bomb",
    ],
)
def test_uploads_that_are_not_one_valid_json_file_are_400(
    api: Api, archive: bytes, reason: str
) -> None:
    registered = api.register()
    response = api.upload(registered["presigned_url"], archive)
    assert response.status_code == 400, response.text
    assert reason in response.json()["message"]


def test_oversized_upload_is_413(api: Api) -> None:
    registered = api.register()
    response = api.upload(registered["presigned_url"], os.urandom(17 * 1024 * 1024))
    assert response.status_code == 413
    assert "exceeds" in response.json()["message"]


def test_upload_without_content_length_is_400(api: Api) -> None:
    registered = api.register()
    presigned = registered["presigned_url"]
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in presigned["fields"].items()
    ]
    body = "".join(parts).encode() + f"--{boundary}--\r\n".encode()
    response = requests.post(
        presigned["url"],
        data=iter([body]),  # a generator body goes out chunked, without Content-Length
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["message"]


@pytest.mark.parametrize("field", ["key", "signature", "policy", "AWSAccessKeyId"])
def test_upload_with_a_tampered_field_is_refused(api: Api, field: str) -> None:
    registered = api.register()
    presigned = registered["presigned_url"]
    fields = {**presigned["fields"], field: presigned["fields"][field] + "x"}
    tampered = {**presigned, "fields": fields}
    response = api.upload(tampered, zip_json({"program": [bell_qasm()]}))
    assert response.status_code in {400, 403}
    assert response.json()["message"]


def test_upload_needs_no_token_and_a_download_url_needs_its_signature(api: Api) -> None:
    job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, shots=1))
    url = job["job_info"]["result"]
    assert requests.get(url, timeout=10).status_code == 200
    forged = url.split("signature=")[0] + "signature=" + base64.b16encode(b"x" * 20).decode()
    assert requests.get(forged, timeout=10).status_code == 403
