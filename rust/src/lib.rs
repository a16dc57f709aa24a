//! The native module `quri_parts_oqtopus._core`: bindings only; the logic lives in the modules.

mod batch;
mod counts;
mod error;
pub mod floatfmt;
pub mod ir;
pub mod qasm;

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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_counts, m)?)?;
    m.add_function(wrap_pyfunction!(parse_bits, m)?)?;
    m.add_function(wrap_pyfunction!(float_repr, m)?)?;
    m.add_function(wrap_pyfunction!(circuit_to_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(circuits_to_qasm, m)?)?;
    Ok(())
}
