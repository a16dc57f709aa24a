//! The native module `quri_parts_oqtopus._core`: bindings only; the logic lives in the modules.

mod counts;
mod error;

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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_counts, m)?)?;
    m.add_function(wrap_pyfunction!(parse_bits, m)?)?;
    Ok(())
}
