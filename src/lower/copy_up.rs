//! Volumes keep their contents: Docker fills an empty named or anonymous volume with what the
//! image has at its path ("copy-up"), and a bind mount hides the image's path; Kubernetes
//! volumes start empty. So, per service:
//!
//! - a bind mount of the service's own build context (or a directory in it) at the path the
//!   Dockerfile copies it to is dropped: the image already holds those files, and the mount
//!   only showed edits live during development (K260). Anonymous volumes below it, which only
//!   kept the bind mount off a path of the image (`/app/node_modules`), go too;
//! - a named or anonymous volume mounted where the image has files is seeded: an init
//!   container of the same image copies them in while the volume is empty (K261). For a built
//!   image the Dockerfile tells ([`ImageFiles::content_at`]); for any image the volume's
//!   `x-kompile.seed` does; `nocopy` turns it off. Where kompile cannot see the image's files
//!   and images usually keep some, it says so (K262); an image without a shell cannot copy
//!   (K263).

use std::path::Path;

use super::built::{Built, base_image};
use crate::compose::{self, ServiceVolume, Spanned, VolumeKind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dockerfile::{MadeBy, is_inside};
use crate::load::canonical::{clean, clean_container_path};
use crate::model::{Mount, MountSource, Seed};
use crate::source::Span;

/// What happens to a service's `volumes` entries, decided before its mounts are made.
#[derive(Debug, Default)]
pub struct Plan {
    /// Indices into `volumes` of the entries left out.
    pub dropped: Vec<usize>,
    /// Indices into `volumes` of bind mounts that become scratch space (an `emptyDir`) seeded
    /// from the image: a writable directory of the build context, which the service may write.
    pub scratch: Vec<usize>,
    /// Volume entries that would start with the image's files, and why; a later mount at the
    /// same target may still replace them (see [`seeds`]).
    wishes: Vec<Wish>,
}

#[derive(Debug)]
struct Wish {
    index: usize,
    target: String,
    why: Why,
}

#[derive(Debug)]
enum Why {
    /// The Dockerfile puts something there (the instruction's span); `above`: it puts it in a
    /// directory above, which may or may not hold this path (`COPY . /app` and `/app/uploads`).
    Dockerfile { at: Span, by: MadeBy, above: bool },
    /// `x-kompile.seed: true` on the volume.
    Asked(Span),
    /// A writable directory of the build context made scratch space (reported with K268).
    Scratch,
    /// The Dockerfile puts something there, but the image has no shell to copy it with.
    NoShell { at: Span, image: String },
    /// kompile cannot see the image's files there (`image`: the pulled image, or a built
    /// image's base), and images usually keep some at such a path.
    Unknown { image: String, built: bool, volume: String },
}

/// Decides which mounts the image makes needless and which volumes it seeds, reporting the
/// dropped mounts.
pub fn plan(
    service: &compose::Service,
    built: Option<&Built>,
    project: &compose::Project,
    diags: &mut Diagnostics,
) -> Plan {
    let mut plan = Plan::default();
    if let Some(built) = built {
        drop_context_mounts(service, built, &mut plan, diags);
    }
    for (index, entry) in service.volumes.iter().enumerate() {
        if plan.dropped.contains(&index) || entry.kind != VolumeKind::Volume || entry.nocopy {
            continue;
        }
        let target = clean_container_path(&entry.target);
        if let Some(why) = wish(service, entry, &target, built, project) {
            plan.wishes.push(Wish { index, target, why });
        }
    }
    plan
}

/// Whether, and why, the volume of `entry` would start with the image's files.
fn wish(
    service: &compose::Service,
    entry: &ServiceVolume,
    target: &str,
    built: Option<&Built>,
    project: &compose::Project,
) -> Option<Why> {
    let declared = entry.source.as_deref().and_then(|name| project.volume(name));
    match declared.and_then(|v| v.settings.seed) {
        Some(Spanned { value: true, span }) => {
            // Unless kompile cannot see the image (a Dockerfile it could not read).
            let known = built.is_some() || service.build.is_none();
            return Some(match no_shell(base_image(built, service).as_deref()) {
                Some(image) if known => Why::NoShell { at: span, image },
                _ => Why::Asked(span),
            });
        }
        Some(_) => return None,
        None => {}
    }
    if let Some(built) = built
        && let Some(made) = built.config.files.content_at(target)
    {
        let at = built.span(&made.span);
        return Some(match no_shell(built.config.base.as_deref()) {
            Some(image) => Why::NoShell { at, image },
            None => Why::Dockerfile { at, by: made.by, above: is_inside(target, &made.path) },
        });
    }
    let base = base_image(built, service);
    // Anonymous volumes have nowhere to say `seed`; named ones are asked about where images
    // usually keep files.
    let volume = entry.source.clone()?;
    let image = base.filter(|_| keeps_files(target))?;
    Some(Why::Unknown { image, built: built.is_some(), volume })
}

/// The seeds of a service whose mounts are `mounts`: the wishes whose volume is the one
/// mounted at its target in the end (a later entry at the same target replaces it, as in
/// Compose). Reports each.
pub fn seeds(plan: &Plan, service: &compose::Service, mounts: &[Mount], diags: &mut Diagnostics) -> Vec<Seed> {
    let name = service.name.as_str();
    let mut seeds = Vec::new();
    for wish in &plan.wishes {
        let replaced =
            service.volumes.iter().enumerate().skip(wish.index + 1).any(|(index, later)| {
                !plan.dropped.contains(&index) && clean_container_path(&later.target) == wish.target
            });
        let mounted = mounts
            .iter()
            .any(|m| m.target == wish.target && (m.source.is_claim() || m.source == MountSource::EmptyDir));
        if replaced || !mounted {
            continue;
        }
        let entry = &service.volumes[wish.index];
        let what = match &entry.source {
            Some(volume) => format!("volume `{volume}`"),
            None => "the anonymous volume".to_string(),
        };
        let target = &wish.target;
        match &wish.why {
            Why::Dockerfile { at, by, above } => {
                let label = match (by, above) {
                    (MadeBy::Copy, false) => "copies files there",
                    (MadeBy::Copy, true) => "copies files above it",
                    (MadeBy::Workdir, _) => "works in or above it",
                    (MadeBy::Mkdir, _) => "creates it",
                };
                diags.push(seeded(name, &what, target, entry.span, !above).also(*at, label));
                seeds.push(Seed { target: target.clone() });
            }
            Why::Asked(at) => {
                diags.push(seeded(name, &what, target, entry.span, true).also(*at, "asked for here"));
                seeds.push(Seed { target: target.clone() });
            }
            Why::Scratch => seeds.push(Seed { target: target.clone() }),
            Why::NoShell { at, image } => diags.push(
                Diagnostic::new(
                    Code::SeedWithoutShell,
                    format!(
                        "the image of service `{name}` has files at {target}, but no shell to copy them into {what}: it starts empty"
                    ),
                )
                .at(entry.span, "starts empty")
                .also(*at, "puts files there")
                .help(format!(
                    "seeding runs `sh` and `cp` from the image, and `{image}` has neither, as far as kompile can tell; have the application create \
                     its files at start, or write `nocopy: true` on the mount to say the volume starts empty"
                )),
            ),
            Why::Unknown { image, built, volume } => diags.push(
                Diagnostic::new(
                    Code::SeedUnknown,
                    format!(
                        "service `{name}` mounts volume `{volume}` at {target}, where {} `{image}` may have files: the volume starts empty",
                        if *built { "base image" } else { "image" }
                    ),
                )
                .at(entry.span, "kompile cannot see the image's files")
                .help(format!(
                    "Docker fills an empty volume with the image's files at its path; to do the same, set \
                     `x-kompile: {{seed: true}}` on volume `{volume}` (`seed: false` keeps it empty and silences this)"
                )),
            ),
        }
    }
    seeds
}

/// K261; `known`: the Dockerfile puts files at the path itself, not only above it.
fn seeded(service: &str, what: &str, target: &str, at: Span, known: bool) -> Diagnostic {
    let files = if known { "the image's files" } else { "what the image has, if anything," };
    Diagnostic::new(
        Code::VolumeSeeded,
        format!("{what} of service `{service}` starts with {files} at {target}, as in Docker"),
    )
    .at(at, "seeded from the image while empty")
    .help(format!(
        "an init container running the service's image copies {target} into the volume while it is empty, never \
         over data; the image needs `sh` and `cp`. `nocopy: true` on the mount starts it empty"
    ))
}

/// Bind mounts of the build context (or a directory in it) at the path the Dockerfile copies
/// it to, and the anonymous volumes below them. A writable directory of the context (`./data:
/// /app/data`) is where the service may write: it becomes scratch space seeded from the image
/// rather than nothing. What the `.dockerignore` leaves out is not in the image: kept.
fn drop_context_mounts(service: &compose::Service, built: &Built, plan: &mut Plan, diags: &mut Diagnostics) {
    let Some(context) = service.build.as_ref().and_then(|b| b.context.as_ref()) else { return };
    if !context.starts_with('/') {
        // A URL or git repository: nothing on this machine to compare with.
        return;
    }
    let context = clean(Path::new(&context.value));
    for (index, entry) in service.volumes.iter().enumerate() {
        let Some(source) = entry.source.as_deref().filter(|s| entry.kind == VolumeKind::Bind && s.starts_with('/'))
        else {
            continue;
        };
        let source = clean(Path::new(source));
        let Ok(relative) = source.strip_prefix(&context) else { continue };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if !relative.is_empty() && built.ignore.excludes(&relative) {
            continue;
        }
        let single = entry.is_single_file();
        let target = clean_container_path(&entry.target);
        let Some(copy) = built.config.files.context_copy_at(&relative, single, &target) else { continue };
        let copied = built.span(&copy.span);
        let writable = !relative.is_empty() && !entry.read_only;
        // A writable file (`./db.sqlite3`): the pod writes the image's copy, in its own layer.
        if writable && single {
            plan.dropped.push(index);
            diags.push(scratch_file(service.name.as_str(), &relative, &target, entry.span, copied));
            continue;
        }
        if writable && no_shell(built.config.base.as_deref()).is_none() {
            plan.scratch.push(index);
            let why = Why::Scratch;
            plan.wishes.push(Wish { index, target: target.clone(), why });
            diags.push(scratch(service.name.as_str(), &relative, &target, entry.span, copied));
            continue;
        }
        plan.dropped.push(index);
        diags.push(dropped(service.name.as_str(), &relative, &target, entry.span, copied));
        if let Some(lacking) = lacking(entry, &relative, built, &target, service.name.as_str()) {
            diags.push(lacking);
        }
        // With a read-only root file system an anonymous volume is also where it may write.
        if service.read_only {
            continue;
        }
        for (shield_index, shield) in service.volumes.iter().enumerate() {
            let shield_target = clean_container_path(&shield.target);
            if shield.kind == VolumeKind::Volume && shield.source.is_none() && is_inside(&shield_target, &target) {
                plan.dropped.push(shield_index);
                diags.push(shield_dropped(service.name.as_str(), &shield_target, &target, shield.span, entry.span));
            }
        }
    }
    plan.dropped.sort_unstable();
    plan.dropped.dedup();
}

/// K269 for the files a dropped mount showed that the image lacks: the build's
/// `.dockerignore` leaves them out (`config/`, `db.sqlite3`), and the service may read them.
fn lacking(
    entry: &Spanned<ServiceVolume>,
    relative: &str,
    built: &Built,
    target: &str,
    name: &str,
) -> Option<Diagnostic> {
    let Some(compose::BindContents::Project { shipped: Ok(files), .. }) = &entry.contents else { return None };
    let in_context = |path: &str| if relative.is_empty() { path.to_string() } else { format!("{relative}/{path}") };
    let lacking: Vec<&str> =
        files.files.iter().map(|f| f.path.as_str()).filter(|path| built.ignore.excludes(&in_context(path))).collect();
    let first = lacking.first()?;
    const SHOWN: usize = 5;
    let mut shown = lacking.iter().take(SHOWN).map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    if lacking.len() > SHOWN {
        shown.push_str(&format!(" and {} more", lacking.len() - SHOWN));
    }
    Some(
        Diagnostic::new(
            Code::ImageLacksFiles,
            format!(
                "the image of service `{name}` lacks {} the bind mount at {target} showed: {shown}",
                if lacking.len() == 1 { "a file" } else { "files" }
            ),
        )
        .at(entry.span, "the build's .dockerignore leaves them out of the image")
        .help(format!(
            "bind-mount what the service reads on its own (`{first}` at its path under {target}), which kompile ships as a ConfigMap, or let the build copy it"
        )),
    )
}

/// K268 for a writable file of the context, which the pod uses the image's copy of.
fn scratch_file(name: &str, relative: &str, target: &str, at: Span, copied: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ContextScratch,
        format!(
            "service `{name}` bind-mounts `{relative}` of its build context at {target}: the pod uses the image's copy, and what the service writes to it lasts only as long as the pod"
        ),
    )
    .at(at, "dropped: the image's copy, in the container's own layer")
    .also(copied, format!("copies it to {target}"))
    .help("under Compose the service's writes landed in the project's file; to keep them, move the file into a directory on a named volume, or mark the mount `:ro` if the service only reads it")
}

/// How a context path is named in a message: the context itself, or a path in it.
fn shown(relative: &str) -> String {
    if relative.is_empty() { "its build context".to_string() } else { format!("`{relative}` of its build context") }
}

/// K260 for a bind mount of the context the image holds.
fn dropped(name: &str, relative: &str, target: &str, at: Span, copied: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ImageHoldsMount,
        format!(
            "service `{name}` bind-mounts {} at {target}, where the image already has it: the mount is dropped",
            shown(relative)
        ),
    )
    .at(at, "dropped: the pod runs the image's copy")
    .also(copied, format!("copies it to {target}"))
    .help(
        "a bind mount of the sources shows edits live, which is for development; the pod runs the files built \
         into the image (less what .dockerignore leaves out): rebuild and apply to ship a change",
    )
}

/// K260 for an anonymous volume that only kept a dropped bind mount off the image's path.
fn shield_dropped(name: &str, path: &str, bind_target: &str, at: Span, bind: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ImageHoldsMount,
        format!(
            "service `{name}`'s anonymous volume at {path} is dropped: it only kept the bind mount at {bind_target} off the image's files"
        ),
    )
    .at(at, "dropped: the image's files show through")
    .also(bind, "dropped, as the image holds it")
    .help("the pod sees what the image built there (`npm ci`'s node_modules), as under Compose")
}

/// K268 for a writable directory of the context, which becomes scratch space.
fn scratch(name: &str, relative: &str, target: &str, at: Span, copied: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ContextScratch,
        format!(
            "service `{name}` bind-mounts {} at {target}: it becomes scratch space that starts with the image's copy, and what the service writes there lasts only as long as the pod",
            shown(relative)
        ),
    )
    .at(at, "an emptyDir, seeded from the image")
    .also(copied, format!("copies it to {target}"))
    .help(format!(
        "under Compose the service's writes landed in the project directory; to keep them, mount a named volume \
         at {target} (kompile seeds it from the image too), or mark the mount `:ro` if the service only reads it"
    ))
}

/// The image a chain of stages starts from, when it has no shell to seed with: `scratch`
/// (`None`), distroless, Chainguard and Ubuntu chiseled images (their `-dev`/`debug` variants
/// have one), and a base kompile cannot read (`FROM ${BASE}`).
fn no_shell(base: Option<&str>) -> Option<String> {
    match base {
        None => Some("scratch".to_string()),
        Some(image) => {
            let lower = image.to_ascii_lowercase();
            let debug = lower.contains("debug") || lower.contains("-dev");
            let shell_less = lower.contains("distroless")
                || lower.contains("cgr.dev/chainguard/")
                || lower.contains("chainguard/static")
                || lower.contains("chiseled");
            ((shell_less && !debug) || lower.contains('$')).then(|| image.to_string())
        }
    }
}

/// Whether images usually ship files at `path`, so that a volume there may hide some: below
/// `/usr`, `/etc`, `/opt`, `/var/www`, `/srv`, `/home`, `/root` or `/app`, unless its last
/// part names data (`/app/data`, `/srv/uploads`). Data paths (`/var/lib/postgresql/data`,
/// `/data`) are where images keep nothing and a note would be noise.
pub fn keeps_files(path: &str) -> bool {
    const SHIPPED: &[&str] = &["/usr", "/etc", "/opt", "/var/www", "/srv", "/home", "/root", "/app"];
    const DATA: &[&str] = &[
        "data",
        "db",
        "database",
        "storage",
        "state",
        "uploads",
        "upload",
        "media",
        "files",
        "logs",
        "log",
        "cache",
        "tmp",
        "temp",
        "backup",
        "backups",
        "downloads",
    ];
    let under = SHIPPED.iter().any(|dir| path == *dir || is_inside(path, dir));
    let last = path.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    under && !DATA.contains(&last.as_str()) && !matches!(path, "/srv" | "/home" | "/root")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{keeps_files, no_shell};
    use crate::compose::{BindContents, BuildFile, ProjectFile, ProjectFiles};
    use crate::diag::{Code, Diagnostics};
    use crate::lower::testing::*;
    use crate::model::{App, MountSource, Service};
    use crate::source::Span;

    /// The `.dockerignore` of every test build.
    const IGNORED: &str = "node_modules\nconfig.json\nsecrets/\n";

    /// `compose` with each service named in `dockerfiles` building that Dockerfile text.
    fn lower_built(compose: &str, dockerfiles: &[(&str, &str)]) -> (App, Diagnostics) {
        lower_edited(compose, |project| {
            for (service, text) in dockerfiles {
                project.dockerfiles.push(BuildFile {
                    path: PathBuf::from(format!("/nonexistent/kompile-test/{service}/Dockerfile")),
                    file: Span::NONE.file,
                    parsed: crate::dockerfile::parse(text),
                    services: vec![service.to_string()],
                    ignore: crate::dockerignore::Ignore::parse(IGNORED),
                    silences: Default::default(),
                });
            }
        })
    }

    fn service<'a>(app: &'a App, name: &str) -> &'a Service {
        app.services.iter().find(|s| s.name == name).expect("the service")
    }

    fn targets(svc: &Service) -> Vec<&str> {
        svc.mounts.iter().map(|m| m.target.as_str()).collect()
    }

    fn seeded(svc: &Service) -> Vec<&str> {
        svc.seeds.iter().map(|s| s.target.as_str()).collect()
    }

    fn ours(diags: &Diagnostics) -> Vec<Code> {
        codes(diags).into_iter().filter(|c| c.id().starts_with("K26")).collect()
    }

    const NODE: &str = "FROM node:22-alpine\nWORKDIR /app\nCOPY package.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";

    #[test]
    fn the_sources_and_their_node_modules_volume_are_dropped() {
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['./app:/app', '/app/node_modules', './app/src:/app/src:ro', '/tmp/cache', './other:/app/other']\n";
        let (app, diags) = lower_built(compose, &[("app", NODE)]);
        let svc = service(&app, "app");
        assert_eq!(targets(svc), ["/tmp/cache", "/app/other"], "`./other` is not the build context");
        assert!(seeded(svc).is_empty(), "{:?}", svc.seeds);
        let notes: Vec<&str> =
            diags.items().iter().filter(|d| d.code == Code::ImageHoldsMount).map(|d| d.message.as_str()).collect();
        assert_eq!(
            notes,
            [
                "service `app` bind-mounts its build context at /app, where the image already has it: the mount is dropped",
                "service `app`'s anonymous volume at /app/node_modules is dropped: it only kept the bind mount at /app off the image's files",
                "service `app` bind-mounts `src` of its build context at /app/src, where the image already has it: the mount is dropped",
            ],
            "each dropped mount is reported at its own place"
        );
        assert_eq!(ours(&diags).len(), 3);
    }

    /// A writable directory of the context is where the service may write (a SQLite file,
    /// uploads): scratch space seeded from the image, with a warning that it does not last.
    #[test]
    fn a_writable_directory_of_the_context_becomes_seeded_scratch_space() {
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['./app/data:/app/data']\n";
        let (app, diags) = lower_built(compose, &[("app", NODE)]);
        let svc = service(&app, "app");
        assert_eq!(
            svc.mounts.iter().map(|m| (m.target.as_str(), &m.source)).collect::<Vec<_>>(),
            [("/app/data", &MountSource::EmptyDir)]
        );
        assert_eq!(seeded(svc), ["/app/data"]);
        assert_eq!(ours(&diags), [Code::ContextScratch], "one warning, no K261 beside it");
        // The same under a read-only root file system, where the mount is where it writes.
        let read_only = compose.replace("    build", "    read_only: true\n    build");
        let (app, _) = lower_built(&read_only, &[("app", NODE)]);
        assert_eq!(seeded(service(&app, "app")), ["/app/data"]);
        // A writable file is the image's copy, written in the container's own layer.
        let file = "services:\n  app:\n    build: ./app\n    volumes: ['./app/db.sqlite3:/app/db.sqlite3']\n";
        let (app, diags) = lower_edited(file, |project| {
            let sqlite = ProjectFile { path: "db.sqlite3".into(), bytes: b"SQLite".to_vec(), executable: false };
            let shipped = Ok(ProjectFiles { files: vec![sqlite], single: true });
            project.services[0].volumes[0].value.contents =
                Some(BindContents::Project { left_out: Vec::new(), shipped });
            project.dockerfiles.push(BuildFile {
                path: PathBuf::from("/nonexistent/kompile-test/app/Dockerfile"),
                file: Span::NONE.file,
                parsed: crate::dockerfile::parse(NODE),
                services: vec!["app".to_string()],
                ignore: crate::dockerignore::Ignore::default(),
                silences: Default::default(),
            });
        });
        assert!(targets(service(&app, "app")).is_empty());
        assert_eq!(ours(&diags), [Code::ContextScratch]);
    }

    /// What the `.dockerignore` leaves out never reaches the image: such a mount stays.
    #[test]
    fn a_mount_of_what_the_dockerignore_leaves_out_stays() {
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['./app/config.json:/app/config.json:ro', './app/secrets:/app/secrets:ro']\n";
        let (app, diags) = lower_built(compose, &[("app", NODE)]);
        assert_eq!(targets(service(&app, "app")), ["/app/config.json", "/app/secrets"]);
        assert!(ours(&diags).is_empty(), "{:?}", codes(&diags));
    }

    #[test]
    fn images_without_a_shell_are_known() {
        for image in [
            "gcr.io/distroless/static-debian12:nonroot",
            "cgr.dev/chainguard/python:latest",
            "mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled",
            "${BASE}",
        ] {
            assert!(no_shell(Some(image)).is_some(), "{image}");
        }
        for image in ["gcr.io/distroless/base:debug", "cgr.dev/chainguard/python:latest-dev", "python:3.13-slim"] {
            assert!(no_shell(Some(image)).is_none(), "{image}");
        }
        assert_eq!(no_shell(None).as_deref(), Some("scratch"));
    }

    /// `seed: true` on a pulled image without a shell cannot be done: K263, no seeder.
    #[test]
    fn a_pulled_image_without_a_shell_is_not_seeded_even_when_asked() {
        let compose = "services:\n  web:\n    image: cgr.dev/chainguard/nginx:latest\n    volumes: ['html:/usr/share/nginx/html']\n    x-kompile: {kind: deployment}\nvolumes:\n  html: {x-kompile: {seed: true}}\n";
        let (app, diags) = lower_built(compose, &[]);
        assert!(seeded(service(&app, "web")).is_empty());
        assert_eq!(ours(&diags), [Code::SeedWithoutShell]);
    }

    #[test]
    fn a_mount_where_the_dockerfile_does_not_copy_it_stays() {
        let dockerfile = "FROM node:22-alpine\nWORKDIR /srv\nCOPY src/ ./src/\nCOPY package.json /app/\n";
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['./app:/app', '/app/node_modules']\n";
        let (app, diags) = lower_built(compose, &[("app", dockerfile)]);
        let svc = service(&app, "app");
        assert_eq!(targets(svc), ["/app", "/app/node_modules"], "only a part of the context is copied");
        assert!(!ours(&diags).contains(&Code::ImageHoldsMount));
        // A relative destination under a base image's unknown WORKDIR is not guessed.
        let (app, _) = lower_built(compose, &[("app", "FROM node:22-alpine\nCOPY . .\n")]);
        assert_eq!(targets(service(&app, "app")), ["/app", "/app/node_modules"]);
    }

    #[test]
    fn with_a_read_only_root_the_anonymous_volume_stays_and_is_seeded() {
        let compose = "services:\n  app:\n    build: ./app\n    read_only: true\n    volumes: ['./app:/app', '/app/node_modules']\n";
        let (app, diags) = lower_built(compose, &[("app", NODE)]);
        let svc = service(&app, "app");
        assert_eq!(targets(svc), ["/app/node_modules"]);
        assert_eq!(svc.mounts[0].source, MountSource::EmptyDir);
        assert_eq!(seeded(svc), ["/app/node_modules"], "`RUN npm ci` in WORKDIR /app made it");
        assert_eq!(ours(&diags), [Code::ImageHoldsMount, Code::VolumeSeeded]);
    }

    #[test]
    fn volumes_are_seeded_where_the_dockerfile_puts_files() {
        let dockerfile = "FROM python:3.13-slim\nWORKDIR /srv/app\nCOPY . .\nRUN mkdir -p /var/lib/app/queue\n";
        let compose = "services:\n  app:\n    build: ./app\n    volumes:\n      - data:/var/lib/app\n      - uploads:/srv/app/uploads\n      - /var/cache/app\n      - {type: volume, source: off, target: /srv/app/static}\n      - {type: volume, target: /srv/app/tmp, volume: {nocopy: true}}\n      - {type: tmpfs, target: /srv/app/run}\n    x-kompile: {kind: deployment}\nvolumes:\n  data: {}\n  uploads: {}\n  off: {x-kompile: {seed: false}}\n";
        let (app, diags) = lower_built(compose, &[("app", dockerfile)]);
        let svc = service(&app, "app");
        assert_eq!(seeded(svc), ["/var/lib/app", "/srv/app/uploads"], "{diags:?}");
        assert_eq!(ours(&diags), [Code::VolumeSeeded, Code::VolumeSeeded]);
        // `COPY . .` into /srv/app may or may not have made `uploads`: the note says so.
        let notes: Vec<&str> = diags.items().iter().map(|d| d.message.as_str()).collect();
        assert!(notes[0].contains("starts with the image's files at /var/lib/app"), "{notes:?}");
        assert!(notes[1].contains("starts with what the image has, if anything, at /srv/app/uploads"), "{notes:?}");
    }

    #[test]
    fn a_volume_replaced_by_a_later_mount_is_not_seeded() {
        let dockerfile = "FROM alpine:3.20\nWORKDIR /app\n";
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['data:/app', '/elsewhere:/app/']\n    x-kompile: {kind: deployment}\nvolumes:\n  data: {}\n";
        let (app, diags) = lower_built(compose, &[("app", dockerfile)]);
        let svc = service(&app, "app");
        assert_eq!(svc.mounts[0].source, MountSource::HostPath { path: "/elsewhere".into() });
        assert!(seeded(svc).is_empty());
        assert!(ours(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn an_image_without_a_shell_is_not_seeded() {
        let dockerfile = "FROM golang:1.23 AS build\nRUN mkdir -p /out/data\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/data /data\n";
        let compose = "services:\n  app:\n    build: ./app\n    volumes: ['data:/data']\n    x-kompile: {kind: deployment}\nvolumes:\n  data: {}\n";
        let (app, diags) = lower_built(compose, &[("app", dockerfile)]);
        assert!(seeded(service(&app, "app")).is_empty());
        assert_eq!(ours(&diags), [Code::SeedWithoutShell]);
        let debug = dockerfile.replace("static-debian12", "static-debian12:debug");
        let (app, diags) = lower_built(compose, &[("app", &debug)]);
        assert_eq!(seeded(service(&app, "app")), ["/data"]);
        assert_eq!(ours(&diags), [Code::VolumeSeeded]);
    }

    /// A built image whose Dockerfile shows nothing at the path may have it from its base.
    #[test]
    fn a_base_image_may_have_files_too() {
        let compose = "services:\n  web:\n    build: ./web\n    volumes: ['html:/usr/share/nginx/html', 'data:/data']\n    x-kompile: {kind: deployment}\nvolumes:\n  html: {}\n  data: {}\n";
        let (app, diags) = lower_built(compose, &[("web", "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/\n")]);
        assert!(seeded(service(&app, "web")).is_empty());
        assert_eq!(ours(&diags), [Code::SeedUnknown]);
        let note = diags.items().iter().find(|d| d.code == Code::SeedUnknown).unwrap();
        assert!(note.message.contains("base image `nginx:1.27`"), "{}", note.message);
    }

    #[test]
    fn images_keep_files_outside_data_directories() {
        for path in ["/usr/share/nginx/html", "/etc/nginx/conf.d", "/app", "/var/www/html", "/opt/app/plugins"] {
            assert!(keeps_files(path), "{path}");
        }
        for path in ["/data", "/var/lib/postgresql/data", "/srv/uploads", "/app/media", "/srv", "/prometheus", "/tmp"] {
            assert!(!keeps_files(path), "{path}");
        }
    }

    #[test]
    fn no_build_no_seed_unless_asked() {
        let (app, diags) = lower_text(
            "services:\n  web:\n    image: nginx:1.27\n    volumes: ['html:/usr/share/nginx/html', 'logs:/var/log/nginx', 'conf:/etc/nginx/conf.d']\n    x-kompile: {kind: deployment}\nvolumes:\n  html: {}\n  logs: {}\n  conf: {x-kompile: {seed: true}}\n",
        );
        let web = only_service(&app);
        let targets: Vec<&str> = web.seeds.iter().map(|s| s.target.as_str()).collect();
        assert_eq!(targets, ["/etc/nginx/conf.d"]);
        assert_eq!(ours(&diags), [Code::SeedUnknown, Code::VolumeSeeded], "{diags:?}");
    }
}
