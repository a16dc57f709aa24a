"""Server-side mitigation on the local server's emulated QPUs: raw, readout, ZNE and both.

For each device and observable, one seeded estimation job per setting; prints the value
against the exact one and, for ZNE, the estimate at each scale factor. Run:

    python benches/mitigation.py [--shots 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
from typing import Any

from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import OqtopusEstimationBackend
from quri_parts_oqtopus.backend.infos import MitigationInfo, readout_mitigation, zne
from quri_parts_oqtopus.local import LocalServer


def ghz(qubits: int) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    circuit.add_H_gate(0)
    for target in range(1, qubits):
        circuit.add_CNOT_gate(target - 1, target)
    return circuit


# (name, circuit, Pauli label, exact value)
CASES = [
    ("Bell <Z0 Z1>", ghz(2), "Z0 Z1", 1.0),
    ("GHZ-3 <X0 X1 X2>", ghz(3), "X0 X1 X2", 1.0),
]


def settings(scale_factors: tuple[float, ...]) -> dict[str, MitigationInfo]:
    extrapolation = zne(scale_factors=scale_factors)
    return {
        "raw": {},
        "readout": readout_mitigation(),
        "zne": extrapolation,
        "readout+zne": {**readout_mitigation(), **extrapolation},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--devices", nargs="+", default=["emu-ring-8", "emu-heavyhex-16"])
    parser.add_argument("--scale-factors", type=float, nargs="+", default=[1.0, 3.0, 5.0])
    args = parser.parse_args()
    with LocalServer() as server:
        backend = OqtopusEstimationBackend(server.config)
        for device_id in args.devices:
            for name, circuit, label, exact in CASES:
                print(f"\n{device_id}: {name}, exact {exact:+.4f}, {args.shots} shots")
                operator = Operator({pauli_label(label): 1.0})
                for setting, mitigation in settings(tuple(args.scale_factors)).items():
                    job = backend.estimate(
                        circuit, operator, device_id, shots=args.shots,
                        simulator_info={"seed": args.seed}, mitigation_info=mitigation or None,
                    )  # fmt: skip
                    result = job.result(timeout=600, wait=0.05)
                    value = float(result.exp_value or 0.0)
                    print(
                        f"  {setting:<12} {value:+.4f} ± {float(result.stds or 0.0):.4f}"
                        f"   error {value - exact:+.4f}{_scales(result.mitigation_details)}"
                    )


def _scales(details: dict[str, Any] | None) -> str:
    scales = (details or {}).get("zne", {}).get("scale_results")
    if not scales:
        return ""
    return "   scales: " + ", ".join(
        f"{s['scale_factor']:g} → {s['exp_value']:+.4f}" for s in scales
    )


if __name__ == "__main__":
    main()
