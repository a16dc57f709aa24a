"""Smoke test of the installed wheel, run from outside the source tree in a fresh venv."""

from __future__ import annotations

import importlib.util
import sys
import urllib.request

from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

import quri_parts_oqtopus
from quri_parts_oqtopus import _core
from quri_parts_oqtopus.backend import (
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
)
from quri_parts_oqtopus.local import LocalServer


def main() -> int:
    failures: list[str] = []
    checks = 0

    def check(ok: bool, what: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            failures.append(what)

    check("site-packages" in (quri_parts_oqtopus.__file__ or ""), "imported from the wheel")
    check(_core.__file__ is not None and ".abi3." in _core.__file__, "native module is abi3")
    bell = QuantumCircuit(2)
    bell.add_H_gate(0)
    bell.add_CNOT_gate(0, 1)
    with LocalServer() as server:
        counts = OqtopusSamplingBackend(server.config).sample(bell, "qulacs", 200).result(wait=0.05)
        check(set(counts.counts) <= {0, 3} and sum(counts.counts.values()) == 200, "bell counts")
        zz = Operator({pauli_label("Z0 Z1"): 1.0})
        estimate = OqtopusEstimationBackend(server.config).estimate(bell, zz, "qulacs", 500)
        value = estimate.result(wait=0.05).exp_value
        check(value is not None and abs(value - 1.0) < 0.2, f"Z0 Z1 on Bell = {value}")
        # The example emulated QPUs come with the wheel (package data), and run without
        # Qiskit when not transpiled; a transpiled job names the extra that brings Qiskit.
        devices = {d.device_id for d in OqtopusDeviceBackend(server.config).get_devices()}
        check({"emu-square-64", "emu-heavyhex-16", "emu-ring-8"} <= devices, f"devices {devices}")
        native = QuantumCircuit(2)
        native.add_SqrtX_gate(0)
        native.add_CNOT_gate(0, 1)
        sampler = OqtopusSamplingBackend(server.config)
        job = sampler.sample(native, "emu-ring-8", 200, transpiler_info={"transpiler_lib": None})
        check(sum(job.result(wait=0.05).counts.values()) == 200, "native job on emu-ring-8")
        # The dashboard's files come with the wheel (package data) and need no token.
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback
        for path in ("/", "/_dashboard/dashboard.js", "/_dashboard/dashboard.css"):
            with direct.open(server.url + path, timeout=30) as page:
                check(page.status == 200 and len(page.read()) > 500, f"dashboard {path}")
        if importlib.util.find_spec("qiskit") is None:
            try:
                sampler.sample(bell, "emu-ring-8", 200).result(wait=0.05)
                check(False, "a transpiled job without qiskit succeeded")
            except BackendError as e:
                check("[emulation]" in str(e), f"the failure names [emulation]: {e}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"wheel smoke: {checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
