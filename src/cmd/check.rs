//! `kompile check`: everything `build` checks plus the lint rules, without writing output.
//! Made for pre-commit hooks and CI: fast, and exact exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{INPUT_ERRORS, SUCCESS, USAGE_ERROR, load_and_check, print};
use crate::cli::{CheckArgs, DiagnosticFormat};
use crate::diag::levels::{Level, Levels};
use crate::diag::{Code, Diagnostic, Diagnostics, Severity, render};
use crate::images;
use crate::load::{self, Options};
use crate::lower::{self, Settings};
use crate::source::{FileId, Sources};
use crate::terminal::{self, Stream};

pub fn run(args: &CheckArgs) -> i32 {
    let levels = match cli_levels(args) {
        Ok(levels) => levels,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE_ERROR;
        }
    };
    let mut sources = Sources::default();
    let mut all = Diagnostics::default();
    let (projects, dockerfiles) = targets(args);
    for path in dockerfiles {
        let mut diags = Diagnostics::default();
        if let Some(build) = load::dockerfiles::load_alone(&path, &mut sources, &mut diags) {
            crate::check::dockerfile::check_alone(&build, &mut diags);
        }
        all.extend(levels.apply(diags));
    }
    for options in projects {
        let mut diags = Diagnostics::default();
        let project = load_and_check(&options, &mut sources, &mut diags);
        let levels = match project {
            Some(project) => {
                let levels = levels.with_project(&super::project_levels(&project.typed.settings), &mut diags);
                let naming = images::Naming { registry: args.project.registry.as_deref(), skip_hashing: true };
                let built_images = images::names(&project.typed, naming, &mut diags);
                let settings = Settings { built_images, ..Settings::default() };
                lower::lower(project.typed, &settings, &mut diags);
                levels
            }
            None => levels.clone(),
        };
        all.extend(levels.apply(diags));
    }
    let unreadable = all.items().iter().any(|d| matches!(d.code, Code::ReadFailed | Code::NoComposeFile));
    let failed = all.has_errors();
    let items = all.sorted();
    print(&format_all(&items, &sources, args.format));
    match (unreadable, failed) {
        (true, _) => USAGE_ERROR,
        (false, true) => INPUT_ERRORS,
        (false, false) => SUCCESS,
    }
}

fn cli_levels(args: &CheckArgs) -> Result<Levels, String> {
    let mut levels = Levels::default();
    for (values, level) in [(&args.deny, Level::Deny), (&args.warn, Level::Warn), (&args.allow, Level::Allow)] {
        for value in values {
            levels.set(value, level)?;
        }
    }
    Ok(levels)
}

/// What to check. Without paths, the project `build` would find; with `-f`, the files
/// merged in order, exactly as `build` merges them. With positional paths only (as
/// pre-commit passes them): each compose file with its override, or an override file with
/// the base file it overrides, so a changed override is checked in context; `-` (standard
/// input) on its own; each Dockerfile with the compose project that builds it, or on its
/// own when none does.
fn targets(args: &CheckArgs) -> (Vec<Options>, Vec<PathBuf>) {
    let base = args.project.options();
    if base.files.is_empty() || !args.project.file.is_empty() {
        return (vec![base], Vec::new());
    }
    let mut seen = BTreeSet::new();
    // Which Dockerfiles each compose project builds; pre-commit may pass many of one project.
    let mut built: BTreeMap<Vec<PathBuf>, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut projects = Vec::new();
    let mut dockerfiles = Vec::new();
    for path in &base.files {
        let path = &dockerfile_of_ignore_file(path, &base.working_dir).unwrap_or_else(|| path.clone());
        let files = if path == Path::new("-") {
            vec![path.clone()]
        } else if is_dockerfile(path) {
            let path = base.working_dir.join(path);
            match project_building(&path, &base, &mut built) {
                Some(files) => files,
                None => {
                    dockerfiles.push(path);
                    continue;
                }
            }
        } else {
            with_base_or_override(&base.working_dir.join(path))
        };
        if seen.insert(files.clone()) {
            projects.push(Options { files, ..base.clone() });
        }
    }
    (projects, dockerfiles)
}

/// The Dockerfile an ignore file belongs to: a BuildKit per-Dockerfile one's
/// (`api.Dockerfile.dockerignore` is `api.Dockerfile`'s), or, for a context's `.dockerignore`,
/// the `Dockerfile` beside it when there is one. pre-commit passes the per-Dockerfile ones
/// when they change, and what an ignore file leaves out is checked with its Dockerfile.
fn dockerfile_of_ignore_file(path: &Path, working_dir: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    match name.strip_suffix(".dockerignore")? {
        "" => Some(path.with_file_name("Dockerfile")).filter(|d| working_dir.join(d).is_file()),
        dockerfile => Some(path.with_file_name(dockerfile)),
    }
}

/// `Dockerfile`, `Dockerfile.dev`, `api.Dockerfile`, `Containerfile`.
fn is_dockerfile(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    name.starts_with("dockerfile") || name.ends_with(".dockerfile") || name.starts_with("containerfile")
}

/// The compose files of the nearest project above `dockerfile` whose services build it.
fn project_building(
    dockerfile: &Path,
    base: &Options,
    built: &mut BTreeMap<Vec<PathBuf>, BTreeSet<PathBuf>>,
) -> Option<Vec<PathBuf>> {
    let wanted = std::fs::canonicalize(dockerfile).ok()?;
    let (compose, _) = load::find_compose_file(dockerfile.parent()?)?;
    let files = with_base_or_override(&compose);
    let builds = built.entry(files.clone()).or_insert_with(|| dockerfiles_built_by(&files, base));
    builds.contains(&wanted).then_some(files)
}

/// The canonical paths of the Dockerfiles a project's services build.
fn dockerfiles_built_by(files: &[PathBuf], base: &Options) -> BTreeSet<PathBuf> {
    let options = Options { files: files.to_vec(), ..base.clone() };
    let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
    let Some(project) = load::load(&options, &mut sources, &mut diags) else { return BTreeSet::new() };
    project.typed.dockerfiles.iter().filter_map(|d| std::fs::canonicalize(&d.path).ok()).collect()
}

fn with_base_or_override(path: &Path) -> Vec<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some((stem, ext)) = name.split_once(".override.") {
        let base = path.with_file_name(format!("{stem}.{ext}"));
        if base.is_file() {
            return vec![base, path.to_path_buf()];
        }
        return vec![path.to_path_buf()];
    }
    std::iter::once(path.to_path_buf()).chain(load::override_file(path)).collect()
}

/// How GitHub and SARIF output name the files: relative to the git repository `check` runs
/// in (GitHub's checkout), else to the directory it runs in ([`render::RepositoryPaths`]).
fn repository_paths(items: &[Diagnostic], sources: &Sources) -> Option<render::RepositoryPaths> {
    let dir = std::fs::canonicalize(std::env::current_dir().ok()?).ok()?;
    let root = dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(&dir);
    let named: BTreeSet<FileId> =
        items.iter().flat_map(|d| d.primary.iter().chain(&d.secondary)).map(|l| l.span.file).collect();
    let canonical: Vec<(FileId, PathBuf)> =
        named.into_iter().filter_map(|id| Some((id, std::fs::canonicalize(&sources.get(id)?.path).ok()?))).collect();
    Some(render::RepositoryPaths::new(root, canonical.iter().map(|(id, path)| (*id, path.as_path()))))
}

fn format_all(items: &[Diagnostic], sources: &Sources, format: DiagnosticFormat) -> String {
    match format {
        DiagnosticFormat::Human => {
            let color = terminal::color(Stream::Stdout);
            let width = terminal::width(Stream::Stdout);
            let mut out: String = items.iter().map(|d| render::human(d, sources, color, width)).collect();
            out.push_str(&render::summary(items));
            out.push('\n');
            out
        }
        DiagnosticFormat::Short => {
            let mut out: String = items.iter().map(|d| render::short(d, sources) + "\n").collect();
            out.push_str(&render::summary(items));
            out.push('\n');
            out
        }
        DiagnosticFormat::Github => {
            let paths = repository_paths(items, sources);
            items.iter().map(|d| render::github(d, sources, paths.as_ref()) + "\n").collect()
        }
        DiagnosticFormat::Json => {
            let count = |severity: Severity| items.iter().filter(|d| d.severity == severity).count();
            let value = serde_json::json!({
                "version": 1,
                "diagnostics": items.iter().map(|d| render::json_value(d, sources)).collect::<Vec<_>>(),
                "summary": {
                    "errors": count(Severity::Error),
                    "warnings": count(Severity::Warning),
                    "notes": count(Severity::Note),
                },
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        DiagnosticFormat::Sarif => {
            let log = render::sarif(items, sources, repository_paths(items, sources).as_ref());
            serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
        }
    }
}
