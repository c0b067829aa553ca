//! Rules that need both files: the compose service that builds a Dockerfile and the
//! Dockerfile itself. Neither hadolint nor BuildKit sees both, so these are kompile's own.

use std::collections::BTreeSet;

use super::variables::{PLATFORM_ARGS, PREDEFINED_ARGS, Scope, has_fallback};
use super::{File, Use};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dockerfile::{Instruction, Keyword, Stage, closest, parse_port_spec, references};

/// `in_dockerfile` takes diagnostics that point into the Dockerfile (they can be silenced
/// there); `in_compose` those that point into the compose file.
pub fn check(file: &File<'_>, used: &Use<'_>, in_dockerfile: &mut Diagnostics, in_compose: &mut Diagnostics) {
    undeclared_args(file, used, in_compose);
    let Some(stage) = built_stage(file, used, in_compose) else { return };
    missing_args(file, used, stage, in_dockerfile);
    ports(file, used, stage, in_compose);
    healthcheck(file, used, stage, in_dockerfile);
    user(file, used, stage, in_compose);
}

/// The stage the service builds; a target that names none is an error, as in `docker build`.
fn built_stage<'a>(file: &'a File<'_>, used: &Use<'_>, diags: &mut Diagnostics) -> Option<&'a Stage> {
    let Some(node) = used.target() else { return file.stages.stages.last() };
    let name = node.value.as_str();
    if let Some(stage) = file.stages.find(name) {
        return Some(stage);
    }
    let names = file.stages.stages.iter().filter_map(|s| s.name.as_deref());
    let listed: Vec<String> = names.clone().map(|n| format!("`{n}`")).collect();
    let help = match (closest(name, names), listed.is_empty()) {
        (Some(near), _) => format!("did you mean `{near}`?"),
        (None, true) => "the Dockerfile names no stages; name one with `FROM image AS name`, or remove `target`".into(),
        (None, false) => format!("the stages are {}", listed.join(", ")),
    };
    diags.push(
        Diagnostic::new(
            Code::UnknownBuildTarget,
            format!("service `{}` builds target `{name}`, which {} does not define", used.name, shown(file)),
        )
        .at(node.span, "no such stage")
        .help(help),
    );
    None
}

fn shown(file: &File<'_>) -> String {
    let name = file.build.path.file_name().map(|n| n.to_string_lossy().into_owned());
    name.map_or_else(|| "the Dockerfile".into(), |n| format!("`{n}`"))
}

/// Every ARG name the file declares, in any scope.
fn declared_args(file: &File<'_>) -> BTreeSet<String> {
    let decls = file.instructions().iter().filter_map(Instruction::as_arg).flatten();
    decls.map(|d| d.name.text).collect()
}

/// Build args the Dockerfile never declares are ignored by the builder: usually a typo or a
/// leftover.
fn undeclared_args(file: &File<'_>, used: &Use<'_>, diags: &mut Diagnostics) {
    let declared = declared_args(file);
    for (name, _) in &used.build.args {
        if declared.contains(&name.value) || PREDEFINED_ARGS.contains(&name.as_str()) {
            continue;
        }
        let help = match closest(name, declared.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("declare it with `ARG {}` where the Dockerfile uses it, or remove it", name.value),
        };
        diags.push(
            Diagnostic::new(
                Code::UndeclaredBuildArg,
                format!("build arg `{}` of service `{}` is not declared in {}", name.value, used.name, shown(file)),
            )
            .at(name.span, "unused by the build")
            .help(help),
        );
    }
}

/// An ARG without a default that the built stages use, when compose does not pass it: it
/// expands to an empty string.
fn missing_args(file: &File<'_>, used: &Use<'_>, stage: &Stage, diags: &mut Diagnostics) {
    let given = used.args();
    let mut indices: Vec<usize> = file.stages.global_args.clone();
    for ancestor in file.chain(stage) {
        indices.extend(ancestor.instructions.clone());
    }
    indices.sort_unstable();
    for index in indices {
        let Some(decls) = file.instructions().get(index).and_then(Instruction::as_arg) else { continue };
        for decl in decls {
            let name = &decl.name.text;
            let known = given.contains_key(name) || PLATFORM_ARGS.contains(&name.as_str());
            if decl.default.is_some() || known || PREDEFINED_ARGS.contains(&name.as_str()) {
                continue;
            }
            if !used_without_fallback(file, stage, name) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    Code::MissingBuildArg,
                    format!("ARG `{name}` has no default and service `{}` does not pass it", used.name),
                )
                .at(file.span(&decl.name.span), "empty in this build")
                .help(format!("give it a default (`ARG {name}=...`) or set it under `build.args` in the compose file")),
            );
        }
    }
}

/// Whether the stage, the stages it builds on or a FROM uses `$name` with no fallback.
fn used_without_fallback(file: &File<'_>, stage: &Stage, name: &str) -> bool {
    let mut instructions: Vec<&Instruction> = Vec::new();
    for ancestor in file.chain(stage) {
        instructions.extend(file.stage_instructions(ancestor).map(|(_, i)| i));
    }
    instructions.iter().any(|ins| {
        let texts = ins.args.words().iter().chain(ins.args.text()).map(|w| w.text.as_str());
        let heredocs = ins.heredocs.iter().map(|h| h.body.as_str());
        texts.chain(heredocs).any(|text| {
            references(text, file.escape()).iter().any(|(n, range)| n == name && !has_fallback(text, range))
        })
    })
}

/// The ports the built stages EXPOSE, as (port, protocol); `None` when some are unknown.
fn exposed(file: &File<'_>, stage: &Stage) -> Option<Vec<(u16, u16, String)>> {
    let mut ports = Vec::new();
    for ancestor in file.chain(stage) {
        for (index, ins) in file.stage_instructions(ancestor) {
            let Some(words) = ins.as_expose() else { continue };
            let scope = Scope::before(file, ancestor, index);
            for word in words {
                let text = scope.resolve(file, &word.text)?.to_ascii_lowercase();
                let spec = parse_port_spec(&text).ok()?;
                ports.push((spec.start, spec.end, spec.protocol.unwrap_or("tcp").to_string()));
            }
        }
    }
    Some(ports)
}

/// A compose port the Dockerfile does not EXPOSE is often a typo (8000 for 8080). Only judged
/// when the Dockerfile exposes something: otherwise the base image decides, which kompile
/// cannot see.
fn ports(file: &File<'_>, used: &Use<'_>, stage: &Stage, diags: &mut Diagnostics) {
    let Some(exposed) = exposed(file, stage).filter(|p| !p.is_empty()) else { return };
    let Some(ports) = &used.service.ports else { return };
    for port in &ports.value {
        let (target, protocol) = (port.target, port.protocol.compose_name());
        if exposed.iter().any(|(start, end, p)| (*start..=*end).contains(&target) && *p == protocol) {
            continue;
        }
        let list: Vec<String> = exposed.iter().map(|(s, e, p)| port_text(*s, *e, p)).collect();
        diags.push(
            Diagnostic::new(
                Code::PortNotExposed,
                format!(
                    "service `{}` publishes container port {target}/{protocol}, which its image does not EXPOSE",
                    used.name
                ),
            )
            .at(port.span, "not exposed")
            .help(format!("the Dockerfile exposes {}; fix the port here, or add `EXPOSE {target}`", list.join(", "))),
        );
    }
}

fn port_text(start: u16, end: u16, protocol: &str) -> String {
    let range = if start == end { start.to_string() } else { format!("{start}-{end}") };
    if protocol == "tcp" { range } else { format!("{range}/{protocol}") }
}

/// The stage's HEALTHCHECK, following the stages it builds on: `Some(true)` for a check,
/// `Some(false)` for `HEALTHCHECK NONE`, `None` for no instruction.
fn image_healthcheck(file: &File<'_>, stage: &Stage) -> Option<bool> {
    file.chain(stage).into_iter().find_map(|s| {
        let last = file.stage_instructions(s).filter(|(_, i)| i.keyword == Keyword::Healthcheck).last();
        last.map(|(_, i)| i.as_healthcheck().is_some_and(|h| h.command.is_some()))
    })
}

/// A service that serves ports needs a readiness probe; compose's `healthcheck` or the image's
/// HEALTHCHECK provides one. The compose-only case is K116.
fn healthcheck(file: &File<'_>, used: &Use<'_>, stage: &Stage, diags: &mut Diagnostics) {
    if !used.service.declares_ports()
        || used.service.healthcheck.is_some()
        || image_healthcheck(file, stage) == Some(true)
    {
        return;
    }
    let Some(from) = file.instructions().get(stage.instructions.start) else { return };
    diags.push(
        Diagnostic::new(
            Code::ImageWithoutHealthcheck,
            format!("service `{}` serves ports, but neither it nor its image has a health check", used.name),
        )
        .at(file.span(&from.keyword_span), "this stage has no HEALTHCHECK")
        .help("add a HEALTHCHECK to the Dockerfile or a `healthcheck:` to the service; without one, Kubernetes sends traffic before the app is ready"),
    );
}

/// The last USER of the built stage, as written.
fn image_user(file: &File<'_>, stage: &Stage) -> Option<(String, std::ops::Range<usize>)> {
    file.chain(stage).into_iter().find_map(|s| {
        let user = file.stage_instructions(s).filter_map(|(_, i)| i.as_user()).last()?;
        Some((user.user.text, user.user.span))
    })
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}

/// Compose `user: root` undoes the Dockerfile's work to run as an unprivileged user.
fn user(file: &File<'_>, used: &Use<'_>, stage: &Stage, diags: &mut Diagnostics) {
    let Some(node) = &used.service.user else { return };
    let compose_user = &node.value;
    let Some((image_user, span)) = image_user(file, stage) else { return };
    if !is_root(compose_user) || is_root(&image_user) || image_user.contains('$') {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::UserOverridesImage,
            format!(
                "service `{}` runs as `{compose_user}`, but its image is built to run as `{image_user}`",
                used.name
            ),
        )
        .at(node.span, "overrides the image's USER")
        .also(file.span(&span), "the image's user")
        .help("remove `user:` to keep the image's unprivileged user, or fix the Dockerfile if root is really needed"),
    );
}
