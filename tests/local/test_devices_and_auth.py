"""Devices, authentication and the error shape of every user-API route."""

from __future__ import annotations

import json

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, unzip_one

JOB = "00000000-0000-4000-8000-000000000000"
USER_ROUTES = [
    ("GET", "/devices"),
    ("GET", "/devices/qulacs"),
    ("POST", "/jobs"),
    ("GET", "/jobs"),
    ("GET", f"/jobs/{JOB}"),
    ("GET", f"/jobs/{JOB}/status"),
    ("POST", f"/jobs/{JOB}/submit"),
    ("POST", f"/jobs/{JOB}/cancel"),
    ("DELETE", f"/jobs/{JOB}"),
    ("GET", f"/jobs/{JOB}/sselog"),
]


def test_devices_list_the_qulacs_simulator_with_every_required_field(api: Api) -> None:
    response = api.get("/devices")
    assert response.status_code == 200
    devices = {d["device_id"]: d for d in response.json()}
    qulacs = devices["qulacs"]
    assert qulacs["device_type"] == "simulator"
    assert qulacs["status"] == "available"
    assert qulacs["n_qubits"] >= 24
    assert isinstance(qulacs["n_pending_jobs"], int)
    assert {"cx", "h", "rz", "sx"} <= set(qulacs["basis_gates"])
    assert qulacs["supported_instructions"] == ["measure", "barrier", "reset"]
    assert qulacs["description"]
    # device_info is a presigned URL of a ZIP holding device_info.json, as the cloud serves it
    archive = requests.get(qulacs["device_info"], timeout=30)
    assert archive.status_code == 200
    assert json.loads(unzip_one(archive.content)[1])["simulator"] == "qulacs"
    assert qulacs["calibrated_at"].endswith("Z")
    assert "execution_delay" not in qulacs


def test_get_device_answers_one_device_and_404_for_an_unknown_one(api: Api) -> None:
    assert api.get("/devices/qulacs").json()["device_id"] == "qulacs"
    missing = api.get("/devices/no-such-device")
    assert missing.status_code == 404
    assert "no-such-device" in missing.json()["message"]


def test_pending_jobs_count_jobs_waiting_for_an_unavailable_device(api: Api) -> None:
    api.set_device("qulacs", status="unavailable")
    before = api.get("/devices/qulacs").json()
    assert before["status"] == "unavailable"
    job_id = api.submit("sampling", {"program": [bell_qasm()]}, shots=10)
    assert api.get("/devices/qulacs").json()["n_pending_jobs"] == before["n_pending_jobs"] + 1
    assert api.status(job_id) == "submitted"
    api.set_device("qulacs", status="available")
    assert api.wait(job_id)["status"] == "succeeded"


@pytest.mark.parametrize(("method", "path"), USER_ROUTES)
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_every_user_route_answers_401_without_the_right_token(
    server: LocalServer, method: str, path: str, token: str | None
) -> None:
    headers = {} if token is None else {"q-api-token": token}
    response = requests.request(method, server.url + path, headers=headers, timeout=10)
    assert response.status_code == 401, (method, path, response.text)
    assert response.json()["message"]


@pytest.mark.parametrize(("method", "path"), USER_ROUTES[4:])
def test_job_routes_answer_404_with_a_message_for_an_unknown_job(
    api: Api, method: str, path: str
) -> None:
    body = {"device_id": "qulacs", "job_type": "sampling", "shots": 1}
    response = api.session.request(method, api.url + path, json=body, timeout=10)
    assert response.status_code == 404, (method, path, response.text)
    assert JOB in response.json()["message"]


def test_a_job_id_that_is_not_a_uuid_is_404(api: Api) -> None:
    response = api.get("/jobs/no-such-job")
    assert response.status_code == 404
    assert response.json() == {"message": "job no-such-job not found"}


def test_unknown_routes_answer_404_in_the_error_shape(api: Api) -> None:
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert set(response.json()) == {"message"}


def test_openapi_document_describes_the_user_api(server: LocalServer) -> None:
    response = requests.get(server.url + "/openapi.json", timeout=10)
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    for path in ("/devices", "/devices/{device_id}", "/jobs", "/jobs/{job_id}/submit"):
        assert path in paths, path
    job = paths["/jobs/{job_id}"]["get"]["responses"]
    assert job["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Job")
    assert set(job) == {"200", "400", "401", "404", "413", "500"}  # 400, not FastAPI's 422
    assert "shots" in document["components"]["schemas"]["SubmitJobRequest"]["properties"]
