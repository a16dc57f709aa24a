"""Typed surface of the native module built from `rust/src/lib.rs`."""

from typing import Literal, TypeAlias

def split_counts(counts: list[tuple[int, int]], bit_widths: list[int]) -> list[dict[int, int]]: ...
def parse_bits(bits: str) -> int: ...

# One operation of a parsed OpenQASM program; the last element is its source line.
_QasmOp: TypeAlias = (
    tuple[Literal["gate"], str, list[int], list[float], int]
    | tuple[Literal["measure"], int, int, int]
    | tuple[Literal["reset"], int, int]
    | tuple[Literal["barrier"], list[int], int]
)

def parse_qasm(text: str) -> tuple[int, int, list[_QasmOp]]: ...
