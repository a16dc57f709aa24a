//! Pauli strings: the `str(PauliLabel)` spelling the estimation payload carries, and the
//! parser the server uses for both spellings (`"X0 X1"` and `"X 0 X 1"`). Pure Rust.

use crate::error::CoreError;
use crate::text::write_int;

/// Letter of a QURI Parts `SinglePauli` id (X = 1, Y = 2, Z = 3).
pub fn pauli_letter(id: i64) -> Option<char> {
    match id {
        1 => Some('X'),
        2 => Some('Y'),
        3 => Some('Z'),
        _ => None,
    }
}

/// Appends `str(PauliLabel)` for `factors` (qubit, position in the label's iteration
/// order, letter): tokens sorted by qubit (stably, as Python's `sorted`), joined by one
/// space; `"I"` for the identity.
pub fn write_pauli_label(out: &mut String, factors: &mut [(i64, u32, char)]) {
    if factors.is_empty() {
        out.push('I');
        return;
    }
    if !write_by_slots(out, factors) {
        // (qubit, position) keys are unique, so an unstable sort gives the stable order.
        factors.sort_unstable_by_key(|&(qubit, position, _)| (qubit, position));
        write_tokens(
            out,
            factors.iter().map(|&(qubit, _, letter)| (qubit, letter)),
        );
    }
}

/// Qubits below this are placed by index instead of sorted.
const SLOTS: usize = 256;

/// The common case (distinct qubits below `SLOTS`) without sorting: each letter goes to the
/// slot of its qubit. Returns false, having written nothing, when the label does not fit.
fn write_by_slots(out: &mut String, factors: &[(i64, u32, char)]) -> bool {
    let mut slots = [0u8; SLOTS];
    let mut highest = 0usize;
    for &(qubit, _, letter) in factors {
        let Some(slot) = usize::try_from(qubit).ok().filter(|&q| q < SLOTS) else {
            return false;
        };
        if slots[slot] != 0 {
            return false; // a qubit named twice keeps iteration order: the sorting path
        }
        slots[slot] = letter as u8;
        highest = highest.max(slot);
    }
    let present = slots[..=highest]
        .iter()
        .enumerate()
        .filter(|&(_, &letter)| letter != 0);
    write_tokens(
        out,
        present.map(|(qubit, &letter)| (qubit as i64, char::from(letter))),
    );
    true
}

fn write_tokens(out: &mut String, tokens: impl Iterator<Item = (i64, char)>) {
    for (i, (qubit, letter)) in tokens.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(letter);
        write_int(out, qubit);
    }
}

/// Why a text is not a Pauli string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauliSyntaxError {
    NotPauli,
    RepeatedQubit(u64),
    QubitTooLarge,
}

impl PauliSyntaxError {
    /// The ValueError for the text shown as `shown` (its Python `repr`).
    pub fn into_core_error(self, shown: &str) -> CoreError {
        CoreError::InvalidPauli(match self {
            PauliSyntaxError::NotPauli => format!("Not a Pauli string: {shown}"),
            PauliSyntaxError::RepeatedQubit(q) => {
                format!("Pauli string {shown} names qubit {q} twice")
            }
            PauliSyntaxError::QubitTooLarge => {
                format!("Pauli string {shown} names a qubit beyond 2**64 - 1")
            }
        })
    }
}

/// `(qubit, letter)` pairs of a Pauli string, sorted by qubit, `I` factors dropped.
/// Grammar: tokens `[IXYZ] ws* digits`, separated by optional whitespace; an empty text
/// or `"I"` is the identity; a qubit may carry one X, Y or Z.
pub fn parse_pauli(text: &str) -> Result<Vec<(u64, char)>, PauliSyntaxError> {
    let stripped = text.trim_matches(is_python_space);
    if stripped.is_empty() || stripped == "I" {
        return Ok(Vec::new());
    }
    let bytes = stripped.as_bytes();
    let mut factors = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let letter = match bytes[pos] {
            b @ (b'I' | b'X' | b'Y' | b'Z') => b as char,
            _ => return Err(PauliSyntaxError::NotPauli),
        };
        pos = skip_space(stripped, pos + 1);
        let digits_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos == digits_start {
            return Err(PauliSyntaxError::NotPauli);
        }
        let qubit: u64 = stripped[digits_start..pos]
            .parse()
            .map_err(|_| PauliSyntaxError::QubitTooLarge)?;
        // As the Python seam: `I` factors are dropped before the repeat check.
        if factors.iter().any(|&(q, _)| q == qubit) {
            return Err(PauliSyntaxError::RepeatedQubit(qubit));
        }
        if letter != 'I' {
            factors.push((qubit, letter));
        }
        pos = skip_space(stripped, pos);
    }
    factors.sort_unstable();
    Ok(factors)
}

/// Python's `str.isspace` for the characters a Pauli string may hold.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn skip_space(text: &str, mut pos: usize) -> usize {
    while let Some(c) = text[pos..].chars().next() {
        if !is_python_space(c) {
            break;
        }
        pos += c.len_utf8();
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(factors: &[(i64, char)]) -> String {
        let mut out = String::new();
        let mut numbered: Vec<_> = factors
            .iter()
            .enumerate()
            .map(|(i, &(q, p))| (q, i as u32, p))
            .collect();
        write_pauli_label(&mut out, &mut numbered);
        out
    }

    #[test]
    fn labels_are_sorted_by_qubit_and_identity_is_i() {
        assert_eq!(label(&[(2, 'Y'), (0, 'Z')]), "Z0 Y2");
        assert_eq!(label(&[(10, 'X'), (1, 'X')]), "X1 X10");
        assert_eq!(label(&[]), "I");
        // a malformed label naming a qubit twice keeps iteration order, as `sorted` does
        assert_eq!(label(&[(1, 'Z'), (0, 'Y'), (1, 'X')]), "Y0 Z1 X1");
        // qubits beyond the slot table, or negative, take the sorting path
        assert_eq!(label(&[(300, 'Z'), (2, 'X'), (-1, 'Y')]), "Y-1 X2 Z300");
    }

    #[test]
    fn both_spellings_parse() {
        let expected = vec![(0, 'X'), (1, 'X')];
        assert_eq!(parse_pauli("X0 X1").unwrap(), expected);
        assert_eq!(parse_pauli("X 0 X 1").unwrap(), expected);
        assert_eq!(parse_pauli(" X1X0 ").unwrap(), expected);
        assert_eq!(parse_pauli("Z3 I1 Y2").unwrap(), vec![(2, 'Y'), (3, 'Z')]);
        assert_eq!(parse_pauli("I").unwrap(), vec![]);
        assert_eq!(parse_pauli("").unwrap(), vec![]);
    }

    #[test]
    fn malformed_strings_are_refused() {
        for text in ["X", "0", "X0 Q1", "x0", "X0 1", "X-1", "X0,X1", "II"] {
            assert_eq!(
                parse_pauli(text),
                Err(PauliSyntaxError::NotPauli),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_pauli("X0 Y0"),
            Err(PauliSyntaxError::RepeatedQubit(0))
        );
        assert_eq!(
            parse_pauli("X99999999999999999999"),
            Err(PauliSyntaxError::QubitTooLarge)
        );
    }
}
