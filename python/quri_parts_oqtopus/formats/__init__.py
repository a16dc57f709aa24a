"""The wire formats, each written and read by the native core: the seams of ``_core``.

:mod:`~quri_parts_oqtopus.formats.gates` is the gate table (its rows the core's) and the gate
shifter; :mod:`~quri_parts_oqtopus.formats.qasm` prints circuits as OpenQASM 3 and
:mod:`~quri_parts_oqtopus.formats.qasm_reader` reads it back;
:mod:`~quri_parts_oqtopus.formats.sweep` is a parametric circuit with its bindings;
:mod:`~quri_parts_oqtopus.formats.operator` the estimation operator payload;
:mod:`~quri_parts_oqtopus.formats.upload` job inputs and archives;
:mod:`~quri_parts_oqtopus.formats.counts` counts decoding. The modules of the same names at
the package's root re-export them (their public import paths).
"""
