"""What ours adds to the reference's behaviour, beyond what the side-by-side suite compares
(tests/interop/test_conformance.py): the documented type beside the reference's, our
details after the reference's text, and the extensions that cannot break its users."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpError
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
)
from quri_parts_oqtopus.backend.job_result import OqtopusSamplingJobResult

from .admin import Admin
from .conftest import x_on

DEVICE = "qulacs"


def test_a_failed_call_keeps_the_http_error_and_adds_ours_after_the_reference_text(
    config: OqtopusConfig,
) -> None:
    with pytest.raises(OqtopusHttpError) as info:
        OqtopusJobBackendBase(config).retrieve_job("no-such-job")
    assert info.value.status == 404
    assert str(info.value) == (
        "To retrieve_job from OQTOPUS Cloud is failed. "
        "get job no-such-job failed: HTTP 404: job no-such-job not found"
    )
    assert isinstance(info.value.__cause__, OqtopusHttpError)


def test_a_failed_job_names_itself_and_the_server_message(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample_qasm("garbage", device_id=DEVICE, shots=1)
    with pytest.raises(BackendError) as info:
        job.result(wait=0.05)
    assert str(info.value).startswith(
        f"Job ended with status failed. Job {job.job_id} ended with status failed: line 1"
    )


@pytest.mark.timing
def test_timeouts_are_also_timeout_errors(config: OqtopusConfig, admin: Admin) -> None:
    admin.set_device(DEVICE, execution_delay=2.0)  # reset by the fixture
    job = OqtopusSamplingBackend(config).sample(x_on(0, 1), device_id=DEVICE, shots=1)
    with pytest.raises(TimeoutError) as info:
        job.result(timeout=0.2, wait=0.05)
    assert isinstance(info.value, BackendError)
    assert str(info.value).startswith(
        f"Timeout occurred after 0.2 seconds. Job {job.job_id} is still"
    )


def test_config_errors_are_value_errors_and_key_errors(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[default]\nurl=u\n", encoding="utf-8")
    (tmp_path / "garbage").write_text("garbage\n", encoding="utf-8")
    for section, path in (("default", "config"), ("nope", "config"), ("default", "missing")):
        with pytest.raises(KeyError) as info:
            OqtopusConfig.from_file(section, str(tmp_path / path))
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith("OQTOPUS config file "), "not a quoted key"
    with pytest.raises(configparser.Error) as unreadable:
        OqtopusConfig.from_file("default", str(tmp_path / "garbage"))
    assert isinstance(unreadable.value, ValueError)


def test_bad_arguments_are_value_errors_and_backend_errors(config: OqtopusConfig) -> None:
    backend = OqtopusSamplingBackend(config)
    for shots in (1.5, 10**8, True):
        with pytest.raises(ValueError, match="shots should be an int from 1 to 10,000,000") as info:
            backend.sample(x_on(0, 1), device_id=DEVICE, shots=shots)  # type: ignore[arg-type]
        assert isinstance(info.value, BackendError)
    with pytest.raises(TypeError) as none_shots:
        backend.sample(x_on(0, 1), device_id=DEVICE, shots=None)  # type: ignore[arg-type]
    assert isinstance(none_shots.value, ValueError)


def test_job_takes_its_client_as_client_or_job_api_but_not_both(config: OqtopusConfig) -> None:
    backend = OqtopusSamplingBackend(config)
    ended = backend.sample(x_on(0, 1), device_id=DEVICE, shots=1).wait_for_completion(wait=0.05)
    assert isinstance(ended, OqtopusSamplingJobResult)
    by_name = OqtopusSamplingJob(ended, job_api=backend._client)
    assert by_name.result().counts == {1: 1}
    with pytest.raises(TypeError, match="not both"):
        OqtopusSamplingJob(ended, backend._client, job_api=backend._client)
    with pytest.raises(TypeError, match="'job' should be a job record"):
        OqtopusSamplingJob(42, backend._client)  # type: ignore[arg-type]


def test_wait_for_completion_returns_the_ended_record_with_its_job_info(
    config: OqtopusConfig,
) -> None:
    job = OqtopusSamplingBackend(config).sample(x_on(0, 1), device_id=DEVICE, shots=2, name="w")
    ended = job.wait_for_completion(wait=0.05)
    assert ended is not None
    assert (ended.status, ended.name, ended.shots, ended.is_sampling()) == (
        "succeeded",
        "w",
        2,
        True,
    )
    assert ended.job_info == job.job_info
    assert ended.sampling == {"counts": {"1": 2}, "divided_counts": None}
    assert repr(ended) == f"OqtopusSamplingJobResult(job_id={job.job_id!r})"


def test_repr_of_a_job_is_its_json_and_falls_back_when_an_archive_cannot_be_read(
    config: OqtopusConfig, admin: Admin
) -> None:
    job = OqtopusSamplingBackend(config).sample(x_on(0, 1), device_id=DEVICE, shots=1)
    job.wait_for_completion(wait=0.05)
    unread = OqtopusSamplingBackend(config).retrieve_job(job.job_id)
    admin.add_fault(method="GET", path="^/_storage/", status=404, body="{}", times=-1)
    text = repr(unread)
    assert text.startswith(f"OqtopusSamplingJob(job_id={job.job_id!r}"), text
    admin.clear_faults()
    assert repr(unread) == unread.to_json()
