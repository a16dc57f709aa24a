"""SSE container mode: one SSE program, written for OQTOPUS, runs unchanged with either client.

The local server runs SSE programs as an OQTOPUS SSE container does: ``OQTOPUS_ENV`` is
``sse_container``, ``OqtopusConfig.from_file()`` is empty, and the backends hand each job
to the ``sse_driver`` module the server provides. One server runs the program with the
reference client's interpreter (``--sse-python``), the other with ours.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from quri_parts_oqtopus.local import LocalServer

from .test_reference_client import reference_python

# Written as a user of quri-parts-oqtopus writes an SSE program for OQTOPUS.
PROGRAM = """
import os, sys
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts_oqtopus.backend import (
    OqtopusConfig, OqtopusEstimationBackend, OqtopusSamplingBackend,
)

config = OqtopusConfig.from_file()
print("config url", repr(config.url))
circuit = QuantumCircuit(2)
circuit.add_X_gate(0)
circuit.add_CNOT_gate(0, 1)
job = OqtopusSamplingBackend(config).sample(circuit, device_id="qulacs", shots=100)
print("status", job.status)
print("counts", sorted(job.result().counts.items()))
multi = OqtopusSamplingBackend(config).sample([circuit, circuit], device_id="qulacs", shots=10)
print("divided", sorted((k, sorted(v.items())) for k, v in multi.result().divided_counts.items()))
# Without a config the environment's OQTOPUS_URL / OQTOPUS_API_TOKEN still work (HTTP).
direct = OqtopusSamplingBackend().sample(circuit, device_id="qulacs", shots=20)
print("direct", sorted(direct.result(wait=0.1).counts.items()))
print("driver imported", "sse_driver" in sys.modules)
zz = Operator({pauli_label("Z0 Z1"): 1.0, pauli_label("Z0"): 0.5})
estimate = OqtopusEstimationBackend(config).estimate(circuit, zz, device_id="qulacs", shots=100)
print("exp_value", estimate.result().exp_value)
"""

EXPECTED = [
    "config url ''",
    "status succeeded",
    "counts [(3, 100)]",
    "divided [(0, [(3, 10)]), (1, [(3, 10)])]",
    "direct [(3, 20)]",
    "driver imported True",
]


def _server_for(python: str | None) -> Iterator[LocalServer]:
    with LocalServer(sse_python=python, sse_timeout=120) as local:
        yield local


@pytest.fixture(scope="module")
def reference_server() -> Iterator[LocalServer]:
    yield from _server_for(reference_python())


@pytest.fixture(scope="module")
def our_server() -> Iterator[LocalServer]:
    yield from _server_for(None)


def _run_sse(server: LocalServer, source: str) -> tuple[dict[str, Any], str]:
    """Run ``source`` through our client's SSE backend; the ended job and its log."""
    from quri_parts_oqtopus.backend import OqtopusSseBackend  # noqa: PLC0415

    program = Path(server.data_dir) / "program.py"
    program.write_text(source, encoding="utf-8")
    job = OqtopusSseBackend(server.config).run_sse(str(program), "qulacs", name="container")
    job.wait_for_completion(timeout=240, wait=0.2)
    headers = {"q-api-token": server.token}
    raw = requests.get(f"{server.url}/jobs/{job.job_id}", headers=headers, timeout=30).json()
    archive = requests.get(raw["job_info"]["sse_log"], timeout=30).content
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        log = opened.read(opened.namelist()[0]).decode("utf-8", "replace")
    return raw, log


@pytest.mark.parametrize("client", ["reference", "ours"])
def test_an_sse_program_for_oqtopus_runs_unchanged_through_sse_driver(
    client: str, request: pytest.FixtureRequest
) -> None:
    fixture = "reference_server" if client == "reference" else "our_server"
    server: LocalServer = request.getfixturevalue(fixture)
    job, log = _run_sse(server, PROGRAM)
    assert job["status"] == "succeeded", f"{client}: {job['job_info']['message']}\n{log}"
    lines = log.splitlines()
    for expected in EXPECTED:
        assert expected in lines, f"{client}: no {expected!r} in the log:\n{log}"
    exp_value = complex(next(line for line in lines if line.startswith("exp_value")).split()[1])
    assert exp_value == pytest.approx(0.5)  # <11| Z0 Z1 + 0.5 Z0 |11> = 1 - 0.5
    # The SSE job's result is its program's last job's.
    result = requests.get(job["job_info"]["result"], timeout=30).content
    with zipfile.ZipFile(io.BytesIO(result)) as opened:
        assert "estimation" in json.loads(opened.read(opened.namelist()[0]))


def test_sse_driver_reports_a_failed_job_as_the_real_one_does(our_server: LocalServer) -> None:
    source = """
import sse_driver
request = {"device_id": "qulacs", "job_type": "sampling", "shots": 10}
try:
    sse_driver.submit_job(request, {"program": ["OPENQASM 3; qubit[1] q; bogus q[0];"]})
except sse_driver.SseRuntimeError as e:
    print("raised", isinstance(e, RuntimeError), str(e).split(" reason:")[0])
"""
    job, log = _run_sse(our_server, source)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    assert "raised True To execute sampling on OQTOPUS server is failed." in log


# An estimation with today's mitigation_info, as an SSE program for OQTOPUS writes it.
ESTIMATION_PROGRAM = """
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusEstimationBackend

circuit = QuantumCircuit(2)
circuit.add_H_gate(0)
circuit.add_CNOT_gate(0, 1)
operator = Operator({pauli_label("Z0 Z1"): 1.0, pauli_label("X0 X1"): 0.5})
mitigation = {"readout": {"method": "pseudo_inverse"}, "zne": {"params": {"scale_factors": [1, 3]}}}
job = OqtopusEstimationBackend(OqtopusConfig.from_file()).estimate(
    circuit, operator, device_id="sse", shots=500, simulator_info={"seed": 4},
    mitigation_info=mitigation,
)
result = job.result()
print("estimation", repr(result.exp_value), repr(result.stds))
"""


@pytest.mark.parametrize("client", ["reference", "ours"])
def test_an_sse_program_runs_an_estimation_through_sse_driver_and_its_result_is_the_sse_result(
    client: str, request: pytest.FixtureRequest
) -> None:
    from quri_parts_oqtopus.backend import (  # noqa: PLC0415
        OqtopusEstimationResult,
        OqtopusSseBackend,
    )

    fixture = "reference_server" if client == "reference" else "our_server"
    server: LocalServer = request.getfixturevalue(fixture)
    job, log = _run_sse(server, ESTIMATION_PROGRAM)
    assert job["status"] == "succeeded", f"{client}: {job['job_info']['message']}\n{log}"
    printed = next(line for line in log.splitlines() if line.startswith("estimation"))
    exp_value, stds = (float(word) for word in printed.split()[1:])
    assert exp_value == pytest.approx(1.5, abs=0.2)  # <Bell| Z0 Z1 + 0.5 X0 X1 |Bell>
    result = requests.get(job["job_info"]["result"], timeout=30).content
    with zipfile.ZipFile(io.BytesIO(result)) as opened:
        payload = json.loads(opened.read(opened.namelist()[0]))
    assert payload["estimation"] == {"exp_value": exp_value, "stds": stds}
    scales = payload["mitigation_details"]["zne"]["scale_results"]
    assert [s["scale_factor"] for s in scales] == [1.0, 3.0]
    ours = OqtopusSseBackend(server.config).retrieve_job(job["job_id"]).result()
    assert isinstance(ours, OqtopusEstimationResult)
    assert (ours.exp_value, ours.mitigation_details) == (exp_value, payload["mitigation_details"])
