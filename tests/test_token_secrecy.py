"""A sentinel API token pushed through every error path never shows up anywhere.

Not in exception messages, reprs or tracebacks, not in any log record (DEBUG included,
urllib3's too), not in the files the client writes (SSE logs, job set journals), and it
is never sent to storage URLs.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
    OqtopusSseBackend,
)
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer

from .admin import Admin
from .conftest import SENTINEL_TOKEN, bell

DEVICE = "qulacs"


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def quick(config: OqtopusConfig) -> OqtopusConfig:
    return OqtopusConfig(config.url, config.api_token, retries=1, backoff=0.0, timeout=(2, 2))


def error_paths(config: OqtopusConfig, admin: Admin, tmp: Path) -> list[Callable[[], Any]]:
    sampling = OqtopusSamplingBackend(quick(config))
    done = sampling.sample(bell(), DEVICE, 5)
    done.wait_for_completion(timeout=60, wait=0.05)

    def with_fault(rule: dict[str, Any], call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            admin.add_fault(**rule, times=-1)
            try:
                return call()
            finally:
                admin.clear_faults()

        return run

    failing = {"status": 500, "body": '{"message": "boom"}'}
    return [
        lambda: OqtopusDeviceBackend(OqtopusConfig(config.url, "wrong")).get_devices(),
        lambda: sampling.retrieve_job("no-such-job"),
        done.cancel,
        lambda: sampling.sample_qasm("OPENQASM 3;\nqubit[1] q;\nbad q[0];", DEVICE, 5).result(
            timeout=60, wait=0.05
        ),
        with_fault(
            {"method": "GET", "path": "^/devices", **failing},
            lambda: OqtopusDeviceBackend(quick(config)).get_devices(),
        ),
        with_fault(
            {"method": "POST", "path": "^/jobs$", **failing},
            lambda: sampling.sample(bell(), DEVICE, 5),
        ),
        with_fault(
            {"method": "POST", "path": "^/_storage/", **failing},
            lambda: sampling.sample(bell(), DEVICE, 5),
        ),
        with_fault(
            {"method": "POST", "path": "/submit$", **failing},
            lambda: sampling.sample(bell(), DEVICE, 5),
        ),
        with_fault({"method": "GET", "path": "^/jobs/", "status": 200, "body": "{"}, done.refresh),
        with_fault(
            {"method": "GET", "path": "^/_storage/", **failing},
            lambda: sampling.retrieve_job(done.job_id).result(timeout=5, wait=0.05),
        ),
        lambda: download_log_deprecated(OqtopusSseBackend(quick(config)), str(tmp)),
        lambda: OqtopusSamplingBackend(
            OqtopusConfig("http://127.0.0.1:9", SENTINEL_TOKEN, retries=0)
        ).sample(bell(), DEVICE, 5),
    ]


def download_log_deprecated(backend: OqtopusSseBackend, save_dir: str) -> str:
    with pytest.warns(DeprecationWarning, match="download_log is deprecated"):
        return backend.download_log("no-such-job", save_dir)


def test_sentinel_token_never_leaks(
    server: LocalServer,
    config: OqtopusConfig,
    admin: Admin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert config.api_token == SENTINEL_TOKEN
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    for index, call in enumerate(error_paths(config, admin, tmp_path)):
        with pytest.raises(BackendError) as info:
            call()
        texts += [f"path {index}: {text}" for text in texts_of(info.value)]
    backend = OqtopusSamplingBackend(config)
    job = backend.sample(bell(), DEVICE, 5, name="secrecy")
    job.result(timeout=60, wait=0.05)
    texts += [repr(config), str(config), repr(backend), repr(job), job.to_json()]
    texts += [record.getMessage() for record in caplog.records]
    journal = tmp_path / "set.jobs"
    OqtopusJobSet.submit([bell()], DEVICE, 5, config, journal=journal).wait(wait=0.05)
    texts.append(journal.read_text())
    assert len(caplog.records) > 0  # the client did log, at DEBUG
    leaks = [text[:200] for text in texts if SENTINEL_TOKEN in text]
    assert leaks == []
