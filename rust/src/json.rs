//! The little JSON the core needs, in place over bytes: a reader for counts documents and
//! a writer for job inputs. Pure Rust.

use crate::error::CoreError;
use std::borrow::Cow;

type Result<T> = std::result::Result<T, CoreError>;

fn malformed(what: &str, pos: usize) -> CoreError {
    CoreError::InvalidJson(format!("invalid JSON: {what} at byte {pos}"))
}

/// Deepest nesting of arrays and objects a skipped value may have (counts documents
/// nest three levels).
const MAX_NESTING: usize = 128;

/// A position in a JSON text (already known to be UTF-8).
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next significant byte, without consuming it.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(malformed(&format!("expected '{}'", byte as char), self.pos))
        }
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.text.len() - self.pos
    }

    /// Fails unless only whitespace is left.
    pub fn finish(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(malformed("trailing data", self.pos)),
        }
    }

    /// Calls `member(cursor, key)` for each member of the object that starts here; the
    /// callback must consume the value.
    pub fn object<F>(&mut self, mut member: F) -> Result<()>
    where
        F: FnMut(&mut Self, Cow<'a, str>) -> Result<()>,
    {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            member(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(malformed("expected ',' or '}'", self.pos)),
            }
        }
    }

    /// Calls `member(key, number)` for each member of the object that starts here, every
    /// value being a number (`number` is None for a value that is not): the flat shape of
    /// counts objects, scanned in one tight pass.
    pub fn object_of_numbers<F>(&mut self, member: F) -> Result<()>
    where
        F: FnMut(&str, Option<&'a str>) -> Result<()>,
    {
        if self.object_start()? {
            return Ok(());
        }
        self.members_of_numbers(None, member).map(|_| ())
    }

    /// Consumes the `{` of an object whose members `members_of_numbers` reads next;
    /// returns true, having consumed its `}` too, for an empty object.
    pub fn object_start(&mut self) -> Result<bool> {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// The members of an object of numbers from here (just after `{` or a `,`) to its `}`,
    /// or until a member would start exactly at byte `stop_at`: returns whether it stopped
    /// there, the cursor then on that member.
    pub fn members_of_numbers<F>(&mut self, stop_at: Option<usize>, mut member: F) -> Result<bool>
    where
        F: FnMut(&str, Option<&'a str>) -> Result<()>,
    {
        let bytes = self.bytes();
        loop {
            self.skip_ws();
            if Some(self.pos) == stop_at {
                return Ok(true);
            }
            if bytes.get(self.pos) != Some(&b'"') {
                return Err(malformed("expected '\"'", self.pos));
            }
            let key_start = self.pos + 1;
            let mut end = key_start;
            while let Some(&b) = bytes.get(end) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                end += 1;
            }
            let key: Cow<'a, str> = if bytes.get(end) == Some(&b'"') {
                self.pos = end + 1;
                Cow::Borrowed(&self.text[key_start..end])
            } else {
                self.string()? // escapes: the general path
            };
            self.expect(b':')?;
            self.skip_ws();
            let number_start = self.pos;
            while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(self.pos) {
                self.pos += 1;
            }
            let number = (self.pos > number_start).then(|| &self.text[number_start..self.pos]);
            member(&key, number)?;
            self.skip_ws();
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(false);
                }
                _ => return Err(malformed("expected ',' or '}'", self.pos)),
            }
        }
    }

    /// A cursor on the same text at byte `pos`.
    pub fn at(&self, pos: usize) -> Self {
        Cursor {
            text: self.text,
            pos,
        }
    }

    /// The byte the cursor is at.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Where a member of the object around byte `from` probably starts: the first `"` after
    /// a `,` and whitespace. Only a guess (the `,` may sit inside a string): callers check
    /// it by parsing up to it.
    pub fn member_start_after(&self, from: usize) -> Option<usize> {
        let bytes = self.bytes();
        let comma = from + bytes.get(from..)?.iter().position(|&b| b == b',')?;
        let quote = comma
            + 1
            + bytes[comma + 1..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())?;
        (bytes[quote] == b'"').then_some(quote)
    }

    /// A string value, escapes decoded (borrowed when it has none).
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.pos;
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
                }
                b'\\' => return self.escaped_string(start).map(Cow::Owned),
                0..=0x1f => return Err(malformed("control character in string", self.pos)),
                _ => self.pos += 1,
            }
        }
        Err(malformed("unterminated string", start))
    }

    fn escaped_string(&mut self, start: usize) -> Result<String> {
        let mut out = String::from(&self.text[start..self.pos]);
        let bytes = self.bytes();
        loop {
            let run = self.pos;
            while let Some(&b) = bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run..self.pos]);
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape = *bytes
                        .get(self.pos + 1)
                        .ok_or_else(|| malformed("escape", run))?;
                    self.pos += 2;
                    out.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(malformed("bad escape", self.pos - 1)),
                    });
                }
                Some(_) => return Err(malformed("control character in string", self.pos)),
                None => return Err(malformed("unterminated string", start)),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| malformed("\\u", self.pos))?;
        let value = u32::from_str_radix(digits, 16).map_err(|_| malformed("\\u", self.pos))?;
        self.pos += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let first = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&first) && self.text[self.pos..].starts_with("\\u")
        {
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xdc00..0xe000).contains(&second) {
                return Err(malformed("unpaired surrogate", self.pos));
            }
            0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| malformed("unpaired surrogate", self.pos))
    }

    /// The raw text of a number value.
    pub fn number(&mut self) -> Result<&'a str> {
        self.skip_ws();
        let start = self.pos;
        let bytes = self.bytes();
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(malformed("expected a number", start));
        }
        Ok(&self.text[start..self.pos])
    }

    /// Skips any value; returns its raw text.
    pub fn skip_value(&mut self) -> Result<&'a str> {
        self.skip_nested(0)
    }

    /// `skip_value` for a value inside `depth` arrays and objects; the depth bound keeps
    /// the recursion (and so the stack) small for hostile input such as `[[[[...`.
    fn skip_nested(&mut self, depth: usize) -> Result<&'a str> {
        let start = match self.peek() {
            Some(_) => self.pos,
            None => return Err(malformed("expected a value", self.pos)),
        };
        let byte = self.bytes()[self.pos];
        if matches!(byte, b'{' | b'[') && depth >= MAX_NESTING {
            return Err(malformed(
                &format!("value nested deeper than {MAX_NESTING} levels"),
                self.pos,
            ));
        }
        match byte {
            b'{' => self.object(|cursor, _| cursor.skip_nested(depth + 1).map(|_| ()))?,
            b'[' => {
                self.pos += 1;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_nested(depth + 1)?;
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(malformed("expected ',' or ']'", self.pos)),
                        }
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                let word_end = self.text[self.pos..]
                    .find(|c: char| matches!(c, ',' | '}' | ']') || c.is_ascii_whitespace())
                    .map_or(self.text.len(), |i| self.pos + i);
                let word = &self.text[self.pos..word_end];
                let valid = matches!(
                    word,
                    "true" | "false" | "null" | "NaN" | "Infinity" | "-Infinity"
                ) || word.parse::<f64>().is_ok();
                if !valid {
                    return Err(malformed("unexpected token", self.pos));
                }
                self.pos = word_end;
            }
        }
        Ok(&self.text[start..self.pos])
    }
}

/// Bytes a JSON string literal must escape: controls, `"` and `\\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Appends `text` as a JSON string literal. Non-ASCII stays UTF-8 (as orjson writes it);
/// quotes, backslashes and control characters are escaped.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + text.len() / 16 + 2);
    out.push(b'"');
    write_escaped(out, text.as_bytes());
    out.push(b'"');
}

/// Appends the inside of a JSON string literal holding `bytes` (UTF-8). Every escape
/// stands for one ASCII byte, so a text may be escaped piecewise, cut at any byte.
pub fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut run = 0;
    while let Some(offset) = bytes[run..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[usize::from(b)])
    {
        let at = run + offset;
        out.extend_from_slice(&bytes[run..at]);
        match bytes[at] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            control => out.extend_from_slice(format!("\\u{control:04x}").as_bytes()),
        }
        run = at + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_writer_and_reader() {
        for text in ["plain", "a\"b\\c", "line\nbreak\ttab\u{1}", "é ✓ 𝄞", ""] {
            let mut out = Vec::new();
            write_string(&mut out, text);
            let json = String::from_utf8(out).unwrap();
            assert_eq!(Cursor::new(&json).string().unwrap(), text, "{json}");
        }
    }

    #[test]
    fn malformed_json_is_a_json_error_not_an_archive_error() {
        let error = Cursor::new("{\"a\": 1").finish().unwrap_err();
        assert!(matches!(error, CoreError::InvalidJson(_)), "{error:?}");
        let error = crate::counts::decode_counts_json("{\"01\": 1,}").unwrap_err();
        assert!(matches!(error, CoreError::InvalidJson(_)), "{error:?}");
        assert!(error.to_string().starts_with("invalid JSON: "), "{error}");
    }

    #[test]
    fn escapes_decode() {
        let mut cursor = Cursor::new(r#""\u0030\u00e9\ud834\udd1e\/""#);
        assert_eq!(cursor.string().unwrap(), "0é𝄞/");
    }

    #[test]
    fn objects_and_skipped_values() {
        let text = r#" {"a": [1, {"b": null}, "x"], "c": 2.5e3, "d": true} "#;
        let mut cursor = Cursor::new(text);
        let mut keys = Vec::new();
        cursor
            .object(|c, key| {
                keys.push(key.into_owned());
                c.skip_value().map(|_| ())
            })
            .unwrap();
        cursor.finish().unwrap();
        assert_eq!(keys, ["a", "c", "d"]);
    }

    #[test]
    fn deeply_nested_values_are_refused_not_recursed_into() {
        // Found by tests/test_native_fuzz.py: a result archive holding `{"x": [[[...]]]}`
        // 10**6 levels deep overflowed the stack (SIGSEGV) of the Python process.
        let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
        let err = Cursor::new(&deep).skip_value().unwrap_err();
        assert!(err.to_string().contains("nested deeper than 128"), "{err}");
        let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(200_000), "}".repeat(200_000));
        assert!(Cursor::new(&deep_objects).skip_value().is_err());
        let limit = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert_eq!(Cursor::new(&limit).skip_value().unwrap(), limit);
    }

    #[test]
    fn malformed_json_is_refused() {
        for text in [
            "{",
            r#"{"a" 1}"#,
            r#"{"a": 1,}"#,
            r#"{"a": tru}"#,
            r#""\x""#,
        ] {
            let mut cursor = Cursor::new(text);
            assert!(
                cursor.skip_value().and_then(|_| cursor.finish()).is_err(),
                "{text}"
            );
        }
    }
}
