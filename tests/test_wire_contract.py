"""The wire contract as the real OQTOPUS speaks it, against a scripted server on loopback.

The service (FastAPI) answers a refused body with a 422 ``{"detail": [{"loc", "msg"}]}``,
a refused token with ``{"detail": "..."}``, its own errors with ``{"message": ...}`` (a
500 may carry a ``message_code``), and leaves the optional presigned ``fields`` null.
Each becomes one readable message; the local server hands out uuid7 job ids as it does.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.upload import prepare_programs_input

from .http_stub import Received, Reply, StubServer, json_reply

FASTAPI_422 = {
    "detail": [
        {"type": "missing", "loc": ["body", "device_id"], "msg": "Field required", "input": {}},
        {
            "type": "greater_than_equal",
            "loc": ["body", "shots"],
            "msg": "Input should be greater than or equal to 1",
            "input": 0,
        },
    ]
}


def client_for(stub: StubServer) -> OqtopusHttpClient:
    return OqtopusHttpClient(OqtopusConfig(stub.url, "t0k3n-wire", retries=0))


def answering(reply: Reply) -> StubServer:
    return StubServer(lambda request: reply)


def test_a_fastapi_422_names_each_refused_field_in_one_line() -> None:
    with answering(json_reply(FASTAPI_422, 422)) as stub, pytest.raises(BackendError) as raised:
        client_for(stub).get_job("job-1")
    message = str(raised.value)
    assert message == (
        "get job job-1 failed: HTTP 422: device_id: Field required; "
        "shots: Input should be greater than or equal to 1"
    )
    assert "\n" not in message
    assert "[{" not in message  # not the raw list


@pytest.mark.parametrize(
    ("status", "detail"),
    [(401, "Not authenticated"), (403, "Invalid API token: it has expired")],
)
def test_a_401_or_403_detail_is_the_message(status: int, detail: str) -> None:
    expected = rf"^list devices failed: HTTP {status}: {detail}$"
    with (
        answering(json_reply({"detail": detail}, status)) as stub,
        pytest.raises(BackendError, match=expected),
    ):
        client_for(stub).list_devices()


def test_a_500_with_a_message_code_says_both() -> None:
    body = {"message": "internal server error", "message_code": "E5000"}
    with answering(json_reply(body, 500)) as stub, pytest.raises(BackendError) as raised:
        client_for(stub).get_job_status("job-1")
    assert str(raised.value) == (
        "get status of job job-1 failed: HTTP 500: internal server error (message_code E5000)"
    )


def test_a_500_with_only_a_message_code_says_the_code() -> None:
    with (
        answering(json_reply({"message_code": "E5001"}, 500)) as stub,
        pytest.raises(BackendError, match=r"HTTP 500: message_code E5001$"),
    ):
        client_for(stub).get_job_status("job-1")


def test_presigned_fields_that_are_null_are_left_out_of_the_upload_form() -> None:
    def respond(request: Received) -> Reply:
        if request.method == "POST" and request.path == "/jobs":
            fields = {
                "key": "jobs/job-1/input.zip",
                "AWSAccessKeyId": "AKIA-wire",
                "x-amz-security-token": None,
                "policy": None,
                "signature": None,
            }
            upload = {"url": stub.url + "/up", "fields": fields}
            return json_reply({"job_id": "job-1", "presigned_url": upload})
        if request.path == "/up":
            return Reply(204)
        if request.path.endswith("/status"):
            return json_reply({"job_id": "job-1", "status": "submitted"})
        return json_reply({"message": "job submitted"})

    with StubServer(respond) as stub:
        client_for(stub).submit_new_job(
            prepare_programs_input(["OPENQASM 3;"]), {"device_id": "qpu"}
        )
        (upload,) = [r for r in stub.received if r.path == "/up"]
    names = re.findall(rb'; name="([^"]+)"', upload.body)
    assert names == [b"key", b"AWSAccessKeyId", b"file"]
    assert b"None" not in upload.body


def test_the_local_server_hands_out_uuid7_job_ids() -> None:
    with LocalServer() as server:
        client = OqtopusHttpClient(server.config)
        first = client.register_job()["job_id"]
        second = client.register_job()["job_id"]
    stamps = []
    for job_id in (first, second):
        parsed = uuid.UUID(job_id)
        assert str(parsed) == job_id
        assert parsed.version == 7, job_id
        assert parsed.variant == uuid.RFC_4122
        stamps.append(parsed.int >> 80)  # unix milliseconds
    assert stamps[0] <= stamps[1]  # time-ordered, as uuid7 ids are
    assert abs(stamps[1] / 1000 - time.time()) < 600
