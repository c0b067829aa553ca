//! Loading: compose files → one resolved, canonical [`Node`] tree per project, with spans.
//!
//! Per file: read → YAML tree → interpolate → `include` → `extends` → canonical (long)
//! syntax with paths made absolute. Then the files merge in order, profiles filter services.

pub mod canonical;
pub mod decode;
pub mod dockerfiles;
pub mod dotenv;
pub mod env;
mod extends;
pub mod hadolint;
pub mod interpolate;
mod merge;
pub mod node;
pub(crate) mod project_files;
mod schema;
pub mod yaml;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use env::Environment;
use node::{Map, Node, Value};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Sources, Span, display_path};

/// The names `docker compose` looks for, in its order of preference.
pub const DEFAULT_FILES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];
/// Compose files larger than this are refused before parsing; real ones are far smaller.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// `--strict-paths`: files outside the project are refused, not read with a warning.
    pub strict_paths: bool,
    /// Keep the merged tree in [`Project::root`] (`kompile config` prints it); other commands
    /// read only the typed project.
    pub keep_tree: bool,
}

/// A loaded compose project: the merged canonical tree (for `kompile config`) and the typed
/// project every later stage reads.
#[derive(Debug, Clone)]
pub struct Project {
    /// The merged canonical tree, for `kompile config`: kept only when
    /// [`Options::keep_tree`] asks for it.
    pub root: Option<Node>,
    pub environment: Environment,
    pub typed: crate::compose::Project,
}

/// Loads the project. Problems go to `diags`; `None` when nothing usable could be loaded.
pub fn load(options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Project> {
    let (paths, passed_over) = compose_files(options, diags)?;
    let directory = project_directory(options, &paths);
    let shell_and_dotenv = Environment::load(options, &directory, sources, diags);
    // Each file is read and parsed once; the name must be known before interpolation,
    // because files may use `${COMPOSE_PROJECT_NAME}`, which holds the final name.
    let parsed: Vec<_> = paths.iter().filter_map(|p| Some((p, parse_file(p, Span::NONE, sources, diags)?))).collect();
    if let (Some((found, (file, _, _))), false) = (parsed.first(), passed_over.is_empty()) {
        diags.push(multiple_compose_files(found, *file, &passed_over));
    }
    let from_files = name_in_files(parsed.iter().map(|(_, (_, _, tree))| tree), &shell_and_dotenv);
    let name = project_name(options, &shell_and_dotenv, from_files, &directory, diags);
    let mut environment = shell_and_dotenv;
    environment.set("COMPOSE_PROJECT_NAME", &name);
    let mut loader = Loader::new(sources, diags, &environment, options.strict_paths);
    let mut merged: Option<Node> = None;
    let mut files = Vec::new();
    for (path, (file, text, tree)) in parsed {
        let tree = loader.resolve_file(path, &directory, &text, tree);
        files.push(file);
        merged = Some(match merged {
            None => tree,
            Some(base) => merge::merge(base, tree),
        });
    }
    let mut root = merged?;
    let profiles = active_profiles(options, &environment);
    unused_profiles(options, &root, &profiles, diags);
    let disabled = apply_profiles(&mut root, &profiles);
    let dockerfiles = services_map(&root).map(|s| dockerfiles::load(s, sources, diags)).unwrap_or_default();
    let parts = decode::Parts { name, directory, files, profiles, disabled, dockerfiles, environment: &environment };
    let root = decoded(root, options.keep_tree, parts, diags);
    let secret = secret_values(&root.1, sources);
    sources.mask(secret);
    Some(Project { root: root.0, environment, typed: root.1 })
}

/// Where the project's secret environment values are written (`DB_PASSWORD: hunter2`, the
/// names `x-kompile.secret_env` lists, URLs with a password, values that hold another
/// secret value: `compose::SecretValues`): no diagnostic may quote them. `env_file`s and
/// `.env` need nothing here: they are registered with every value masked (`dotenv::redact`).
fn secret_values(project: &crate::compose::Project, sources: &Sources) -> Vec<Span> {
    let secrets = crate::compose::SecretValues::of(project);
    let mut spans = Vec::new();
    for service in &project.services {
        for variable in &service.environment {
            let Some(value) = &variable.value else { continue };
            if secrets.is_secret(&service.settings, &variable.name, value) {
                let span = value_only(variable, value.span);
                spans.extend(secret_parts(&secrets, &service.settings, variable, span, sources));
            }
        }
    }
    spans
}

/// What to mask of a secret value written at `span`. A value secret by its name is masked
/// whole; one secret for what it holds as `SecretValues::to_mask` says, which for a URL
/// with a password is only the password, so hosts and ports stay readable for the
/// diagnostics that point at them (K214 quotes `postgres://app:********@db:5432/app`).
/// Where the text is not the value as it stands (interpolated, escaped, folded), the
/// secret may be spelt otherwise: masked whole.
fn secret_parts(
    secrets: &crate::compose::SecretValues,
    settings: &crate::compose::ServiceSettings,
    variable: &crate::compose::EnvVar,
    span: Span,
    sources: &Sources,
) -> Vec<Span> {
    let text = sources.text(span);
    let value = variable.value.as_ref().map_or("", |v| v.as_str());
    if settings.is_secret_env(&variable.name) || value.is_empty() || !text.contains(value) {
        return vec![span];
    }
    let start = span.start as usize;
    let parts: Vec<Span> =
        secrets.to_mask(text).into_iter().map(|r| Span::new(span.file, start + r.start, start + r.end)).collect();
    if parts.is_empty() { vec![span] } else { parts }
}

/// A list entry (`- API_TOKEN=abc`) is one scalar, name and value: the name stays readable.
fn value_only(variable: &crate::compose::EnvVar, span: Span) -> Span {
    if variable.name.span != span {
        return span;
    }
    let start = span.start.saturating_add(variable.name.len() as u32 + 1).min(span.end);
    Span { start, ..span }
}

/// The typed project, and the tree when `keep_tree` asks for it (decoding takes strings out
/// of the tree it reads).
fn decoded(
    mut root: Node,
    keep_tree: bool,
    parts: decode::Parts<'_>,
    diags: &mut Diagnostics,
) -> (Option<Node>, crate::compose::Project) {
    let kept = keep_tree.then(|| root.clone());
    let typed = decode::decode(&mut root, parts, diags);
    (kept, typed)
}

/// Reads and parses one compose file; it must be a mapping.
fn parse_file(
    path: &Path,
    from: Span,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(FileId, String, Node)> {
    let (file, text) = read_source_from(path, from, sources, diags)?;
    let Some(tree) = parse_text(file, &text, diags) else {
        // No typed project will say where the secrets are; the error's code frame must not
        // show one either.
        sources.mask(secret_looking_lines(file, &text));
        return None;
    };
    Some((file, text, tree))
}

/// In a file that does not parse: the rest of each line that starts like `DB_PASSWORD: …`
/// or `- API_TOKEN=…`, whatever its indentation or quotes.
fn secret_looking_lines(file: FileId, text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        if let Some(at) = body.find([':', '='])
            && crate::compose::looks_secret(body[..at].trim_start_matches([' ', '\t', '-', '"', '\'']).trim_end())
        {
            spans.push(Span::new(file, start + at + 1, start + body.len()));
        }
        start += line.len();
    }
    spans
}

/// Parses a registered compose text; it must be a mapping.
fn parse_text(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Node> {
    let tree = match yaml::parse(file, text) {
        Ok(tree) => tree,
        Err(diagnostic) => {
            diags.push(diagnostic);
            return None;
        }
    };
    if !matches!(tree.value, Value::Map(_)) {
        diags.push(
            Diagnostic::new(Code::WrongType, format!("a compose file must be a mapping, not {}", tree.kind_name()))
                .at(tree.span, "expected `services:` and other top-level keys")
                .help("start the file with `services:`"),
        );
        return None;
    }
    // Compose refuses a file with no top-level keys ("empty compose file"): usually the
    // wrong file, or one that was truncated.
    if tree.as_map().is_some_and(|m| m.entries.is_empty()) {
        diags.push(
            Diagnostic::new(Code::WrongType, "the compose file is empty")
                .at(tree.span, "no top-level keys")
                .help("start the file with `services:`"),
        );
        return None;
    }
    Some(tree)
}

/// One compose file given as text, loaded like [`load`] loads a file (interpolation,
/// `include`, canonical syntax, `extends`) with `environment` as its variables and no
/// profiles. For the fuzz targets: the text itself touches no disk, though `include`,
/// `extends` and `env_file` entries and bind-mounted project files are looked up under
/// `directory`.
pub fn load_str(
    text: &str,
    directory: &Path,
    environment: &Environment,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<Project> {
    let path = directory.join("compose.yaml");
    let file = sources.add(&path, text);
    let tree = parse_text(file, text, diags)?;
    let raw = name_in_files(std::iter::once(&tree), environment).unwrap_or_default();
    let name = Some(normalize_project_name(&raw)).filter(|n| !n.is_empty()).unwrap_or_else(|| "default".to_string());
    let mut environment = environment.clone();
    environment.set("COMPOSE_PROJECT_NAME", &name);
    let mut loader = Loader::new(sources, diags, &environment, false);
    let root = loader.resolve_file(&path, directory, text, tree);
    let parts = decode::Parts {
        name,
        directory: directory.to_path_buf(),
        files: vec![file],
        profiles: Vec::new(),
        disabled: Vec::new(),
        // The fuzz target exercises compose loading; Dockerfiles have their own target.
        dockerfiles: Vec::new(),
        environment: &environment,
    };
    let (root, typed) = decoded(root, true, parts, diags);
    Some(Project { root, environment, typed })
}

struct Loader<'a> {
    sources: &'a mut Sources,
    diags: &'a mut Diagnostics,
    environment: &'a Environment,
    /// `include` nesting, bounded so a self-including file cannot loop.
    depth: usize,
    /// `extends` cycles already reported (their services, sorted): each is found once from
    /// every service on it, and reported once.
    extends_cycles: Vec<Vec<(PathBuf, String)>>,
    /// The files being loaded, outermost first (by [`identity`]): one that comes back is
    /// an include cycle.
    loading: Vec<PathBuf>,
    /// Files already included: a second `include` of one is loaded once, not twice.
    included: HashSet<PathBuf>,
    /// Include cycles already reported, by the file that closes them.
    include_cycles: HashSet<PathBuf>,
    /// The services of files `extends.file` names, loaded once each (`None`: unusable).
    extends_files: HashMap<PathBuf, Option<Map>>,
    /// `--strict-paths`.
    strict: bool,
    /// The project directory of each file being loaded, innermost last.
    roots: Vec<PathBuf>,
}

/// One name per file however it is reached (`./a.yaml`, `sub/../a.yaml`, a symlink).
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl<'a> Loader<'a> {
    fn new(sources: &'a mut Sources, diags: &'a mut Diagnostics, environment: &'a Environment, strict: bool) -> Self {
        Loader {
            sources,
            diags,
            environment,
            depth: 0,
            extends_cycles: Vec::new(),
            loading: Vec::new(),
            included: HashSet::new(),
            include_cycles: HashSet::new(),
            extends_files: HashMap::new(),
            strict,
            roots: Vec::new(),
        }
    }

    /// Whether a file named at `span` may be read: see [`allow_outside`].
    fn allow(&mut self, path: &Path, span: Span, what: &str) -> bool {
        let Some(root) = self.roots.last() else { return true };
        allow_outside(path, root, span, what, self.strict, self.diags)
    }

    /// One compose file, canonical, with its includes and extends resolved. Relative paths
    /// in it resolve against `base_dir` (the project directory, as Compose does for
    /// override files too).
    /// `from` is where another file names this one (`include`, `extends.file`), so a
    /// file that cannot be read is reported there; `Span::NONE` for files from the
    /// command line.
    fn load_file(&mut self, path: &Path, base_dir: &Path, from: Span) -> Option<(FileId, Node)> {
        if self.depth >= 16 {
            self.diags.push(
                Diagnostic::new(
                    Code::IncludeFailed,
                    format!("{} is loaded through more than 16 levels of include or extends", display_path(path)),
                )
                .help("a file probably includes or extends itself"),
            );
            return None;
        }
        self.depth += 1;
        let loaded = self.load_file_inner(path, base_dir, from);
        self.depth -= 1;
        loaded
    }

    fn load_file_inner(&mut self, path: &Path, base_dir: &Path, from: Span) -> Option<(FileId, Node)> {
        let (file, text, tree) = parse_file(path, from, self.sources, self.diags)?;
        Some((file, self.resolve_file(path, base_dir, &text, tree)))
    }

    /// Everything after parsing: interpolation, includes, canonical syntax, extends.
    fn resolve_file(&mut self, path: &Path, base_dir: &Path, text: &str, mut tree: Node) -> Node {
        self.loading.push(identity(path));
        self.roots.push(base_dir.to_path_buf());
        self.environment.interpolate_tree(&mut tree, text, self.diags);
        self.include(&mut tree, base_dir);
        let strict = self.strict;
        canonical::canonicalize(&mut tree, base_dir, self.environment, strict, self.sources, self.diags);
        extends::resolve(&mut tree, path, self);
        self.roots.pop();
        self.loading.pop();
        tree
    }

    /// Whether `path` may be included now: not a file being loaded (a cycle, reported
    /// once) nor one already included (loaded once).
    fn first_include(&mut self, path: &Path, span: Span) -> bool {
        let key = identity(path);
        if self.loading.contains(&key) {
            if self.include_cycles.insert(key) {
                self.diags.push(
                    Diagnostic::new(
                        Code::IncludeFailed,
                        format!("{} includes itself, directly or through other files", display_path(path)),
                    )
                    .at(span, "included here while it is being loaded")
                    .help("remove this entry: a file cannot include a file that includes it"),
                );
            }
            return false;
        }
        self.included.insert(key)
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
                if !self.allow(&path, span, "included") || !self.first_include(&path, span) {
                    continue;
                }
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| base_dir.to_path_buf());
                let before = self.diags.items().len();
                let loaded = self.load_file(&path, &dir, span);
                // A file that cannot be read is already reported at this entry.
                let unreadable = self.diags.items()[before..].iter().any(|d| d.code == Code::ReadFailed);
                match loaded {
                    Some((_, included)) => merge::add_included(tree, included, span, self.diags),
                    None if unreadable => {}
                    None => self.diags.push(
                        Diagnostic::new(Code::IncludeFailed, format!("could not include {}", display_path(&path)))
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

/// Whether a file named at `span` may be read, given the project directory `root` of the
/// file that names it. Outside it (symlinks resolved), Compose reads it too: a K014
/// warning names it; under `--strict-paths` the K014 is an error and it is not read.
pub(crate) fn allow_outside(
    path: &Path,
    root: &Path,
    span: Span,
    what: &str,
    strict: bool,
    diags: &mut Diagnostics,
) -> bool {
    let real = identity(path);
    if real.starts_with(identity(root)) || real.starts_with(root) {
        return true;
    }
    let mut diagnostic = Diagnostic::new(
        Code::OutsideProject,
        format!("{} is {what} from outside the project directory", display_path(&real)),
    )
    .at(span, "outside the project");
    if strict {
        diagnostic.severity = crate::diag::Severity::Error;
        diagnostic = diagnostic.help("--strict-paths refuses it: move the file into the project directory");
    } else {
        diagnostic = diagnostic.help("move the file into the project, or pass --strict-paths to refuse such files");
    }
    diags.push(diagnostic);
    !strict
}

pub(crate) fn wrong_type(node: &Node, expected: &str) -> Diagnostic {
    Diagnostic::new(Code::WrongType, format!("expected {expected}, found {}", node.kind_name()))
        .at(node.span, format!("expected {expected}"))
}

/// Reads a file as UTF-8 text and registers it; every failure is a diagnostic.
pub fn read_source(path: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(FileId, String)> {
    read_source_from(path, Span::NONE, sources, diags)
}

/// [`read_source`] for a file named at `from` in another file, where a read failure points.
/// Such a file must be a regular file: opening a pipe with no writer would block forever.
/// Files from the command line (`from` is `Span::NONE`) may be pipes, as `-f <(…)` gives.
pub fn read_source_from(
    path: &Path,
    from: Span,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(FileId, String)> {
    read_source_shown(path, from, sources, diags, str::to_string)
}

/// [`read_source_from`], registering `show(text)` for diagnostics to display instead of the
/// text itself (env files: values masked, offsets unchanged, so spans stay right).
pub(crate) fn read_source_shown(
    path: &Path,
    from: Span,
    sources: &mut Sources,
    diags: &mut Diagnostics,
    show: impl Fn(&str) -> String,
) -> Option<(FileId, String)> {
    let shown = if path == Path::new("-") { Path::new("<stdin>") } else { path };
    let bytes = match read_bytes(path, from) {
        Ok(bytes) => bytes,
        Err(diagnostic) => {
            diags.push(diagnostic);
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => {
            let file = sources.add(shown, show(&text));
            Some((file, text))
        }
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            // The registered text has U+FFFD (three bytes) where the invalid bytes were: the
            // span covers that character, never a part of it.
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            let file = sources.add(shown, show(&text));
            diags.push(
                Diagnostic::new(Code::NotText, format!("{} is not UTF-8 text", display_path(shown)))
                    .at(Span::new(file, at, end), format!("invalid byte at offset {at}"))
                    .help("save the file as UTF-8; binary files cannot be compose files"),
            );
            None
        }
    }
}

/// The bytes of a file (`-`: standard input), bounded, unregistered; see [`read_source_from`].
pub(crate) fn read_bytes(path: &Path, from: Span) -> Result<Vec<u8>, Diagnostic> {
    let bytes = if path == Path::new("-") { read_stdin() } else { read_bounded(path, !from.is_none()) };
    bytes.map_err(|error| read_failed(path, &error, from))
}

fn read_bounded(path: &Path, regular_only: bool) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory, not a file"));
    }
    if regular_only && !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    // Devices and pipes report no length (`-f /dev/zero`): the read itself is bounded too.
    limited(std::fs::File::open(path)?)
}

fn read_stdin() -> std::io::Result<Vec<u8>> {
    limited(std::io::stdin())
}

/// Everything `reader` gives, or an error once it gives more than [`MAX_FILE_BYTES`].
fn limited(reader: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let bytes = read_up_to(reader, MAX_FILE_BYTES)?;
    if bytes.len() as u64 > MAX_FILE_BYTES { Err(too_large()) } else { Ok(bytes) }
}

/// At most `limit + 1` bytes of a regular file (more than `limit` means it is too large).
/// Pipes and devices are refused unopened: they may never end, or block the open itself.
pub(crate) fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    read_up_to(std::fs::File::open(path)?, limit)
}

/// At most `limit + 1` bytes of `reader`: more than `limit` means it is over the limit.
pub(crate) fn read_up_to(reader: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Why a pipe, socket or device named in a project file is not read.
pub(crate) fn not_regular() -> std::io::Error {
    std::io::Error::other("it is not a regular file")
}

fn too_large() -> std::io::Error {
    std::io::Error::other(format!("it is larger than {} MiB", MAX_FILE_BYTES >> 20))
}

/// Why a file could not be read, in the words every read failure uses.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

fn read_failed(path: &Path, error: &std::io::Error, from: Span) -> Diagnostic {
    let reason = io_reason(error);
    let label = match error.kind() {
        std::io::ErrorKind::NotFound => "no such file",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        _ => "cannot be read",
    };
    let help = if from.is_none() {
        "check the path; relative paths start at the current directory"
    } else {
        "check the path; it is relative to the directory of the file that names it"
    };
    Diagnostic::new(Code::ReadFailed, format!("cannot read {}: {reason}", display_path(path)))
        .at(from, label)
        .help(help)
}

/// `-f` files, else `COMPOSE_FILE`, else the default names in the working directory or the
/// nearest parent that has one, with the matching override file. Also the other default
/// names found next to the one used, which Compose warns about and ignores.
fn compose_files(options: &Options, diags: &mut Diagnostics) -> Option<(Vec<PathBuf>, Vec<PathBuf>)> {
    if !options.files.is_empty() {
        return Some((options.files.iter().map(|f| absolute(&options.working_dir, f)).collect(), Vec::new()));
    }
    if let Some(list) = options.shell.get("COMPOSE_FILE").filter(|l| !l.is_empty()) {
        let separator = options.shell.get("COMPOSE_PATH_SEPARATOR").and_then(|s| s.chars().next()).unwrap_or(':');
        let files = list.split(separator).map(|f| absolute(&options.working_dir, Path::new(f))).collect();
        return Some((files, Vec::new()));
    }
    let start =
        options.project_directory.as_deref().map_or(options.working_dir.clone(), |d| absolute(&options.working_dir, d));
    if let Some((found, passed_over)) = find_compose_file(&start) {
        let mut files = vec![found.clone()];
        files.extend(override_file(&found));
        return Some((files, passed_over));
    }
    diags.push(
        Diagnostic::new(Code::NoComposeFile, format!("no compose file found in {} or its parents", start.display()))
            .help("name one with `-f FILE`, or create compose.yaml"),
    );
    None
}

/// The compose files `options` name or, without any, the ones found as Compose finds them
/// (`COMPOSE_FILE`, else `compose.yaml` and its override in the project directory or a
/// parent): what a second compile adds a file to. `None` when there are none; loading says why.
pub fn resolved_files(options: &Options) -> Option<Vec<PathBuf>> {
    compose_files(options, &mut Diagnostics::default()).map(|(files, _)| files)
}

/// The compose file of `start` or its nearest parent that has one: the first of
/// [`DEFAULT_FILES`] there, and the other default names next to it, which Compose passes over.
pub fn find_compose_file(start: &Path) -> Option<(PathBuf, Vec<PathBuf>)> {
    start.ancestors().find_map(|dir| {
        let mut present = DEFAULT_FILES.iter().map(|n| dir.join(n)).filter(|p| p.is_file());
        present.next().map(|found| (found, present.collect()))
    })
}

/// Compose's warning, "Found multiple config files with supported names: …" then
/// "Using …", as one diagnostic at the top of the file that is used.
fn multiple_compose_files(found: &Path, file: FileId, passed_over: &[PathBuf]) -> Diagnostic {
    let all: Vec<String> =
        std::iter::once(found).chain(passed_over.iter().map(PathBuf::as_path)).map(display_path).collect();
    let used = display_path(found);
    Diagnostic::new(
        Code::MultipleComposeFiles,
        format!("found multiple config files with supported names: {}; using {used}", all.join(", ")),
    )
    .at(Span::new(file, 0, 0), "this file is used")
    .help(format!("remove or rename the others, or name the file to use with `-f {used}`"))
}

/// `compose.yaml` → `compose.override.yaml` (same extension), when it exists.
pub fn override_file(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    let candidate = path.with_file_name(format!("{stem}.override.{ext}"));
    candidate.is_file().then_some(candidate)
}

/// A path from the command line made absolute and cleaned (as Compose's `filepath.Abs`):
/// `-f ../compose.yaml` from a subdirectory is the same file, in the same project directory
/// with the same name, as `-f compose.yaml` from the project.
fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path == Path::new("-") {
        return path.to_path_buf();
    }
    canonical::clean(&base.join(path))
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

/// `-p`, `COMPOSE_PROJECT_NAME`, the top-level `name:`, else the directory name. As in
/// Compose, a name the user gives on the command line or in the environment must already
/// be valid; `name:` and the directory name are made lowercase with only `[a-z0-9_-]`.
fn project_name(
    options: &Options,
    environment: &Environment,
    from_file: Option<String>,
    directory: &Path,
    diags: &mut Diagnostics,
) -> String {
    let given = options.project_name.clone().filter(|n| !n.is_empty()).map(|n| (n, "-p")).or_else(|| {
        environment.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()).map(|n| (n, "COMPOSE_PROJECT_NAME"))
    });
    if let Some((name, origin)) = given {
        if !is_valid_project_name(&name) {
            diags.push(invalid_project_name(&name, origin));
        }
        return name;
    }
    let raw = from_file
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

/// Compose's rule for `-p` and `COMPOSE_PROJECT_NAME`: lowercase letters, digits, `-` and
/// `_`, starting with a letter or digit.
fn is_valid_project_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// A project name from the command line or environment has no place in a file to point at.
fn invalid_project_name(name: &str, origin: &str) -> Diagnostic {
    let normalized = normalize_project_name(name);
    let help = if normalized.is_empty() {
        "use lowercase letters, digits, `-` and `_`, starting with a letter or digit".to_string()
    } else {
        format!("use lowercase letters, digits, `-` and `_`, starting with a letter or digit: `{normalized}`?")
    };
    Diagnostic::new(Code::InvalidValue, format!("invalid project name `{name}` (from {origin})")).help(help)
}

/// The top-level `name:` of the files, interpolated, the last file that sets it winning.
/// Read ahead of loading because the files may use `${COMPOSE_PROJECT_NAME}`, which must
/// already hold the final name. Standard input can only be read once, so it is skipped.
/// The last `name:` among the files, interpolated with the shell and `.env`.
fn name_in_files<'a>(trees: impl Iterator<Item = &'a Node>, environment: &Environment) -> Option<String> {
    let mut name = None;
    for tree in trees {
        let Some(node) = tree.as_map().and_then(|m| m.get("name")) else { continue };
        let Some(raw) = node.scalar_text() else { continue };
        // Problems in the value are reported when the file is interpolated for real.
        let mut ignored = Diagnostics::default();
        name = environment.interpolate(&raw, node.span, "", &mut ignored).or(name);
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

/// Warns about active profiles that no service lists: usually a typo, which would
/// otherwise silently leave the services the user wanted out of the output.
fn unused_profiles(options: &Options, root: &Node, active: &[String], diags: &mut Diagnostics) {
    let mut used: Vec<&str> = services_map(root)
        .map(|services| {
            services
                .entries
                .iter()
                .filter_map(|e| e.value.as_map()?.get("profiles")?.as_seq())
                .flatten()
                .filter_map(Node::as_str)
                .collect()
        })
        .unwrap_or_default();
    used.sort_unstable();
    used.dedup();
    let origin = if options.profiles.is_empty() { "COMPOSE_PROFILES" } else { "--profile" };
    for profile in active.iter().filter(|p| *p != "*" && !used.contains(&p.as_str())) {
        let close = crate::suggest::closest(profile, used.iter().copied());
        let help = match (close, used.is_empty()) {
            (Some(close), _) => format!("did you mean `{close}`?"),
            (None, true) => "no service in this project has `profiles`".to_string(),
            (None, false) => format!("the profiles services use are: {}", used.join(", ")),
        };
        diags.push(
            Diagnostic::new(Code::UnknownProfile, format!("profile `{profile}` (from {origin}) is used by no service"))
                .help(help),
        );
    }
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

/// Loading projects written to a temporary directory, for the tests of load's steps.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::{Options, Project, load};
    use crate::diag::Diagnostics;
    use crate::source::Sources;

    /// Loads `compose` in a fresh directory after `prepare` has put files next to it, with an
    /// empty shell environment.
    pub fn load_in_dir(compose: &str, prepare: impl FnOnce(&Path)) -> (Option<Project>, Diagnostics) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        prepare(dir.path());
        let options = Options {
            files: vec![dir.path().join("compose.yaml")],
            shell: BTreeMap::new(),
            working_dir: dir.path().to_path_buf(),
            ..Options::default()
        };
        let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
        let project = load(&options, &mut sources, &mut diags);
        (project, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> (Option<(FileId, String)>, Vec<Diagnostic>, Sources) {
        let mut sources = Sources::default();
        let mut diags = Diagnostics::default();
        let read = read_source(path, &mut sources, &mut diags);
        (read, diags.into_items(), sources)
    }

    /// Loads a project written to a fresh directory; `compose.yaml` is the main file.
    fn load_files(files: &[(&str, &str)]) -> (Option<Project>, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let options = Options {
            files: vec![dir.path().join("compose.yaml")],
            working_dir: dir.path().to_path_buf(),
            ..Options::default()
        };
        let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
        let project = load(&options, &mut sources, &mut diags);
        (project, diags.into_items())
    }

    #[test]
    fn reset_and_override_survive_canonical_syntax() {
        let base = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n    environment: {A: '1', B: '2'}\n    volumes: ['/cache']\n";
        let over = "services:\n  web:\n    ports: !override ['9090:8080']\n    environment:\n      B: !reset null\n    volumes: !reset []\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), base).unwrap();
        std::fs::write(dir.path().join("override.yaml"), over).unwrap();
        let files = vec![dir.path().join("compose.yaml"), dir.path().join("override.yaml")];
        let options = Options { files, working_dir: dir.path().to_path_buf(), ..Options::default() };
        let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
        let project = load(&options, &mut sources, &mut diags).unwrap();
        assert!(!diags.has_errors(), "{diags:?}");
        let web = project.typed.service("web").unwrap();
        let ports = web.ports.as_ref().map(|p| p.iter().map(|p| p.target).collect::<Vec<_>>());
        assert_eq!(ports, Some(vec![8080]));
        assert_eq!(web.environment.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["A"]);
        assert!(web.volumes.is_empty(), "{:?}", web.volumes);
    }

    /// Found by the `compose_build` fuzz target: `image:` with no value built a container
    /// with no image. Compose says "must be a string"; `!reset` with no value is still a reset.
    #[test]
    fn string_keys_without_a_value_are_wrong_types() {
        for key in ["image", "user", "working_dir", "restart", "hostname", "container_name", "stop_signal"] {
            let compose = format!("services:\n  cache:\n    image: redis:7\n    {key}:\n");
            let compose = compose.replace("    image: redis:7\n    image:", "    image:");
            let (_, diags) = load_files(&[("compose.yaml", &compose)]);
            let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
            assert!(codes.contains(&Code::WrongType), "{key}: {diags:?}");
        }
        let (_, diags) = load_files(&[("compose.yaml", "services:\n  cache:\n    image: redis:7\n    user: !reset\n")]);
        assert!(diags.iter().all(|d| d.code != Code::WrongType), "{diags:?}");
    }

    #[test]
    fn every_kind_of_file_named_outside_the_project_is_reported() {
        let outside = tempfile::tempdir().unwrap();
        let shared = outside.path().join("shared.yaml");
        std::fs::write(&shared, "services:\n  base:\n    image: b:1\n  extra:\n    image: e:1\n").unwrap();
        std::fs::write(outside.path().join("x.env"), "A=1\n").unwrap();
        let o = outside.path().display();
        let compose = format!(
            "include: [{o}/shared.yaml]\nservices:\n  web:\n    extends: {{file: {o}/shared.yaml, service: base}}\n    \
             env_file: {o}/x.env\nconfigs:\n  c:\n    file: /etc/passwd\nsecrets:\n  s:\n    file: ../x\n"
        );
        for strict in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("compose.yaml"), &compose).unwrap();
            let options = Options {
                files: vec![dir.path().join("compose.yaml")],
                working_dir: dir.path().to_path_buf(),
                strict_paths: strict,
                ..Options::default()
            };
            let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
            let project = load(&options, &mut sources, &mut diags).unwrap();
            let outside: Vec<&Diagnostic> = diags.items().iter().filter(|d| d.code == Code::OutsideProject).collect();
            assert_eq!(outside.len(), 5, "{:?}", diags.items());
            assert!(outside.iter().all(|d| d.is_error() == strict));
            // Refused files are not read: nothing of them reaches the project.
            let services = service_names(&project);
            assert_eq!(services.contains(&"extra".to_string()), !strict, "{services:?}");
            let web = project.typed.service("web").unwrap();
            assert_eq!(web.image.is_some(), !strict);
            assert_eq!(!web.env_files.is_empty(), !strict);
        }
    }

    fn service_names(project: &Project) -> Vec<String> {
        project.typed.services.iter().map(|s| s.name.value.clone()).collect()
    }

    #[test]
    fn a_file_included_twice_is_loaded_once() {
        let (project, diags) = load_files(&[
            ("compose.yaml", "include: [db.yaml, ./db.yaml]\nservices:\n  web:\n    image: a:1\n"),
            ("db.yaml", "services:\n  db:\n    image: d:1\n"),
        ]);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(service_names(&project.unwrap()), ["web", "db"]);
    }

    #[test]
    fn an_include_cycle_is_one_error() {
        let (_, diags) = load_files(&[
            ("compose.yaml", "include: [a.yaml, compose.yaml]\nservices:\n  web:\n    image: a:1\n"),
            ("a.yaml", "include: [compose.yaml]\nservices:\n  a:\n    image: a:1\n"),
        ]);
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::IncludeFailed], "{diags:?}");
    }

    #[test]
    fn files_that_extend_each_other_are_one_error() {
        let (_, diags) = load_files(&[
            ("compose.yaml", "services:\n  x:\n    extends: {file: b.yaml, service: y}\n"),
            ("b.yaml", "services:\n  y:\n    image: a:1\n    extends: {file: compose.yaml, service: x}\n"),
        ]);
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::ExtendsCycle], "{diags:?}");
    }

    /// A chain `s1 → s0`, `s2 → s1`, …, written last link first or first link first.
    fn chain(links: usize, reversed: bool) -> String {
        let mut services: Vec<String> = (1..=links).map(|i| format!("  s{i}:\n    extends: s{}\n", i - 1)).collect();
        if reversed {
            services.reverse();
        }
        format!("services:\n  s0:\n    image: a:1\n{}", services.concat())
    }

    #[test]
    fn extends_chains_up_to_the_limit_resolve_in_any_order() {
        for reversed in [false, true] {
            let (project, diags) = load_files(&[("compose.yaml", &chain(extends::MAX_EXTENDS_DEPTH, reversed))]);
            assert!(diags.is_empty(), "{diags:?}");
            let project = project.unwrap();
            assert!(project.typed.services.iter().all(|s| s.image.is_some()));
        }
    }

    #[test]
    fn an_extends_chain_over_the_limit_is_one_error_in_any_order() {
        for reversed in [false, true] {
            let (_, diags) = load_files(&[("compose.yaml", &chain(3 * extends::MAX_EXTENDS_DEPTH, reversed))]);
            let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
            assert_eq!(codes, [Code::ExtendsDepth], "reversed: {reversed}");
        }
    }

    #[test]
    fn invalid_utf8_is_pointed_at_whole_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compose.yaml");
        std::fs::write(&path, b"services:\n  a: \xff\xfe\n").unwrap();
        let (read, diags, sources) = read(&path);
        assert!(read.is_none());
        let span = diags[0].primary.as_ref().unwrap().span;
        let text = &sources.get(span.file).unwrap().text;
        assert_eq!(diags[0].code, Code::NotText);
        // The registered text has U+FFFD there; the span must not end inside it.
        assert_eq!(text.get(span.range()), Some("\u{FFFD}"));
    }

    #[test]
    fn files_over_the_limit_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compose.yaml");
        // Sparse: 64 MiB + 1 byte of length, next to nothing on disk.
        std::fs::File::create(&path).unwrap().set_len(MAX_FILE_BYTES + 1).unwrap();
        let (read, diags, _) = read(&path);
        assert!(read.is_none());
        assert_eq!(diags[0].code, Code::ReadFailed);
        assert!(diags[0].message.ends_with("it is larger than 64 MiB"), "{}", diags[0].message);
    }

    #[test]
    fn endless_devices_are_refused_at_the_limit() {
        // /dev/zero has no length: reading it must stop at the limit, not eat the memory.
        let (read, diags, _) = read(Path::new("/dev/zero"));
        assert!(read.is_none());
        assert!(diags[0].message.ends_with("it is larger than 64 MiB"), "{}", diags[0].message);
        assert_eq!(read_up_to(std::io::repeat(b'x'), 10).unwrap().len(), 11);
        assert_eq!(limited(&b"services: {}"[..]).unwrap(), b"services: {}");
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (read, diags, _) = read(dir.path());
        assert!(read.is_none());
        assert!(diags[0].message.ends_with("it is a directory, not a file"), "{}", diags[0].message);
    }

    #[test]
    fn unreadable_files_are_a_permission_diagnostic() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compose.yaml");
        std::fs::write(&path, "services: {}\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&path).is_ok() {
            eprintln!("skipped: running as root, where chmod 000 does not stop reads");
            return;
        }
        let (read, diags, _) = read(&path);
        assert!(read.is_none());
        assert_eq!(diags[0].code, Code::ReadFailed);
        assert!(diags[0].message.ends_with("permission denied"), "{}", diags[0].message);
    }

    #[test]
    fn a_fifo_with_a_writer_is_read_like_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compose.yaml");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || std::fs::write(path, "services: {}\n"))
        };
        let (read, diags, _) = read(&path);
        writer.join().unwrap().unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(read.unwrap().1, "services: {}\n");
    }
}
