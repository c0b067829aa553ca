//! Bytes as one compose file through everything `kompile build` does, then the output
//! itself is checked: when the build reports no error, the YAML and the JSON it would print
//! must parse back to the same objects, and those objects must pass the API server's checks
//! (tests/support/validate.rs). A build that succeeds must never print what a cluster rejects.

#![no_main]

#[path = "../../tests/support/hostile.rs"]
mod hostile;
#[path = "../../tests/support/validate.rs"]
mod validate;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some(objects) = hostile::build_bytes(data, std::path::Path::new("/nonexistent/kompile-fuzz")) else {
        return;
    };
    let expected: Vec<Value> = objects.iter().map(kompile::emit::Object::to_value).collect();
    let yaml = kompile::render::yaml(&objects);
    let from_yaml: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap_or_else(|e| panic!("YAML does not parse: {e}"));
    assert_eq!(from_yaml, expected, "the YAML reads back differently");
    let problems = validate::objects(&expected);
    assert!(problems.is_empty(), "a successful build printed invalid objects:\n{}", problems.join("\n"));
});
