"""How the example devices shipped with the local server were made (seeded, reproducible).

``python -m tests.emulation.example_devices`` rewrites the JSON files in
``quri_parts_oqtopus/local/example_devices/``; ``test_example_devices_are_generated``
checks that the shipped files are exactly what this produces. The figures are typical of
today's superconducting QPUs (gate errors 1e-3 / 1e-2, readout errors of a few percent,
T1/T2 of tens of microseconds), drawn per qubit so that the qubits differ as on a chip.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).parents[2] / "python" / "quri_parts_oqtopus" / "local" / "example_devices"
CALIBRATED_AT = "2026-11-30T09:00:00.000000+00:00"
BASIS_GATES = ["sx", "x", "rz", "cx"]

# A 16-qubit heavy-hex chip (the coupling map of a public 16-qubit heavy-hex QPU).
HEAVY_HEX_16 = [
    (0, 1), (1, 2), (1, 4), (2, 3), (3, 5), (4, 7), (5, 8), (6, 7),
    (7, 10), (8, 9), (8, 11), (10, 12), (11, 14), (12, 13), (12, 15), (13, 14),
]  # fmt: skip


Edges = list[tuple[int, int]]


def _square_lattice(rows: int, cols: int) -> tuple[Edges, dict[int, tuple[int, int]]]:
    edges = []
    where = {}
    for r in range(rows):
        for c in range(cols):
            q = r * cols + c
            where[q] = (c, r)
            for nr, nc in ((r, c + 1), (r + 1, c)):
                if nr < rows and nc < cols:
                    n = nr * cols + nc
                    # Cross-resonance gates run one way: the control is on the even sublattice.
                    edges.append((q, n) if (r + c) % 2 == 0 else (n, q))
    return edges, where


def _qubit(rng: random.Random, q: int, at: tuple[float, float], scale: float) -> dict[str, Any]:
    t1 = round(rng.uniform(40.0, 150.0), 2)
    t2 = round(min(rng.uniform(30.0, 150.0), 1.8 * t1), 2)
    p10 = round(rng.uniform(0.005, 0.03) * scale, 5)
    p01 = round(rng.uniform(0.01, 0.06) * scale, 5)
    return {
        "id": q,
        "physical_id": q,
        "position": {"x": float(at[0]), "y": float(at[1])},
        "fidelity": round(1.0 - rng.uniform(0.0005, 0.003) * scale, 6),
        "meas_error": {
            "prob_meas1_prep0": p10,
            "prob_meas0_prep1": p01,
            "readout_assignment_error": round((p10 + p01) / 2, 6),
        },
        "qubit_lifetime": {"t1": t1, "t2": t2},
        "gate_duration": {"rz": 0, "sx": 20, "x": 40},
    }


def _device(
    device_id: str,
    description: str,
    n_qubits: int,
    edges: list[tuple[int, int]],
    where: dict[int, tuple[int, int]],
    seed: int,
    scale: float = 1.0,
) -> dict[str, Any]:
    rng = random.Random(seed)
    qubits = [_qubit(rng, q, where.get(q, (q, 0)), scale) for q in range(n_qubits)]
    couplings = [
        {
            "control": a,
            "target": b,
            "fidelity": round(1.0 - rng.uniform(0.006, 0.025) * scale, 6),
            "gate_duration": {"cx": round(rng.uniform(250.0, 450.0), 1)},
        }
        for a, b in edges
    ]
    info = {
        "device_id": device_id,
        "qubits": qubits,
        "couplings": couplings,
        "calibrated_at": CALIBRATED_AT,
    }
    return {
        "device_id": device_id,
        "device_type": "QPU",
        "n_qubits": n_qubits,
        "basis_gates": BASIS_GATES,
        "supported_instructions": ["measure", "barrier"],
        "device_info": info,
        "calibrated_at": CALIBRATED_AT,
        "description": description,
    }


def example_devices() -> dict[str, dict[str, Any]]:
    """File name -> device definition, for every shipped example device."""
    square, square_at = _square_lattice(8, 8)
    ring = [(q, (q + 1) % 8) for q in range(8)]
    ring += [(b, a) for a, b in ring]  # tunable couplers: CNOT both ways
    ring_at = {q: (q, 0) for q in range(8)}
    return {
        "emu-square-64.json": _device(
            "emu-square-64",
            "Emulated 64-qubit QPU, 8x8 square lattice (calibration-based noise, local server)",
            64, square, square_at, seed=64,
        ),
        "emu-heavyhex-16.json": _device(
            "emu-heavyhex-16",
            "Emulated 16-qubit heavy-hex QPU (calibration-based noise, local server)",
            16, HEAVY_HEX_16, {}, seed=16,
        ),
        "emu-ring-8.json": _device(
            "emu-ring-8",
            "Emulated 8-qubit ring QPU with couplers both ways (calibration-based noise)",
            8, ring, ring_at, seed=8, scale=1.5,
        ),
    }  # fmt: skip


def render(device: dict[str, Any]) -> str:
    """The file text of one device (a JSON list with the one definition)."""
    return json.dumps([device], indent=1) + "\n"


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, device in example_devices().items():
        (OUT / name).write_text(render(device), encoding="utf-8")
        print(f"wrote {OUT / name}")
