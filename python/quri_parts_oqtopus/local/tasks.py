"""What the server hands to a worker process and gets back: plain, picklable data.

This module is light on purpose: the server imports it, while the simulator itself
(`simulate`, qulacs, the QASM reader) is imported only inside the worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CostLimits:
    """What one simulation may cost; checked after parsing, before anything is simulated.

    Attributes:
        max_gate_work: Gates x 2^qubits (amplitude updates; 2^37 is minutes of qulacs).
        max_term_work: Pauli terms x 2^qubits of an estimation.
        max_result_work: Counts entries a sampling job may produce: min(shots, 2^bits);
            for multi_manual that of the combined bits plus that of each program's.
    """

    max_gate_work: int = 2**37
    max_term_work: int = 2**37
    max_result_work: int = 50_000_000

    def __post_init__(self) -> None:
        for name in ("max_gate_work", "max_term_work", "max_result_work"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs; plain data so it pickles cheaply.

    ``job_dir`` is where the worker stages the payload files it produces; ``memory_bytes``
    is its address-space limit, which the cost check also holds the job to.
    """

    job_type: str
    programs: list[str]
    shots: int
    operator: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    transpile: bool = True
    max_qubits: int = 26
    delay: float = 0.0
    # Seconds the transpile step holds (a device's ``transpile_delay``, tests of limits).
    transpile_delay: float = 0.0
    job_dir: str | None = None
    memory_bytes: int | None = None
    limits: CostLimits = field(default_factory=CostLimits)
    # An emulated QPU: its id, its calibration (``device_info`` text) and what the job asks
    # of its transpiler and readout mitigation. ``device_info`` None: the noiseless simulator.
    device_id: str = ""
    device_info: str | None = None
    transpiler_info: dict[str, Any] = field(default_factory=dict)
    mitigation_info: dict[str, Any] = field(default_factory=dict)


#: What a worker is doing, as it tells its watcher: the time limit's message names it.
PREPARING, TRANSPILING, SIMULATING = "reading the program", "transpiling", "simulating"


@dataclass(frozen=True)
class Phase:
    """Sent by a worker when its job enters a phase (before the job's ``Outcome``)."""

    name: str


@dataclass(frozen=True)
class Outcome:
    """A finished task: ``ran`` is False when the input was rejected before simulating.

    ``staged`` names the payloads the worker wrote next to the job, for the server to
    commit; the results themselves never travel through the server's memory.
    """

    succeeded: bool
    ran: bool
    message: str | None = None
    execution_time: float | None = None
    staged: tuple[str, ...] = ()
