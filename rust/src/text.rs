//! Number text, in one place: integers in decimal, and floats exactly as Python's
//! `repr(float)` (so `str(float)` and `f"{x}"`), which is how quri-parts writes QASM angles
//! and orjson writes JSON numbers. Pure Rust.
//!
//! Python prints the shortest digit string that reads back to the same double (ties between
//! two shortest candidates go to the even one), in fixed notation when the decimal point
//! position `decpt` (value = 0.d1d2... x 10^decpt) lies in -3..=16, and as `d.ddde-05` /
//! `de+16` otherwise. Ryu computes the same digits (round half to even included); its own
//! layout differs from Python's, so its text is taken apart into digits and `decpt` here.

/// Appends the decimal text of `value`.
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

/// Appends `repr(value)`: `nan`, `inf`, `-inf`, or the shortest round-trip text.
pub fn write_float_repr(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if value.is_sign_negative() {
        out.push('-'); // -0.0 included, as Python does
    }
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(value.abs());
    // Ryu's fixed layouts are Python's for 1e-4 <= |value| < 1e16 (`0.001`, `12.5`,
    // `1000.0`); it also writes 1e-5..1e-4 fixed and uses its own exponent form.
    if !text.contains('e') && !text.starts_with("0.0000") {
        out.push_str(text);
        return;
    }
    let (digits, decpt) = ShortestDigits::of(text.as_bytes());
    layout(out, digits.as_str(), decpt);
}

/// The significant digits (at most 17, no leading or trailing zero; `0` for zero) of a
/// non-negative finite double.
struct ShortestDigits {
    bytes: [u8; 24],
    len: usize,
}

impl ShortestDigits {
    /// Reads Ryu's text (`0.0000ddd`, `de7`, `d.ddde-7`): the digits and the decimal point
    /// position.
    fn of(text: &[u8]) -> (Self, i32) {
        let mut digits = ShortestDigits {
            bytes: [0; 24],
            len: 0,
        };
        let mut decpt = 0i32;
        let mut seen_point = false;
        let mut rest = text;
        while let Some((&b, tail)) = rest.split_first() {
            rest = tail;
            match b {
                b'.' => seen_point = true,
                b'e' => break,
                // Before the first significant digit, a zero after the point moves it.
                b'0' if digits.len == 0 && seen_point => decpt -= 1,
                b'0' if digits.len == 0 => {}
                b'0'..=b'9' if digits.len < digits.bytes.len() => {
                    if !seen_point {
                        decpt += 1;
                    }
                    digits.bytes[digits.len] = b;
                    digits.len += 1;
                }
                _ => {}
            }
        }
        let (negative, magnitude) = match rest.split_first() {
            Some((b'-', tail)) => (true, tail),
            _ => (false, rest),
        };
        let exponent = magnitude
            .iter()
            .fold(0i32, |acc, &d| acc * 10 + i32::from(d.wrapping_sub(b'0')));
        decpt += if negative { -exponent } else { exponent };
        while digits.len > 0 && digits.bytes[digits.len - 1] == b'0' {
            digits.len -= 1;
        }
        if digits.len == 0 {
            digits.bytes[0] = b'0';
            digits.len = 1;
            return (digits, 1);
        }
        (digits, decpt)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only ASCII digits are kept")
    }
}

/// Lays out `0.<digits> x 10^decpt` the way CPython's `float_repr_style = 'short'` does.
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
        write_int(out, i64::from(magnitude));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn float_repr(value: f64) -> String {
        let mut out = String::with_capacity(24);
        write_float_repr(&mut out, value);
        out
    }

    #[test]
    fn floats_match_python_repr_on_known_values() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (2.0, "2.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (-1e-05, "-1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1.2345e-5, "1.2345e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (1e-300, "1e-300"),
            (5e-324, "5e-324"),
            (-5e-324, "-5e-324"),
            (2.225_073_858_507_201e-308, "2.225073858507201e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (std::f64::consts::PI, "3.141592653589793"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100.0"),
            (123.456, "123.456"),
            (0.001, "0.001"),
            (0.5, "0.5"),
            (1840060703092231.2, "1840060703092231.2"),
            (226145521278773.62, "226145521278773.62"),
            (-19326346639481.562, "-19326346639481.562"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(value, expected) in cases {
            assert_eq!(float_repr(value), expected, "repr of {value:e}");
        }
    }

    #[test]
    fn floats_read_back_to_themselves() {
        let mut bits = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let value = f64::from_bits(bits);
            if value.is_finite() {
                let text = float_repr(value);
                assert_eq!(text.parse::<f64>().unwrap().to_bits(), bits, "{text}");
            }
        }
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
