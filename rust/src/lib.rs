//! The native module `quri_parts_oqtopus._core`: bindings only; the logic lives in the modules.

mod batch;
mod counts;
mod error;
pub mod floatfmt;
pub mod ir;
mod operator;
pub mod pauli;
pub mod qasm;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
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

/// `repr(value)` for a float, computed in Rust (exposed to test the QASM float text).
#[pyfunction]
fn float_repr(value: f64) -> String {
    floatfmt::float_repr(value)
}

/// OpenQASM 3 text of one circuit, byte for byte as quri-parts-openqasm writes it.
#[pyfunction]
fn circuit_to_qasm(circuit: &Bound<'_, PyAny>) -> PyResult<String> {
    let circuit = ir::CircuitReader::new(circuit.py()).read(circuit)?;
    Ok(qasm::print_circuit(&circuit))
}

/// OpenQASM 3 texts of an iterable of circuits, in order; printing runs on all cores
/// without the GIL while the next circuits are read.
#[pyfunction]
fn circuits_to_qasm(circuits: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    batch::map_circuits(circuits, |c| qasm::print_circuit(&c))
}

/// The estimation payload's operator list: `[{"pauli": "X0 X1", "coeff": 1.5}, ...]`.
#[pyfunction]
fn encode_operator<'py>(operator: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let py = operator.py();
    let terms = operator::read_operator(operator)?;
    let list = PyList::empty(py);
    for term in terms {
        let entry = PyDict::new(py);
        entry.set_item(intern!(py, "pauli"), term.pauli)?;
        entry.set_item(intern!(py, "coeff"), term.coeff)?;
        list.append(entry)?;
    }
    Ok(list)
}

/// `(qubit, letter)` pairs of a Pauli string in either spelling, sorted by qubit.
#[pyfunction]
fn parse_pauli(text: &Bound<'_, PyString>) -> PyResult<Vec<(u64, char)>> {
    pauli::parse_pauli(text.to_str()?).map_err(|err| {
        let shown = text.repr().map(|r| r.to_string()).unwrap_or_default();
        let msg = match err {
            pauli::PauliSyntaxError::NotPauli => format!("Not a Pauli string: {shown}"),
            pauli::PauliSyntaxError::RepeatedQubit(q) => {
                format!("Pauli string {shown} names qubit {q} twice")
            }
            pauli::PauliSyntaxError::QubitTooLarge => {
                format!("Pauli string {shown} names a qubit beyond 2**64 - 1")
            }
        };
        error::CoreError::InvalidPauli(msg).into()
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_counts, m)?)?;
    m.add_function(wrap_pyfunction!(parse_bits, m)?)?;
    m.add_function(wrap_pyfunction!(float_repr, m)?)?;
    m.add_function(wrap_pyfunction!(circuit_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(circuits_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(encode_operator, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pauli, m)?)?;
    Ok(())
}
