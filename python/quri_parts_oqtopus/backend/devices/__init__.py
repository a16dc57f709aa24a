"""Devices of an OQTOPUS cloud (``device`` is the module path of quri-parts-oqtopus 1.1.5)."""

from quri_parts_oqtopus.backend.devices.device import OqtopusDevice, OqtopusDeviceBackend

__all__ = ["OqtopusDevice", "OqtopusDeviceBackend"]
