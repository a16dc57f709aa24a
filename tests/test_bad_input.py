"""Every kind of bad input, one table: each is the documented error naming the bad value,
raised before anything is sent to the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quri_parts.circuit import UnboundParametricQuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
    OqtopusSamplingResult,
    OqtopusSseBackend,
)

from .admin import Admin
from .conftest import bell

DEVICE = "qulacs"


def parametric() -> UnboundParametricQuantumCircuit:
    circuit = UnboundParametricQuantumCircuit(1)
    circuit.add_ParametricRY_gate(0)
    return circuit


def z0(coeff: complex) -> Operator:
    return Operator({pauli_label("Z0"): coeff})


Case = Callable[[OqtopusConfig, Path], Any]


def sample(program: Any, shots: Any = 10) -> Case:
    return lambda config, _: OqtopusSamplingBackend(config).sample(program, DEVICE, shots)


def sample_qasm(program: Any) -> Case:
    return lambda config, _: OqtopusSamplingBackend(config).sample_qasm(program, DEVICE, 10)


def estimate(operator: Operator) -> Case:
    return lambda config, _: OqtopusEstimationBackend(config).estimate(bell(), operator, DEVICE, 10)


def run_sse(make: Callable[[Path], str]) -> Case:
    return lambda config, tmp: OqtopusSseBackend(config).run_sse(make(tmp), DEVICE, "bad")


def download_log(make: Callable[[Path], str]) -> Case:
    def case(config: OqtopusConfig, tmp: Path) -> str:
        with pytest.warns(DeprecationWarning, match="download_log is deprecated"):
            return OqtopusSseBackend(config).download_log("job-id", make(tmp))

    return case


def server_counts(counts: Any) -> Case:
    return lambda _config, _tmp: OqtopusSamplingResult.from_server(counts)


def file_at(name: str, content: bytes | None = None, size: int = 0) -> Callable[[Path], str]:
    def make(tmp: Path) -> str:
        path = tmp / name
        if content is not None:
            path.write_bytes(content)
        elif size:
            with path.open("wb") as f:
                f.truncate(size)
        return str(path)

    return make


def directory(name: str) -> Callable[[Path], str]:
    def make(tmp: Path) -> str:
        (tmp / name).mkdir(exist_ok=True)
        return str(tmp / name)

    return make


# (case, error type, text the message must contain: the offending value or its reason)
TABLE: dict[str, tuple[Case, type[Exception], str]] = {
    "shots 0": (sample(bell(), 0), ValueError, "shots should be a positive integer.: 0"),
    "shots negative": (sample(bell(), -5), ValueError, "-5"),
    "shots float": (sample(bell(), 100.0), ValueError, "100.0"),
    "shots bool": (sample(bell(), True), ValueError, "True"),
    "shots too many": (sample(bell(), 10_000_001), ValueError, "10000001"),
    "empty circuit list": (sample([]), ValueError, "empty list"),
    "empty QASM list": (sample_qasm([]), ValueError, "empty list"),
    "QASM not a string": (sample_qasm([42]), ValueError, "42"),
    "parametric circuit": (sample(parametric()), ValueError, "Parametric"),
    "imaginary coefficient": (estimate(z0(1 + 2j)), ValueError, "(1+2j)"),
    "NaN coefficient": (estimate(z0(float("nan"))), ValueError, "nan"),
    "infinite coefficient": (estimate(z0(float("inf"))), ValueError, "inf"),
    "empty operator": (estimate(Operator()), ValueError, "no term"),
    "SSE file missing": (run_sse(file_at("gone.py")), ValueError, "gone.py"),
    "SSE path a directory": (run_sse(directory("pkg.py")), ValueError, "pkg.py"),
    "SSE not .py": (run_sse(file_at("x.txt", b"print(1)")), ValueError, "x.txt"),
    "SSE too large": (run_sse(file_at("big.py", size=8 << 20)), ValueError, "10485760"),
    "SSE not UTF-8": (run_sse(file_at("bin.py", b"\xff\xfe")), ValueError, "bin.py"),
    "log dir missing": (download_log(lambda tmp: str(tmp / "nowhere")), ValueError, "nowhere"),
    "log dir a file": (download_log(file_at("plain", b"x")), ValueError, "plain"),
    "counts key not binary": (server_counts({"counts": {"0a": 1}}), ValueError, "0a"),
    "counts negative": (server_counts({"counts": {"01": -3}}), ValueError, "-3"),
    "counts not integer": (server_counts({"counts": {"01": 2.5}}), ValueError, "2.5"),
    "counts mixed widths": (server_counts({"counts": {"01": 1, "001": 1}}), ValueError, "001"),
    "divided_counts key": (
        server_counts({"counts": {"0": 1}, "divided_counts": {"x": {"0": 1}}}),
        ValueError,
        "'x'",
    ),
}


@pytest.fixture
def request_counter(admin: Admin) -> Admin:
    admin.add_fault(method=".*", path=".*", delay=0.0, times=-1)  # fires on every request
    return admin


@pytest.mark.parametrize("row", sorted(TABLE))
def test_bad_input_is_refused_early_with_the_value_named(
    row: str, config: OqtopusConfig, tmp_path: Path, request_counter: Admin
) -> None:
    case, error, text = TABLE[row]
    with pytest.raises(error) as info:
        case(config, tmp_path)
    assert text in str(info.value), f"{row}: {info.value}"
    assert request_counter.fault_hits() == [0], f"{row}: something was sent"
