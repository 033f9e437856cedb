//! `read_bytes(file, "xml", bytes)` on arbitrary bytes: see `case_common.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "case_common.rs"]
mod case_common;

fuzz_target!(|data: &[u8]| {
    case_common::check("xml", "fuzz/input.xml", data);
});
