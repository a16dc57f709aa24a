//! Batches of programs: circuits read under the GIL on the calling thread while rayon
//! workers print (and encode) the ones already read, so reading and printing overlap; a
//! parametric sweep read once and rendered on all cores.

use crate::direct;
use crate::ir::Circuit;
use crate::pool;
use crate::qasm::print_circuit;
use crate::read::read_circuit;
use crate::sweep::{read_parameter_sets, template_of, Parents, Sweep};
use pyo3::intern;
use pyo3::prelude::*;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

/// One program to print: a circuit read, or a binding of a sweep's template.
pub enum Program {
    Circuit(Circuit),
    Binding(Arc<Sweep>, Vec<f64>),
}

/// Bindings printed from a template rather than read and printed whole, in this process.
pub static FROM_TEMPLATES: AtomicU64 = AtomicU64::new(0);

impl Program {
    /// The OpenQASM 3 text.
    pub fn print(&self) -> String {
        match self {
            Program::Circuit(circuit) => print_circuit(circuit),
            Program::Binding(sweep, values) => {
                FROM_TEMPLATES.fetch_add(1, Ordering::Relaxed);
                sweep.render(values)
            }
        }
    }
}

/// Reads circuits for one batch; bound circuits of one parent reuse its template.
#[derive(Default)]
struct BatchReader {
    parents: Parents,
}

impl BatchReader {
    fn read(&mut self, circuit: &Bound<'_, PyAny>) -> PyResult<Program> {
        if direct::is_bound_circuit(circuit) {
            if let Some(sweep) = self.parents.template(circuit) {
                if let Some(read) = direct::read_circuit(circuit) {
                    return Ok(match sweep.angles_of(&read) {
                        Some(angles) => Program::Binding(sweep, angles),
                        None => Program::Circuit(read),
                    });
                }
            }
        }
        Ok(Program::Circuit(read_circuit(circuit)?))
    }
}

/// Reads every circuit of the iterable `circuits` in order and applies `work` to each on
/// the rayon pool; returns the results in input order. The GIL is released while waiting
/// for the last results. A reading error is raised for the first circuit that fails, as
/// the reference's list comprehension would.
pub fn map_circuits<T, F>(circuits: &Bound<'_, PyAny>, work: F) -> PyResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Program) -> T + Send + Sync + Copy + 'static,
{
    map_read(circuits.py(), circuits.try_iter()?, work)
}

/// `work` applied to the text of `circuit.bind_parameters(p)` for each `p` of
/// `parameter_sets`, in order: rendered from the circuit's template where it has one and
/// every set is a tuple of as many floats as it has parameters, else bound one by one.
pub fn map_sweep<T, F>(
    circuit: &Bound<'_, PyAny>,
    parameter_sets: &Bound<'_, PyAny>,
    work: F,
) -> PyResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Program) -> T + Send + Sync + Copy + 'static,
{
    let py = circuit.py();
    if let Some(sweep) = template_of(circuit) {
        if let Some(sets) = read_parameter_sets(parameter_sets, sweep.parameter_count()) {
            let sweep = Arc::new(sweep);
            let render = |values| work(Program::Binding(sweep.clone(), values));
            return Ok(py.detach(|| match pool::pool() {
                Some(pool) => pool.install(|| sets.into_par_iter().map(render).collect()),
                None => sets.into_iter().map(render).collect(),
            }));
        }
    }
    let bind = intern!(py, "bind_parameters");
    let bound = parameter_sets
        .try_iter()?
        .map(|set| circuit.call_method1(bind, (set?,)));
    map_read(py, bound, work)
}

fn map_read<'py, T, F>(
    py: Python<'py>,
    circuits: impl Iterator<Item = PyResult<Bound<'py, PyAny>>>,
    work: F,
) -> PyResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Program) -> T + Send + Sync + Copy + 'static,
{
    let mut reader = BatchReader::default();
    let (sender, receiver) = mpsc::channel::<(usize, T)>();
    let mut count = 0usize;
    for circuit in circuits {
        let program = reader.read(&circuit?)?;
        let sender = sender.clone();
        let index = count;
        pool::spawn(move || {
            // The receiver is gone only if reading failed; the result is then unwanted.
            let _ = sender.send((index, work(program)));
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
