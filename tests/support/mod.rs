//! Shared by the integration tests: run the pipeline on a fixture with a fixed environment,
//! and render diagnostics with stable paths.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kompile::diag::{Diagnostic, Diagnostics, render};
use kompile::emit::Object;
use kompile::images::{self, Naming};
use kompile::load::Options;
use kompile::lower::{self, Settings};
use kompile::source::Sources;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shell environment that does not depend on the machine running the tests.
pub fn shell() -> BTreeMap<String, String> {
    BTreeMap::from([("HOME".to_string(), "/home/user".to_string())])
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

/// The diagnostics of the build pipeline, sorted, with the sources they point into.
pub fn diagnose(options: &Options) -> (Vec<Diagnostic>, Sources) {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    pipeline(options, &mut sources, &mut diags);
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

pub struct Compiled {
    pub objects: Option<Vec<Object>>,
    pub diagnostics: String,
}

/// The build pipeline on `options`, as `kompile build` runs it.
pub fn compile(options: &Options) -> Compiled {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let objects = pipeline(options, &mut sources, &mut diags);
    let diagnostics = short(diags, &sources);
    Compiled { objects, diagnostics }
}

fn pipeline(options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Vec<Object>> {
    let project = kompile::cmd::load_and_check(options, sources, diags)?;
    if diags.has_errors() {
        return None;
    }
    let settings =
        Settings { built_images: images::names(&project.typed, Naming::default(), diags), ..Settings::default() };
    let app = lower::lower(&project.typed, &settings, diags);
    (!diags.has_errors()).then(|| kompile::emit::emit(&app))
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
