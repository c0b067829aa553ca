//! What kompile reports for each Dockerfile of the corpus (fixtures/dockerfiles/corpus/), checked
//! alone as `kompile check FILE` does. The same corpus backs docs/hadolint-comparison.md.

use kompile::diag::{Diagnostics, render};
use kompile::source::Sources;

use crate::support;

#[test]
fn corpus_reports_match_snapshots() {
    let dir = support::root().join("fixtures/dockerfiles/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 30, "the corpus should have at least 30 files");
    let root = support::root().display().to_string();
    let mut out = String::new();
    for path in paths {
        let mut sources = Sources::default();
        let mut diags = Diagnostics::default();
        if let Some(build) = kompile::load::dockerfiles::load_alone(&path, &mut sources, &mut diags) {
            kompile::check::dockerfile::check_alone(&build, &mut diags);
        }
        for diagnostic in diags.sorted() {
            let line = render::short(&support::replace_in(&diagnostic, &root, "[ROOT]"), &sources);
            out.push_str(&line.replace(&format!("{root}/"), ""));
            out.push('\n');
        }
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("dockerfile-corpus", out);
    });
}
