"""The native OpenQASM writer against quri-parts-openqasm, string for string.

The oracle is ``quri_parts.openqasm.circuit.convert_to_qasm_str`` followed by the reference
backend's measure rule; refused gates must raise the same exception type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit, QuantumGate, UnboundParametricQuantumCircuit
from quri_parts.openqasm.circuit import convert_to_qasm_str as reference_qasm

from quri_parts_oqtopus.qasm import convert_to_qasm_str, convert_to_qasm_strs
from tests.golden.circuits import GOLDEN_CIRCUITS

FIXED = ["Identity", "X", "Y", "Z", "H", "S", "SqrtX", "Sdag", "T", "Tdag"]
ROTATIONS = ["RX", "RY", "RZ"]
U_GATES = {"U1": 1, "U2": 2, "U3": 3}
TWO_QUBIT = ["CNOT", "CZ", "SWAP"]
NOT_IMPLEMENTED = ["SqrtXdag", "SqrtY", "SqrtYdag"]
PARAMETRIC = ["ParametricRX", "ParametricRY", "ParametricRZ", "ParametricPauliRotation"]
MULTI_QUBIT = ["Pauli", "PauliRotation"]
UNCONVERTIBLE = [
    "Measurement", "UnitaryMatrix", "MCX", "MCY", "MCZ", "MCH", "MCRX", "MCRY", "MCRZ", "MCS",
    "MCSdag", "MCT", "MCTdag", "MCSqrtX", "MCSqrtXdag", "MCSqrtY", "MCSqrtYdag", "MCU1",
]  # fmt: skip
UNKNOWN = ["Foo", "", "cx", "h", "CX"]
REFUSED = NOT_IMPLEMENTED + PARAMETRIC + MULTI_QUBIT + UNCONVERTIBLE + UNKNOWN

SPECIAL_FLOATS = [
    0.0, -0.0, 1e-05, 0.0001, 1e16, 1e15, 2.0, -3.0, 1e-300, 5e-324, 1.7976931348623157e308,
    math.nan, math.inf, -math.inf, 1840060703092231.2, 0.1,
]  # fmt: skip
angles = st.one_of(
    st.sampled_from(SPECIAL_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=10),
    st.integers(-(2**53), 2**53).map(float),
)


def with_measure_rule(qasm: str, qubit_count: int) -> str:
    """The reference backend's ``_convert_to_qasm_str_with_measure`` after the writer."""
    if "measure" not in qasm:
        qubit_index = qasm.find("qubit")
        if qubit_index != -1:
            semicolon_index = qasm.find(";", qubit_index)
            if semicolon_index != -1:
                qasm = (
                    qasm[: semicolon_index + 1]
                    + f"\nbit[{qubit_count}] c;"
                    + qasm[semicolon_index + 1 :]
                )
        qasm += "\nc = measure q;"
    return qasm


def oracle(circuit: Any) -> str:
    return with_measure_rule(reference_qasm(circuit), circuit.qubit_count)


def outcome(convert: Callable[[Any], Any], circuit: Any) -> tuple[str, Any]:
    """("ok", text) or ("raises", exception type): what a converter does with ``circuit``."""
    try:
        return ("ok", convert(circuit))
    except Exception as e:  # the exception type is what is compared
        return ("raises", type(e))


@st.composite
def valid_gates(draw: st.DrawFn, qubit_count: int) -> QuantumGate:
    qubit = st.integers(0, qubit_count - 1)
    kind = draw(st.sampled_from(["fixed", "rotation", "u", "two", "three"]))
    if kind == "fixed":
        return QuantumGate(draw(st.sampled_from(FIXED)), target_indices=(draw(qubit),))
    if kind == "rotation":
        name = draw(st.sampled_from(ROTATIONS))
        return QuantumGate(name, target_indices=(draw(qubit),), params=(draw(angles),))
    if kind == "u":
        name, count = draw(st.sampled_from(sorted(U_GATES.items())))
        params = tuple(draw(angles) for _ in range(count))
        return QuantumGate(name, target_indices=(draw(qubit),), params=params)
    distinct = draw(st.lists(qubit, min_size=3, max_size=3, unique=True))
    if kind == "two":
        name = draw(st.sampled_from(TWO_QUBIT))
        if name == "SWAP":
            return QuantumGate(name, target_indices=tuple(distinct[:2]))
        return QuantumGate(name, target_indices=(distinct[1],), control_indices=(distinct[0],))
    return QuantumGate(
        "TOFFOLI", target_indices=(distinct[2],), control_indices=tuple(distinct[:2])
    )


@st.composite
def circuits(draw: st.DrawFn, max_gates: int = 40) -> QuantumCircuit:
    qubit_count = draw(st.integers(3, 70))
    circuit = QuantumCircuit(qubit_count)
    for gate in draw(st.lists(valid_gates(qubit_count), max_size=max_gates)):
        circuit.add_gate(gate)
    return circuit


@given(circuits())
def test_random_circuits_print_like_quri_parts(circuit: QuantumCircuit) -> None:
    assert convert_to_qasm_str(circuit) == oracle(circuit), repr(circuit.gates)


@given(st.lists(circuits(max_gates=15), max_size=12))
def test_batches_print_each_circuit_like_quri_parts(batch: list[QuantumCircuit]) -> None:
    assert convert_to_qasm_strs(batch) == [oracle(c) for c in batch]


@given(angles)
def test_rotation_angle_text_is_python_repr(angle: float) -> None:
    circuit = QuantumCircuit(1)
    circuit.add_RZ_gate(0, angle)
    assert convert_to_qasm_str(circuit) == oracle(circuit), repr(angle)


def angle_text(value: float) -> str:
    """The text the QASM writer gives ``value`` as an RZ angle."""
    circuit = QuantumCircuit(1)
    circuit.add_RZ_gate(0, value)
    line = convert_to_qasm_str(circuit).splitlines()[-2]
    assert line.startswith("rz("), line
    assert line.endswith(") q[0];"), line
    return line[len("rz(") : -len(") q[0];")]


@given(st.integers(0, 2**64 - 1))
def test_float_text_matches_repr_for_any_bit_pattern(bits: int) -> None:
    value = float(np.array([bits], dtype=np.uint64).view(np.float64)[0])
    assert angle_text(value) == repr(value), hex(bits)


EDGE_FLOATS = [
    5e-324, -5e-324, 2.2250738585072009e-308, 2.2250738585072014e-308, 1e-05, 9.999999999999999e-06,
    0.0001, 9.999999999999999e-05, 1e16, 9999999999999998.0, 1e15, 1.0000000000000002e16, -0.0,
    0.0, 1e22, 1e23, 123456789012345678.0, 1840060703092231.2, 226145521278773.62, 0.1, 0.5,
    1.7976931348623157e308, math.inf, -math.inf, math.nan,
]  # fmt: skip


@pytest.mark.parametrize("value", EDGE_FLOATS, ids=repr)
def test_float_text_matches_repr_at_the_edges(value: float) -> None:
    assert angle_text(value) == repr(value)


@given(
    circuits(max_gates=10),
    st.sampled_from(REFUSED),
    st.integers(0, 2),
    st.lists(st.floats(-4, 4), max_size=2),
)
def test_refused_gates_raise_the_reference_exception_type(
    circuit: QuantumCircuit, name: str, qubit: int, params: list[float]
) -> None:
    gates = [*circuit.gates, DuckGate(name, target_indices=(qubit,), params=params)]
    broken = DuckCircuit(circuit.qubit_count, gates)
    expected = outcome(oracle, broken)
    assert expected[0] == "raises", name
    assert outcome(convert_to_qasm_str, broken) == expected, name
    assert outcome(convert_to_qasm_strs, [circuit, broken, circuit]) == expected, name


@pytest.mark.parametrize("name", REFUSED)
def test_refusal_message_names_the_gate(name: str) -> None:
    circuit = DuckCircuit(1, [DuckGate(name, target_indices=(0,))])
    expected_type = outcome(oracle, circuit)[1]
    with pytest.raises(expected_type) as raised:
        convert_to_qasm_str(circuit)  # type: ignore[arg-type]
    if name:
        assert name in str(raised.value)


@pytest.mark.parametrize(
    "gate",
    [
        QuantumGate("RX", target_indices=(0,)),
        QuantumGate("H", target_indices=()),
        QuantumGate("U3", target_indices=()),
        QuantumGate("CNOT", target_indices=(0, 1), control_indices=(2,)),
        QuantumGate("TOFFOLI", target_indices=(0,), control_indices=(1,)),
        QuantumGate("SWAP", target_indices=(0,)),
    ],
    ids=repr,
)
def test_malformed_gates_raise_the_reference_exception_type(gate: QuantumGate) -> None:
    circuit = DuckCircuit(3, [gate])
    expected = outcome(oracle, circuit)
    assert expected[0] == "raises"
    assert outcome(convert_to_qasm_str, circuit) == expected


@dataclass
class DuckGate:
    """A gate that is not QURI Parts' own type: the writer only reads its attributes."""

    name: str
    target_indices: Sequence[int]
    control_indices: Sequence[int] = ()
    params: Sequence[Any] = ()


@dataclass
class DuckCircuit:
    """A circuit the QURI Parts types would refuse (out-of-range qubits, odd params)."""

    qubit_count: Any
    gates: Sequence[Any] = field(default_factory=list)


ODD_PARAMS = [1, -7, True, np.float64(0.1), np.float32(0.1), np.int64(3), 2**70, 0.5]


@given(
    st.integers(0, 5),
    st.lists(
        st.tuples(
            st.sampled_from(ROTATIONS + list(U_GATES) + FIXED + TWO_QUBIT),
            st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
            st.lists(st.sampled_from(ODD_PARAMS), min_size=1, max_size=3),
        ),
        max_size=10,
    ),
)
def test_duck_typed_circuits_with_out_of_range_qubits_and_odd_params(
    qubit_count: int, specs: list[tuple[str, list[int], list[Any]]]
) -> None:
    gates = []
    for name, qubits, params in specs:
        if name in TWO_QUBIT:
            gates.append(DuckGate(name, (qubits[0],), (qubits[0] + 1,)))
        else:
            gates.append(DuckGate(name, tuple(qubits), params=params))
    circuit = DuckCircuit(qubit_count, gates)
    assert outcome(convert_to_qasm_str, circuit) == outcome(oracle, circuit), repr(specs)


def test_parametric_circuit_is_refused_like_quri_parts() -> None:
    circuit = UnboundParametricQuantumCircuit(2)
    circuit.add_H_gate(0)
    circuit.add_ParametricRX_gate(1)
    expected = outcome(oracle, circuit)
    assert expected[0] == "raises"
    assert outcome(convert_to_qasm_str, circuit) == expected


def test_float_qubit_count_is_truncated_like_int() -> None:
    circuit = DuckCircuit(2.7, [DuckGate("H", [1])])
    assert convert_to_qasm_str(circuit) == oracle(circuit)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(GOLDEN_CIRCUITS))
def test_golden_files(name: str) -> None:
    golden = (Path(__file__).parents[1] / "golden" / f"{name}.qasm").read_text(encoding="utf-8")
    circuit = GOLDEN_CIRCUITS[name]
    assert oracle(circuit) == golden
    assert convert_to_qasm_str(circuit) == golden
    assert convert_to_qasm_strs([circuit, circuit]) == [golden, golden]


def test_big_batch_keeps_order() -> None:
    batch = []
    for n in range(300):
        circuit = QuantumCircuit(n % 7 + 2)
        for i in range(n % 50):
            circuit.add_RX_gate(i % circuit.qubit_count, n + i / 7)
            circuit.add_CNOT_gate(0, 1)
        batch.append(circuit)
    assert convert_to_qasm_strs(batch) == [oracle(c) for c in batch]
    assert convert_to_qasm_strs(iter(batch)) == [oracle(c) for c in batch]


def test_empty_batch() -> None:
    assert convert_to_qasm_strs([]) == []
