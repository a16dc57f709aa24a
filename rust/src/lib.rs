//! The native module `quri_parts_oqtopus._core`: bindings only; the logic lives in the modules.

mod counts;
mod error;
mod qasm_parse;

use pyo3::prelude::*;
use std::collections::BTreeMap;

/// Splits combined counts `{key: count}` into one `{key: count}` per program (program 0
/// on the lowest bits). Runs without the GIL once the input is read.
#[pyfunction]
fn split_counts(
    py: Python<'_>,
    counts: Vec<(u64, u64)>,
    bit_widths: Vec<u32>,
) -> PyResult<Vec<BTreeMap<u64, u64>>> {
    Ok(py.detach(|| counts::split_counts(&counts, &bit_widths))?)
}

/// Parses a measured bit string into its integer value (last character = bit 0).
#[pyfunction]
fn parse_bits(bits: &str) -> PyResult<u64> {
    Ok(counts::parse_bits(bits)?)
}

/// Parses OpenQASM 3 text into `(n_qubits, n_clbits, ops)`, each op a tuple ending with its
/// source line: `("gate", name, qubits, params, line)`, `("measure", qubit, clbit, line)`,
/// `("reset", qubit, line)`, `("barrier", qubits, line)`. Parses without the GIL.
#[pyfunction]
fn parse_qasm<'py>(
    py: Python<'py>,
    text: &str,
) -> PyResult<(usize, usize, Vec<Bound<'py, PyAny>>)> {
    let program = py.detach(|| qasm_parse::parse_qasm(text))?;
    let ops = program
        .ops
        .iter()
        .map(|op| qasm_op_to_tuple(py, op))
        .collect::<PyResult<_>>()?;
    Ok((program.n_qubits, program.n_clbits, ops))
}

fn qasm_op_to_tuple<'py>(py: Python<'py>, op: &qasm_parse::Op) -> PyResult<Bound<'py, PyAny>> {
    use qasm_parse::OpKind;
    let line = op.line;
    Ok(match &op.kind {
        OpKind::Gate {
            name,
            qubits,
            params,
        } => ("gate", *name, qubits, params, line)
            .into_pyobject(py)?
            .into_any(),
        OpKind::Measure { qubit, clbit } => ("measure", *qubit, *clbit, line)
            .into_pyobject(py)?
            .into_any(),
        OpKind::Reset { qubit } => ("reset", *qubit, line).into_pyobject(py)?.into_any(),
        OpKind::Barrier { qubits } => ("barrier", qubits, line).into_pyobject(py)?.into_any(),
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_counts, m)?)?;
    m.add_function(wrap_pyfunction!(parse_bits, m)?)?;
    m.add_function(wrap_pyfunction!(parse_qasm, m)?)?;
    Ok(())
}
