//! The one place that reads a QURI Parts circuit (or any circuit-like object) into the IR:
//! straight from its gate vector where `direct` admits it, else through its attributes.

use crate::direct;
use crate::ir::{read_through_getters, Circuit};
use pyo3::prelude::*;

/// Reads `circuit.qubit_count` and every gate of `circuit.gates`, in order, raising the
/// reference writer's exception at the first gate it refuses: directly where `direct`
/// admits the circuit, else through the attributes.
pub fn read_circuit(circuit: &Bound<'_, PyAny>) -> PyResult<Circuit> {
    match direct::read_circuit(circuit) {
        Some(read) => Ok(read),
        None => read_through_getters(circuit),
    }
}
