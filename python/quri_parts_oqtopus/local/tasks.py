"""What the server hands to a worker process and gets back: plain, picklable data.

This module is light on purpose: the server imports it, while the simulator itself
(`simulate`, qulacs, the QASM reader) is imported only inside the worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """Everything a worker needs; plain data so it pickles cheaply."""

    job_type: str
    programs: list[str]
    shots: int
    operator: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    transpile: bool = True
    max_qubits: int = 26
    delay: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """A finished task: ``ran`` is False when the input was rejected before simulating."""

    succeeded: bool
    ran: bool
    message: str | None = None
    result: dict[str, Any] | None = None
    transpile_result: dict[str, Any] | None = None
    combined_program: str | None = None
    execution_time: float | None = None


def run_in_worker(task: Task) -> Outcome:
    """The pool's entry point: run one task with the simulator (imported only here)."""
    from .simulate import run_task  # noqa: PLC0415 - keeps qulacs out of the server process

    return run_task(task)


def warm_up() -> None:
    """Pool initializer: import the simulator once, before the first job."""
    from .simulate import run_task  # noqa: F401, PLC0415 - the import is the warm-up
