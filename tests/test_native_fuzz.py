"""Fuzzing of every native entry point (`quri_parts_oqtopus._core`) with arbitrary inputs.

The property: each call returns a value of its documented type or raises an ordinary
Python exception (`native_worker.ALLOWED_ERRORS`); never `pyo3_runtime.PanicException`,
never a crash of the interpreter. Calls run in a worker process (`native_worker`), so an
abort or a segfault fails the test with its input instead of killing pytest.

The default Hypothesis profile (tests/conftest.py) draws 200 new examples per function on
every run, the ``ci`` one (under CI=true) 500, the same every time; run
`pytest tests/test_native_fuzz.py --hypothesis-profile=long` (or HYPOTHESIS_PROFILE=long)
for 5,000."""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quri_parts.circuit import QuantumCircuit, QuantumGate, UnboundParametricQuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus import _core

from .native_fakes import (
    Aborting,
    Convertible,
    Fake,
    FakeIter,
    FakeMapping,
    IntSub,
    Raising,
    Returns,
    StrSub,
)
from .native_worker import AsDocument, NativeWorker, Outcome

# The nested strategies' repr is long; Hypothesis warns when it prints it with a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
fuzz_settings = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def native() -> Iterator[NativeWorker]:
    with NativeWorker() as worker:
        yield worker


def shown(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a fake's repr may raise; the failure message must not
        text = f"<unprintable {type(value).__name__}: {error!r}>"
    return text if len(text) <= 2000 else text[:2000] + "..."


def call(native: NativeWorker, name: str, *args: Any, archive_as: Any = None) -> Outcome:
    """`_core.<name>(*args)` in the worker; fails unless it returned or raised an allowed error.

    With `archive_as`, a `JobInput` comes back as its `.archive(archive_as)`."""
    outcome = native.call(name, *args, archive_as=archive_as)
    where = f"_core.{name}(*{shown(args)})"
    if archive_as is not None:
        where += f".archive({shown(archive_as)})"
    assert outcome.crash is None, f"{where} crashed the interpreter: {outcome.crash}"
    assert outcome.error is None or outcome.error_allowed, f"{where} raised {outcome.error}"
    return outcome


def raised(outcome: Outcome) -> str:
    """The error an outcome carries (`module.Type: message`); fails if the call returned."""
    assert outcome.error is not None, f"expected an error, got {shown(outcome.value)}"
    return outcome.error


def expect(outcome: Outcome, check: bool, name: str, args: Any, documented: str) -> None:
    assert check, f"_core.{name}(*{shown(args)}) returned {shown(outcome.value)}, not {documented}"


# ------------------------------------------------------------------ value strategies

HUGE_INTS = [-(2**64), -(2**63) - 1, -1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1]
HUGE_INTS += [2**64, 2**200]
ints = st.one_of(st.integers(-3, 70), st.integers(), st.sampled_from(HUGE_INTS))
text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=40)
atoms = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(),
    st.complex_numbers(),
    text,
    st.binary(max_size=40),
    st.binary(max_size=40).map(bytearray),
    st.just(Raising()),
    ints.map(IntSub),
    text.map(StrSub),
)
hashable = st.recursive(atoms.filter(lambda v: not isinstance(v, bytearray)), st.tuples)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    attrs = st.sampled_from(["name", "gates", "qubit_count", "items", "params", "target_indices"])
    return st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(hashable, inner, max_size=4),
        st.frozensets(hashable, max_size=4),
        st.builds(FakeIter, st.lists(inner, max_size=4), st.none() | st.integers(0, 4)),
        st.builds(FakeMapping, st.none() | inner),
        st.builds(Convertible, inner),
        st.builds(Returns, inner),
        st.builds(Fake, st.dictionaries(attrs, inner, max_size=4), st.frozensets(attrs)),
    )


junk = st.recursive(atoms, _containers, max_leaves=12)


def sequences(items: st.SearchStrategy[Any], max_size: int = 4) -> st.SearchStrategy[Any]:
    """`items` in a list, a tuple or an iterable that may raise; sometimes junk instead."""
    return st.one_of(
        st.lists(items, max_size=max_size),
        st.lists(items, max_size=max_size).map(tuple),
        st.builds(FakeIter, st.lists(items, max_size=max_size), st.none() | st.integers(0, 4)),
        junk,
    )


NESTINGS = [("[", "]"), ('{"a": ', "}"), ("(", ")"), ("-", ""), ('"', '"')]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str], pieces: list[str]) -> str:
    """A seed text after a few random insertions, deletions, replacements, repeats and
    nestings (a slice wrapped in up to 200000 brackets)."""
    out = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(out)))
        end = draw(st.integers(start, min(len(out), start + 24)))
        piece = draw(st.sampled_from(pieces) | text)
        op = draw(st.sampled_from(["insert", "delete", "replace", "repeat", "nest"]))
        if op == "nest":
            opening, closing = draw(st.sampled_from(NESTINGS))
            depth = draw(st.integers(1, 200_000))
            out = out[:start] + opening * depth + out[start:end] + closing * depth + out[end:]
        elif op == "insert":
            out = out[:start] + piece + out[start:]
        elif op == "delete":
            out = out[:start] + out[end:]
        elif op == "replace":
            out = out[:start] + piece + out[end:]
        else:
            out = out[:end] + out[start:end] * draw(st.integers(2, 64)) + out[end:]
    return out


# ------------------------------------------------------------------ counts and Pauli text

COUNTS_SEEDS = [
    '{"00": 490, "01": 10, "11": 0}',
    '{"0": 1}',
    "{}",
    '"{\\"1\\": 3}"',
    '{"0101": 12, "1111": 18446744073709551615}',
    '{"0": {"01": 10, "11": 5}, "1": "{\\"00\\": 10, \\"11\\": 5}"}',
    "null",
    '""',
    '{"sampling": {"counts": {"0001": 10}, "divided_counts": {"0": {"01": 10}}}}',
    '{"counts": {"1": 1}, "divided_counts": null, "x": [1, {"y": [true, 2.5e3]}]}',
]
COUNTS_PIECES = ['"', "{", "}", ":", ",", "[", "]", "\\", "\\u", "\\ud834", "\\udd1e", "-0", "1e3"]
COUNTS_PIECES += ["18446744073709551616", "null", "NaN", "-Infinity", '"0"', "0" * 65, " ", "é"]
counts_text = st.one_of(mutated(COUNTS_SEEDS, COUNTS_PIECES), text)
counts_raw = st.one_of(
    counts_text,
    counts_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    counts_text.map(lambda t: bytearray(t.encode("utf-8", "surrogatepass"))),
    st.binary(max_size=60),
    st.dictionaries(st.text("01", max_size=66) | hashable, ints | junk, max_size=5),
    st.builds(FakeMapping, st.lists(st.tuples(st.text("01", max_size=8), ints), max_size=4)),
    junk,
)
divided_raw = st.one_of(
    counts_raw,
    st.dictionaries(ints | st.text("0123456789 -+", max_size=5) | hashable, counts_raw, max_size=3),
)

PAULI_SEEDS = ["X0 X1", "X 0 X 1", " X1X0 ", "Z3 I1 Y2", "I", "", "Y12 Z7 X0"]
PAULI_PIECES = ["X", "Y", "Z", "I", " ", "\t", "0", "99999999999999999999", "\u00a0", "\x1c", "é"]
pauli_text = st.one_of(mutated(PAULI_SEEDS, PAULI_PIECES), text, text.map(StrSub))


def is_counter(value: Any) -> bool:
    return isinstance(value, Counter) and all(
        type(k) is int and 0 <= k < 2**64 and type(v) is int and v >= 0 for k, v in value.items()
    )


def is_divided(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict)
        and bool(value)
        and all(type(k) is int and is_counter(v) for k, v in value.items())
    )


# ------------------------------------------------------------------ circuits and operators

GATE_NAMES = ["Identity", "X", "Y", "Z", "H", "S", "SqrtX", "Sdag", "T", "Tdag", "RX", "RY"]
GATE_NAMES += ["RZ", "U1", "U2", "U3", "CNOT", "CZ", "SWAP", "TOFFOLI", "SqrtXdag", "SqrtY"]
GATE_NAMES += ["ParametricRX", "Pauli", "PauliRotation", "Measurement", "UnitaryMatrix", "MCX"]
GATE_FIELDS = ["name", "target_indices", "control_indices", "params"]
indices = sequences(ints | junk)
params = sequences(st.floats() | ints | st.builds(Convertible, junk) | junk)
real_gates = st.builds(
    QuantumGate,  # refuses parametric names, so only fakes carry those
    name=st.sampled_from([name for name in GATE_NAMES if not name.startswith("Parametric")]),
    target_indices=st.lists(st.integers(0, 3), max_size=3).map(tuple),
    control_indices=st.lists(st.integers(0, 3), max_size=2).map(tuple),
    params=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3).map(tuple),
)
fake_gates = st.builds(
    Fake,
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(GATE_NAMES) | st.sampled_from(GATE_NAMES).map(StrSub) | junk,
            "target_indices": indices,
            "control_indices": indices,
            "params": params,
        },
    ),
    st.frozensets(st.sampled_from(GATE_FIELDS), max_size=1),
)
gates = st.one_of(real_gates, fake_gates, junk)
qubit_counts = st.one_of(ints, st.floats(), st.builds(Convertible, junk), junk)
fake_circuits = st.builds(
    Fake,
    st.fixed_dictionaries({"qubit_count": qubit_counts, "gates": sequences(gates, 6)}),
    st.frozensets(st.sampled_from(["qubit_count", "gates"]), max_size=1),
)


@st.composite
def real_circuits(draw: st.DrawFn) -> QuantumCircuit:
    n = draw(st.integers(1, 4))
    circuit = QuantumCircuit(n)
    for _ in range(draw(st.integers(0, 6))):
        q = draw(st.integers(0, n - 1))
        angle = draw(st.floats(allow_nan=False, allow_infinity=False))
        add = draw(st.sampled_from(["H", "RZ", "U3", "CNOT", "SqrtY", "Tdag"]))
        if add == "H":
            circuit.add_H_gate(q)
        elif add == "RZ":
            circuit.add_RZ_gate(q, angle)
        elif add == "U3":
            circuit.add_U3_gate(q, angle, -angle, angle / 3)
        elif add == "CNOT" and n > 1:
            circuit.add_CNOT_gate(q, (q + 1) % n)
        elif add == "SqrtY":
            circuit.add_SqrtY_gate(q)
        elif add == "Tdag":
            circuit.add_Tdag_gate(q)
    return circuit


circuits = st.one_of(real_circuits(), fake_circuits, junk)


@st.composite
def real_parametric_circuits(draw: st.DrawFn) -> UnboundParametricQuantumCircuit:
    n = draw(st.integers(1, 4))
    circuit = UnboundParametricQuantumCircuit(n)
    for _ in range(draw(st.integers(0, 6))):
        q = draw(st.integers(0, n - 1))
        add = draw(st.sampled_from(["H", "RZ", "PRX", "PRZ", "PPauli", "SqrtY"]))
        if add == "H":
            circuit.add_H_gate(q)
        elif add == "RZ":
            circuit.add_RZ_gate(q, draw(st.floats(allow_nan=False, allow_infinity=False)))
        elif add == "PRX":
            circuit.add_ParametricRX_gate(q)
        elif add == "PRZ":
            circuit.add_ParametricRZ_gate(q)
        elif add == "PPauli":
            circuit.add_ParametricPauliRotation_gate([q], [3])
        else:
            circuit.add_SqrtY_gate(q)
    return circuit


parametric_circuits = st.one_of(real_parametric_circuits(), fake_circuits, junk)
parameter_sets = st.one_of(
    st.lists(st.lists(st.floats(), max_size=4).map(tuple), max_size=3),
    st.lists(st.lists(st.floats() | ints | junk, max_size=4), max_size=3),
    sequences(junk, 3),
)

labels = st.one_of(
    st.lists(
        st.sampled_from(["X0", "Y1", "Z2", "X3", "Z10"]), min_size=1, max_size=3, unique=True
    ).map(lambda factors: pauli_label(" ".join(factors))),
    st.frozensets(st.tuples(ints, st.integers(-1, 5)) | hashable, max_size=3),
    hashable,
)
coefficients = st.one_of(
    st.complex_numbers(),
    st.floats(),
    ints,
    st.sampled_from(["1.5", "nan", "x", "1e400"]),
    st.builds(Convertible, junk),
    junk,
)
operators = st.one_of(
    st.dictionaries(labels, coefficients, max_size=4).map(Operator),
    st.dictionaries(labels, coefficients, max_size=4),
    st.builds(FakeMapping, st.none() | sequences(st.tuples(labels, coefficients))),
    st.builds(Fake, st.fixed_dictionaries({"items": st.builds(Returns, junk)})),
    junk,
)

# ------------------------------------------------------------------ archives


def zip_bytes(name: str, content: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        archive.writestr(name, content)
    return out.getvalue()


SAMPLING = b'{"sampling": {"counts": {"00": 3, "11": 5}, "divided_counts": {"0": {"1": 3}}}}'
ZIP_SEEDS = [
    zip_bytes("result.json", SAMPLING),
    zip_bytes("result.json", SAMPLING, zipfile.ZIP_STORED),
    zip_bytes("job.json", b'{"program": ["OPENQASM 3;"]}' * 40),
    zip_bytes("empty", b""),
]
INTERESTING = [0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF]


def header_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of the size, offset, count and CRC fields of a one-entry ZIP."""
    fields = [(6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)]
    central = data.rfind(b"PK\x01\x02")
    if central >= 0:
        fields += [(central + o, w) for o, w in [(8, 2), (10, 2), (16, 4), (20, 4), (24, 4)]]
        fields += [(central + o, w) for o, w in [(28, 2), (30, 2), (42, 4)]]
    end = data.rfind(b"PK\x05\x06")
    if end >= 0:
        fields += [(end + o, w) for o, w in [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)]]
    return fields


@st.composite
def mutated_zips(draw: st.DrawFn, seeds: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["field", "flip", "truncate", "insert"]))
        if op == "field" and data:
            offset, width = draw(st.sampled_from(header_fields(bytes(data))))
            values = [*INTERESTING, len(data), len(data) - 1, len(data) + 1]
            value = draw(st.sampled_from(values) | st.integers(0, 2 ** (8 * width) - 1))
            packed = struct.pack("<H" if width == 2 else "<I", value % 2 ** (8 * width))
            data[offset : offset + width] = packed
        elif op == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        else:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


sampling_zips = counts_text.map(lambda t: zip_bytes("r.json", t.encode("utf-8", "surrogatepass")))
archives = st.one_of(
    st.binary(max_size=300),
    mutated_zips(st.sampled_from(ZIP_SEEDS)),
    sampling_zips,
    mutated_zips(sampling_zips),
)
#: The readers' inflate limit: none to speak of, around the seeds' sizes, or any int.
NO_LIMIT = 2**64 - 1
inflate_limits = st.one_of(st.just(NO_LIMIT), st.integers(0, 4096), ints)

# ------------------------------------------------------------------ OpenQASM

QASM_SEEDS = [
    'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\n\nh q[0];\ncx q[0], q[1];\n'
    "rz(0.5) q[1];\nc = measure q;",
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nu3(pi/2, -pi, 1e-3) q[0];\n'
    "ccx q[0], q[1], q[2];\nbarrier q;\nmeasure q -> c;\nreset q[1];",
    "OPENQASM 3.0;\nqubit q;\nbit b;\n/* block */ sx q; // comment\nb = measure q;",
    "OPENQASM 3;\ncu(1, 2, 3, 4) $0, $1;\nrxx(sin(pi / 4) ** 2) $1, $2;\nbarrier;",
    "OPENQASM 3;\nqubit[4] q;\nqubit[4] r;\ncswap q, r, q;\ncp(-tau) q[3], r[0];",
]
QASM_PIECES = ["qubit", "[", "]", "q", ";", "\n", "measure", "->", "=", "reset", "barrier", "cx"]
QASM_PIECES += ["cu", "h", "(", ")", ",", "pi", "**", "-", "/", "0", "65536", "$", "$70000", '"']
QASM_PIECES += ["18446744073709551616", "/*", "*/", "//", "gate", "OPENQASM", "3.0", "include"]
QASM_PIECES += ['"stdgates.inc"', "sin(", "1e308", ".5", "_", "((((", "))))", "-" * 70, "π"]
qasm_text = st.one_of(mutated(QASM_SEEDS, QASM_PIECES), text)


def is_qasm_op(op: Any, n_qubits: int, n_clbits: int) -> bool:
    def qubit(q: Any) -> bool:
        return type(q) is int and 0 <= q < n_qubits

    if not isinstance(op, tuple) or not op or type(op[-1]) is not int:
        return False
    match op[:-1]:
        case ("gate", str(), list(qs), list(ps)):
            return all(map(qubit, qs)) and all(type(p) is float and math.isfinite(p) for p in ps)
        case ("measure", q, c):
            return qubit(q) and type(c) is int and 0 <= c < n_clbits
        case ("reset", q):
            return qubit(q)
        case ("barrier", list(qs)):
            return all(map(qubit, qs))
    return False


# ------------------------------------------------------------------ the properties

FUZZED: set[str] = set()


def fuzzes(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    FUZZED.add(name)
    return fuzz_settings


@fuzzes("split_counts")
@given(
    counts=st.one_of(
        st.dictionaries(ints, ints, max_size=6),
        sequences(st.tuples(ints, ints) | junk),
        st.dictionaries(st.integers(0, 15), st.integers(0, 2**64 - 1), max_size=6),
        junk,
    ),
    widths=st.one_of(st.lists(st.integers(0, 70) | ints, max_size=4), junk),
)
def test_split_counts_never_crashes_and_splits_into_one_counter_per_width(
    native: NativeWorker, counts: Any, widths: Any
) -> None:
    outcome = call(native, "split_counts", counts, widths)
    if outcome.returned:
        value = outcome.value
        ok = isinstance(value, list) and all(map(is_counter, value))
        if isinstance(widths, list):
            ok = ok and len(value) == len(widths)
        expect(outcome, ok, "split_counts", (counts, widths), "list[Counter[int]]")


@fuzzes("circuit_to_qasm")
@given(circuit=circuits)
def test_circuit_to_qasm_never_crashes_on_fake_or_real_circuits(
    native: NativeWorker, circuit: Any
) -> None:
    outcome = call(native, "circuit_to_qasm", circuit)
    if outcome.returned:
        ok = isinstance(outcome.value, str) and outcome.value.startswith("OPENQASM 3;")
        expect(outcome, ok, "circuit_to_qasm", (circuit,), "OpenQASM 3 text")


@fuzzes("circuits_to_qasm")
@given(batch=sequences(circuits, 4))
def test_circuits_to_qasm_never_crashes_on_any_iterable(native: NativeWorker, batch: Any) -> None:
    outcome = call(native, "circuits_to_qasm", batch)
    if outcome.returned:
        ok = isinstance(outcome.value, list) and all(isinstance(t, str) for t in outcome.value)
        if isinstance(batch, list | tuple):
            ok = ok and len(outcome.value) == len(batch)
        expect(outcome, ok, "circuits_to_qasm", (batch,), "one str per circuit")


def is_payload(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(e, dict)
            and set(e) == {"pauli", "coeff"}
            and isinstance(e["pauli"], str)
            and type(e["coeff"]) is float
            and math.isfinite(e["coeff"])
            for e in value
        )
    )


@fuzzes("encode_operator")
@given(operator=operators)
def test_encode_operator_never_crashes_on_fake_or_real_operators(
    native: NativeWorker, operator: Any
) -> None:
    outcome = call(native, "encode_operator", operator)
    if outcome.returned:
        expect(outcome, is_payload(outcome.value), "encode_operator", (operator,), "payload")


@fuzzes("parse_pauli")
@given(pauli=st.one_of(pauli_text, junk))
def test_parse_pauli_never_crashes_and_returns_factors_sorted_by_qubit(
    native: NativeWorker, pauli: Any
) -> None:
    outcome = call(native, "parse_pauli", pauli)
    if outcome.returned:
        factors = outcome.value
        ok = isinstance(factors, list) and all(
            isinstance(f, tuple) and type(f[0]) is int and f[1] in ("X", "Y", "Z") for f in factors
        )
        qubits = [f[0] for f in factors] if ok else []
        ok = ok and qubits == sorted(set(qubits))
        expect(outcome, ok, "parse_pauli", (pauli,), "[(qubit, letter)] sorted by qubit")


@fuzzes("decode_counts")
@given(raw=counts_raw)
def test_decode_counts_never_crashes_on_text_bytes_or_mappings(
    native: NativeWorker, raw: Any
) -> None:
    outcome = call(native, "decode_counts", raw)
    if outcome.returned:
        expect(outcome, is_counter(outcome.value), "decode_counts", (raw,), "Counter[int]")


@fuzzes("decode_divided_counts")
@given(raw=divided_raw)
def test_decode_divided_counts_never_crashes_on_text_bytes_or_mappings(
    native: NativeWorker, raw: Any
) -> None:
    outcome = call(native, "decode_divided_counts", raw)
    if outcome.returned:
        ok = is_divided(outcome.value)
        expect(outcome, ok, "decode_divided_counts", (raw,), "dict[int, Counter] | None")


@fuzzes("read_archive")
@given(data=archives | junk, limit=inflate_limits)
def test_read_archive_never_crashes_on_random_or_mutated_zips(
    native: NativeWorker, data: Any, limit: Any
) -> None:
    outcome = call(native, "read_archive", data, limit)
    if outcome.returned:
        value = outcome.value
        ok = isinstance(value, tuple) and isinstance(value[0], str) and type(value[1]) is bytes
        ok = ok and len(value[1]) <= limit
        expect(outcome, ok, "read_archive", (data, limit), "(str, bytes within the limit)")


@fuzzes("read_sampling_archive")
@given(data=archives | junk, limit=inflate_limits)
def test_read_sampling_archive_never_crashes_on_random_or_mutated_zips(
    native: NativeWorker, data: Any, limit: Any
) -> None:
    outcome = call(native, "read_sampling_archive", data, limit)
    if outcome.returned:
        value = outcome.value
        ok = isinstance(value, tuple) and is_counter(value[0]) and is_divided(value[1])
        ok = ok and (value[2] is None or type(value[2]) is str)
        expect(outcome, ok, "read_sampling_archive", (data, limit), "(Counter, divided, str|None)")


def unzipped(archive: Any) -> tuple[str, bytes] | None:
    """The one entry of `archive` as Python's zipfile reads it (CRC checked), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            (info,) = opened.infolist()
            return info.filename, opened.read(info)
    except (zipfile.BadZipFile, ValueError, TypeError):
        return None


@fuzzes("write_archive")
@given(name=st.one_of(text, text.map(StrSub), junk), content=st.binary(max_size=2000) | junk)
def test_write_archive_never_crashes_and_writes_what_zipfile_reads_back(
    native: NativeWorker, name: Any, content: Any
) -> None:
    outcome = call(native, "write_archive", name, content)
    if outcome.returned:
        entry = unzipped(outcome.value)
        ok = entry is not None and entry[1] == content
        expect(outcome, ok, "write_archive", (name, content), "a ZIP holding content")


def is_job_archive(archive: Any, n_programs: int | None, with_operator: bool) -> bool:
    entry = unzipped(archive)
    if entry is None:
        return False
    document = json.loads(entry[1])
    programs = document.get("program")
    return (
        isinstance(programs, list)
        and (n_programs is None or len(programs) == n_programs)
        and ("operator" in document) == with_operator
    )


FUZZED.add("JobInput")  # archive() is fuzzed through every *_input below, document() too


@fuzzes("circuits_input")
@given(name=text | junk, batch=sequences(circuits, 3), operator=st.none() | operators)
def test_circuits_input_never_crashes_and_writes_a_job_archive(
    native: NativeWorker, name: Any, batch: Any, operator: Any
) -> None:
    outcome = call(native, "circuits_input", batch, operator, archive_as=name)
    if outcome.returned:
        n = len(batch) if isinstance(batch, list | tuple) else None
        ok = is_job_archive(outcome.value, n, operator is not None)
        expect(outcome, ok, "circuits_input", (batch, operator), "a job archive")


@fuzzes("programs_input")
@given(
    name=text | junk,
    programs=st.lists(qasm_text | text.map(StrSub), max_size=3) | junk,
    operator=st.none() | operators,
)
def test_programs_input_never_crashes_and_writes_a_job_archive(
    native: NativeWorker, name: Any, programs: Any, operator: Any
) -> None:
    outcome = call(native, "programs_input", programs, operator, archive_as=name)
    if outcome.returned:
        n = len(programs) if isinstance(programs, list) else None
        ok = is_job_archive(outcome.value, n, operator is not None)
        expect(outcome, ok, "programs_input", (programs, operator), "a job archive")


@fuzzes("sse_input")
@given(source=text | text.map(StrSub) | junk, name=st.just(AsDocument()) | text | junk)
def test_sse_input_never_crashes_and_writes_the_source_as_one_json_string(
    native: NativeWorker, source: Any, name: Any
) -> None:
    outcome = call(native, "sse_input", source, archive_as=name)
    if outcome.returned:
        if isinstance(name, AsDocument):
            document = outcome.value
        else:
            entry = unzipped(outcome.value)
            document = None if entry is None else entry[1]
        ok = document is not None and json.loads(document) == {"sse_program": source}
        expect(outcome, ok, "sse_input", (source,), "the source as {'sse_program': ...}")


@fuzzes("circuit_inputs")
@given(batch=sequences(circuits, 3))
def test_circuit_inputs_never_crash_and_write_one_archive_per_circuit(
    native: NativeWorker, batch: Any
) -> None:
    outcome = call(native, "circuit_inputs", batch, archive_as="job.zip")
    if outcome.returned:
        ok = isinstance(outcome.value, list) and all(
            is_job_archive(a, 1, False) for a in outcome.value
        )
        if isinstance(batch, list | tuple):
            ok = ok and len(outcome.value) == len(batch)
        expect(outcome, ok, "circuit_inputs", (batch,), "one job archive per circuit")


@fuzzes("sweep_to_qasm")
@given(circuit=parametric_circuits, sets=parameter_sets)
def test_sweep_to_qasm_never_crashes_and_prints_one_text_per_set(
    native: NativeWorker, circuit: Any, sets: Any
) -> None:
    outcome = call(native, "sweep_to_qasm", circuit, sets)
    if outcome.returned:
        ok = isinstance(outcome.value, list) and all(isinstance(t, str) for t in outcome.value)
        if isinstance(sets, list):
            ok = ok and len(outcome.value) == len(sets)
        expect(outcome, ok, "sweep_to_qasm", (circuit, sets), "one str per parameter set")


@fuzzes("sweep_input")
@given(circuit=parametric_circuits, sets=parameter_sets)
def test_sweep_input_never_crashes_and_writes_a_job_archive(
    native: NativeWorker, circuit: Any, sets: Any
) -> None:
    outcome = call(native, "sweep_input", circuit, sets, archive_as="job.zip")
    if outcome.returned:
        n = len(sets) if isinstance(sets, list) else None
        ok = is_job_archive(outcome.value, n, False)
        expect(outcome, ok, "sweep_input", (circuit, sets), "a job archive")


@fuzzes("sweep_inputs")
@given(circuit=parametric_circuits, sets=parameter_sets)
def test_sweep_inputs_never_crash_and_write_one_archive_per_set(
    native: NativeWorker, circuit: Any, sets: Any
) -> None:
    outcome = call(native, "sweep_inputs", circuit, sets, archive_as="job.zip")
    if outcome.returned:
        ok = isinstance(outcome.value, list) and all(
            is_job_archive(a, 1, False) for a in outcome.value
        )
        expect(outcome, ok, "sweep_inputs", (circuit, sets), "one job archive per set")


@fuzzes("native_gates")
@given(args=st.lists(junk, max_size=2))
def test_native_gates_never_crashes(native: NativeWorker, args: list[Any]) -> None:
    outcome = call(native, "native_gates", *args)
    if outcome.returned:
        rows = outcome.value
        ok = not args and isinstance(rows, list) and all(len(row) == 5 for row in rows)
        expect(outcome, ok, "native_gates", args, "the gate table's rows")


@fuzzes("direct_read_status")
@given(args=st.lists(junk, max_size=2))
def test_direct_read_status_never_crashes(native: NativeWorker, args: list[Any]) -> None:
    outcome = call(native, "direct_read_status", *args)
    if outcome.returned:
        keys = {"enabled", "reason", "read_directly", "read_through_getters", "sweeps"}
        keys.add("bindings_from_templates")
        ok = not args and isinstance(outcome.value, dict) and set(outcome.value) == keys
        expect(outcome, ok, "direct_read_status", args, "the status dict")


@fuzzes("parse_qasm")
@given(program=st.one_of(qasm_text, text.map(StrSub), junk))
def test_parse_qasm_never_crashes_on_random_or_mutated_programs(
    native: NativeWorker, program: Any
) -> None:
    outcome = call(native, "parse_qasm", program)
    if outcome.returned:
        value = outcome.value
        ok = (
            isinstance(value, tuple)
            and len(value) == 3
            and type(value[0]) is int
            and value[0] >= 1
            and type(value[1]) is int
            and all(is_qasm_op(op, value[0], value[1]) for op in value[2])
        )
        expect(outcome, ok, "parse_qasm", (program,), "(n_qubits, n_clbits, ops)")


#: Exception classes of the native module: raised by it, not entry points to fuzz.
NATIVE_ERRORS = {"ArchiveTooLargeError"}


@fuzz_settings
@given(
    name=st.sampled_from(sorted(set(_core.__all__) - NATIVE_ERRORS)),
    args=st.lists(junk, max_size=4),
)
def test_any_native_function_with_any_arguments_never_crashes(
    native: NativeWorker, name: str, args: list[Any]
) -> None:
    call(native, name, *args)


def test_every_native_function_is_fuzzed() -> None:
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public == set(_core.__all__)
    assert public - NATIVE_ERRORS == FUZZED
    assert all(issubclass(getattr(_core, name), ValueError) for name in NATIVE_ERRORS)


# ------------------------------------------------------------------ regressions and the harness


def test_the_worker_reports_an_abort_with_its_input(native: NativeWorker) -> None:
    outcome = native.call("circuit_to_qasm", Aborting())
    assert outcome.crash is not None
    assert "exit status -6" in outcome.crash, outcome.crash
    assert call(native, "parse_pauli", "X1 Z0").value == [(0, "Z"), (1, "X")]  # a fresh worker


def test_split_counts_refuses_widths_whose_u32_sum_wraps(native: NativeWorker) -> None:
    # Was pyo3_runtime.PanicException "attempt to add with overflow" (debug builds).
    outcome = call(native, "split_counts", {0: 1}, [2**32 - 1, 1])
    assert raised(outcome).startswith("builtins.ValueError")


@pytest.mark.parametrize("widths", [[1, 1], [20, 1]], ids=["dense", "sparse"])
def test_split_counts_refuses_merged_counts_past_u64(native: NativeWorker, widths: Any) -> None:
    # Was PanicException "attempt to add with overflow" (debug) or a wrapped sum (release).
    counts = {0: 2**64 - 1, 1 << widths[0]: 1}
    outcome = call(native, "split_counts", counts, widths)
    assert "more than 2**64 - 1" in raised(outcome)


def test_sampling_archive_of_deeply_nested_json_is_refused_not_a_segfault(
    native: NativeWorker,
) -> None:
    # Was SIGSEGV: the JSON skipper recursed once per `[`, overflowing the thread's stack.
    deep = b'{"x": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b', "counts": {"0": 1}}'
    outcome = call(native, "read_sampling_archive", zip_bytes("result.json", deep), NO_LIMIT)
    assert "nested deeper than 128" in raised(outcome)
    shallow = b'{"x": [[[{"y": []}]]], "counts": {"1": 2}}'
    assert call(native, "read_sampling_archive", zip_bytes("r.json", shallow), NO_LIMIT).value == (
        Counter({1: 2}),
        None,
        None,
    )


def test_parse_qasm_refuses_a_program_that_expands_past_the_operand_bound(
    native: NativeWorker,
) -> None:
    # Was 1.3 GB and 37 s for these 224 bytes (more lines: the process ran out of memory).
    program = "OPENQASM 3;\nqubit[32768] q;\nqubit[32768] r;\n" + "cu(1,2,3,4) q, r;\n" * 10
    outcome = call(native, "parse_qasm", program)
    assert "qubit operands" in raised(outcome)


def test_archive_claiming_more_than_its_deflate_data_can_hold_is_refused(
    native: NativeWorker,
) -> None:
    archive = bytearray(zip_bytes("result.json", SAMPLING))
    central = archive.rfind(b"PK\x01\x02")
    for at in (22, central + 24):  # uncompressed size, local header and directory
        archive[at : at + 4] = struct.pack("<I", 0xFFFFFFFE)
    outcome = call(native, "read_archive", bytes(archive), NO_LIMIT)
    assert "claims more bytes" in raised(outcome)


def test_entry_names_beyond_the_zip_limit_are_refused(native: NativeWorker) -> None:
    longest = "n" * 65535
    outcome = call(native, "write_archive", longest, b"hello")
    assert outcome.returned
    assert unzipped(outcome.value) == (longest, b"hello")
    too_long = call(native, "write_archive", longest + "x", b"hello")
    assert "longer than a ZIP allows" in raised(too_long)


def test_archive_claiming_4_gib_within_the_deflate_bound_does_not_abort_a_capped_process(
    native: NativeWorker,
) -> None:
    archive = bytearray(
        zip_bytes("result.json", bytes(range(256)) * (16 << 10), zipfile.ZIP_STORED)
    )
    central = archive.rfind(b"PK\x01\x02")
    for at in (8, central + 10):  # method: deflate, so the size check waits for inflating
        archive[at : at + 2] = struct.pack("<H", 8)
    for at in (22, central + 24):
        archive[at : at + 4] = struct.pack("<I", 0xFFFFFFF0)
    outcome = native.call("read_archive", bytes(archive), NO_LIMIT)
    assert outcome.crash is None, outcome.crash
