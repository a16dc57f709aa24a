"""Requests that would exhaust the server: huge or slow bodies, slow headers, many connections.

Each attack runs over raw sockets on loopback against a server of its own; the servers
start under a soft limit of 1024 open files, a common default.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from quri_parts_oqtopus.local import LocalServer

from .helpers import (
    Api,
    bell_qasm,
    closed_by_server,
    memory_mib,
    open_file_limit,
    raw_connection,
    status_line,
)

GiB = 1 << 30
MiB = 1 << 20
HALF_SENT = 1100


@pytest.fixture(scope="module")
def guarded() -> Iterator[LocalServer]:
    options = {"header_timeout": 2, "body_timeout": 2}
    with open_file_limit(1024), LocalServer(options=options) as local:
        yield local


@pytest.fixture(scope="module")
def capped() -> Iterator[LocalServer]:
    with LocalServer(options={"max_connections": 64}) as local:
        yield local


def _send_body(sock: socket.socket, head: bytes, total: int, *, chunked: bool) -> int:
    """Send ``head`` and up to ``total`` body bytes until the server stops reading; bytes sent."""
    block = b"[" * MiB
    piece = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    sock.sendall(head)
    sent = 0
    try:
        while sent < total:
            sock.sendall(piece)
            sent += len(block)
    except OSError:  # refused: the server closed the connection
        pass
    return sent


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_unauthenticated_1_gib_submit_is_refused_before_its_body_is_read(
    guarded: LocalServer, framing: str
) -> None:
    assert guarded.pid is not None
    peak_before = memory_mib(guarded.pid, "VmHWM")
    length = "Transfer-Encoding: chunked" if framing == "chunked" else f"Content-Length: {GiB}"
    head = (
        f"POST /jobs/{uuid.uuid4()}/submit HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\n{length}\r\n\r\n"
    ).encode()
    with raw_connection(guarded) as sock:
        sent = _send_body(sock, head, GiB, chunked=framing == "chunked")
    growth = memory_mib(guarded.pid, "VmHWM") - peak_before
    # Today the body is read whole first: 2.1 GiB (4.2 GiB chunked) of RSS.
    assert growth < 100, f"{framing}: the server's peak RSS grew {growth:.0f} MiB"
    assert sent < GiB, f"{framing}: the server read all {sent >> 20} MiB"
    assert Api(guarded).get("/devices").status_code == 200


def test_the_refusal_comes_on_the_headers_alone(guarded: LocalServer) -> None:
    head = f"POST /jobs/{uuid.uuid4()}/submit HTTP/1.1\r\nHost: x\r\nContent-Length: {GiB}\r\n\r\n"
    with raw_connection(guarded, timeout=10) as sock:
        sock.sendall(head.encode())  # and not one byte of the body
        assert status_line(sock) == "HTTP/1.1 401 Unauthorized"


def test_a_json_body_beyond_1_mib_is_413_declared_or_chunked(guarded: LocalServer) -> None:
    api = Api(guarded)
    job_id = api.register()["job_id"]
    declared = api.post(f"/jobs/{job_id}/submit", data=b"{" * (2 * MiB))
    assert declared.status_code == 413, declared.text
    assert "exceeds 1048576 bytes" in declared.json()["message"]
    chunked = api.post(f"/jobs/{job_id}/submit", data=iter([b"{" * MiB] * 3))
    assert chunked.status_code == 413, chunked.text
    assert api.status(job_id) == "registered"


@pytest.mark.timing
def test_a_body_that_stops_arriving_is_408_after_the_body_deadline(guarded: LocalServer) -> None:
    head = (
        "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"q-api-token: {guarded.token}\r\nContent-Length: 100\r\n\r\n"
        '{"device_id": '
    )
    with raw_connection(guarded, timeout=120) as sock:  # only stops a hang: today, never
        sock.sendall(head.encode())
        answer = _whole_answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    # The body deadline ended it (the server's 2 s), not the connection or the header one.
    assert b"the request body did not arrive within 2 s" in answer, answer


def _whole_answer(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes it."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.timing
def test_a_client_dripping_its_headers_is_cut_off_at_the_header_deadline(
    guarded: LocalServer,
) -> None:
    with raw_connection(guarded) as sock:
        sock.sendall(b"GET /devices HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < 120:  # only stops a hang
            sock.sendall(b"X")  # a header byte every half second
            closed = closed_by_server(sock, 0.5)
        assert closed, "the slow client was held for 120 s (the deadline is 2 s)"


@pytest.mark.timing
def test_a_kept_alive_connection_must_send_its_next_request_in_time(guarded: LocalServer) -> None:
    request = f"GET /devices HTTP/1.1\r\nHost: x\r\nq-api-token: {guarded.token}\r\n\r\n"
    with raw_connection(guarded) as sock:
        sock.sendall(request.encode())
        assert status_line(sock) == "HTTP/1.1 200 OK"
        sock.sendall(b"GET /devices HTTP/1.1\r\n")  # the next one, never finished
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < 120:  # only stops a hang
            sock.sendall(b"X")
            closed = closed_by_server(sock, 0.5)
        assert closed, "the idle kept-alive connection was held for 120 s (the deadline is 2 s)"


def _half_sent(server: LocalServer, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = raw_connection(server)
        sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)
    return sockets


@pytest.fixture
def many_sockets() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < HALF_SENT + 200:
        pytest.skip(f"this test needs {HALF_SENT + 200} open files; the hard limit is {hard}")
    wanted = HALF_SENT + 200 if hard == resource.RLIM_INFINITY else hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.timing
@pytest.mark.usefixtures("many_sockets")
def test_1100_half_sent_requests_do_not_stop_a_normal_client(guarded: LocalServer) -> None:
    sockets = _half_sent(guarded, HALF_SENT)
    try:
        api = Api(guarded)
        # Today the server runs out of file descriptors and this times out.
        job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, shots=10))
        assert job["status"] == "succeeded"
    finally:
        for sock in sockets:
            sock.close()


def test_at_the_connection_cap_the_oldest_waiting_connection_makes_room(
    capped: LocalServer,
) -> None:
    sockets = _half_sent(capped, 200)  # over a cap of 64
    try:
        api = Api(capped)
        job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, shots=10))
        assert job["status"] == "succeeded"
        still_open = [sock for sock in sockets if not closed_by_server(sock, 0.01)]
        assert len(still_open) <= 64
    finally:
        for sock in sockets:
            sock.close()


# -- the upload route: no token, so nothing of a form is kept before its signature holds ------
HELD_UPLOADS = 40
_BOUNDARY = "review-boundary"


@pytest.fixture(scope="module")
def patient() -> Iterator[LocalServer]:
    """Deadlines past the tests' own timeout: only a refusal can end a connection."""
    with LocalServer(options={"header_timeout": 600, "body_timeout": 600}) as local:
        yield local


def _form_part(name: str, data: bytes, file_name: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
    return f"--{_BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


def _held_upload(server: LocalServer, parts: bytes) -> socket.socket:
    """An unsigned upload form whose body stops just short of its end (held open)."""
    head = (
        f"POST /_storage/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {len(parts) + 100}\r\n"
        f"Content-Type: multipart/form-data; boundary={_BOUNDARY}\r\n\r\n"
    ).encode()
    sock = raw_connection(server)
    with contextlib.suppress(OSError):  # refused and closed while it was still being sent
        sock.sendall(head + parts)
    return sock


@pytest.mark.timing
@pytest.mark.parametrize("where", ["fields", "file"])
def test_held_open_unsigned_upload_forms_are_refused_before_they_are_kept(
    patient: LocalServer, where: str
) -> None:
    assert patient.pid is not None
    if where == "fields":  # 15 fields of 1 MiB: no signature among them
        parts = b"".join(_form_part(f"f{i}", b"a" * (MiB - 256)) for i in range(15))
    else:  # the file first, 15 MiB, then the (forged) signature
        parts = _form_part("file", b"a" * (15 * MiB), "input.zip")
        parts += _form_part("key", f"jobs/{uuid.uuid4()}/input.zip".encode())
    before = memory_mib(patient.pid, "VmHWM")
    sockets = [_held_upload(patient, parts) for _ in range(HELD_UPLOADS)]
    try:
        # A refusal, or nothing where the close cut off the answer (a reset): never stored.
        # Every form has been dealt with once its answer is read, so the peak below is
        # the attack's whole, however long the server took.
        statuses = {status_line(sock) for sock in sockets}
        assert statuses <= {"HTTP/1.1 400 Bad Request", "HTTP/1.1 403 Forbidden", ""}, statuses
        growth = memory_mib(patient.pid, "VmHWM") - before
        # Before: each form was read whole into memory first, +15 MiB a connection.
        assert growth < 100, f"{where}: {HELD_UPLOADS} unsigned forms took {growth:.0f} MiB"
        print(f"\n{HELD_UPLOADS} held unsigned forms ({where}): +{growth:.0f} MiB, {statuses}")
        assert all(closed_by_server(sock, 60) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert Api(patient).get("/devices").status_code == 200


@pytest.mark.timing
def test_a_refused_request_framed_both_by_length_and_chunks_is_closed_at_once(
    patient: LocalServer,
) -> None:
    # Transfer-Encoding frames the body (RFC 9112 6.3), so its length is unknown: a refusal
    # cannot skip it and must close, as for any chunked body.
    head = (
        f"POST /jobs/{uuid.uuid4()}/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n100000\r\n"
    )
    with raw_connection(patient) as sock:
        sock.sendall(head.encode() + b"[" * 4096)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 401 Unauthorized\r\n"), answer
        # It says it closes, and does: the server's deadlines are 600 s, past this test's
        # timeout, so nothing but the refusal can close it here.
        assert b"\r\nconnection: close\r\n" in answer.lower(), answer
        closed = False
        while not closed:
            try:
                sock.sendall(b"[" * 4096)  # the body keeps coming, to be skipped for ever
            except OSError:
                break  # closed
            closed = closed_by_server(sock, 0.2)


@pytest.mark.parametrize(
    ("params", "headers", "status", "words"),
    [
        ({"q": "x" * 200_000}, {}, 414, "the request line (method, URL and query) exceeds"),
        ({}, {"x-padding": "y" * 40_000}, 431, "the request's headers exceed"),
    ],
)
def test_an_oversized_request_head_is_answered_with_a_message_not_a_reset(
    guarded: LocalServer, params: dict[str, str], headers: dict[str, str], status: int, words: str
) -> None:
    # A 200 KB query once reset the connection: uvicorn closed it on the unread rest.
    api = Api(guarded)
    response = api.get("/jobs", params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["message"] == f"{words} 16384 bytes"
    assert response.headers["connection"] == "close"
    assert api.get("/jobs", params={"q": "x" * 10_000}).status_code == 200
