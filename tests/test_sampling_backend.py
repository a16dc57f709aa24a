"""QURI Parts' SamplingBackend protocol: a device-bound backend whose sample(circuit, shots)
QURI Parts' own helpers use, with the installed QURI Parts and with the oldest we support
(0.20, where the keyword was n_shots)."""

from __future__ import annotations

import os
import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from quri_parts.backend import SamplingBackend
from quri_parts.core.estimator.sampling import create_sampling_estimator
from quri_parts.core.measurement import bitwise_commuting_pauli_measurement
from quri_parts.core.operator import Operator, pauli_label
from quri_parts.core.sampling import (
    create_concurrent_sampler_from_sampling_backend,
    create_sampler_from_sampling_backend,
)
from quri_parts.core.sampling.shots_allocator import create_equipartition_shots_allocator
from quri_parts.core.state import quantum_state

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingResult
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.sampler import OqtopusDeviceSamplingBackend

from .conftest import bell, run_script, server_jobs, x_on

#: A Python with quri-parts 0.20 and this package (``make oldest-venv``); unset or missing:
#: skipped (``make test`` and ``make ci`` make it).
OLDEST = os.environ.get("OQTOPUS_OLDEST_QURI_PARTS_PYTHON")
OLDEST_MISSING = OLDEST is None or not Path(OLDEST).exists()


def test_quri_parts_sampler_from_the_backend_runs_on_the_bound_device(
    config: OqtopusConfig, server: LocalServer
) -> None:
    backend: SamplingBackend = OqtopusDeviceSamplingBackend(
        "qulacs", config, wait=0.05, name="protocol"
    )
    sampler = create_sampler_from_sampling_backend(backend)
    counts = sampler(bell(), 500)
    assert set(counts) <= {0, 3}
    assert sum(counts.values()) == 500
    concurrent = create_concurrent_sampler_from_sampling_backend(backend)
    assert list(concurrent([(x_on(0, 2), 10), (x_on(1, 2), 20)])) == [
        Counter({1: 10}),
        Counter({2: 20}),
    ]
    assert [job["device_id"] for job in server_jobs(server, "protocol")] == ["qulacs"] * 3


def test_quri_parts_sampling_estimator_runs_over_the_backend(config: OqtopusConfig) -> None:
    backend = OqtopusDeviceSamplingBackend("qulacs", config, wait=0.05)
    estimator = create_sampling_estimator(
        4000,
        create_concurrent_sampler_from_sampling_backend(backend),
        bitwise_commuting_pauli_measurement,
        create_equipartition_shots_allocator(),
    )
    estimate = estimator(Operator({pauli_label("Z0 Z1"): 1.0}), quantum_state(2, circuit=bell()))
    assert estimate.value == pytest.approx(1.0)


def test_sample_takes_shots_or_n_shots_and_gives_the_job(config: OqtopusConfig) -> None:
    backend = OqtopusDeviceSamplingBackend("qulacs", config, wait=0.05)
    by_keyword = backend.sample(x_on(0, 1), shots=7)
    by_old_keyword = backend.sample(x_on(0, 1), n_shots=9)
    assert by_keyword.result().counts == Counter({1: 7})
    assert by_old_keyword.result().counts == Counter({1: 9})
    assert isinstance(by_keyword.result(), OqtopusSamplingResult)
    assert by_keyword.job.job_id != by_old_keyword.job.job_id


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [({}, "sample() needs shots"), ({"shots": 5, "n_shots": 6}, "give one")],
)
def test_shots_missing_or_twice_are_refused(
    config: OqtopusConfig, arguments: dict[str, int], needle: str
) -> None:
    backend = OqtopusDeviceSamplingBackend("qulacs", config)
    with pytest.raises(ValueError, match=re.escape(needle)):
        backend.sample(x_on(0, 1), **arguments)


OLDEST_SCRIPT = """
    import quri_parts.core
    from importlib.metadata import version
    from quri_parts.circuit import QuantumCircuit
    from quri_parts.core.sampling import create_sampler_from_sampling_backend
    from quri_parts_oqtopus.sampler import OqtopusDeviceSamplingBackend

    circuit = QuantumCircuit(2)
    circuit.add_X_gate(1)
    backend = OqtopusDeviceSamplingBackend("qulacs", wait=0.05)
    sampler = create_sampler_from_sampling_backend(backend)
    print(version("quri-parts-core"), dict(sampler(circuit, 30)))
"""


@pytest.mark.skipif(OLDEST_MISSING, reason="no OQTOPUS_OLDEST_QURI_PARTS_PYTHON (make oldest-venv)")
def test_the_oldest_quri_parts_helpers_use_the_backend(server: LocalServer, tmp_path: Path) -> None:
    assert OLDEST is not None
    script = tmp_path / "oldest.py"
    script.write_text(textwrap.dedent(OLDEST_SCRIPT))
    done = run_script(OLDEST, script, server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.20.0", "{2:", "30}"], done.stdout
