//! The integration tests, one binary: each file in tests/ is a module of it, and
//! tests/support/ is what they share (one way to run the `kompile` binary, the pipeline the
//! binary runs, outside tools that CI must have).
//!
//! `cargo test` runs them all; `cargo test --test it cluster::` runs one file's tests.

mod bake;
mod build;
mod cli;
mod cli_build;
mod cluster;
mod cluster_order;
mod conformance;
mod conventions;
mod day2;
mod diagnostics;
mod dockerfile_corpus;
mod e2e;
mod helm_chart;
mod images;
mod mutation;
mod network_policies;
mod overlays;
mod project_files;
mod shell;
mod shipping;
mod support;
mod terminal;

/// Cargo.toml turns off test discovery (`autotests = false`), so a new file in tests/ runs
/// only once it is declared above: fail instead of letting it sit there unrun.
#[test]
fn every_test_file_is_a_module() {
    let this = std::fs::read_to_string(support::root().join("tests/it.rs")).expect("tests/it.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(support::root().join("tests")).expect("tests/").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else { continue };
        if module != "it" && !this.contains(&format!("\nmod {module};\n")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "add `mod NAME;` to tests/it.rs for {missing:?}");
}
