//! The gates the reader knows, and how each becomes QURI Parts native gates.
//! Every decomposition is exact: see the unit tests and tests/test_qasm_reader.py, which
//! compare each gate with its textbook matrix.

use super::{Op, OpKind};
use crate::gates::{NATIVE_GATES, READ_ONLY_GATES};
use std::f64::consts::PI;

/// A one-qubit native gate and its parameters, used as a change of basis.
type Basis = (&'static str, &'static [f64]);

/// Appends native gates for one statement.
pub(super) struct Emitter<'a> {
    pub(super) ops: &'a mut Vec<Op>,
    pub(super) line: usize,
}

impl Emitter<'_> {
    pub(super) fn gate(&mut self, name: &'static str, qubits: &[usize], params: &[f64]) {
        let kind = OpKind::Gate {
            name,
            qubits: qubits.to_vec(),
            params: params.to_vec(),
        };
        self.ops.push(Op {
            line: self.line,
            kind,
        });
    }

    /// Controlled U1(λ), exact: diag(1, 1, 1, e^{iλ}).
    fn cphase(&mut self, c: usize, t: usize, lam: f64) {
        self.gate("U1", &[c], &[lam / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
        self.gate("U1", &[t], &[-lam / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
        self.gate("U1", &[t], &[lam / 2.0]);
    }

    /// Controlled rotation about Z or Y (`axis` "RZ"/"RY"), exact: X·R(-θ/2)·X = R(θ/2).
    fn crot(&mut self, axis: &'static str, c: usize, t: usize, theta: f64) {
        self.gate(axis, &[t], &[theta / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
        self.gate(axis, &[t], &[-theta / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
    }

    fn crx(&mut self, c: usize, t: usize, theta: f64) {
        self.gate("H", &[t], &[]);
        self.crot("RZ", c, t, theta);
        self.gate("H", &[t], &[]);
    }

    /// Controlled U(θ, φ, λ) (= QURI Parts U3), exact including the relative phase.
    fn cu3(&mut self, c: usize, t: usize, p: &[f64]) {
        let (theta, phi, lam) = (p[0], p[1], p[2]);
        self.gate("U1", &[c], &[(lam + phi) / 2.0]);
        self.gate("U1", &[t], &[(lam - phi) / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
        self.gate("U3", &[t], &[-theta / 2.0, 0.0, -(phi + lam) / 2.0]);
        self.gate("CNOT", &[c, t], &[]);
        self.gate("U3", &[t], &[theta / 2.0, phi, 0.0]);
    }

    /// exp(-iθ/2 Z⊗Z), exact.
    fn rzz(&mut self, a: usize, b: usize, theta: f64) {
        self.gate("CNOT", &[a, b], &[]);
        self.gate("RZ", &[b], &[theta]);
        self.gate("CNOT", &[a, b], &[]);
    }

    /// exp(-iθ/2 P⊗P) as rzz between a basis change `into` and its inverse `out` (rxx, ryy).
    fn rpp(&mut self, q: &[usize], theta: f64, into: Basis, out: Basis) {
        for &qubit in q {
            self.gate(into.0, &[qubit], into.1);
        }
        self.rzz(q[0], q[1], theta);
        for &qubit in q {
            self.gate(out.0, &[qubit], out.1);
        }
    }
}

pub(super) type Emit = fn(&mut Emitter<'_>, &[usize], &[f64]);

/// One gate the reader knows: its QASM name, parameter and qubit counts, and how to emit it.
pub(super) struct GateDef {
    pub(super) name: &'static str,
    pub(super) n_params: usize,
    pub(super) n_qubits: usize,
    emit: Emit,
}

const fn def(name: &'static str, n_params: usize, n_qubits: usize, emit: Emit) -> GateDef {
    GateDef {
        name,
        n_params,
        n_qubits,
        emit,
    }
}

/// QASM names the reader maps one-to-one onto a QURI Parts native gate besides those of the
/// gate table (`crate::gates`, the names the writer prints and `sxdg`, which it refuses to
/// print): `stdgates.inc`'s aliases.
pub(super) const ALIASES: &[(&str, &str, usize, usize)] = &[
    ("p", "U1", 1, 1),
    ("phase", "U1", 1, 1),
    ("u", "U3", 3, 1),
    ("U", "U3", 3, 1),
    ("CX", "CNOT", 0, 2),
];

/// Every QASM name that maps onto one native gate: (QASM name, QURI Parts name, parameter
/// count, qubit count), the gate table's first.
pub(super) fn natives() -> impl Iterator<Item = (&'static str, &'static str, usize, usize)> {
    let table = NATIVE_GATES
        .iter()
        .chain(READ_ONLY_GATES)
        .map(|g| (g.kind.qasm_name(), g.quri_parts, g.n_params, g.kind.arity()));
    table.chain(ALIASES.iter().copied())
}

/// Gates decomposed into native ones; each decomposition is exact (see the unit tests and
/// tests/test_qasm_reader.py, which compare against textbook matrices).
pub(super) const DECOMPOSED: &[GateDef] = &[
    def("cy", 0, 2, |e, q, _| {
        e.gate("Sdag", &q[1..], &[]);
        e.gate("CNOT", q, &[]);
        e.gate("S", &q[1..], &[]);
    }),
    // H = RY(π/4)·Z·RY(-π/4)
    def("ch", 0, 2, |e, q, _| {
        e.gate("RY", &q[1..], &[-PI / 4.0]);
        e.gate("CZ", q, &[]);
        e.gate("RY", &q[1..], &[PI / 4.0]);
    }),
    def("cp", 1, 2, |e, q, p| e.cphase(q[0], q[1], p[0])),
    def("cphase", 1, 2, |e, q, p| e.cphase(q[0], q[1], p[0])),
    def("cu1", 1, 2, |e, q, p| e.cphase(q[0], q[1], p[0])),
    def("cs", 0, 2, |e, q, _| e.cphase(q[0], q[1], PI / 2.0)),
    def("csdg", 0, 2, |e, q, _| e.cphase(q[0], q[1], -PI / 2.0)),
    def("crz", 1, 2, |e, q, p| e.crot("RZ", q[0], q[1], p[0])),
    def("cry", 1, 2, |e, q, p| e.crot("RY", q[0], q[1], p[0])),
    def("crx", 1, 2, |e, q, p| e.crx(q[0], q[1], p[0])),
    // SX = e^{iπ/4}·RX(π/2); the phase becomes a U1 on the control
    def("csx", 0, 2, |e, q, _| {
        e.gate("U1", &q[..1], &[PI / 4.0]);
        e.crx(q[0], q[1], PI / 2.0);
    }),
    def("cu3", 3, 2, |e, q, p| e.cu3(q[0], q[1], p)),
    // cu(θ, φ, λ, γ) c, t = p(γ) c; ctrl @ U(θ, φ, λ) c, t
    def("cu", 4, 2, |e, q, p| {
        e.gate("U1", &q[..1], &[p[3]]);
        e.cu3(q[0], q[1], &p[..3]);
    }),
    def("rzz", 1, 2, |e, q, p| e.rzz(q[0], q[1], p[0])),
    def("rxx", 1, 2, |e, q, p| {
        e.rpp(q, p[0], ("H", &[]), ("H", &[]))
    }),
    def("ryy", 1, 2, |e, q, p| {
        e.rpp(q, p[0], ("RX", &[PI / 2.0]), ("RX", &[-PI / 2.0]));
    }),
    def("ccz", 0, 3, |e, q, _| {
        e.gate("H", &q[2..], &[]);
        e.gate("TOFFOLI", q, &[]);
        e.gate("H", &q[2..], &[]);
    }),
    def("cswap", 0, 3, |e, q, _| {
        e.gate("CNOT", &[q[2], q[1]], &[]);
        e.gate("TOFFOLI", q, &[]);
        e.gate("CNOT", &[q[2], q[1]], &[]);
    }),
];

/// Looks a QASM gate name up: (parameter count, qubit count, how to emit it).
pub(super) fn lookup_gate(name: &str) -> Option<(usize, usize, GateAction)> {
    if let Some((_, native, n_params, n_qubits)) = natives().find(|g| g.0 == name) {
        return Some((n_params, n_qubits, GateAction::Native(native)));
    }
    DECOMPOSED
        .iter()
        .find(|g| g.name == name)
        .map(|g| (g.n_params, g.n_qubits, GateAction::Decomposed(g.emit)))
}

#[derive(Clone, Copy)]
pub(super) enum GateAction {
    Native(&'static str),
    Decomposed(Emit),
}
