"""Presigned storage URLs, the stored input and the registered-job quota."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, bell_qasm, unzip_one, zip_json, zip_members

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


def test_an_input_holding_nan_is_400_naming_it_and_nothing_is_stored(
    server: LocalServer, api: Api
) -> None:
    # The reference client sends a NaN coefficient as it is; stored, no answer could hold it.
    document = b'{"program": ["x"], "operator": [{"pauli": "Z0", "coeff": NaN}]}'
    registered = api.register()
    response = api.upload(registered["presigned_url"], zip_members({"input.json": document}))
    assert response.status_code == 400, response.text
    assert "NaN is not a JSON number" in response.json()["message"]
    assert not (server.data_dir / "jobs" / registered["job_id"] / "input.json").exists()


# -- what an upload may hold and what an owner may keep -----------------------------------


def _stored_bytes(server: LocalServer) -> int:
    return sum(p.stat().st_size for p in server.data_dir.rglob("*") if p.is_file())


def test_a_program_beyond_max_program_bytes_is_400_at_upload_and_nothing_is_stored(
    server: LocalServer, api: Api
) -> None:
    # 61 KB of ZIP held 60 MiB of spaces after "OPENQASM 3;": each upload kept 63 MB.
    document = b'{"program": ["OPENQASM 3;' + b" " * (60 << 20) + b'"]}'
    archive = zip_members({"input.json": document})
    assert len(archive) < 100 << 10
    registered = api.register()
    response = api.upload(registered["presigned_url"], archive)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        f"invalid job input: program[0] is {(60 << 20) + 11} bytes, beyond the limit"
        f" max_program_bytes = {8 << 20}"
    )
    assert list((server.data_dir / "jobs" / registered["job_id"]).iterdir()) == []
    assert list((server.data_dir / "staging").iterdir()) == []


@pytest.fixture(scope="module")
def one_mib_each() -> Iterator[LocalServer]:
    options = {"input_quota_mb": 1, "sse_input_quota_mb": 1}
    with LocalServer(options=options, sse_timeout=60) as local:
        yield local


# A program of 400,000 bytes of text (compressed to a few KB): kept as about 400 KB.
LONG = {"program": ["OPENQASM 3;\n" + "// padding\n" * 36_362]}


def test_an_owners_inputs_stop_at_the_input_quota_until_jobs_are_deleted(
    one_mib_each: LocalServer,
) -> None:
    api = Api(one_mib_each)
    first, second, third = (api.register() for _ in range(3))
    assert api.upload(first["presigned_url"], zip_json(LONG)).status_code == 204
    assert api.upload(second["presigned_url"], zip_json(LONG)).status_code == 204
    refused = api.upload(third["presigned_url"], zip_json(LONG))
    assert refused.status_code == 413, refused.text
    message = refused.json()["message"]
    assert re.fullmatch(
        r"the inputs the user's jobs keep take 8\d{5} bytes; this one's 4\d{5} more would"
        rf" pass input_quota_bytes = {1 << 20}: delete ended jobs to make room",
        message,
    ), message
    assert not (one_mib_each.data_dir / "jobs" / third["job_id"] / "input.json").exists()
    # Uploading again replaces a job's own input: it does not count twice.
    assert api.upload(second["presigned_url"], zip_json(LONG)).status_code == 204
    assert api.delete(f"/jobs/{first['job_id']}").status_code == 200
    assert api.upload(third["presigned_url"], zip_json(LONG)).status_code == 204
    assert api.post(f"/jobs/{third['job_id']}/submit", json=SUBMIT).status_code == 200
    # A submitted job keeps its input, still counted; the legacy submission is bounded too.
    legacy = api.post("/jobs", json={**SUBMIT, "job_info": LONG})
    assert legacy.status_code == 413, legacy.text
    assert "input_quota_bytes" in legacy.json()["message"]


def test_an_sse_programs_jobs_have_an_input_quota_of_their_own(one_mib_each: LocalServer) -> None:
    # An SSE program once stored 189 MB of inputs through the API from its 64 MiB scratch.
    source = (
        "import io, json, os, zipfile, requests\n"
        "s = requests.Session()\n"
        "s.trust_env = False\n"
        "s.headers['q-api-token'] = os.environ['OQTOPUS_API_TOKEN']\n"
        "buffer = io.BytesIO()\n"
        "with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:\n"
        "    program = 'OPENQASM 3;\\n' + '// padding\\n' * 36_362\n"
        "    archive.writestr('input.json', json.dumps({'program': [program]}))\n"
        "for _ in range(4):\n"
        "    form = s.post(os.environ['OQTOPUS_URL'] + '/jobs').json()['presigned_url']\n"
        "    answer = requests.post(form['url'], data=form['fields'],\n"
        "                           files={'file': ('input.zip', buffer.getvalue())})\n"
        "    print('upload', answer.status_code, answer.text, flush=True)\n"
    )
    api = Api(one_mib_each)
    job = api.wait(api.submit("sse", {"sse_program": source}, shots=1), timeout=120)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    log = api.get(f"/jobs/{job['job_id']}/sselog").json()["file"]
    _, text = unzip_one(base64.b64decode(log))
    answers = [
        line.split(" ", 2) for line in text.decode().splitlines() if line.startswith("upload")
    ]
    assert [code for _, code, _ in answers] == ["204", "204", "413", "413"], text
    assert "this SSE program's jobs keep" in answers[2][2]
    assert f"sse_input_quota_bytes = {1 << 20}" in answers[2][2]
