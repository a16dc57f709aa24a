//! Any text through the OpenQASM reader: an error or a program whose indices are in range.
#![no_main]

use _core::qasm_parse::{parse_qasm, OpKind, MAX_BITS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(program) = parse_qasm(text) else {
        return;
    };
    assert!((1..=MAX_BITS).contains(&program.n_qubits));
    for op in &program.ops {
        match &op.kind {
            OpKind::Gate { qubits, params, .. } => {
                assert!(qubits.iter().all(|&q| q < program.n_qubits));
                assert!(params.iter().all(|p| p.is_finite()));
            }
            OpKind::Measure { qubit, clbit } => {
                assert!(*qubit < program.n_qubits && *clbit < program.n_clbits);
            }
            OpKind::Reset { qubit } => assert!(*qubit < program.n_qubits),
            OpKind::Barrier { qubits } => assert!(qubits.iter().all(|&q| q < program.n_qubits)),
        }
    }
});
