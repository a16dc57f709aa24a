//! Counts decoding (bit strings to integers) and splitting combined counts per program.
//! Pure Rust: nothing here knows about Python.

use crate::error::CoreError;
use std::collections::BTreeMap;

/// Parses a measured bit string (most significant bit first, so the last character is
/// classical bit 0) into its integer value.
pub fn parse_bits(bits: &str) -> Result<u64, CoreError> {
    if bits.is_empty() || bits.len() > 64 {
        return Err(CoreError::InvalidCounts(format!(
            "counts key must be a binary string of 1 to 64 bits: {bits:?}"
        )));
    }
    let mut value: u64 = 0;
    for c in bits.bytes() {
        let bit = match c {
            b'0' => 0,
            b'1' => 1,
            _ => {
                return Err(CoreError::InvalidCounts(format!(
                    "counts key must be a binary string: {bits:?}"
                )))
            }
        };
        value = (value << 1) | bit;
    }
    Ok(value)
}

/// Splits counts of a combined register into one counts map per program; program 0 owns
/// the lowest `bit_widths[0]` bits, program 1 the next ones, and so on.
pub fn split_counts(
    counts: &[(u64, u64)],
    bit_widths: &[u32],
) -> Result<Vec<BTreeMap<u64, u64>>, CoreError> {
    let total: u32 = bit_widths.iter().sum();
    if total > 64 {
        return Err(CoreError::InvalidCounts(format!(
            "bit widths add up to {total} bits, more than the 64 a key can hold"
        )));
    }
    let mut split = vec![BTreeMap::new(); bit_widths.len()];
    for &(key, count) in counts {
        if total < 64 && key >> total != 0 {
            return Err(CoreError::InvalidCounts(format!(
                "counts key {key} does not fit in the {total} bits of the programs"
            )));
        }
        let mut offset = 0u32;
        for (program, &width) in bit_widths.iter().enumerate() {
            let mask = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            let part = if offset == 64 {
                0
            } else {
                (key >> offset) & mask
            };
            *split[program].entry(part).or_insert(0) += count;
            offset += width;
        }
    }
    Ok(split)
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
        let p0: Vec<_> = split[0].iter().map(|(k, v)| (*k, *v)).collect();
        let p1: Vec<_> = split[1].iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(p0, vec![(0, 490), (1, 10), (2, 20), (3, 480)]);
        assert_eq!(p1, vec![(0, 500), (1, 20), (3, 480)]);
    }

    #[test]
    fn key_wider_than_programs_is_refused() {
        assert!(split_counts(&[(0b100, 1)], &[1, 1]).is_err());
    }
}
