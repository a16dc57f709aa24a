//! OpenQASM 3 reader: turns the straight-line programs that QURI Parts and qiskit emit into a
//! small IR of QURI Parts native gates, measurements, resets and barriers.
//! Pure Rust: nothing here knows about Python.
//!
//! Gates outside QURI Parts' native set are decomposed exactly (controlled gates keep their
//! relative phases). The only dropped phases are global phases of whole uncontrolled gates,
//! which no measurement can observe: OpenQASM 3's `u2`/`u3` carry `gphase(-(φ+λ)/2)`
//! relative to `U`, and we read them as QURI Parts' (qiskit's) `U2`/`U3`, which carry none.

use crate::error::CoreError;
use std::f64::consts::{E, PI, TAU};

/// Largest number of qubits (and, separately, classical bits) a program may declare; guards
/// against `qubit[1000000000] q; h q;` expanding into a billion operations.
pub const MAX_BITS: usize = 1 << 16;

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
            .map_err(|msg| stmt.error(&msg))?;
    }
    // Reported after the statements so that `gate g a { x a; }` is refused for being a gate.
    if let Some(stmt) = unterminated {
        return Err(stmt.error("statement does not end with ';'"));
    }
    builder.finish()
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A number; `int` is set when it was written as a plain integer literal.
    Num {
        value: f64,
        int: Option<u64>,
    },
    Str(String),
    /// `$n`: a physical qubit.
    Hw(u64),
    Arrow,
    Pow,
    Sym(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
    line: usize,
}

fn qasm_error(line: usize, msg: &str, text: &str) -> CoreError {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown: String = if text.chars().count() > 120 {
        text.chars().take(117).chain("...".chars()).collect()
    } else {
        text
    };
    CoreError::InvalidQasm(format!("line {line}: {msg}: `{shown}`"))
}

fn line_text(src: &str, line: usize) -> &str {
    src.lines().nth(line - 1).unwrap_or("").trim()
}

fn lex(src: &str) -> Result<Vec<Token>, CoreError> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        line: 1,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn error(&self, line: usize, msg: &str) -> CoreError {
        qasm_error(line, msg, line_text(self.src, line))
    }

    /// Skips whitespace and comments, counting lines.
    fn skip_trivia(&mut self) -> Result<(), CoreError> {
        loop {
            let rest = self.rest();
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                let Some(close) = body.find("*/") else {
                    return Err(self.error(self.line, "unterminated block comment"));
                };
                self.line += rest[..close + 4].matches('\n').count();
                self.pos += close + 4;
            } else if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.line += usize::from(c == '\n');
                self.pos += c.len_utf8();
            } else {
                return Ok(());
            }
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>, CoreError> {
        self.skip_trivia()?;
        let Some(c) = self.rest().chars().next() else {
            return Ok(None);
        };
        let (start, line) = (self.pos, self.line);
        let tok = if c.is_alphabetic() || c == '_' {
            Tok::Ident(
                self.take_while(|c| c.is_alphanumeric() || c == '_')
                    .to_string(),
            )
        } else if c.is_ascii_digit()
            || (c == '.' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            self.number(line)?
        } else if c == '"' {
            self.string(line)?
        } else if c == '$' {
            self.pos += 1;
            let digits = self.take_while(|c| c.is_ascii_digit());
            Tok::Hw(
                digits
                    .parse()
                    .map_err(|_| self.error(line, "bad physical qubit"))?,
            )
        } else {
            self.symbol(c)
        };
        Ok(Some(Token {
            tok,
            start,
            end: self.pos,
            line,
        }))
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let rest = &self.src[self.pos..];
        let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn number(&mut self, line: usize) -> Result<Tok, CoreError> {
        let start = self.pos;
        self.take_while(|c| c.is_ascii_digit() || c == '_');
        let mut is_int = true;
        if self.rest().starts_with('.') {
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit() || c == '_');
            is_int = false;
        }
        let rest = self.rest();
        if rest.starts_with(['e', 'E']) {
            let sign = usize::from(rest[1..].starts_with(['+', '-']));
            if rest[1 + sign..].starts_with(|c: char| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                self.take_while(|c| c.is_ascii_digit());
                is_int = false;
            }
        }
        let text = self.src[start..self.pos].replace('_', "");
        let value: f64 = text
            .parse()
            .map_err(|_| self.error(line, &format!("bad number '{text}'")))?;
        let int = if is_int { text.parse().ok() } else { None };
        Ok(Tok::Num { value, int })
    }

    fn string(&mut self, line: usize) -> Result<Tok, CoreError> {
        let rest = &self.rest()[1..];
        let Some(close) = rest
            .find(['"', '\n'])
            .filter(|&i| rest[i..].starts_with('"'))
        else {
            return Err(self.error(line, "unterminated string"));
        };
        let text = rest[..close].to_string();
        self.pos += close + 2;
        Ok(Tok::Str(text))
    }

    fn symbol(&mut self, c: char) -> Tok {
        for (text, tok) in [("->", Tok::Arrow), ("**", Tok::Pow)] {
            if self.rest().starts_with(text) {
                self.pos += 2;
                return tok;
            }
        }
        self.pos += c.len_utf8();
        Tok::Sym(c)
    }
}

// ---------------------------------------------------------------- statements

/// The tokens of one statement (without its `;`) and where it sits in the source.
struct Statement<'a> {
    toks: &'a [Token],
    line: usize,
    text: &'a str,
}

impl Statement<'_> {
    fn error(&self, msg: &str) -> CoreError {
        qasm_error(self.line, msg, self.text)
    }
}

/// Splits tokens at `;`; the second value holds trailing tokens that lack their `;`.
fn split_statements<'a>(
    src: &'a str,
    tokens: &'a [Token],
) -> Result<(Vec<Statement<'a>>, Option<Statement<'a>>), CoreError> {
    let statement = |first: usize, end: usize, end_byte: usize| Statement {
        toks: &tokens[first..end],
        line: tokens[first].line,
        text: &src[tokens[first].start..end_byte],
    };
    let mut statements = Vec::new();
    let mut first = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.tok == Tok::Sym(';') {
            if i == first {
                let text = line_text(src, token.line);
                return Err(qasm_error(token.line, "empty statement", text));
            }
            statements.push(statement(first, i, token.end));
            first = i + 1;
        }
    }
    let tail = tokens.last().filter(|_| first < tokens.len());
    Ok((
        statements,
        tail.map(|last| statement(first, tokens.len(), last.end)),
    ))
}

/// Reads tokens of one statement from left to right.
struct Cursor<'a> {
    toks: &'a [Token],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<&'a Tok> {
        let tok = self.peek();
        self.pos += usize::from(tok.is_some());
        tok
    }

    fn eat(&mut self, want: &Tok) -> bool {
        let found = self.peek() == Some(want);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), String> {
        if self.eat(want) {
            Ok(())
        } else {
            Err(format!("expected {what}"))
        }
    }

    fn ident(&mut self, what: &str) -> Result<&'a str, String> {
        match self.next() {
            Some(Tok::Ident(name)) => Ok(name),
            _ => Err(format!("expected {what}")),
        }
    }

    /// A non-negative integer literal, such as a register size or an index.
    fn integer(&mut self, what: &str) -> Result<u64, String> {
        match self.next() {
            Some(Tok::Num { int: Some(n), .. }) => Ok(*n),
            _ => Err(format!("expected {what} (a non-negative integer literal)")),
        }
    }

    fn end(&self) -> Result<(), String> {
        if self.pos == self.toks.len() {
            Ok(())
        } else {
            Err("unexpected text before ';'".to_string())
        }
    }
}

// ---------------------------------------------------------------- expressions

/// Evaluates a parameter expression; the result must be a finite number.
fn expression(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let value = sum(cur)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("parameter expression evaluates to {value}"))
    }
}

fn sum(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let mut value = product(cur)?;
    loop {
        if cur.eat(&Tok::Sym('+')) {
            value += product(cur)?;
        } else if cur.eat(&Tok::Sym('-')) {
            value -= product(cur)?;
        } else {
            return Ok(value);
        }
    }
}

fn product(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let mut value = unary(cur)?;
    loop {
        if cur.eat(&Tok::Sym('*')) {
            value *= unary(cur)?;
        } else if cur.eat(&Tok::Sym('/')) {
            value /= unary(cur)?;
        } else {
            return Ok(value);
        }
    }
}

/// Unary signs bind looser than `**`, so `-2**2` is -4 as in OpenQASM 3.
fn unary(cur: &mut Cursor<'_>) -> Result<f64, String> {
    if cur.eat(&Tok::Sym('-')) {
        Ok(-unary(cur)?)
    } else if cur.eat(&Tok::Sym('+')) {
        unary(cur)
    } else {
        let base = atom(cur)?;
        if cur.eat(&Tok::Pow) {
            Ok(base.powf(unary(cur)?))
        } else {
            Ok(base)
        }
    }
}

fn atom(cur: &mut Cursor<'_>) -> Result<f64, String> {
    match cur.next() {
        Some(Tok::Num { value, .. }) => Ok(*value),
        Some(Tok::Sym('(')) => {
            let value = sum(cur)?;
            cur.expect(&Tok::Sym(')'), "')' in expression")?;
            Ok(value)
        }
        Some(Tok::Ident(name)) if cur.peek() == Some(&Tok::Sym('(')) => {
            cur.next();
            let arg = sum(cur)?;
            cur.expect(&Tok::Sym(')'), "')' after function argument")?;
            apply_function(name, arg)
        }
        Some(Tok::Ident(name)) => constant(name),
        _ => Err("expected a number, constant, function call or '(' in expression".to_string()),
    }
}

fn constant(name: &str) -> Result<f64, String> {
    match name {
        "pi" | "π" => Ok(PI),
        "tau" | "τ" => Ok(TAU),
        "euler" | "ℇ" => Ok(E),
        _ => Err(format!("unknown identifier '{name}' in expression")),
    }
}

fn apply_function(name: &str, x: f64) -> Result<f64, String> {
    Ok(match name {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "arcsin" => x.asin(),
        "arccos" => x.acos(),
        "arctan" => x.atan(),
        "exp" => x.exp(),
        "ln" => x.ln(),
        "sqrt" => x.sqrt(),
        _ => return Err(format!("unknown function '{name}' in expression")),
    })
}

// ---------------------------------------------------------------- gates

/// Appends native gates for one statement.
struct Emitter<'a> {
    ops: &'a mut Vec<Op>,
    line: usize,
}

impl Emitter<'_> {
    fn gate(&mut self, name: &'static str, qubits: &[usize], params: &[f64]) {
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

    /// Conjugates `rzz` by `before` then `after` on both qubits (rxx, ryy).
    fn rpp(
        &mut self,
        q: &[usize],
        theta: f64,
        before: (&'static str, f64),
        after: (&'static str, f64),
    ) {
        let params = |angle: f64| if before.0 == "H" { vec![] } else { vec![angle] };
        for &qubit in q {
            self.gate(before.0, &[qubit], &params(before.1));
        }
        self.rzz(q[0], q[1], theta);
        for &qubit in q {
            self.gate(after.0, &[qubit], &params(after.1));
        }
    }
}

type Emit = fn(&mut Emitter<'_>, &[usize], &[f64]);

/// One gate the reader knows: its QASM name, parameter and qubit counts, and how to emit it.
struct GateDef {
    name: &'static str,
    n_params: usize,
    n_qubits: usize,
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

/// QASM names that map one-to-one onto a QURI Parts native gate.
const NATIVE: &[(&str, &str, usize, usize)] = &[
    ("id", "Identity", 0, 1),
    ("x", "X", 0, 1),
    ("y", "Y", 0, 1),
    ("z", "Z", 0, 1),
    ("h", "H", 0, 1),
    ("s", "S", 0, 1),
    ("sdg", "Sdag", 0, 1),
    ("t", "T", 0, 1),
    ("tdg", "Tdag", 0, 1),
    ("sx", "SqrtX", 0, 1),
    ("sxdg", "SqrtXdag", 0, 1),
    ("rx", "RX", 1, 1),
    ("ry", "RY", 1, 1),
    ("rz", "RZ", 1, 1),
    ("p", "U1", 1, 1),
    ("phase", "U1", 1, 1),
    ("u1", "U1", 1, 1),
    ("u2", "U2", 2, 1),
    ("u3", "U3", 3, 1),
    ("u", "U3", 3, 1),
    ("U", "U3", 3, 1),
    ("cx", "CNOT", 0, 2),
    ("CX", "CNOT", 0, 2),
    ("cz", "CZ", 0, 2),
    ("swap", "SWAP", 0, 2),
    ("ccx", "TOFFOLI", 0, 3),
];

/// Gates decomposed into native ones; each decomposition is exact (see the unit tests and
/// tests/test_qasm_reader.py, which compare against textbook matrices).
const DECOMPOSED: &[GateDef] = &[
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
        e.rpp(q, p[0], ("H", 0.0), ("H", 0.0))
    }),
    def("ryy", 1, 2, |e, q, p| {
        e.rpp(q, p[0], ("RX", PI / 2.0), ("RX", -PI / 2.0));
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
fn lookup_gate(name: &str) -> Option<(usize, usize, GateAction)> {
    if let Some(&(_, native, n_params, n_qubits)) = NATIVE.iter().find(|g| g.0 == name) {
        return Some((n_params, n_qubits, GateAction::Native(native)));
    }
    DECOMPOSED
        .iter()
        .find(|g| g.name == name)
        .map(|g| (g.n_params, g.n_qubits, GateAction::Decomposed(g.emit)))
}

#[derive(Clone, Copy)]
enum GateAction {
    Native(&'static str),
    Decomposed(Emit),
}

// ---------------------------------------------------------------- program builder

struct Register {
    name: String,
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
    registers: Vec<Register>,
    n_qubits: usize,
    n_clbits: usize,
    /// Highest `$n` seen plus one, when the program addresses physical qubits.
    n_physical: Option<usize>,
    ops: Vec<Op>,
}

impl Builder {
    fn statement(&mut self, stmt: &Statement<'_>, is_first: bool) -> Result<(), String> {
        let mut cur = Cursor {
            toks: stmt.toks,
            pos: 0,
        };
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
                _ if matches!(cur.toks.get(1).map(|t| &t.tok), Some(Tok::Sym('=' | '['))) => {
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
        if self.registers.iter().any(|r| r.name == name) || constant(name).is_ok() {
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
        self.registers.push(Register {
            name: name.to_string(),
            start: *count,
            size,
            is_qubit,
            is_scalar,
        });
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
        let Some(reg) = self.registers.iter().find(|r| r.name == name) else {
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
        for qubits in broadcast(&self.operand_list(cur)?)? {
            for qubit in qubits {
                self.ops.push(Op {
                    line,
                    kind: OpKind::Reset { qubit },
                });
            }
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
#[path = "qasm_parse_tests.rs"]
mod tests;
