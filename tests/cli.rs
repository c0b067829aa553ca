//! The `kompile` binary end to end: what only the command line can show.

use std::process::Output;

use kompile::diag::Code;

use crate::support;

fn kompile(args: &[&str]) -> Output {
    kompile_with_width(args, 80)
}

/// `columns` wide; wide enough not to wrap when the output contains a machine's temp path.
fn kompile_with_width(args: &[&str], columns: usize) -> Output {
    support::kompile(support::root()).args(args).columns(columns).output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// K007: `--out-dir` into a directory with someone else's files fails with exit code 1
/// and leaves the directory alone.
#[test]
fn build_refuses_an_out_dir_with_foreign_files() {
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let out = scratch.path().join("k8s");
    std::fs::create_dir(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap_or_else(|e| panic!("{e}"));
    let out_arg = out.display().to_string();
    let output = kompile_with_width(&["build", "fixtures/diagnostics/K007/compose.yaml", "--out-dir", &out_arg], 400);
    assert_eq!(output.status.code(), Some(1));
    let names: Vec<_> =
        std::fs::read_dir(&out).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")], "the directory was changed");
    let stderr = text(&output.stderr).replace(&scratch.path().display().to_string(), "[TEMP]");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli-K007-stderr", stderr);
    });
}

#[test]
fn explain_prints_each_page() {
    for &code in Code::ALL {
        let page = std::fs::read_to_string(support::root().join("docs/codes").join(format!("{}.md", code.id())))
            .unwrap_or_else(|e| panic!("{}: {e}", code.id()));
        for query in [code.id().to_string(), code.id().to_lowercase(), code.name().to_string()] {
            let output = kompile(&["explain", &query]);
            assert_eq!(output.status.code(), Some(0), "explain {query}");
            assert_eq!(text(&output.stdout), page, "explain {query}");
        }
    }
}

#[test]
fn explain_suggests_a_close_code() {
    let output = kompile(&["explain", "unknwn-key"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli-explain-unknown", text(&output.stderr));
    });
}

#[test]
fn explain_lists_every_code() {
    let output = kompile(&["explain", "--list"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), Code::ALL.len());
    for code in Code::ALL {
        let line = stdout.lines().find(|l| l.starts_with(code.id())).unwrap_or_default();
        assert!(line.contains(code.name()) && line.contains(code.summary()), "{line}");
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli-explain-list", stdout);
    });
}

#[test]
fn explain_needs_a_code() {
    assert_eq!(kompile(&["explain"]).status.code(), Some(2));
    assert_eq!(kompile(&["explain", "K101", "--list"]).status.code(), Some(2));
}

/// `down` reads what to delete from the cluster, so it has no `client` dry run: asking for
/// one is a usage error, not a silent server dry run.
#[test]
fn down_has_no_client_dry_run() {
    let output = kompile(&["down", "--dry-run=client"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("server"), "{}", text(&output.stderr));
}
