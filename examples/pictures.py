"""Draw the pictures of the docs (docs/images/*.png) against a local server.

Run from a clone with the ``local``, ``emulation`` and ``plot`` extras installed:
``python examples/pictures.py docs/images``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusDeviceBackend, OqtopusSamplingBackend
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.plot import plot_counts, plot_device, plot_timeline


def ghz(qubits: int) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    circuit.add_H_gate(0)
    for qubit in range(1, qubits):
        circuit.add_CNOT_gate(qubit - 1, qubit)
    return circuit


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with LocalServer() as server:
        sampler = OqtopusSamplingBackend(server.config)
        job = sampler.sample(ghz(4), device_id="emu-heavyhex-16", shots=4000,
                             simulator_info={"seed": 7})  # fmt: skip
        plot_counts(job.result(), top_k=10, title="GHZ(4) on emu-heavyhex-16, 4,000 shots")
        plt.savefig(out / "counts.png", dpi=110)
        device = OqtopusDeviceBackend(server.config).get_device("emu-heavyhex-16")
        plot_device(device)
        plt.savefig(out / "device.png", dpi=110)
        job_set = OqtopusJobSet.submit([ghz(3)] * 12, "emu-ring-8", 1000, server.config,
                                       concurrency=4)  # fmt: skip
        job_set.wait(wait=0.05)
        plot_timeline(job_set, title="12 jobs on emu-ring-8 (2 simulator workers)")
        plt.savefig(out / "timeline.png", dpi=110)
    for name in ("counts", "device", "timeline"):
        print(out / f"{name}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
