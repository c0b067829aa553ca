//! The Dockerfiles a project builds: read and parsed once, here, so checks and lowering
//! work from the parsed form and problems point into the Dockerfile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::node::{Map, Node};
use super::{hadolint, read_source};
use crate::diag::{Code, Diagnostic, Diagnostics, Silence, Silences};
use crate::dockerfile::{self, Dockerfile, Instruction, Issue};
use crate::dockerignore::Ignore;
use crate::source::{FileId, Sources, Span};

pub use crate::compose::BuildFile;

/// Every Dockerfile the services build, each parsed once however many services use it.
/// Remote contexts (git, URLs) are skipped: there is nothing local to read.
pub fn load(services: &Map, sources: &mut Sources, diags: &mut Diagnostics) -> Vec<BuildFile> {
    // Reading registers sources, so it happens here, in order; parsing is independent per
    // file and runs on every core.
    let mut read: BTreeMap<PathBuf, (FileId, String, Vec<String>)> = BTreeMap::new();
    let mut ignores: BTreeMap<PathBuf, Ignore> = BTreeMap::new();
    for entry in &services.entries {
        let Some(build) = entry.value.as_map().and_then(|s| s.get("build")).and_then(Node::as_map) else { continue };
        let Some((path, from)) = dockerfile_of(&entry.key, build, sources) else { continue };
        if let Some((_, _, users)) = read.get_mut(&path) {
            users.push(entry.key.clone());
            continue;
        }
        let inline = build.get("dockerfile_inline").and_then(Node::as_str);
        if inline.is_none() && !path.is_file() {
            diags.push(missing(&entry.key, &path, if from.is_none() { entry.value.span } else { from }));
            continue;
        }
        let text = match inline {
            Some(text) => Some((sources.add(&path, text), text.to_string())),
            None => super::read_source_from(&path, from, sources, diags),
        };
        if let Some((file, text)) = text {
            let context = build.get("context").and_then(Node::as_str).map(PathBuf::from).unwrap_or_default();
            ignores.insert(path.clone(), read_ignore(&context, inline.is_none().then_some(path.as_path())));
            read.insert(path, (file, text, vec![entry.key.clone()]));
        }
    }
    let files: Vec<_> = read.into_iter().collect();
    let parsed = crate::parallel::chunks(&files, 16, |chunk| {
        let mut found = Diagnostics::default();
        let parsed: Vec<(Dockerfile, Silences)> =
            chunk.iter().map(|(path, (file, text, _))| parse(path, *file, text, &mut found)).collect();
        (parsed, found)
    });
    let mut out = Vec::with_capacity(files.len());
    let mut files = files.into_iter();
    for (chunk, found) in parsed {
        diags.extend(found);
        for ((parsed, silences), (path, (file, _, services))) in chunk.into_iter().zip(files.by_ref()) {
            let ignore = ignores.remove(&path).unwrap_or_default();
            out.push(BuildFile { path, file, parsed, services, ignore, silences });
        }
    }
    out
}

/// The build's `.dockerignore`, read within a bound; none (nothing ignored) when it cannot be
/// read: the images stage, which hashes the context, reports that.
fn read_ignore(context: &Path, dockerfile: Option<&Path>) -> Ignore {
    crate::dockerignore::file_for(context, dockerfile)
        .and_then(|path| super::read_regular(&path, IGNORE_LIMIT).ok())
        .filter(|bytes| bytes.len() as u64 <= IGNORE_LIMIT)
        .map(|bytes| Ignore::parse(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default()
}

/// The largest `.dockerignore` read: far more rules than any project writes.
const IGNORE_LIMIT: u64 = 1 << 20;

/// Compose does not need the Dockerfile to print the project, and kompile does not build
/// images; but nothing can be checked or learnt from a file that is not there.
fn missing(service: &str, path: &Path, span: Span) -> Diagnostic {
    // A pipe or device is never opened (it could block forever), but it is not "missing".
    let (what, label) = if path.exists() {
        ("is not a regular file", "not a regular file")
    } else {
        ("does not exist", "no such Dockerfile")
    };
    Diagnostic::new(
        Code::MissingDockerfile,
        format!("service `{service}` builds from {}, which {what}", crate::source::display_path(path)),
    )
    .at(span, label)
    .help("create it, or point `build.dockerfile` at the right file; `docker compose build` will fail without it")
}

/// The Dockerfile path a `build` section names, and the span to blame if it is missing.
fn dockerfile_of(service: &str, build: &Map, sources: &Sources) -> Option<(PathBuf, Span)> {
    let context = build.get("context")?.as_str()?;
    if context.contains("://") || context.starts_with("git@") {
        return None;
    }
    if build.get("dockerfile_inline").is_some() {
        let shown = sources.get(build.get("dockerfile_inline")?.span.file).map(|f| f.path.clone()).unwrap_or_default();
        return Some((shown.with_file_name(format!("{service}.dockerfile_inline")), Span::NONE));
    }
    let node = build.get("dockerfile")?;
    let name = node.as_str()?;
    Some((Path::new(context).join(name), node.span))
}

/// Parses a Dockerfile, reporting its problems with their codes, and reads what its hadolint
/// settings silence (once: the checks use them again).
pub fn parse(path: &Path, file: FileId, text: &str, diags: &mut Diagnostics) -> (Dockerfile, Silences) {
    let parsed = dockerfile::parse(text);
    let mut found = Diagnostics::uncapped();
    for problem in parsed.errors.iter().chain(&parsed.warnings) {
        let code = match problem.kind {
            Issue::Syntax => Code::DockerfileSyntax,
            Issue::EmptyContinuation => Code::EmptyContinuation,
            Issue::InvalidJson => Code::InvalidJsonArgs,
            Issue::Maintainer => Code::MaintainerDeprecated,
        };
        let mut diagnostic = Diagnostic::new(code, problem.message.clone())
            .at(Span::new(file, problem.span.start, problem.span.end), label(problem.kind));
        if let Some(help) = &problem.help {
            diagnostic = diagnostic.help(help.clone());
        }
        found.push(diagnostic);
    }
    let mut silences = hadolint::configured(path).unwrap_or_else(|unreadable| {
        diags.push(unreadable);
        Silences::default()
    });
    if silences.pragmas {
        silences.ignored.extend(hadolint::global(&parsed));
    }
    diags.extend(without_ignored(&silences, &parsed, found));
    (parsed, silences)
}

/// Drops warnings that a comment right above their instruction silences:
/// `# kompile-ignore=K301,empty-continuation` or `# hadolint ignore=DL4000` (either list
/// takes what [`Code::matching`] reads: ids, names, hadolint rules), and those hadolint's
/// settings for the file silence ([`hadolint`]). Errors stay: a file Docker refuses cannot be
/// waved through. `diags` should be [`Diagnostics::uncapped`], so that what is silenced never
/// counts towards a cap.
pub fn without_ignored(silences: &Silences, parsed: &Dockerfile, diags: Diagnostics) -> Diagnostics {
    diags.filter_map(|diagnostic| {
        let at = diagnostic.primary.as_ref().map(|l| l.span.start as usize);
        let ignored = !diagnostic.is_error()
            && (silences.ignored.iter().any(|s| s.covers(&diagnostic))
                || at.is_some_and(|at| {
                    instruction_at(parsed, at).is_some_and(|i| {
                        i.comments_before.iter().any(|c| ignores(&c.text, &diagnostic, silences.pragmas))
                    })
                }));
        (!ignored).then_some(diagnostic)
    })
}

/// The instruction whose text, or whose comments above it, hold byte `at`. Instructions are
/// in file order and each one's comments lie between it and the one before, so the only
/// candidate is the first that ends after `at`: a binary search, not a scan per diagnostic.
fn instruction_at(parsed: &Dockerfile, at: usize) -> Option<&Instruction> {
    let index = parsed.instructions.partition_point(|i| i.span.end <= at);
    let i = parsed.instructions.get(index)?;
    let in_comments = i.comments_before.iter().any(|c| c.span.end <= at && at < i.span.start);
    (i.span.contains(&at) || in_comments).then_some(i)
}

/// Whether one comment line silences `diagnostic`.
fn ignores(comment: &str, diagnostic: &Diagnostic, hadolint_pragmas: bool) -> bool {
    let text = comment.trim_start_matches('#').trim();
    let hadolint = || text.strip_prefix("hadolint ignore=").filter(|_| hadolint_pragmas);
    let list = text.strip_prefix("kompile-ignore=").or_else(hadolint);
    list.is_some_and(|list| list.split(',').any(|item| Silence::named(item).iter().any(|s| s.covers(diagnostic))))
}

fn label(kind: Issue) -> &'static str {
    match kind {
        Issue::Syntax => "here",
        Issue::EmptyContinuation => "empty line",
        Issue::InvalidJson => "runs as a shell command",
        Issue::Maintainer => "deprecated",
    }
}

/// A Dockerfile on its own (`kompile check path/to/Dockerfile`).
pub fn load_alone(path: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Option<BuildFile> {
    let (file, text) = read_source(path, sources, diags)?;
    let (parsed, silences) = parse(path, file, &text, diags);
    Some(BuildFile {
        path: path.to_path_buf(),
        file,
        parsed,
        services: Vec::new(),
        ignore: Ignore::default(),
        silences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<Code> {
        let mut sources = Sources::default();
        let file = sources.add(Path::new("Dockerfile"), text);
        let mut diags = Diagnostics::default();
        parse(Path::new("Dockerfile"), file, text, &mut diags);
        diags.items().iter().map(|d| d.code).collect()
    }

    #[test]
    fn comments_silence_warnings_on_the_next_instruction() {
        let plain = "FROM alpine:3.20\nMAINTAINER me\n";
        assert_eq!(codes(plain), [Code::MaintainerDeprecated]);
        for comment in
            ["# kompile-ignore=K303", "# kompile-ignore=maintainer-deprecated", "# hadolint ignore=DL4000,DL3008"]
        {
            assert!(codes(&format!("FROM alpine:3.20\n{comment}\nMAINTAINER me\n")).is_empty(), "{comment}");
        }
        let elsewhere = "FROM alpine:3.20\n# kompile-ignore=K303\nRUN true\nMAINTAINER me\n";
        assert_eq!(codes(elsewhere), [Code::MaintainerDeprecated]);
        let other_code = "FROM alpine:3.20\n# kompile-ignore=K301\nMAINTAINER me\n";
        assert_eq!(codes(other_code), [Code::MaintainerDeprecated]);
    }

    #[test]
    fn hadolint_ids_silence_the_matching_checks() {
        let plain = "FROM alpine:3.20\nRUN sudo true\n";
        let mut sources = Sources::default();
        let file = sources.add(Path::new("Dockerfile"), plain);
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::new(Code::Sudo, "sudo").at(Span::new(file, 21, 25), "sudo"));
        let parsed = dockerfile::parse("FROM alpine:3.20\n# hadolint ignore=DL3004\nRUN sudo true\n");
        let mut shifted = Diagnostics::default();
        shifted.push(Diagnostic::new(Code::Sudo, "sudo").at(Span::new(file, 47, 51), "sudo"));
        let silences = Silences::default();
        assert!(without_ignored(&silences, &parsed, shifted).items().is_empty());
        assert_eq!(without_ignored(&silences, &dockerfile::parse(plain), diags).items().len(), 1);
    }

    #[test]
    fn errors_cannot_be_silenced() {
        assert_eq!(codes("FROM alpine:3.20\n# kompile-ignore=K300\nRUNN x\n"), [Code::DockerfileSyntax]);
    }
}
