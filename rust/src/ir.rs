//! The one place that reads QURI Parts circuits into a compact gate IR.
//!
//! Reading needs the GIL; everything downstream (printing, JSON, deflate) works on the IR
//! without it. Each gate is read once, touching only the attributes its kind needs:
//! `name` (classified by pointer, since QURI Parts hands out the same `str` each time),
//! then `target_indices`, `control_indices` or `params` as the reference writer uses them.

use crate::error::CoreError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyString, PyTuple};

/// How the reference writer treats a gate name (see `quri_parts.openqasm.circuit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `x q[0];` and the other parameterless single-qubit stdgates.
    Fixed(&'static str),
    /// `rx(0.5) q[0];`: the first parameter only.
    Rotation(&'static str),
    /// `u3(1.0, 2.0, 3.0) q[0];`: every parameter.
    U(&'static str),
    /// `cx q[0], q[1];`: controls then targets, exactly two qubits.
    Two(&'static str),
    /// `ccx q[0], q[1], q[2];`: controls then targets, exactly three qubits.
    Three(&'static str),
    /// Refused with NotImplementedError (SqrtXdag, SqrtY, SqrtYdag).
    NotImplemented,
    /// Refused with ValueError: parametric gates.
    Parametric,
    /// Refused with ValueError: Pauli and PauliRotation.
    MultiQubit,
    /// Known to QURI Parts but without a branch in the writer (MC*, Measurement,
    /// UnitaryMatrix): the reference fails its `assert False, "Unreachable"`.
    Unconvertible,
    /// Not a QURI Parts gate name.
    Unknown,
}

/// Classifies a gate name exactly as `convert_gate_to_qasm_line` does.
pub fn classify(name: &str) -> Kind {
    match name {
        "Identity" => Kind::Fixed("id"),
        "X" => Kind::Fixed("x"),
        "Y" => Kind::Fixed("y"),
        "Z" => Kind::Fixed("z"),
        "H" => Kind::Fixed("h"),
        "S" => Kind::Fixed("s"),
        "SqrtX" => Kind::Fixed("sx"),
        "Sdag" => Kind::Fixed("sdg"),
        "T" => Kind::Fixed("t"),
        "Tdag" => Kind::Fixed("tdg"),
        "RX" => Kind::Rotation("rx"),
        "RY" => Kind::Rotation("ry"),
        "RZ" => Kind::Rotation("rz"),
        "U1" => Kind::U("u1"),
        "U2" => Kind::U("u2"),
        "U3" => Kind::U("u3"),
        "CNOT" => Kind::Two("cx"),
        "CZ" => Kind::Two("cz"),
        "SWAP" => Kind::Two("swap"),
        "TOFFOLI" => Kind::Three("ccx"),
        "SqrtXdag" | "SqrtY" | "SqrtYdag" => Kind::NotImplemented,
        "ParametricRX" | "ParametricRY" | "ParametricRZ" | "ParametricPauliRotation" => {
            Kind::Parametric
        }
        "Pauli" | "PauliRotation" => Kind::MultiQubit,
        "Measurement" | "UnitaryMatrix" | "MCX" | "MCY" | "MCZ" | "MCH" | "MCRX" | "MCRY"
        | "MCRZ" | "MCS" | "MCSdag" | "MCT" | "MCTdag" | "MCSqrtX" | "MCSqrtXdag" | "MCSqrtY"
        | "MCSqrtYdag" | "MCU1" => Kind::Unconvertible,
        _ => Kind::Unknown,
    }
}

/// A gate parameter: a Python float as its value, anything else as the text Python gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Float(f64),
    Text(Box<str>),
}

/// One printable gate. `qubits[..arity]` are the printed indices; parameters are
/// `Circuit::params[param_start..param_start + param_len]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    pub kind: Kind,
    pub qubits: [i64; 3],
    pub param_start: u32,
    pub param_len: u32,
}

/// A circuit as the printer needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Circuit {
    pub qubit_count: i64,
    pub gates: Vec<Gate>,
    pub params: Vec<Param>,
}

impl Circuit {
    pub fn gate_params(&self, gate: &Gate) -> &[Param] {
        let start = gate.param_start as usize;
        &self.params[start..start + gate.param_len as usize]
    }
}

/// Reads circuits; keeps the names it has classified so the next gate with the same
/// `str` object costs one pointer comparison.
pub struct CircuitReader<'py> {
    py: Python<'py>,
    known_names: Vec<(Bound<'py, PyAny>, Kind)>,
}

const NAME_CACHE_LIMIT: usize = 64;

impl<'py> CircuitReader<'py> {
    pub fn new(py: Python<'py>) -> Self {
        CircuitReader {
            py,
            known_names: Vec::with_capacity(16),
        }
    }

    /// Reads `circuit.qubit_count` and every gate of `circuit.gates`, in order, raising
    /// the reference writer's exception at the first gate it refuses.
    pub fn read(&mut self, circuit: &Bound<'py, PyAny>) -> PyResult<Circuit> {
        let py = self.py;
        let qubit_count = circuit.getattr(intern!(py, "qubit_count"))?;
        let qubit_count = match qubit_count.extract::<i64>() {
            Ok(n) => n,
            // `int(circuit.qubit_count)` as the reference does, for float-like counts.
            Err(_) => py
                .get_type::<pyo3::types::PyInt>()
                .call1((qubit_count,))?
                .extract()?,
        };
        let gates = circuit.getattr(intern!(py, "gates"))?;
        let mut out = Circuit {
            qubit_count,
            ..Circuit::default()
        };
        if let Ok(tuple) = gates.cast::<PyTuple>() {
            out.gates.reserve(tuple.len());
            for gate in tuple.iter() {
                self.read_gate(&gate, &mut out)?;
            }
        } else {
            for gate in gates.try_iter()? {
                self.read_gate(&gate?, &mut out)?;
            }
        }
        Ok(out)
    }

    fn kind_of(&mut self, name: &Bound<'py, PyAny>) -> PyResult<Kind> {
        if let Some((_, kind)) = self.known_names.iter().find(|(n, _)| n.is(name)) {
            return Ok(*kind);
        }
        let kind = match name.cast::<PyString>() {
            Ok(s) => classify(s.to_str()?),
            Err(_) => Kind::Unknown,
        };
        if self.known_names.len() < NAME_CACHE_LIMIT {
            self.known_names.push((name.clone(), kind));
        }
        Ok(kind)
    }

    fn read_gate(&mut self, gate: &Bound<'py, PyAny>, out: &mut Circuit) -> PyResult<()> {
        let py = self.py;
        let name = gate.getattr(intern!(py, "name"))?;
        let kind = self.kind_of(&name)?;
        let mut qubits = [0i64; 3];
        let param_start = out.params.len() as u32;
        match kind {
            Kind::Fixed(_) | Kind::Rotation(_) | Kind::U(_) => {
                let targets = gate.getattr(intern!(py, "target_indices"))?;
                qubits[0] = first_item(&targets, &name, "target_indices")?.extract()?;
                if let Kind::Rotation(_) = kind {
                    let params = gate.getattr(intern!(py, "params"))?;
                    let first = first_item(&params, &name, "params")?;
                    out.params.push(read_param(&first, ParamText::Format)?);
                } else if let Kind::U(_) = kind {
                    for p in gate.getattr(intern!(py, "params"))?.try_iter()? {
                        out.params.push(read_param(&p?, ParamText::Str)?);
                    }
                }
            }
            Kind::Two(_) | Kind::Three(_) => {
                let arity = if matches!(kind, Kind::Two(_)) { 2 } else { 3 };
                let controls = gate.getattr(intern!(py, "control_indices"))?;
                let targets = gate.getattr(intern!(py, "target_indices"))?;
                let mut count = 0usize;
                for sequence in [&controls, &targets] {
                    read_indices(sequence, &mut qubits[..arity], &mut count)?;
                }
                if count != arity {
                    return Err(CoreError::UnsupportedGate(format!(
                        "{} gate acts on {count} qubits, expected {arity}",
                        name.str()?
                    ))
                    .into());
                }
            }
            Kind::NotImplemented => {
                return Err(CoreError::NotImplementedGate(name.str()?.to_string()).into())
            }
            Kind::Parametric => {
                return Err(CoreError::UnsupportedGate(format!(
                    "Parametric gates are not supported: {}",
                    name.str()?
                ))
                .into())
            }
            Kind::MultiQubit => {
                return Err(CoreError::UnsupportedGate(format!(
                    "multi qubit gates are not supported: {}",
                    name.str()?
                ))
                .into())
            }
            Kind::Unconvertible => {
                return Err(CoreError::UnconvertibleGate(name.str()?.to_string()).into())
            }
            Kind::Unknown => {
                return Err(CoreError::UnknownGate(name.str()?.to_string()).into());
            }
        }
        out.gates.push(Gate {
            kind,
            qubits,
            param_start,
            param_len: out.params.len() as u32 - param_start,
        });
        Ok(())
    }
}

/// Appends the indices of `sequence` to `qubits` from `count` on (tuples without an
/// iterator object); `count` ends as the number of indices seen, even past the slots.
fn read_indices(
    sequence: &Bound<'_, PyAny>,
    qubits: &mut [i64],
    count: &mut usize,
) -> PyResult<()> {
    let mut store = |index: Borrowed<'_, '_, PyAny>| -> PyResult<()> {
        if let Some(slot) = qubits.get_mut(*count) {
            *slot = index.extract()?;
        }
        *count += 1;
        Ok(())
    };
    if let Ok(tuple) = sequence.cast::<PyTuple>() {
        for i in 0..tuple.len() {
            store(tuple.get_borrowed_item(i)?)?;
        }
    } else {
        for index in sequence.try_iter()? {
            store(index?.as_borrowed())?;
        }
    }
    Ok(())
}

/// `sequence[0]`, raising IndexError naming the gate when it is empty (as the reference does).
fn first_item<'py>(
    sequence: &Bound<'py, PyAny>,
    name: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(tuple) = sequence.cast::<PyTuple>() {
        if tuple.is_empty() {
            return Err(
                CoreError::MissingOperand(format!("{} gate has no {what}", name.str()?)).into(),
            );
        }
        return Ok(tuple.get_borrowed_item(0)?.to_owned());
    }
    sequence.get_item(0)
}

#[derive(Clone, Copy)]
enum ParamText {
    Format,
    Str,
}

/// A parameter as the reference prints it: a float by value, anything else through
/// `format(p, "")` (rotations) or `str(p)` (U gates).
fn read_param(param: &Bound<'_, PyAny>, how: ParamText) -> PyResult<Param> {
    if let Ok(f) = param.cast_exact::<PyFloat>() {
        return Ok(Param::Float(f.value()));
    }
    let text = match how {
        ParamText::Format => param.call_method1(intern!(param.py(), "__format__"), ("",))?,
        ParamText::Str => param.str()?.into_any(),
    };
    Ok(Param::Text(text.cast::<PyString>()?.to_str()?.into()))
}
