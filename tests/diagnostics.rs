//! The diagnostic catalog: every code has a page in docs/codes/, a fixture in
//! fixtures/diagnostics/<ID>/ that raises it with a case beside it in <ID>/quiet/ that must
//! not, and a snapshot of how it renders (human, short and JSON). A new code without all of
//! them fails here.

use std::path::PathBuf;

use kompile::diag::{Code, Diagnostic, render};
use kompile::source::Sources;

use crate::support;

fn page(code: Code) -> PathBuf {
    support::root().join("docs/codes").join(format!("{}.md", code.id()))
}

fn fixture(code: Code) -> PathBuf {
    support::root().join("fixtures/diagnostics").join(code.id())
}

/// The should-not-fire case of a code: a project like the fixture's, written the way the
/// rule asks, so the rule has nothing to report.
fn quiet(code: Code) -> PathBuf {
    fixture(code).join("quiet")
}

/// Codes whose should-fire and should-not-fire cases are not the two fixture directories, and
/// where they are instead. These are the only exceptions.
fn cases_elsewhere(code: Code) -> Option<&'static str> {
    match code {
        Code::WriteFailed => Some("write_failed_renders: the output directory is the input, not the project"),
        _ if cluster_code(code) => Some(
            "tests/cluster.rs: a scenario against the stand-in server raises each K4xx code \
             (every_cluster_code_has_a_snapshot); the scenarios that apply and diff cleanly \
             assert exit code 0",
        ),
        _ => None,
    }
}

/// Codes that only the CLI raises, with an input the pipeline cannot see (an output
/// directory); tested through the binary in tests/cli.rs and below by hand.
const CLI_ONLY: &[Code] = &[Code::WriteFailed];

/// Cluster codes (K4xx) are raised by `apply` and `diff` talking to an API server, which no
/// compose fixture can do; tests/cluster.rs raises them against the stand-in server.
fn cluster_code(code: Code) -> bool {
    code.id().starts_with("K4")
}

#[test]
fn every_code_has_a_page() {
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let path = page(code);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let title = format!("# {} {}", code.id(), code.name());
                if text.lines().next() != Some(title.as_str()) {
                    problems.push(format!("{}: the first line must be `{title}`", path.display()));
                }
            }
            Err(error) => problems.push(format!("{}: {error}", path.display())),
        }
    }
    assert!(problems.is_empty(), "pages missing or wrong:\n{}", problems.join("\n"));
}

/// The "kompile prints" part of each page is what kompile prints for the fixture, run in the
/// fixture's directory (shown as /home/me/shop where the message names it).
#[test]
fn pages_show_what_kompile_prints() {
    let root = support::root().display().to_string();
    let mut problems = Vec::new();
    for &code in Code::ALL {
        if CLI_ONLY.contains(&code) || cluster_code(code) {
            continue;
        }
        let text = std::fs::read_to_string(page(code)).unwrap_or_default();
        let (diagnostics, sources) = support::diagnose(&support::fixture_options(&fixture(code)));
        for diagnostic in diagnostics.iter().filter(|d| d.code == code) {
            let line = render::short(&support::replace_in(diagnostic, &root, "[ROOT]"), &sources)
                .replace(&format!("[ROOT]/fixtures/diagnostics/{}", code.id()), "/home/me/shop")
                .replace(&format!("fixtures/diagnostics/{}/", code.id()), "");
            if !text.contains(&line) {
                problems.push(format!("{}.md does not show: {line}", code.id()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The index's tables are the code table: one row per code (link, name, severity, summary),
/// in the table of its group (K0xx, K1xx, …), in table order, so the two cannot drift apart.
/// The rows are never edited by hand: `INSTA_UPDATE=always` (as for the snapshots) rewrites
/// them from the table; only a new group needs its section and table header written first.
#[test]
fn the_index_is_the_code_table() {
    let path = support::root().join("docs/codes/README.md");
    let index = std::fs::read_to_string(&path).unwrap_or_default();
    let written = index_from_table(&index);
    let rows = |text: &str| text.lines().filter(|l| is_index_row(l)).map(str::to_string).collect::<Vec<_>>();
    let (have, want) = (rows(&index), rows(&written));
    let mut wrong: Vec<String> =
        want.iter().filter(|r| !have.contains(r)).map(|r| format!("missing or different: {r}")).collect();
    wrong.extend(have.iter().filter(|r| !want.contains(r)).map(|r| format!("not in the table: {r}")));
    let ungrouped: Vec<&str> =
        Code::ALL.iter().map(|c| c.id()).filter(|id| !written.contains(&format!("[{id}]"))).collect();
    assert!(ungrouped.is_empty(), "docs/codes/README.md has no table for the group of {ungrouped:?}: add its section");
    if written != index && std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always") {
        std::fs::write(&path, &written).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    assert!(
        wrong.is_empty() && written == index,
        "docs/codes/README.md (rewrite it with INSTA_UPDATE=always):\n{}",
        wrong.join("\n")
    );
}

fn is_index_row(line: &str) -> bool {
    line.starts_with("| [K")
}

/// `index` with each run of code rows replaced by the table's rows of the group its first row
/// is in (`K1` for `| [K101]…`).
fn index_from_table(index: &str) -> String {
    let mut out = String::new();
    let mut lines = index.lines().peekable();
    while let Some(line) = lines.next() {
        if !is_index_row(line) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        while lines.next_if(|l| is_index_row(l)).is_some() {}
        let group = line.get(3..5).unwrap_or_default();
        for code in Code::ALL.iter().filter(|c| c.id().starts_with(group)) {
            let severity = format!("{:?}", code.default_severity()).to_lowercase();
            out.push_str(&format!(
                "| [{id}]({id}.md) | `{}` | {severity} | {} |\n",
                code.name(),
                code.summary(),
                id = code.id()
            ));
        }
    }
    out
}

#[test]
fn every_code_has_a_fixture_that_raises_it() {
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let dir = fixture(code);
        if cluster_code(code) {
            continue;
        }
        if !dir.is_dir() {
            problems.push(format!("{}: no fixture", dir.display()));
            continue;
        }
        if CLI_ONLY.contains(&code) || cluster_code(code) {
            continue;
        }
        let (diagnostics, sources) = support::diagnose(&support::fixture_options(&dir));
        if !diagnostics.iter().any(|d| d.code == code) {
            let got: Vec<String> = diagnostics.iter().map(|d| render::short(d, &sources)).collect();
            problems.push(format!("{}: does not raise {}; got {got:#?}", dir.display(), code.id()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every rule has a case that fires it and a case that does not: a rule that fires on
/// everything passes the first half alone. The quiet case must load without errors, so it
/// cannot pass by failing before the rule runs.
#[test]
fn every_code_has_a_case_that_fires_and_one_that_does_not() {
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let dir = quiet(code);
        if let Some(elsewhere) = cases_elsewhere(code) {
            if dir.exists() {
                problems.push(format!("{}: {} is tested elsewhere ({elsewhere})", dir.display(), code.id()));
            }
            continue;
        }
        if !dir.is_dir() {
            problems.push(format!("{}: no should-not-fire case", dir.display()));
            continue;
        }
        let (diagnostics, sources) = support::diagnose(&support::fixture_options(&dir));
        let wrong: Vec<String> =
            diagnostics.iter().filter(|d| d.code == code || d.is_error()).map(|d| render::short(d, &sources)).collect();
        if !wrong.is_empty() {
            problems.push(format!("{}: must not raise {} or any error; got {wrong:#?}", dir.display(), code.id()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rendered_diagnostics_match_snapshots() {
    for &code in Code::ALL {
        if CLI_ONLY.contains(&code) || cluster_code(code) {
            continue;
        }
        let (diagnostics, sources) = support::diagnose(&support::fixture_options(&fixture(code)));
        let root = support::root().display().to_string();
        let ours: Vec<Diagnostic> =
            diagnostics.iter().filter(|d| d.code == code).map(|d| support::replace_in(d, &root, "[ROOT]")).collect();
        assert_rendering(code, &ours, &sources);
    }
}

/// K007: the real `--out-dir` writer refuses a directory with someone else's files.
#[test]
fn write_failed_renders() {
    let compiled = support::compile(&support::fixture_options(&fixture(Code::WriteFailed)));
    let objects = compiled.objects.unwrap_or_else(|| panic!("the K007 fixture must compile: {}", compiled.diagnostics));
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let out = scratch.path().join("k8s");
    std::fs::create_dir(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap_or_else(|e| panic!("{e}"));
    let error = match kompile::render::write_dir(&objects, &out) {
        Ok(_) => panic!("write_dir replaced a directory with foreign files"),
        Err(error) => error,
    };
    let diagnostic = kompile::cmd::build::write_failed(&out, &error);
    let diagnostic = support::replace_in(&diagnostic, &scratch.path().display().to_string(), "[TEMP]");
    assert_rendering(Code::WriteFailed, &[diagnostic], &Sources::default());
    // The should-not-fire case: a directory that does not exist yet is written.
    let fresh = scratch.path().join("fresh");
    assert!(kompile::render::write_dir(&objects, &fresh).is_ok_and(|paths| !paths.is_empty()));
}

fn assert_rendering(code: Code, diagnostics: &[Diagnostic], sources: &Sources) {
    assert!(!diagnostics.is_empty(), "{} raised nothing", code.id());
    let human: String = diagnostics.iter().map(|d| render::human(d, sources, false, 80)).collect();
    let short: String = diagnostics.iter().map(|d| render::short(d, sources) + "\n").collect();
    let json: Vec<serde_json::Value> = diagnostics.iter().map(|d| render::json_value(d, sources)).collect();
    let json = serde_json::to_string_pretty(&json).unwrap_or_default();
    let text = format!("# human\n{human}\n# short\n{short}\n# json\n{json}\n");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(format!("diagnostic-{}", code.id()), text);
    });
    // Even when insta is told to accept everything, a code must end up with a snapshot.
    let stored = support::root().join("snapshots").join(format!("diagnostic-{}.snap", code.id()));
    assert!(stored.is_file(), "{} has no snapshot", stored.display());
}

/// Cluster codes are snapshotted by tests/cluster.rs from the real binary's stderr; a new K4xx
/// code without a `snapshots/cluster-<ID>.snap` fails here.
#[test]
fn every_cluster_code_has_a_snapshot() {
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|&&code| cluster_code(code))
        .map(|code| format!("snapshots/cluster-{}.snap", code.id()))
        .filter(|path| !support::root().join(path).is_file())
        .collect();
    assert!(missing.is_empty(), "cluster codes without a snapshot (add a scenario to tests/cluster.rs): {missing:?}");
}

#[test]
fn snapshots_belong_to_codes() {
    let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
    let stale: Vec<String> = std::fs::read_dir(support::root().join("snapshots"))
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|name| {
            let id = name
                .strip_prefix("diagnostic-")
                .or_else(|| name.strip_prefix("cluster-"))
                .and_then(|n| n.strip_suffix(".snap"));
            id.is_some_and(|id| !ids.contains(&id))
        })
        .collect();
    assert!(stale.is_empty(), "snapshots for codes that do not exist: {stale:?}");
}
