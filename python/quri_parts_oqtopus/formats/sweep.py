"""Parameter sweeps: one parametric circuit and a list of parameter sets, handled as one.

Example:
    .. code-block:: python

        from quri_parts.circuit import UnboundParametricQuantumCircuit
        from quri_parts_oqtopus.backend import OqtopusSamplingBackend
        from quri_parts_oqtopus.jobset import OqtopusJobSet
        from quri_parts_oqtopus.formats.sweep import ParameterSweep

        circuit = UnboundParametricQuantumCircuit(2)
        circuit.add_ParametricRX_gate(0)
        circuit.add_CNOT_gate(0, 1)
        circuit.add_ParametricRZ_gate(1)
        sweep = ParameterSweep(circuit, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])

        job_set = OqtopusJobSet.submit(sweep, device_id="qulacs", shots=1000)  # a job per set
        job = OqtopusSamplingBackend().sample(sweep, device_id="qulacs", shots=1000)  # one job

"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Real
from typing import Any, overload

from quri_parts.circuit import (
    ImmutableBoundParametricQuantumCircuit,
    UnboundParametricQuantumCircuitProtocol,
)

__all__ = ["ParameterSweep"]


class ParameterSweep(Sequence[ImmutableBoundParametricQuantumCircuit]):
    """The bindings of one parametric circuit: ``circuit.bind_parameters(p)`` for each ``p``.

    A sweep goes wherever a list of circuits goes, and means the same as the list of bound
    circuits: ``OqtopusSamplingBackend.sample(sweep, ...)`` (one ``multi_manual`` job of all
    bindings), ``OqtopusJobSet.submit(sweep, ...)`` and ``OqtopusJobSet.resume(journal,
    sweep)`` (one job per binding), ``convert_to_qasm_strs(sweep)``. There the circuit is
    read once and each binding costs only its angles' text, instead of a
    ``bind_parameters`` call and a full conversion per binding; the text is the same byte
    for byte (where the fast path cannot vouch for that, each binding goes through
    ``bind_parameters`` as in a loop).

    Indexing binds on demand: ``sweep[i]`` is ``circuit.bind_parameters(parameter_sets[i])``.

    Args:
        circuit: The parametric circuit. It is frozen (``circuit.freeze()``), so later
            changes to a mutable circuit do not change the sweep.
        parameter_sets: One sequence of real numbers per binding, each as long as
            ``circuit.parameter_count`` (in the order ``bind_parameters`` takes them).

    Raises:
        ValueError: If ``circuit`` is not a parametric circuit, or a parameter set is not a
            sequence of ``parameter_count`` real numbers (the message names its index).

    """

    def __init__(
        self,
        circuit: UnboundParametricQuantumCircuitProtocol,
        parameter_sets: Iterable[Sequence[float]],
    ) -> None:
        count = getattr(circuit, "parameter_count", None)
        if not callable(getattr(circuit, "bind_parameters", None)) or not isinstance(count, int):
            raise ValueError(
                "circuit should be a parametric circuit (with bind_parameters and "
                f"parameter_count): got {type(circuit).__name__}"
            )
        if isinstance(parameter_sets, str | bytes | Mapping):
            raise ValueError(
                f"parameter_sets should be a list of sequences: {parameter_sets!r:.80}"
            )
        freeze = getattr(circuit, "freeze", None)
        self._circuit: UnboundParametricQuantumCircuitProtocol = (
            freeze() if callable(freeze) else circuit
        )
        self._sets = tuple(_values(index, p, count) for index, p in enumerate(parameter_sets))

    @property
    def circuit(self) -> UnboundParametricQuantumCircuitProtocol:
        """The parametric circuit (frozen)."""
        return self._circuit

    @property
    def parameter_sets(self) -> tuple[tuple[float, ...], ...]:
        """The parameter sets, as tuples of floats."""
        return self._sets

    def __len__(self) -> int:
        return len(self._sets)

    @overload
    def __getitem__(self, index: int) -> ImmutableBoundParametricQuantumCircuit: ...

    @overload
    def __getitem__(self, index: slice) -> list[ImmutableBoundParametricQuantumCircuit]: ...

    def __getitem__(
        self, index: int | slice
    ) -> ImmutableBoundParametricQuantumCircuit | list[ImmutableBoundParametricQuantumCircuit]:
        if isinstance(index, slice):
            return [self._bind(p) for p in self._sets[index]]
        return self._bind(self._sets[index])

    def __iter__(self) -> Iterator[ImmutableBoundParametricQuantumCircuit]:
        return (self._bind(p) for p in self._sets)

    def __repr__(self) -> str:
        return (
            f"ParameterSweep({len(self._sets)} bindings of a {self._circuit.qubit_count}-qubit "
            f"circuit with {len(self._sets[0]) if self._sets else 0} parameters)"
        )

    def _bind(self, values: tuple[float, ...]) -> ImmutableBoundParametricQuantumCircuit:
        return self._circuit.bind_parameters(list(values))


def _values(index: int, values: Any, count: int) -> tuple[float, ...]:
    """Parameter set ``index`` as floats, or ValueError saying what is wrong with it."""
    if isinstance(values, str | bytes | Mapping):
        raise ValueError(f"parameter set {index} is not a sequence of numbers: {values!r:.80}")
    try:
        # A numpy row gives Python numbers through tolist(), in one C call.
        items = tuple(values.tolist() if hasattr(values, "tolist") else values)
    except TypeError:
        raise ValueError(
            f"parameter set {index} is not a sequence of numbers: {values!r:.80}"
        ) from None
    if len(items) != count:
        raise ValueError(
            f"parameter set {index} has {len(items)} values, the circuit takes {count}"
        )
    if set(map(type, items)) <= {float}:
        return items  # the common case, checked at C speed
    for value in items:
        if not isinstance(value, Real):
            raise ValueError(f"parameter set {index} holds a value that is not real: {value!r:.80}")
    return tuple(float(value) for value in items)
