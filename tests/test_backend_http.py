"""Every public member of the backend API, driven over real HTTP against the local server."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from quri_parts.backend import BackendError
from quri_parts.circuit import UnboundParametricQuantumCircuit
from quri_parts.core.operator import PAULI_IDENTITY, Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDevice,
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusEstimationJob,
    OqtopusEstimationResult,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
    OqtopusSseBackend,
    OqtopusSseJob,
)
from quri_parts_oqtopus.counts import split_counts

from .admin import Admin
from .conftest import bell, x_on

DEVICE = "qulacs"
WAIT = 0.05  # seconds between polls: the local server answers in milliseconds


# -- devices ---------------------------------------------------------------------------------
def test_devices_list_the_default_simulator(config: OqtopusConfig) -> None:
    devices = OqtopusDeviceBackend(config).get_devices()
    by_id = {device.device_id: device for device in devices}
    assert DEVICE in by_id, list(by_id)
    device = by_id[DEVICE]
    assert isinstance(device, OqtopusDevice)
    assert device.device_type == "simulator"
    assert device.status == "available"
    assert device.n_qubits >= 24
    assert "cx" in device.basis_gates
    assert "measure" in device.supported_instructions
    assert isinstance(device.device_info, dict)
    assert device.n_pending_jobs >= 0
    assert json.loads(device.to_json())["device_id"] == DEVICE


def test_get_device_and_refresh(config: OqtopusConfig, admin: Admin) -> None:
    device = OqtopusDeviceBackend(config).get_device(DEVICE)
    assert device.status == "available"
    admin.set_device_status(DEVICE, "unavailable")
    device.refresh()
    assert device.status == "unavailable"


def test_unknown_device_is_a_backend_error_with_404(config: OqtopusConfig) -> None:
    with pytest.raises(BackendError, match=r"get device 'no-such-device'.*HTTP 404"):
        OqtopusDeviceBackend(config).get_device("no-such-device")


def test_wrong_token_is_a_backend_error_with_401(server: object, config: OqtopusConfig) -> None:
    wrong = OqtopusConfig(config.url, "wrong-token")
    with pytest.raises(BackendError, match="HTTP 401") as info:
        OqtopusDeviceBackend(wrong).get_devices()
    assert "wrong-token" not in str(info.value)


# -- sampling --------------------------------------------------------------------------------
def test_sample_bell_gives_only_correlated_outcomes(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(
        bell(), device_id=DEVICE, shots=2000, name="bell", description="a Bell pair"
    )
    assert isinstance(job, OqtopusSamplingJob)
    assert job.job_type == "sampling"
    assert (job.name, job.description, job.device_id, job.shots) == (
        "bell",
        "a Bell pair",
        DEVICE,
        2000,
    )
    result = job.result(timeout=60, wait=WAIT)
    assert isinstance(result, OqtopusSamplingResult)
    assert set(result.counts) <= {0, 3}, result.counts
    assert sum(result.counts.values()) == 2000
    assert 800 < result.counts[0] < 1200, result.counts
    assert result.divided_counts is None
    assert job.status == "succeeded"
    assert job.execution_time > 0
    assert job.submitted_at is not None
    assert job.ended_at is not None
    assert job.submitted_at <= job.ended_at


def test_counts_put_classical_bit_zero_lowest(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(x_on(0, 3), device_id=DEVICE, shots=10)
    assert job.result(timeout=60, wait=WAIT).counts == {1: 10}


def test_sample_list_is_multi_manual_with_divided_counts(config: OqtopusConfig) -> None:
    circuits = [x_on(1, 2), bell(), x_on(0, 1)]
    job = OqtopusSamplingBackend(config).sample(circuits, device_id=DEVICE, shots=500)
    assert job.job_type == "multi_manual"
    result = job.result(timeout=60, wait=WAIT)
    assert result.divided_counts is not None
    assert set(result.divided_counts) == {0, 1, 2}
    assert result.divided_counts[0] == {2: 500}
    assert set(result.divided_counts[1]) <= {0, 3}
    assert result.divided_counts[2] == {1: 500}
    # The combined counts split by program widths give the same per-program counts.
    combined = {key: int(count) for key, count in result.counts.items()}
    assert split_counts(combined, [2, 2, 1]) == result.divided_counts


def test_sample_qasm_with_explicit_job_type(config: OqtopusConfig) -> None:
    qasm = (
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\n'
        "c[0] = measure q[0];"
    )
    backend = OqtopusSamplingBackend(config)
    single = backend.sample_qasm(qasm, device_id=DEVICE, shots=7)
    multi = backend.sample_qasm(qasm, device_id=DEVICE, shots=7, job_type="multi_manual")
    assert single.job_type == "sampling"
    assert multi.job_type == "multi_manual"
    assert single.result(timeout=60, wait=WAIT).counts == {1: 7}
    assert multi.result(timeout=60, wait=WAIT).divided_counts == {0: {1: 7}}


def test_infos_are_sent_and_defaulted(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(
        bell(),
        device_id=DEVICE,
        shots=10,
        simulator_info={"seed": 7},
        mitigation_info={"ro_error_mitigation": "pseudo_inverse"},
    )
    job.wait_for_completion(timeout=60, wait=WAIT)
    assert job.simulator_info == {"seed": 7}
    assert job.mitigation_info == {"ro_error_mitigation": "pseudo_inverse"}
    assert job.transpiler_info["transpiler_lib"] == "qiskit"


def test_seeded_jobs_are_reproducible(config: OqtopusConfig) -> None:
    backend = OqtopusSamplingBackend(config)
    counts = [
        backend.sample(bell(), device_id=DEVICE, shots=300, simulator_info={"seed": 42})
        .result(timeout=60, wait=WAIT)
        .counts
        for _ in range(2)
    ]
    assert counts[0] == counts[1]


def test_job_info_resolves_input_and_result(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(bell(), device_id=DEVICE, shots=10)
    job.wait_for_completion(timeout=60, wait=WAIT)
    info = job.job_info
    assert info["input"]["program"][0].startswith("OPENQASM 3;")
    assert sum(int(n) for n in info["result"]["sampling"]["counts"].values()) == 10
    document = json.loads(job.to_json())
    assert document["job_id"] == job.job_id
    assert document["status"] == "succeeded"
    assert document["job_info"]["input"] == info["input"]


# -- estimation ------------------------------------------------------------------------------
def test_estimate_zz_on_bell_is_one(config: OqtopusConfig) -> None:
    operator = Operator({pauli_label("Z0 Z1"): 1.0})
    job = OqtopusEstimationBackend(config).estimate(bell(), operator, device_id=DEVICE, shots=2000)
    assert isinstance(job, OqtopusEstimationJob)
    assert job.job_type == "estimation"
    result = job.result(timeout=60, wait=WAIT)
    assert isinstance(result, OqtopusEstimationResult)
    assert result.exp_value is not None
    assert result.stds is not None
    assert math.isclose(result.exp_value, 1.0, abs_tol=max(4 * result.stds, 1e-9))


def test_estimate_qasm_of_a_weighted_sum(config: OqtopusConfig) -> None:
    # <0|(0.5 Z0 + 2 X0 + 1.5 I)|0> = 0.5 + 0 + 1.5 = 2
    operator = Operator(
        {
            pauli_label("Z0"): 0.5,
            pauli_label("X0"): 2.0 + 0j,
            PAULI_IDENTITY: 1.5,
        }
    )
    qasm = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nid q[0];'
    job = OqtopusEstimationBackend(config).estimate_qasm(qasm, operator, DEVICE, 4000)
    result = job.result(timeout=60, wait=WAIT)
    assert result.exp_value is not None
    assert result.stds is not None
    error = abs(result.exp_value - 2.0)
    assert error <= max(5 * result.stds, 1e-9), (result.exp_value, result.stds)


def test_imaginary_coefficient_is_a_value_error(config: OqtopusConfig) -> None:
    operator = Operator({pauli_label("Z0"): 1.0 + 0.5j})
    with pytest.raises(ValueError, match="Complex numbers are not supported"):
        OqtopusEstimationBackend(config).estimate(bell(), operator, DEVICE, 10)


# -- retrieve, wait, cancel ------------------------------------------------------------------
def test_retrieve_job_dispatches_on_job_type(config: OqtopusConfig) -> None:
    sampling = OqtopusSamplingBackend(config)
    made = {
        "sampling": sampling.sample(bell(), DEVICE, 5),
        "multi_manual": sampling.sample([bell(), bell()], DEVICE, 5),
        "estimation": OqtopusEstimationBackend(config).estimate(
            bell(), Operator({pauli_label("Z0"): 1.0}), DEVICE, 5
        ),
    }
    expected = {
        "sampling": OqtopusSamplingJob,
        "multi_manual": OqtopusSamplingJob,
        "estimation": OqtopusEstimationJob,
    }
    for job_type, job in made.items():
        retrieved = OqtopusJobBackendBase(config).retrieve_job(job.job_id)
        assert type(retrieved) is expected[job_type], job_type
        assert retrieved.job_id == job.job_id
        assert retrieved.job_type == job_type


def test_retrieve_unknown_job_is_a_backend_error_naming_it(config: OqtopusConfig) -> None:
    with pytest.raises(BackendError, match=r"get job no-such-job.*HTTP 404"):
        OqtopusSamplingBackend(config).retrieve_job("no-such-job")


@pytest.mark.timing
def test_wait_for_completion_times_out_with_none(config: OqtopusConfig, admin: Admin) -> None:
    admin.set_device_status(DEVICE, "unavailable")
    job = OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)
    started = time.monotonic()
    assert job.wait_for_completion(timeout=0.4, wait=0.1) is None
    # It waited the whole timeout (the device is off: the job cannot end); that no sleep of
    # the loop goes past it is tests/test_polling.py's, on a virtual clock.
    assert time.monotonic() - started >= 0.4
    assert job.status == "submitted"


@pytest.mark.timing
def test_result_timeout_names_the_job_and_the_wait(config: OqtopusConfig, admin: Admin) -> None:
    admin.set_device_status(DEVICE, "unavailable")
    job = OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)
    with pytest.raises(BackendError, match=r"Timeout occurred after 0\.3 seconds") as info:
        job.result(timeout=0.3, wait=0.1)
    assert job.job_id in str(info.value)
    admin.set_device_status(DEVICE, "available")
    assert set(job.result(timeout=60, wait=WAIT).counts) <= {0, 3}


@pytest.mark.timing
def test_cancel_a_waiting_job(config: OqtopusConfig, admin: Admin) -> None:
    admin.set_device_status(DEVICE, "unavailable")
    job = OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)
    job.cancel()
    assert job.status in {"cancelling", "cancelled"}
    job.wait_for_completion(timeout=30, wait=WAIT)
    assert job.status == "cancelled"
    with pytest.raises(BackendError, match="cancelled"):
        job.result(timeout=5, wait=WAIT)


def test_cancel_of_an_ended_job_is_refused(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)
    job.wait_for_completion(timeout=60, wait=WAIT)
    with pytest.raises(BackendError, match=rf"cancel job {job.job_id} failed: HTTP 400"):
        job.cancel()


def test_invalid_program_fails_with_the_servers_reason(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample_qasm(
        "OPENQASM 3;\nqubit[1] q;\nfrobnicate q[0];", DEVICE, 10
    )
    with pytest.raises(BackendError, match=rf"Job {job.job_id} ended with status failed: .+"):
        job.result(timeout=60, wait=WAIT)
    assert job.job_info["message"]


# -- server faults ---------------------------------------------------------------------------
def test_server_error_message_reaches_the_user(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(
        method="GET", path="^/devices$", status=500, body='{"message": "disk on fire"}', times=-1
    )
    with pytest.raises(BackendError, match=r"list devices failed: HTTP 500: disk on fire"):
        OqtopusDeviceBackend(quick_retries(config)).get_devices()


def quick_retries(config: OqtopusConfig, retries: int = 3) -> OqtopusConfig:
    return OqtopusConfig(config.url, config.api_token, retries=retries, backoff=0.01)


def test_a_whole_answer_of_malformed_json_is_a_backend_error_at_once(
    config: OqtopusConfig, admin: Admin
) -> None:
    # The answer came whole (as long as Content-Length said): another attempt would read the
    # same. Only answers cut short are read again (tests/transport/test_budget.py).
    job = OqtopusSamplingBackend(quick_retries(config)).sample(bell(), DEVICE, 10)
    admin.add_fault(
        method="GET", path=f"^/jobs/{job.job_id}$", status=200, body="{not json", times=-1
    )
    with pytest.raises(BackendError, match=rf"get job {job.job_id}: .*malformed JSON") as info:
        job.refresh()
    assert "gave up" not in str(info.value)
    assert admin.fault_hits() == [1]


def test_retries_off_gives_up_at_once(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(method="GET", path="^/devices$", status=503, body="{}", times=-1)
    with pytest.raises(BackendError, match="HTTP 503"):
        OqtopusDeviceBackend(quick_retries(config, retries=0)).get_devices()
    assert admin.fault_hits() == [1]


def test_transient_503_is_retried(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(method="GET", path="^/devices$", status=503, body="{}", times=2)
    devices = OqtopusDeviceBackend(quick_retries(config)).get_devices()
    assert DEVICE in [device.device_id for device in devices]
    assert admin.fault_hits() == [2]


def test_upload_failure_names_the_job_and_step(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(method="POST", path="^/_storage/", status=403, body="<Error>denied</Error>")
    with pytest.raises(BackendError, match=r"upload input of job \S+ failed: HTTP 403") as info:
        OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)
    assert "denied" in str(info.value)


def test_submit_failure_names_the_job(config: OqtopusConfig, admin: Admin) -> None:
    admin.add_fault(
        method="POST", path="^/jobs/[^/]+/submit$", status=400, body='{"message": "bad body"}'
    )
    with pytest.raises(BackendError, match=r"submit job \S+ failed: HTTP 400: bad body"):
        OqtopusSamplingBackend(config).sample(bell(), DEVICE, 10)


# -- bad input: an early ValueError and nothing sent ----------------------------------------
@pytest.mark.parametrize("shots", [0, -1, 1.5, True, 10_000_001, "10"])
def test_bad_shots_are_refused_before_sending(
    config: OqtopusConfig, admin: Admin, shots: object
) -> None:
    admin.add_fault(method=".*", path=".*", delay=0.0, times=-1)  # counts every request
    with pytest.raises(ValueError, match="shots should be") as info:
        OqtopusSamplingBackend(config).sample(bell(), DEVICE, shots)  # type: ignore[arg-type]
    assert repr(shots) in str(info.value)
    assert admin.fault_hits() == [0]


def test_empty_program_list_is_refused(config: OqtopusConfig) -> None:
    with pytest.raises(ValueError, match="empty list"):
        OqtopusSamplingBackend(config).sample([], DEVICE, 10)
    with pytest.raises(ValueError, match="empty list"):
        OqtopusSamplingBackend(config).sample_qasm([], DEVICE, 10)


def test_parametric_circuit_is_refused(config: OqtopusConfig) -> None:
    circuit = UnboundParametricQuantumCircuit(1)
    circuit.add_ParametricRX_gate(0)
    with pytest.raises(ValueError, match="Parametric"):
        OqtopusSamplingBackend(config).sample(circuit, DEVICE, 10)  # type: ignore[arg-type]


# -- SSE ---------------------------------------------------------------------------------------
SSE_PROGRAM = """
from quri_parts.circuit import QuantumCircuit, UnboundParametricQuantumCircuit
from quri_parts_oqtopus.backend import OqtopusSamplingBackend

circuit = QuantumCircuit(2)
circuit.add_X_gate(1)
job = OqtopusSamplingBackend().sample(circuit, device_id="sse", shots=64)
print("counts:", job.result(wait=0.05).counts)
"""


def test_run_sse_returns_the_programs_result_and_its_log(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    program = tmp_path / "program.py"
    program.write_text(SSE_PROGRAM, encoding="utf-8")
    backend = OqtopusSseBackend(config)
    job = backend.run_sse(str(program), device_id=DEVICE, name="sse test")
    assert isinstance(job, OqtopusSseJob)
    assert job.job_type == "sse"
    result = job.result(timeout=120, wait=0.1)
    assert isinstance(result, OqtopusSamplingResult)
    assert result.counts == {2: 64}
    assert type(OqtopusJobBackendBase(config).retrieve_job(job.job_id)) is OqtopusSseJob

    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    path = Path(job.download_log(save_dir=str(log_dir)))
    assert path.name == f"sselog_{job.job_id}.log"
    assert path.stat().st_size > 0
    with pytest.raises(ValueError, match="already exists"):
        job.download_log(save_dir=str(log_dir))
    with pytest.warns(DeprecationWarning, match="download_log is deprecated"):
        again = Path(backend.download_log(job_id=job.job_id, save_dir=str(tmp_path)))
    assert again.read_bytes() == path.read_bytes()


def test_failing_sse_program_fails_the_job(config: OqtopusConfig, tmp_path: Path) -> None:
    program = tmp_path / "boom.py"
    program.write_text("raise SystemExit('no luck here')\n", encoding="utf-8")
    job = OqtopusSseBackend(config).run_sse(str(program), device_id=DEVICE, name="boom")
    with pytest.raises(BackendError, match=rf"Job {job.job_id} ended with status failed"):
        job.result(timeout=120, wait=0.1)


def sse_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "notes.txt").write_text("print(1)")
    (tmp_path / "dir.py").mkdir()
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\n")
    with (tmp_path / "huge.py").open("wb") as f:
        f.truncate(8 * 1024 * 1024)  # 8 MiB -> base64 of 10.7 MiB
    return {
        "missing": (str(tmp_path / "missing.py"), "does not exist"),
        "not .py": (str(tmp_path / "notes.txt"), "not python file"),
        "directory": (str(tmp_path / "dir.py"), "Is a directory"),
        "not UTF-8": (str(tmp_path / "latin1.py"), "not UTF-8"),
        "too large": (str(tmp_path / "huge.py"), "larger than 10485760"),
    }


def test_bad_sse_files_are_value_errors(config: OqtopusConfig, tmp_path: Path) -> None:
    backend = OqtopusSseBackend(config)
    for case, (path, message) in sse_files(tmp_path).items():
        with pytest.raises(ValueError, match=message) as info:
            backend.run_sse(path, DEVICE, "bad")
        assert path in str(info.value), case
    with pytest.raises(ValueError, match="file_path is not set"):
        backend.run_sse(None, DEVICE, "bad")  # type: ignore[arg-type]


def test_the_largest_program_under_the_limit_is_sent_and_one_byte_more_is_not(
    config: OqtopusConfig, tmp_path: Path
) -> None:
    # 7,864,317 bytes are 10,485,756 of base64, under 10 MiB; one byte more reaches it.
    largest = tmp_path / "largest.py"
    largest.write_bytes(b"#" * 7_864_316 + b"\n")
    backend = OqtopusSseBackend(config)
    job = backend.run_sse(str(largest), DEVICE, "largest")
    assert job.job_id
    over = tmp_path / "over.py"
    over.write_bytes(b"#" * 7_864_317 + b"\n")
    with pytest.raises(ValueError, match="larger than 10485760: 10485760 bytes"):
        backend.run_sse(str(over), DEVICE, "over")


def test_download_log_target_checks(config: OqtopusConfig, tmp_path: Path) -> None:
    backend = OqtopusSseBackend(config)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    cases: dict[str, Callable[[], str]] = {
        "no job has been executed": backend.download_log,
        "does not exist": lambda: backend.download_log("any", save_dir=str(tmp_path / "missing")),
        "not a directory": lambda: backend.download_log("any", save_dir=str(a_file)),
    }
    for message, call in cases.items():
        deprecated = pytest.warns(DeprecationWarning, match="download_log is deprecated")
        with pytest.raises(ValueError, match=message), deprecated:
            call()


# -- secrecy -----------------------------------------------------------------------------------
def test_token_never_appears_in_errors_or_reprs(config: OqtopusConfig, admin: Admin) -> None:
    token = config.api_token
    admin.add_fault(method="GET", path=".*", status=500, body='{"message": "nope"}', times=-1)
    config = quick_retries(config)
    backend = OqtopusSamplingBackend(config)
    texts = [repr(config), repr(backend), str(backend), repr(backend._client)]
    for call in (
        lambda: backend.retrieve_job("x"),
        lambda: OqtopusDeviceBackend(config).get_devices(),
    ):
        with pytest.raises(BackendError) as info:
            call()
        texts += [str(info.value), repr(info.value)]
    assert all(token not in text for text in texts), texts


# -- choosing a device -------------------------------------------------------------------------
def test_least_busy_device_skips_unavailable_and_small_devices(
    config: OqtopusConfig, admin: Admin
) -> None:
    backend = OqtopusDeviceBackend(config)
    assert backend.least_busy_device(min_qubits=2).device_id == DEVICE
    with pytest.raises(ValueError, match=r"no available device with 1000\+ qubits") as info:
        backend.least_busy_device(min_qubits=1000)
    assert f"{DEVICE}: " in str(info.value)
    admin.set_device_status(DEVICE, "unavailable")
    with pytest.raises(ValueError, match=f"{DEVICE}: unavailable"):
        backend.least_busy_device()


def test_check_fits_names_the_device_and_the_number(config: OqtopusConfig) -> None:
    device = OqtopusDeviceBackend(config).get_device(DEVICE)
    device.check_fits([2, 3], 100)
    with pytest.raises(ValueError, match=rf"has {device.n_qubits} qubits; the programs need 1000"):
        device.check_fits([500, 500], 100)
    with pytest.raises(ValueError, match="shots"):
        device.check_fits([1], 0)
