"""The SSE launcher's forwarder: what a program sends to the server arrives whole, both ways.

The forwarder copies bytes between a connection accepted inside the program's network
namespace and a new connection to the server. Here it runs in a child of the test (as
the launcher runs it), between a listener standing for the namespace's and an echo
server standing for the server; it ends when the process it watches (PID 1) ends.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator

import pytest

from quri_parts_oqtopus.local import sse_launcher

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pidfd and fork: Linux")


def _echo_server(server: socket.socket, stop: threading.Event) -> None:
    """Echo every connection back, each in its own thread, until ``stop``."""
    server.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue

        def echo(conn: socket.socket) -> None:
            with conn:
                while data := conn.recv(1 << 16):
                    conn.sendall(data)

        threading.Thread(target=echo, args=(conn,), daemon=True).start()


@pytest.fixture
def forwarded() -> Iterator[tuple[int, int]]:
    """(the listener's port, the watched process's pid): a forwarder running to the echo."""
    stop = threading.Event()
    with (
        socket.create_server(("127.0.0.1", 0)) as echo,
        socket.create_server(("127.0.0.1", 0), backlog=64) as listener,
    ):
        watched = os.fork()
        if watched == 0:  # stands for PID 1: lives until killed
            signal.pause()
            os._exit(0)
        forwarder = os.fork()
        if forwarder == 0:
            try:
                sse_launcher._forward(listener, echo.getsockname(), watched)
            finally:
                os._exit(0)
        # Threads only after the forks: a forked child must not inherit a running thread.
        echoing = threading.Thread(target=_echo_server, args=(echo, stop), daemon=True)
        echoing.start()
        try:
            yield listener.getsockname()[1], watched
        finally:
            os.kill(watched, signal.SIGKILL)
            os.waitpid(watched, 0)
            _, status = os.waitpid(forwarder, 0)  # it ends because the watched one did
            stop.set()
            echoing.join(10)  # before its socket closes
            assert os.waitstatus_to_exitcode(status) == 0


def _round_trip(port: int, payload: bytes) -> bytes:
    """Send ``payload`` while reading the echo, then half-close; everything echoed."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:

        def send() -> None:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)  # the echo ends when this EOF has come through

        sender = threading.Thread(target=send)
        sender.start()
        chunks = []
        while data := conn.recv(1 << 16):
            chunks.append(data)
        sender.join()
    return b"".join(chunks)


def test_twenty_megabytes_each_way_arrive_whole_and_in_order(forwarded: tuple[int, int]) -> None:
    port, _ = forwarded
    payload = os.urandom(20 << 20)
    echoed = _round_trip(port, payload)
    assert len(echoed) == len(payload)
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()


def test_many_connections_at_once_each_get_their_own_bytes(forwarded: tuple[int, int]) -> None:
    port, _ = forwarded
    payloads = [os.urandom(256 << 10) + bytes([i]) for i in range(100)]  # past the cap of 64
    results: dict[int, bytes] = {}

    def run(index: int) -> None:
        results[index] = _round_trip(port, payloads[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results) == list(range(len(payloads)))
    wrong = [i for i, data in results.items() if data != payloads[i]]
    assert not wrong, f"connections {wrong} got other bytes"


def test_a_server_that_is_gone_ends_the_programs_connection() -> None:
    # A forwarder to a port nobody listens on: the program's connection is closed at once.
    # The port stays bound (not listening) so that no server beside this test can take it.
    with socket.socket() as bound, socket.create_server(("127.0.0.1", 0)) as listener:
        bound.bind(("127.0.0.1", 0))
        gone = bound.getsockname()
        watched = os.fork()
        if watched == 0:
            signal.pause()
            os._exit(0)
        forwarder = os.fork()
        if forwarder == 0:
            try:
                sse_launcher._forward(listener, gone, watched)
            finally:
                os._exit(0)
        try:
            with socket.create_connection(listener.getsockname(), timeout=30) as conn:
                assert conn.recv(1) == b""
        finally:
            os.kill(watched, signal.SIGKILL)
            os.waitpid(watched, 0)
            os.waitpid(forwarder, 0)
