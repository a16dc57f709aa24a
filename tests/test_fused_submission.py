"""sample(), job sets and samplers go from circuits to the upload archive in one native call
(read, print, escape and deflate), before the job is registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus import _core
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler, create_oqtopus_sampler
from tests.conftest import server_jobs, x_on
from tests.formats.test_qasm_parity import oracle

DEVICE = "qulacs"


@pytest.fixture
def two_step_calls_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The QASM-then-archive pair of native calls fails: only the fused call works."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the circuits went through two native calls")

    monkeypatch.setattr(_core, "circuits_to_qasm", refused)
    monkeypatch.setattr(_core, "programs_input", refused)


def uploaded(config: OqtopusConfig, job_id: str) -> Any:
    return OqtopusSamplingBackend(config).retrieve_job(job_id).job_info["input"]["program"]


@pytest.mark.usefixtures("two_step_calls_refused")
def test_sample_builds_the_archive_from_circuits_in_one_call(config: OqtopusConfig) -> None:
    backend = OqtopusSamplingBackend(config)
    circuits = [x_on(0, 3), x_on(2, 3)]
    single = backend.sample(circuits[0], DEVICE, shots=5)
    multi = backend.sample(circuits, DEVICE, shots=5)
    assert single.job_type == "sampling"
    assert multi.job_type == "multi_manual"
    assert uploaded(config, single.job_id) == [oracle(circuits[0])]
    assert uploaded(config, multi.job_id) == [oracle(c) for c in circuits]
    assert multi.result(timeout=60, wait=0.05).divided_counts == {0: {1: 5}, 1: {4: 5}}


@pytest.mark.usefixtures("two_step_calls_refused")
def test_job_sets_and_samplers_build_archives_from_circuits_in_one_call(
    config: OqtopusConfig,
) -> None:
    circuits = [x_on(i, 4) for i in range(4)]
    job_set = OqtopusJobSet.submit(circuits, DEVICE, 3, config)
    assert job_set.wait(timeout=60, wait=0.05)
    assert [r.counts for r in job_set.results()] == [{1 << i: 3} for i in range(4)]  # type: ignore[union-attr]
    sampler = create_oqtopus_sampler(DEVICE, config, wait=0.05)
    assert sampler(circuits[1], 7) == {2: 7}
    concurrent = create_oqtopus_concurrent_sampler(DEVICE, config, wait=0.05)
    assert list(concurrent([(circuits[2], 2), (circuits[3], 4)])) == [{4: 2}, {8: 4}]


def test_a_refused_circuit_fails_before_any_job_is_registered(
    config: OqtopusConfig, server: LocalServer
) -> None:
    bad = QuantumCircuit(2)
    bad.add_H_gate(0)
    bad.add_SqrtY_gate(1)
    backend = OqtopusSamplingBackend(config)
    with pytest.raises(NotImplementedError, match="SqrtY"):
        backend.sample([x_on(0, 2), bad], DEVICE, shots=5, name="fused-refused")
    with pytest.raises(NotImplementedError, match="SqrtY"):
        OqtopusJobSet.submit([x_on(0, 2), bad], DEVICE, 5, config, name="fused-refused-set")
    assert server_jobs(server, "fused-refused") == []


class RecordingBackend(OqtopusSamplingBackend):
    """A user's subclass that sees the QASM the reference's sample() hands sample_qasm."""

    seen: list[Any]

    def sample_qasm(self, program: str | Sequence[str], *args: Any, **kwargs: Any) -> Any:
        self.seen = [program]
        return super().sample_qasm(program, *args, **kwargs)


def test_a_subclass_sample_qasm_still_sees_the_texts(config: OqtopusConfig) -> None:
    backend = RecordingBackend(config)
    circuits = [x_on(1, 2), x_on(0, 2)]
    job = backend.sample(circuits, DEVICE, shots=4)
    assert backend.seen == [[oracle(c) for c in circuits]]
    backend.sample(circuits[0], DEVICE, shots=4)
    assert backend.seen == [oracle(circuits[0])]
    assert job.result(timeout=60, wait=0.05).divided_counts == {0: {2: 4}, 1: {1: 4}}
