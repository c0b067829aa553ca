//! Image references for the services a project builds, and what `kompile images` lists.
//!
//! A built service's image is its `image`, else `<registry>/<project>-<service>:<tag>`
//! where the registry comes from `--registry` or `x-kompile: {registry: ...}` and the tag
//! is a hash of everything the build reads ([`hash`]): changed code gives a new tag (and a
//! rolling update), unchanged code the same manifests.

pub mod formats;
pub mod hash;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::compose::{Build, FileSource, Project, Service};
use crate::diag::{Code, Diagnostic, Diagnostics};
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
    let from_file = project.settings.registry.as_ref().map(|r| r.value.clone());
    let registry = naming.registry.map(str::to_string).or(from_file);
    let mut planner = Planner { project, registry, skip_hashing: naming.skip_hashing, digests: BTreeMap::new() };
    let mut out: Vec<BuiltImage> = project.services.iter().filter_map(|s| planner.built(s, diags)).collect();
    out.sort_by(|a, b| a.service.cmp(&b.service));
    out
}

/// The image name of every built service [`plan`] could name, by service: what `lower` puts
/// in the manifests for a service that builds and has no `image`.
pub fn names(project: &Project, naming: Naming<'_>, diags: &mut Diagnostics) -> BTreeMap<String, String> {
    plan(project, naming, diags).into_iter().filter_map(|b| Some((b.service, b.image?))).collect()
}

/// buildx reads `--secret` specs as CSV: a field with a comma or quote is quoted.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field.to_string() }
}

struct Planner<'a> {
    project: &'a Project,
    registry: Option<String>,
    skip_hashing: bool,
    /// Context digests by (context, ignore file): services sharing a context read it once.
    digests: BTreeMap<(PathBuf, Option<PathBuf>), [u8; 32]>,
}

impl Planner<'_> {
    /// The service's build, if it has one.
    fn built(&mut self, service: &Service, diags: &mut Diagnostics) -> Option<BuiltImage> {
        let build = service.build.as_ref()?;
        let text = |value: &Option<crate::compose::Spanned<String>>| value.as_ref().map(|v| v.value.clone());
        let context = text(&build.context).unwrap_or_else(|| ".".to_string());
        let dockerfile_inline = text(&build.dockerfile_inline);
        let dockerfile = match &dockerfile_inline {
            Some(_) => None,
            None => Some(Path::new(&context).join(text(&build.dockerfile).unwrap_or_else(|| "Dockerfile".to_string()))),
        };
        let mut built = BuiltImage {
            service: service.name.value.clone(),
            context,
            dockerfile,
            dockerfile_inline,
            target: text(&build.target),
            args: crate::compose::to_map(&build.args),
            secrets: self.build_secrets(build),
            image: text(&service.image),
        };
        if built.image.is_none() {
            built.image = self.name(&built, build.span, diags);
        }
        Some(built)
    }

    /// The build's secrets, by id: the `target` if given, else the secret's name (as
    /// `docker compose build` names them). A secret neither in a file nor in the environment
    /// has nothing buildx could read; checking reports undefined ones.
    fn build_secrets(&self, build: &Build) -> Vec<String> {
        let mut specs = Vec::new();
        for reference in &build.secrets {
            let source = &reference.source.value;
            let id = reference.target.clone().unwrap_or_else(|| source.clone());
            let spec = match self.project.secret(source).map(|s| &s.source) {
                Some(FileSource::File { path, .. }) => [format!("id={id}"), format!("src={}", path.value)],
                Some(FileSource::Environment { variable, .. }) => {
                    [format!("id={id}"), format!("env={}", variable.value)]
                }
                _ => continue,
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
        let repository = crate::names::dns_label(&format!("{}-{}", self.project.name, built.service));
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
        let ignore_file = crate::dockerignore::file_for(&context, built.dockerfile.as_deref());
        let key = (context, ignore_file);
        if let Some(digest) = self.digests.get(&key) {
            return Ok(*digest);
        }
        let rules = match &key.1 {
            Some(path) => crate::dockerignore::Ignore::parse(&std::fs::read_to_string(path)?),
            None => crate::dockerignore::Ignore::default(),
        };
        let digest = hash::context_digest(&key.0, &rules)?;
        self.digests.insert(key, digest);
        Ok(digest)
    }
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
