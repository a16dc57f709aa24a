"""The native core where no thread can be started (``ulimit -u``, a container's
``pids.max``, a tight address-space limit): batches run on the calling thread instead
of panicking in rayon's global pool."""

from __future__ import annotations

import json
import subprocess
import sys

# Prints the batches once with threads, then again after capping the address space just
# above what the process maps: a thread's stack (2 MiB) no longer fits, small allocations
# still do.
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

def batches():
    swept = read_job_archive(build_circuits_archive("p.zip", sweep))["program"]
    return {"texts": convert_to_qasm_strs(circuits), "swept": swept}

with_threads = batches()
pages = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (pages + (1 << 20), resource.RLIM_INFINITY))
try:
    import threading
    threading.Thread(target=print).start()
    threads = "started"
except RuntimeError:
    threads = "refused"
print(json.dumps({"threads": threads, "with": with_threads, "without": batches()}))
"""


def test_batches_run_inline_when_no_thread_can_start() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    # Before: PanicException "The global thread pool has not been initialized".
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["threads"] == "refused", "the limit did not stop threads: the probe proves nothing"
    assert len(found["with"]["texts"]) == 40
    assert len(found["with"]["swept"]) == 20
    assert found["without"] == found["with"]
