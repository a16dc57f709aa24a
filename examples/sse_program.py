"""The program sse.py uploads: it runs on the server and submits its own job there."""

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusSamplingBackend

ghz = QuantumCircuit(3)
ghz.add_H_gate(0)
ghz.add_CNOT_gate(0, 1)
ghz.add_CNOT_gate(1, 2)
# Inside SSE the job runs on the SSE job's device whatever id is given here.
job = OqtopusSamplingBackend().sample(ghz, device_id="sse", shots=200)
print("GHZ counts:", dict(job.result(wait=0.1).counts))
