"""Our backends inside an SSE container: jobs go to ``sse_driver`` as in the reference client.

A stand-in ``sse_driver`` module records what it is handed; the real one is exercised end
to end in ``tests/interop/test_sse_container.py``.
"""

from __future__ import annotations

import sys
import types
from collections import Counter
from typing import Any

import pytest
from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend


@pytest.fixture
def container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQTOPUS_ENV", "sse_container")
    monkeypatch.delenv("OQTOPUS_URL", raising=False)
    monkeypatch.delenv("OQTOPUS_API_TOKEN", raising=False)


def _driver(monkeypatch: pytest.MonkeyPatch, answer: Any) -> list[tuple[Any, Any]]:
    calls: list[tuple[Any, Any]] = []

    def submit_job(request: Any, upload_info: Any) -> Any:
        calls.append((request.model_dump(), upload_info.model_dump()))
        if isinstance(answer, Exception):
            raise answer
        return answer

    module = types.ModuleType("sse_driver")
    module.submit_job = submit_job  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sse_driver", module)
    return calls


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def test_sampling_job_goes_to_sse_driver_and_its_flat_answer_is_the_ended_job(
    container: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = {  # job_info's fields at the top level, as the real driver's engine sends them
        "job_id": "child-1",
        "job_type": "sampling",
        "status": "succeeded",
        "device_id": "qulacs",
        "shots": 100,
        "result": {"sampling": {"counts": {"00": 55, "11": 45}, "divided_counts": None}},
        "message": None,
    }
    calls = _driver(monkeypatch, answer)
    backend = OqtopusSamplingBackend(OqtopusConfig.from_file())
    job = backend.sample(_bell(), device_id="qulacs", shots=100, name="bell")
    assert job.job_id == "child-1"
    assert job.status == "succeeded"
    assert job.result().counts == Counter({0: 55, 3: 45})
    [(request, upload)] = calls
    assert request["job_type"] == "sampling"
    assert (request["device_id"], request["shots"], request["name"]) == ("qulacs", 100, "bell")
    assert len(upload["program"]) == 1
    assert upload["program"][0].startswith("OPENQASM 3")
    assert upload["operator"] is None


def test_a_failure_of_sse_driver_is_a_backend_error_with_its_reason(
    container: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _driver(monkeypatch, RuntimeError("To execute sampling on OQTOPUS server is failed. x"))
    backend = OqtopusSamplingBackend(OqtopusConfig.from_file())
    with pytest.raises(BackendError, match="through sse_driver failed: To execute sampling"):
        backend.sample(_bell(), device_id="qulacs", shots=10)


def test_a_missing_sse_driver_is_named(container: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sse_driver", None)  # import fails
    backend = OqtopusSamplingBackend(OqtopusConfig.from_file())
    with pytest.raises(BackendError, match="'sse_driver' module, which cannot be imported"):
        backend.sample(_bell(), device_id="qulacs", shots=10)


def test_a_configuration_with_a_url_still_talks_http_inside_the_container(
    container: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _driver(monkeypatch, {})
    config = OqtopusConfig("http://127.0.0.1:9", "token", retries=0, timeout=2.0)
    with pytest.raises(BackendError, match="register job"):  # nothing listens on port 9
        OqtopusSamplingBackend(config).sample(_bell(), device_id="qulacs", shots=10)
    assert calls == []
