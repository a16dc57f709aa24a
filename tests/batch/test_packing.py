"""Packing circuits into multi_manual jobs: same results per circuit as unpacked, far fewer
jobs, failures named per circuit, resubmission and resume that run each circuit once."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import qulacs
from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit, UnboundParametricQuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.state import quantum_state
from quri_parts.qulacs.circuit import convert_circuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingResult
from quri_parts_oqtopus.estimator import create_oqtopus_packed_estimator
from quri_parts_oqtopus.jobset import OqtopusJobFailure, OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.packing import PackedJob, PackingPolicy, Slot
from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler
from quri_parts_oqtopus.sweep import ParameterSweep

from ..admin import Admin
from ..cli.request_log import logged_requests
from ..conftest import server_jobs, x_on
from ..http_stub import StubServer, json_reply

WIDE = "packing64"  # a 64-qubit device of the shared server, switched on per test
SHOTS = 4000


@pytest.fixture
def wide(admin: Admin) -> str:
    admin.set_device(WIDE, n_qubits=64, status="available", device_info="{}")
    return WIDE


def random_circuit(qubits: int, seed: int) -> QuantumCircuit:
    rng = random.Random(seed)
    circuit = QuantumCircuit(qubits)
    for _ in range(12):
        kind = rng.randrange(3)
        if kind == 0:
            circuit.add_H_gate(rng.randrange(qubits))
        elif kind == 1:
            circuit.add_RY_gate(rng.randrange(qubits), rng.uniform(-3.1, 3.1))
        else:
            control, target = rng.sample(range(qubits), 2)
            circuit.add_CNOT_gate(control, target)
    return circuit


def exact(circuit: QuantumCircuit) -> np.ndarray[Any, Any]:
    state = qulacs.QuantumState(circuit.qubit_count)
    convert_circuit(circuit).update_quantum_state(state)
    probabilities: np.ndarray[Any, Any] = np.abs(state.get_vector()) ** 2
    return probabilities


def chi_square(first: Mapping[int, float], second: Mapping[int, float]) -> tuple[float, int]:
    """Two-sample chi-square homogeneity statistic and its degrees of freedom."""
    keys = sorted(set(first) | set(second))
    n1, n2 = sum(first.values()), sum(second.values())
    statistic = 0.0
    for key in keys:
        a, b = first.get(key, 0), second.get(key, 0)
        total = a + b
        e1, e2 = total * n1 / (n1 + n2), total * n2 / (n1 + n2)
        statistic += (a - e1) ** 2 / e1 + (b - e2) ** 2 / e2
    return statistic, max(len(keys) - 1, 1)


def critical(dof: int, z: float = 3.719) -> float:
    """The chi-square quantile at 1 - 1e-4 (Wilson-Hilferty; z is the normal quantile)."""
    return float(dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3)


def counts_of(results: list[OqtopusSamplingResult | OqtopusJobFailure]) -> list[Counter[int]]:
    found = []
    for index, result in enumerate(results):
        assert isinstance(result, OqtopusSamplingResult), f"program {index}: {result}"
        assert result.divided_counts is None, f"program {index} shows divided_counts"
        found.append(Counter(result.counts))
    return found


def test_packed_and_unpacked_results_are_the_same_distribution_per_circuit(
    config: OqtopusConfig, wide: str
) -> None:
    circuits = [random_circuit(4, seed) for seed in range(24)]
    unpacked = OqtopusJobSet.submit(circuits, wide, SHOTS, config, simulator_info={"seed": 1})
    packed = OqtopusJobSet.submit(
        circuits, wide, SHOTS, config, simulator_info={"seed": 2}, pack=True
    )
    assert unpacked.wait(timeout=300, wait=0.05)
    assert packed.wait(timeout=300, wait=0.05)
    jobs = {job.job_id: job for job in packed.jobs if job is not None}
    assert len(jobs) == 2, "24 four-qubit circuits on 64 qubits: 16, then 8, per job"
    assert {job.job_type for job in jobs.values()} == {"multi_manual"}
    first_job = packed.jobs[0]
    assert first_job is not None
    assert "qubit[64] q;" in first_job.job_info["combined_program"]  # 16 programs side by side
    alone, together = counts_of(unpacked.results()), counts_of(packed.results())
    for index, circuit in enumerate(circuits):
        statistic, dof = chi_square(alone[index], together[index])
        assert statistic < critical(dof), f"circuit {index}: chi2 {statistic:.1f}, dof {dof}"
        probabilities = exact(circuit)
        distance = 0.5 * sum(
            abs(together[index].get(k, 0) / SHOTS - p) for k, p in enumerate(probabilities)
        )
        assert distance < 0.05, f"circuit {index}: total variation {distance:.3f} from exact"
    # The test can tell circuits apart: another circuit's counts fail it.
    statistic, dof = chi_square(alone[0], together[1])
    assert statistic > critical(dof)


def test_each_circuit_gets_its_own_bits_in_submission_order(
    config: OqtopusConfig, wide: str
) -> None:
    # X on the top qubit of circuits 1..5 qubits wide: each outcome is 1 << (width - 1).
    programs: list[QuantumCircuit | str] = [x_on(w - 1, w) for _ in range(3) for w in range(1, 6)]
    # A text whose 2 classical bits are fewer than its 3 qubits: q[2] measured into c[1].
    programs.insert(4, 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[2] c;\n'
                    "x q[2];\nc[1] = measure q[2];")  # fmt: skip
    policy = PackingPolicy(max_programs=3)
    job_set = OqtopusJobSet.submit(programs, wide, 7, config, pack=policy, name="order")
    assert job_set.wait(timeout=120, wait=0.05)
    expected = [Counter({1 << (w - 1): 7}) for w in (1, 2, 3, 4, 5)] * 3
    expected.insert(4, Counter({2: 7}))
    assert counts_of(job_set.results()) == expected
    assert len({job.job_id for job in job_set.jobs if job is not None}) == 6  # 16 by 3


LINE8 = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7)]  # 0-1-2 | 3-4-5 | 6-7


def line8(admin: Admin) -> str:
    info = {
        "qubits": [{"id": q} for q in range(8)],
        "couplings": [{"control": a, "target": b} for a, b in LINE8],
    }
    admin.set_device("line8", n_qubits=8, status="available", device_info=json.dumps(info))
    return "line8"


def test_a_coupling_map_places_each_circuit_on_a_region_pinned_by_initial_layout(
    config: OqtopusConfig, admin: Admin
) -> None:
    bell = QuantumCircuit(2)
    bell.add_H_gate(0)
    bell.add_CNOT_gate(0, 1)
    flipped = x_on(1, 2)
    job_set = OqtopusJobSet.submit([bell, flipped, bell], line8(admin), 50, config, pack=True)
    assert job_set.wait(timeout=120, wait=0.05)
    results = counts_of(job_set.results())
    assert set(results[0]) <= {0, 3}
    assert sum(results[0].values()) == 50
    assert results[1] == Counter({2: 50})
    assert set(results[2]) <= {0, 3}
    job = job_set.jobs[0]
    assert job is not None
    assert job_set.jobs[2] is job
    options = job.transpiler_info["transpiler_options"]
    layout = options["initial_layout"]
    assert options["optimization_level"] == 1  # the service's default, kept
    assert len(layout) == 6 == len(set(layout))  # disjoint regions
    coupled = {frozenset(link) for link in LINE8}
    assert frozenset(layout[0:2]) in coupled, layout  # each bell pair on a coupling
    assert frozenset(layout[4:6]) in coupled, layout
    assert "cx q[0], q[1];" in job.job_info["combined_program"]  # programs side by side


def test_circuits_run_as_written_go_on_consecutive_connected_qubits(
    config: OqtopusConfig, admin: Admin
) -> None:
    # transpiler_lib null: nothing maps the combined program, so no layout can be pinned
    # (and the emulated device runs only its native gates: x, cx).
    both = QuantumCircuit(2)
    both.add_X_gate(0)
    both.add_CNOT_gate(0, 1)
    flipped = x_on(1, 2)
    job_set = OqtopusJobSet.submit([both, flipped, both], line8(admin), 50, config,
                                   pack=True, transpiler_info={"transpiler_lib": None})  # fmt: skip
    assert job_set.wait(timeout=120, wait=0.05)
    assert counts_of(job_set.results()) == [Counter({3: 50}), Counter({2: 50}), Counter({3: 50})]
    job = job_set.jobs[0]
    assert job is not None
    combined = job.job_info["combined_program"]
    # The first on 0-1; flipped skips qubit 2 (not coupled to 3) and runs on 3-4 (X on 4);
    # the third skips 5 and runs on 6-7.
    assert "x q[4];" in combined, combined
    assert "cx q[6], q[7];" in combined, combined


def test_a_failed_packed_job_names_every_circuit_it_held(config: OqtopusConfig, wide: str) -> None:
    # The server refuses a gate after a measurement (the client's reader does not).
    late_gate = "OPENQASM 3;\nqubit[1] q;\nbit[1] c;\nc[0] = measure q[0];\nx q[0];"
    programs: list[QuantumCircuit | str] = [x_on(0, 2), late_gate, x_on(1, 2)]
    job_set = OqtopusJobSet.submit(programs, wide, 5, config, pack=True)
    assert job_set.wait(timeout=120, wait=0.05)
    failures = job_set.failures()
    job = job_set.jobs[0]
    assert job is not None
    assert [(f.index, f.job_id, f.status, f.packed_with) for f in failures] == [
        (i, job.job_id, "failed", (0, 1, 2)) for i in range(3)
    ]
    for failure in failures:
        assert f"packed job {job.job_id} of programs (0, 1, 2)" in failure.message
        assert "terminal" in failure.message  # the server's reason


def test_resubmitting_a_cancelled_packed_job_runs_each_circuit_once(
    server: LocalServer, wide: str, admin: Admin
) -> None:
    circuits = [x_on(i % 4, 4) for i in range(20)]
    admin.set_device(wide, execution_delay=30.0)  # the first job stays queued or running
    job_set = OqtopusJobSet.submit(circuits, wide, 3, server.config, pack=True, name="resub")
    first, second = job_set.jobs[0], job_set.jobs[16]
    assert first is not None
    assert second is not None
    assert first is not second
    first.cancel()
    second.cancel()
    assert job_set.wait(timeout=120, wait=0.05)
    assert {f.status for f in job_set.failures()} == {"cancelled"}
    admin.set_device(wide, execution_delay=0.0)
    assert job_set.resubmit_failed() == list(range(20))
    assert job_set.wait(timeout=120, wait=0.05)
    assert counts_of(job_set.results()) == [Counter({1 << (i % 4): 3}) for i in range(20)]
    succeeded = [j for j in server_jobs(server, "resub#") if j["status"] == "succeeded"]
    assert sorted(ran_indices(succeeded)) == list(range(20))


def ran_indices(jobs: list[dict[str, str]]) -> list[int]:
    """The circuit indices named by packed jobs (``name#0-15``, ``name#3,5-7``)."""
    indices: list[int] = []
    for job in jobs:
        for part in job["name"].split("#", 1)[1].split(","):
            first, _, last = part.partition("-")
            indices += range(int(first), int(last or first) + 1)
    return indices


def test_a_journal_resumes_a_packed_set_without_new_jobs(
    config: OqtopusConfig, wide: str, tmp_path: Path
) -> None:
    circuits = [x_on(i % 3, 3) for i in range(30)]
    journal = tmp_path / "packed.jobs"
    with OqtopusJobSet.submit(circuits, wide, 4, config, pack=True, journal=journal) as job_set:
        pass  # leaving the block releases the journal for the resume
    again = OqtopusJobSet.resume(journal, circuits, config)
    assert [j.job_id if j else None for j in again.jobs] == [
        j.job_id if j else None for j in job_set.jobs
    ]
    assert again.wait(timeout=120, wait=0.05)
    assert counts_of(again.results()) == [Counter({1 << (i % 3): 4}) for i in range(30)]
    saved = tmp_path / "saved.jobs"
    again.save(saved)
    assert counts_of(OqtopusJobSet.resume(saved, circuits, config).results()) == counts_of(
        again.results()
    )


def test_a_packed_journal_refuses_other_circuits_naming_the_first(
    config: OqtopusConfig, wide: str, tmp_path: Path
) -> None:
    circuits = [x_on(i % 3, 3) for i in range(6)]
    journal = tmp_path / "packed.jobs"
    OqtopusJobSet.submit(circuits, wide, 4, config, pack=True, journal=journal).close()
    other = [*circuits[:4], x_on(0, 4), circuits[5]]
    with pytest.raises(ValueError, match="program 4 is not the one the journal recorded"):
        OqtopusJobSet.resume(journal, other, config)


def test_a_packed_job_refused_at_submission_is_packed_again_at_resume(
    server: LocalServer, admin: Admin, wide: str, tmp_path: Path
) -> None:
    circuits = [x_on(i % 3, 3) for i in range(9)]
    journal = tmp_path / "refused.jobs"
    policy = PackingPolicy(max_programs=3)
    admin.add_fault(
        method="POST", path="^/jobs/[^/]+/submit$", status=400, body='{"message": "no"}'
    )
    name = f"prefused-{time.monotonic_ns()}"
    with OqtopusJobSet.submit(
        circuits, wide, 4, server.config, pack=policy, journal=journal, name=name
    ) as job_set:
        refused = [f.index for f in job_set.failures() if f.status == "not submitted"]
    assert len(refused) == 3  # one packed job: registered, refused, deleted by the client
    with OqtopusJobSet.resume(journal, circuits, server.config) as again:
        assert again.wait(timeout=120, wait=0.05)
        assert counts_of(again.results()) == [Counter({1 << (i % 3): 4}) for i in range(9)]
    ran = [j for j in server_jobs(server, f"{name}#") if j["status"] != "registered"]
    assert sorted(ran_indices(ran)) == list(range(9))


KILLED_CLIENT = """
import sys
from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit, UnboundParametricQuantumCircuit
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.state import quantum_state
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.packing import PackedJob, PackingPolicy, Slot

url, token, journal, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
circuits = []
for i in range(size):
    c = QuantumCircuit(4)
    c.add_X_gate(i % 4)
    circuits.append(c)
OqtopusJobSet.submit(circuits, "qulacs", 3, OqtopusConfig(url, token), journal=journal,
                     name="pcrash", concurrency=4, pack=PackingPolicy(max_programs=3))
"""


def test_a_killed_packing_client_resumes_and_every_circuit_runs_once(
    server: LocalServer, tmp_path: Path
) -> None:
    size = 240  # 80 packed jobs of 3
    journal = tmp_path / "crash.jobs"
    script = tmp_path / "client.py"
    script.write_text(KILLED_CLIENT, encoding="utf-8")
    client = subprocess.Popen(
        [sys.executable, str(script), server.url, server.token, str(journal), str(size)]
    )

    def submitted() -> int:
        return journal.read_text("utf-8").count('"submitted"') if journal.exists() else 0

    deadline = time.monotonic() + 300
    while submitted() < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    client.kill()
    client.wait()
    assert 0 < submitted() < size // 3, submitted()
    circuits = []
    for i in range(size):
        circuit = QuantumCircuit(4)
        circuit.add_X_gate(i % 4)
        circuits.append(circuit)
    job_set = OqtopusJobSet.resume(journal, circuits, server.config, concurrency=4)
    assert job_set.wait(timeout=600, wait=0.2)
    assert counts_of(job_set.results()) == [Counter({1 << (i % 4): 3}) for i in range(size)]
    ran = [j for j in server_jobs(server, "pcrash#") if j["status"] != "registered"]
    indices = ran_indices(ran)
    assert sorted(indices) == list(range(size)), Counter(indices).most_common(3)


def test_the_concurrent_sampler_packs_pairs_of_equal_shots(server: LocalServer, wide: str) -> None:
    sampler = create_oqtopus_concurrent_sampler(
        wide, server.config, pack=True, wait=0.05, name="sampled"
    )
    pairs = [(x_on(i % 4, 4), 5 if i % 2 else 9) for i in range(40)]
    counts = list(sampler(pairs))
    assert counts == [Counter({1 << (i % 4): 5 if i % 2 else 9}) for i in range(40)]
    jobs = server_jobs(server, "sampled")
    assert sorted(int(j["shots"]) for j in jobs) == [5, 5, 9, 9]  # 20 pairs each: 16 + 4 per job


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"max_programs": 0}, "max_programs should be a positive integer or None: 0"),
        ({"max_qubits": -3}, "max_qubits should be a positive integer or None: -3"),
        ({"max_qubits": "8"}, "max_qubits should be a positive integer or None: '8'"),
        ({"max_programs": True}, "max_programs should be a positive integer or None: True"),
        ({"follow_coupling_map": 1}, "follow_coupling_map should be a bool: 1"),
    ],
)
def test_bad_policy_arguments_are_refused_naming_the_value(
    arguments: dict[str, object], needle: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        PackingPolicy(**arguments)  # type: ignore[arg-type]


def test_a_bad_pack_or_a_circuit_too_wide_is_refused_before_any_job(
    server: LocalServer, wide: str
) -> None:
    with logged_requests(server) as log:
        config = OqtopusConfig(log.url, server.token)
        with pytest.raises(
            ValueError, match=re.escape("pack should be True, False or a PackingPolicy: 'yes'")
        ):
            OqtopusJobSet.submit([x_on(0, 4)], wide, 5, config, pack="yes")  # type: ignore[arg-type]
        with pytest.raises(
            ValueError, match=re.escape("pack should be True, False or a PackingPolicy: 2")
        ):
            create_oqtopus_concurrent_sampler(wide, config, pack=2)  # type: ignore[arg-type]
        with pytest.raises(
            ValueError, match=re.escape("total_shots should be a positive integer: 0")
        ):
            create_oqtopus_packed_estimator(wide, 0, config)
        with pytest.raises(ValueError, match=re.escape("pack=False")):
            create_oqtopus_packed_estimator(wide, 100, config, pack=False)
        assert log.take() == []
        with pytest.raises(ValueError, match=re.escape("program 1 (4 qubits) fits nowhere")):
            OqtopusJobSet.submit(
                [x_on(0, 2), x_on(0, 4)], wide, 5, config, pack=PackingPolicy(max_qubits=3)
            )
        assert [path for _, path in log.take() if path.startswith("/jobs")] == []  # device only


def test_the_packed_estimator_shares_jobs_among_the_settings_of_many_states(
    server: LocalServer, wide: str
) -> None:
    # QURI Parts' bitwise grouping makes three settings of it ({Y0}, {Z0 Z1}, {X2 X3}),
    # 2,666 shots each: 24 four-qubit circuits for 8 states.
    operator = Operator(
        {pauli_label("Z0 Z1"): 1.0, pauli_label("X2 X3"): 0.5, pauli_label("Y0"): 0.25}
    )
    circuits = [random_circuit(4, 100 + seed) for seed in range(8)]
    estimator = create_oqtopus_packed_estimator(
        wide, 8000, server.config, wait=0.05, name="estimated", simulator_info={"seed": 3}
    )
    estimates = list(estimator([operator], [quantum_state(4, circuit=c) for c in circuits]))
    for index, (circuit, estimate) in enumerate(zip(circuits, estimates, strict=True)):
        state = qulacs.QuantumState(4)
        convert_circuit(circuit).update_quantum_state(state)
        terms = [("Z 0 Z 1", 1.0), ("X 2 X 3", 0.5), ("Y 0", 0.25)]
        exact_value = sum(c * qulacs.PauliOperator(t, 1.0).get_expectation_value(state).real
                          for t, c in terms)  # fmt: skip
        assert 0 < estimate.error < 0.05, (index, estimate)
        assert abs(estimate.value - exact_value) < 5 * estimate.error, (index, estimate)
    jobs = server_jobs(server, "estimated")
    assert len(jobs) == 2, "24 four-qubit settings: 16, then 8, per 64-qubit job"
    assert {job["job_type"] for job in jobs} == {"multi_manual"}


def test_a_failed_packed_job_of_the_sampler_names_every_pair_it_held(
    config: OqtopusConfig, wide: str, admin: Admin
) -> None:
    sampler = create_oqtopus_concurrent_sampler(wide, config, pack=True, wait=0.05)
    assert list(sampler([(x_on(0, 4), 5)])) == [Counter({1: 5})]  # the device is read now
    admin.set_device(wide, n_qubits=8)  # shrunk under the sampler: 16 qubits are refused
    with pytest.raises(BackendError, match=r"packed job \S+ of the pairs at \[0, 1, 2, 3\]"):
        sampler([(x_on(i, 4), 5) for i in range(4)])


def stub_device(**fields: object) -> dict[str, object]:
    device: dict[str, object] = {
        "device_id": "stubbed",
        "device_type": "QPU",
        "status": "available",
        "n_pending_jobs": 0,
        "basis_gates": ["x", "cx"],
        "supported_instructions": ["measure"],
        "device_info": "{}",
        "calibrated_at": "2026-12-01T00:00:00Z",
        "description": "a device served by a stub",
    }
    device.update(fields)
    return {name: value for name, value in device.items() if value is not None}


MALFORMED_DEVICES = [
    ({"n_qubits": None}, "device 'stubbed' states no n_qubits and no coupling map"),
    (
        {"n_qubits": 8, "device_info": json.dumps({"qubits": [{"id": "a"}], "couplings": []})},
        "device_info.qubits[0].id should be a non-negative integer",
    ),
    (
        {"n_qubits": 8, "device_info": json.dumps({"qubits": [{"id": True}], "couplings": []})},
        "device_info.qubits[0].id should be a non-negative integer",
    ),
    (
        {"n_qubits": 8, "device_info": json.dumps({"qubits": [0, 1], "couplings": []})},
        "device_info.qubits[0].id should be a non-negative integer",
    ),
    (
        {
            "n_qubits": 8,
            "device_info": json.dumps({"qubits": [{"id": 0}], "couplings": [{"control": 0}]}),
        },
        "device_info.couplings[0].target should be a non-negative integer",
    ),
]


@pytest.mark.parametrize(("fields", "needle"), MALFORMED_DEVICES)
def test_a_device_packing_cannot_read_is_refused_before_any_job(
    fields: dict[str, object], needle: str
) -> None:
    with StubServer(lambda request: json_reply(stub_device(**fields))) as stub:
        config = OqtopusConfig(stub.url, "token-of-the-stub")
        with pytest.raises(ValueError, match=re.escape(needle)):
            OqtopusJobSet.submit([x_on(0, 2)] * 3, "stubbed", 5, config, pack=True)
        sampler = create_oqtopus_concurrent_sampler("stubbed", config, pack=True)
        with pytest.raises(ValueError, match=re.escape(needle)):
            list(sampler([(x_on(0, 2), 5)]))
    assert {(r.method, r.path) for r in stub.received} == {("GET", "/devices/stubbed")}


def test_a_device_without_n_qubits_packs_within_max_qubits() -> None:
    with StubServer(lambda request: json_reply(stub_device(n_qubits=None))) as stub:
        config = OqtopusConfig(stub.url, "token-of-the-stub")
        with pytest.raises(ValueError, match=re.escape("fits nowhere on the device's 3")):
            OqtopusJobSet.submit(
                [x_on(0, 4)], "stubbed", 5, config, pack=PackingPolicy(max_qubits=3)
            )


@pytest.mark.parametrize(("transpiler_info", "jobs"), [(None, 1), ({"transpiler_lib": None}, 2)])
def test_a_packed_sweep_gives_each_binding_its_own_counts_around_gaps(
    config: OqtopusConfig, admin: Admin, transpiler_info: dict[str, None] | None, jobs: int
) -> None:
    # Line 0-1-2 | 3-4 | 5-6-7. Placed (the default), the bindings' two unlinked qubits go
    # anywhere: 4 fit in 8. As written, a binding cannot start on 2, so it gets idle qubits
    # before it (3 fit in 8); each binding's counts must still be its own two bits.
    links = [(0, 1), (1, 2), (3, 4), (5, 6), (6, 7)]
    info = {
        "qubits": [{"id": q} for q in range(8)],
        "couplings": [{"control": a, "target": b} for a, b in links],
    }
    admin.set_device("gaps8", n_qubits=8, status="available", device_info=json.dumps(info))
    # Native gates only, for the run as written: SX RZ(a) SX is X for a = 0 and leaves
    # qubit 0 as it is for a = pi (up to a phase).
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_SqrtX_gate(0)
    circuit.add_ParametricRZ_gate(0)
    circuit.add_SqrtX_gate(0)
    circuit.add_X_gate(1)
    angles = [0.0, math.pi, 0.0, math.pi]
    sweep = ParameterSweep(circuit, [[a] for a in angles])
    job_set = OqtopusJobSet.submit(
        sweep, "gaps8", 20, config, pack=True, transpiler_info=transpiler_info
    )
    assert job_set.wait(timeout=120, wait=0.05)
    assert counts_of(job_set.results()) == [Counter({2 if a else 3: 20}) for a in angles]
    assert len({job.job_id for job in job_set.jobs if job is not None}) == jobs


@pytest.mark.parametrize("lead", [0, 2])
def test_divided_counts_wider_than_a_program_are_refused_with_or_without_idle_qubits(
    lead: int,
) -> None:
    # Program 7 has 3 bits (and `lead` idle qubits before it): a key of 1 << (lead + 3)
    # is beyond them, whatever the server meant by it.
    pack = PackedJob((Slot(index=7, lead=lead, bits=3),))
    result = OqtopusSamplingResult.from_counts(Counter(), {0: Counter({1 << (lead + 3): 5})})
    with pytest.raises(ValueError, match=re.escape("counts of program 7 exceed its bits")):
        pack.counts(result, "job-x")
    fine = OqtopusSamplingResult.from_counts(Counter(), {0: Counter({0b101 << lead: 5})})
    assert pack.counts(fine, "job-x") == [Counter({0b101: 5})]
