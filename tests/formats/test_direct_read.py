"""The direct read of quri_parts_rust circuits, and each of its guards.

Whichever way a circuit is read, it prints as quri-parts-openqasm writes it and refused
gates raise what the reference raises; these tests also check which way each circuit went
(`direct_read_status()` counts them). The same file runs in CI a second time with the
direct read switched off (`QURI_PARTS_OQTOPUS_DIRECT_READ=0`), where every circuit must
go through the getters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from quri_parts.circuit import QuantumCircuit, QuantumGate, UnboundParametricQuantumCircuit
from quri_parts.rust.circuit.circuit import ImmutableQuantumCircuit

from quri_parts_oqtopus.qasm import (
    DIRECT_READ_SWITCH,
    convert_to_qasm_str,
    convert_to_qasm_strs,
    direct_read_status,
)
from tests.formats.test_qasm_parity import DuckCircuit, circuits, oracle

SWITCHED_OFF = os.environ.get(DIRECT_READ_SWITCH, "").strip().lower() in {"0", "off", "false", "no"}
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def reads() -> Iterator[dict[str, int]]:
    """How many circuits the block read directly and through the getters."""
    before = direct_read_status()
    counted: dict[str, int] = {}
    yield counted
    after = direct_read_status()
    counted["read_directly"] = after["read_directly"] - before["read_directly"]
    counted["read_through_getters"] = after["read_through_getters"] - before["read_through_getters"]


def expect_direct(counted: dict[str, int], circuits: int) -> None:
    """``circuits`` circuits were read directly (through the getters when switched off)."""
    if SWITCHED_OFF:
        assert counted == {"read_directly": 0, "read_through_getters": circuits}
    else:
        assert counted == {"read_directly": circuits, "read_through_getters": 0}


def expect_getters(counted: dict[str, int], circuits: int) -> None:
    assert counted == {"read_directly": 0, "read_through_getters": circuits}


def outcome(convert: Callable[[Any], Any], circuit: Any) -> tuple[str, Any, str]:
    """What a converter does: ("ok", text, "") or ("raises", type, message)."""
    try:
        return ("ok", convert(circuit), "")
    except Exception as e:  # the type and message are what is compared
        return ("raises", type(e), str(e))


def every_gate(qubits: int = 5) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    for name in ["Identity", "X", "Y", "Z", "H", "S", "Sdag", "SqrtX", "T", "Tdag"]:
        circuit.add_gate(QuantumGate(name, target_indices=[1]))
    circuit.add_RX_gate(0, 0.1)
    circuit.add_RY_gate(1, -2.5e-7)
    circuit.add_RZ_gate(2, 1e300)
    circuit.add_U1_gate(3, -0.0)
    circuit.add_U2_gate(4, 1e16, 1e-5)
    circuit.add_U3_gate(0, 3.5, float("nan"), float("-inf"))
    circuit.add_CNOT_gate(4, 0)
    circuit.add_CZ_gate(1, 3)
    circuit.add_SWAP_gate(2, 4)
    circuit.add_TOFFOLI_gate(4, 3, 1)
    return circuit


def test_the_read_mode_is_the_one_the_switch_asks_for() -> None:
    convert_to_qasm_str(every_gate())
    status = direct_read_status()
    assert status["enabled"] is not SWITCHED_OFF, status
    expected = f"turned off by {DIRECT_READ_SWITCH}" if SWITCHED_OFF else "the self-test passed"
    assert status["reason"] == expected


def test_circuits_of_each_quri_parts_type_are_read_directly() -> None:
    mutable = every_gate()
    unbound = UnboundParametricQuantumCircuit(3)
    unbound.add_H_gate(0)
    unbound.add_ParametricRX_gate(1)
    unbound.add_CNOT_gate(1, 2)
    bound = unbound.bind_parameters([0.75])
    batch = [mutable, mutable.freeze(), bound, QuantumCircuit(2)]
    assert [type(c).__name__ for c in batch] == [
        "QuantumCircuit",
        "ImmutableQuantumCircuit",
        "ImmutableBoundParametricQuantumCircuit",
        "QuantumCircuit",
    ]
    with reads() as counted:
        texts = [convert_to_qasm_str(c) for c in batch]
    expect_direct(counted, 4)
    assert texts == [oracle(c) for c in batch]
    with reads() as counted:
        assert convert_to_qasm_strs(batch) == texts
    expect_direct(counted, 4)


@given(circuits())
def test_random_circuits_are_read_directly_and_print_like_quri_parts(
    circuit: QuantumCircuit,
) -> None:
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_direct(counted, 1)
    assert text == oracle(circuit), repr(circuit.gates)


class Subclass(QuantumCircuit):
    """A user's subclass: read through its attributes, whatever they do."""

    @property
    def gates(self) -> Any:
        return (*super().gates, QuantumGate("X", target_indices=[0]))


def test_a_subclass_is_read_through_its_attributes() -> None:
    circuit = Subclass(2)
    circuit.add_H_gate(1)
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_getters(counted, 1)
    assert text == oracle(circuit)
    assert text.endswith("h q[1];\nx q[0];\nc = measure q;")


def test_a_replaced_gates_property_is_what_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit = every_gate()
    original = ImmutableQuantumCircuit.gates
    monkeypatch.setattr(
        ImmutableQuantumCircuit, "gates", property(lambda self: original.__get__(self)[::-1])
    )
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_getters(counted, 1)
    assert text == oracle(circuit)
    assert text.split("\n")[5] == "ccx q[4], q[3], q[1];"  # the last gate first
    monkeypatch.undo()
    with reads() as counted:
        assert convert_to_qasm_str(circuit) == oracle(circuit)
    expect_direct(counted, 1)  # the original property back: read directly again


def test_a_shadowing_attribute_on_the_subclass_type_is_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    circuit = every_gate()
    monkeypatch.setattr(QuantumCircuit, "qubit_count", 9, raising=False)
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_getters(counted, 1)
    assert text == oracle(circuit)
    assert "qubit[9] q;" in text


def test_a_replaced_gate_attribute_is_what_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit = every_gate()
    original = QuantumGate.name
    renamed = {"H": "X", "CNOT": "CZ"}
    monkeypatch.setattr(
        QuantumGate,
        "name",
        property(lambda self: renamed.get(original.__get__(self), original.__get__(self))),
    )
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_getters(counted, 1)
    assert text == oracle(circuit)
    assert "\nh q[" not in text


def test_a_custom_attribute_lookup_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    circuit = every_gate()

    def lookup(self: Any, name: str) -> Any:
        if name == "gates":
            return ()
        return object.__getattribute__(self, name)

    monkeypatch.setattr(QuantumCircuit, "__getattribute__", lookup, raising=False)
    with reads() as counted:
        text = convert_to_qasm_str(circuit)
    expect_getters(counted, 1)
    assert text == oracle(circuit)
    assert "\nc = measure q;" in text
    assert "h q[" not in text


def test_a_mutably_borrowed_circuit_raises_what_the_reference_raises() -> None:
    circuit = QuantumCircuit(2)
    circuit.add_H_gate(0)
    seen: dict[str, Any] = {}

    class Angle:
        """Read by quri_parts_rust while it holds the circuit mutably borrowed."""

        def __float__(self) -> float:
            with reads() as counted:
                seen["ours"] = outcome(convert_to_qasm_str, circuit)
                seen["batch"] = outcome(convert_to_qasm_strs, [circuit])
            seen["counted"] = counted
            seen["reference"] = outcome(oracle, circuit)
            return 0.5

    circuit.add_RZ_gate(1, Angle())  # type: ignore[arg-type]
    assert seen["reference"] == ("raises", RuntimeError, "Already mutably borrowed")
    assert seen["ours"] == seen["reference"]
    assert seen["batch"] == seen["reference"]
    expect_getters(seen["counted"], 2)
    assert convert_to_qasm_str(circuit) == oracle(circuit)  # the borrow is over


LEFT_TO_THE_GETTERS: list[tuple[str, Callable[[QuantumCircuit], None]]] = [
    ("SqrtXdag", lambda c: c.add_SqrtXdag_gate(0)),
    ("SqrtY", lambda c: c.add_SqrtY_gate(1)),
    ("SqrtYdag", lambda c: c.add_SqrtYdag_gate(2)),
    ("Pauli", lambda c: c.add_Pauli_gate([0, 1], [1, 3])),
    ("PauliRotation", lambda c: c.add_PauliRotation_gate([0, 2], [2, 3], 0.5)),
    ("Measurement", lambda c: c.measure(1, 0)),
    ("UnitaryMatrix", lambda c: c.add_UnitaryMatrix_gate([0], [[0.0, 1.0], [1.0, 0.0]])),
]


@pytest.mark.parametrize(
    ("name", "add"), LEFT_TO_THE_GETTERS, ids=[n for n, _ in LEFT_TO_THE_GETTERS]
)
def test_gates_the_direct_read_leaves_alone_raise_as_before(
    name: str, add: Callable[[QuantumCircuit], None]
) -> None:
    circuit = QuantumCircuit(3, 1)
    circuit.add_H_gate(0)
    circuit.add_RZ_gate(1, 0.25)
    add(circuit)
    with reads() as counted:
        ours = outcome(convert_to_qasm_str, circuit)
    expect_getters(counted, 1)
    assert ours[0] == "raises"
    assert ours[1] is outcome(oracle, circuit)[1]
    # The same gates read one attribute at a time (a duck-typed circuit) raise the same.
    assert outcome(convert_to_qasm_str, DuckCircuit(3, circuit.gates)) == ours
    assert name in ours[2] or ours[1] is IndexError


CHECK_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from quri_parts.circuit import UnboundParametricQuantumCircuit
from quri_parts_oqtopus.qasm import convert_to_qasm_str, convert_to_qasm_strs, direct_read_status
from tests.formats.test_direct_read import every_gate
from tests.formats.test_qasm_parity import oracle
unbound = UnboundParametricQuantumCircuit(3)
unbound.add_ParametricRZ_gate(0)
unbound.add_CNOT_gate(0, 2)
batch = [every_gate(), every_gate().freeze(), unbound.bind_parameters([1e-7])] * 3
same = convert_to_qasm_strs(batch) == [oracle(c) for c in batch]
same = same and [convert_to_qasm_str(c) for c in batch] == [oracle(c) for c in batch]
print(json.dumps({"same": same, "status": direct_read_status()}))
"""


def run_check(env: dict[str, str], prelude: str = "") -> dict[str, Any]:
    """The check script in a fresh interpreter: its output and the read status there."""
    child = subprocess.run(
        [sys.executable, "-c", prelude + CHECK_SCRIPT, str(ROOT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    result: dict[str, Any] = json.loads(child.stdout)
    return result


@pytest.mark.parametrize("part", ["tag", "field", "stride", "contents", "word-order"])
def test_a_corrupted_layout_falls_back_with_the_same_text_and_no_crash(part: str) -> None:
    result = run_check({DIRECT_READ_SWITCH: f"corrupt-{part}"})
    assert result["same"] is True
    status = result["status"]
    assert status["enabled"] is False
    assert status["reason"].startswith("self-test: "), status["reason"]
    assert status["read_directly"] == 0
    assert status["read_through_getters"] == 18


def test_an_unknown_test_hook_turns_the_read_off() -> None:
    status = run_check({DIRECT_READ_SWITCH: "corrupt-nothing"})["status"]
    assert status["enabled"] is False
    assert "unknown test hook" in status["reason"]


@pytest.mark.parametrize("value", ["0", "off", "False", "no"])
def test_the_switch_turns_the_direct_read_off(value: str) -> None:
    result = run_check({DIRECT_READ_SWITCH: value})
    assert result["same"] is True
    assert result["status"]["enabled"] is False
    assert result["status"]["reason"] == f"turned off by {DIRECT_READ_SWITCH}"
    assert result["status"]["read_directly"] == 0


ANOTHER_VERSION = """
import importlib.metadata
_version = importlib.metadata.version
importlib.metadata.version = lambda name: "0.26.0" if name == "quri-parts-rust" else _version(name)
"""


def test_a_version_off_the_allowlist_is_read_through_the_getters() -> None:
    env = {DIRECT_READ_SWITCH: "1"}
    result = run_check(env, prelude=ANOTHER_VERSION)
    assert result["same"] is True
    status = result["status"]
    assert status["enabled"] is False
    assert status["reason"] == "quri-parts-rust 0.26.0 is not on the allowlist (0.27.0)"
    assert status["read_through_getters"] == 18
