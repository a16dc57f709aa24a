//! Float text identical to Python's `repr(float)` (and so to `str(float)` and `f"{x}"`).
//!
//! Python prints the shortest digit string that reads back to the same double, in fixed
//! notation when the decimal exponent lies in -4..16 and in `1e-05` style otherwise.
//! Rust's `{:e}` yields the same shortest digits, so only the layout is done here.

use std::fmt::Write;

/// Appends the `repr` of `value` to `out`.
pub fn write_float_repr(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
        return;
    }
    let mut sci = StackBuf::new();
    // `{:e}` writes "-d.ddde-x": the shortest round-trip digits and a decimal exponent.
    write!(sci, "{value:e}").expect("a float's exponent form fits the buffer");
    let text = sci.as_str();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = text
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let mut digits = StackBuf::new();
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        digits.push(b);
    }
    if negative {
        out.push('-');
    }
    match half_even_digits(value.abs(), digits.as_str(), exponent) {
        Some((even, decpt)) => layout(out, &even, decpt),
        None => layout(out, digits.as_str(), exponent + 1),
    }
}

/// Rust and CPython agree on the shortest digit count, but when the double lies exactly
/// halfway between two shortest candidates Rust rounds half up and CPython half to even
/// (`1840060703092231.25` prints `...231.2` in Python). Returns CPython's digits and
/// decimal point in that case, None otherwise.
fn half_even_digits(value: f64, digits: &str, exponent: i32) -> Option<(String, i32)> {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut mantissa, mut exp2) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return None;
    }
    let zeros = mantissa.trailing_zeros();
    mantissa >>= zeros;
    exp2 += zeros as i32;
    // An integer (exp2 >= 0) cannot sit on a decimal midpoint of its shortest digits.
    if exp2 >= 0 {
        return None;
    }
    // value = mantissa * 5^k / 10^k exactly; with mantissa odd the last digit is a 5.
    let k = (-exp2) as u32;
    let exact = 5u128.checked_pow(k)?.checked_mul(u128::from(mantissa))?;
    let exact_digits = exact.to_string();
    if exact_digits.len() != digits.len() + 1 {
        return None;
    }
    let below = exact / 10;
    let rust_choice: u128 = digits.parse().ok()?;
    if rust_choice != below && rust_choice != below + 1 {
        return None;
    }
    let even = if below % 2 == 0 { below } else { below + 1 };
    if even == rust_choice {
        return None;
    }
    let mut text = even.to_string();
    let mut decpt = exponent + 1;
    if text.len() > digits.len() {
        decpt += 1;
    }
    while text.len() > 1 && text.ends_with('0') {
        text.pop();
    }
    // Only take the even candidate if it reads back to the same double.
    let candidate: f64 = format!("0.{text}e{decpt}").parse().ok()?;
    (candidate == value).then_some((text, decpt))
}

/// `repr` of `value` as a new string.
pub fn float_repr(value: f64) -> String {
    let mut out = String::with_capacity(24);
    write_float_repr(&mut out, value);
    out
}

/// Lays out `0.<digits> * 10^decpt` the way CPython's `float_repr_style = 'short'` does.
fn layout(out: &mut String, digits: &str, decpt: i32) {
    let n = digits.len() as i32;
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        // Python writes the exponent signed and with at least two digits: 1e-05, 1e+16.
        let exp = decpt - 1;
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let magnitude = exp.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        let _ = write!(out, "{magnitude}");
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(digits);
    } else if decpt >= n {
        out.push_str(digits);
        for _ in 0..decpt - n {
            out.push('0');
        }
        out.push_str(".0");
    } else {
        let (int_part, frac_part) = digits.split_at(decpt as usize);
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac_part);
    }
}

/// A fixed buffer for the at most 25 bytes a `{:e}` float needs, so no allocation happens.
struct StackBuf {
    bytes: [u8; 32],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            bytes: [0; 32],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only ASCII is written")
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::float_repr;

    #[test]
    fn matches_python_repr_on_known_values() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (2.0, "2.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1.2345e-5, "1.2345e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e100, "1e+100"),
            (1e-300, "1e-300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (std::f64::consts::PI, "3.141592653589793"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100.0"),
            (123.456, "123.456"),
            (1840060703092231.2, "1840060703092231.2"),
            (226145521278773.62, "226145521278773.62"),
            (-19326346639481.562, "-19326346639481.562"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(value, expected) in cases {
            assert_eq!(float_repr(value), expected, "repr of {value:e}");
        }
    }
}
