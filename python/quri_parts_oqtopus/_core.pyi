"""Typed surface of the native module built from `rust/src/lib.rs`."""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias

from quri_parts.backend import SamplingCounts

__all__ = [
    "ArchiveTooLargeError",
    "circuit_to_qasm",
    "circuits_archive",
    "circuits_to_qasm",
    "decode_counts",
    "decode_divided_counts",
    "encode_operator",
    "float_repr",
    "parse_bits",
    "parse_pauli",
    "parse_qasm",
    "programs_archive",
    "read_archive",
    "read_sampling_archive",
    "split_counts",
    "write_archive",
]

def split_counts(
    counts: Mapping[int, int] | Iterable[tuple[int, int]], bit_widths: list[int]
) -> list[Counter[int]]: ...
def parse_bits(bits: str) -> int: ...
def float_repr(value: float) -> str: ...
def circuit_to_qasm(circuit: object) -> str: ...
def circuits_to_qasm(circuits: Iterable[object]) -> list[str]: ...
def encode_operator(operator: object) -> list[dict[str, str | float]]: ...
def parse_pauli(text: str) -> list[tuple[int, str]]: ...
def decode_counts(raw: object) -> Counter[int]: ...
def decode_divided_counts(raw: object) -> dict[int, SamplingCounts] | None: ...

class ArchiveTooLargeError(ValueError): ...

def read_sampling_archive(
    data: bytes, max_size: int
) -> tuple[Counter[int], dict[int, SamplingCounts] | None]: ...
def read_archive(data: bytes, max_size: int) -> tuple[str, bytes]: ...
def write_archive(entry_name: str, content: bytes) -> bytes: ...
def circuits_archive(
    entry_name: str, circuits: Iterable[object], operator: object | None = None
) -> bytes: ...
def programs_archive(
    entry_name: str, programs: list[str], operator: object | None = None
) -> bytes: ...

# One operation of a parsed OpenQASM program; the last element is its source line.
_QasmOp: TypeAlias = (
    tuple[Literal["gate"], str, list[int], list[float], int]
    | tuple[Literal["measure"], int, int, int]
    | tuple[Literal["reset"], int, int]
    | tuple[Literal["barrier"], list[int], int]
)

def parse_qasm(text: str) -> tuple[int, int, list[_QasmOp]]: ...
