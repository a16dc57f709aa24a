"""Attack figures of the local server: what each attack costs it, measured on loopback.

Prints one line per attack: the server's peak RSS under an unauthenticated 1 GiB body
(declared and chunked), whether a normal client gets through 1,100 half-sent requests
and how long a slowloris connection is held, how long the cancel of a runaway
simulation takes, and the worst status-poll latency while a ~290 MiB result downloads.
Not a test: nothing is asserted. Usage: ``python benches/attacks.py [--skip-large]``
(``--skip-large`` leaves out the 26-qubit, 10^7-shot job, which needs ~4 GiB).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import socket
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from quri_parts_oqtopus.local import LocalServer

GiB = 1 << 30
_NO_PROXY = {"http": "", "https": ""}


def peak_rss_mib(pid: int) -> float:
    """The high-water mark of a process's resident memory (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def connect(server: LocalServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def send_huge_body(server: LocalServer, *, chunked: bool, total: int = GiB) -> tuple[str, float]:
    """POST ``total`` bytes without a token; the status line the server answered, and when."""
    path = f"/jobs/{uuid.uuid4()}/submit"
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    block = b"[" * (1 << 20)
    piece = (b"%x\r\n" % len(block)) + block + b"\r\n" if chunked else block
    started = time.monotonic()
    with connect(server) as sock:
        sock.sendall(head.encode())
        sent = 0
        try:
            while sent < total:
                sock.sendall(piece)
                sent += len(block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection: it answered early
        try:
            answer = sock.recv(4096).split(b"\r\n", 1)[0].decode()
        except OSError as e:
            answer = f"({type(e).__name__})"
    return f"{answer} after {sent >> 20} MiB sent", time.monotonic() - started


def half_sent(server: LocalServer, count: int) -> list[socket.socket]:
    """``count`` connections that each send the start of a request and then nothing."""
    sockets = []
    for _ in range(count):
        try:
            sock = connect(server)
            sock.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            break
        sockets.append(sock)
    return sockets


def zip_json(value: object) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("input.json", json.dumps(value))
    return buffer.getvalue()


def qasm(qubits: int, body: str) -> str:
    return (
        f'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[{qubits}] q;\nbit[{qubits}] c;\n'
        f"{body}\nc = measure q;"
    )


def submit(
    session: requests.Session, server: LocalServer, job_input: dict[str, Any], **fields: Any
) -> str:
    registered = session.post(f"{server.url}/jobs", timeout=60).json()
    presigned = registered["presigned_url"]
    requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={"file": ("input.zip", zip_json(job_input))},
        timeout=60,
        proxies=_NO_PROXY,
    ).raise_for_status()
    body = {"device_id": "qulacs", "job_type": "sampling", "shots": 100, **fields}
    answer = session.post(f"{server.url}/jobs/{registered['job_id']}/submit", json=body, timeout=60)
    answer.raise_for_status()
    job_id: str = registered["job_id"]
    return job_id


def session_for(server: LocalServer) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["q-api-token"] = server.token
    return session


def wait_status(
    session: requests.Session, server: LocalServer, job_id: str, wanted: set[str], limit: float
) -> str:
    deadline = time.monotonic() + limit
    status = ""
    while time.monotonic() < deadline:
        status = str(session.get(f"{server.url}/jobs/{job_id}/status", timeout=60).json()["status"])
        if status in wanted:
            return status
        time.sleep(0.02)
    return status


def huge_bodies(server: LocalServer) -> None:
    assert server.pid is not None
    pid = server.pid
    before = rss_mib(pid)
    for chunked in (False, True):
        answer, seconds = send_huge_body(server, chunked=chunked)
        kind = "chunked" if chunked else "Content-Length"
        print(
            f"huge body ({kind}, 1 GiB, no token): {answer} in {seconds:.1f} s;"
            f" server RSS {before:.0f} MiB before, peak {peak_rss_mib(pid):.0f} MiB,"
            f" now {rss_mib(pid):.0f} MiB"
        )


def slowloris(server: LocalServer) -> None:
    sockets = half_sent(server, 1100)
    try:
        session = session_for(server)
        started = time.monotonic()
        try:
            job_id = submit(session, server, {"program": [qasm(2, "h q[0];")]})
            ended = wait_status(session, server, job_id, {"succeeded", "failed"}, 120)
            outcome = f"job {ended}"
        except requests.RequestException as e:
            outcome = f"failed: {type(e).__name__}"
        print(
            f"slowloris: {len(sockets)} half-sent requests open; a normal submission"
            f" {outcome} after {time.monotonic() - started:.1f} s"
        )
    finally:
        for sock in sockets:
            sock.close()
    with connect(server) as sock:
        sock.settimeout(1.0)
        started = time.monotonic()
        closed_after = None
        with contextlib.suppress(OSError):
            sock.sendall(b"POST /jobs HTTP/1.1\r\n")
            while time.monotonic() - started < 120:
                sock.sendall(b"X")  # one header byte a second
                with contextlib.suppress(TimeoutError):
                    if sock.recv(4096) == b"":
                        break
        closed_after = time.monotonic() - started
        print(f"slowloris: a connection dripping 1 header byte/s was held {closed_after:.1f} s")


def runaway_cancel(server: LocalServer) -> None:
    session = session_for(server)
    gates = "\n".join(f"h q[{i % 24}];" for i in range(6000))
    job_id = submit(session, server, {"program": [qasm(24, gates)]}, shots=10)
    wait_status(session, server, job_id, {"running"}, 120)
    time.sleep(1.0)
    started = time.monotonic()
    session.post(f"{server.url}/jobs/{job_id}/cancel", timeout=60).raise_for_status()
    status = wait_status(session, server, job_id, {"cancelled", "succeeded", "failed"}, 600)
    print(f"runaway simulation: cancel -> {status} after {time.monotonic() - started:.2f} s")


@contextlib.contextmanager
def polling(session: requests.Session, server: LocalServer, job_id: str) -> Iterator[list[float]]:
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.monotonic()
            session.get(f"{server.url}/jobs/{job_id}/status", timeout=120)
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join()


def large_download(server: LocalServer) -> None:
    session = session_for(server)
    every_qubit = "\n".join(f"h q[{i}];" for i in range(26))
    job_id = submit(session, server, {"program": [qasm(26, every_qubit)]}, shots=10_000_000)
    status = wait_status(session, server, job_id, {"succeeded", "failed"}, 1200)
    if status != "succeeded":
        print(f"large result: the 26-qubit job {status}")
        return
    job = session.get(f"{server.url}/jobs/{job_id}", timeout=120).json()
    poller = session_for(server)
    with polling(poller, server, job_id) as latencies:
        started = time.monotonic()
        size = len(requests.get(job["job_info"]["result"], timeout=600, proxies=_NO_PROXY).content)
        elapsed = time.monotonic() - started
    print(
        f"large result: {size / (1 << 20):.0f} MiB ZIP downloaded in {elapsed:.1f} s;"
        f" status polls meanwhile: {len(latencies)}, worst {max(latencies) * 1e3:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--nofile", type=int, default=1024, help="the server's RLIMIT_NOFILE")
    args = parser.parse_args()
    # A common default soft limit, inherited by the server; this process needs more.
    own = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, own[1]))
    server = LocalServer(workers=1)
    try:
        server.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (own[1], own[1]))
    with server:
        huge_bodies(server)
        slowloris(server)
        runaway_cancel(server)
        if not args.skip_large:
            large_download(server)
        assert server.pid is not None
        print(f"server peak RSS over the whole run: {peak_rss_mib(server.pid):.0f} MiB")


if __name__ == "__main__":
    main()
