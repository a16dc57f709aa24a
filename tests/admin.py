"""The local server's admin switches (``/_admin``): device fields and injected faults.

The one admin helper of the tests: the session fixtures, ``tests/local``'s ``Api`` and the
scenario tests all switch the server through it.
"""

from __future__ import annotations

from typing import Any

import requests

from quri_parts_oqtopus._contract import AVAILABLE, TOKEN_HEADER, UNAVAILABLE

DEFAULT_DEVICE = "qulacs"


class Admin:
    """``/_admin`` of the server at ``url``, with its own token."""

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self._headers = {TOKEN_HEADER: token}
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only, never a proxy

    def set_device_status(self, device_id: str, status: str) -> None:
        self.set_device(device_id, status=status)

    def set_device(self, device_id: str, **fields: Any) -> None:
        """Change fields of a device (``status``, ``execution_delay`` in seconds, ...)."""
        response = self._session.put(
            f"{self._url}/_admin/devices/{device_id}",
            json=fields,
            headers=self._headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def add_fault(self, **rule: Any) -> None:
        response = self._session.post(
            f"{self._url}/_admin/faults", json={"rules": [rule]}, headers=self._headers, timeout=30
        )
        assert response.status_code == 200, response.text

    def fault_hits(self) -> list[int]:
        response = self._session.get(
            f"{self._url}/_admin/faults", headers=self._headers, timeout=30
        )
        assert response.status_code == 200, response.text
        return [int(rule["fired"]) for rule in response.json()["rules"]]

    def clear_faults(self) -> None:
        response = self._session.delete(
            f"{self._url}/_admin/faults", headers=self._headers, timeout=30
        )
        assert response.status_code == 200, response.text

    def reset(self) -> None:
        """Leave the shared server as the next test expects it: no faults, only the default
        device available (a device a test added is switched off, there is no deleting it)."""
        self.clear_faults()
        devices = self._session.get(f"{self._url}/devices", headers=self._headers, timeout=30)
        assert devices.status_code == 200, devices.text
        for device in devices.json():
            if device["device_id"] != DEFAULT_DEVICE and device["status"] == AVAILABLE:
                self.set_device(device["device_id"], status=UNAVAILABLE)
        self.set_device(DEFAULT_DEVICE, status=AVAILABLE, execution_delay=0.0, cancel_delay=0.0)
