//! Rules about stages: what each FROM starts from, stage names, `COPY --from`, and the user
//! the built image runs as.

use super::File;
use super::variables::Scope;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dockerfile::{Base, Keyword, Stage, closest};

/// Names Docker gives a meaning of its own, so a stage cannot use them.
const RESERVED_NAMES: &[&str] = &["scratch", "context"];

pub fn check(file: &File<'_>, diags: &mut Diagnostics) {
    let global = Scope::global(file);
    for stage in &file.stages.stages {
        base_image(file, stage, &global, diags);
        stage_name(file, stage, diags);
        copy_from(file, stage, diags);
    }
}

/// An external base image without a tag, or with `latest`, changes under the build.
fn base_image(file: &File<'_>, stage: &Stage, global: &Scope, diags: &mut Diagnostics) {
    let Base::Image(written) = &stage.base else { return };
    let Some(image) = global.resolve(file, written) else { return };
    let is_stage = file.stages.find(&image).is_some_and(|s| s.index < stage.index && s.name.is_some());
    if image.is_empty() || image == "scratch" || is_stage || file.contexts.contains(&image) || image.contains('@') {
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(&image);
    let (problem, rule) = match last.split_once(':').map(|(_, tag)| tag) {
        None | Some("") => ("has no tag, so it means `latest`", "DL3006"),
        Some("latest") => ("uses the `latest` tag", "DL3007"),
        Some(_) => return,
    };
    let shown = if image == *written { format!("`{image}`") } else { format!("`{written}` (`{image}`)") };
    diags.push(
        Diagnostic::new(Code::UnpinnedBaseImage, format!("base image {shown} {problem}"))
            .at(file.span(&stage.base_span), "unpinned")
            .help("pin a version (`python:3.12-slim`) or a digest, so the same Dockerfile builds the same image")
            .rule(rule),
    );
}

fn stage_name(file: &File<'_>, stage: &Stage, diags: &mut Diagnostics) {
    let (Some(name), Some(span)) = (&stage.name, &stage.name_span) else { return };
    let written = file.span(span);
    let earlier = file.stages.stages.iter().take(stage.index).find(|s| s.name.as_ref() == Some(name));
    if let Some(first) = earlier {
        let first_span = first.name_span.as_ref().map_or(written, |s| file.span(s));
        diags.push(
            Diagnostic::new(Code::StageName, format!("stage name `{name}` is used twice"))
                .at(written, "used again here")
                .also(first_span, "first used here")
                .help("give each stage its own name; `--target` and `COPY --from` cannot tell them apart")
                .rule("DL3024"),
        );
    } else if RESERVED_NAMES.contains(&name.as_str()) {
        diags.push(
            Diagnostic::new(Code::StageName, format!("`{name}` is reserved and cannot name a stage"))
                .at(written, "reserved name")
                .help("rename the stage, e.g. `build` or `runtime`")
                .rule("DL3063"),
        );
    }
    let text = file.build.parsed.instructions.get(stage.instructions.start).and_then(|i| i.as_from());
    let as_written = text.and_then(|f| f.stage_name).map(|w| w.text.as_str()).unwrap_or_default();
    if as_written != as_written.to_ascii_lowercase() {
        diags.push(
            Diagnostic::new(Code::StageName, format!("stage name `{as_written}` is not lowercase"))
                .at(written, "mixed case")
                .help(format!("write `{name}`; Docker lowercases stage names, so other spellings mislead"))
                .no_hadolint_twin(),
        );
    }
}

/// `COPY --from=<name>`: a stage by name or index, a named context, or an image.
fn copy_from(file: &File<'_>, stage: &Stage, diags: &mut Diagnostics) {
    for (_, ins) in file.stage_instructions(stage) {
        if ins.keyword != Keyword::Copy {
            continue;
        }
        let Some(flag) = ins.flag("from") else { continue };
        let (Some(reference), Some(range)) = (&flag.value, &flag.value_span) else { continue };
        let span = file.span(range);
        if reference.contains('$') || file.contexts.contains(reference) {
            continue;
        }
        match file.stages.find(reference) {
            Some(found) if found.index == stage.index => diags.push(
                Diagnostic::new(
                    Code::CopyFromUnknownStage,
                    format!("`COPY --from={reference}` copies from its own stage"),
                )
                .at(span, "the stage being built")
                .help("a stage cannot copy from itself; name an earlier stage"),
            ),
            Some(found) if found.index > stage.index => diags.push(
                Diagnostic::new(Code::CopyFromLaterStage, format!("`COPY --from={reference}` names a later stage"))
                    .at(span, "defined further down")
                    .also(found.name_span.as_ref().map_or(file.span(&found.span), |s| file.span(s)), "defined here")
                    .help("move that stage above this one; builders other than BuildKit refuse forward references"),
            ),
            Some(_) => {}
            None if looks_like_stage(reference) => diags.push(unknown_stage(file, reference, stage, span)),
            None => {}
        }
    }
}

/// A bare word or a number: not an image Docker could pull as written on purpose. Anything
/// with a registry, path, tag or digest is taken as an image reference.
fn looks_like_stage(reference: &str) -> bool {
    !reference.contains(['/', ':', '@', '.'])
}

fn unknown_stage(file: &File<'_>, reference: &str, stage: &Stage, span: crate::source::Span) -> Diagnostic {
    let others = file.stages.stages.iter().filter(|s| s.index != stage.index).filter_map(|s| s.name.as_deref());
    let diagnostic = Diagnostic::new(Code::CopyFromUnknownStage, format!("`COPY --from={reference}` names no stage"))
        .at(span, "no stage by this name");
    match closest(reference, others) {
        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
        None => diagnostic.help(format!(
            "Docker would pull an image called `{reference}`; name an earlier stage, or write the image with its tag (`{reference}:1.2`)"
        )),
    }
}

/// The last USER of the stage that is built, following the stages it builds on.
pub fn root_user(file: &File<'_>, stage: &Stage, diags: &mut Diagnostics) {
    let chain = file.chain(stage);
    let last = chain.iter().find_map(|s| file.stage_instructions(s).filter_map(|(_, i)| i.as_user()).last());
    let Some(user) = last else { return };
    if !matches!(user.user.text.as_str(), "root" | "0") {
        return;
    }
    let message = match &stage.name {
        Some(name) => format!("the image built from stage `{name}` runs as root"),
        None => "the image runs as root".to_string(),
    };
    diags.push(Diagnostic::new(Code::RootUser, message).at(file.span(&user.user.span), "last USER is root").help(
        "switch to an unprivileged user at the end (`USER 10001`); a numeric id lets Kubernetes enforce `runAsNonRoot`",
    ));
}
