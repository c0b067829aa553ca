//! What kompile reports for each Dockerfile of the corpus (fixtures/dockerfiles/corpus/), checked
//! alone by `kompile check FILE`. The same corpus backs docs/hadolint-comparison.md.

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
        let relative = path.strip_prefix(support::root()).expect("inside the repository");
        let output = support::kompile(support::root()).args(["check", "--format", "short"]).arg(relative).output();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(matches!(output.status.code(), Some(0 | 1)), "{}: {stdout}", relative.display());
        // Each line a diagnostic, then a summary line, which the snapshot leaves out.
        let lines: Vec<&str> = stdout.lines().collect();
        for line in lines.split_last().map(|(_, diagnostics)| diagnostics).unwrap_or_default() {
            out.push_str(&line.replace(&root, "[ROOT]"));
            out.push('\n');
        }
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("dockerfile-corpus", out);
    });
}
