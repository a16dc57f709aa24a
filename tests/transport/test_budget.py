"""What the one retry budget repeats: transient faults only (``transport/budget.py``).

Repeated: connections that could not be made, 429 and 5xx answers, bodies cut short
(fewer bytes than Content-Length, a broken chunked stream). Not repeated: what would come
back the same at every attempt, a whole body that does not decode, an archive that does
not read, an answer that is not HTTP, a TLS certificate that is refused, a URL requests
cannot prepare. Each test counts the attempts the server saw.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.counts import decode_sampling_archive
from quri_parts_oqtopus.upload import prepare_programs_input, write_archive_file

from ..http_stub import Received, Reply, StubServer, json_reply

TOKEN = "sentinel-Tk-transport-budget"
RETRIES = 3
UNUSED_API = "http://127.0.0.1:9"  # a storage test's API: never contacted


def client_for(url: str) -> OqtopusHttpClient:
    return OqtopusHttpClient(OqtopusConfig(url, TOKEN, retries=RETRIES, backoff=0.0))


def assert_failed_at_once(error: BaseException) -> None:
    assert "gave up after" not in str(error), str(error)


# -- repeated ----------------------------------------------------------------------------------
def answers(*replies: Reply) -> Callable[[Received], Reply]:
    queue = iter(replies)
    return lambda request: next(queue)


@pytest.mark.parametrize(
    "first",
    [
        # Content-Length promises more than comes before the connection closes.
        Reply(200, b'[{"device_id": "q', {"Connection": "close"}, length=100),
        Reply(200, iter([b"[", b"oops"]), {"Transfer-Encoding": "chunked"}, length=None),
        json_reply({"message": "busy"}, 429),
        json_reply({"message": "busy"}, 429, **{"Retry-After": "0"}),
        json_reply({"message": "down"}, 503),
    ],
    ids=["cut-short", "broken-chunks", "429", "429-retry-after", "503"],
)
def test_a_transient_fault_is_repeated(first: Reply) -> None:
    with StubServer(answers(first, json_reply([{"device_id": "qpu"}]))) as stub:
        assert [dict(d) for d in client_for(stub.url).list_devices()] == [{"device_id": "qpu"}]
    assert len(stub.received) == 2


# -- not repeated: the answer came whole -------------------------------------------------------
def test_a_whole_answer_that_is_not_json_fails_at_once() -> None:
    with (
        StubServer(lambda request: Reply(200, b"{not json")) as stub,
        pytest.raises(BackendError, match=r"list devices: .* malformed JSON") as raised,
    ):
        client_for(stub.url).list_devices()
    assert_failed_at_once(raised.value)
    assert len(stub.received) == 1


def test_an_answer_whose_content_encoding_does_not_decode_fails_at_once() -> None:
    garbled = Reply(200, b"hello", {"Content-Encoding": "gzip"})
    with (
        StubServer(lambda request: garbled) as stub,
        pytest.raises(BackendError, match=r"Content-Encoding \(gzip\) cannot be decoded"),
    ):
        client_for(stub.url).list_devices()
    assert len(stub.received) == 1


def good_archive() -> bytes:
    return write_archive_file("result.json", b'{"sampling": {"counts": {"01": 7}}}')


def corrupted(archive: bytes) -> bytes:
    """``archive`` with a byte of its deflated data flipped: the CRC check fails."""
    data = bytearray(archive)
    data[50] ^= 0xFF  # inside the deflated data, which starts after the 41-byte header
    return bytes(data)


@pytest.mark.parametrize(
    ("stored", "said"),
    [
        (b"not a zip at all", "not a valid job archive"),
        (corrupted(good_archive()), "CRC-32 mismatch"),
        (write_archive_file("result.json", b'{"sampling": {"counts": {"01": NaN}}}'), "count"),
    ],
    ids=["not-a-zip", "crc-error", "nan-count"],
)
def test_an_archive_that_does_not_read_is_downloaded_once(stored: bytes, said: str) -> None:
    with (
        StubServer(lambda request: Reply(200, stored)) as storage,
        pytest.raises(BackendError, match=f"download result: .*{said}") as raised,
    ):
        client_for(UNUSED_API).download_archive(
            f"{storage.url}/result.zip", decode_sampling_archive, operation="download result"
        )
    assert_failed_at_once(raised.value)
    assert len(storage.received) == 1


# -- not repeated: no answer, but the same at every attempt -------------------------------------
class RawServer:
    """A loopback listener that answers each connection with ``answer(socket)``; counts them."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.connections = 0
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            self.connections += 1
            with connection, contextlib.suppress(OSError):  # OSError: the client gave up
                self._answer(connection)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    started: list[RawServer] = []

    def start(answer: Callable[[socket.socket], None]) -> RawServer:
        started.append(RawServer(answer))
        return started[-1]

    yield start
    for server in started:
        server.close()


def after_the_request(reply: bytes) -> Callable[[socket.socket], None]:
    def answer(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(reply)

    return answer


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "the answer is not HTTP (it starts 'SSH-2.0-OpenSSH_9.6"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", "head is not HTTP"),
    ],
    ids=["ssh-banner", "header-line-too-long"],
)
def test_an_answer_that_is_not_http_fails_at_once(
    raw_server: Callable[..., RawServer], reply: bytes, said: str
) -> None:
    server = raw_server(after_the_request(reply))
    with pytest.raises(BackendError) as raised:
        client_for(f"http://127.0.0.1:{server.port}").list_devices()
    assert said in str(raised.value), str(raised.value)
    assert server.connections == 1


def test_a_status_line_cut_short_is_repeated(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(after_the_request(b"HTTP/1."))
    with pytest.raises(BackendError, match="gave up after 4 attempts"):
        client_for(f"http://127.0.0.1:{server.port}").list_devices()
    assert server.connections == RETRIES + 1


def test_https_to_a_server_that_does_not_speak_tls_fails_at_once() -> None:
    with (
        StubServer(lambda request: json_reply([])) as plain,
        pytest.raises(BackendError, match="the server does not answer in TLS") as raised,
    ):
        client_for(f"https://127.0.0.1:{plain.port}").list_devices()
    assert_failed_at_once(raised.value)
    assert plain.connections == 1


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    try:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
                *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no openssl to make a certificate with: {e}")
    return cert, key


def test_a_tls_certificate_that_is_refused_fails_at_once(
    raw_server: Callable[..., RawServer], self_signed: tuple[Path, Path]
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)

    def handshake(connection: socket.socket) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            after_the_request(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")(tls)

    server = raw_server(handshake)
    with pytest.raises(BackendError, match="the server's TLS certificate is refused") as raised:
        client_for(f"https://127.0.0.1:{server.port}").list_devices()
    assert "self-signed certificate" in str(raised.value)
    assert server.connections == 1


def test_a_url_that_requests_cannot_prepare_fails_at_once_and_its_job_is_deleted() -> None:
    deleted: list[str] = []

    def api(request: Received) -> Reply:
        if request.method == "POST" and request.path == "/jobs":
            upload = {"url": "http://127.0.0.1:99999/upload", "fields": {"key": "in.zip"}}
            return json_reply({"job_id": "job-1", "presigned_url": upload})
        if request.method == "DELETE":
            deleted.append(request.path)
            return json_reply({"message": "deleted"})
        return json_reply({"message": f"unexpected {request.path}"}, 404)

    with StubServer(api) as stub, pytest.raises(BackendError) as raised:
        client_for(stub.url).submit_new_job(
            prepare_programs_input(["OPENQASM 3;"]), {"device_id": "q", "shots": 1}
        )
    text = str(raised.value)
    assert text.startswith(
        "upload input of job job-1: cannot send to http://127.0.0.1:99999/upload"
    )
    assert text.endswith("; job job-1 was deleted")
    assert_failed_at_once(raised.value)
    assert deleted == ["/jobs/job-1"]
