//! Every name a service uses must be defined: services it depends on, volumes, secrets,
//! configs and networks; and `depends_on` must not loop.

use std::collections::BTreeMap;

use crate::compose::{FileObject, FileSource, Project, Service, Spanned, VolumeKind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;
use crate::suggest::closest;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    if project.services.is_empty() {
        diags.push(no_services(project));
    }
    let volumes: Vec<&str> = project.volumes.iter().map(|v| v.name.as_str()).collect();
    let secrets: Vec<&str> = project.secrets.iter().map(|v| v.name.as_str()).collect();
    let configs: Vec<&str> = project.configs.iter().map(|v| v.name.as_str()).collect();
    let networks: Vec<&str> = project.networks.iter().map(|v| v.name.as_str()).collect();
    for service in &project.services {
        let name = &service.name.value;
        let mut refs = References { service: name, diags };
        // A service that still has `extends` has a broken chain, already reported at loading.
        if service.image.is_none() && service.build.is_none() && !service.has("extends") {
            refs.diags.push(
                Diagnostic::new(Code::MissingImage, format!("service `{name}` has neither `image` nor `build`"))
                    .at(service.name.span, "nothing to run")
                    .help("add `image: name:tag`, or `build: ./dir` with a Dockerfile"),
            );
        }
        if let Some(image) = service.image.as_ref().filter(|i| i.trim().is_empty()) {
            refs.diags.push(
                Diagnostic::new(Code::InvalidValue, format!("service `{name}` has an empty `image`"))
                    .at(image.span, "no image name")
                    .help("write the image to run, `name:tag`, or remove `image` and let `build` name it"),
            );
        }
        refs.dependencies(service, project);
        let mounted = service.volumes.iter().filter(|v| v.kind == VolumeKind::Volume);
        for source in mounted.filter_map(|v| Some(Spanned::new(v.source.clone()?, v.span))) {
            refs.defined("volume", &source, &volumes);
        }
        service.secrets.iter().for_each(|r| refs.defined("secret", &r.source, &secrets));
        service.configs.iter().for_each(|r| refs.defined("config", &r.source, &configs));
        for network in service.networks.iter().filter(|n| n.name.value != "default") {
            refs.defined("network", &network.name, &networks);
        }
    }
    cycles(&project.services, diags);
    without_source(&project.secrets, "secret", &["file", "environment"], diags);
    without_source(&project.configs, "config", &["file", "environment", "content"], diags);
}

/// Compose refuses a secret or config that says neither where its content comes from nor
/// that it is `external`: there would be nothing to mount. Checked on the merged project,
/// as an override may add what the base file leaves out.
fn without_source(objects: &[FileObject], what: &str, sources: &[&str], diags: &mut Diagnostics) {
    for object in objects.iter().filter(|o| o.source == FileSource::Missing) {
        let keys: Vec<String> = sources.iter().map(|k| format!("`{k}`")).collect();
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("{what} `{}` sets none of {} or `external`", object.name.value, keys.join(", ")),
            )
            .at(object.name.span, "no content")
            .help(format!("add `file: ./{}.txt`, or `external: true` if it already exists", object.name.value)),
        );
    }
}

/// Compose accepts an empty project (and prints it), so kompile does too, with a warning:
/// the output has no workloads.
fn no_services(project: &Project) -> Diagnostic {
    let at =
        project.keys.iter().find(|k| k.value == "services").or(project.keys.first()).map_or(Span::NONE, |k| k.span);
    let Some(first) = project.disabled.first() else {
        return Diagnostic::new(Code::NoServices, "the project defines no services; the output is empty")
            .at(at, "no services here")
            .help("add a service under `services:`");
    };
    let names: Vec<String> = project.disabled.iter().map(|name| format!("`{}`", name.value)).collect();
    Diagnostic::new(
        Code::NoServices,
        format!("every service is behind a profile that is not active ({}); the output is empty", names.join(", ")),
    )
    .at(first.span, format!("`{}` is only in inactive profiles", first.value))
    .help("enable a profile with `--profile NAME` or `COMPOSE_PROFILES`")
}

struct References<'a> {
    service: &'a str,
    diags: &'a mut Diagnostics,
}

impl References<'_> {
    /// Reports `name` unless it is one of `known`.
    fn defined(&mut self, what: &str, name: &Spanned<String>, known: &[&str]) {
        if known.contains(&name.as_str()) {
            return;
        }
        let mut diagnostic = Diagnostic::new(
            Code::UndefinedReference,
            format!("service `{}` uses {what} `{}`, which is not defined", self.service, name.value),
        )
        .at(name.span, format!("undefined {what}"));
        diagnostic = match closest(name, known.iter().copied()) {
            Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
            None => diagnostic.help(format!("define it under the top-level `{what}s:` key")),
        };
        self.diags.push(diagnostic);
    }

    fn dependencies(&mut self, service: &Service, project: &Project) {
        for dep in &service.depends_on {
            if project.service(&dep.service).is_some() || !dep.required {
                continue;
            }
            match project.disabled.iter().find(|name| name.value == dep.service.value) {
                Some(disabled) => self.diags.push(
                    Diagnostic::new(
                        Code::DisabledDependency,
                        format!(
                            "service `{}` depends on `{}`, which its profiles disabled",
                            self.service, dep.service.value
                        ),
                    )
                    .at(dep.service.span, "disabled by profiles")
                    .also(disabled.span, "defined here, with profiles")
                    .help("enable its profile with `--profile`, or mark the dependency `required: false`"),
                ),
                None => {
                    let services: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
                    self.defined("service", &dep.service, &services);
                }
            }
        }
    }
}

/// `depends_on` cycles: each cycle reported once, at the edge that closes it.
fn cycles(services: &[Service], diags: &mut Diagnostics) {
    let edges: BTreeMap<&str, Vec<(&str, Span)>> = services
        .iter()
        .map(|s| (s.name.as_str(), s.depends_on.iter().map(|d| (d.service.as_str(), d.service.span)).collect()))
        .collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for start in edges.keys() {
        let mut path = Vec::new();
        visit(start, &edges, &mut state, &mut path, diags);
    }
}

/// Depth-first search; 1 = on the current path, 2 = done.
fn visit<'a>(
    node: &'a str,
    edges: &BTreeMap<&'a str, Vec<(&'a str, Span)>>,
    state: &mut BTreeMap<&'a str, u8>,
    path: &mut Vec<&'a str>,
    diags: &mut Diagnostics,
) {
    if state.get(node).is_some() {
        return;
    }
    state.insert(node, 1);
    path.push(node);
    for (next, span) in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
        match state.get(next) {
            Some(1) => {
                let start = path.iter().position(|p| p == next).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(next);
                diags.push(
                    Diagnostic::new(
                        Code::DependencyCycle,
                        format!("`depends_on` forms a cycle: {}", cycle.join(" → ")),
                    )
                    .at(*span, "closes the cycle")
                    .help("remove one of these dependencies; Compose could never start them in order"),
                );
            }
            Some(_) => {}
            None if edges.contains_key(next) => visit(next, edges, state, path, diags),
            None => {}
        }
    }
    path.pop();
    state.insert(node, 2);
}
