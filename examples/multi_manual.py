"""Run three circuits as one multi_manual job and read each program's counts."""

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusSamplingBackend

flip = QuantumCircuit(2)
flip.add_X_gate(1)
bell = QuantumCircuit(2)
bell.add_H_gate(0)
bell.add_CNOT_gate(0, 1)
one = QuantumCircuit(1)
one.add_X_gate(0)

job = OqtopusSamplingBackend().sample([flip, bell, one], device_id="qulacs", shots=500)
result = job.result(wait=0.2)
print(f"combined counts over 5 bits: {len(result.counts)} outcomes")
for index, counts in sorted((result.divided_counts or {}).items()):
    print(f"program {index}: {dict(sorted(counts.items()))}")
assert result.divided_counts is not None
assert result.divided_counts[0] == {0b10: 500}
assert result.divided_counts[2] == {1: 500}
