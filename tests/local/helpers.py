"""Raw-HTTP helpers for the local server tests: what a client does, spelled out."""

from __future__ import annotations

import contextlib
import io
import json
import resource
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import requests

from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin

TERMINAL = {"succeeded", "failed", "cancelled"}
TIMEOUT = 30


def bell_qasm() -> str:
    return (
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\n'
        "h q[0];\ncx q[0], q[1];\nc = measure q;"
    )


def qasm(qubits: int, body: str, measure: str | None = "c = measure q;") -> str:
    """A program over ``qubit[qubits] q; bit[qubits] c;`` with ``body`` as its gates."""
    lines = ['OPENQASM 3;\ninclude "stdgates.inc";', f"qubit[{qubits}] q;", f"bit[{qubits}] c;"]
    lines.append(body)
    if measure:
        lines.append(measure)
    return "\n".join(lines)


def zip_members(members: dict[str, bytes]) -> bytes:
    """A deflated ZIP holding ``members`` as given (also malformed job archives)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_json(value: object, name: str = "input.json") -> bytes:
    return zip_members({name: json.dumps(value).encode()})


def without_url_queries(job: dict[str, Any]) -> dict[str, Any]:
    """``job`` with its download URLs cut before their (expiring) signed query."""
    info = {
        name: value.split("?", 1)[0] if isinstance(value, str) and "?" in value else value
        for name, value in job["job_info"].items()
    }
    return {**job, "job_info": info}


def unzip_one(data: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == 1, names
        return names[0], archive.read(names[0])


class Endpoint(NamedTuple):
    """A server started some other way than ``LocalServer``: its URL and token."""

    url: str
    token: str


class Api:
    """A ``requests`` session against one server with its token."""

    def __init__(self, server: LocalServer | Endpoint, token: str | None = None) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only, never a proxy
        self.token = server.token if token is None else token
        self.session.headers["q-api-token"] = self.token

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url + path, timeout=TIMEOUT, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.url + path, timeout=TIMEOUT, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.url + path, timeout=TIMEOUT, **kwargs)

    def register(self) -> dict[str, Any]:
        response = self.post("/jobs")
        assert response.status_code == 200, response.text
        registered: dict[str, Any] = response.json()
        return registered

    def upload(self, presigned: dict[str, Any], archive: bytes) -> requests.Response:
        """The presigned form POST, without the token (like S3)."""
        file_name = presigned["fields"]["key"].rsplit("/", 1)[-1]
        return requests.post(
            presigned["url"],
            data=presigned["fields"],
            files={"file": (file_name, archive, "application/zip")},
            timeout=TIMEOUT,
            proxies={"http": "", "https": ""},
        )

    def submit(self, job_type: str, job_input: dict[str, Any], **fields: Any) -> str:
        """Register, upload and submit; the job id."""
        registered = self.register()
        uploaded = self.upload(registered["presigned_url"], zip_json(job_input))
        assert uploaded.status_code == 204, uploaded.text
        body = {
            "device_id": "qulacs",
            "job_type": job_type,
            "shots": 1000,
            "transpiler_info": {},
            "simulator_info": {},
            "mitigation_info": {},
        }
        body.update(fields)
        submitted = self.post(f"/jobs/{registered['job_id']}/submit", json=body)
        assert submitted.status_code == 200, submitted.text
        job_id: str = registered["job_id"]
        return job_id

    def status(self, job_id: str) -> str:
        response = self.get(f"/jobs/{job_id}/status")
        assert response.status_code == 200, response.text
        status: str = response.json()["status"]
        return status

    def wait_for(self, job_id: str, statuses: set[str], timeout: float = 120) -> dict[str, Any]:
        """Poll the status until it is one of ``statuses``; the full job object."""
        deadline = time.monotonic() + timeout
        while (status := self.status(job_id)) not in statuses:
            assert time.monotonic() < deadline, f"job {job_id} still {status}"
            time.sleep(0.05)
        job: dict[str, Any] = self.get(f"/jobs/{job_id}").json()
        return job

    def wait(self, job_id: str, timeout: float = 120) -> dict[str, Any]:
        return self.wait_for(job_id, TERMINAL, timeout)

    def fetch(self, url: str) -> Any:
        """The JSON inside the ZIP at a presigned ``job_info`` URL (no token)."""
        response = requests.get(url, timeout=TIMEOUT, proxies={"http": "", "https": ""})
        assert response.status_code == 200, response.text
        _, data = unzip_one(response.content)
        return json.loads(data)

    def result(self, job_id: str) -> Any:
        job = self.wait(job_id)
        assert job["status"] == "succeeded", job["job_info"]["message"]
        return self.fetch(job["job_info"]["result"])

    def set_device(self, device_id: str, **fields: Any) -> None:
        Admin(self.url, self.token).set_device(device_id, **fields)


# A user program that talks plain HTTP to the server it is given in its environment.
SAMPLING_PROGRAM = """
import io, json, os, time, zipfile
import requests

url, token = os.environ["OQTOPUS_URL"], os.environ["OQTOPUS_API_TOKEN"]
session = requests.Session()
session.trust_env = False
session.headers["q-api-token"] = token
print("token", token)
registered = session.post(url + "/jobs").json()
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    program = 'OPENQASM 3;\\nqubit[2] q;\\nbit[2] c;\\nGATES\\nc = measure q;'
    archive.writestr("input.json", json.dumps({"program": [program]}))
presigned = registered["presigned_url"]
requests.post(presigned["url"], data=presigned["fields"],
              files={"file": ("input.zip", buffer.getvalue())}).raise_for_status()
body = {"device_id": "sse", "job_type": "sampling", "shots": 64, "name": "from sse"}
job_url = url + "/jobs/" + registered["job_id"]
session.post(job_url + "/submit", json=body).raise_for_status()
while session.get(job_url + "/status").json()["status"] != "succeeded":
    time.sleep(0.05)
print("child", registered["job_id"])
print("done with", session.get(job_url).json()["status"])
"""


def sampling_program(gates: str = "x q[1];") -> str:
    """An SSE program that runs one 2-qubit sampling job of ``gates`` and waits for it."""
    return SAMPLING_PROGRAM.replace("GATES", gates)


# -- attacks: raw sockets and the server's memory ------------------------------------------


def raw_connection(server: LocalServer, timeout: float = TIMEOUT) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def status_line(sock: socket.socket) -> str:
    """The first line of what the server answers on ``sock`` ('' when it only closed)."""
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` within ``within`` s (whatever it sends before)."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def memory_mib(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def child_pids(pid: int) -> set[int]:
    """The live (non-zombie) children of a process (Linux /proc)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            children.add(int(entry.name))
    return children


@contextlib.contextmanager
def open_file_limit(soft: int) -> Iterator[None]:
    """Start servers under a soft RLIMIT_NOFILE of ``soft`` (a common default is 1024)."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)
