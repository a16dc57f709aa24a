//! Any text through the three counts JSON decoders (the first byte picks one), which must
//! return an error or counts, never panic.
#![no_main]

use _core::counts::{decode_counts_json, decode_divided_counts_json, decode_sampling_result};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 3 {
        0 => drop(decode_counts_json(text)),
        1 => drop(decode_divided_counts_json(text)),
        _ => drop(decode_sampling_result(text)),
    }
});
