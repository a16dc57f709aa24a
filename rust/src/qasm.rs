//! OpenQASM 3 printer over the gate IR, byte for byte as `quri_parts.openqasm.circuit`
//! writes it. Pure Rust: it runs without the GIL, one circuit per rayon task in batches.
//!
//! A parametric sweep prints its circuit once as a `Template`: the text with its open
//! angles left out, so each binding costs only its angles' text and one copy.

use crate::ir::{Circuit, Gate, Kind, Param};
use crate::text::{write_float_repr, write_int};

const HEADER: &str = "OPENQASM 3;\ninclude \"stdgates.inc\";\n";

/// The OpenQASM 3 text of `circuit`. It always ends with `c = measure q;`, so the
/// reference backend's "add a measurement when there is none" rule never changes it.
pub fn print_circuit(circuit: &Circuit) -> String {
    let mut out = String::with_capacity(64 + circuit.gates.len() * 16 + circuit.params.len() * 20);
    write_circuit(&mut out, circuit, |out, _, param| write_param(out, param));
    out
}

/// Appends the text of `circuit`, each parameter written by `param` (given its index).
fn write_circuit(
    out: &mut String,
    circuit: &Circuit,
    mut param: impl FnMut(&mut String, usize, &Param),
) {
    out.push_str(HEADER);
    out.push_str("qubit[");
    write_int(out, circuit.qubit_count);
    out.push_str("] q;\nbit[");
    write_int(out, circuit.qubit_count);
    out.push_str("] c;\n");
    for gate in &circuit.gates {
        out.push('\n');
        write_gate(out, gate, circuit, &mut param);
    }
    out.push_str("\nc = measure q;");
}

fn write_gate(
    out: &mut String,
    gate: &Gate,
    circuit: &Circuit,
    param: &mut impl FnMut(&mut String, usize, &Param),
) {
    match gate.kind {
        Kind::Fixed(symbol) => {
            out.push_str(symbol);
            out.push(' ');
        }
        Kind::Rotation(symbol) | Kind::U(symbol) => {
            out.push_str(symbol);
            out.push('(');
            let start = gate.param_start as usize;
            for (i, value) in circuit.gate_params(gate).iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                param(out, start + i, value);
            }
            out.push_str(") ");
        }
        Kind::Two(symbol) | Kind::Three(symbol) => {
            out.push_str(symbol);
            out.push(' ');
        }
    }
    for (i, &qubit) in gate.qubits[..gate.kind.arity()].iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("q[");
        write_int(out, qubit);
        out.push(']');
    }
    out.push(';');
}

fn write_param(out: &mut String, param: &Param) {
    match param {
        Param::Float(value) => write_float_repr(out, *value),
        Param::Text(text) => out.push_str(text),
    }
}

/// A circuit's text with some float parameters left open.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    text: String,
    /// Where each open parameter's text goes in `text`, in order.
    holes: Vec<usize>,
}

impl Template {
    /// Prints `circuit` leaving out the parameters at the indices `open` (ascending).
    pub fn new(circuit: &Circuit, open: &[usize]) -> Self {
        let mut text = String::with_capacity(64 + circuit.gates.len() * 16);
        let mut holes = Vec::with_capacity(open.len());
        let mut next = open.iter().peekable();
        write_circuit(&mut text, circuit, |out, index, param| {
            if next.peek() == Some(&&index) {
                next.next();
                holes.push(out.len());
            } else {
                write_param(out, param);
            }
        });
        Template { text, holes }
    }

    /// How many angles `render` takes.
    pub fn holes(&self) -> usize {
        self.holes.len()
    }

    /// The text with `angles` (one per hole, in order) filled in.
    pub fn render(&self, angles: &[f64]) -> String {
        assert_eq!(
            angles.len(),
            self.holes.len(),
            "one angle per open parameter"
        );
        let mut out = String::with_capacity(self.text.len() + 24 * angles.len());
        let mut from = 0;
        for (&at, &angle) in self.holes.iter().zip(angles) {
            out.push_str(&self.text[from..at]);
            write_float_repr(&mut out, angle);
            from = at;
        }
        out.push_str(&self.text[from..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_shape() -> Circuit {
        let mut circuit = Circuit {
            qubit_count: 3,
            ..Circuit::default()
        };
        circuit.push(Kind::Fixed("h"), [0, 0, 0], []);
        circuit.push(Kind::Rotation("rz"), [1, 0, 0], [Param::Float(-0.0)]);
        let u3 = [
            Param::Float(1e-5),
            Param::Float(2.0),
            Param::Text("7".into()),
        ];
        circuit.push(Kind::U("u3"), [2, 0, 0], u3);
        circuit.push(Kind::Two("cx"), [0, 1, 0], []);
        circuit.push(Kind::Three("ccx"), [0, 1, 2], []);
        circuit
    }

    #[test]
    fn empty_circuit_has_header_declarations_and_measurement() {
        let circuit = Circuit {
            qubit_count: 2,
            ..Circuit::default()
        };
        assert_eq!(
            print_circuit(&circuit),
            "OPENQASM 3;\ninclude \"stdgates.inc\";\nqubit[2] q;\nbit[2] c;\n\nc = measure q;"
        );
    }

    #[test]
    fn every_gate_shape_prints_like_quri_parts() {
        let expected = "OPENQASM 3;\ninclude \"stdgates.inc\";\nqubit[3] q;\nbit[3] c;\n\n\
                        h q[0];\nrz(-0.0) q[1];\nu3(1e-05, 2.0, 7) q[2];\ncx q[0], q[1];\n\
                        ccx q[0], q[1], q[2];\nc = measure q;";
        assert_eq!(print_circuit(&every_shape()), expected);
    }

    #[test]
    fn a_template_renders_as_the_circuit_with_those_angles_prints() {
        let circuit = every_shape();
        let template = Template::new(&circuit, &[0, 2]);
        assert_eq!(template.holes(), 2);
        let mut bound = circuit.clone();
        bound.params[0] = Param::Float(0.125);
        bound.params[2] = Param::Float(-1e300);
        assert_eq!(template.render(&[0.125, -1e300]), print_circuit(&bound));
        assert_eq!(
            Template::new(&circuit, &[]).render(&[]),
            print_circuit(&circuit)
        );
    }
}
