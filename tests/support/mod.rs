//! Shared by the integration tests: one way to run the `kompile` binary ([`kompile`]), the
//! pipeline the binary runs called on a fixture with a fixed environment ([`compile`],
//! [`diagnose`]), outside programs that CI must have ([`tool`]), and diagnostics rendered
//! with stable paths.

#![allow(dead_code)]

pub mod hostile;
pub mod run;
pub mod standin;
pub mod validate;

pub use run::{Run, kompile};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kompile::cmd::build::Choices;
use kompile::diag::{Diagnostic, Diagnostics, render};
use kompile::emit::Object;
use kompile::load::Options;
use kompile::source::Sources;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shell environment that does not depend on the machine running the tests: the one the
/// binary runs with ([`run::ENVIRONMENT`]).
pub fn shell() -> BTreeMap<String, String> {
    run::ENVIRONMENT.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

pub fn options(dir: &Path) -> Options {
    let mut files = Vec::new();
    for name in ["compose.yaml", "compose.override.yaml"] {
        if dir.join(name).is_file() && (name == "compose.yaml" || !dir.join("no-override").exists()) {
            files.push(dir.join(name));
        }
    }
    Options { files, shell: shell(), working_dir: root(), ..Options::default() }
}

/// Options for a diagnostics fixture: its compose.yaml like [`options`], or, for a directory
/// without one, a search for a compose file starting there.
pub fn fixture_options(dir: &Path) -> Options {
    if dir.join("compose.yaml").is_file() {
        return options(dir);
    }
    Options { project_directory: Some(dir.to_path_buf()), shell: shell(), working_dir: root(), ..Options::default() }
}

/// The diagnostics of the build pipeline ([`build`]), sorted, with the sources they point into.
pub fn diagnose(options: &Options) -> (Vec<Diagnostic>, Sources) {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    build(options, &mut sources, &mut diags);
    (diags.sorted(), sources)
}

/// A diagnostic with `from` replaced by `to` in its message, labels and help, so paths in
/// the text do not depend on where the repository is.
pub fn replace_in(diagnostic: &Diagnostic, from: &str, to: &str) -> Diagnostic {
    let mut out = diagnostic.clone();
    out.message = out.message.replace(from, to);
    for label in out.primary.iter_mut().chain(out.secondary.iter_mut()) {
        label.text = label.text.replace(from, to);
    }
    out.help = out.help.map(|h| h.replace(from, to));
    out
}

/// `kompile build`'s own pipeline, [`kompile::cmd::build::pipeline`], without `--namespace` or
/// `--registry`: the project's `x-kompile` levels, the namespace check and all.
pub fn build(options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Vec<Object>> {
    kompile::cmd::build::pipeline(options, &Choices::default(), sources, diags).map(|(objects, _)| objects)
}

pub struct Compiled {
    pub objects: Option<Vec<Object>>,
    pub diagnostics: String,
}

/// The build pipeline on `options`, as `kompile build` runs it ([`build`]).
pub fn compile(options: &Options) -> Compiled {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let objects = build(options, &mut sources, &mut diags);
    let diagnostics = short(diags, &sources);
    Compiled { objects, diagnostics }
}

/// Diagnostics one per line, with the repository path replaced so snapshots are stable.
pub fn short(diags: Diagnostics, sources: &Sources) -> String {
    let root = root().display().to_string();
    diags.sorted().iter().map(|d| render::short(d, sources).replace(&root, "[ROOT]") + "\n").collect()
}

/// Every fixture directory (those with a compose.yaml) under `fixtures/<group>`.
pub fn fixtures(group: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join(group))
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.join("compose.yaml").is_file()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

pub fn name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Whether this is a CI run (`CI=true`, as CI sets it and .ci/run exports it).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// An outside program a test needs, `found` by the caller: `None` means it is missing. On a
/// developer's machine the test then skips, saying so on standard error; under CI a missing
/// program fails the test, since .ci/run installs every one (`install` says how).
#[track_caller]
pub fn tool<T>(what: &str, install: &str, found: Option<T>) -> Option<T> {
    if found.is_none() {
        assert!(!ci(), "{what} is missing, and CI must run every test ({install})");
        skip(&format!("{what} not found ({install})"));
    }
    found
}

/// Whether util-linux `script`, which gives kompile a pseudo-terminal
/// ([`Kompile::on_terminal`](run::Kompile::on_terminal)), is here; a skip, or a failure
/// under CI, when it is not.
pub fn script_found() -> bool {
    let found = runs("script", &["--version"]).then_some(());
    tool("`script` (util-linux)", "apt-get install bsdutils", found).is_some()
}

/// Says on standard error that a test skipped, past the test harness's capture of `eprintln!`
/// (which hides the output of a passing test).
pub fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Whether `program ARGS...` runs and exits 0: for [`tool`] to find a program on PATH.
pub fn runs(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> bool {
    std::process::Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// The kubelet's expansion of a container's `command`, `args` and `env` values
/// (k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is `$`, `$(NAME)` is the
/// variable when `lookup` knows it and stays as written otherwise, an unclosed `$(` and any
/// other `$x` stay as written.
pub fn kubelet_expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.chars().next() {
            None => {
                out.push('$');
                rest = after;
            }
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('(') => match after.find(')') {
                Some(close) => {
                    let name = &after[1..close];
                    out.push_str(&lookup(name).unwrap_or_else(|| format!("$({name})")));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = &after[1..];
                }
            },
            Some(other) => {
                out.push('$');
                out.push(other);
                rest = &after[other.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    out
}
