"""Server settings: inline job_info values and devices from a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer, settings
from quri_parts_oqtopus.local.devices import emulated_device_info, load_devices_file

from .helpers import Api, bell_qasm


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    devices = tmp_path_factory.mktemp("config") / "devices.json"
    definitions = [
        {"device_id": "small-qpu", "device_type": "QPU", "n_qubits": 3},
        {"device_id": "offline", "status": "unavailable", "description": "down for service"},
    ]
    devices.write_text(json.dumps(definitions), encoding="utf-8")
    with LocalServer(inline_job_info=True, devices_file=devices, example_devices=False) as local:
        yield local


def test_devices_file_adds_devices_beside_the_default(configured: LocalServer) -> None:
    devices = {d["device_id"]: d for d in Api(configured).get("/devices").json()}
    assert set(devices) == {"qulacs", "small-qpu", "offline"}
    assert (devices["small-qpu"]["device_type"], devices["small-qpu"]["n_qubits"]) == ("QPU", 3)
    assert devices["offline"]["status"] == "unavailable"
    assert devices["offline"]["description"] == "down for service"


def test_jobs_on_a_configured_device_run_there(configured: LocalServer) -> None:
    api = Api(configured)
    job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, device_id="small-qpu"))
    assert (job["status"], job["device_id"]) == ("succeeded", "small-qpu")


def test_inline_setting_serves_job_info_values_instead_of_urls(configured: LocalServer) -> None:
    api = Api(configured)
    programs = [bell_qasm(), bell_qasm()]
    job = api.wait(api.submit("multi_manual", {"program": programs}, shots=100))
    info = job["job_info"]
    assert info["input"] == {"program": programs}
    assert sum(info["result"]["sampling"]["counts"].values()) == 100
    assert set(info["result"]["sampling"]["divided_counts"]) == {"0", "1"}
    assert info["combined_program"].startswith("OPENQASM 3;")
    assert info["transpile_result"]["transpiled_program"] == info["combined_program"]


def test_an_invalid_devices_file_stops_the_server_at_startup(tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps([{"device_id": "x", "status": "sleepy"}]), encoding="utf-8")
    with pytest.raises(RuntimeError, match="device status must be one of"):
        LocalServer(data_dir=tmp_path / "data", devices_file=devices).start()


HOSTILE_DEFINITIONS = [
    (
        [{"device_id": "a", "n_qubits": 3}, {"device_id": "a", "n_qubits": 5}],
        "defines device_id ['a'] more than once",
    ),
    ([{"device_id": "huge", "n_qubits": 10**30}], "n_qubits must be at most 10000: 1e+30"),
    (
        '[{"device_id": "slow", "execution_delay": Infinity}]',
        "execution_delay must be a finite non-negative number: inf",
    ),
    (
        '[{"device_id": "e", "device_info": {"qubits": [{"id": 0, "qubit_lifetime":'
        ' {"t1": Infinity}}]}}]',
        "qubits[0].qubit_lifetime.t1 must be a finite number, got inf",
    ),
    (
        '[{"device_id": "e", "device_info": {"qubits": [{"id": 0, "gate_duration":'
        ' {"sx": NaN}}]}}]',
        "qubits[0].gate_duration.sx must be a finite number, got nan",
    ),
    (
        # A spelling of "qubits" that a search of the raw text missed: the device was then
        # advertised as a 26-qubit simulator, and every job on it failed late.
        [
            {
                "device_id": "e",
                "device_info": json.dumps(
                    {"qubits": [{"id": 0}, {"id": 1}], "couplings": [{"control": 0, "target": 5}]}
                ).replace('"qubits"', '"qubit\\u0073"'),
            }
        ],
        "couplings[0] names qubit 5; the device has 2",
    ),
    (
        [
            {
                "device_id": "e",
                "device_info": {
                    "qubits": [
                        {"id": 0, "qubit_lifetime": {"t1": 0.0001}, "gate_duration": {"x": 60}}
                    ]
                },
            }
        ],
        "qubit 0: gate_duration.x and qubit_lifetime.t1 leave its noise channel undefined:"
        " 60 ns relax a qubit of T1 = 0.0001 us completely",
    ),
    (
        [
            {
                "device_id": "e",
                "device_info": {
                    "qubits": [{"id": 0, "qubit_lifetime": {"t1": 50}}, {"id": 1}],
                    "couplings": [{"control": 0, "target": 1, "gate_duration": {"cx": 1e9}}],
                },
            }
        ],
        "couplings[0] (0 -> 1): its gate_duration and the qubits' qubit_lifetime.t1 leave the"
        " cx noise channel undefined: 1e+09 ns relax a qubit of T1 = 50 us completely",
    ),
]


@pytest.mark.parametrize(("definitions", "reason"), HOSTILE_DEFINITIONS)
def test_a_hostile_devices_file_is_refused_naming_the_field(
    tmp_path: Path, definitions: object, reason: str
) -> None:
    devices = tmp_path / "devices.json"
    text = definitions if isinstance(definitions, str) else json.dumps(definitions)
    devices.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=None) as caught:
        load_devices_file(devices)
    assert reason in str(caught.value)
    assert str(devices) in str(caught.value)


def test_a_calibration_spelled_with_escapes_makes_an_emulated_qpu(tmp_path: Path) -> None:
    info = json.dumps(
        {"qubits": [{"id": 0}, {"id": 1}], "couplings": [{"control": 0, "target": 1}]}
    )
    escaped = info.replace('"qubits"', '"qubit\\u0073"')
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps([{"device_id": "escaped", "device_info": escaped}]))
    (device,) = load_devices_file(devices)
    assert (device["device_type"], device["n_qubits"]) == ("QPU", 2)
    assert emulated_device_info(device) == escaped


def test_a_generated_token_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # A token like "-x..." reads as an option on a command line (``oqtopus --token -x``);
    # token_urlsafe gives one about once in 64 draws, so the draw is repeated.
    draws = iter(["-starts-with-a-dash", "_fine-token"])
    monkeypatch.setattr("secrets.token_urlsafe", lambda n: next(draws))
    assert settings.new_token() == "_fine-token"
