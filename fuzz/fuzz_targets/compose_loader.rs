//! Bytes as one compose file, loaded from memory (`load::load_str`), then checked, lowered,
//! emitted and rendered; every diagnostic must point inside the text. `include`, `extends`
//! and `env_file` entries look under a directory that does not exist, so they fail to read.

#![no_main]

#[path = "../../tests/support/hostile.rs"]
mod hostile;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(problem) = hostile::compose_bytes(data, std::path::Path::new("/nonexistent/kompile-fuzz")) {
        panic!("{problem}");
    }
});
