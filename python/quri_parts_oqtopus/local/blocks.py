"""``multi_manual`` jobs simulated block by block, as the programs are independent.

OQTOPUS runs the programs of a ``multi_manual`` job side by side on disjoint qubits
(program 0 on the lowest qubits and bits), so the combined state is the product of the
programs' states. Each program is simulated alone, on a state of its own width, and
sampled ``shots`` times; shot ``k`` of the combined counts is shot ``k`` of every program
put side by side. The combined counts are therefore distributed exactly as those of the
combined circuit, and ``divided_counts`` is their split per program, at the cost of the
blocks (16 four-qubit programs: 16 states of 16 amplitudes, not one of 2^64).

Runs in the worker processes only (qulacs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import qulacs
from numpy.typing import NDArray
from quri_parts.qulacs.circuit import convert_circuit

from .programs import Program
from .tasks import Task

__all__ = ["check_block_cost", "sample_blocks", "shuffled_shots"]

# Peak bytes per amplitude of one block (state, probabilities, their normalised copy, the
# multinomial draw), and per shot and program (its values until they are packed into
# words of 63 bits, then the words and the sort of np.unique); plus the libraries.
_BYTES_PER_AMPLITUDE = 40
_BYTES_PER_SHOT_AND_PROGRAM = 8
_BYTES_PER_SHOT_AND_WORD = 24
_BASE_BYTES = 512 * 1024 * 1024


def check_block_cost(task: Task, programs: list[Program]) -> None:
    """Refuse a ``multi_manual`` job whose blocks would exceed a limit.

    Raises:
        ValueError: Naming the limit and what the job would need.

    """
    limits = task.limits
    bits = sum(p.bit_count for p in programs)
    entries = min(task.shots, 1 << bits) + sum(min(task.shots, 1 << p.bit_count) for p in programs)
    if entries > limits.max_result_work:
        raise ValueError(
            f"{task.shots} shots of {len(programs)} programs ({bits} bits) give up to"
            f" {entries:.3g} counts entries in all, beyond the limit"
            f" max_result_work = {limits.max_result_work:.3g}"
        )
    widest = max(p.qubit_count for p in programs)
    if task.memory_bytes is not None:
        per_shot = _BYTES_PER_SHOT_AND_PROGRAM * len(programs) + _BYTES_PER_SHOT_AND_WORD * len(
            _word_widths([p.bit_count for p in programs])
        )
        needed = _BYTES_PER_AMPLITUDE * (1 << widest) + per_shot * task.shots + _BASE_BYTES
        if needed > task.memory_bytes:
            raise ValueError(
                f"{len(programs)} programs (the widest {widest} qubits) and {task.shots} shots"
                f" need about {needed / 2**30:.1f} GiB, beyond the worker memory limit of"
                f" {task.memory_bytes / 2**20:.0f} MiB"
            )
    gate_work = sum(len(p.circuit.gates) * (1 << p.qubit_count) for p in programs)
    if gate_work > limits.max_gate_work:
        raise ValueError(
            f"the programs' gates cost {gate_work:.3g} amplitude updates, beyond the limit"
            f" max_gate_work = {limits.max_gate_work:.3g}"
        )


def _shot_values(program: Program, shots: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """The program's classical bits of each of ``shots`` shots, in a random order."""
    state = qulacs.QuantumState(program.qubit_count)
    convert_circuit(program.circuit).update_quantum_state(state)
    probabilities = np.abs(state.get_vector()) ** 2
    outcomes = rng.multinomial(shots, probabilities / probabilities.sum())
    basis_states = np.flatnonzero(outcomes).astype(np.int64)
    clbits = np.zeros_like(basis_states)
    for qubit, clbit in program.measurements:
        measured = (basis_states >> qubit) & 1
        clbits = (clbits & ~np.int64(1 << clbit)) | (measured << clbit)
    return shuffled_shots(clbits, outcomes[basis_states], rng)


def shuffled_shots(
    values: NDArray[Any], counts: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[Any]:
    """Each of ``values`` repeated as many times as ``counts`` says, in a random order: one
    block's shots, ready to be put side by side with the other blocks' shot by shot."""
    shots: NDArray[Any] = rng.permutation(np.repeat(values, counts))
    return shots


def _counted(values: NDArray[np.int64], width: int) -> dict[str, int]:
    keys, counts = np.unique(values, return_counts=True)
    return {format(int(k), f"0{width}b"): int(n) for k, n in zip(keys, counts, strict=True)}


def _words(columns: list[NDArray[np.int64]], widths: list[int]) -> NDArray[np.int64]:
    """Each shot's bits of all programs as int64 words of up to 63 bits (one per row when
    they fit): program 0 in the lowest bits of word 0."""
    words: list[NDArray[np.int64]] = []
    used = 63
    for values, width in zip(columns, widths, strict=True):
        if used + width > 63:
            words.append(np.zeros_like(values))
            used = 0
        words[-1] |= values << used
        used += width
    return words[0] if len(words) == 1 else np.stack(words, axis=1)


def _word_widths(widths: list[int]) -> list[int]:
    """The bits held in each word of :func:`_words`."""
    held: list[int] = []
    used = 63
    for width in widths:
        if used + width > 63:
            held.append(0)
            used = 0
        held[-1] += width
        used += width
    return held


def sample_blocks(
    programs: list[Program], shots: int, rng: np.random.Generator
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """``(counts, divided_counts)`` of the programs side by side, ``shots`` shots each.

    Keys are bit strings: in ``counts`` the last program's bits first and program 0's
    last (classical bit 0 is the last character); in ``divided_counts[str(i)]`` program
    ``i``'s own bits.
    """
    widths = [p.bit_count for p in programs]
    if any(w > 63 for w in widths):
        raise ValueError("a program of a multi_manual job measures more than 63 bits")
    columns = [_shot_values(p, shots, rng) for p in programs]
    divided = {str(i): _counted(v, w) for i, (v, w) in enumerate(zip(columns, widths, strict=True))}
    words = _words(columns, widths)
    del columns  # the words hold them now
    formats = [f"0{w}b" for w in _word_widths(widths)][::-1]
    if words.ndim == 1:
        return _counted(words, sum(widths)), divided
    rows, counts = np.unique(words, axis=0, return_counts=True)
    combined = {
        "".join(format(int(v), f) for v, f in zip(row[::-1], formats, strict=True)): int(n)
        for row, n in zip(rows, counts, strict=True)
    }
    return combined, divided
