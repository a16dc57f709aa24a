"""Fixtures shared by the integration tests: one local OQTOPUS server on loopback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, settings
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.local import LocalServer

from .admin import Admin

SENTINEL_TOKEN = "sentinel-Tk-5f1c2e9a-never-print-me"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow", action="store_true", help="also run the tests marked slow (make ci does)"
    )
    parser.addoption(
        "--runlong",
        action="store_true",
        help="also run the tests marked long: scale runs behind a flag (make test-long)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips = {
        "slow": (
            config.getoption("--runslow"),
            pytest.mark.skip(reason="slow: only CI needs it (pytest --runslow, make ci)"),
        ),
        "long": (
            config.getoption("--runlong"),
            pytest.mark.skip(reason="long: a scale run (pytest --runlong, make test-long)"),
        ),
    }
    for item in items:
        for marker, (wanted, skip) in skips.items():
            if marker in item.keywords and not wanted:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    # The one server of the session (tests/local's raw-HTTP tests use it too).
    with LocalServer(token=SENTINEL_TOKEN, admin=True, workers=2, sse_timeout=60) as local:
        yield local


@pytest.fixture
def config(server: LocalServer) -> OqtopusConfig:
    return server.config


@pytest.fixture
def admin(server: LocalServer) -> Iterator[Admin]:
    switches = Admin(server.url, server.token)
    yield switches
    switches.reset()


# Hypothesis profiles: the default draws 200 new examples a test on each run (`make test`);
# under CI (CI=true) 500, the same ones every run, so that a submission is never refused by
# chance (new examples are found on developers' runs and by the long profile);
# `pytest --hypothesis-profile=long` (or HYPOTHESIS_PROFILE=long): 5,000.
settings.register_profile(
    "default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("default"), max_examples=500, derandomize=True)
settings.register_profile("long", settings.get_profile("default"), max_examples=5000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "default")
)


def bell() -> QuantumCircuit:
    """H then CNOT: only 00 and 11 are ever measured."""
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    return circuit


def ghz(qubit_count: int) -> QuantumCircuit:
    """A GHZ state: only all-zeros and all-ones are ever measured."""
    circuit = QuantumCircuit(qubit_count)
    circuit.add_H_gate(0)
    for qubit in range(1, qubit_count):
        circuit.add_CNOT_gate(qubit - 1, qubit)
    return circuit


def x_on(qubit: int, qubit_count: int) -> QuantumCircuit:
    """X on one qubit: the one outcome is ``1 << qubit``."""
    circuit = QuantumCircuit(qubit_count)
    circuit.add_X_gate(qubit)
    return circuit


def run_script(
    python: str, script: Path, server: LocalServer, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as a user would, configured only by OQTOPUS_URL/OQTOPUS_API_TOKEN."""
    env = {
        **os.environ,
        "OQTOPUS_URL": server.url,
        "OQTOPUS_API_TOKEN": server.token,
        "HOME": str(cwd),  # no ~/.oqtopus: the environment is the only config
    }
    return subprocess.run(
        [python, str(script)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def server_jobs(server: LocalServer, text: str) -> list[dict[str, str]]:
    """Every job on the server whose name starts with ``text``, read past the proxy."""
    jobs: list[dict[str, str]] = []
    page = 1
    while True:
        query: dict[str, str | int] = {"q": text, "page": page, "size": 1000}
        answer = requests.get(
            f"{server.url}/jobs",
            params=query,
            headers={"q-api-token": server.token},
            timeout=30,
        )
        answer.raise_for_status()
        batch: list[dict[str, str]] = answer.json()
        jobs += [job for job in batch if job["name"].startswith(text)]
        if len(batch) < 1000:
            return jobs
        page += 1


def server_job_count(server: LocalServer) -> int:
    """How many jobs the server holds, named or not (read past any proxy)."""
    count, page = 0, 1
    while True:
        query: dict[str, int] = {"page": page, "size": 1000}
        answer = requests.get(
            f"{server.url}/jobs",
            params=query,
            headers={"q-api-token": server.token},
            timeout=30,
        )
        answer.raise_for_status()
        found = len(answer.json())
        count += found
        if found < 1000:
            return count
        page += 1
