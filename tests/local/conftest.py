"""Raw HTTP to the session's one admin-enabled server (``server``, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin
from .helpers import Api


@pytest.fixture
def api(server: LocalServer) -> Iterator[Api]:
    client = Api(server)
    yield client
    Admin(server.url, server.token).reset()
