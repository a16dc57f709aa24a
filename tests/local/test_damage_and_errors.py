"""Out-of-range filters, what a 500 says about its connection, and damaged stored state."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from fastapi import FastAPI

from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.errors import install_error_handlers

from .helpers import Api, bell_qasm, zip_json

BELL = {"program": [bell_qasm()]}


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(inline_job_info=True) as local:
        yield local


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("start_time", "9999-12-31T23:59:59-23:59"),  # past year 9999 once in UTC
        ("end_time", "9999-12-31T23:59:59-23:59"),
        ("start_time", "0001-01-01T00:00:00+23:59"),  # before year 1 in UTC
        ("end_time", "0001-01-01 00:00:00 23:59"),  # an unencoded '+'
    ],
)
def test_a_time_filter_out_of_range_is_400_naming_it(api: Api, name: str, value: str) -> None:
    response = api.get("/jobs", params={name: value})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert name in message
    assert "out of range" in message


def _damage(server: LocalServer, job_id: str, file: str) -> None:
    path = server.data_dir / "jobs" / job_id / file
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_truncated_result_fails_that_job_with_a_500_naming_it_not_the_list(
    inline: LocalServer,
) -> None:
    api = Api(inline)
    tag = "damaged-list"
    good = api.wait(api.submit("sampling", BELL, shots=10, name=f"{tag}-good"))
    bad = api.wait(api.submit("sampling", BELL, shots=10, name=f"{tag}-bad"))
    _damage(inline, bad["job_id"], "result.json")

    listed = {job["job_id"]: job for job in api.get("/jobs", params={"q": tag}).json()}
    assert listed[good["job_id"]] == good
    damaged = listed[bad["job_id"]]["job_info"]
    assert damaged["result"] is None
    assert f"the stored result of job {bad['job_id']} is unreadable" in damaged["message"]
    assert damaged["input"] == BELL

    answer = api.get(f"/jobs/{bad['job_id']}")
    assert answer.status_code == 500
    assert f"the stored result of job {bad['job_id']} is unreadable" in answer.json()["message"]
    assert api.get(f"/jobs/{good['job_id']}").json() == good


def test_a_stored_result_holding_nan_is_damage_of_that_job_and_the_list_answers(
    inline: LocalServer,
) -> None:
    # What an older server wrote for an estimation that overflowed.
    api = Api(inline)
    tag = "nan-result"
    job = api.wait(api.submit("sampling", BELL, shots=10, name=tag))
    stored = inline.data_dir / "jobs" / job["job_id"] / "result.json"
    stored.write_text('{"estimation": {"exp_value": 0.0, "stds": NaN}}', encoding="utf-8")
    listed = api.get("/jobs", params={"q": tag})
    assert listed.status_code == 200, listed.text
    (shown,) = listed.json()
    assert shown["job_info"]["result"] is None
    assert "NaN is not a JSON number" in shown["job_info"]["message"]


def test_a_submit_whose_info_holds_nan_is_400_naming_it_and_the_list_answers(
    inline: LocalServer,
) -> None:
    api = Api(inline)
    registered = api.register()
    assert api.upload(registered["presigned_url"], zip_json(BELL)).status_code == 204
    body = (
        '{"device_id": "qulacs", "job_type": "sampling", "shots": 1,'
        ' "simulator_info": {"a": [1, NaN]}}'
    )
    refused = api.post(f"/jobs/{registered['job_id']}/submit", data=body,
                       headers={"content-type": "application/json"})  # fmt: skip
    assert refused.status_code == 400, refused.text
    assert "simulator_info" in refused.json()["message"]
    assert "a.1 is nan, not a finite number" in refused.json()["message"]
    assert api.get("/jobs").status_code == 200
    assert api.status(registered["job_id"]) == "registered"


def test_every_500_says_connection_close(inline: LocalServer) -> None:
    api = Api(inline)
    job = api.wait(api.submit("sampling", BELL, shots=10))
    _damage(inline, job["job_id"], "result.json")
    answer = api.get(f"/jobs/{job['job_id']}")  # on the session's kept-alive connection
    assert answer.status_code == 500
    assert answer.headers["connection"] == "close"
    assert api.get("/devices").status_code == 200  # and the session goes on, on a new one


def test_a_truncated_archive_is_a_500_naming_the_job_and_an_intact_one_is_served(
    server: LocalServer, api: Api
) -> None:
    job = api.wait(api.submit("sampling", BELL, shots=10))
    _damage(server, job["job_id"], "result.zip")
    response = requests.get(job["job_info"]["result"], timeout=10)
    assert response.status_code == 500
    assert f"the stored result of job {job['job_id']} is unreadable" in response.json()["message"]
    assert response.headers["connection"] == "close"
    # The input's archive is whole: a damaged JSON copy beside it does not matter.
    _damage(server, job["job_id"], "input.json")
    assert api.fetch(job["job_info"]["input"]) == BELL


def test_submitting_a_job_whose_stored_input_is_damaged_is_a_500_naming_it(
    server: LocalServer, api: Api
) -> None:
    registered = api.register()
    assert api.upload(registered["presigned_url"], zip_json(BELL)).status_code == 204
    job_id = registered["job_id"]
    _damage(server, job_id, "input.json")
    body = {"device_id": "qulacs", "job_type": "sampling", "shots": 1}
    response = api.post(f"/jobs/{job_id}/submit", json=body)
    assert response.status_code == 500
    assert f"the stored input of job {job_id} is unreadable" in response.json()["message"]


def _stopped_with_a_job(data_dir: Path) -> None:
    with LocalServer(data_dir=data_dir) as local:
        api = Api(local)
        api.wait(api.submit("sampling", BELL, shots=1))


@pytest.mark.parametrize("damage", ["empty", "missing"])
def test_a_data_dir_whose_database_is_gone_is_refused_at_start(tmp_path: Path, damage: str) -> None:
    data_dir = tmp_path / "data"
    _stopped_with_a_job(data_dir)
    database = data_dir / "oqtopus-local.sqlite3"
    for leftover in data_dir.glob("oqtopus-local.sqlite3-*"):  # WAL files
        leftover.unlink()
    if damage == "empty":
        database.write_bytes(b"")
    else:
        database.unlink()
    shown = "is empty (0 bytes)" if damage == "empty" else "is missing"
    expected = f"oqtopus-local: the database {database} {shown} while 1 job directories"
    with pytest.raises(RuntimeError, match=re.escape(expected)) as refused:
        LocalServer(data_dir=data_dir).start()
    assert "Traceback" not in str(refused.value)


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "quri_parts_oqtopus.local.cli", "serve", "--port", str(port),
             "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    # Before: a 12-line traceback ending in "OSError: [Errno 98] Address already in use".
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"oqtopus-local: cannot listen on 127.0.0.1:{port}: Address already in use"
        " (another server on it? --port 0 picks a free one)"
    )


def test_an_empty_data_dir_still_starts(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "oqtopus-local.sqlite3").write_bytes(b"")  # nothing to lose
    with LocalServer(data_dir=tmp_path / "data") as local:
        assert Api(local).get("/devices").status_code == 200


def test_an_unexpected_exception_is_a_500_that_says_connection_close() -> None:
    # The server's error handlers on a bare app with a route that fails, over loopback.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/boom"
        response = requests.get(url, timeout=10)
        assert response.status_code == 500
        assert response.json() == {"message": "internal server error: RuntimeError"}
        assert response.headers["connection"] == "close"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
