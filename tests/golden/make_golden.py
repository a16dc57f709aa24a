"""Regenerates the golden QASM files with quri-parts-openqasm (run from the repo root)."""

from __future__ import annotations

from pathlib import Path

from quri_parts.openqasm.circuit import convert_to_qasm_str

from tests.golden.circuits import GOLDEN_CIRCUITS

if __name__ == "__main__":
    here = Path(__file__).parent
    for name, circuit in GOLDEN_CIRCUITS.items():
        (here / f"{name}.qasm").write_text(convert_to_qasm_str(circuit), encoding="utf-8")
