"""The injectable transport: the documented API driven without a server, in milliseconds.

A handler plays the OQTOPUS API and its storage; the backends, the retry budget, the
limits and the error mapping run exactly as over HTTP (tests of the wire itself use the
local server on loopback).
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from urllib.parse import urlsplit

import orjson
import pytest
import requests
from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.transport import MockResponse, MockTransport
from quri_parts_oqtopus.upload import write_archive_file

API = "https://oqtopus.example"
STORAGE = "https://storage.example"
TOKEN = "mock-token-0123456789"


class FakeService:
    """Just enough of the user API and its storage for one sampling job."""

    def __init__(self, *, unavailable_first: int = 0) -> None:
        self.unavailable_first = unavailable_first
        self.seen: Counter[tuple[str, str]] = Counter()
        self.uploaded: dict[str, object] = {}

    def __call__(self, request: requests.PreparedRequest) -> MockResponse:
        parts = urlsplit(request.url or "")
        where = (request.method or "", f"{parts.scheme}://{parts.netloc}{parts.path}")
        self.seen[where] += 1
        token = request.headers.get("q-api-token")
        if where[1].startswith(STORAGE):
            assert token is None, "the token went to storage"
            return self.storage(where, request)
        assert token == TOKEN
        if where == ("POST", f"{API}/jobs") and self.seen[where] <= self.unavailable_first:
            return MockResponse(503, {"message": "busy"})
        upload = {"url": f"{STORAGE}/upload", "fields": {"key": "j-1/input.zip"}}
        routes = {
            ("POST", f"{API}/jobs"): {"job_id": "j-1", "presigned_url": upload},
            ("POST", f"{API}/jobs/j-1/submit"): {"message": "job submitted"},
            ("GET", f"{API}/jobs/j-1/status"): {"job_id": "j-1", "status": "succeeded"},
            ("GET", f"{API}/jobs/j-1"): self.job(),
        }
        if where in routes:
            return MockResponse(200, routes[where])
        return MockResponse(404, {"message": f"no route {where}"})

    def storage(self, where: tuple[str, str], request: requests.PreparedRequest) -> MockResponse:
        if where == ("POST", f"{STORAGE}/upload"):
            body = request.body if isinstance(request.body, bytes) else b""
            self.uploaded["zip"] = body[body.index(b"PK\x03\x04") :]
            return MockResponse(204)
        if where == ("GET", f"{STORAGE}/result.zip"):
            result = {"sampling": {"counts": {"00": 6, "11": 4}, "divided_counts": None}}
            return MockResponse(200, write_archive_file("result.json", orjson.dumps(result)))
        return MockResponse(404, {"message": "no such object"})

    @staticmethod
    def job() -> dict[str, object]:
        return {
            "job_id": "j-1",
            "job_type": "sampling",
            "status": "succeeded",
            "device_id": "qpu",
            "shots": 10,
            "job_info": {"result": f"{STORAGE}/result.zip", "message": None},
            "execution_time": 0.5,
        }


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def _config(service: FakeService, **settings: object) -> tuple[OqtopusConfig, MockTransport]:
    transport = MockTransport(service)
    return OqtopusConfig(API, TOKEN, adapter=transport, **settings), transport  # type: ignore[arg-type]


def test_a_sampling_job_runs_end_to_end_without_a_server() -> None:
    service = FakeService()
    config, transport = _config(service)
    job = OqtopusSamplingBackend(config).sample(_bell(), device_id="qpu", shots=10)
    assert dict(job.result(wait=0.01).counts) == {0: 6, 3: 4}
    uploaded = zipfile.ZipFile(io.BytesIO(service.uploaded["zip"]))  # type: ignore[arg-type]
    program = orjson.loads(uploaded.read(uploaded.namelist()[0]))["program"][0]
    assert "cx q[0], q[1];" in program
    assert [r.method for r in transport.requests[:3]] == ["POST", "POST", "POST"]
    assert service.seen[("POST", f"{API}/jobs/j-1/submit")] == 1


def test_the_retry_budget_counts_over_the_mock_as_over_http() -> None:
    service = FakeService(unavailable_first=2)
    config, _ = _config(service, backoff=0.0)
    job = OqtopusSamplingBackend(config).sample(_bell(), device_id="qpu", shots=10)
    assert job.job_id == "j-1"
    assert service.seen[("POST", f"{API}/jobs")] == 3  # two 503s, then the registration
    config, _ = _config(FakeService(unavailable_first=9), backoff=0.0, retries=1)
    with pytest.raises(BackendError, match="gave up after 2 attempts"):
        OqtopusSamplingBackend(config).sample(_bell(), device_id="qpu", shots=10)


def test_a_configuration_keeps_its_adapter_through_copies_and_says_so() -> None:
    config, transport = _config(FakeService())
    assert config.with_proxy(None).adapter is transport
    assert config.with_transport(retries=2).adapter is transport
    assert "adapter=" in repr(config)
    assert TOKEN not in repr(config)
    with pytest.raises(ValueError, match="adapter should be a requests transport adapter"):
        OqtopusConfig(API, TOKEN, adapter="not an adapter")  # type: ignore[arg-type]
