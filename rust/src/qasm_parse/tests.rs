//! Unit tests of the OpenQASM reader (a child module of `qasm_parse`).

use super::gates::{natives, DECOMPOSED};
use super::*;
use std::f64::consts::{E, PI};

fn gates(program: &Program) -> Vec<(&'static str, Vec<usize>, Vec<f64>)> {
    program
        .ops
        .iter()
        .filter_map(|op| match &op.kind {
            OpKind::Gate {
                name,
                qubits,
                params,
            } => Some((*name, qubits.clone(), params.clone())),
            _ => None,
        })
        .collect()
}

fn error_of(src: &str) -> String {
    match parse_qasm(src) {
        Err(CoreError::InvalidQasm(msg)) => msg,
        other => panic!("expected a QASM error for {src:?}, got {other:?}"),
    }
}

const HEADER: &str = "OPENQASM 3;\ninclude \"stdgates.inc\";\n";

#[test]
fn quri_parts_output_is_read_in_order() {
    let src = format!(
        "{HEADER}qubit[2] q;\nbit[2] c;\n\nh q[0];\ncx q[0], q[1];\nrz(0.5) q[1];\nc = measure q;"
    );
    let program = parse_qasm(&src).unwrap();
    assert_eq!((program.n_qubits, program.n_clbits), (2, 2));
    assert_eq!(
        gates(&program),
        vec![
            ("H", vec![0], vec![]),
            ("CNOT", vec![0, 1], vec![]),
            ("RZ", vec![1], vec![0.5]),
        ]
    );
    let measures: Vec<_> = program.ops[3..]
        .iter()
        .map(|op| (op.line, op.kind.clone()))
        .collect();
    assert_eq!(
        measures,
        vec![
            (9, OpKind::Measure { qubit: 0, clbit: 0 }),
            (9, OpKind::Measure { qubit: 1, clbit: 1 }),
        ]
    );
}

#[test]
fn several_registers_take_consecutive_indices() {
    let src = "OPENQASM 3.0;\nqubit[2] a;\nqubit b;\nbit c;\nbit[2] d;\ncx a[1], b;\nd[1] = measure b;\nmeasure a[0] -> c;";
    let program = parse_qasm(src).unwrap();
    assert_eq!((program.n_qubits, program.n_clbits), (3, 3));
    assert_eq!(gates(&program), vec![("CNOT", vec![1, 2], vec![])]);
    assert_eq!(program.ops[1].kind, OpKind::Measure { qubit: 2, clbit: 2 });
    assert_eq!(program.ops[2].kind, OpKind::Measure { qubit: 0, clbit: 0 });
}

#[test]
fn old_style_registers_and_arrow_measure() {
    let src = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\nmeasure q -> c;\nreset q[1];\nbarrier q;";
    let program = parse_qasm(src).unwrap();
    assert_eq!(program.ops.len(), 4);
    assert_eq!(program.ops[2].kind, OpKind::Reset { qubit: 1 });
    assert_eq!(program.ops[3].kind, OpKind::Barrier { qubits: vec![0, 1] });
}

#[test]
fn whole_register_gates_broadcast() {
    let program = parse_qasm("qubit[2] a; qubit[2] b; h a; cx a, b; cz a[0], b;").unwrap();
    let names: Vec<_> = gates(&program).into_iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(
        names,
        vec![
            ("H", vec![0]),
            ("H", vec![1]),
            ("CNOT", vec![0, 2]),
            ("CNOT", vec![1, 3]),
            ("CZ", vec![0, 2]),
            ("CZ", vec![0, 3]),
        ]
    );
}

fn param(expr: &str) -> f64 {
    let program = parse_qasm(&format!("qubit q; rz({expr}) q;")).unwrap();
    gates(&program)[0].2[0]
}

#[test]
fn parameter_expressions_follow_precedence() {
    let cases: &[(&str, f64)] = &[
        ("1e-05", 1e-05),
        ("-0.0", -0.0),
        ("pi/2", PI / 2.0),
        ("π", PI),
        ("tau - 2*pi", 0.0),
        ("euler", E),
        ("-2**2", -4.0),
        ("2**3**2", 512.0),
        ("(1+2)*3", 9.0),
        ("1 - 2 - 3", -4.0),
        ("8 / 4 / 2", 1.0),
        ("sin(pi/2) + cos(0) + tan(0)", 2.0),
        ("exp(ln(3))", 3.0),
        ("sqrt(16)", 4.0),
        ("- -1.5", 1.5),
        (".5e1", 5.0),
    ];
    for (expr, want) in cases {
        let got = param(expr);
        assert!((got - want).abs() < 1e-12, "{expr}: got {got}, want {want}");
    }
    assert!(param("-0.0").is_sign_negative(), "-0.0 keeps its sign");
}

#[test]
fn non_finite_parameters_are_refused() {
    for expr in ["1/0", "ln(-1)", "sqrt(-1)", "10**400"] {
        let msg = error_of(&format!("qubit q;\nrx({expr}) q;"));
        assert!(
            msg.starts_with("line 2:") && msg.contains(expr),
            "{expr}: {msg}"
        );
    }
}

#[test]
fn comments_are_skipped_and_lines_counted() {
    let src = "// header\nOPENQASM 3; /* a\nblock\ncomment */ qubit q;\nfoo q;";
    let msg = error_of(src);
    assert!(msg.starts_with("line 5: unknown gate 'foo'"), "{msg}");
    assert!(msg.ends_with("`foo q;`"), "{msg}");
}

#[test]
fn every_refusal_names_its_line_and_text() {
    let cases: &[(&str, &str)] = &[
        (
            "qubit q;\ngate g a { x a; }",
            "line 2: unsupported statement 'gate'",
        ),
        (
            "qubit q; bit c;\nif (c == 1) x q;",
            "line 2: unsupported statement 'if'",
        ),
        (
            "qubit q;\nfor i in [0:2] { x q; }",
            "line 2: unsupported statement 'for'",
        ),
        ("qubit[2] q;\nx q[2];", "line 2: index 2 out of range"),
        ("qubit q;\nx r[0];", "line 2: undeclared qubit register 'r'"),
        (
            "qubit q;\nbit c;\nmeasure q -> d;",
            "line 3: undeclared bit register 'd'",
        ),
        (
            "qubit q;\nbit c;\nx c;",
            "line 3: 'c' is not a qubit register",
        ),
        (
            "qubit[2] q;\ncx q[0], q[0];",
            "line 2: gate 'cx' uses the same qubit twice",
        ),
        (
            "qubit q;\nrx q;",
            "line 2: gate 'rx' takes 1 parameter(s), got 0",
        ),
        ("qubit q;\nx q", "line 2: statement does not end with ';'"),
        ("qubit q;\nqubit q;", "line 2: 'q' is already declared"),
        (
            "qubit q;\ninclude \"other.inc\";",
            "line 2: cannot include 'other.inc'",
        ),
        (
            "qubit q;\nOPENQASM 3;",
            "line 2: the version statement must come first",
        ),
        ("OPENQASM 4;", "line 1: unsupported OpenQASM version"),
        ("qubit q;\n/* open", "line 2: unterminated block comment"),
        (
            "qubit[2] q; bit c;\nc = measure q;",
            "line 2: measure needs a qubit and a bit",
        ),
        (
            "qubit q;\nmeasure q;",
            "line 2: measure without a target bit",
        ),
        (
            "qubit q;\nrx(theta) q;",
            "line 2: unknown identifier 'theta'",
        ),
        ("qubit[0] q;", "line 1: register size must be"),
        (
            "qubit q;\nctrl @ x q;",
            "line 2: unsupported statement 'ctrl'",
        ),
    ];
    for (src, want) in cases {
        let msg = error_of(src);
        assert!(msg.starts_with(want), "{src:?}: {msg}");
        assert!(msg.ends_with('`'), "{src:?} quotes its text: {msg}");
    }
}

#[test]
fn program_without_qubits_is_refused() {
    assert!(matches!(
        parse_qasm("OPENQASM 3;"),
        Err(CoreError::InvalidQasm(_))
    ));
}

#[test]
fn physical_qubits_size_the_program() {
    let program = parse_qasm("bit[2] c;\nh $0;\ncx $0, $3;\nc[1] = measure $3;").unwrap();
    assert_eq!(program.n_qubits, 4);
    assert!(error_of("qubit q;\nx $1;").starts_with("line 2: cannot mix"));
}

#[test]
fn every_known_gate_emits_only_native_gates() {
    let native_names: Vec<&str> = natives().map(|g| g.1).collect();
    let names = natives().map(|g| (g.0, g.2, g.3));
    let all = names.chain(DECOMPOSED.iter().map(|g| (g.name, g.n_params, g.n_qubits)));
    for (name, n_params, n_qubits) in all {
        let params: Vec<_> = (0..n_params).map(|i| format!("0.{}", i + 1)).collect();
        let qubits: Vec<_> = (0..n_qubits).map(|i| format!("q[{i}]")).collect();
        let src = format!(
            "qubit[3] q;\n{name}({}) {};",
            params.join(", "),
            qubits.join(", ")
        );
        let program = parse_qasm(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(!program.ops.is_empty(), "{name} emits nothing");
        for (native, qubits, _) in gates(&program) {
            assert!(native_names.contains(&native), "{name} emits {native}");
            assert!(
                qubits.iter().all(|&q| q < n_qubits),
                "{name} strays to {qubits:?}"
            );
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let msg = error_of(&format!("qubit q;\nrx({deep}) q;"));
    assert!(
        msg.starts_with("line 2: expression nested deeper than"),
        "{}",
        &msg[..80]
    );
    let signs = "-".repeat(100_000);
    assert!(error_of(&format!("qubit q; rx({signs}1) q;")).contains("nested deeper"));
    assert_eq!(
        param(&format!("{}1{}", "(".repeat(60), ")".repeat(60))),
        1.0
    );
}

#[test]
fn reset_of_a_register_resets_every_qubit() {
    let program = parse_qasm("qubit[2] q;\nreset q;").unwrap();
    let kinds: Vec<_> = program.ops.iter().map(|op| op.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![OpKind::Reset { qubit: 0 }, OpKind::Reset { qubit: 1 }]
    );
}

#[test]
fn programs_expanding_past_the_operand_bound_are_refused() {
    // Found by tests/test_native_fuzz.py: 224 bytes of broadcast `cu` calls expanded into
    // 2.3 million gates (1.3 GB); a few kilobytes of `barrier;` asked for tens of gigabytes.
    let cu = format!(
        "{HEADER}qubit[32768] q;\nqubit[32768] r;\n{}",
        "cu(1, 2, 3, 4) q, r;\n".repeat(20)
    );
    let msg = error_of(&cu);
    assert!(msg.contains("more than 2097152 qubit operands"), "{msg}");
    assert!(msg.starts_with("line 12"), "{msg}"); // 9 operands x 32768 per call: the 8th passes 2**21
    let barriers = format!("{HEADER}qubit[65536] q;\n{}", "barrier;\n".repeat(40));
    assert!(error_of(&barriers).contains("qubit operands"));
    // Up to the bound, broadcasting still works.
    let within = format!("{HEADER}qubit[65536] q;\n{}", "h q;\n".repeat(32));
    assert_eq!(parse_qasm(&within).unwrap().ops.len(), 32 * 65536);
}
