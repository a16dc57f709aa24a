"""Devices of an OQTOPUS cloud: their properties, and the backend that lists them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient, is_url
from quri_parts_oqtopus.backend.base import OqtopusBackendBase
from quri_parts_oqtopus.backend.job import parse_timestamp

__all__ = ["OqtopusDevice", "OqtopusDeviceBackend"]


class OqtopusDevice:
    """A device embedded in the OQTOPUS framework.

    Args:
        device: The device's JSON object, as the server sent it.
        client: The HTTP client used to refresh it.

    Raises:
        ValueError: If ``device`` or ``client`` is None.

    """

    def __init__(self, device: dict[str, Any], client: OqtopusHttpClient) -> None:
        if device is None:
            raise ValueError("'device' should not be None")
        if client is None:
            raise ValueError("'client' should not be None")
        if not isinstance(device.get("device_id"), str):
            raise BackendError(f"device object without a device_id: {device!r:.200}")
        self._device = dict(device)
        self._client = client
        self._device_info: dict[str, Any] | None = None

    @property
    def device_id(self) -> str:
        """The device id of the device."""
        return str(self._device["device_id"])

    @property
    def device_type(self) -> str:
        """The device type of the device (``QPU`` or ``simulator``)."""
        return str(self._device.get("device_type") or "")

    @property
    def status(self) -> str:
        """The status of the device (``available`` or ``unavailable``)."""
        return str(self._device.get("status") or "")

    @property
    def available_at(self) -> datetime | None:
        """When the device becomes available, if the server says so."""
        return parse_timestamp(self._device.get("available_at"))

    @property
    def n_pending_jobs(self) -> int:
        """The number of pending jobs in the device."""
        return int(self._device.get("n_pending_jobs") or 0)

    @property
    def n_qubits(self) -> int:
        """The number of qubits in the device (0 when unknown)."""
        return int(self._device.get("n_qubits") or 0)

    @property
    def basis_gates(self) -> list[str]:
        """The basis gates of the device."""
        return list(self._device.get("basis_gates") or [])

    @property
    def supported_instructions(self) -> list[str]:
        """The supported instructions of the device."""
        return list(self._device.get("supported_instructions") or [])

    @property
    def device_info(self) -> dict[str, Any]:
        """The device information (calibration data) as a dict; ``{}`` when absent or unreadable."""
        if self._device_info is None:
            self._device_info = self._read_device_info()
        return self._device_info

    @property
    def calibrated_at(self) -> datetime | None:
        """When the device was calibrated, if the server says so."""
        return parse_timestamp(self._device.get("calibrated_at"))

    @property
    def description(self) -> str:
        """The description of the device."""
        return str(self._device.get("description") or "")

    def refresh(self) -> None:
        """Retrieve the device information from OQTOPUS Cloud.

        Raises:
            BackendError: If the device cannot be found, authentication fails, the call
                times out, etc.

        """
        self._device = self._client.get_device(self.device_id)
        self._device_info = None

    def to_json(self) -> str:
        """A JSON text of the device as the server describes it."""
        return orjson.dumps(self._device).decode()

    def __repr__(self) -> str:
        return (
            f"OqtopusDevice(device_id={self.device_id!r}, device_type={self.device_type!r}, "
            f"status={self.status!r}, n_qubits={self.n_qubits}, "
            f"n_pending_jobs={self.n_pending_jobs})"
        )

    def _read_device_info(self) -> dict[str, Any]:
        value = self._device.get("device_info")
        try:
            if is_url(value):
                operation = f"download device_info of device {self.device_id}"
                value = self._client.download_archive_json(value, operation=operation)
            elif isinstance(value, (str, bytes)):
                value = orjson.loads(value)
        except (ValueError, BackendError):
            return {}
        return dict(value) if isinstance(value, dict) else {}


class OqtopusDeviceBackend(OqtopusBackendBase):
    """A backend that lists the devices of an OQTOPUS cloud.

    Args:
        config: A :class:`OqtopusConfig` (see :class:`OqtopusSamplingBackend` for how it
            is found when None).

    """

    def get_devices(self) -> list[OqtopusDevice]:
        """Get all devices registered in OQTOPUS Cloud.

        Raises:
            BackendError: If the server cannot be reached or answers an error.

        """
        return [OqtopusDevice(device, self._client) for device in self._client.list_devices()]

    def get_device(self, device_id: str) -> OqtopusDevice:
        """Get a device by its ID.

        Raises:
            BackendError: If the device does not exist or the server answers an error.

        """
        return OqtopusDevice(self._client.get_device(device_id), self._client)
