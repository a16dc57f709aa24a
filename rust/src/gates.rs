//! The one gate table of the native core: every QURI Parts native gate the package prints or
//! reads, its OpenQASM 3 (`stdgates.inc`) name, the shape of its printed line, and where the
//! direct read finds it in `quri_parts_rust`'s gate enum.
//!
//! The writer (`ir::classify`), the direct read (`direct`'s tag table) and the OpenQASM
//! reader (`qasm_parse::gates`, which adds only its aliases and decompositions) all derive
//! their tables from this one.

/// A gate the printer can write, as `quri_parts.openqasm.circuit` writes it.
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
}

impl Kind {
    /// The OpenQASM 3 name the line starts with.
    pub fn qasm_name(self) -> &'static str {
        match self {
            Kind::Fixed(s) | Kind::Rotation(s) | Kind::U(s) | Kind::Two(s) | Kind::Three(s) => s,
        }
    }

    /// How many qubits the printed line names.
    pub fn arity(self) -> usize {
        match self {
            Kind::Fixed(_) | Kind::Rotation(_) | Kind::U(_) => 1,
            Kind::Two(_) => 2,
            Kind::Three(_) => 3,
        }
    }
}

/// One QURI Parts native gate.
#[derive(Clone, Copy, Debug)]
pub struct NativeGate {
    /// The QURI Parts gate name (`gate.name`).
    pub quri_parts: &'static str,
    /// How the writer prints it, and so how many qubits and angles its line has.
    pub kind: Kind,
    /// Its angles (`gate.params`): the printed ones, or one for a rotation.
    pub n_params: usize,
    /// Its variant's tag in `quri_parts_rust` 0.27's gate enum.
    pub tag_0_27: u32,
}

const fn gate(quri_parts: &'static str, kind: Kind, n_params: usize, tag_0_27: u32) -> NativeGate {
    NativeGate {
        quri_parts,
        kind,
        n_params,
        tag_0_27,
    }
}

/// Every native gate the writer prints (the reference writer refuses the others).
pub const NATIVE_GATES: &[NativeGate] = &[
    gate("Identity", Kind::Fixed("id"), 0, 0),
    gate("X", Kind::Fixed("x"), 0, 1),
    gate("Y", Kind::Fixed("y"), 0, 2),
    gate("Z", Kind::Fixed("z"), 0, 3),
    gate("H", Kind::Fixed("h"), 0, 4),
    gate("S", Kind::Fixed("s"), 0, 5),
    gate("Sdag", Kind::Fixed("sdg"), 0, 6),
    gate("SqrtX", Kind::Fixed("sx"), 0, 7),
    // 8..=10 (SqrtXdag, SqrtY, SqrtYdag) are refused by the writer: not in this table.
    gate("T", Kind::Fixed("t"), 0, 11),
    gate("Tdag", Kind::Fixed("tdg"), 0, 12),
    gate("RX", Kind::Rotation("rx"), 1, 13),
    gate("RY", Kind::Rotation("ry"), 1, 14),
    gate("RZ", Kind::Rotation("rz"), 1, 15),
    gate("U1", Kind::U("u1"), 1, 16),
    gate("U2", Kind::U("u2"), 2, 17),
    gate("U3", Kind::U("u3"), 3, 18),
    gate("CNOT", Kind::Two("cx"), 0, 19),
    gate("CZ", Kind::Two("cz"), 0, 20),
    gate("SWAP", Kind::Two("swap"), 0, 21),
    gate("TOFFOLI", Kind::Three("ccx"), 0, 22),
];

/// Native gates the OpenQASM reader reads (`sxdg q[0];`) but the writer refuses to print,
/// as the reference writer refuses them.
pub const READ_ONLY_GATES: &[NativeGate] = &[gate("SqrtXdag", Kind::Fixed("sxdg"), 0, 8)];

/// One row of the table as Python sees it: QURI Parts name, OpenQASM name, qubits, angles,
/// and whether the writer prints it.
pub type Row = (&'static str, &'static str, usize, usize, bool);

/// Every native gate, printed ones first: the rows the Python gate table is built from.
pub fn rows() -> Vec<Row> {
    let row = |g: &NativeGate, printed| {
        let kind = g.kind;
        (
            g.quri_parts,
            kind.qasm_name(),
            kind.arity(),
            g.n_params,
            printed,
        )
    };
    let printed = NATIVE_GATES.iter().map(|g| row(g, true));
    printed
        .chain(READ_ONLY_GATES.iter().map(|g| row(g, false)))
        .collect()
}

/// The gate called `name` in QURI Parts.
pub fn by_quri_parts_name(name: &str) -> Option<&'static NativeGate> {
    NATIVE_GATES.iter().find(|g| g.quri_parts == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_are_each_given_once() {
        let every = || NATIVE_GATES.iter().chain(READ_ONLY_GATES);
        let mut names: Vec<&str> = every().map(|g| g.quri_parts).collect();
        let mut qasm: Vec<&str> = every().map(|g| g.kind.qasm_name()).collect();
        let mut tags: Vec<u32> = every().map(|g| g.tag_0_27).collect();
        for list in [&mut names, &mut qasm] {
            let count = list.len();
            list.sort_unstable();
            list.dedup();
            assert_eq!(list.len(), count);
        }
        let count = tags.len();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), count);
    }

    #[test]
    fn each_shape_has_its_number_of_angles() {
        for g in NATIVE_GATES {
            let expected = match g.kind {
                Kind::Fixed(_) | Kind::Two(_) | Kind::Three(_) => 0,
                Kind::Rotation(_) => 1,
                Kind::U(_) => g.n_params,
            };
            assert_eq!(g.n_params, expected, "{}", g.quri_parts);
        }
        assert_eq!(by_quri_parts_name("U2").map(|g| g.n_params), Some(2));
        assert!(by_quri_parts_name("SqrtY").is_none());
    }
}
