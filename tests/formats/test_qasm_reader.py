"""read_qasm: round trips with quri-parts-openqasm, textbook matrices, qiskit-style text, errors."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit, QuantumGate, gates
from quri_parts.core.state import GeneralCircuitQuantumState, QuantumStateVector
from quri_parts.openqasm.circuit import convert_to_qasm_str
from quri_parts.qulacs.simulator import evaluate_state_to_vector

from quri_parts_oqtopus.qasm_reader import read_qasm

Matrix = npt.NDArray[np.complex128]
Vector = npt.NDArray[np.complex128]


def final_state(circuit: QuantumCircuit, initial: Vector | None = None) -> Vector:
    n = circuit.qubit_count
    if initial is None:
        state = evaluate_state_to_vector(GeneralCircuitQuantumState(n, circuit))
    else:
        state = evaluate_state_to_vector(QuantumStateVector(n, initial, circuit))
    return np.asarray(state.vector, dtype=np.complex128)


# ------------------------------------------------------------------ (a) round trip

ANGLES = st.one_of(
    st.floats(min_value=-20.0, max_value=20.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-05, -1e-07, math.pi, -math.pi / 2, 1e3]),
)
ONE_QUBIT = [
    gates.Identity, gates.X, gates.Y, gates.Z, gates.H, gates.S,
    gates.Sdag, gates.T, gates.Tdag, gates.SqrtX,
]  # fmt: skip
ROTATIONS = [gates.RX, gates.RY, gates.RZ, gates.U1]
TWO_QUBIT = [gates.CNOT, gates.CZ, gates.SWAP]


@st.composite
def exportable_gate(draw: st.DrawFn, n: int) -> QuantumGate:
    """One gate of any kind `convert_to_qasm_str` can write, on distinct qubits below n."""
    kinds = ["one", "rotation", "u2", "u3"] + (["two"] if n >= 2 else []) + (["three"] * (n >= 3))
    kind = draw(st.sampled_from(kinds))
    qubits = draw(st.permutations(range(n)))
    if kind == "one":
        return draw(st.sampled_from(ONE_QUBIT))(qubits[0])
    if kind == "rotation":
        return draw(st.sampled_from(ROTATIONS))(qubits[0], draw(ANGLES))
    if kind == "u2":
        return gates.U2(qubits[0], draw(ANGLES), draw(ANGLES))
    if kind == "u3":
        return gates.U3(qubits[0], draw(ANGLES), draw(ANGLES), draw(ANGLES))
    if kind == "two":
        return draw(st.sampled_from(TWO_QUBIT))(qubits[0], qubits[1])
    return gates.TOFFOLI(qubits[0], qubits[1], qubits[2])


@st.composite
def exportable_circuit(draw: st.DrawFn) -> QuantumCircuit:
    n = draw(st.integers(min_value=1, max_value=5))
    circuit = QuantumCircuit(n)
    for gate in draw(st.lists(exportable_gate(n), max_size=25)):
        circuit.add_gate(gate)
    return circuit


@settings(max_examples=500, deadline=None)
@given(exportable_circuit())
def test_round_trip_of_quri_parts_export_gives_the_same_state(circuit: QuantumCircuit) -> None:
    text = convert_to_qasm_str(circuit)
    program = read_qasm(text)
    n = circuit.qubit_count
    assert (program.qubit_count, program.clbit_count) == (n, n), text
    assert program.measurements == tuple((i, i) for i in range(n)), text
    assert not program.has_mid_circuit_operations, text
    expected, got = final_state(circuit), final_state(program.circuit)
    assert np.max(np.abs(expected - got)) < 1e-9, text


def test_round_trip_keeps_gate_names_params_and_qubits() -> None:
    circuit = QuantumCircuit(3)
    circuit.add_gate(gates.U3(2, 0.1, -0.2, 1e-05))
    circuit.add_gate(gates.CNOT(2, 0))
    circuit.add_gate(gates.TOFFOLI(1, 2, 0))
    circuit.add_gate(gates.RZ(1, -0.0))
    text = convert_to_qasm_str(circuit)
    assert tuple(read_qasm(text).circuit.gates) == tuple(circuit.gates), text


# ------------------------------------------------------------------ (b) textbook matrices

I2 = np.eye(2, dtype=np.complex128)
X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
Z = np.diag([1, -1]).astype(np.complex128)
H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2)
S = np.diag([1, 1j]).astype(np.complex128)
T = np.diag([1, np.exp(1j * math.pi / 4)]).astype(np.complex128)
SX = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=np.complex128) / 2
SWAP = np.eye(4, dtype=np.complex128)[[0, 2, 1, 3]]


def phase(lam: float) -> Matrix:
    return np.diag([1, np.exp(1j * lam)]).astype(np.complex128)


def u(theta: float, phi: float, lam: float) -> Matrix:
    """OpenQASM's builtin U(θ, φ, λ), which is also QURI Parts' U3."""
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array(
        [[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]],
        dtype=np.complex128,
    )


def rot(pauli: Matrix, theta: float) -> Matrix:
    """exp(-iθ/2 P) for any P with P² = 1."""
    return math.cos(theta / 2) * np.eye(len(pauli)) - 1j * math.sin(theta / 2) * pauli


def kron(a: Matrix, b: Matrix) -> Matrix:
    return np.asarray(np.kron(a, b), dtype=np.complex128)


def ctrl(m: Matrix) -> Matrix:
    """Controlled m, the control being the first (most significant) operand."""
    out = np.eye(2 * len(m), dtype=np.complex128)
    out[len(m) :, len(m) :] = m
    return out


# name -> (parameter count, textbook matrix with the first operand most significant)
TEXTBOOK: dict[str, tuple[int, Callable[[Sequence[float]], Matrix]]] = {
    "id": (0, lambda p: I2),
    "x": (0, lambda p: X),
    "y": (0, lambda p: Y),
    "z": (0, lambda p: Z),
    "h": (0, lambda p: H),
    "s": (0, lambda p: S),
    "sdg": (0, lambda p: S.conj().T),
    "t": (0, lambda p: T),
    "tdg": (0, lambda p: T.conj().T),
    "sx": (0, lambda p: SX),
    "sxdg": (0, lambda p: SX.conj().T),
    "rx": (1, lambda p: rot(X, p[0])),
    "ry": (1, lambda p: rot(Y, p[0])),
    "rz": (1, lambda p: rot(Z, p[0])),
    "p": (1, lambda p: phase(p[0])),
    "phase": (1, lambda p: phase(p[0])),
    "u1": (1, lambda p: phase(p[0])),
    "u2": (2, lambda p: u(math.pi / 2, p[0], p[1])),
    "u3": (3, lambda p: u(p[0], p[1], p[2])),
    "u": (3, lambda p: u(p[0], p[1], p[2])),
    "U": (3, lambda p: u(p[0], p[1], p[2])),
    "cx": (0, lambda p: ctrl(X)),
    "CX": (0, lambda p: ctrl(X)),
    "cy": (0, lambda p: ctrl(Y)),
    "cz": (0, lambda p: ctrl(Z)),
    "ch": (0, lambda p: ctrl(H)),
    "cs": (0, lambda p: ctrl(S)),
    "csdg": (0, lambda p: ctrl(S.conj().T)),
    "csx": (0, lambda p: ctrl(SX)),
    "cp": (1, lambda p: ctrl(phase(p[0]))),
    "cphase": (1, lambda p: ctrl(phase(p[0]))),
    "cu1": (1, lambda p: ctrl(phase(p[0]))),
    "crx": (1, lambda p: ctrl(rot(X, p[0]))),
    "cry": (1, lambda p: ctrl(rot(Y, p[0]))),
    "crz": (1, lambda p: ctrl(rot(Z, p[0]))),
    "cu3": (3, lambda p: ctrl(u(p[0], p[1], p[2]))),
    "cu": (4, lambda p: ctrl(np.exp(1j * p[3]) * u(p[0], p[1], p[2]))),
    "swap": (0, lambda p: SWAP),
    "rxx": (1, lambda p: rot(kron(X, X), p[0])),
    "ryy": (1, lambda p: rot(kron(Y, Y), p[0])),
    "rzz": (1, lambda p: rot(kron(Z, Z), p[0])),
    "ccx": (0, lambda p: ctrl(ctrl(X))),
    "ccz": (0, lambda p: ctrl(ctrl(Z))),
    "cswap": (0, lambda p: ctrl(SWAP)),
}


def apply_on(state: Vector, matrix: Matrix, qubits: Sequence[int], n: int) -> Vector:
    """Applies matrix to `qubits` (first = most significant in the matrix) of an n-qubit
    state whose index has qubit 0 as its least significant bit (qulacs' order)."""
    k = len(qubits)
    axes = [n - 1 - q for q in qubits]
    tensor = state.reshape((2,) * n)
    out = np.tensordot(matrix.reshape((2,) * (2 * k)), tensor, axes=(list(range(k, 2 * k)), axes))
    result: Vector = np.asarray(np.moveaxis(out, list(range(k)), axes).reshape(-1), np.complex128)
    return result


def random_state(rng: np.random.Generator, n: int) -> Vector:
    v = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return np.asarray(v / np.linalg.norm(v), dtype=np.complex128)


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
@pytest.mark.parametrize("operand_order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_gate_acts_as_its_textbook_matrix_exactly(
    name: str, operand_order: tuple[int, int, int]
) -> None:
    n_params, textbook = TEXTBOOK[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}{operand_order}".encode()))
    params = [float(a) for a in rng.uniform(-2 * math.pi, 2 * math.pi, size=n_params)]
    n_operands = int(math.log2(len(textbook(params))))
    qubits = operand_order[:n_operands]
    args = f"({', '.join(repr(p) for p in params)})" if n_params else ""
    text = f"OPENQASM 3;\nqubit[3] q;\n{name}{args} {', '.join(f'q[{i}]' for i in qubits)};"
    circuit = read_qasm(text).circuit
    for _ in range(4):
        psi = random_state(rng, 3)
        expected = apply_on(psi, textbook(params), qubits, 3)
        got = final_state(circuit, psi)
        assert np.max(np.abs(expected - got)) < 1e-9, text


@pytest.mark.parametrize("name", ["u2", "u3"])
def test_u2_u3_differ_from_openqasm3_stdgates_only_by_global_phase(name: str) -> None:
    # stdgates.inc: u3(θ,φ,λ) = gphase(-(φ+λ)/2) U(θ,φ,λ); we read u3 as QURI Parts' U3 = U
    theta, phi, lam = (math.pi / 2, 0.3, -1.1) if name == "u2" else (0.7, 0.3, -1.1)
    args = f"{phi}, {lam}" if name == "u2" else f"{theta}, {phi}, {lam}"
    circuit = read_qasm(f"qubit q;\n{name}({args}) q;").circuit
    stdgates = np.exp(-1j * (phi + lam) / 2) * u(theta, phi, lam)
    psi = random_state(np.random.default_rng(7), 1)
    got, expected = final_state(circuit, psi), stdgates @ psi
    overlap = np.vdot(expected, got)
    assert abs(abs(overlap) - 1) < 1e-9, name
    assert abs(overlap - 1) > 1e-3, f"{name}: the phase difference is real, not zero"


# ------------------------------------------------------------------ (c) qiskit-style text


def bell(n: int, a: int, b: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.add_gate(gates.H(a))
    circuit.add_gate(gates.CNOT(a, b))
    return circuit


def assert_same_state(got: QuantumCircuit, expected: QuantumCircuit, text: str) -> None:
    assert got.qubit_count == expected.qubit_count, text
    assert np.max(np.abs(final_state(got) - final_state(expected))) < 1e-9, text


def test_qiskit_qasm3_export_with_bits_declared_first() -> None:
    text = """OPENQASM 3.0;
include "stdgates.inc";
bit[2] c;
qubit[2] q;
h q[0];
cx q[0], q[1];
c[0] = measure q[0];
c[1] = measure q[1];
"""
    program = read_qasm(text)
    assert_same_state(program.circuit, bell(2, 0, 1), text)
    assert program.measurements == ((0, 0), (1, 1)), text


def test_openqasm2_style_registers_and_arrow_measure() -> None:
    text = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[2];
h q[2];
cx q[2], q[0];
barrier q[0], q[1], q[2];
measure q[2] -> c[0];
measure q[0] -> c[1];
"""
    program = read_qasm(text)
    assert (program.qubit_count, program.clbit_count) == (3, 2), text
    assert_same_state(program.circuit, bell(3, 2, 0), text)
    assert program.measurements == ((2, 0), (0, 1)), text


def test_several_registers_map_to_consecutive_indices() -> None:
    text = """OPENQASM 3.0;
include "stdgates.inc";
qubit[1] a;
qubit[2] b;
bit[1] ca;
bit[2] cb;
h a[0];
cx a[0], b[1];
rz(pi/2) b[0];
ry(-pi/4 + 2*pi/8) b[0];
cb = measure b;
ca[0] = measure a[0];
"""
    program = read_qasm(text)
    expected = bell(3, 0, 2)
    expected.add_gate(gates.RZ(1, math.pi / 2))
    expected.add_gate(gates.RY(1, 0.0))
    assert_same_state(program.circuit, expected, text)
    assert program.measurements == ((0, 0), (1, 1), (2, 2)), text


def test_whole_register_gates_broadcast_to_every_qubit() -> None:
    text = "OPENQASM 3;\nqubit[2] q;\nqubit[2] r;\nh q;\ncx q, r;"
    expected = bell(4, 0, 2)
    expected.add_gate(gates.H(1))
    expected.add_gate(gates.CNOT(1, 3))
    assert_same_state(read_qasm(text).circuit, expected, text)


def test_program_without_measurement_reports_no_measurements() -> None:
    program = read_qasm("OPENQASM 3;\nqubit[2] q;\nx q[1];")
    assert program.measurements == ()
    assert program.clbit_count == 0


def test_last_write_to_a_bit_wins() -> None:
    text = (
        "qubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nc[0] = measure q[1];\nc[1] = measure q[0];"
    )
    assert read_qasm(text).measurements == ((1, 0), (0, 1)), text


def test_reset_at_start_is_not_mid_circuit() -> None:
    text = "qubit[2] q;\nbit[2] c;\nreset q;\nh q[0];\nc = measure q;"
    program = read_qasm(text)
    assert not program.has_mid_circuit_operations, text
    assert len(program.circuit.gates) == 1, text


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        ("h q[0];\nreset q[0];", (4,)),
        ("c[0] = measure q[0];\nx q[0];", (4,)),
        ("c[0] = measure q[0];\nx q[1];\nreset q[1];\ncx q[1], q[0];", (5, 6)),
    ],
)
def test_mid_circuit_operations_are_reported_by_line(body: str, lines: tuple[int, ...]) -> None:
    text = f"qubit[2] q;\nbit[2] c;\n{body}"
    program = read_qasm(text)
    assert program.mid_circuit_lines == lines, text
    assert program.has_mid_circuit_operations, text


def test_gate_on_another_qubit_after_a_measurement_is_not_mid_circuit() -> None:
    text = "qubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nh q[1];\nc[1] = measure q[1];"
    assert not read_qasm(text).has_mid_circuit_operations, text


# ------------------------------------------------------------------ (d) refusals


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("qubit q;\ngate g a { x a; }\ng q;", 2, "unsupported statement 'gate'"),
        ("qubit q;\nbit c;\nif (c == 1) x q;", 3, "unsupported statement 'if'"),
        ("qubit q;\nfor int i in [0:2] { x q; }", 2, "unsupported statement 'for'"),
        ("qubit q;\nwhile (true) { x q; }", 2, "unsupported statement 'while'"),
        ("qubit q;\nfoo q;", 2, "unknown gate 'foo'"),
        ("qubit[2] q;\nx q[2];", 2, "index 2 out of range"),
        ("qubit[2] q;\nbit[2] c;\nc[5] = measure q[0];", 3, "index 5 out of range"),
        ("qubit q;\nh r[0];", 2, "undeclared qubit register 'r'"),
        ("qubit q;\nmeasure q -> c;", 2, "undeclared bit register 'c'"),
        ("qubit q;\nrx(1/0) q;", 2, "evaluates to inf"),
        ("qubit q;\nrx(sqrt(-1)) q;", 2, "evaluates to NaN"),
        ("qubit q;\nrx(theta) q;", 2, "unknown identifier 'theta'"),
        ("qubit q;\nx q", 2, "does not end with ';'"),
        ("qubit[2] q;\ncx q[1], q[1];", 2, "same qubit twice"),
        ("qubit q;\nu3(1, 2) q;", 2, "takes 3 parameter(s), got 2"),
        ('OPENQASM 3;\ninclude "mygates.inc";', 2, "cannot include"),
        ("qubit q;\n// fine\n/* fine */ inv @ x q;", 3, "unsupported statement 'inv'"),
    ],
)
def test_bad_program_raises_value_error_naming_line_and_text(
    text: str, line: int, fragment: str
) -> None:
    with pytest.raises(ValueError, match=r"^line \d+: ") as info:
        read_qasm(text)
    message = str(info.value)
    assert message.startswith(f"line {line}: "), f"{text!r}: {message}"
    assert fragment in message, f"{text!r}: {message}"
    offending = text.splitlines()[line - 1].split("*/")[-1].strip()
    assert offending.split()[0] in message, f"{text!r} should quote its text: {message}"


def test_program_without_qubits_is_refused() -> None:
    with pytest.raises(ValueError, match="no qubits"):
        read_qasm('OPENQASM 3;\ninclude "stdgates.inc";\n')


def test_deeply_nested_expression_is_refused_not_crashing() -> None:
    deep = "(" * 10_000 + "1" + ")" * 10_000
    with pytest.raises(ValueError, match=r"^line 2: expression nested deeper than"):
        read_qasm(f"qubit q;\nrx({deep}) q;")


def test_physical_qubits_of_transpiled_output_are_read() -> None:
    text = "OPENQASM 3.0;\nbit[2] c;\nh $0;\ncx $0, $2;\nc[0] = measure $0;\nc[1] = measure $2;"
    program = read_qasm(text)
    assert program.qubit_count == 3, text
    assert_same_state(program.circuit, bell(3, 0, 2), text)
    assert program.measurements == ((0, 0), (2, 1)), text
