"""A job on an emulated QPU: transpiled to the device, simulated with its noise, read out
with its readout errors, and mitigated when ``mitigation_info`` asks for it.

``simulate.py`` calls this in one place for devices whose ``device_info`` holds calibration
data; the noiseless simulator does not come here. Runs in the worker processes only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from quri_parts_oqtopus._contract import ESTIMATION, GLOBAL_FOLDING, MULTI_MANUAL
from quri_parts_oqtopus.calibration import DeviceCalibration, ReadoutError

from .components import (
    Component,
    check_component_widths,
    component_work,
    components_of,
    connected_groups,
    sample_components,
)
from .device_program import DeviceProgram, NativeGate
from .mitigation import (
    ZneSettings,
    check_invertible,
    mitigate_counts,
    mitigation_request,
    pseudo_inverse,
)
from .noise import NoisyDevice, check_density_size
from .programs import Program
from .tasks import CostLimits, Task
from .transpile import to_device
from .zne import ZneUnavailable, check_zne_cost, fold

#: Combined bits of a multi_manual job the (native, 64-bit) counts split can divide.
MAX_SPLIT_BITS = 64
# ((qubit, "X"|"Y"|"Z"), ...) and its coefficient; no factors = the identity.
PauliTerm = tuple[tuple[tuple[int, str], ...], float]


class Emulation:
    """One job's program on the device: transpiled at once (so that a program the device
    cannot run fails before it runs), simulated when sampled or estimated.

    Raises:
        ValueError: Naming why the program cannot run on the device, or a bad
            ``mitigation_info``.

    """

    def __init__(
        self, task: Task, program: Program, text: str, terms: Sequence[PauliTerm] = ()
    ) -> None:
        assert task.device_info is not None
        self._calibration = DeviceCalibration.from_device_info(task.device_info)
        self._mitigation = mitigation_request(task.mitigation_info).readout
        self._limits = task.limits
        self.counts_before_mitigation: dict[str, int] | None = None
        self._transpiled = task.transpiler_info.get("transpiler_lib", "qiskit") is not None
        _check_before_transpiling(task, program, terms)
        self.device_program: DeviceProgram = to_device(
            program,
            text,
            self._calibration,
            task.transpiler_info,
            device_id=task.device_id,
            seed=task.seed,
        )
        mapping = self.device_program.qubit_mapping
        self._terms = [
            (tuple((mapping[q], letter) for q, letter in factors), coeff)
            for factors, coeff in terms
        ]
        used = {q for g in self.device_program.gates for q in g.qubits}
        used |= {q for q, _ in self.device_program.measurements}
        used |= {q for factors, _ in self._terms for q, _ in factors}
        self._qubits = sorted(used)
        # Sampled jobs run per connected component (packed programs side by side);
        # an estimation reads terms across the whole state, so it stays one matrix.
        self._components: list[Component] | None = None
        if task.job_type == ESTIMATION:
            check_density_size(len(self._qubits))
            _check_work(len(self.device_program.gates), len(self._qubits), task.limits)
        else:
            self._components = _checked_components(self.device_program, task.limits)
        if self._mitigation is not None:  # refused now, not once simulated
            read = {q for q, _ in self.device_program.measurements}
            read |= {q for factors, _ in self._terms for q, _ in factors}
            for qubit in sorted(read):
                check_invertible(qubit, self._readout(qubit))

    @property
    def transpile_result(self) -> dict[str, Any] | None:
        """``job_info.transpile_result``: the program the device ran, stats and mapping;
        None when the job skipped the transpiler (as OQTOPUS leaves it)."""
        if self._transpiled:
            return self.device_program.transpile_result
        return None

    def _run(self) -> NoisyDevice:
        device = NoisyDevice(self._calibration, self._qubits)
        device.run(self.device_program.gates)
        return device

    def _readout(self, qubit: int) -> ReadoutError | None:
        return self._calibration.qubits[qubit].readout

    def sample_counts(self, shots: int, rng: np.random.Generator) -> dict[str, int]:
        """Counts keyed by bit string (clbit 0 last), mitigated if the job asks (then the
        counts read are kept in ``counts_before_mitigation`` for ``mitigation_details``)."""
        if self._components is not None and len(self._components) > 1:
            raw, mitigated = self._sample_components(self._components, shots, rng)
        else:
            raw = self._counts_on_one_matrix(shots, rng)
            mitigated = None if self._mitigation is None else self._mitigated(raw)
        if mitigated is None:
            return raw
        self.counts_before_mitigation = raw
        return mitigated

    def _counts_on_one_matrix(self, shots: int, rng: np.random.Generator) -> dict[str, int]:
        """Counts keyed by bit string (clbit 0 last) as the device reads them, the program
        simulated on one density matrix."""
        program = self.device_program
        by_clbit = {clbit: qubit for qubit, clbit in program.measurements}
        qubits = sorted(set(by_clbit.values()))
        if not qubits:
            return {"0" * program.bit_count: shots}
        device = self._run()
        outcomes = rng.multinomial(shots, device.read_distribution(qubits))
        counts: dict[str, int] = {}
        for index in np.flatnonzero(outcomes):
            read = {qubit: (int(index) >> k) & 1 for k, qubit in enumerate(qubits)}
            value = sum(read[qubit] << clbit for clbit, qubit in by_clbit.items())
            key = format(value, f"0{program.bit_count}b")
            counts[key] = counts.get(key, 0) + int(outcomes[index])
        return counts

    def _mitigated(self, counts: dict[str, int]) -> dict[str, int]:
        """``counts`` of this program with the readout errors of its measured qubits undone."""
        program = self.device_program
        by_clbit = {clbit: qubit for qubit, clbit in program.measurements}
        if not by_clbit:
            return counts
        bits = [(clbit, self._readout(qubit)) for clbit, qubit in sorted(by_clbit.items())]
        return mitigate_counts(counts, bits, program.bit_count)

    def _sample_components(
        self, components: list[Component], shots: int, rng: np.random.Generator
    ) -> tuple[dict[str, int], dict[str, int] | None]:
        """Counts of a program whose qubits fall into several independent components, as
        read and mitigated (None when the job asks for no mitigation): each component's
        counts are mitigated on their own, since one matrix over all bits is 2^bits wide."""
        bit_count = self.device_program.bit_count

        def mitigate(counts: dict[str, int], read: Sequence[tuple[int, int]]) -> dict[str, int]:
            bits = [(clbit, self._readout(qubit)) for clbit, qubit in read]
            return mitigate_counts(counts, bits, bit_count)

        mitigation = None if self._mitigation is None else mitigate
        return sample_components(components, self._calibration, bit_count, shots, rng, mitigation)

    def estimate(self, shots: int, rng: np.random.Generator) -> tuple[float, float]:
        """Σ coeff·⟨P⟩ of the job's terms from ``shots`` noisy readouts of each in its
        basis, mitigated if the job asks, and its standard error (``combine_terms``)."""
        return self._estimate_on(self._run(), shots, rng)

    def folded_programs(
        self, settings: ZneSettings, seed: int | None
    ) -> dict[tuple[float, int], tuple[NativeGate, ...]]:
        """The transpiled program folded to each ``(scale factor, repetition)`` of ZNE.

        Raises:
            ZneUnavailable: Naming the limit, when the folded programs would cost more
                than ``max_gate_work`` to simulate (checked before folding, and each
                folded program again).

        """
        gates = self.device_program.gates
        check_zne_cost(settings, len(gates), 4 ** len(self._qubits), self._limits.max_gate_work)
        folded: dict[tuple[float, int], tuple[NativeGate, ...]] = {}
        for scale_factor in settings.scale_factors:
            for rep in range(settings.num_to_average):
                # Global folding is the same every time: only random folding differs by rep.
                same = settings.folding == GLOBAL_FOLDING and rep > 0
                folded[scale_factor, rep] = (
                    folded[scale_factor, 0]
                    if same
                    else fold(
                        gates,
                        scale_factor,
                        settings.folding,
                        None if seed is None else seed + rep,
                    )
                )
                try:
                    _check_work(len(folded[scale_factor, rep]), len(self._qubits), self._limits)
                except ValueError as e:
                    raise ZneUnavailable(
                        f"the program folded to scale factor {scale_factor}: {e}"
                    ) from e
        return folded

    def estimate_folded(
        self, gates: Sequence[NativeGate], shots: int, rng: np.random.Generator
    ) -> tuple[float, float]:
        """``estimate`` of the job's terms after ``gates`` (a folded program) instead."""
        device = NoisyDevice(self._calibration, self._qubits)
        device.run(gates)
        return self._estimate_on(device, shots, rng)

    def _estimate_on(
        self, device: NoisyDevice, shots: int, rng: np.random.Generator
    ) -> tuple[float, float]:
        means = []
        for factors, coeff in self._terms:
            if not factors:
                means.append((coeff, 1.0))
                continue
            qubits = [q for q, _ in factors]
            read = device.read_distribution(qubits, device.rotate_to_z(factors))
            sampled = rng.multinomial(shots, read) / shots
            if self._mitigation is not None:
                sampled = pseudo_inverse(sampled, [self._readout(q) for q in qubits])
            means.append((coeff, float(parities(len(qubits)) @ sampled)))
        return combine_terms(means, shots)


def combine_terms(means: Sequence[tuple[float, float]], shots: int) -> tuple[float, float]:
    """Σ coeff·mean over ``(coeff, mean)`` pairs, each mean of ``shots`` ±1 outcomes (1.0
    for the identity, which is exact), and its standard error.

    Summed in units of the largest coefficient, so that any estimate a float can hold
    comes out finite (coefficients of 1e200 square to 1e400, beyond the float range).

    Raises:
        OverflowError: If the estimate or its error is beyond the float range itself.

    """
    scale = max((abs(coeff) for coeff, _ in means), default=0.0) or 1.0
    value = math.fsum(coeff / scale * mean for coeff, mean in means)
    spread = math.fsum((coeff / scale) ** 2 * max(0.0, 1.0 - mean * mean) for coeff, mean in means)
    exp_value, stds = value * scale, math.sqrt(spread / shots) * scale
    if not (math.isfinite(exp_value) and math.isfinite(stds)):
        raise OverflowError(
            f"the estimate is beyond the range of a float (exp_value {exp_value}, stds {stds};"
            f" the operator's largest |coeff| is {scale:g})"
        )
    return exp_value, stds


def _check_before_transpiling(task: Task, program: Program, terms: Sequence[PauliTerm]) -> None:
    """Refuse what no transpilation can make fit, before the transpiler spends minutes.

    The transpiler gives each used qubit a physical one of its own and rarely leaves
    fewer gates than it was given (routing adds swaps, translation splits gates), so the
    program's own width and gates already bound the density-matrix cost from below.
    """
    width = len(_virtual_qubits(program, terms))
    if task.job_type == ESTIMATION:
        check_density_size(width)
        _check_work(len(program.circuit.gates), width, task.limits)
    else:  # transpiling can only join components (routing), never split one
        _check_virtual_components(program, task.limits)
    if task.job_type == MULTI_MANUAL and program.bit_count > MAX_SPLIT_BITS:
        raise ValueError(
            f"the programs measure {program.bit_count} classical bits in all; an emulated"
            f" device splits at most {MAX_SPLIT_BITS} into divided_counts"
        )


def _checked_components(program: DeviceProgram, limits: CostLimits) -> list[Component]:
    """The transpiled program's components, each within the density-matrix bounds.

    Raises:
        ValueError: Naming a component wider than ``MAX_DENSITY_QUBITS`` (its physical
            qubits), or gates whose cost on their components is beyond ``max_gate_work``.

    """
    components = components_of(program.gates, program.measurements)
    check_component_widths([c.qubits for c in components], "the device's qubits")
    _check_component_work([(len(c.gates), len(c.qubits)) for c in components], limits)
    return components


def _check_virtual_components(program: Program, limits: CostLimits) -> None:
    """The program's own components within the bounds, before it is transpiled."""
    gates = [(*g.control_indices, *g.target_indices) for g in program.circuit.gates]
    groups = connected_groups(
        [q for qubits in gates for q in qubits] + [q for q, _ in program.measurements],
        [qubits for qubits in gates if len(qubits) > 1],
    )
    check_component_widths(groups, "the program's qubits")
    owner = {qubit: index for index, group in enumerate(groups) for qubit in group}
    counts = [0] * len(groups)
    for qubits in gates:
        counts[owner[qubits[0]]] += 1
    _check_component_work(zip(counts, map(len, groups), strict=True), limits)


def _check_component_work(groups: Iterable[tuple[int, int]], limits: CostLimits) -> None:
    listed = list(groups)
    work, gates, widest = component_work(listed)
    if work > limits.max_gate_work:
        where = f"{widest} qubits" if len(listed) == 1 else f"components of up to {widest} qubits"
        raise ValueError(
            f"{gates} gates on {where} of a density matrix cost {work:.3g} entry updates,"
            f" beyond the limit max_gate_work = {limits.max_gate_work:.3g}"
        )


def _check_work(gates: int, qubits: int, limits: CostLimits) -> None:
    work = gates * 4**qubits
    if work > limits.max_gate_work:
        raise ValueError(
            f"{gates} gates on {qubits} qubits of a density matrix cost {work:.3g} entry"
            f" updates, beyond the limit max_gate_work = {limits.max_gate_work:.3g}"
        )


def _virtual_qubits(program: Program, terms: Sequence[PauliTerm]) -> set[int]:
    """The qubits the program acts on, measures or estimates (before any mapping)."""
    used = {
        q for gate in program.circuit.gates for q in (*gate.control_indices, *gate.target_indices)
    }
    used |= {q for q, _ in program.measurements}
    used |= {q for factors, _ in terms for q, _ in factors}
    return used


def parities(width: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """(-1)^(number of ones) of every ``width``-bit outcome: the eigenvalue of Z⊗...⊗Z."""
    signs: np.ndarray[Any, np.dtype[np.float64]] = np.ones(1)
    for _ in range(width):
        signs = np.concatenate([signs, -signs])
    return signs
