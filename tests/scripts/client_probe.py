"""One client call in a process of its own: its outcome, duration, connects and peak memory.

Usage: ``python client_probe.py '<spec as JSON>'``, where the spec holds ``url`` (the API),
``call`` (one of ``CALLS``), ``target`` (the URL a download reads, the file ``run_sse``
uploads), ``settings``
(``OqtopusConfig`` keyword arguments) and ``memory_limit_mib`` (the process's address
space, so that a regression fails instead of swapping the machine). Prints one JSON object:
``error`` (``"Type: message"`` or null), ``seconds``, ``connects`` (``connect()`` calls
to the API's port, counted by an audit hook) and ``baseline_mib`` / ``peak_mib`` (peak
RSS before and after the call).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

CALLS = ("sample", "devices", "get_job", "download", "download_sampling_result", "run_sse")


def peak_mib() -> float:
    # VmHWM: this process's own peak. getrusage's maxrss carries the peak of the process that
    # started it across the exec (a pytest worker's hundreds of MiB), which would hide growth.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    spec: dict[str, Any] = json.loads(sys.argv[1])
    limit = int(spec.get("memory_limit_mib", 4096)) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    port = urlsplit(spec["url"]).port
    connects = 0

    def count(event: str, args: tuple[Any, ...]) -> None:
        nonlocal connects
        if event == "socket.connect" and isinstance(args[1], tuple) and args[1][1:2] == (port,):
            connects += 1

    sys.addaudithook(count)
    from quri_parts.circuit import QuantumCircuit  # noqa: PLC0415 - after the limit is set

    from quri_parts_oqtopus._http import OqtopusHttpClient  # noqa: PLC0415
    from quri_parts_oqtopus.backend import (  # noqa: PLC0415
        OqtopusConfig,
        OqtopusDeviceBackend,
        OqtopusSamplingBackend,
        OqtopusSseBackend,
    )
    from quri_parts_oqtopus.counts import decode_sampling_archive  # noqa: PLC0415

    settings = dict(spec.get("settings", {}))
    if isinstance(settings.get("timeout"), list):
        settings["timeout"] = tuple(settings["timeout"])
    config = OqtopusConfig(spec["url"], "probe-token", **settings)
    client = OqtopusHttpClient(config)
    circuit = QuantumCircuit(1)
    circuit.add_X_gate(0)
    target = spec.get("target", "")
    calls: dict[str, Callable[[], object]] = {
        "sample": lambda: OqtopusSamplingBackend(config).sample(circuit, "qulacs", 10),
        "devices": lambda: OqtopusDeviceBackend(config).get_devices(),
        "get_job": lambda: client.get_job("job-1"),
        "download": lambda: client.download(target, operation="download probe"),
        "download_sampling_result": lambda: client.download_archive(
            target, decode_sampling_archive, operation="download result of job job-1"
        ),
        "run_sse": lambda: OqtopusSseBackend(config).run_sse(target, "qulacs", "probe"),
    }
    baseline = peak_mib()
    started = time.monotonic()
    error = None
    try:
        calls[spec["call"]]()
    except Exception as e:  # noqa: BLE001 - every failure is the probe's result
        error = f"{type(e).__name__}: {e}"
    seconds = time.monotonic() - started
    result = {
        "error": error,
        "seconds": round(seconds, 2),
        "connects": connects,
        "baseline_mib": round(baseline, 1),
        "peak_mib": round(peak_mib(), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
