//! OpenQASM 3 reader: turns the straight-line programs that QURI Parts and qiskit emit into a
//! small IR of QURI Parts native gates, measurements, resets and barriers.
//! Pure Rust: nothing here knows about Python.
//!
//! Gates outside QURI Parts' native set are decomposed exactly (controlled gates keep their
//! relative phases). The only dropped phases are global phases of whole uncontrolled gates,
//! which no measurement can observe: OpenQASM 3's `u2`/`u3` carry `gphase(-(φ+λ)/2)`
//! relative to `U`, and we read them as QURI Parts' (qiskit's) `U2`/`U3`, which carry none.
//!
//! Read: `OPENQASM 2.x/3.x;`, `include "stdgates.inc"|"qelib1.inc";`, `//` and `/* */`
//! comments, `qubit[n] q;`/`qubit q;`/`qreg q[n];`, `bit[n] c;`/`bit c;`/`creg c[n];`,
//! physical qubits `$n` (when no qubit is declared), calls of the gates in `gates.rs` (with
//! whole-register broadcasting), `measure q -> c;`, `c = measure q;`, `reset q;`, `barrier;`.
//! Refused with the line and text: gate definitions, modifiers, classical types and control,
//! loops, unknown gates or includes, undeclared names, out-of-range indices, non-finite
//! parameters. Note that qiskit's exporter writes a `gate` definition for gates outside
//! stdgates.inc (sxdg, rzz, cs, cu1, ...), so such qiskit output is refused.

mod expr;
mod gates;
mod lex;

use crate::error::CoreError;
use expr::{constant, expression};
use gates::{lookup_gate, Emitter, GateAction};
use lex::{lex, split_statements, Cursor, Statement, Tok};
use std::collections::HashMap;

/// Largest number of qubits (and, separately, classical bits) a program may declare; guards
/// against `qubit[1000000000] q; h q;` expanding into a billion operations.
pub const MAX_BITS: usize = 1 << 16;

/// Largest number of qubit operands (a gate on two qubits counts two, a barrier on all
/// qubits counts them all) a program may expand into. Broadcasting and decompositions
/// multiply: `cu(1,2,3,4) q, r;` on two 32768-qubit registers is 196608 gates, so without
/// this bound a few hundred bytes of text asked for gigabytes.
pub const MAX_OPERANDS: usize = 1 << 21;

/// A parsed program: registers flattened to consecutive indices in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub n_qubits: usize,
    pub n_clbits: usize,
    pub ops: Vec<Op>,
}

/// One operation, with the 1-based source line of the statement it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub line: usize,
    pub kind: OpKind,
}

impl Op {
    /// The qubits this operation names (at least one, for an empty barrier too).
    fn operand_count(&self) -> usize {
        match &self.kind {
            OpKind::Gate { qubits, .. } | OpKind::Barrier { qubits } => qubits.len().max(1),
            OpKind::Measure { .. } | OpKind::Reset { .. } => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// A QURI Parts native gate (`CNOT`, `U3`, ...): qubits in QURI Parts order
    /// (controls first), params in QURI Parts order (which is also QASM's).
    Gate {
        name: &'static str,
        qubits: Vec<usize>,
        params: Vec<f64>,
    },
    Measure {
        qubit: usize,
        clbit: usize,
    },
    Reset {
        qubit: usize,
    },
    Barrier {
        qubits: Vec<usize>,
    },
}

/// Parses OpenQASM 3 (or 2) text; every refusal names the line and the offending text.
pub fn parse_qasm(src: &str) -> Result<Program, CoreError> {
    let tokens = lex(src)?;
    let (statements, unterminated) = split_statements(src, &tokens)?;
    let mut builder = Builder::default();
    for (index, stmt) in statements.iter().enumerate() {
        builder
            .statement(stmt, index == 0)
            .and_then(|()| builder.count_operands())
            .map_err(|msg| stmt.error(&msg))?;
    }
    // Reported after the statements so that `gate g a { x a; }` is refused for being a gate.
    if let Some(stmt) = unterminated {
        return Err(stmt.error("statement does not end with ';'"));
    }
    builder.finish()
}

struct Register {
    start: usize,
    size: usize,
    is_qubit: bool,
    /// Declared without a size (`qubit q;`): names one qubit, cannot be indexed.
    is_scalar: bool,
}

/// A resolved operand: one index, or every index of a register (broadcast).
enum Operand {
    One(usize),
    All(usize, usize),
}

impl Operand {
    fn len(&self) -> Option<usize> {
        match self {
            Operand::One(_) => None,
            Operand::All(_, size) => Some(*size),
        }
    }

    fn at(&self, i: usize) -> usize {
        match self {
            Operand::One(index) => *index,
            Operand::All(start, _) => start + i,
        }
    }
}

/// Statement keywords we recognise but refuse, for a clearer message than "unknown gate".
const UNSUPPORTED: &[&str] = &[
    "gate",
    "def",
    "defcal",
    "cal",
    "defcalgrammar",
    "if",
    "else",
    "for",
    "while",
    "switch",
    "let",
    "const",
    "input",
    "output",
    "int",
    "uint",
    "float",
    "angle",
    "bool",
    "complex",
    "duration",
    "stretch",
    "array",
    "ctrl",
    "negctrl",
    "inv",
    "pow",
    "gphase",
    "delay",
    "box",
    "opaque",
    "break",
    "continue",
    "return",
    "end",
    "extern",
    "pragma",
];

#[derive(Default)]
struct Builder {
    /// Qubit and bit registers share one namespace.
    registers: HashMap<String, Register>,
    n_qubits: usize,
    n_clbits: usize,
    /// Highest `$n` seen plus one, when the program addresses physical qubits.
    n_physical: Option<usize>,
    ops: Vec<Op>,
    /// Qubit operands of `ops[..counted]`, checked against `MAX_OPERANDS` per statement
    /// (one statement adds at most `MAX_BITS` operands times a decomposition's length).
    operands: usize,
    counted: usize,
}

impl Builder {
    fn count_operands(&mut self) -> Result<(), String> {
        let new_ops = &self.ops[self.counted..];
        self.operands += new_ops.iter().map(Op::operand_count).sum::<usize>();
        self.counted = self.ops.len();
        if self.operands > MAX_OPERANDS {
            return Err(format!(
                "program expands to more than {MAX_OPERANDS} qubit operands"
            ));
        }
        Ok(())
    }

    fn statement(&mut self, stmt: &Statement<'_>, is_first: bool) -> Result<(), String> {
        let mut cur = Cursor::new(stmt.toks);
        let line = stmt.line;
        match cur.peek() {
            Some(Tok::Ident(word)) => match word.as_str() {
                "OPENQASM" if is_first => version(&mut cur),
                "OPENQASM" => Err("the version statement must come first".to_string()),
                "include" => include(&mut cur),
                "qubit" | "bit" => self.declare(&mut cur, word == "qubit", false),
                "qreg" | "creg" => self.declare(&mut cur, word == "qreg", true),
                "measure" => self.measure_arrow(&mut cur, line),
                "reset" => self.reset(&mut cur, line),
                "barrier" => self.barrier(&mut cur, line),
                w if UNSUPPORTED.contains(&w) => Err(format!("unsupported statement '{w}'")),
                _ if matches!(cur.second(), Some(Tok::Sym('=' | '['))) => {
                    self.measure_assign(&mut cur, line)
                }
                _ => self.gate_call(&mut cur, line),
            },
            _ => Err("unsupported statement".to_string()),
        }
    }

    fn finish(self) -> Result<Program, CoreError> {
        let n_qubits = self.n_physical.unwrap_or(self.n_qubits);
        if n_qubits == 0 {
            return Err(CoreError::InvalidQasm(
                "program declares no qubits".to_string(),
            ));
        }
        Ok(Program {
            n_qubits,
            n_clbits: self.n_clbits,
            ops: self.ops,
        })
    }

    /// `qubit[n] q;`, `qubit q;`, `bit[n] c;`, `bit c;`, `qreg q[n];`, `creg c[n];`.
    fn declare(
        &mut self,
        cur: &mut Cursor<'_>,
        is_qubit: bool,
        old_style: bool,
    ) -> Result<(), String> {
        cur.next();
        let mut size = None;
        if !old_style && cur.eat(&Tok::Sym('[')) {
            size = Some(cur.integer("a register size")?);
            cur.expect(&Tok::Sym(']'), "']' after the register size")?;
        }
        let name = cur.ident("a register name")?;
        if old_style && cur.eat(&Tok::Sym('[')) {
            size = Some(cur.integer("a register size")?);
            cur.expect(&Tok::Sym(']'), "']' after the register size")?;
        }
        if cur.peek() == Some(&Tok::Sym('=')) {
            return Err("initialised declarations are not supported".to_string());
        }
        cur.end()?;
        if old_style && size.is_none() {
            return Err("expected '[size]' after the register name".to_string());
        }
        self.add_register(name, size, is_qubit)
    }

    fn add_register(
        &mut self,
        name: &str,
        size: Option<u64>,
        is_qubit: bool,
    ) -> Result<(), String> {
        if self.registers.contains_key(name) || constant(name).is_ok() {
            return Err(format!("'{name}' is already declared"));
        }
        if is_qubit && self.n_physical.is_some() {
            return Err("cannot declare qubits after using physical qubits ($n)".to_string());
        }
        let count = if is_qubit {
            &mut self.n_qubits
        } else {
            &mut self.n_clbits
        };
        let is_scalar = size.is_none();
        let size = size.map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX));
        if size == 0 || size > MAX_BITS - *count {
            return Err(format!(
                "register size must be 1 to {} (at most {MAX_BITS} in total)",
                MAX_BITS - *count
            ));
        }
        let register = Register {
            start: *count,
            size,
            is_qubit,
            is_scalar,
        };
        self.registers.insert(name.to_string(), register);
        *count += size;
        Ok(())
    }

    /// `q`, `q[i]` or `$n`, resolved against the qubit (or bit) registers.
    fn operand(&mut self, cur: &mut Cursor<'_>, want_qubit: bool) -> Result<Operand, String> {
        let kind = if want_qubit { "qubit" } else { "bit" };
        if let Some(Tok::Hw(n)) = cur.peek() {
            cur.next();
            return self.physical(*n, want_qubit);
        }
        let name = cur.ident(&format!("a {kind} operand"))?;
        let Some(reg) = self.registers.get(name) else {
            return Err(format!("undeclared {kind} register '{name}'"));
        };
        if reg.is_qubit != want_qubit {
            return Err(format!("'{name}' is not a {kind} register"));
        }
        if !cur.eat(&Tok::Sym('[')) {
            return Ok(if reg.is_scalar {
                Operand::One(reg.start)
            } else {
                Operand::All(reg.start, reg.size)
            });
        }
        if reg.is_scalar {
            return Err(format!("'{name}' is a single {kind} and cannot be indexed"));
        }
        let index = cur.integer("an index")?;
        cur.expect(&Tok::Sym(']'), "']' after the index")?;
        match usize::try_from(index) {
            Ok(i) if i < reg.size => Ok(Operand::One(reg.start + i)),
            _ => Err(format!(
                "index {index} out of range for '{name}' of size {}",
                reg.size
            )),
        }
    }

    fn physical(&mut self, n: u64, want_qubit: bool) -> Result<Operand, String> {
        if !want_qubit {
            return Err(format!("physical qubit ${n} used where a bit is expected"));
        }
        if self.n_qubits > 0 {
            return Err("cannot mix physical qubits ($n) with declared qubits".to_string());
        }
        match usize::try_from(n) {
            Ok(i) if i < MAX_BITS => {
                self.n_physical = Some(self.n_physical.unwrap_or(0).max(i + 1));
                Ok(Operand::One(i))
            }
            _ => Err(format!(
                "physical qubit ${n} is beyond the {MAX_BITS} supported"
            )),
        }
    }

    fn operand_list(&mut self, cur: &mut Cursor<'_>) -> Result<Vec<Operand>, String> {
        let mut operands = vec![self.operand(cur, true)?];
        while cur.eat(&Tok::Sym(',')) {
            operands.push(self.operand(cur, true)?);
        }
        cur.end()?;
        Ok(operands)
    }

    fn gate_call(&mut self, cur: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        let name = cur.ident("a gate name")?;
        let Some((n_params, n_qubits, action)) = lookup_gate(name) else {
            return Err(format!("unknown gate '{name}'"));
        };
        let params = gate_params(cur)?;
        if params.len() != n_params {
            return Err(format!(
                "gate '{name}' takes {n_params} parameter(s), got {}",
                params.len()
            ));
        }
        let operands = self.operand_list(cur)?;
        if operands.len() != n_qubits {
            return Err(format!(
                "gate '{name}' acts on {n_qubits} qubit(s), got {}",
                operands.len()
            ));
        }
        for qubits in broadcast(&operands)? {
            if (1..qubits.len()).any(|i| qubits[..i].contains(&qubits[i])) {
                return Err(format!("gate '{name}' uses the same qubit twice"));
            }
            let mut emitter = Emitter {
                ops: &mut self.ops,
                line,
            };
            match action {
                GateAction::Native(native) => emitter.gate(native, &qubits, &params),
                GateAction::Decomposed(emit) => emit(&mut emitter, &qubits, &params),
            }
        }
        Ok(())
    }

    /// `measure q[i] -> c[j];` or `measure q -> c;`.
    fn measure_arrow(&mut self, cur: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        cur.next();
        let qubits = self.operand(cur, true)?;
        if !cur.eat(&Tok::Arrow) {
            return Err("measure without a target bit ('-> c[j]')".to_string());
        }
        let bits = self.operand(cur, false)?;
        cur.end()?;
        self.push_measures(&qubits, &bits, line)
    }

    /// `c[j] = measure q[i];` or `c = measure q;`.
    fn measure_assign(&mut self, cur: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        let bits = self.operand(cur, false)?;
        cur.expect(&Tok::Sym('='), "'='")?;
        if cur.ident("'measure'")? != "measure" {
            return Err("only measurement results can be assigned".to_string());
        }
        let qubits = self.operand(cur, true)?;
        cur.end()?;
        self.push_measures(&qubits, &bits, line)
    }

    fn push_measures(
        &mut self,
        qubits: &Operand,
        bits: &Operand,
        line: usize,
    ) -> Result<(), String> {
        let n = match (qubits.len(), bits.len()) {
            (None, None) => 1,
            (Some(a), Some(b)) if a == b => a,
            _ => {
                return Err(
                    "measure needs a qubit and a bit, or registers of equal size".to_string(),
                )
            }
        };
        for i in 0..n {
            let (qubit, clbit) = (qubits.at(i), bits.at(i));
            self.ops.push(Op {
                line,
                kind: OpKind::Measure { qubit, clbit },
            });
        }
        Ok(())
    }

    fn reset(&mut self, cur: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        cur.next();
        let target = self.operand(cur, true)?;
        cur.end()?;
        for i in 0..target.len().unwrap_or(1) {
            let qubit = target.at(i);
            self.ops.push(Op {
                line,
                kind: OpKind::Reset { qubit },
            });
        }
        Ok(())
    }

    /// `barrier;` (all qubits declared so far) or `barrier q, r[1];`.
    fn barrier(&mut self, cur: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        cur.next();
        let qubits: Vec<usize> = if cur.end().is_ok() {
            (0..self.n_physical.unwrap_or(self.n_qubits)).collect()
        } else {
            let operands = self.operand_list(cur)?;
            operands
                .iter()
                .flat_map(|o| (0..o.len().unwrap_or(1)).map(move |i| o.at(i)))
                .collect()
        };
        self.ops.push(Op {
            line,
            kind: OpKind::Barrier { qubits },
        });
        Ok(())
    }
}

/// `OPENQASM 3;`, `OPENQASM 3.0;` (and 2.x, whose gates we read the same way).
fn version(cur: &mut Cursor<'_>) -> Result<(), String> {
    cur.next();
    match cur.next() {
        Some(Tok::Num { value, .. }) if (2.0..4.0).contains(value) => cur.end(),
        _ => Err("unsupported OpenQASM version (expected 2.x or 3.x)".to_string()),
    }
}

fn include(cur: &mut Cursor<'_>) -> Result<(), String> {
    cur.next();
    match cur.next() {
        Some(Tok::Str(file)) if file == "stdgates.inc" || file == "qelib1.inc" => cur.end(),
        Some(Tok::Str(file)) => Err(format!("cannot include '{file}' (only stdgates.inc)")),
        _ => Err("expected a file name in quotes".to_string()),
    }
}

/// `(expr, expr, ...)` after a gate name, or nothing.
fn gate_params(cur: &mut Cursor<'_>) -> Result<Vec<f64>, String> {
    let mut params = Vec::new();
    if cur.eat(&Tok::Sym('(')) {
        if cur.eat(&Tok::Sym(')')) {
            return Ok(params);
        }
        params.push(expression(cur)?);
        while cur.eat(&Tok::Sym(',')) {
            params.push(expression(cur)?);
        }
        cur.expect(&Tok::Sym(')'), "')' after the gate parameters")?;
    }
    Ok(params)
}

/// Expands whole-register operands: `cx q, r;` applies `cx q[i], r[i]` for every i.
fn broadcast(operands: &[Operand]) -> Result<Vec<Vec<usize>>, String> {
    let mut sizes = operands.iter().filter_map(Operand::len);
    let n = sizes.next();
    if let Some(n) = n {
        if sizes.any(|m| m != n) {
            return Err("registers of different sizes in one operation".to_string());
        }
    }
    Ok((0..n.unwrap_or(1))
        .map(|i| operands.iter().map(|o| o.at(i)).collect())
        .collect())
}

#[cfg(test)]
mod tests;
