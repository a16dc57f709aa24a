"""Our backends inside an SSE container: jobs go to ``sse_driver`` as in the reference client.

A stand-in ``sse_driver`` module records what it is handed; the real one is exercised end
to end in ``tests/interop/test_sse_container.py``.
"""

from __future__ import annotations

import sys
import types
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus import _core, upload
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus._sse_container import SseDriverClient
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
    OqtopusSseBackend,
)
from quri_parts_oqtopus.qasm import convert_to_qasm_str


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


@pytest.fixture
def no_zip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any ZIP written or read in this test fails it."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a ZIP was written or read on the way to sse_driver")

    for name in ("write_archive", "read_archive"):
        monkeypatch.setattr(_core, name, refused)
    monkeypatch.setattr(upload.JobInput, "archive", refused)
    monkeypatch.setattr(zipfile, "ZipFile", refused)


def test_each_job_kind_hands_sse_driver_its_document_without_a_zip(
    container: None, no_zip: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answer = {"job_id": "child-1", "job_type": "x", "status": "succeeded", "job_info": {}}
    calls = _driver(monkeypatch, answer)
    config = OqtopusConfig.from_file()
    OqtopusSamplingBackend(config).sample_qasm(["OPENQASM 3;", "OPENQASM 3.0;"], "qulacs", 10)
    zz = Operator({pauli_label("Z0 Z1"): 1e-7})
    OqtopusEstimationBackend(config).estimate(_bell(), zz, "qulacs", 10)
    program = tmp_path / "p.py"
    program.write_text("print('é')\n", encoding="utf-8")
    OqtopusSseBackend(config).run_sse(str(program), "qulacs", "sse")
    uploads = [upload for _, upload in calls]
    assert uploads[0] == {
        "program": ["OPENQASM 3;", "OPENQASM 3.0;"],
        "operator": None,
        "sse_program": None,
    }
    assert uploads[1]["program"] == [convert_to_qasm_str(_bell())]
    assert uploads[1]["operator"] == [{"pauli": "Z0 Z1", "coeff": 1e-7}]
    assert uploads[2] == {"program": None, "operator": None, "sse_program": "print('é')\n"}


def test_the_driver_client_offers_only_the_job_api() -> None:
    offered = {name for name in vars(SseDriverClient) if not name.startswith("_")}
    assert offered == {"submit_new_job", "get_job", "get_job_status"}
    assert not issubclass(SseDriverClient, OqtopusHttpClient)


def test_a_call_only_the_http_api_has_is_refused_by_name_inside_the_container(
    container: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = {"job_id": "child-1", "job_type": "sampling", "status": "succeeded", "job_info": {}}
    _driver(monkeypatch, answer)
    config = OqtopusConfig.from_file()
    job = OqtopusSamplingBackend(config).sample(_bell(), device_id="qulacs", shots=10)
    with pytest.raises(BackendError, match="cancel job child-1: inside an SSE container"):
        job.cancel()
    with pytest.raises(BackendError, match="list devices: inside an SSE container"):
        OqtopusDeviceBackend(config).get_devices()
