"""SSE jobs: uploaded Python programs run in a limited child process and submit jobs."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from collections.abc import Iterator

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api, sampling_program, unzip_one


def _run_sse(api: Api, source: str, **fields: object) -> str:
    return api.submit("sse", {"sse_program": source}, shots=1, **fields)


def _log_line(log: str, prefix: str) -> str:
    return next(line for line in log.splitlines() if line.startswith(prefix)).split()[-1]


def test_sse_program_runs_a_sampling_job_and_its_result_is_the_sse_result(api: Api) -> None:
    job_id = _run_sse(api, sampling_program(), name="sse-sampling")
    job = api.wait(job_id, timeout=120)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert job["execution_time"] > 0
    assert api.fetch(job["job_info"]["result"]) == {
        "sampling": {"counts": {"10": 64}, "divided_counts": None}
    }
    response = requests.get(job["job_info"]["sse_log"], timeout=10)
    assert response.headers["content-type"] == "application/zip"
    name, data = unzip_one(response.content)
    assert name == f"sselog_{job_id}.log"
    log = data.decode()
    assert "done with succeeded" in log
    child = api.get(f"/jobs/{_log_line(log, 'child')}").json()
    assert child["device_id"] == "qulacs"  # the SSE job's device, not the "sse" it named
    assert child["name"] == "from sse"
    # The SSE token dies with the job.
    stale = Api.__new__(Api)
    stale.url, stale.session = api.url, requests.Session()
    stale.session.headers["q-api-token"] = _log_line(log, "token")
    assert stale.get("/devices").status_code == 401


@pytest.mark.timing
def test_sselog_route_answers_the_same_archive_base64_encoded(api: Api) -> None:
    job_id = _run_sse(api, "print('hello from the program')")
    job = api.wait(job_id, timeout=60)
    legacy = api.get(f"/jobs/{job_id}/sselog").json()
    assert legacy["file_name"] == f"sselog_{job_id}.log"
    archive = base64.b64decode(legacy["file"])
    assert archive == requests.get(job["job_info"]["sse_log"], timeout=10).content
    time.sleep(2.1)  # ZIP times have a 2 s resolution: a time-stamped archive would differ
    assert base64.b64decode(api.get(f"/jobs/{job_id}/sselog").json()["file"]) == archive
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert b"hello from the program" in opened.read(opened.namelist()[0])
    assert job["job_info"]["result"] is None


def test_sse_program_never_sees_the_server_token(api: Api, server: LocalServer) -> None:
    source = "import os\nfor key, value in sorted(os.environ.items()):\n    print(key, value)\n"
    job = api.wait(_run_sse(api, source), timeout=60)
    assert job["status"] == "succeeded"
    _, log = unzip_one(requests.get(job["job_info"]["sse_log"], timeout=10).content)
    assert b"OQTOPUS_URL " + server.url.encode() in log
    assert server.token.encode() not in log


def test_sselog_of_a_sampling_job_is_400(api: Api) -> None:
    job_id = api.submit("sampling", {"program": ["OPENQASM 3;\nqubit[1] q;"]}, shots=1)
    assert api.get(f"/jobs/{job_id}/sselog").status_code == 400


def test_failing_sse_program_fails_with_the_tail_of_its_log(api: Api) -> None:
    source = "print('about to fail')\nraise RuntimeError('the user program broke')\n"
    job = api.wait(_run_sse(api, source), timeout=60)
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "exited with code 1" in message
    assert "RuntimeError: the user program broke" in message
    assert job["job_info"]["result"] is None
    assert job["job_info"]["sse_log"] is not None


def test_sse_program_over_its_memory_limit_fails(api: Api) -> None:
    source = "blob = bytearray(6 * 1024 ** 3)\n"
    job = api.wait(_run_sse(api, source), timeout=60)
    assert job["status"] == "failed"
    assert "MemoryError" in job["job_info"]["message"]


@pytest.mark.timing
def test_a_running_sse_program_can_be_cancelled(api: Api) -> None:
    # The program would sleep past the session server's 60 s SSE limit (then the job would
    # fail naming it): only the cancel's kill ends it as "cancelled".
    job_id = _run_sse(api, "import time\nprint('sleeping', flush=True)\ntime.sleep(3600)\n")
    api.wait_for(job_id, {"running"})
    assert api.post(f"/jobs/{job_id}/cancel").status_code == 200
    job = api.wait(job_id, timeout=120)  # only stops a hang
    assert job["status"] == "cancelled", job["job_info"]["message"]


@pytest.fixture(scope="module")
def impatient_server() -> Iterator[LocalServer]:
    # Long enough for the sandbox and the interpreter to start and print on a loaded core.
    with LocalServer(sse_timeout=5) as local:
        yield local


@pytest.mark.timing
def test_sse_program_over_its_time_limit_is_killed_and_fails(impatient_server: LocalServer) -> None:
    api = Api(impatient_server)
    job = api.wait(_run_sse(api, "import time\nprint('start', flush=True)\ntime.sleep(60)\n"))
    assert job["status"] == "failed"
    assert "time limit of 5 s" in job["job_info"]["message"]
    assert "start" in job["job_info"]["message"]


def test_sse_result_is_the_last_jobs_result_of_several(api: Api) -> None:
    source = sampling_program("x q[1];") + sampling_program("x q[0];\\nx q[1];")
    job = api.wait(_run_sse(api, source), timeout=120)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert api.fetch(job["job_info"]["result"])["sampling"]["counts"] == {"11": 64}


def test_an_sse_program_cannot_start_sse_jobs_or_use_admin_routes(api: Api) -> None:
    source = (
        "import os, requests\n"
        "s = requests.Session()\n"
        "s.trust_env = False\n"
        "s.headers['q-api-token'] = os.environ['OQTOPUS_API_TOKEN']\n"
        "url = os.environ['OQTOPUS_URL']\n"
        "body = {'device_id': 'qulacs', 'job_type': 'sse', 'shots': 1,\n"
        "        'job_info': {'sse_program': 'print(1)'}}\n"
        "print('nested', s.post(url + '/jobs', json=body).status_code)\n"
        "print('admin', s.get(url + '/_admin/faults').status_code)\n"
    )
    job = api.wait(_run_sse(api, source), timeout=60)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    _, log = unzip_one(requests.get(job["job_info"]["sse_log"], timeout=10).content)
    assert b"nested 400" in log
    assert b"admin 401" in log


def test_sse_program_flooding_its_log_is_stopped_by_the_file_limit(api: Api) -> None:
    source = "import sys\nline = 'x' * 1023 + '\\n'\nwhile True:\n    sys.stdout.write(line)\n"
    job = api.wait(_run_sse(api, source), timeout=60)
    assert job["status"] == "failed"
    assert "the log reached its limit" in job["job_info"]["message"]
