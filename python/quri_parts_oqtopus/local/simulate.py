"""What a worker process does with one job: parse, simulate with qulacs, shape the result.

Everything here runs in the pool's worker processes, never in the server process, so a
crash of the native parser or simulator costs one worker, not the server.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import qulacs
from numpy.typing import NDArray
from quri_parts.qulacs.circuit import convert_circuit

from .programs import Program, combine_programs, load_program, program_to_qasm

_PAULI_TOKEN = re.compile(r"([IXYZ])\s*(\d+)")
_PAULI_STRING = re.compile(r"\s*(?:[IXYZ]\s*\d+\s*)+")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs; plain data so it pickles cheaply."""

    job_type: str
    programs: list[str]
    shots: int
    operator: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    transpile: bool = True
    max_qubits: int = 28
    delay: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """A finished task: ``ran`` is False when the input was rejected before simulating."""

    succeeded: bool
    ran: bool
    message: str | None = None
    result: dict[str, Any] | None = None
    transpile_result: dict[str, Any] | None = None
    combined_program: str | None = None
    execution_time: float | None = None


def parse_pauli(text: str) -> tuple[tuple[int, str], ...]:
    """``"X0 Y2"``, ``"X 0 Y 2"`` or ``"I"`` as ``((qubit, "X"|"Y"|"Z"), ...)``.

    Raises:
        ValueError: For any other text or a qubit named twice.

    """
    stripped = text.strip()
    if stripped in {"", "I"}:
        return ()
    if not _PAULI_STRING.fullmatch(stripped):
        raise ValueError(f"invalid Pauli string {text!r}")
    factors: dict[int, str] = {}
    for letter, index in _PAULI_TOKEN.findall(stripped):
        qubit = int(index)
        if qubit in factors:
            raise ValueError(f"Pauli string {text!r} names qubit {qubit} twice")
        if letter != "I":
            factors[qubit] = letter
    return tuple(sorted(factors.items()))


def _final_state(program: Program) -> qulacs.QuantumState:
    state = qulacs.QuantumState(program.qubit_count)
    convert_circuit(program.circuit).update_quantum_state(state)
    return state


def _probabilities(state: qulacs.QuantumState) -> NDArray[np.float64]:
    probabilities: NDArray[np.float64] = np.abs(state.get_vector()) ** 2
    normalised: NDArray[np.float64] = probabilities / probabilities.sum()
    return normalised


def sample_counts(program: Program, shots: int, rng: np.random.Generator) -> dict[str, int]:
    """``shots`` samples of the final state, keyed by classical bit string (bit 0 last)."""
    outcomes = rng.multinomial(shots, _probabilities(_final_state(program)))
    basis_states = np.flatnonzero(outcomes).astype(np.int64)
    clbits = np.zeros_like(basis_states)
    for qubit, clbit in program.measurements:
        measured = (basis_states >> qubit) & 1
        clbits = (clbits & ~np.int64(1 << clbit)) | (measured << clbit)
    values, inverse = np.unique(clbits, return_inverse=True)
    totals = np.bincount(inverse, weights=outcomes[basis_states])
    width = program.bit_count
    return {format(int(v), f"0{width}b"): int(n) for v, n in zip(values, totals, strict=True)}


def split_counts(counts: dict[str, int], widths: list[int]) -> dict[str, dict[str, int]]:
    """Combined counts split per program; program 0 owns the last (lowest) characters."""
    divided: dict[str, dict[str, int]] = {str(i): {} for i in range(len(widths))}
    for bits, count in counts.items():
        end = len(bits)
        for index, width in enumerate(widths):
            own = bits[end - width : end]
            end -= width
            divided[str(index)][own] = divided[str(index)].get(own, 0) + count
    return divided


def estimate(
    program: Program,
    terms: list[tuple[tuple[tuple[int, str], ...], float]],
    shots: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Σ coeff·⟨P⟩ from ``shots`` measurements of each term in its basis, and its std. error.

    Each term's ±1 outcomes are drawn from the exact probability of +1; identity terms
    are exact.
    """
    state = _final_state(program)
    value = variance = 0.0
    for factors, coeff in terms:
        if not factors:
            value += coeff
            continue
        spec = " ".join(f"{letter} {qubit}" for qubit, letter in factors)
        exact = qulacs.PauliOperator(spec, 1.0).get_expectation_value(state).real
        plus = int(rng.binomial(shots, min(1.0, max(0.0, (1.0 + exact) / 2.0))))
        mean = (2 * plus - shots) / shots
        value += coeff * mean
        variance += coeff * coeff * (1.0 - mean * mean) / shots
    return value, math.sqrt(variance)


def _stats(program: Program) -> dict[str, Any]:
    gates = program.circuit.gates
    return {
        "n_qubits": program.qubit_count,
        "n_bits": program.bit_count,
        "n_gates": len(gates),
        "n_gates_1q": sum(1 for g in gates if len(g.target_indices) + len(g.control_indices) == 1),
        "n_gates_2q": sum(1 for g in gates if len(g.target_indices) + len(g.control_indices) == 2),
        "depth": program.circuit.depth,
    }


def transpile_result(program: Program, text: str) -> dict[str, Any]:
    """No real transpiler runs: identity mapping and the program's own statistics."""
    stats = _stats(program)
    return {
        "transpiled_program": text,
        "stats": {"before": stats, "after": stats, "transpiler": "identity (local server)"},
        "virtual_physical_mapping": {
            "qubit_mapping": {str(i): i for i in range(program.qubit_count)},
            "bit_mapping": {str(i): i for i in range(program.bit_count)},
        },
    }


def _check_fits(program: Program, max_qubits: int) -> None:
    if program.qubit_count > max_qubits:
        raise ValueError(
            f"the program needs {program.qubit_count} qubits; the device has {max_qubits}"
        )


def _prepare(task: Task) -> tuple[list[Program], Program, list[Any]]:
    programs = []
    for index, text in enumerate(task.programs):
        try:
            programs.append(load_program(text))
        except ValueError as e:
            prefix = f"program {index}: " if len(task.programs) > 1 else ""
            raise ValueError(f"{prefix}{e}") from e
    target = combine_programs(programs) if task.job_type == "multi_manual" else programs[0]
    _check_fits(target, task.max_qubits)
    terms = []
    for item in task.operator:
        factors = parse_pauli(str(item["pauli"]))
        if factors and factors[-1][0] >= target.qubit_count:
            raise ValueError(f"Pauli {item['pauli']!r} acts beyond the program's qubits")
        coeff = item.get("coeff")
        terms.append((factors, 1.0 if coeff is None else float(coeff)))
    return programs, target, terms


def _simulate(task: Task, programs: list[Program], target: Program, terms: list[Any]) -> Outcome:
    rng = np.random.default_rng(task.seed)
    started = time.perf_counter()
    combined = None
    if task.job_type == "estimation":
        exp_value, stds = estimate(target, terms, task.shots, rng)
        result: dict[str, Any] = {"estimation": {"exp_value": exp_value, "stds": stds}}
    else:
        counts = sample_counts(target, task.shots, rng)
        divided = None
        if task.job_type == "multi_manual":
            divided = split_counts(counts, [p.bit_count for p in programs])
            combined = program_to_qasm(target)
        result = {"sampling": {"counts": counts, "divided_counts": divided}}
    elapsed = max(time.perf_counter() - started, 1e-9)
    shown = combined if combined is not None else task.programs[0]
    transpiled = transpile_result(target, shown) if task.transpile else None
    return Outcome(True, True, None, result, transpiled, combined, elapsed)


def run_task(task: Task) -> Outcome:
    """Run one job; never raises (every failure becomes a failed ``Outcome``)."""
    try:
        programs, target, terms = _prepare(task)
    except (ValueError, KeyError, TypeError) as e:
        return Outcome(False, False, str(e))
    if task.delay > 0:
        time.sleep(task.delay)  # a configured slow device (tests of running jobs)
    try:
        return _simulate(task, programs, target, terms)
    except (MemoryError, ValueError, RuntimeError) as e:
        return Outcome(False, True, f"simulation failed: {type(e).__name__}: {e}")


def warm_up() -> None:
    """Pool initializer: import the simulator once, before the first job."""
    qulacs.QuantumState(1)
