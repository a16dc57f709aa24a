"""``backend/devices/device.py``: a device has one property per field of the contract's
``Device``, each reading its own field; ``to_json`` keeps the contract's order."""

from __future__ import annotations

import json

import pytest

from quri_parts_oqtopus._contract import DEVICE_FIELDS, Device
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusDevice

from ..contract_samples import properties, sample, shown

CLIENT = OqtopusHttpClient(OqtopusConfig("http://127.0.0.1:9", "token"))


def test_every_device_field_has_a_property_and_every_property_is_a_field() -> None:
    assert properties(OqtopusDevice) == set(DEVICE_FIELDS)


@pytest.mark.parametrize("field", [name for name in DEVICE_FIELDS if name != "device_info"])
def test_each_device_property_reads_its_own_field(field: str) -> None:
    # device_info (JSON text or a URL, read into a dict) has tests/backend/test_device_info.py.
    raw = sample(Device)
    assert getattr(OqtopusDevice(raw, CLIENT), field) == shown(Device, field, raw[field])


def test_to_json_writes_the_fields_in_the_contracts_order_then_any_the_server_adds() -> None:
    raw = {**sample(Device), "device_info": "{}", "a_field_of_a_newer_service": 1}
    written = json.loads(OqtopusDevice(raw, CLIENT).to_json())
    assert list(written) == [*DEVICE_FIELDS, "a_field_of_a_newer_service"]


@pytest.mark.parametrize(
    ("text", "kept"), [("[1, 2]", [1, 2]), ("3", 3), ("null", None), ('"calm"', "calm")]
)
def test_a_device_info_that_is_not_a_json_object_is_kept_under_value(
    text: str, kept: object
) -> None:
    # As the reference (oqtopus-client's DeviceInfo.device_info): {"value": <the value>}.
    device = OqtopusDevice({**sample(Device), "device_info": text}, CLIENT)
    assert device.device_info == {"value": kept}


def test_read_device_info_still_refuses_a_json_list() -> None:
    # Calibration and packing need an object: there a list is an error, not data.
    device = OqtopusDevice({**sample(Device), "device_info": "[1, 2]"}, CLIENT)
    with pytest.raises(ValueError, match="not a JSON object"):
        device.read_device_info()
