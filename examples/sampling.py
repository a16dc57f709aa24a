"""Sample a Bell pair: only 00 and 11 come out, about half each."""

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusSamplingBackend
from quri_parts_oqtopus.backend.infos import no_transpilation

bell = QuantumCircuit(2)
bell.add_H_gate(0)
bell.add_CNOT_gate(0, 1)

job = OqtopusSamplingBackend().sample(
    bell,
    device_id="qulacs",
    shots=1000,
    name="bell",
    transpiler_info=no_transpilation(),
    simulator_info={"seed": 7},
)
print(f"job {job.job_id}: {job.status}")
counts = job.result(wait=0.2).counts
print({f"{key:02b}": count for key, count in sorted(counts.items())})
assert set(counts) <= {0b00, 0b11}
