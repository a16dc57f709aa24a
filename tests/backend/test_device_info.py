"""A device's ``device_info`` in both forms the service has served: a presigned URL of a ZIP
holding ``device_info.json`` (today; null when the device has none), and inline JSON text
(earlier servers). The client reads both the same way."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
import requests

from quri_parts_oqtopus.backend import OqtopusDeviceBackend
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin

BARE = {"device_id": "bare-sim", "n_qubits": 3, "device_info": None}


@pytest.fixture(scope="module", params=["url", "inline"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalServer]]:
    inline = request.param == "inline"
    with LocalServer(admin=True, inline_job_info=inline, devices=[BARE]) as server:
        yield request.param, server


def _raw(server: LocalServer, device_id: str) -> dict[str, object]:
    answer = requests.get(
        f"{server.url}/devices/{device_id}", headers={"q-api-token": server.token}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    device: dict[str, object] = answer.json()
    return device


def test_the_server_sends_device_info_in_its_form_and_the_client_reads_it(
    served: tuple[str, LocalServer],
) -> None:
    form, server = served
    raw = _raw(server, "emu-ring-8")["device_info"]
    assert isinstance(raw, str)
    if form == "url":
        assert raw.startswith(f"{server.url}/_storage/devices/emu-ring-8/device_info.zip?")
        archive = zipfile.ZipFile(io.BytesIO(requests.get(raw, timeout=30).content))
        assert archive.namelist() == ["device_info.json"]
        document = json.loads(archive.read("device_info.json"))
    else:
        document = json.loads(raw)
    device = OqtopusDeviceBackend(server.config).get_device("emu-ring-8")
    assert device.device_info == document
    assert len(device.device_info["qubits"]) == 8
    assert DeviceCalibration.from_device(device).n_qubits == 8
    assert json.loads(json.loads(device.to_json())["device_info"]) == document  # as text


def test_a_device_without_device_info_has_it_null(served: tuple[str, LocalServer]) -> None:
    _, server = served
    assert _raw(server, "bare-sim")["device_info"] is None
    device = OqtopusDeviceBackend(server.config).get_device("bare-sim")
    assert device.device_info == {}  # as the reference shows an absent one


def test_a_device_info_url_is_signed_expiring_and_follows_admin_changes() -> None:
    with LocalServer(admin=True, options={"presign_ttl": 3600}) as server:
        url = _raw(server, "emu-ring-8")["device_info"]
        assert isinstance(url, str)
        assert requests.get(url.replace("signature=", "signature=x"), timeout=30).status_code == 403
        forged = url.replace("emu-ring-8", "emu-square-64")
        assert requests.get(forged, timeout=30).status_code == 403
        changed = {"qubits": [{"id": 0}], "couplings": [], "calibrated_at": "2026-12-01T00:00:00Z"}
        Admin(server.url, server.token).set_device("emu-ring-8", device_info=json.dumps(changed),
                                                    n_qubits=1)  # fmt: skip
        device = OqtopusDeviceBackend(server.config).get_device("emu-ring-8")
        assert device.device_info == changed
