"""Rich displays in Jupyter: jobs, devices and job sets as HTML, escaped, without a call."""

from __future__ import annotations

from typing import Any

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
)
from quri_parts_oqtopus.backend.devices.device import OqtopusDevice
from quri_parts_oqtopus.batch.progress import tqdm_class
from quri_parts_oqtopus.jobset import OqtopusJobSet

HOSTILE = '<img src=x onerror="alert(1)">'


class NoServer:
    """A client that fails any call: a display must not make one."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a display called the server: {name}")


def _x() -> QuantumCircuit:
    circuit = QuantumCircuit(1)
    circuit.add_X_gate(0)
    return circuit


def test_a_job_shows_its_status_device_timing_and_escaped_text(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(_x(), "qulacs", 10, name=HOSTILE)
    job.wait_for_completion(timeout=120, wait=0.05)
    shown = job._repr_html_()
    assert job.job_id in shown
    assert ">succeeded</b>" in shown
    assert '<td style="text-align:left">qulacs</td>' in shown
    assert " s / " in shown  # queued / running / total in seconds
    assert "<img" not in shown
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown


def test_a_display_never_calls_the_server() -> None:
    info = {"result": "http://storage.invalid/result.zip", "message": None}
    record = {"job_id": "j-1", "job_type": "sampling", "status": "running", "device_id": "d",
              "shots": 5, "submitted_at": "2026-12-01T09:00:00Z", "job_info": info}  # fmt: skip
    job = OqtopusSamplingJob(record, NoServer())
    shown = job._repr_html_()
    assert ">running</b>" in shown
    assert "2026-12-01 09:00:00+00:00" in shown
    device = OqtopusDevice(
        {"device_id": "d", "device_type": "QPU", "status": "available", "n_qubits": 8,
         "device_info": "http://storage.invalid/device_info.zip", "description": HOSTILE},
        NoServer(),  # type: ignore[arg-type]
    )  # fmt: skip
    shown = device._repr_html_()
    assert 'calibration data</th><td style="text-align:left">yes' in shown
    assert "<img" not in shown


def test_a_device_says_whether_it_has_calibration_data(config: OqtopusConfig) -> None:
    devices = OqtopusDeviceBackend(config)
    assert ">yes</td>" in devices.get_device("emu-ring-8")._repr_html_()
    assert "OQTOPUS device" in devices.get_device("qulacs")._repr_html_()


def test_a_job_set_shows_its_programs_jobs_and_timings(config: OqtopusConfig) -> None:
    job_set = OqtopusJobSet.submit([_x()] * 3, "qulacs", 10, config, max_jobs=2)
    job_set.wait(timeout=120, wait=0.05)
    shown = job_set._repr_html_()
    assert '<th style="text-align:left;padding-right:1em">programs</th>' in shown
    assert ">succeeded</b> 2" in shown
    assert 'programs not submitted</th><td style="text-align:left">1' in shown


def test_progress_bars_are_tqdm_auto_which_draws_a_widget_in_jupyter() -> None:
    from tqdm.auto import tqdm  # noqa: PLC0415

    assert tqdm_class() is tqdm
