//! Reads a QURI Parts `Operator` (a dict of `PauliLabel` -> coefficient) into the terms
//! of the estimation payload, with the reference's checks on coefficients.

use crate::error::CoreError;
use crate::pauli::{pauli_letter, write_pauli_label};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyComplex, PyDict, PyFloat, PyFrozenSet, PyTuple};

/// Largest imaginary part a coefficient may carry (`math.isclose(imag, 0, abs_tol=1e-9)`).
const IMAG_TOLERANCE: f64 = 1e-9;

/// One `{"pauli": ..., "coeff": ...}` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub pauli: String,
    pub coeff: f64,
}

/// The terms of `operator` in its iteration order.
///
/// Errors: ValueError for an empty operator, a coefficient with an imaginary part beyond
/// 1e-9, or a non-finite coefficient (the message names the term and the coefficient).
pub fn read_operator(operator: &Bound<'_, PyAny>) -> PyResult<Vec<Term>> {
    let mut terms = Vec::new();
    let mut factors = Vec::new();
    let mut push = |label: Bound<'_, PyAny>, coeff: Bound<'_, PyAny>| -> PyResult<()> {
        let pauli = label_text(&label, &mut factors)?;
        let coeff = read_coeff(&coeff, &pauli)?;
        terms.push(Term { pauli, coeff });
        Ok(())
    };
    if let Ok(dict) = operator.cast::<PyDict>() {
        for (label, coeff) in dict.iter() {
            push(label, coeff)?;
        }
    } else {
        for item in operator
            .call_method0(intern!(operator.py(), "items"))?
            .try_iter()?
        {
            let (label, coeff) = item?.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            push(label, coeff)?;
        }
    }
    if terms.is_empty() {
        return Err(CoreError::InvalidOperator(
            "operator has no term: an empty operator cannot be estimated".into(),
        )
        .into());
    }
    Ok(terms)
}

/// `str(label)` for a `PauliLabel` (a frozenset of `(qubit, SinglePauli)` pairs); other
/// keys are asked for their own `str`.
fn label_text(label: &Bound<'_, PyAny>, factors: &mut Vec<(i64, u32, char)>) -> PyResult<String> {
    let Ok(set) = label.cast::<PyFrozenSet>() else {
        return Ok(label.str()?.to_str()?.to_owned());
    };
    factors.clear();
    for pair in set.iter() {
        let pair = pair.cast_into::<PyTuple>()?;
        let qubit: i64 = pair.get_borrowed_item(0)?.extract()?;
        let id: i64 = pair.get_borrowed_item(1)?.extract()?;
        let letter = pauli_letter(id).ok_or_else(|| {
            CoreError::InvalidOperator(format!("{id} is not a valid SinglePauli"))
        })?;
        factors.push((qubit, factors.len() as u32, letter));
    }
    let mut text = String::with_capacity(factors.len() * 4);
    write_pauli_label(&mut text, factors);
    Ok(text)
}

/// The real coefficient the payload carries, as the reference computes it.
fn read_coeff(coeff: &Bound<'_, PyAny>, pauli: &str) -> PyResult<f64> {
    let value = if let Ok(complex) = coeff.cast::<PyComplex>() {
        let imag = complex.imag();
        // NaN is never close to zero, as in `math.isclose`.
        if imag.is_nan() || imag.abs() > IMAG_TOLERANCE {
            return Err(CoreError::InvalidOperator(format!(
                "Complex numbers are not supported in coefficient: {} (term {pauli})",
                coeff.str()?
            ))
            .into());
        }
        complex.real()
    } else if let Ok(float) = coeff.extract::<f64>() {
        float
    } else {
        // `float(coeff)` accepts more than `__float__` (e.g. numeric strings).
        coeff
            .py()
            .get_type::<PyFloat>()
            .call1((coeff,))?
            .extract()?
    };
    if !value.is_finite() {
        // The message shows the coefficient as given (a complex one too), as the seam does.
        return Err(CoreError::InvalidOperator(format!(
            "coefficient of term {pauli} is not finite: {}",
            coeff.str()?
        ))
        .into());
    }
    Ok(value)
}
