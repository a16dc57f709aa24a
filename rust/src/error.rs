//! The one error type of the native core, and its one conversion to Python exceptions.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::PyErr;
use std::fmt;

/// Everything the native core can refuse. Each variant carries the offending value.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// A counts key that is not a binary string, or a width that does not fit.
    InvalidCounts(String),
    /// A value of the wrong Python type reached the native boundary.
    WrongType(String),
    /// An OpenQASM program the reader refuses; the message names the line and the text.
    InvalidQasm(String),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::InvalidCounts(msg) | CoreError::WrongType(msg) => f.write_str(msg),
            CoreError::InvalidQasm(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for CoreError {}

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        match err {
            CoreError::InvalidCounts(_) => PyValueError::new_err(err.to_string()),
            CoreError::WrongType(_) => PyTypeError::new_err(err.to_string()),
            CoreError::InvalidQasm(_) => PyValueError::new_err(err.to_string()),
        }
    }
}
