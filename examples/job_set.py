"""Submit 40 circuits as a journaled job set, 'crash', resume, and collect every result."""

import tempfile
from pathlib import Path

from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.jobset import OqtopusJobFailure, OqtopusJobSet


def flip(qubit: int) -> QuantumCircuit:
    circuit = QuantumCircuit(6)
    circuit.add_X_gate(qubit)
    return circuit


circuits = [flip(i % 6) for i in range(40)]
with tempfile.TemporaryDirectory() as directory:
    journal = Path(directory) / "run.jobs"
    OqtopusJobSet.submit(circuits, "qulacs", 10, concurrency=8, journal=journal)
    # A new process would do just this after a crash: reattach, submit what is missing.
    job_set = OqtopusJobSet.resume(journal, circuits)
    job_set.wait(wait=0.2, on_progress=lambda p: print(f"  {p.ended}/{p.total} ended"))
    results = job_set.results()
failures = [r for r in results if isinstance(r, OqtopusJobFailure)]
print(f"{len(results) - len(failures)} results, {len(failures)} failures")
assert not failures
