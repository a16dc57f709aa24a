//! Any text through the Pauli string parser: an error, or factors sorted by distinct qubit.
#![no_main]

use _core::pauli::parse_pauli;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(factors) = parse_pauli(text) {
        assert!(factors.windows(2).all(|w| w[0].0 < w[1].0), "{text:?}");
        assert!(factors.iter().all(|&(_, p)| matches!(p, 'X' | 'Y' | 'Z')));
    }
});
