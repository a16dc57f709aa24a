"""The admin switch: device fields and injected faults."""

from __future__ import annotations

import json
import time

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, zip_json


def _rules(api: Api) -> list[dict[str, object]]:
    response = api.get("/_admin/faults")
    assert response.status_code == 200
    rules: list[dict[str, object]] = response.json()["rules"]
    return rules


def test_admin_routes_need_the_server_token(server: LocalServer) -> None:
    for method, path in [("GET", "/_admin/faults"), ("PUT", "/_admin/devices/qulacs")]:
        response = requests.request(method, server.url + path, json={}, timeout=10)
        assert response.status_code == 401
        assert response.json()["message"]


def test_a_fault_answers_its_raw_response_then_the_real_one(api: Api) -> None:
    rule = {
        "method": "GET",
        "path": "^/devices$",
        "status": 500,
        "body": '{"message": "disk on fire"}',
    }
    added = api.post("/_admin/faults", json=rule)
    assert added.status_code == 200
    faulty = api.get("/devices")
    assert faulty.status_code == 500
    assert faulty.json() == {"message": "disk on fire"}
    assert api.get("/devices").status_code == 200
    assert [r["fired"] for r in _rules(api)] == [1]


def test_faults_can_send_malformed_json_with_any_content_type(api: Api) -> None:
    rule = {"path": "^/jobs$", "status": 200, "body": "{not json", "content_type": "text/plain"}
    api.post("/_admin/faults", json={"rules": [rule]})
    response = api.get("/jobs")
    assert response.text == "{not json"
    assert response.headers["content-type"].startswith("text/plain")


def test_a_forever_rule_fires_until_cleared_and_method_is_a_regex(api: Api) -> None:
    rule = {"method": "GET|DELETE", "path": "/status$", "status": 503, "body": "", "times": -1}
    api.post("/_admin/faults", json=rule)
    job_id = api.register()["job_id"]
    assert [api.get(f"/jobs/{job_id}/status").status_code for _ in range(3)] == [503] * 3
    assert api.post(f"/jobs/{job_id}/cancel").status_code == 400  # POST does not match
    assert _rules(api)[0]["fired"] == 3
    assert api.delete("/_admin/faults").status_code == 200
    assert api.get(f"/jobs/{job_id}/status").status_code == 200
    assert _rules(api) == []


@pytest.mark.timing
def test_a_delay_only_rule_slows_the_real_answer(api: Api) -> None:
    api.post("/_admin/faults", json={"method": "GET", "path": "^/devices/qulacs$", "delay": 0.5})
    started = time.monotonic()
    response = api.get("/devices/qulacs")
    assert time.monotonic() - started >= 0.5
    assert response.json()["device_id"] == "qulacs"


def test_an_upload_fault_fails_the_presigned_post(api: Api) -> None:
    api.post(
        "/_admin/faults",
        json={
            "method": "POST",
            "path": "^/_storage/",
            "status": 403,
            "body": "<Error>denied</Error>",
        },
    )
    registered = api.register()
    failed = api.upload(registered["presigned_url"], zip_json({"program": [bell_qasm()]}))
    assert failed.status_code == 403
    assert "denied" in failed.text
    passed = api.upload(registered["presigned_url"], zip_json({"program": [bell_qasm()]}))
    assert passed.status_code == 204


def test_invalid_rules_are_400(api: Api) -> None:
    for rule in ({"path": "("}, {"path": "x", "method": "["}, {"path": "x", "status": 42}, {}):
        response = api.post("/_admin/faults", json=rule)
        assert response.status_code == 400, rule
        assert response.json()["message"]


def test_admin_sets_device_fields_and_creates_devices(api: Api) -> None:
    changed = api.put(
        "/_admin/devices/qulacs",
        json={"status": "unavailable", "available_at": "2030-01-01T00:00:00Z"},
    )
    assert changed.status_code == 200
    device = api.get("/devices/qulacs").json()
    assert (device["status"], device["available_at"]) == ("unavailable", "2030-01-01T00:00:00Z")
    created = api.put("/_admin/devices/extra-sim", json={"n_qubits": 5, "device_type": "QPU"})
    assert created.status_code == 200
    extra = api.get("/devices/extra-sim").json()
    assert (extra["n_qubits"], extra["device_type"], extra["status"]) == (5, "QPU", "available")
    assert api.put("/_admin/devices/qulacs", json={"status": "broken"}).status_code == 400


@pytest.mark.timing
def test_jobs_of_an_unavailable_device_wait_in_submitted_until_it_returns(api: Api) -> None:
    api.set_device("qulacs", status="unavailable")
    api.set_device("spare", status="available")  # switched off again by the fixture
    job_id = api.submit("sampling", {"program": [bell_qasm()]}, shots=1)
    # A job submitted later to an available device has run: the scheduler has looked at
    # the first one since, however slow the machine.
    later = api.submit("sampling", {"program": [bell_qasm()]}, shots=1, device_id="spare")
    assert api.wait(later)["status"] == "succeeded"
    assert api.status(job_id) == "submitted"
    api.set_device("qulacs", status="available")
    assert api.wait(job_id)["status"] == "succeeded"


def test_a_small_device_fails_programs_too_big_for_it(api: Api) -> None:
    api.set_device("tiny", n_qubits=1)
    job_id = api.submit("sampling", {"program": [bell_qasm()]}, device_id="tiny")
    job = api.wait(job_id)
    assert job["status"] == "failed"
    assert "the device has 1" in job["job_info"]["message"]


def test_a_device_change_whose_calibration_leaves_a_channel_undefined_is_400_naming_it(
    api: Api,
) -> None:
    qubits = [{"id": 0, "qubit_lifetime": {"t1": 0.0001}, "gate_duration": {"sx": 30}}]
    info = json.dumps({"qubits": qubits}).replace('"qubits"', '"qubit\\u0073"')
    refused = api.put("/_admin/devices/t1-tiny", json={"n_qubits": 1, "device_info": info})
    assert refused.status_code == 400, refused.text
    assert "qubit 0: gate_duration.sx and qubit_lifetime.t1" in refused.json()["message"]
    assert api.get("/devices/t1-tiny").status_code == 404
    wrong_width = json.dumps({"qubits": [{"id": 0}, {"id": 1}]})
    refused = api.put("/_admin/devices/t1-tiny", json={"n_qubits": 5, "device_info": wrong_width})
    assert refused.status_code == 400
    assert "n_qubits is 5 but its device_info calibrates 2 qubits" in refused.json()["message"]
