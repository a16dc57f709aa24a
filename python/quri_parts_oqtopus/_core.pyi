"""Typed surface of the native module built from `rust/src/lib.rs`."""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias, final

from quri_parts.backend import SamplingCounts

__all__ = [
    "ArchiveTooLargeError",
    "JobInput",
    "circuit_inputs",
    "circuit_to_qasm",
    "circuits_input",
    "circuits_to_qasm",
    "decode_counts",
    "decode_divided_counts",
    "direct_read_status",
    "encode_operator",
    "parse_pauli",
    "parse_qasm",
    "programs_input",
    "read_archive",
    "read_sampling_archive",
    "split_counts",
    "sweep_input",
    "sweep_inputs",
    "sweep_to_qasm",
    "write_archive",
]

def split_counts(
    counts: Mapping[int, int] | Iterable[tuple[int, int]], bit_widths: list[int]
) -> list[Counter[int]]: ...
def circuit_to_qasm(circuit: object) -> str: ...
def circuits_to_qasm(circuits: Iterable[object]) -> list[str]: ...
def sweep_to_qasm(circuit: object, parameter_sets: Iterable[object]) -> list[str]: ...
def direct_read_status() -> dict[str, bool | str | int]: ...
def encode_operator(operator: object) -> list[dict[str, str | float]]: ...
def parse_pauli(text: str) -> list[tuple[int, str]]: ...
def decode_counts(raw: object) -> Counter[int]: ...
def decode_divided_counts(raw: object) -> dict[int, SamplingCounts] | None: ...

class ArchiveTooLargeError(ValueError): ...

def read_sampling_archive(
    data: bytes, max_size: int
) -> tuple[Counter[int], dict[int, SamplingCounts] | None, str | None]: ...
def read_archive(data: bytes, max_size: int) -> tuple[str, bytes]: ...
def write_archive(entry_name: str, content: bytes) -> bytes: ...

@final
class JobInput:
    def archive(self, entry_name: str) -> bytes: ...
    @property
    def deflated_size(self) -> int: ...
    @property
    def program_digests(self) -> list[str]: ...

def circuits_input(circuits: Iterable[object], operator: object | None = None) -> JobInput: ...
def programs_input(programs: list[str], operator: object | None = None) -> JobInput: ...
def sweep_input(circuit: object, parameter_sets: Iterable[object]) -> JobInput: ...
def circuit_inputs(circuits: Iterable[object]) -> list[JobInput]: ...
def sweep_inputs(circuit: object, parameter_sets: Iterable[object]) -> list[JobInput]: ...

# One operation of a parsed OpenQASM program; the last element is its source line.
_QasmOp: TypeAlias = (
    tuple[Literal["gate"], str, list[int], list[float], int]
    | tuple[Literal["measure"], int, int, int]
    | tuple[Literal["reset"], int, int]
    | tuple[Literal["barrier"], list[int], int]
)

def parse_qasm(text: str) -> tuple[int, int, list[_QasmOp]]: ...
