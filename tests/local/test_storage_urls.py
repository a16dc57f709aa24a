"""Presigned storage URLs, the stored input and the registered-job quota."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, zip_json, zip_members

BELL = {"program": [bell_qasm()]}
SUBMIT = {"device_id": "qulacs", "job_type": "sampling", "shots": 10}


@pytest.fixture(scope="module")
def short_lived() -> Iterator[LocalServer]:
    with LocalServer(options={"presign_ttl": 3}) as local:
        yield local


@pytest.fixture(scope="module")
def quota() -> Iterator[LocalServer]:
    with LocalServer(options={"max_registered_jobs": 3}) as local:
        yield local


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(options={"public_url": "https://oqtopus.example:8443/"}) as local:
        yield local


def test_a_forged_host_header_gets_urls_of_the_server_not_of_that_host(api: Api) -> None:
    forged = {"Host": "attacker.example:9999"}
    registered = api.post("/jobs", headers=forged).json()
    assert registered["presigned_url"]["url"].startswith(f"{api.url}/_storage/")
    job_id = registered["job_id"]
    assert api.upload(registered["presigned_url"], zip_json(BELL)).status_code == 204
    assert api.post(f"/jobs/{job_id}/submit", json=SUBMIT, headers=forged).status_code == 200
    api.wait(job_id)
    for job in (
        api.get(f"/jobs/{job_id}", headers=forged).json(),
        *api.get("/jobs", params={"q": job_id}, headers=forged).json(),
    ):
        for name in ("input", "result"):
            assert job["job_info"][name].startswith(f"{api.url}/_storage/"), job["job_info"]


def test_the_configured_public_url_starts_every_url_handed_out(published: LocalServer) -> None:
    api = Api(published)
    registered = api.register()
    assert registered["presigned_url"]["url"] == "https://oqtopus.example:8443/_storage/upload"
    # The form itself is good: posted to the real address, it is accepted.
    local_form = {**registered["presigned_url"], "url": f"{api.url}/_storage/upload"}
    assert api.upload(local_form, zip_json(BELL)).status_code == 204
    job = api.get(f"/jobs/{registered['job_id']}").json()
    assert job["job_info"]["input"].startswith("https://oqtopus.example:8443/_storage/jobs/")


@pytest.mark.timing
def test_an_upload_form_past_its_expiry_is_403(short_lived: LocalServer) -> None:
    api = Api(short_lived)
    registered = api.register()
    time.sleep(4)  # the forms of this server live 3 s
    response = api.upload(registered["presigned_url"], zip_json(BELL))
    assert response.status_code == 403, response.text
    assert "expired at" in response.json()["message"]


@pytest.mark.timing
def test_a_download_url_past_its_expiry_is_403_and_its_expiry_is_signed(
    short_lived: LocalServer,
) -> None:
    api = Api(short_lived)
    job = api.wait(api.submit("sampling", BELL, shots=1))
    url = job["job_info"]["result"]
    assert requests.get(url, timeout=10).status_code == 200
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    later = url.replace(f"expires={expires}", f"expires={int(expires) + 3600}")
    assert requests.get(later, timeout=10).status_code == 403
    time.sleep(max(0.0, int(expires) - time.time()) + 1)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403
    assert "expired at" in expired.json()["message"]
    fresh = api.get(f"/jobs/{job['job_id']}").json()["job_info"]["result"]
    assert requests.get(fresh, timeout=10).status_code == 200


def test_an_input_with_an_unknown_key_is_400_naming_it_and_nothing_is_stored(
    server: LocalServer, api: Api
) -> None:
    # 63 MiB of padding deflate to a small ZIP; today all of it is stored with the job.
    padding = b'"' + b" " * (63 << 20) + b'"'
    archive = zip_members({"input.json": b'{"program": ["x"], "padding": ' + padding + b"}"})
    assert len(archive) < 100 << 10
    registered = api.register()
    response = api.upload(registered["presigned_url"], archive)
    assert response.status_code == 400, response.text
    assert "unknown key 'padding'" in response.json()["message"]
    assert not (server.data_dir / "jobs" / registered["job_id"] / "input.json").exists()


def test_an_unknown_key_of_an_operator_term_is_refused_too(api: Api) -> None:
    job_input = {**BELL, "operator": [{"pauli": "Z0", "coeff": 1.0, "note": "x" * 1000}]}
    registered = api.register()
    response = api.upload(registered["presigned_url"], zip_json(job_input))
    assert response.status_code == 400
    assert "unknown key 'operator.0.note'" in response.json()["message"]


def test_registered_jobs_past_the_quota_are_429_until_one_is_submitted_or_deleted(
    quota: LocalServer,
) -> None:
    api = Api(quota)
    waiting = [api.register() for _ in range(3)]
    refused = api.post("/jobs")
    assert refused.status_code == 429
    assert "3 jobs are registered and not submitted" in refused.json()["message"]
    assert api.delete(f"/jobs/{waiting[0]['job_id']}").status_code == 200
    fourth = api.register()
    assert api.post("/jobs").status_code == 429
    assert api.upload(fourth["presigned_url"], zip_json(BELL)).status_code == 204
    assert api.post(f"/jobs/{fourth['job_id']}/submit", json=SUBMIT).status_code == 200
    assert api.post("/jobs").status_code == 200
