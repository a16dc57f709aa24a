"""The fault proxy's latency mode: every exchange held half the round trip each way,
storage URLs included when the server's public URL is the proxy's."""

from __future__ import annotations

import threading
from urllib.parse import urlparse

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.local import LocalServer

from ..conftest import x_on
from .proxy import FaultProxy, no_faults


def test_latency_mode_holds_every_exchange_half_the_round_trip_each_way() -> None:
    held: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:  # counted, not slept: no test waits on a clock
        with lock:
            held.append(seconds)

    proxy = FaultProxy(0, no_faults, latency=0.05, sleep=record)
    with proxy, LocalServer(workers=1, options={"public_url": proxy.url}) as server:
        port = urlparse(server.url).port
        assert port is not None
        proxy.upstream_port = port
        backend = OqtopusSamplingBackend(OqtopusConfig(proxy.url, server.token))
        job = backend.sample(x_on(0, 1), "qulacs", 10)
        assert job.result(timeout=60, wait=0.05).counts == {1: 10}
    assert proxy.requests >= 4  # register, upload (through the proxy), submit, reads
    assert held == [0.025] * (2 * proxy.requests)
