//! OpenQASM 3 printer over the gate IR, byte for byte as `quri_parts.openqasm.circuit`
//! writes it. Pure Rust: it runs without the GIL, one circuit per rayon task in batches.

use crate::floatfmt::write_float_repr;
use crate::ir::{Circuit, Gate, Kind, Param};

const HEADER: &str = "OPENQASM 3;\ninclude \"stdgates.inc\";\n";

/// The OpenQASM 3 text of `circuit`. It always ends with `c = measure q;`, so the
/// reference backend's "add a measurement when there is none" rule never changes it.
pub fn print_circuit(circuit: &Circuit) -> String {
    let mut out = String::with_capacity(64 + circuit.gates.len() * 16 + circuit.params.len() * 20);
    write_circuit(&mut out, circuit);
    out
}

/// Appends the OpenQASM 3 text of `circuit` to `out`.
pub fn write_circuit(out: &mut String, circuit: &Circuit) {
    out.push_str(HEADER);
    out.push_str("qubit[");
    write_int(out, circuit.qubit_count);
    out.push_str("] q;\nbit[");
    write_int(out, circuit.qubit_count);
    out.push_str("] c;\n");
    for gate in &circuit.gates {
        out.push('\n');
        write_gate(out, gate, circuit.gate_params(gate));
    }
    out.push_str("\nc = measure q;");
}

fn write_gate(out: &mut String, gate: &Gate, params: &[Param]) {
    match gate.kind {
        Kind::Fixed(symbol) => {
            out.push_str(symbol);
            out.push(' ');
            write_qubit(out, gate.qubits[0]);
        }
        Kind::Rotation(symbol) | Kind::U(symbol) => {
            out.push_str(symbol);
            out.push('(');
            for (i, param) in params.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match param {
                    Param::Float(value) => write_float_repr(out, *value),
                    Param::Text(text) => out.push_str(text),
                }
            }
            out.push_str(") ");
            write_qubit(out, gate.qubits[0]);
        }
        Kind::Two(symbol) | Kind::Three(symbol) => {
            let arity = if matches!(gate.kind, Kind::Two(_)) {
                2
            } else {
                3
            };
            out.push_str(symbol);
            out.push(' ');
            for (i, &qubit) in gate.qubits[..arity].iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_qubit(out, qubit);
            }
        }
        Kind::NotImplemented
        | Kind::Parametric
        | Kind::MultiQubit
        | Kind::Unconvertible
        | Kind::Unknown => unreachable!("the reader refuses {:?} gates", gate.kind),
    }
    out.push(';');
}

fn write_qubit(out: &mut String, index: i64) {
    out.push_str("q[");
    write_int(out, index);
    out.push(']');
}

/// Decimal text of `value`, without going through `fmt`.
pub fn write_int(out: &mut String, value: i64) {
    // Qubit indices are mostly one or two digits.
    if (0..10).contains(&value) {
        out.push(char::from(b'0' + value as u8));
        return;
    }
    if (10..100).contains(&value) {
        out.push(char::from(b'0' + (value / 10) as u8));
        out.push(char::from(b'0' + (value % 10) as u8));
        return;
    }
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut rest = value.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    for &digit in &buf[pos..] {
        out.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(kind: Kind, qubits: [i64; 3], param_start: u32, param_len: u32) -> Gate {
        Gate {
            kind,
            qubits,
            param_start,
            param_len,
        }
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
        let circuit = Circuit {
            qubit_count: 3,
            gates: vec![
                gate(Kind::Fixed("h"), [0, 0, 0], 0, 0),
                gate(Kind::Rotation("rz"), [1, 0, 0], 0, 1),
                gate(Kind::U("u3"), [2, 0, 0], 1, 3),
                gate(Kind::Two("cx"), [0, 1, 0], 4, 0),
                gate(Kind::Three("ccx"), [0, 1, 2], 4, 0),
            ],
            params: vec![
                Param::Float(-0.0),
                Param::Float(1e-5),
                Param::Float(2.0),
                Param::Text("7".into()),
            ],
        };
        let expected = "OPENQASM 3;\ninclude \"stdgates.inc\";\nqubit[3] q;\nbit[3] c;\n\n\
                        h q[0];\nrz(-0.0) q[1];\nu3(1e-05, 2.0, 7) q[2];\ncx q[0], q[1];\n\
                        ccx q[0], q[1], q[2];\nc = measure q;";
        assert_eq!(print_circuit(&circuit), expected);
    }

    #[test]
    fn integers_print_in_decimal() {
        let mut out = String::new();
        for v in [
            0,
            7,
            10,
            42,
            99,
            100,
            -1,
            -10,
            1234567890,
            i64::MIN,
            i64::MAX,
        ] {
            out.clear();
            write_int(&mut out, v);
            assert_eq!(out, v.to_string());
        }
    }
}
