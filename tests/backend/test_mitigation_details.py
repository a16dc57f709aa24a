"""Result objects expose the service's ``mitigation_details`` (None where it is absent),
whether the result arrives as a presigned archive (read in Rust) or inline."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusEstimationBackend,
    OqtopusEstimationResult,
    OqtopusSamplingBackend,
    OqtopusSamplingResult,
)
from quri_parts_oqtopus.backend.infos import readout_mitigation, zne
from quri_parts_oqtopus.counts import decode_sampling_archive
from quri_parts_oqtopus.local import LocalServer

DETAILS = {"readout": {"method": "pseudo_inverse", "before": {"counts": {"01": 3}}}}
SEED = {"seed": 11}


def _archive(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("result.json", json.dumps(document))
    return buffer.getvalue()


def test_a_sampling_archive_yields_its_mitigation_details() -> None:
    document = {"sampling": {"counts": {"01": 3}, "divided_counts": None}, "estimation": None}
    mitigated = _archive({**document, "mitigation_details": DETAILS})
    counts, divided, details = decode_sampling_archive(mitigated)
    assert (counts, divided, details) == ({1: 3}, None, DETAILS)
    assert decode_sampling_archive(_archive(document))[2] is None
    assert decode_sampling_archive(_archive({**document, "mitigation_details": None}))[2] is None


def test_results_built_from_a_payload_carry_its_details_or_none() -> None:
    payload = {"sampling": {"counts": {1: 3}}, "mitigation_details": DETAILS}
    assert OqtopusSamplingResult(payload).mitigation_details == DETAILS
    assert OqtopusSamplingResult({"counts": {1: 3}}).mitigation_details is None
    estimation = {"estimation": {"exp_value": 0.5, "stds": 0.1}, "mitigation_details": DETAILS}
    assert OqtopusEstimationResult(estimation).mitigation_details == DETAILS
    assert OqtopusEstimationResult({"exp_value": 0.5}).mitigation_details is None
    inner = OqtopusEstimationResult({"exp_value": 0.5}, mitigation_details=DETAILS)
    assert (inner.exp_value, inner.mitigation_details) == (0.5, DETAILS)


@pytest.fixture(scope="module", params=["url", "inline"])
def served(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    with LocalServer(inline_job_info=request.param == "inline") as server:
        yield server


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def test_a_mitigated_sampling_job_shows_the_counts_as_read(served: LocalServer) -> None:
    backend = OqtopusSamplingBackend(served.config)
    job = backend.sample(_bell(), device_id="emu-ring-8", shots=2000, simulator_info=SEED,
                         mitigation_info=readout_mitigation("mthree"))  # fmt: skip
    result = job.result(timeout=120, wait=0.05)
    details = result.mitigation_details
    assert details is not None
    readout = details["readout"]
    assert (readout["method"], readout["applied"]) == ("mthree", "pseudo_inverse")
    before = {int(bits, 2): n for bits, n in readout["before"]["counts"].items()}
    assert sum(before.values()) == 2000
    assert before != dict(result.counts)  # the counts as read, then corrected
    plain = backend.sample(_bell(), device_id="emu-ring-8", shots=2000, simulator_info=SEED)
    assert plain.result(timeout=120, wait=0.05).mitigation_details is None


def test_an_extrapolated_estimation_shows_each_scale(served: LocalServer) -> None:
    operator = Operator({pauli_label("Z0 Z1"): 1.0})
    job = OqtopusEstimationBackend(served.config).estimate(
        _bell(), operator, "emu-ring-8", shots=2000, simulator_info=SEED,
        mitigation_info=zne(scale_factors=(1, 3)),
    )  # fmt: skip
    result = job.result(timeout=120, wait=0.05)
    assert result.mitigation_details is not None
    scales = result.mitigation_details["zne"]["scale_results"]
    assert [s["scale_factor"] for s in scales] == [1.0, 3.0]
    assert result.stds == pytest.approx((scales[0]["stds"] + scales[1]["stds"]) / 2)
