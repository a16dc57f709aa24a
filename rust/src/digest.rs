//! Fingerprints of program texts: SHA-256, as lowercase hex.
//!
//! A job set's journal records the fingerprint of each program it submitted so that a
//! resume with other programs is refused. The text is hashed where it is printed, while it
//! is still in memory, instead of being printed a second time for the hash.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The SHA-256 of `text` (its UTF-8 bytes) as 64 lowercase hex digits.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::sha256_hex;

    #[test]
    fn digests_match_the_published_test_vectors() {
        // FIPS 180-2, appendix B.1, and the digest of the empty message.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digests_hash_the_utf8_bytes() {
        assert_ne!(sha256_hex("é"), sha256_hex("e"));
        assert_eq!(sha256_hex("é").len(), 64);
    }
}
