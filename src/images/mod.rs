//! Image references for the services a project builds, and what `kompile images` lists.
//!
//! A built service's image is its `image`, else `<registry>/<project>-<service>:<tag>`
//! where the registry comes from `--registry` or `x-kompile: {registry: ...}` and the tag
//! is a hash of everything the build reads ([`hash`]): changed code gives a new tag (and a
//! rolling update), unchanged code the same manifests.

pub mod formats;
pub mod hash;
pub mod ignore;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::Project;
use crate::load::node::{Map, Node};
use crate::source::Span;

/// One service's build, as `docker compose build` would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    pub service: String,
    /// An absolute directory, or a remote context (git or URL) as written.
    pub context: String,
    /// `None` for `dockerfile_inline`.
    pub dockerfile: Option<PathBuf>,
    pub dockerfile_inline: Option<String>,
    pub target: Option<String>,
    pub args: BTreeMap<String, String>,
    /// `build.secrets` as buildx `--secret` specs (`id=ID,src=FILE` or `id=ID,env=VAR`);
    /// secret values are never read.
    pub secrets: Vec<String>,
    /// `None` when the service could not be named (an error was reported).
    pub image: Option<String>,
}

/// How image names are chosen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naming<'a> {
    /// `--registry`; wins over `x-kompile.registry`.
    pub registry: Option<&'a str>,
    /// Leave the contexts unread (for `kompile check`, which never prints image names).
    pub skip_hashing: bool,
}

/// The build of every service that has one, sorted by service name.
pub fn plan(project: &Project, naming: Naming<'_>, diags: &mut Diagnostics) -> Vec<BuiltImage> {
    let root = project.root.as_map();
    let services = root.and_then(|r| r.get("services")).and_then(Node::as_map);
    let registry = naming.registry.map(str::to_string).or_else(|| project_registry(project));
    let mut planner = Planner { project, registry, skip_hashing: naming.skip_hashing, digests: BTreeMap::new() };
    let mut out = Vec::new();
    for (name, node) in services.map(|s| s.iter().collect::<Vec<_>>()).unwrap_or_default() {
        let Some(build) = node.as_map().and_then(|m| m.get("build")) else { continue };
        let Some(build_map) = build.as_map() else { continue };
        let image = node.as_map().and_then(|m| m.get("image")).and_then(Node::scalar_text);
        out.push(planner.built(name, build_map, build.span, image, diags));
    }
    out.sort_by(|a, b| a.service.cmp(&b.service));
    out
}

/// buildx reads `--secret` specs as CSV: a field with a comma or quote is quoted.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field.to_string() }
}

/// `x-kompile: {registry: ...}` at the top of the compose file.
fn project_registry(project: &Project) -> Option<String> {
    let settings = project.root.as_map()?.get("x-kompile")?.as_map()?;
    settings.get("registry")?.scalar_text()
}

/// `build.args` that have a value; an arg without one is not passed to the build.
pub fn build_args(build: &Map) -> BTreeMap<String, String> {
    let args = build.get("args").and_then(Node::as_map);
    args.map(|a| a.iter().filter_map(|(k, v)| Some((k.to_string(), v.scalar_text()?))).collect()).unwrap_or_default()
}

struct Planner<'a> {
    project: &'a Project,
    registry: Option<String>,
    skip_hashing: bool,
    /// Context digests by (context, ignore file): services sharing a context read it once.
    digests: BTreeMap<(PathBuf, Option<PathBuf>), [u8; 32]>,
}

impl Planner<'_> {
    fn built(
        &mut self,
        service: &str,
        build: &Map,
        span: Span,
        image: Option<String>,
        diags: &mut Diagnostics,
    ) -> BuiltImage {
        let text = |key: &str| build.get(key).and_then(Node::scalar_text);
        let context = text("context").unwrap_or_else(|| ".".to_string());
        let dockerfile_inline = text("dockerfile_inline");
        let dockerfile = match &dockerfile_inline {
            Some(_) => None,
            None => Some(Path::new(&context).join(text("dockerfile").unwrap_or_else(|| "Dockerfile".to_string()))),
        };
        let mut built = BuiltImage {
            service: service.to_string(),
            context,
            dockerfile,
            dockerfile_inline,
            target: text("target"),
            args: build_args(build),
            secrets: self.build_secrets(build),
            image,
        };
        if built.image.is_none() {
            built.image = self.name(&built, span, diags);
        }
        built
    }

    /// The build's secrets, by id: the `target` if given, else the secret's name (as
    /// `docker compose build` names them). A secret neither in a file nor in the environment
    /// has nothing buildx could read; checking reports undefined ones.
    fn build_secrets(&self, build: &Map) -> Vec<String> {
        let declared = self.project.root.as_map().and_then(|r| r.get("secrets")).and_then(Node::as_map);
        let mut specs = Vec::new();
        for item in build.get("secrets").and_then(Node::as_seq).unwrap_or_default() {
            let field = |key: &str| item.as_map().and_then(|m| m.get(key)).and_then(Node::scalar_text);
            let Some(source) = field("source") else { continue };
            let id = field("target").unwrap_or_else(|| source.clone());
            let secret = declared.and_then(|d| d.get(&source)).and_then(Node::as_map);
            let from = |key: &str| secret.and_then(|s| s.get(key)).and_then(Node::scalar_text);
            let spec = match (from("file"), from("environment")) {
                (Some(file), _) => [format!("id={id}"), format!("src={file}")],
                (None, Some(variable)) => [format!("id={id}"), format!("env={variable}")],
                (None, None) => continue,
            };
            specs.push(spec.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(","));
        }
        specs
    }

    /// `<registry>/<project>-<service>:<tag>`, or a diagnostic saying how to get one.
    fn name(&mut self, built: &BuiltImage, span: Span, diags: &mut Diagnostics) -> Option<String> {
        let Some(registry) = self.registry.clone() else {
            diags.push(no_registry(&built.service, span));
            return None;
        };
        let repository = crate::lower::dns_label(&format!("{}-{}", self.project.name, built.service));
        // Checked even when hashing is skipped (`check`), so `check` and `build` agree.
        if !remote(&built.context) && !Path::new(&built.context).is_dir() {
            diags.push(missing_context(built, span));
            return None;
        }
        let tag = if self.skip_hashing { "unhashed".to_string() } else { self.tag(built, span, diags)? };
        Some(format!("{}/{repository}:{tag}", registry.trim_end_matches('/')))
    }

    fn tag(&mut self, built: &BuiltImage, span: Span, diags: &mut Diagnostics) -> Option<String> {
        let dockerfile = match (&built.dockerfile_inline, &built.dockerfile) {
            (Some(inline), _) => inline.clone().into_bytes(),
            // A missing Dockerfile was reported when loading; its path stands in for it.
            (None, Some(path)) => {
                // Only a regular file is read: a pipe with no writer would block forever.
                crate::load::read_regular(path, crate::load::MAX_FILE_BYTES)
                    .unwrap_or_else(|_| path.to_string_lossy().into_owned().into_bytes())
            }
            (None, None) => Vec::new(),
        };
        let context = if remote(&built.context) {
            built.context.clone().into_bytes()
        } else {
            match self.context_digest(built) {
                Ok(digest) => digest.to_vec(),
                Err(error) => {
                    diags.push(unreadable(built, &error, span));
                    return None;
                }
            }
        };
        let recipe = hash::Recipe {
            dockerfile: &dockerfile,
            target: built.target.as_deref(),
            args: &built.args,
            context: &context,
        };
        Some(hash::tag(&recipe))
    }

    fn context_digest(&mut self, built: &BuiltImage) -> std::io::Result<[u8; 32]> {
        let context = PathBuf::from(&built.context);
        let ignore_file = ignore_file(&context, built.dockerfile.as_deref());
        let key = (context, ignore_file);
        if let Some(digest) = self.digests.get(&key) {
            return Ok(*digest);
        }
        let rules = match &key.1 {
            Some(path) => ignore::Ignore::parse(&std::fs::read_to_string(path)?),
            None => ignore::Ignore::default(),
        };
        let digest = hash::context_digest(&key.0, &rules)?;
        self.digests.insert(key, digest);
        Ok(digest)
    }
}

/// BuildKit reads `<Dockerfile>.dockerignore` next to the Dockerfile when there is one,
/// else `.dockerignore` at the root of the context.
fn ignore_file(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    let beside = dockerfile.map(|d| {
        let mut name = d.as_os_str().to_os_string();
        name.push(".dockerignore");
        PathBuf::from(name)
    });
    beside.filter(|p| p.is_file()).or_else(|| Some(context.join(".dockerignore")).filter(|p| p.is_file()))
}

fn remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@")
}

fn no_registry(service: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::BuildNeedsImage, format!("service `{service}` is built but has no image name"))
        .at(span, "built here")
        .help(
            "pass `--registry registry.example.com/team` (or set `x-kompile: {registry: ...}` at the top of the \
             compose file) to push it as `<registry>/<project>-<service>:<content hash>`, or set `image:` yourself",
        )
}

fn missing_context(built: &BuiltImage, span: Span) -> Diagnostic {
    let shown = crate::source::display_path(Path::new(&built.context));
    Diagnostic::new(
        Code::MissingFile,
        format!(
            "service `{}` builds from {shown}, which is not a directory, so its image cannot be tagged",
            built.service
        ),
    )
    .at(span, "built from here")
    .help("kompile tags built images with a hash of their context: fix the path, or set `image:` yourself")
}

fn unreadable(built: &BuiltImage, error: &std::io::Error, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ReadFailed,
        format!("cannot read the build context of service `{}` to tag its image: {error}", built.service),
    )
    .at(span, "built from here")
    .help("kompile tags built images with a hash of their context; make the context readable")
}
