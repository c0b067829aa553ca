//! Bytes as a Dockerfile: parse, resolve stages, build every instruction view, substitute
//! every word; every span in the tree must lie inside the text.

#![no_main]

#[path = "../../tests/support/hostile.rs"]
mod hostile;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(problem) = hostile::dockerfile(data) {
        panic!("{problem}");
    }
});
