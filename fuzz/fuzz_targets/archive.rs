//! Any bytes through the job archive reader; what it accepts must write back and read the same.
#![no_main]

use _core::archive::{read_single_entry, write_zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((name, content)) = read_single_entry(data, usize::MAX) else {
        return;
    };
    if name.len() <= usize::from(u16::MAX) {
        let zip = write_zip(&name, &content).expect("a read entry can be written");
        let again = read_single_entry(&zip, usize::MAX).expect("a written archive reads back");
        assert!(again == (name, content));
    }
});
