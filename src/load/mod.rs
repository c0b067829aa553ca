//! Loading: compose files → one resolved, canonical [`Node`] tree per project, with spans.
//!
//! Per file: read → YAML tree → interpolate → `include` → `extends` → canonical (long)
//! syntax with paths made absolute. Then the files merge in order, profiles filter services.

pub mod canonical;
pub mod dotenv;
pub mod env;
mod extends;
pub mod interpolate;
mod merge;
pub mod node;
mod schema;
pub mod units;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use env::Environment;
use node::{Map, Node, Value};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Sources, Span};

/// The names `docker compose` looks for, in its order of preference.
const DEFAULT_FILES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];
/// Compose files larger than this are refused before parsing; real ones are far smaller.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What the user asked for on the command line (and the process environment).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compose files in order; `-` is standard input. Empty: discover them.
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    /// The shell environment; tests pass their own.
    pub shell: BTreeMap<String, String>,
    /// Where relative paths given on the command line start.
    pub working_dir: PathBuf,
}

/// A loaded compose project: canonical syntax, files merged, profiles applied.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub directory: PathBuf,
    /// The compose files that were read, in merge order.
    pub files: Vec<FileId>,
    pub root: Node,
    pub environment: Environment,
    pub profiles: Vec<String>,
    /// Services that profiles turned off, with their key spans: references to them are errors.
    pub disabled: Vec<(String, Span)>,
}

/// Loads the project. Problems go to `diags`; `None` when nothing usable could be loaded.
pub fn load(options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Project> {
    let paths = compose_files(options, diags)?;
    let directory = project_directory(options, &paths);
    let shell_and_dotenv = Environment::load(options, &directory, sources, diags);
    let from_files = name_in_files(&paths, &shell_and_dotenv);
    let mut name = project_name(options, &shell_and_dotenv, from_files.clone(), &directory, diags);
    // Compose files may use `${COMPOSE_PROJECT_NAME}`; it holds the final name.
    let mut environment = shell_and_dotenv.clone();
    environment.set("COMPOSE_PROJECT_NAME", &name);
    let mut loader = Loader { sources, diags, environment: &environment, depth: 0 };
    let mut merged: Option<Node> = None;
    let mut files = Vec::new();
    for path in &paths {
        let Some((file, tree)) = loader.load_file(path, &directory) else { continue };
        files.push(file);
        merged = Some(match merged {
            None => tree,
            Some(base) => merge::merge(base, tree),
        });
    }
    let mut root = merged?;
    // Standard input is not read ahead, so a `name:` given there is only known now.
    let late_name = root.as_map().and_then(|m| m.get("name")).and_then(Node::scalar_text);
    if let (None, Some(late)) = (from_files, late_name) {
        name = project_name(options, &shell_and_dotenv, Some(late), &directory, diags);
    }
    let profiles = active_profiles(options, &environment);
    let disabled = apply_profiles(&mut root, &profiles);
    Some(Project { name, directory, files, root, environment, profiles, disabled })
}

struct Loader<'a> {
    sources: &'a mut Sources,
    diags: &'a mut Diagnostics,
    environment: &'a Environment,
    /// `include` nesting, bounded so a self-including file cannot loop.
    depth: usize,
}

impl Loader<'_> {
    /// One compose file, canonical, with its includes and extends resolved. Relative paths
    /// in it resolve against `base_dir` (the project directory, as Compose does for
    /// override files too).
    fn load_file(&mut self, path: &Path, base_dir: &Path) -> Option<(FileId, Node)> {
        if self.depth >= 16 {
            self.diags.push(
                Diagnostic::new(
                    Code::IncludeFailed,
                    format!("{} is loaded through more than 16 levels of include or extends", path.display()),
                )
                .help("a file probably includes or extends itself"),
            );
            return None;
        }
        self.depth += 1;
        let loaded = self.load_file_inner(path, base_dir);
        self.depth -= 1;
        loaded
    }

    fn load_file_inner(&mut self, path: &Path, base_dir: &Path) -> Option<(FileId, Node)> {
        let (file, text) = read_source(path, self.sources, self.diags)?;
        let mut tree = match yaml::parse(file, &text) {
            Ok(tree) => tree,
            Err(diagnostic) => {
                self.diags.push(diagnostic);
                return None;
            }
        };
        if !matches!(tree.value, Value::Map(_)) {
            self.diags.push(
                Diagnostic::new(Code::WrongType, format!("a compose file must be a mapping, not {}", tree.kind_name()))
                    .at(tree.span, "expected `services:` and other top-level keys")
                    .help("start the file with `services:`"),
            );
            return None;
        }
        self.environment.interpolate_tree(&mut tree, self.diags);
        self.include(&mut tree, base_dir);
        canonical::canonicalize(&mut tree, base_dir, self.environment, self.sources, self.diags);
        extends::resolve(&mut tree, path, self);
        Some((file, tree))
    }

    /// `include:` entries load as projects of their own and add their resources; a resource
    /// the including file defines too is a conflict (Compose refuses it as well).
    fn include(&mut self, tree: &mut Node, base_dir: &Path) {
        let Some(map) = tree.as_map_mut() else { return };
        let Some(entry) = map.remove("include") else { return };
        let Some(items) = entry.value.as_seq() else {
            self.diags.push(wrong_type(&entry.value, "a list of files to include"));
            return;
        };
        for item in items {
            for (path, span) in include_paths(item, base_dir) {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| base_dir.to_path_buf());
                let loaded = self.load_file(&path, &dir);
                match loaded {
                    Some((_, included)) => merge::add_included(tree, included, span, self.diags),
                    None => self.diags.push(
                        Diagnostic::new(Code::IncludeFailed, format!("could not include {}", path.display()))
                            .at(span, "included here"),
                    ),
                }
            }
        }
    }
}

fn include_paths(item: &Node, base_dir: &Path) -> Vec<(PathBuf, Span)> {
    let path_nodes: Vec<&Node> = match &item.value {
        Value::Str(_) => vec![item],
        Value::Map(map) => match map.get("path") {
            Some(Node { value: Value::Seq(items), .. }) => items.iter().collect(),
            Some(node) => vec![node],
            None => vec![],
        },
        _ => vec![],
    };
    path_nodes.into_iter().filter_map(|n| Some((base_dir.join(n.as_str()?), n.span))).collect()
}

pub(crate) fn wrong_type(node: &Node, expected: &str) -> Diagnostic {
    Diagnostic::new(Code::WrongType, format!("expected {expected}, found {}", node.kind_name()))
        .at(node.span, format!("expected {expected}"))
}

/// Reads a file as UTF-8 text and registers it; every failure is a diagnostic.
pub fn read_source(path: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(FileId, String)> {
    let bytes = if path == Path::new("-") { read_stdin() } else { read_bounded(path) };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => {
            diags.push(read_failed(path, &error));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => {
            let shown = if path == Path::new("-") { Path::new("<stdin>") } else { path };
            let file = sources.add(shown, text.as_str());
            Some((file, text))
        }
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let file = sources.add(path, text);
            diags.push(
                Diagnostic::new(Code::NotText, format!("{} is not UTF-8 text", path.display()))
                    .at(Span::new(file, at, at + 1), format!("invalid byte at offset {at}"))
                    .help("save the file as UTF-8; binary files cannot be compose files"),
            );
            None
        }
    }
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory, not a file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!("it is larger than {} MiB", MAX_FILE_BYTES >> 20)));
    }
    std::fs::read(path)
}

fn read_stdin() -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn read_failed(path: &Path, error: &std::io::Error) -> Diagnostic {
    let reason = match error.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    };
    Diagnostic::new(Code::ReadFailed, format!("cannot read {}: {reason}", path.display()))
        .help("check the path; relative paths start at the project directory")
}

/// `-f` files, else `COMPOSE_FILE`, else the default names in the working directory or the
/// nearest parent that has one, with the matching override file.
fn compose_files(options: &Options, diags: &mut Diagnostics) -> Option<Vec<PathBuf>> {
    if !options.files.is_empty() {
        return Some(options.files.iter().map(|f| absolute(&options.working_dir, f)).collect());
    }
    if let Some(list) = options.shell.get("COMPOSE_FILE").filter(|l| !l.is_empty()) {
        let separator = options.shell.get("COMPOSE_PATH_SEPARATOR").and_then(|s| s.chars().next()).unwrap_or(':');
        return Some(list.split(separator).map(|f| absolute(&options.working_dir, Path::new(f))).collect());
    }
    let start =
        options.project_directory.as_deref().map_or(options.working_dir.clone(), |d| absolute(&options.working_dir, d));
    for dir in start.ancestors() {
        if let Some(found) = DEFAULT_FILES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            let mut files = vec![found.clone()];
            files.extend(override_file(&found));
            return Some(files);
        }
    }
    diags.push(
        Diagnostic::new(Code::NoComposeFile, format!("no compose file found in {} or its parents", start.display()))
            .help("name one with `-f FILE`, or create compose.yaml"),
    );
    None
}

/// `compose.yaml` → `compose.override.yaml` (same extension), when it exists.
fn override_file(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    let candidate = path.with_file_name(format!("{stem}.override.{ext}"));
    candidate.is_file().then_some(candidate)
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path == Path::new("-") || path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

fn project_directory(options: &Options, files: &[PathBuf]) -> PathBuf {
    if let Some(dir) = &options.project_directory {
        return absolute(&options.working_dir, dir);
    }
    files
        .first()
        .filter(|f| f.as_path() != Path::new("-"))
        .and_then(|f| f.parent())
        .map_or_else(|| options.working_dir.clone(), Path::to_path_buf)
}

/// `-p`, `COMPOSE_PROJECT_NAME`, the top-level `name:`, else the directory name; made
/// lowercase with only `[a-z0-9_-]` as Compose does.
fn project_name(
    options: &Options,
    environment: &Environment,
    from_file: Option<String>,
    directory: &Path,
    diags: &mut Diagnostics,
) -> String {
    let raw = options
        .project_name
        .clone()
        .or_else(|| environment.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()))
        .or(from_file)
        .unwrap_or_else(|| directory.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let name = normalize_project_name(&raw);
    if name.is_empty() {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`{raw}` cannot be made into a project name"))
                .help("set `name:` in the compose file or pass `-p NAME`"),
        );
        return "default".to_string();
    }
    name
}

/// The top-level `name:` of the files, interpolated, the last file that sets it winning.
/// Read ahead of loading because the files may use `${COMPOSE_PROJECT_NAME}`, which must
/// already hold the final name. Standard input can only be read once, so it is skipped.
fn name_in_files(paths: &[PathBuf], environment: &Environment) -> Option<String> {
    let mut name = None;
    for path in paths.iter().filter(|p| p.as_path() != Path::new("-")) {
        let Some(text) = read_bounded(path).ok().and_then(|b| String::from_utf8(b).ok()) else { continue };
        let mut scratch = Sources::default();
        let file = scratch.add(path, text.as_str());
        let Ok(tree) = yaml::parse(file, &text) else { continue };
        let Some(node) = tree.as_map().and_then(|m| m.get("name")) else { continue };
        let Some(raw) = node.scalar_text() else { continue };
        // Problems in the file are reported when it is loaded for real.
        let mut ignored = Diagnostics::default();
        name = environment.interpolate(&raw, node.span, &mut ignored).or(name);
    }
    name
}

pub fn normalize_project_name(raw: &str) -> String {
    let lower = raw.to_lowercase();
    let kept: String = lower.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

fn active_profiles(options: &Options, environment: &Environment) -> Vec<String> {
    let mut profiles = options.profiles.clone();
    if profiles.is_empty()
        && let Some(list) = environment.get("COMPOSE_PROFILES")
    {
        profiles = list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect();
    }
    profiles.sort();
    profiles.dedup();
    profiles
}

/// Drops services whose profiles are all inactive. `*` activates every profile.
fn apply_profiles(root: &mut Node, active: &[String]) -> Vec<(String, Span)> {
    let all = active.iter().any(|p| p == "*");
    let Some(services) = root.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) else {
        return Vec::new();
    };
    let mut disabled = Vec::new();
    services.entries.retain(|entry| {
        let Some(profiles) = entry.value.as_map().and_then(|s| s.get("profiles")).and_then(Node::as_seq) else {
            return true;
        };
        let on = all
            || profiles.is_empty()
            || profiles.iter().filter_map(Node::as_str).any(|p| active.iter().any(|a| a == p));
        if !on {
            disabled.push((entry.key.clone(), entry.key_span));
        }
        on
    });
    disabled
}

/// Services that some active-profile service refers to but profiles disabled, for checks.
pub fn services_map(root: &Node) -> Option<&Map> {
    root.as_map()?.get("services")?.as_map()
}
