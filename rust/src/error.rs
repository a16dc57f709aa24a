//! The one error type of the native core, and its one conversion to Python exceptions.

use pyo3::exceptions::{
    PyAssertionError, PyIndexError, PyNotImplementedError, PyTypeError, PyValueError,
};
use pyo3::PyErr;
use std::fmt;

// A ValueError, so that callers catching bad archives still catch it, but its own type:
// a too-large archive is refused for good, while a corrupt one may be downloaded again.
pyo3::create_exception!(
    _core,
    ArchiveTooLargeError,
    PyValueError,
    "An archive entry larger, once inflated, than the reader's limit."
);

/// Everything the native core can refuse. Each variant carries a message naming the
/// offending value; the Python exception type is the one the reference raises.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// A counts key that is not a binary string, or a width that does not fit.
    InvalidCounts(String),
    /// A value of the wrong Python type reached the native boundary.
    WrongType(String),
    /// A gate name QURI Parts does not know (ValueError, as quri-parts-openqasm).
    UnknownGate(String),
    /// A gate the OpenQASM writer refuses with ValueError (parametric, multi-qubit Pauli,
    /// or a two/three-qubit gate on the wrong number of qubits).
    UnsupportedGate(String),
    /// A gate the OpenQASM writer refuses with NotImplementedError (SqrtXdag, SqrtY, SqrtYdag).
    NotImplementedGate(String),
    /// A known gate the reference writer has no branch for (MC*, Measurement, UnitaryMatrix):
    /// it fails `assert False, "Unreachable"` there, so AssertionError here.
    UnconvertibleGate(String),
    /// A gate without the qubit or parameter the writer reads (IndexError there).
    MissingOperand(String),
    /// Text that is not a Pauli string.
    InvalidPauli(String),
    /// An operator the estimation payload cannot carry.
    InvalidOperator(String),
    /// Bytes that are not a one-file ZIP archive.
    InvalidArchive(String),
    /// Text that is not JSON (or not UTF-8), wherever it came from: counts, results.
    InvalidJson(String),
    /// An archive entry that would inflate beyond the caller's limit.
    TooLarge(String),
    /// An OpenQASM program the reader refuses; the message names the line and the text.
    InvalidQasm(String),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::NotImplementedGate(name) => {
                write!(f, "{name} gate cannot be written with OpenQASM 3 stdgates")
            }
            CoreError::UnconvertibleGate(name) => {
                write!(f, "{name} gate is not supported by the OpenQASM writer")
            }
            CoreError::UnknownGate(name) => write!(f, "Unknown gate name: {name}"),
            CoreError::InvalidCounts(msg)
            | CoreError::WrongType(msg)
            | CoreError::UnsupportedGate(msg)
            | CoreError::MissingOperand(msg)
            | CoreError::InvalidPauli(msg)
            | CoreError::InvalidOperator(msg)
            | CoreError::InvalidArchive(msg)
            | CoreError::InvalidJson(msg)
            | CoreError::TooLarge(msg)
            | CoreError::InvalidQasm(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for CoreError {}

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let msg = err.to_string();
        match err {
            CoreError::InvalidCounts(_)
            | CoreError::UnknownGate(_)
            | CoreError::UnsupportedGate(_)
            | CoreError::InvalidPauli(_)
            | CoreError::InvalidOperator(_)
            | CoreError::InvalidArchive(_)
            | CoreError::InvalidJson(_)
            | CoreError::InvalidQasm(_) => PyValueError::new_err(msg),
            CoreError::TooLarge(_) => ArchiveTooLargeError::new_err(msg),
            CoreError::WrongType(_) => PyTypeError::new_err(msg),
            CoreError::NotImplementedGate(_) => PyNotImplementedError::new_err(msg),
            CoreError::UnconvertibleGate(_) => PyAssertionError::new_err(msg),
            CoreError::MissingOperand(_) => PyIndexError::new_err(msg),
        }
    }
}
