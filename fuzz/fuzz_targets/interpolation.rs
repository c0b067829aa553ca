//! Bytes as one string for Compose interpolation (`${VAR:-default}` and friends); every
//! offset in the result or the error must lie inside the input.

#![no_main]

#[path = "../../tests/support/hostile.rs"]
mod hostile;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(problem) = hostile::interpolation(data) {
        panic!("{problem}");
    }
});
