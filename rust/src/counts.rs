//! Counts decoding (bit strings to integers) and splitting combined counts per program.
//! Pure Rust: nothing here knows about Python.

use crate::error::CoreError;
use crate::json::Cursor;
use std::collections::BTreeMap;

/// Decoded counts: `(key, count)` in document order (a repeated key: the last one wins,
/// as when the JSON is loaded into a dict).
pub type Counts = Vec<(u64, u64)>;

/// `divided_counts`: `(program index, counts)` in document order.
pub type DividedCounts = Vec<(i64, Counts)>;

/// Python-style quoting of a key for messages.
pub fn quoted(key: &str) -> String {
    if key.contains(['\'', '\\']) || key.chars().any(char::is_control) {
        format!("{key:?}")
    } else {
        format!("'{key}'")
    }
}

/// Decodes bit-string keys of one counts object, insisting that they all have the width
/// of the first one.
#[derive(Default)]
pub struct KeyDecoder {
    /// The width of the first key, once one is seen.
    pub width: Option<usize>,
}

impl KeyDecoder {
    pub fn decode(&mut self, key: &str) -> Result<u64, CoreError> {
        let value = parse_bits(key).map_err(|_| {
            CoreError::InvalidCounts(format!("counts key is not a bit string: {}", quoted(key)))
        })?;
        match self.width {
            None => self.width = Some(key.len()),
            Some(width) if width != key.len() => {
                return Err(CoreError::InvalidCounts(format!(
                    "counts key {} has {} bits where the first key has {width}",
                    quoted(key),
                    key.len()
                )))
            }
            Some(_) => {}
        }
        Ok(value)
    }
}

/// A count given as JSON number text: a non-negative integer (`-0` included, as JSON does).
pub fn parse_count(raw: &str, key: &str) -> Result<u64, CoreError> {
    let count = match raw.as_bytes() {
        b"0" | b"-0" => Some(0),
        digits @ [b'1'..=b'9', ..] => digits.iter().try_fold(0u64, |value, &b| {
            let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
            value.checked_mul(10)?.checked_add(u64::from(digit))
        }),
        _ => None,
    };
    count.ok_or_else(|| {
        CoreError::InvalidCounts(format!(
            "count of {} is not a non-negative integer: {raw}",
            quoted(key)
        ))
    })
}

/// Counts from a JSON value at `cursor`: an object `{"0101": 12, ...}`, or a string
/// holding that object's JSON text.
pub fn read_counts(cursor: &mut Cursor<'_>) -> Result<Counts, CoreError> {
    if cursor.peek() == Some(b'"') {
        let inner = cursor.string()?;
        return decode_counts_json(&inner);
    }
    if cursor.remaining() >= SPLIT_BYTES {
        return read_counts_in_two(cursor);
    }
    // Entries take ~25 bytes (`"0110...": 12, `): reserve once instead of doubling.
    let mut counts = Vec::with_capacity(cursor.remaining() / 24);
    read_counts_entries(cursor, &mut KeyDecoder::default(), &mut |entry| {
        counts.push(entry);
        Ok(())
    })?;
    Ok(counts)
}

/// Hands each `(key, count)` of the counts object at `cursor` to `entry`.
fn read_counts_entries(
    cursor: &mut Cursor<'_>,
    keys: &mut KeyDecoder,
    entry: &mut dyn FnMut((u64, u64)) -> Result<(), CoreError>,
) -> Result<(), CoreError> {
    cursor.object_of_numbers(|key, number| entry(count_entry(keys, key, number)?))
}

/// One counts member: its key decoded (one width per object), its count checked.
fn count_entry(
    keys: &mut KeyDecoder,
    key: &str,
    number: Option<&str>,
) -> Result<(u64, u64), CoreError> {
    let bits = keys.decode(key)?;
    let raw = number.ok_or_else(|| {
        CoreError::InvalidCounts(format!(
            "count of {} is not a non-negative integer",
            quoted(key)
        ))
    })?;
    Ok((bits, parse_count(raw, key)?))
}

/// Counts objects from this size on are parsed by two threads, one half each.
const SPLIT_BYTES: usize = 1 << 20;

/// A large counts object parsed on two threads: a helper parses from a member start guessed
/// near the middle while this thread parses from the start up to it. The guess only counts
/// if this thread lands exactly on it, so the result (and any error, which is found again
/// by parsing on here) is the sequential parse's.
fn read_counts_in_two(cursor: &mut Cursor<'_>) -> Result<Counts, CoreError> {
    let start = cursor.position();
    let guess = cursor.member_start_after(start + cursor.remaining() / 2);
    let estimate = cursor.remaining() / 48;
    std::thread::scope(|scope| {
        let second_half = guess.map(|guess| {
            let mut second = cursor.at(guess);
            scope.spawn(move || {
                let mut keys = KeyDecoder::default();
                let mut counts = Vec::with_capacity(estimate);
                second.members_of_numbers(None, |key, number| {
                    counts.push(count_entry(&mut keys, key, number)?);
                    Ok(())
                })?;
                Ok::<_, CoreError>((counts, keys.width, second.position()))
            })
        });
        let mut keys = KeyDecoder::default();
        let mut counts = Vec::with_capacity(2 * estimate);
        if cursor.object_start()? {
            return Ok(counts);
        }
        let stopped = cursor.members_of_numbers(guess, |key, number| {
            counts.push(count_entry(&mut keys, key, number)?);
            Ok(())
        })?;
        if !stopped {
            return Ok(counts); // the guess was not a member start: all parsed here
        }
        let joined = second_half.map(|h| h.join().expect("the counts parser does not panic"));
        match joined {
            Some(Ok((rest, width, end))) if width.is_none() || width == keys.width => {
                counts.extend(rest);
                *cursor = cursor.at(end);
            }
            // A failure (or keys of another width) in the second half: parse it here for
            // the sequential parse's exact error.
            _ => {
                cursor.members_of_numbers(None, |key, number| {
                    counts.push(count_entry(&mut keys, key, number)?);
                    Ok(())
                })?;
            }
        }
        Ok(counts)
    })
}

/// Counts from a whole JSON document.
pub fn decode_counts_json(text: &str) -> Result<Counts, CoreError> {
    let mut cursor = Cursor::new(text);
    if cursor.peek() != Some(b'{') && cursor.peek() != Some(b'"') {
        return Err(CoreError::InvalidCounts("counts is not an object".into()));
    }
    let counts = read_counts(&mut cursor)?;
    cursor.finish()?;
    Ok(counts)
}

/// A program index key of `divided_counts`, as `int(index)` reads it.
pub fn parse_program_index(key: &str) -> Result<i64, CoreError> {
    key.trim().parse::<i64>().map_err(|_| {
        CoreError::InvalidCounts(format!(
            "divided_counts key is not a program index: {}",
            quoted(key)
        ))
    })
}

/// `divided_counts` from a JSON value at `cursor`; None for null, `{}` and `""`.
pub fn read_divided_counts(cursor: &mut Cursor<'_>) -> Result<Option<DividedCounts>, CoreError> {
    match cursor.peek() {
        Some(b'n') => {
            cursor.skip_value()?;
            return Ok(None);
        }
        Some(b'"') => {
            let inner = cursor.string()?;
            if inner.is_empty() {
                return Ok(None);
            }
            return decode_divided_counts_json(&inner);
        }
        _ => {}
    }
    let mut divided = Vec::new();
    cursor.object(|c, key| {
        let index = parse_program_index(&key)?;
        divided.push((index, read_counts(c)?));
        Ok(())
    })?;
    Ok(if divided.is_empty() {
        None
    } else {
        Some(divided)
    })
}

/// `divided_counts` from a whole JSON document.
pub fn decode_divided_counts_json(text: &str) -> Result<Option<DividedCounts>, CoreError> {
    // An empty string is falsy: the reference skips it like null.
    if text.is_empty() {
        return Ok(None);
    }
    let mut cursor = Cursor::new(text);
    let divided = read_divided_counts(&mut cursor)?;
    cursor.finish()?;
    Ok(divided)
}

/// What a sampling result document holds: counts, divided counts, and the JSON text of its
/// `mitigation_details` (beside `sampling`), if any.
pub type SamplingResult = (Counts, Option<DividedCounts>, Option<String>);

/// `counts`, `divided_counts` and the `mitigation_details` text of a sampling result document:
/// `{"sampling": {...}, "mitigation_details": {...}}` as the result archive holds it, or the
/// inner `{"counts": ..., "divided_counts": ...}`.
pub fn decode_sampling_result(text: &str) -> Result<SamplingResult, CoreError> {
    let mut cursor = Cursor::new(text);
    let mut outer = SamplingFields::default();
    let mut inner = None;
    let mut details = None;
    cursor.object(|c, key| match key.as_ref() {
        "sampling" => {
            let mut fields = SamplingFields::default();
            c.object(|c, key| fields.read(c, &key))?;
            inner = Some(fields);
            Ok(())
        }
        "mitigation_details" => {
            details = Some(c.skip_value()?.to_owned());
            Ok(())
        }
        _ => outer.read(c, &key),
    })?;
    cursor.finish()?;
    let fields = inner.unwrap_or(outer);
    let counts = fields
        .counts
        .ok_or_else(|| CoreError::InvalidCounts("'counts' does not exist in result".into()))?;
    Ok((counts, fields.divided, details))
}

#[derive(Default)]
struct SamplingFields {
    counts: Option<Counts>,
    divided: Option<DividedCounts>,
}

impl SamplingFields {
    fn read(&mut self, cursor: &mut Cursor<'_>, key: &str) -> Result<(), CoreError> {
        match key {
            "counts" => self.counts = Some(read_counts(cursor)?),
            "divided_counts" => self.divided = read_divided_counts(cursor)?,
            _ => {
                cursor.skip_value()?;
            }
        }
        Ok(())
    }
}

/// Parses a measured bit string (most significant bit first, so the last character is
/// classical bit 0) into its integer value.
pub fn parse_bits(bits: &str) -> Result<u64, CoreError> {
    if bits.is_empty() || bits.len() > 64 {
        return Err(CoreError::InvalidCounts(format!(
            "counts key must be a binary string of 1 to 64 bits: {bits:?}"
        )));
    }
    // Branch-free: any byte other than '0'/'1' sets a bit above bit 0 of `stray`.
    let mut value: u64 = 0;
    let mut stray: u8 = 0;
    for &c in bits.as_bytes() {
        let digit = c.wrapping_sub(b'0');
        stray |= digit & !1;
        value = (value << 1) | u64::from(digit & 1);
    }
    if stray != 0 {
        return Err(CoreError::InvalidCounts(format!(
            "counts key must be a binary string: {bits:?}"
        )));
    }
    Ok(value)
}

/// Splits counts of a combined register into one counts list per program, each sorted by
/// key; program 0 owns the lowest `bit_widths[0]` bits, program 1 the next ones, and so on.
/// A key seen with count 0 is kept with count 0, as `Counter` updates keep it.
pub fn split_counts(counts: &[(u64, u64)], bit_widths: &[u32]) -> Result<Vec<Counts>, CoreError> {
    // Summed as u64: widths from Python may be any u32, and their u32 sum can wrap.
    let total = bit_widths
        .iter()
        .fold(0u64, |sum, &w| sum.saturating_add(u64::from(w)));
    if total > 64 {
        return Err(CoreError::InvalidCounts(format!(
            "bit widths add up to {total} bits, more than the 64 a key can hold"
        )));
    }
    if let Some(&(key, _)) = counts
        .iter()
        .find(|&&(key, _)| total < 64 && key >> total != 0)
    {
        return Err(CoreError::InvalidCounts(format!(
            "counts key {key} does not fit in the {total} bits of the programs"
        )));
    }
    let mut offset = 0u32;
    let mut split = Vec::with_capacity(bit_widths.len());
    for &width in bit_widths {
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        let part = |key: u64| {
            if offset == 64 {
                0
            } else {
                (key >> offset) & mask
            }
        };
        split.push(if width <= DENSE_WIDTH {
            split_dense(counts, width, part)?
        } else {
            let mut sums: BTreeMap<u64, u64> = BTreeMap::new();
            for &(key, count) in counts {
                let sum = sums.entry(part(key)).or_insert(0);
                *sum = add_count(*sum, count, part(key))?;
            }
            sums.into_iter().collect()
        });
        offset += width;
    }
    Ok(split)
}

/// `sum + count` for the counts merged into `key`; counts past 2**64 - 1 cannot be returned.
fn add_count(sum: u64, count: u64, key: u64) -> Result<u64, CoreError> {
    sum.checked_add(count).ok_or_else(|| {
        CoreError::InvalidCounts(format!(
            "counts merged into key {key} add up to more than 2**64 - 1"
        ))
    })
}

/// Programs this narrow are summed in a table indexed by key instead of a map.
const DENSE_WIDTH: u32 = 16;

fn split_dense(
    counts: &[(u64, u64)],
    width: u32,
    part: impl Fn(u64) -> u64,
) -> Result<Counts, CoreError> {
    let mut sums = vec![0u64; 1 << width];
    let mut seen = vec![false; 1 << width];
    for &(key, count) in counts {
        let index = part(key) as usize;
        sums[index] = add_count(sums[index], count, part(key))?;
        seen[index] = true;
    }
    Ok((0..sums.len())
        .filter(|&i| seen[i])
        .map(|i| (i as u64, sums[i]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_character_is_bit_zero() {
        assert_eq!(parse_bits("01").unwrap(), 1);
        assert_eq!(parse_bits("10").unwrap(), 2);
        assert_eq!(parse_bits("0000").unwrap(), 0);
    }

    #[test]
    fn non_binary_key_is_refused() {
        assert!(parse_bits("012").is_err());
        assert!(parse_bits("").is_err());
    }

    #[test]
    fn split_matches_the_contract_example() {
        // contract: {"0000":490,"0001":10,"0110":20,"1111":480} with two 2-bit programs
        let counts = [(0b0000, 490), (0b0001, 10), (0b0110, 20), (0b1111, 480)];
        let split = split_counts(&counts, &[2, 2]).unwrap();
        assert_eq!(split[0], vec![(0, 490), (1, 10), (2, 20), (3, 480)]);
        assert_eq!(split[1], vec![(0, 500), (1, 20), (3, 480)]);
        let wide = split_counts(&counts, &[1, 20]).unwrap();
        assert_eq!(wide[1], vec![(0, 500), (3, 20), (7, 480)]);
    }

    #[test]
    fn json_counts_decode_and_refuse_bad_entries() {
        let counts = decode_counts_json(r#"{"00": 490, "01": 10, "11": 0}"#).unwrap();
        assert_eq!(counts, vec![(0, 490), (1, 10), (3, 0)]);
        let nested = decode_counts_json(r#""{\"1\": 3}""#).unwrap();
        assert_eq!(nested, vec![(1, 3)]);
        for bad in [
            r#"{"0a": 1}"#,
            r#"{"01": -1}"#,
            r#"{"01": 1.5}"#,
            r#"{"01": 1, "1": 2}"#,
            "[1]",
        ] {
            assert!(decode_counts_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sampling_results_decode_counts_and_divided_counts() {
        let text = r#"{"sampling": {"counts": {"0001": 10, "1111": 5},
                       "divided_counts": {"0": {"01": 10, "11": 5}, "1": "{\"00\": 10, \"11\": 5}"}}}"#;
        let (counts, divided, details) = decode_sampling_result(text).unwrap();
        assert_eq!(counts, vec![(1, 10), (15, 5)]);
        assert!(details.is_none());
        assert_eq!(
            divided.unwrap(),
            vec![(0, vec![(1, 10), (3, 5)]), (1, vec![(0, 10), (3, 5)])]
        );
        let (_, none, _) =
            decode_sampling_result(r#"{"counts": {"1": 1}, "divided_counts": null}"#).unwrap();
        assert!(none.is_none());
        let mitigated = r#"{"sampling": {"counts": {"1": 1}},
                            "mitigation_details": {"readout": {"before": {"counts": {"0": 1}}}}}"#;
        let (counts, _, details) = decode_sampling_result(mitigated).unwrap();
        assert_eq!(counts, vec![(1, 1)]);
        assert_eq!(
            details.as_deref(),
            Some(r#"{"readout": {"before": {"counts": {"0": 1}}}}"#)
        );
    }

    #[test]
    fn long_counts_decode_whole() {
        let entries: Vec<String> = (0..40_000u64)
            .map(|k| format!("\"{k:016b}\": {}", k % 7))
            .collect();
        let text = format!(
            "{{\"sampling\": {{\"counts\": {{{}}}}}}}",
            entries.join(", ")
        );
        let (counts, divided, _) = decode_sampling_result(&text).unwrap();
        assert_eq!(
            counts,
            (0..40_000u64).map(|k| (k, k % 7)).collect::<Vec<_>>()
        );
        assert!(divided.is_none());
        let missing = decode_sampling_result(r#"{"sampling": {"divided_counts": null}}"#);
        assert!(missing.is_err());
    }

    fn sequential(text: &str) -> Result<Counts, CoreError> {
        let mut counts = Vec::new();
        read_counts_entries(
            &mut Cursor::new(text),
            &mut KeyDecoder::default(),
            &mut |e| {
                counts.push(e);
                Ok(())
            },
        )?;
        Ok(counts)
    }

    fn big_counts(entries: usize, edit: impl Fn(usize, String) -> String) -> String {
        let members: Vec<String> = (0..entries)
            .map(|k| edit(k, format!("\"{k:020b}\": {}", k % 9)))
            .collect();
        format!("{{{}}}", members.join(", "))
    }

    #[test]
    fn large_counts_split_in_two_equal_the_sequential_parse() {
        let n = 60_000; // ~1.8 MB, above SPLIT_BYTES
        let cases = [
            big_counts(n, |_, m| m),
            big_counts(n, |k, m| {
                if k == n * 3 / 4 {
                    m.replace(": ", ": -")
                } else {
                    m
                }
            }),
            big_counts(n, |k, m| if k == n / 4 { m.replace('"', "'") } else { m }),
            big_counts(n, |k, m| {
                if k > n / 2 {
                    m.replacen("\"", "\"0", 1)
                } else {
                    m
                }
            }),
            big_counts(n, |k, m| {
                if k == n / 2 + 1 {
                    format!("\"x,\\\" \": 1, {m}")
                } else {
                    m
                }
            }),
            big_counts(n, |k, m| {
                m.replace(", ", ",\n  ").replace(": ", ":") + if k == 0 { " " } else { "" }
            }),
        ];
        for text in &cases {
            assert!(text.len() > SPLIT_BYTES);
            let mut cursor = Cursor::new(text);
            let split = read_counts(&mut cursor).and_then(|c| cursor.finish().map(|()| c));
            assert_eq!(split, sequential(text), "{}", &text[..80]);
        }
        assert_eq!(sequential(&cases[0]).unwrap().len(), n);
    }

    #[test]
    fn counts_are_plain_non_negative_integers() {
        assert_eq!(parse_count("0", "k").unwrap(), 0);
        assert_eq!(parse_count("-0", "k").unwrap(), 0);
        assert_eq!(parse_count("18446744073709551615", "k").unwrap(), u64::MAX);
        for bad in ["-1", "1.0", "1e3", "01", "", "18446744073709551616", "1-"] {
            assert!(parse_count(bad, "k").is_err(), "{bad}");
        }
    }

    #[test]
    fn widths_whose_u32_sum_wraps_are_refused() {
        // Found by tests/test_native_fuzz.py: the u32 sum overflowed (a panic in debug builds,
        // a wrapped total of 0 and a shift by 2**32 - 1 in release builds).
        let err = split_counts(&[(0, 1)], &[u32::MAX, 1]).unwrap_err();
        assert!(err.to_string().contains("4294967296 bits"), "{err}");
    }

    #[test]
    fn merged_counts_past_u64_are_refused() {
        // Found by tests/test_native_fuzz.py: `+=` overflowed in the dense and the map path.
        for widths in [&[1u32, 1][..], &[20, 1]] {
            let high = 1u64 << widths[0];
            let err = split_counts(&[(0, u64::MAX), (high, 1)], widths).unwrap_err();
            assert!(
                err.to_string().contains("more than 2**64 - 1"),
                "{widths:?}: {err}"
            );
        }
        let exact = split_counts(&[(0, u64::MAX - 1), (2, 1)], &[1, 1]).unwrap();
        assert_eq!(exact[0], vec![(0, u64::MAX)]);
    }

    #[test]
    fn key_wider_than_programs_is_refused() {
        assert!(split_counts(&[(0b100, 1)], &[1, 1]).is_err());
    }
}
