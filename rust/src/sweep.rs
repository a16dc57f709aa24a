//! Parametric sweeps: one parametric circuit printed once as a `Template`, each binding
//! costing only its angles' text.
//!
//! The template is read through the parametric circuit's public attributes (its `gates`:
//! `QuantumGate` and `ParametricQuantumGate` objects) and used only where the direct read
//! is on and these guards hold: the circuit's exact type is `quri_parts_rust`'s
//! (`ImmutableParametricQuantumCircuit` or `ParametricQuantumCircuit`) with the original
//! `gates`, `qubit_count`, `bind_parameters` and `parameter_count`; every gate is an exact
//! QURI Parts gate type; the only parametric gates are `ParametricRX/RY/RZ` (which bind to
//! `RX/RY/RZ`), as many as `parameter_count`; and one real `bind_parameters` with distinct
//! probe values, read directly, prints exactly as the template renders them. A first-use
//! self-test checks the same on a probe circuit. Otherwise every binding goes through
//! `bind_parameters` and the circuit reader, so the text and the errors are the reference's.
//!
//! A batch of bound circuits (`circuit.bind_parameters(p)` each) whose parent is the same
//! is rendered from the parent's template too: each bound circuit is still read directly,
//! and only when it matches the template gate for gate are its angles taken from it.

use crate::direct::{self, SelfTested, TypeGuard};
use crate::ir::{kind_of, read_operands, read_qubit_count, Circuit, Kind, Param};
use crate::qasm::{print_circuit, Template};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyTuple, PyType};
use std::sync::Arc;

/// A parametric circuit ready to render bindings.
#[derive(Debug)]
pub struct Sweep {
    /// The circuit as bound, with 0.0 in its open parameters.
    circuit: Circuit,
    /// Indices (into `circuit.params`) of the open parameters, in binding order.
    open: Vec<usize>,
    template: Template,
}

impl Sweep {
    /// How many values one binding takes.
    pub fn parameter_count(&self) -> usize {
        self.open.len()
    }

    /// The text of the binding `values` (`parameter_count` of them).
    pub fn render(&self, values: &[f64]) -> String {
        self.template.render(values)
    }

    /// The angles of `bound` if it is this circuit bound (gate for gate the same, the open
    /// parameters aside); None otherwise.
    pub fn angles_of(&self, bound: &Circuit) -> Option<Vec<f64>> {
        let same_shape = bound.qubit_count == self.circuit.qubit_count
            && bound.gates.len() == self.circuit.gates.len()
            && bound.params.len() == self.circuit.params.len()
            && bound.gates == self.circuit.gates;
        if !same_shape {
            return None;
        }
        let mut open = self.open.iter().peekable();
        let mut angles = Vec::with_capacity(self.open.len());
        for (index, (ours, theirs)) in self.circuit.params.iter().zip(&bound.params).enumerate() {
            let (Param::Float(_), Param::Float(value)) = (ours, theirs) else {
                return None;
            };
            if open.peek() == Some(&&index) {
                open.next();
                angles.push(*value);
            } else if !ours.is_identical(theirs) {
                return None;
            }
        }
        Some(angles)
    }
}

/// What a parametric circuit and its gates must still be for the template to hold.
struct Guards {
    circuits: Vec<TypeGuard>,
    parametric_gate: TypeGuard,
}

static GUARDS: SelfTested<Guards> = SelfTested::new();

fn guards(py: Python<'_>) -> Option<&'static Guards> {
    GUARDS.get(|| self_test(py))
}

/// Why sweeps render from templates in this process, or why not.
pub fn reason(py: Python<'_>) -> String {
    let _ = guards(py);
    GUARDS.reason()
}

/// The template of `circuit`, if the guards hold (see the module documentation).
pub fn template_of(circuit: &Bound<'_, PyAny>) -> Option<Sweep> {
    let py = circuit.py();
    let guards = guards(py)?;
    make_template(circuit, guards).ok().flatten()
}

fn make_template(circuit: &Bound<'_, PyAny>, guards: &Guards) -> PyResult<Option<Sweep>> {
    let py = circuit.py();
    let ty = circuit.get_type();
    let Some(guard) = guards.circuits.iter().find(|g| g.is(&ty)) else {
        return Ok(None);
    };
    let Some(gate_guard) = direct::gate_guard(py) else {
        return Ok(None);
    };
    if !guard.holds(py) || !gate_guard.holds(py) || !guards.parametric_gate.holds(py) {
        return Ok(None);
    }
    let Some((read, open)) = read_parametric(circuit, gate_guard, &guards.parametric_gate)? else {
        return Ok(None);
    };
    let count: usize = circuit.getattr(intern!(py, "parameter_count"))?.extract()?;
    if count != open.len() {
        return Ok(None);
    }
    let sweep = Sweep {
        template: Template::new(&read, &open),
        circuit: read,
        open,
    };
    // One real binding with distinct values must print as the template renders them.
    let probe: Vec<f64> = (0..count).map(|k| k as f64 + 0.5).collect();
    let bound = circuit.call_method1(intern!(py, "bind_parameters"), (probe.clone(),))?;
    let Some(bound) = direct::read_circuit(&bound) else {
        return Ok(None);
    };
    Ok((print_circuit(&bound) == sweep.render(&probe)).then_some(sweep))
}

/// The circuit as it binds, with its open parameters' indices; None for a gate this does
/// not template (anything but QURI Parts gates, parametric gates but RX/RY/RZ, refused ones).
fn read_parametric(
    circuit: &Bound<'_, PyAny>,
    gate_guard: &TypeGuard,
    parametric_guard: &TypeGuard,
) -> PyResult<Option<(Circuit, Vec<usize>)>> {
    let py = circuit.py();
    let mut read = Circuit {
        qubit_count: read_qubit_count(circuit)?,
        ..Circuit::default()
    };
    let mut open = Vec::new();
    let gates = circuit.getattr(intern!(py, "gates"))?;
    let gates = match gates.cast_into::<PyList>() {
        Ok(list) => list.to_tuple(),
        Err(e) => e.into_inner().cast_into::<PyTuple>()?,
    };
    for gate in gates.iter() {
        let ty = gate.get_type();
        let name = gate.getattr(intern!(py, "name"))?;
        if parametric_guard.is(&ty) {
            let symbol = match name.extract::<String>()?.as_str() {
                "ParametricRX" => "rx",
                "ParametricRY" => "ry",
                "ParametricRZ" => "rz",
                _ => return Ok(None),
            };
            let targets = gate.getattr(intern!(py, "target_indices"))?;
            let Ok((qubit,)) = targets.extract::<(i64,)>() else {
                return Ok(None);
            };
            open.push(read.params.len());
            read.push(Kind::Rotation(symbol), [qubit, 0, 0], [Param::Float(0.0)]);
        } else if gate_guard.is(&ty) {
            let Ok(kind) = kind_of(&name)? else {
                return Ok(None);
            };
            let (qubits, params) = read_operands(&gate, &name, kind)?;
            if params.iter().any(|p| !matches!(p, Param::Float(_))) {
                return Ok(None);
            }
            read.push(kind, qubits, params);
        } else {
            return Ok(None);
        }
    }
    Ok(Some((read, open)))
}

fn self_test(py: Python<'_>) -> Result<Guards, String> {
    if !direct::enabled(py) {
        return Err("the direct read is off".into());
    }
    let failed = |e: PyErr| format!("sweep self-test: {e}");
    let module = py
        .import("quri_parts.rust.circuit.circuit_parametric")
        .map_err(failed)?;
    let attributes = ["gates", "qubit_count", "bind_parameters", "parameter_count"];
    let mut circuits = Vec::new();
    for name in [
        "ImmutableParametricQuantumCircuit",
        "ParametricQuantumCircuit",
    ] {
        let ty = module
            .getattr(name)
            .and_then(|t| Ok(t.cast_into::<PyType>()?))
            .map_err(failed)?;
        circuits.push(TypeGuard::capture(&ty, &attributes)?);
    }
    let gate_type = py
        .import("quri_parts.rust.circuit.gate")
        .and_then(|m| m.getattr("ParametricQuantumGate"))
        .and_then(|t| Ok(t.cast_into::<PyType>()?))
        .map_err(failed)?;
    let parametric_gate = TypeGuard::capture(&gate_type, &["name", "target_indices"])?;
    let guards = Guards {
        circuits,
        parametric_gate,
    };
    let probe = probe_circuit(py).map_err(failed)?;
    for circuit in [probe.clone(), probe.call_method0("freeze").map_err(failed)?] {
        let sweep = make_template(&circuit, &guards)
            .map_err(failed)?
            .ok_or("sweep self-test: the probe circuit has no template")?;
        for values in [vec![0.25, -1.0, 3e-9, 1e300], vec![-0.0, 7.0, -2.5, 0.1]] {
            let bound = circuit
                .call_method1("bind_parameters", (values.clone(),))
                .map_err(failed)?;
            let expected = crate::ir::read_through_getters(&bound).map_err(failed)?;
            if sweep.render(&values) != print_circuit(&expected) {
                return Err(
                    "sweep self-test: a binding renders differently from the bound circuit".into(),
                );
            }
        }
    }
    Ok(guards)
}

fn probe_circuit(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let circuit = py
        .import("quri_parts.rust.circuit.circuit_parametric")?
        .getattr("ParametricQuantumCircuit")?
        .call1((7,))?;
    circuit.call_method1("add_ParametricRX_gate", (3,))?;
    circuit.call_method1("add_H_gate", (0,))?;
    circuit.call_method1("add_RZ_gate", (1, 0.375))?;
    circuit.call_method1("add_ParametricRZ_gate", (5,))?;
    circuit.call_method1("add_U3_gate", (2, 1.5, -2.5, 1e-7))?;
    circuit.call_method1("add_ParametricRY_gate", (6,))?;
    circuit.call_method1("add_TOFFOLI_gate", (0, 1, 4))?;
    circuit.call_method1("add_ParametricRX_gate", (0,))?;
    circuit.call_method1("add_CNOT_gate", (3, 2))?;
    Ok(circuit)
}

/// The values of each parameter set, if each is a sequence of `count` floats; None when
/// one is not (the caller then binds through QURI Parts, which raises its own error).
pub fn read_parameter_sets(sets: &Bound<'_, PyAny>, count: usize) -> Option<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for set in sets.try_iter().ok()? {
        let set = set.ok()?;
        let values: Vec<f64> = match set.cast::<PyTuple>() {
            // ParameterSweep stores tuples of floats: read them without a conversion.
            Ok(tuple) => tuple
                .iter()
                .map(|v| v.cast_exact::<PyFloat>().ok().map(|f| f.value()))
                .collect::<Option<_>>()?,
            Err(_) => return None,
        };
        if values.len() != count {
            return None;
        }
        out.push(values);
    }
    Some(out)
}

/// Templates of the parents of bound circuits met in one batch; a parent gets one when its
/// second bound circuit comes, so a batch of unrelated circuits pays nothing.
#[derive(Default)]
pub struct Parents {
    seen: Vec<(Py<PyAny>, Parent)>,
}

enum Parent {
    SeenOnce,
    Ready(Arc<Sweep>),
    Refused,
}

const PARENTS_KEPT: usize = 8;

impl Parents {
    /// The template of `bound`'s parent, if it has one by now.
    pub fn template(&mut self, bound: &Bound<'_, PyAny>) -> Option<Arc<Sweep>> {
        let py = bound.py();
        let parent = bound.getattr(intern!(py, "unbound_param_circuit")).ok()?;
        let Some((_, state)) = self.seen.iter_mut().find(|(p, _)| p.bind(py).is(&parent)) else {
            if self.seen.len() >= PARENTS_KEPT {
                self.seen.remove(0);
            }
            self.seen.push((parent.unbind(), Parent::SeenOnce));
            return None;
        };
        if let Parent::SeenOnce = state {
            *state = match template_of(&parent) {
                Some(sweep) => Parent::Ready(Arc::new(sweep)),
                None => Parent::Refused,
            };
        }
        match state {
            Parent::Ready(sweep) => Some(sweep.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `h q[0]; rz(θ0) q[1]; cx q[0], q[1]; rx(0.25) q[0]; ry(θ1) q[1]` with θ open.
    fn sweep() -> Sweep {
        let mut circuit = Circuit {
            qubit_count: 2,
            ..Circuit::default()
        };
        circuit.push(Kind::Fixed("h"), [0, 0, 0], []);
        circuit.push(Kind::Rotation("rz"), [1, 0, 0], [Param::Float(0.0)]);
        circuit.push(Kind::Two("cx"), [0, 1, 0], []);
        circuit.push(Kind::Rotation("rx"), [0, 0, 0], [Param::Float(0.25)]);
        circuit.push(Kind::Rotation("ry"), [1, 0, 0], [Param::Float(0.0)]);
        let open = vec![0, 2];
        let template = Template::new(&circuit, &open);
        Sweep {
            circuit,
            open,
            template,
        }
    }

    fn bound(first: f64, fixed: f64, second: f64) -> Circuit {
        let mut circuit = Circuit {
            qubit_count: 2,
            ..Circuit::default()
        };
        circuit.push(Kind::Fixed("h"), [0, 0, 0], []);
        circuit.push(Kind::Rotation("rz"), [1, 0, 0], [Param::Float(first)]);
        circuit.push(Kind::Two("cx"), [0, 1, 0], []);
        circuit.push(Kind::Rotation("rx"), [0, 0, 0], [Param::Float(fixed)]);
        circuit.push(Kind::Rotation("ry"), [1, 0, 0], [Param::Float(second)]);
        circuit
    }

    #[test]
    fn a_rendered_binding_is_the_bound_circuit_printed() {
        let sweep = sweep();
        assert_eq!(sweep.parameter_count(), 2);
        for values in [[0.5, -1.5], [1e-300, 3.0e100], [-0.0, 0.1 + 0.2]] {
            let printed = print_circuit(&bound(values[0], 0.25, values[1]));
            assert_eq!(sweep.render(&values), printed, "{values:?}");
        }
    }

    #[test]
    fn the_angles_of_a_bound_circuit_are_its_open_parameters_in_order() {
        assert_eq!(
            sweep().angles_of(&bound(0.5, 0.25, -2.0)),
            Some(vec![0.5, -2.0])
        );
    }

    #[test]
    fn a_circuit_that_differs_outside_the_open_parameters_has_no_angles() {
        let sweep = sweep();
        assert_eq!(
            sweep.angles_of(&bound(0.5, 0.75, 1.0)),
            None,
            "a fixed angle"
        );
        assert_eq!(sweep.angles_of(&bound(0.5, -0.25, 1.0)), None, "its sign");
        let mut extra = bound(0.5, 0.25, 1.0);
        extra.push(Kind::Fixed("x"), [0, 0, 0], []);
        assert_eq!(sweep.angles_of(&extra), None, "one gate more");
        let mut moved = bound(0.5, 0.25, 1.0);
        moved.gates[2].qubits = [1, 0, 0];
        assert_eq!(sweep.angles_of(&moved), None, "another qubit");
        let mut text = bound(0.5, 0.25, 1.0);
        text.params[0] = Param::Text("theta".into());
        assert_eq!(
            sweep.angles_of(&text),
            None,
            "a parameter that is not a float"
        );
    }
}
