"""An estimate before submitting: jobs as packing will make them, QPU time from the gate
durations and readout, success probability from the calibrated errors; nothing sent."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusDeviceBackend
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.packing import PackingPolicy
from quri_parts_oqtopus.run_estimate import estimate_run

from .conftest import server_job_count, server_jobs


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    # A server of its own: the session's may have its example devices switched off by
    # other tests' admin calls, and this module submits to them.
    with LocalServer(workers=2) as local:
        yield local


@pytest.fixture
def config(server: LocalServer) -> OqtopusConfig:
    return server.config


def chain(width: int = 4) -> QuantumCircuit:
    circuit = QuantumCircuit(width)
    circuit.add_H_gate(0)
    for qubit in range(width - 1):
        circuit.add_CNOT_gate(qubit, qubit + 1)
    return circuit


@pytest.mark.parametrize(
    ("device_id", "policy"),
    [
        ("emu-heavyhex-16", PackingPolicy()),
        ("emu-square-64", PackingPolicy()),
        ("emu-square-64", PackingPolicy(keep_apart=True)),
    ],
)
def test_the_estimate_counts_the_jobs_packing_makes_and_sends_none(
    server: LocalServer, device_id: str, policy: PackingPolicy
) -> None:
    circuits = [chain()] * 20
    before = server_job_count(server)
    found = estimate_run(circuits, device_id, 100, server.config, pack=policy)
    assert server_job_count(server) == before  # nothing submitted
    name = f"estimated-{device_id}-{policy.keep_apart}"
    job_set = OqtopusJobSet.submit(circuits, device_id, 100, server.config, pack=policy,
                                   name=name)  # fmt: skip
    jobs = [job for job in job_set.jobs if job is not None]
    assert found.jobs == len({job.job_id for job in jobs})
    assert sum(found.programs_per_job) == 20
    assert (
        found.bound
        == DeviceCalibration.from_device(
            OqtopusDeviceBackend(server.config).get_device(device_id)
        ).n_qubits
        // 4
    )
    assert found.mean_region_error < found.random_region_error
    job_set.wait(timeout=120, wait=0.05)
    for job in server_jobs(server, name):
        assert job["status"] == "succeeded"


def test_time_and_success_of_one_x_gate_come_from_its_qubits_calibration(
    config: OqtopusConfig,
) -> None:
    flip = QuantumCircuit(1)
    flip.add_X_gate(0)
    found = estimate_run(flip, "emu-ring-8", 1000, config, readout_ns=1500)
    calibration = DeviceCalibration.from_device(
        OqtopusDeviceBackend(config).get_device("emu-ring-8")
    )
    (program,) = found.programs
    (qubit,) = program.qubits
    assert qubit == calibration.best_qubits(1)[0]  # alone, on the best calibrated qubit
    chosen = calibration.qubits[qubit]
    assert program.native_gates == {"sx": 0, "x": 1, "cx": 0}
    assert program.duration_ns == pytest.approx(chosen.gate_duration["x"] + 1500)
    assert found.qpu_seconds == pytest.approx(1000 * program.duration_ns * 1e-9)
    expected = (1 - chosen.gate_error) * (1 - chosen.readout_error)
    assert program.success_probability == pytest.approx(expected)
    assert found.jobs == 1


def test_a_cnot_against_the_couplings_direction_costs_four_sx_more(config: OqtopusConfig) -> None:
    calibration = DeviceCalibration.from_device(
        OqtopusDeviceBackend(config).get_device("emu-square-64")
    )
    one_way = calibration.couplings[0]  # emu-square-64 couples each pair one way
    forward, backward = QuantumCircuit(2), QuantumCircuit(2)
    forward.add_CNOT_gate(0, 1)
    backward.add_CNOT_gate(1, 0)
    pair = [one_way.control, one_way.target]
    layout = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": pair}}
    ahead = estimate_run(forward, "emu-square-64", 10, config, transpiler_info=layout)
    against = estimate_run(backward, "emu-square-64", 10, config, transpiler_info=layout)
    assert ahead.programs[0].native_gates == {"sx": 0, "x": 0, "cx": 1}
    assert against.programs[0].native_gates == {"sx": 4, "x": 0, "cx": 1}
    assert ahead.programs[0].success_probability > against.programs[0].success_probability
    assert math.isclose(
        ahead.programs[0].duration_ns - 1000, one_way.duration
    )  # the default readout time


def test_a_device_without_calibration_is_refused(config: OqtopusConfig) -> None:
    with pytest.raises(ValueError, match=re.escape("no calibration data")):
        estimate_run(chain(), "qulacs", 10, config)
