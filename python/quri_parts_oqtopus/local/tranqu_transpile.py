"""Transpilation through tranqu, the library of OQTOPUS's transpiler service.

The program goes to tranqu as a Qiskit circuit, and the device as a Qiskit backend of the
emulated QPU's own target (``qiskit_transpile.device_target``: the calibrated errors and
durations, which tranqu's own OQTOPUS-to-Qiskit conversion does not carry as this server
reads them). tranqu then transpiles with the library the job names, as the service does:

- ``qiskit``: ``qiskit.transpile(circuit, backend=..., **transpiler_options)``;
- ``tket``: pytket's compilation to the device, reading ``optimization_level`` (0..2).
  tranqu 1.0.1's own device for tket places and then routes twice, which pytket refuses
  for every circuit ("Circuit does not contain unit with id"), and leaves ``cx`` against a
  one-way coupling; through tranqu's converter registry this server gives tket a device
  that places and routes once, with directed ``cx``, and rebases to the native gates.

tranqu (and pytket with it) is optional (``pip install 'quri-parts-oqtopus[tranqu]'``);
imported only here, in the worker processes, when a job is transpiled.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import qiskit
from qiskit.transpiler import Target

from quri_parts_oqtopus._contract import TKET

#: How to add tranqu, and with it transpiler_lib "tket".
TRANQU_INSTALL = "pip install 'quri-parts-oqtopus[tranqu]'"


def tranqu_installed() -> bool:
    """Whether tranqu (and pytket, which it needs) can be imported here."""
    try:
        import tranqu  # noqa: F401, PLC0415 - optional and slow to import
    except ImportError:
        return False
    return True


def transpile(
    source: qiskit.QuantumCircuit,
    target: Target,
    library: str,
    options: dict[str, Any],
    device_id: str,
) -> tuple[qiskit.QuantumCircuit, dict[str, Any], dict[int, int]]:
    """``(transpiled circuit, stats, virtual -> physical qubit)`` of ``source`` for the
    device of ``target``, transpiled by tranqu with ``library``.

    Raises:
        Whatever the transpiler raises for a program or options it cannot handle.

    """
    from tranqu.device_converter import QiskitDevice  # noqa: PLC0415

    result = _tranqu().transpile(
        source,
        program_lib="qiskit",
        transpiler_lib=library,
        transpiler_options=dict(options),  # tranqu adds the backend to the dict it gets
        device=QiskitDevice(device_id, target),
        device_lib="qiskit",
    )
    shown = result.to_dict()
    qubit_mapping = shown["virtual_physical_mapping"]["qubit_mapping"]
    mapping = {int(v): int(p) for v, p in qubit_mapping.items()}
    return result.transpiled_program, shown["stats"], mapping


@cache
def _tranqu() -> Any:
    from tranqu import Tranqu  # noqa: PLC0415

    tranqu: Any = Tranqu()  # typed by tranqu where installed; this server duck-types its device
    tranqu.register_device_converter("qiskit", TKET, _TketDeviceConverter(), allow_override=True)
    return tranqu


class _TketDeviceConverter:
    """A Qiskit backend as the device tranqu's tket transpiler compiles to."""

    def convert(self, device: Any) -> _TketDevice:
        return _TketDevice(device.target)


class _TketDevice:
    """What tranqu's tket transpiler asks of a device: its compilation pass."""

    def __init__(self, target: Target) -> None:
        from pytket.architecture import Architecture  # noqa: PLC0415

        coupling_map = target.build_coupling_map()
        edges = [] if coupling_map is None else coupling_map.get_edges()
        self._architecture = Architecture([(int(a), int(b)) for a, b in edges])

    def default_compilation_pass(self, optimisation_level: int = 1) -> Any:
        """Optimise (level 1: ``SynthesiseTket``, 2: ``FullPeepholeOptimise``), place and route
        once with directed ``cx``, then rebase to ``x``, ``sx``, ``rz``, ``cx``."""
        from pytket.circuit import OpType  # noqa: PLC0415
        from pytket.passes import (  # noqa: PLC0415
            AutoRebase,
            CXMappingPass,
            DecomposeBoxes,
            FullPeepholeOptimise,
            SequencePass,
            SynthesiseTket,
        )
        from pytket.placement import GraphPlacement  # noqa: PLC0415

        passes = [DecomposeBoxes()]
        if optimisation_level == 1:
            passes.append(SynthesiseTket())
        elif optimisation_level >= 2:
            passes.append(FullPeepholeOptimise())
        architecture = self._architecture
        placement = GraphPlacement(architecture)
        passes.append(CXMappingPass(architecture, placement, directed_cx=True, delay_measures=True))
        passes.append(AutoRebase({OpType.X, OpType.SX, OpType.Rz, OpType.CX}))
        return SequencePass(passes)
