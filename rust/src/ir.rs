//! The one place that reads QURI Parts circuits into a compact gate IR.
//!
//! Reading needs the GIL; everything downstream (printing, JSON, deflate) works on the IR
//! without it. The IR holds only gates the printer can write: a gate the reference writer
//! refuses is refused here, with the reference's exception type, and never reaches it.
//!
//! Two readers fill it. `direct` reads the gate vector of a `quri_parts_rust` circuit where
//! its guards allow; everything else goes through the public attributes, one gate at a
//! time, touching only what the reference writer touches: `name`, then `target_indices`,
//! `control_indices` or `params`.

use crate::error::CoreError;
use crate::gates;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString, PyTuple};

pub use crate::gates::Kind;

/// Why the reference writer refuses a gate name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// NotImplementedError: SqrtXdag, SqrtY, SqrtYdag.
    NotImplemented,
    /// ValueError: parametric gates.
    Parametric,
    /// ValueError: Pauli and PauliRotation.
    MultiQubit,
    /// Known to QURI Parts but without a branch in the writer (MC*, Measurement,
    /// UnitaryMatrix): the reference fails its `assert False, "Unreachable"`.
    Unconvertible,
    /// ValueError: not a QURI Parts gate name.
    Unknown,
}

impl Refusal {
    /// The error the reference raises for a gate called `name`.
    pub fn into_error(self, name: &str) -> CoreError {
        match self {
            Refusal::NotImplemented => CoreError::NotImplementedGate(name.to_owned()),
            Refusal::Parametric => {
                CoreError::UnsupportedGate(format!("Parametric gates are not supported: {name}"))
            }
            Refusal::MultiQubit => {
                CoreError::UnsupportedGate(format!("multi qubit gates are not supported: {name}"))
            }
            Refusal::Unconvertible => CoreError::UnconvertibleGate(name.to_owned()),
            Refusal::Unknown => CoreError::UnknownGate(name.to_owned()),
        }
    }
}

/// Classifies a gate name exactly as `convert_gate_to_qasm_line` does: a gate of the table
/// (`gates::NATIVE_GATES`), or the reference writer's refusal.
pub fn classify(name: &str) -> Result<Kind, Refusal> {
    if let Some(gate) = gates::by_quri_parts_name(name) {
        return Ok(gate.kind);
    }
    Err(match name {
        "SqrtXdag" | "SqrtY" | "SqrtYdag" => Refusal::NotImplemented,
        "ParametricRX" | "ParametricRY" | "ParametricRZ" | "ParametricPauliRotation" => {
            Refusal::Parametric
        }
        "Pauli" | "PauliRotation" => Refusal::MultiQubit,
        "Measurement" | "UnitaryMatrix" | "MCX" | "MCY" | "MCZ" | "MCH" | "MCRX" | "MCRY"
        | "MCRZ" | "MCS" | "MCSdag" | "MCT" | "MCTdag" | "MCSqrtX" | "MCSqrtXdag" | "MCSqrtY"
        | "MCSqrtYdag" | "MCU1" => Refusal::Unconvertible,
        _ => Refusal::Unknown,
    })
}

/// A gate parameter: a Python float as its value, anything else as the text Python gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Float(f64),
    Text(Box<str>),
}

impl Param {
    /// Whether `other` prints the same: floats bit for bit (`-0.0` is not `0.0`; a NaN is
    /// its own bits), texts as they are.
    pub fn is_identical(&self, other: &Param) -> bool {
        match (self, other) {
            (Param::Float(x), Param::Float(y)) => x.to_bits() == y.to_bits(),
            (Param::Text(x), Param::Text(y)) => x == y,
            _ => false,
        }
    }
}

/// One printable gate. `qubits[..kind.arity()]` are the printed indices; parameters are
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
    /// Whether `other` prints the same text: the same gates, qubits and parameters, floats
    /// compared bit for bit (`-0.0` and `0.0` print differently; a NaN is its own bits).
    pub fn is_identical(&self, other: &Circuit) -> bool {
        self.qubit_count == other.qubit_count
            && self.gates.len() == other.gates.len()
            && self.gates.iter().zip(&other.gates).all(|(a, b)| {
                a.kind == b.kind
                    && a.qubits[..a.kind.arity()] == b.qubits[..b.kind.arity()]
                    && self.gate_params(a).len() == other.gate_params(b).len()
                    && self
                        .gate_params(a)
                        .iter()
                        .zip(other.gate_params(b))
                        .all(|(x, y)| x.is_identical(y))
            })
    }

    pub fn gate_params(&self, gate: &Gate) -> &[Param] {
        let start = gate.param_start as usize;
        &self.params[start..start + gate.param_len as usize]
    }

    /// Appends a gate and its parameters.
    pub fn push(&mut self, kind: Kind, qubits: [i64; 3], params: impl IntoIterator<Item = Param>) {
        let param_start = self.params.len() as u32;
        self.params.extend(params);
        self.gates.push(Gate {
            kind,
            qubits,
            param_start,
            param_len: self.params.len() as u32 - param_start,
        });
    }
}

/// `int(circuit.qubit_count)`, as the reference writer uses it.
pub fn read_qubit_count(circuit: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = circuit.py();
    let qubit_count = circuit.getattr(intern!(py, "qubit_count"))?;
    match qubit_count.extract::<i64>() {
        Ok(n) => Ok(n),
        // `int(circuit.qubit_count)` as the reference does, for float-like counts.
        Err(_) => py.get_type::<PyInt>().call1((qubit_count,))?.extract(),
    }
}

/// The reader of any circuit-like object: `qubit_count`, then each gate's attributes.
pub fn read_through_getters(circuit: &Bound<'_, PyAny>) -> PyResult<Circuit> {
    let py = circuit.py();
    let qubit_count = read_qubit_count(circuit)?;
    let gates = circuit.getattr(intern!(py, "gates"))?;
    let mut out = Circuit {
        qubit_count,
        ..Circuit::default()
    };
    if let Ok(tuple) = gates.cast::<PyTuple>() {
        out.gates.reserve(tuple.len());
        for gate in tuple.iter() {
            read_gate(&gate, &mut out)?;
        }
    } else {
        for gate in gates.try_iter()? {
            read_gate(&gate?, &mut out)?;
        }
    }
    Ok(out)
}

/// The kind of a gate called `name` (a `str`, or anything: refused as unknown).
pub fn kind_of(name: &Bound<'_, PyAny>) -> PyResult<Result<Kind, Refusal>> {
    Ok(match name.cast::<PyString>() {
        Ok(text) => classify(text.to_str()?),
        Err(_) => Err(Refusal::Unknown),
    })
}

fn read_gate(gate: &Bound<'_, PyAny>, out: &mut Circuit) -> PyResult<()> {
    let py = gate.py();
    let name = gate.getattr(intern!(py, "name"))?;
    let kind = match kind_of(&name)? {
        Ok(kind) => kind,
        Err(refusal) => return Err(refusal.into_error(&name.str()?.to_string()).into()),
    };
    let (qubits, params) = read_operands(gate, &name, kind)?;
    out.push(kind, qubits, params);
    Ok(())
}

/// The printed qubits and parameters of a gate of `kind`, read as the reference writer
/// reads them.
pub fn read_operands(
    gate: &Bound<'_, PyAny>,
    name: &Bound<'_, PyAny>,
    kind: Kind,
) -> PyResult<([i64; 3], Vec<Param>)> {
    let py = gate.py();
    let mut qubits = [0i64; 3];
    let mut params = Vec::new();
    match kind {
        Kind::Fixed(_) | Kind::Rotation(_) | Kind::U(_) => {
            let targets = gate.getattr(intern!(py, "target_indices"))?;
            qubits[0] = first_item(&targets, name, "target_indices")?.extract()?;
            if let Kind::Rotation(_) = kind {
                let all = gate.getattr(intern!(py, "params"))?;
                let first = first_item(&all, name, "params")?;
                params.push(read_param(&first, ParamText::Format)?);
            } else if let Kind::U(_) = kind {
                for p in gate.getattr(intern!(py, "params"))?.try_iter()? {
                    params.push(read_param(&p?, ParamText::Str)?);
                }
            }
        }
        Kind::Two(_) | Kind::Three(_) => {
            let arity = kind.arity();
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
    }
    Ok((qubits, params))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printable_name_has_a_kind_and_every_other_a_refusal() {
        assert_eq!(classify("CNOT"), Ok(Kind::Two("cx")));
        assert_eq!(classify("TOFFOLI").map(Kind::arity), Ok(3));
        assert_eq!(classify("SqrtY"), Err(Refusal::NotImplemented));
        assert_eq!(classify("ParametricRZ"), Err(Refusal::Parametric));
        assert_eq!(classify("PauliRotation"), Err(Refusal::MultiQubit));
        assert_eq!(classify("MCX"), Err(Refusal::Unconvertible));
        assert_eq!(classify("cx"), Err(Refusal::Unknown));
        let error = Refusal::Parametric.into_error("ParametricRX");
        assert_eq!(
            error.to_string(),
            "Parametric gates are not supported: ParametricRX"
        );
    }

    #[test]
    fn identical_means_the_same_printed_text_down_to_the_sign_of_zero() {
        let circuit = |angle: f64| {
            let mut circuit = Circuit {
                qubit_count: 2,
                ..Circuit::default()
            };
            circuit.push(Kind::Fixed("h"), [0, 0, 0], []);
            circuit.push(Kind::U("rz"), [1, 0, 0], [Param::Float(angle)]);
            circuit
        };
        assert!(circuit(0.5).is_identical(&circuit(0.5)));
        assert!(circuit(f64::NAN).is_identical(&circuit(f64::NAN)));
        assert!(!circuit(0.0).is_identical(&circuit(-0.0)));
        assert!(!circuit(0.5).is_identical(&circuit(0.25)));
        let mut longer = circuit(0.5);
        longer.push(Kind::Fixed("x"), [0, 0, 0], []);
        assert!(!circuit(0.5).is_identical(&longer));
    }

    #[test]
    fn pushed_gates_own_their_parameters() {
        let mut circuit = Circuit::default();
        circuit.push(
            Kind::U("u2"),
            [3, 0, 0],
            [Param::Float(1.0), Param::Float(2.0)],
        );
        circuit.push(Kind::Fixed("h"), [1, 0, 0], []);
        assert_eq!(circuit.gate_params(&circuit.gates[0]).len(), 2);
        assert!(circuit.gate_params(&circuit.gates[1]).is_empty());
    }
}
