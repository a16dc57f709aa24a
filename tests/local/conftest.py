"""One admin-enabled local server for the whole session; tests talk raw HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quri_parts_oqtopus.local import LocalServer

from .helpers import Api


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer(admin=True, workers=2, sse_timeout=60) as local:
        yield local


@pytest.fixture
def api(server: LocalServer) -> Iterator[Api]:
    client = Api(server)
    yield client
    # Leave the shared server as the next test expects it.
    client.delete("/_admin/faults")
    client.set_device("qulacs", status="available", execution_delay=0.0)
