"""The native core where no thread can be started (``ulimit -u``, a container's
``pids.max``, a tight address-space limit): batches run on the calling thread instead
of panicking in rayon's global pool."""

from __future__ import annotations

import json
import subprocess
import sys

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.qasm import convert_to_qasm_strs
from quri_parts_oqtopus.sweep import ParameterSweep

# Builds the inputs first, then caps the address space just above what the process maps:
# a thread's stack (2 MiB) no longer fits, small allocations still do.
_PROBE = r"""
import json, resource
from quri_parts.circuit import QuantumCircuit, UnboundParametricQuantumCircuit
from quri_parts_oqtopus.qasm import convert_to_qasm_strs
from quri_parts_oqtopus.sweep import ParameterSweep
from quri_parts_oqtopus.upload import build_circuits_archive, read_job_archive

circuits = []
for n in range(40):
    circuit = QuantumCircuit(3)
    circuit.add_H_gate(0)
    circuit.add_CNOT_gate(0, 1)
    circuit.add_RZ_gate(2, 0.1 * n)
    circuits.append(circuit)
template = UnboundParametricQuantumCircuit(2)
template.add_ParametricRX_gate(0)
template.add_CNOT_gate(0, 1)
sweep = ParameterSweep(template, [[0.25 * n] for n in range(20)])

pages = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (pages + (1 << 20), resource.RLIM_INFINITY))
try:
    import threading
    threading.Thread(target=print).start()
    threads = "started"
except RuntimeError:
    threads = "refused"
texts = convert_to_qasm_strs(circuits)
swept = [program for program in read_job_archive(build_circuits_archive("p.zip", sweep))["program"]]
print(json.dumps({"threads": threads, "texts": texts, "swept": swept}))
"""


def _expected() -> tuple[list[str], list[str]]:
    circuits = []
    for n in range(40):
        circuit = QuantumCircuit(3)
        circuit.add_H_gate(0)
        circuit.add_CNOT_gate(0, 1)
        circuit.add_RZ_gate(2, 0.1 * n)
        circuits.append(circuit)
    from quri_parts.circuit import UnboundParametricQuantumCircuit  # noqa: PLC0415

    template = UnboundParametricQuantumCircuit(2)
    template.add_ParametricRX_gate(0)
    template.add_CNOT_gate(0, 1)
    sweep = ParameterSweep(template, [[0.25 * n] for n in range(20)])
    return convert_to_qasm_strs(circuits), convert_to_qasm_strs(sweep)


def test_batches_run_inline_when_no_thread_can_start() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    # Before: PanicException "The global thread pool has not been initialized".
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["threads"] == "refused", "the limit did not stop threads: the probe proves nothing"
    texts, swept = _expected()
    assert found["texts"] == texts
    assert found["swept"] == swept
