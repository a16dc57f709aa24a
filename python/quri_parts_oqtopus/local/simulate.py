"""What a worker process does with one job: parse, simulate with qulacs, shape the result.

Everything here runs in the pool's worker processes, never in the server process, so a
crash of the native parser or simulator costs one worker, not the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import qulacs
from numpy.typing import NDArray
from quri_parts.qulacs.circuit import convert_circuit

from quri_parts_oqtopus._contract import (
    ESTIMATION,
    MITIGATION_DETAILS,
    MULTI_MANUAL,
    READOUT,
    ZNE,
)
from quri_parts_oqtopus.formats.counts import decode_counts
from quri_parts_oqtopus.formats.counts import split_counts as native_split_counts
from quri_parts_oqtopus.formats.operator import parse_pauli

from .blocks import check_block_cost, sample_blocks
from .emulation import Emulation, PauliTerm, combine_terms
from .mitigation import MitigationRequest, mitigation_request
from .programs import Program, combine_programs, load_program, program_to_qasm
from .tasks import PREPARING, SIMULATING, TRANSPILING, Outcome, Task
from .zne import ZneUnavailable, check_mitiq, check_zne_cost, fallback, zero_noise_estimate

#: The fallback's reason for ZNE on a job that is no estimation (OQTOPUS's words).
ZNE_ESTIMATION_ONLY = "zne is supported only for estimation jobs"


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
    """Combined counts split per program; program 0 owns the last (lowest) characters.

    Decoded and split by the native core (the client's ``split_counts``), then written
    back as bit strings of each program's width.
    """
    values = cast("Mapping[int, int]", decode_counts(counts))  # the server's counts are ints
    parts = native_split_counts(values, widths)
    return {
        str(index): {format(value, f"0{width}b"): int(n) for value, n in parts[index].items()}
        for index, width in enumerate(widths)
    }


def estimate(
    program: Program, terms: Sequence[PauliTerm], shots: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Σ coeff·⟨P⟩ from ``shots`` measurements of each term in its basis, and its std. error.

    Each term's ±1 outcomes are drawn from the exact probability of +1; identity terms
    are exact.

    Raises:
        OverflowError: If the estimate is beyond the float range (``combine_terms``).

    """
    state = _final_state(program)
    means = []
    for factors, coeff in terms:
        if not factors:
            means.append((coeff, 1.0))
            continue
        spec = " ".join(f"{letter} {qubit}" for qubit, letter in factors)
        exact = qulacs.PauliOperator(spec, 1.0).get_expectation_value(state).real
        plus = int(rng.binomial(shots, min(1.0, max(0.0, (1.0 + exact) / 2.0))))
        means.append((coeff, (2 * plus - shots) / shots))
    return combine_terms(means, shots)


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


# Peak bytes per amplitude while sampling: the state (16), |amplitude|^2 and its
# normalised copy (8 + 8) and the multinomial draw (8); plus the interpreter and libraries.
_BYTES_PER_AMPLITUDE = 40
_BASE_BYTES = 512 * 1024 * 1024


def check_cost(task: Task, programs: list[Program], target: Program, terms: int) -> None:
    """Refuse a job whose size alone shows it would exceed a limit.

    Raises:
        ValueError: Naming the limit and what the job would need.

    """
    if task.job_type == MULTI_MANUAL:
        check_block_cost(task, programs)  # simulated block by block, never as one state
        return
    amplitudes = 1 << target.qubit_count
    if task.memory_bytes is not None:
        needed = _BYTES_PER_AMPLITUDE * amplitudes + _BASE_BYTES
        if needed > task.memory_bytes:
            raise ValueError(
                f"{target.qubit_count} qubits need about {needed / 2**30:.1f} GiB, beyond"
                f" the worker memory limit of {task.memory_bytes / 2**20:.0f} MiB"
            )
    limits = task.limits
    gate_work = len(target.circuit.gates) * amplitudes
    if gate_work > limits.max_gate_work:
        raise ValueError(
            f"{len(target.circuit.gates)} gates on {target.qubit_count} qubits cost"
            f" {gate_work:.3g} amplitude updates, beyond the limit max_gate_work"
            f" = {limits.max_gate_work:.3g}"
        )
    if task.job_type == ESTIMATION:
        term_work = terms * amplitudes
        if term_work > limits.max_term_work:
            raise ValueError(
                f"{terms} Pauli terms on {target.qubit_count} qubits cost {term_work:.3g}"
                f" amplitude reads, beyond the limit max_term_work = {limits.max_term_work:.3g}"
            )
        return
    outcomes = min(task.shots, 1 << target.bit_count)
    if outcomes > limits.max_result_work:
        raise ValueError(
            f"{task.shots} shots of {target.bit_count} bits give up to {outcomes} distinct"
            f" outcomes, beyond the limit max_result_work = {limits.max_result_work:.3g}"
        )


def _prepare(task: Task) -> tuple[list[Program], Program, list[PauliTerm]]:
    mitigation_request(task.mitigation_info)  # a bad value fails on every device alike
    programs = []
    for index, text in enumerate(task.programs):
        try:
            programs.append(load_program(text))
        except ValueError as e:
            prefix = f"program {index}: " if len(task.programs) > 1 else ""
            raise ValueError(f"{prefix}{e}") from e
    target = combine_programs(programs) if task.job_type == MULTI_MANUAL else programs[0]
    _check_fits(target, task.max_qubits)
    terms: list[PauliTerm] = []
    for item in task.operator:
        factors = parse_pauli(str(item["pauli"]))
        if factors and factors[-1][0] >= target.qubit_count:
            raise ValueError(f"Pauli {item['pauli']!r} acts beyond the program's qubits")
        coeff = item.get("coeff")
        terms.append((factors, 1.0 if coeff is None else float(coeff)))
    if task.device_info is None:  # an emulated QPU bounds its own (density-matrix) cost
        check_cost(task, programs, target, len(terms))
    return programs, target, terms


# What a finished simulation produced: the outcome and its payloads by name.
Simulated = tuple[Outcome, dict[str, Any]]


def _sample(
    task: Task,
    programs: list[Program],
    target: Program,
    emulated: Emulation | None,
    rng: np.random.Generator,
) -> tuple[dict[str, int], dict[str, dict[str, int]] | None]:
    """``(counts, divided_counts)`` of a sampling or ``multi_manual`` job."""
    if emulated is not None:  # the transpiled (combined) program, noisy, then split
        counts = emulated.sample_counts(task.shots, rng)
        if task.job_type != MULTI_MANUAL:
            return counts, None
        return counts, split_counts(counts, [p.bit_count for p in programs])
    if task.job_type == MULTI_MANUAL:  # independent programs: block by block
        return sample_blocks(programs, task.shots, rng)
    return sample_counts(target, task.shots, rng), None


def _simulate(
    task: Task,
    programs: list[Program],
    target: Program,
    terms: list[PauliTerm],
    emulated: Emulation | None,
) -> Simulated:
    rng = np.random.default_rng(task.seed)
    started = time.perf_counter()
    combined = None
    request = mitigation_request(task.mitigation_info)
    if task.job_type == ESTIMATION:
        result = _estimation(task, target, terms, emulated, request, rng)
    else:
        counts, divided = _sample(task, programs, target, emulated, rng)
        if task.job_type == MULTI_MANUAL:
            combined = program_to_qasm(target)
        result = {"sampling": {"counts": counts, "divided_counts": divided}}
        details = _sampling_details(request, emulated, counts)
        if details:
            result[MITIGATION_DETAILS] = details
    elapsed = max(time.perf_counter() - started, 1e-9)
    payloads: dict[str, Any] = {"result": result}
    shown = combined if combined is not None else task.programs[0]
    if emulated is not None:
        if emulated.transpile_result is not None:
            payloads["transpile_result"] = emulated.transpile_result
    elif task.transpile:
        payloads["transpile_result"] = transpile_result(target, shown)
    if combined is not None:
        payloads["combined_program"] = combined
    return Outcome(True, True, None, elapsed), payloads


def _sampling_details(
    request: MitigationRequest, emulated: Emulation | None, counts: dict[str, int]
) -> dict[str, Any]:
    """``mitigation_details`` of a sampling job: the counts as read before readout
    mitigation (on the noiseless simulator, which reads without error, the counts)."""
    details: dict[str, Any] = {}
    if request.readout is not None:
        before = emulated.counts_before_mitigation if emulated is not None else None
        details[READOUT] = request.readout_details(before={"counts": before or counts})
    if request.zne is not None:
        details[ZNE] = fallback(ZNE_ESTIMATION_ONLY)
    return details


def _estimation(
    task: Task,
    target: Program,
    terms: list[PauliTerm],
    emulated: Emulation | None,
    request: MitigationRequest,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """``{"estimation": ..., "mitigation_details": ...}`` of an estimation job: the plain
    estimate, or its zero-noise extrapolation when asked and possible.

    On the noiseless simulator a folded program leaves the state as it is, so each scale
    factor's runs sample the program's own state (nothing is folded there).
    """
    details: dict[str, Any] = {}
    runs = 1
    estimated = None
    if request.zne is not None:
        settings = request.zne
        try:
            check_mitiq()
            if emulated is not None:
                folded = emulated.folded_programs(settings, task.seed)
                estimated = zero_noise_estimate(
                    settings,
                    lambda f, rep: emulated.estimate_folded(folded[f, rep], task.shots, rng),
                )
            else:
                size = 1 << target.qubit_count
                gates = len(target.circuit.gates)
                check_zne_cost(settings, gates, size, task.limits.max_gate_work, folded=False)
                estimated = zero_noise_estimate(
                    settings, lambda _f, _rep: estimate(target, terms, task.shots, rng)
                )
            runs = len(settings.scale_factors) * settings.num_to_average
        except ZneUnavailable as e:
            details[ZNE] = fallback(str(e))
    if estimated is not None:
        exp_value, stds, details[ZNE] = estimated
    elif emulated is not None:
        exp_value, stds = emulated.estimate(task.shots, rng)
    else:
        exp_value, stds = estimate(target, terms, task.shots, rng)
    if request.readout is not None:
        measured = sum(1 for factors, _ in terms if factors) * runs
        shots = {"result_count": measured, "total_shots": measured * task.shots}
        key = "zne_execution_results" if estimated is not None else "estimation_counts_list"
        details = {READOUT: request.readout_details(**{key: shots}), **details}
    result: dict[str, Any] = {"estimation": {"exp_value": exp_value, "stds": stds}}
    if details:
        result[MITIGATION_DETAILS] = details
    return result


def _out_of_memory(task: Task) -> str:
    if task.memory_bytes is None:
        return "the simulation ran out of memory"
    return f"the simulation exceeded the worker memory limit of {task.memory_bytes >> 20} MiB"


def _ignore_phase(_name: str) -> None:
    pass


def _failure(task: Task, phase: str, error: Exception) -> Outcome:
    """The failed outcome of a job that raised ``error`` while in ``phase``."""
    ran = phase == SIMULATING
    if isinstance(error, MemoryError):
        return Outcome(False, ran, _out_of_memory(task))
    if not ran and isinstance(error, ValueError | KeyError | TypeError):
        return Outcome(False, False, str(error))  # a refusal: its message says why
    # Anything else (a library's OverflowError on a strange angle, a division by zero in
    # a channel) is the job's failure, named: the worker itself lives on.
    return Outcome(False, ran, f"the job failed while {phase}: {type(error).__name__}: {error}")


def _run(task: Task, enter: Callable[[str], None]) -> Simulated:
    enter(PREPARING)
    programs, target, terms = _prepare(task)
    emulated = None
    if task.device_info is not None:  # an emulated QPU: transpiled now, noisy later
        enter(TRANSPILING)
        if task.transpile_delay > 0:
            time.sleep(task.transpile_delay)  # a device that holds this step (tests)
        text = program_to_qasm(target) if task.job_type == MULTI_MANUAL else task.programs[0]
        emulated = Emulation(task, target, text, terms)
    enter(SIMULATING)
    if task.delay > 0:
        time.sleep(task.delay)  # a configured slow device (tests of running jobs)
    return _simulate(task, programs, target, terms, emulated)


def run_task(task: Task, on_phase: Callable[[str], None] = _ignore_phase) -> Simulated:
    """Run one job; never raises: every failure becomes a failed ``Outcome`` that names
    its cause (a refusal's reason, or the exception's type and message).

    ``on_phase`` hears each phase as the job enters it (the worker tells its watcher, so
    that a job stopped by the time limit is reported with what it was doing).
    """
    phase = PREPARING

    def enter(name: str) -> None:
        nonlocal phase
        phase = name
        on_phase(name)

    try:
        return _run(task, enter)
    except Exception as e:  # see _failure: the job fails, never the worker
        return _failure(task, phase, e), {}
