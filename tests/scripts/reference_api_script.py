"""A user script written for the reference quri-parts-oqtopus 1.1.5 API, nothing else.

It reads its configuration from OQTOPUS_URL / OQTOPUS_API_TOKEN and exercises the whole
documented API; the tests run it unchanged against the local server, with our package and
with the reference package. It prints one line per check and exits non-zero on failure.
"""

import os
import sys
import tempfile

from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSseBackend,
)

DEVICE = os.environ.get("DEVICE_ID", "qulacs")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


bell = QuantumCircuit(2)
bell.add_H_gate(0)
bell.add_CNOT_gate(0, 1)

devices = OqtopusDeviceBackend().get_devices()
check(any(d.device_id == DEVICE for d in devices), "get_devices lists the device")
check(OqtopusDeviceBackend().get_device(DEVICE).n_qubits > 0, "get_device")

sampling = OqtopusSamplingBackend()
job = sampling.sample(bell, device_id=DEVICE, shots=100)
counts = job.result(wait=0.1).counts
check(set(counts) <= {0, 3} and sum(counts.values()) == 100, f"sample: {dict(counts)}")

multi = sampling.sample([bell, bell], device_id=DEVICE, shots=100)
divided = multi.result(wait=0.1).divided_counts
check(divided is not None and set(divided) == {0, 1}, f"sample list: {divided}")

qasm_job = sampling.sample_qasm(
    'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;',
    device_id=DEVICE,
    shots=10,
)
check(dict(qasm_job.result(wait=0.1).counts) == {1: 10}, "sample_qasm")

estimation = OqtopusEstimationBackend().estimate(
    bell, Operator({pauli_label("Z0 Z1"): 1.0}), device_id=DEVICE, shots=1000
)
value = estimation.result(wait=0.1).exp_value
check(value is not None and abs(value - 1.0) < 0.1, f"estimate: {value}")

retrieved = OqtopusJobBackendBase().retrieve_job(job.job_id)
check(retrieved.job_id == job.job_id and retrieved.status == "succeeded", "retrieve_job")

try:
    retrieved.cancel()
    check(False, "cancel of an ended job raises")
except BackendError as error:
    check(True, f"cancel of an ended job: {error}")

with tempfile.TemporaryDirectory() as workdir:
    program = os.path.join(workdir, "program.py")
    with open(program, "w", encoding="utf-8") as f:
        f.write(
            "from quri_parts.circuit import QuantumCircuit\n"
            "from quri_parts_oqtopus.backend import OqtopusSamplingBackend\n"
            "c = QuantumCircuit(1)\nc.add_X_gate(0)\n"
            "job = OqtopusSamplingBackend().sample(c, device_id='sse', shots=8)\n"
            "print('sse counts', job.result(wait=0.1).counts)\n"
        )
    sse_job = OqtopusSseBackend().run_sse(program, device_id=DEVICE, name="script sse")
    sse_counts = sse_job.result(wait=0.1).counts
    check(dict(sse_counts) == {1: 8}, f"run_sse result: {dict(sse_counts)}")
    log_path = sse_job.download_log(save_dir=workdir)
    check(os.path.getsize(log_path) > 0, f"download_log: {log_path}")

print(f"reference script: {len(failures)} failed")
sys.exit(1 if failures else 0)
