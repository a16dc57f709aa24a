//! Batches of circuits: read under the GIL on the calling thread while rayon workers
//! print (and encode) the circuits already read, so reading and printing overlap.

use crate::ir::{Circuit, CircuitReader};
use pyo3::prelude::*;
use std::sync::mpsc;

/// Reads every circuit of `circuits` in order and applies `work` to each on the rayon
/// pool; returns the results in input order. The GIL is released while waiting for the
/// last results. A reading error is raised for the first circuit that fails, as the
/// reference's list comprehension would.
pub fn map_circuits<T, F>(circuits: &Bound<'_, PyAny>, work: F) -> PyResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Circuit) -> T + Send + Sync + Copy + 'static,
{
    let py = circuits.py();
    let mut reader = CircuitReader::new(py);
    let (sender, receiver) = mpsc::channel::<(usize, T)>();
    let mut count = 0usize;
    for circuit in circuits.try_iter()? {
        let circuit = reader.read(&circuit?)?;
        let sender = sender.clone();
        let index = count;
        rayon::spawn(move || {
            // The receiver is gone only if reading failed; the result is then unwanted.
            let _ = sender.send((index, work(circuit)));
        });
        count += 1;
    }
    drop(sender);
    let mut slots: Vec<Option<T>> = py.detach(|| {
        let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
        for (index, result) in receiver {
            slots[index] = Some(result);
        }
        slots
    });
    Ok(slots
        .iter_mut()
        .map(|s| s.take().expect("every spawned task sends"))
        .collect())
}
