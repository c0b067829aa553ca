//! Every name a service uses must be defined: services it depends on, volumes, secrets,
//! configs and networks; and `depends_on` must not loop.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::Project;
use crate::load::node::{Map, Node};
use crate::source::Span;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    let empty = Map::default();
    let root = project.root.as_map().unwrap_or(&empty);
    let section = |key: &str| root.get(key).and_then(Node::as_map).unwrap_or(&empty);
    let services = section("services");
    if services.entries.is_empty() {
        diags.push(no_services(project, root));
    }
    for entry in &services.entries {
        let Some(service) = entry.value.as_map() else { continue };
        let mut refs = References { service: &entry.key, diags };
        // A service that still has `extends` has a broken chain, already reported at loading.
        let unresolved = service.get("extends").is_some();
        if service.get("image").is_none() && service.get("build").is_none() && !unresolved {
            refs.diags.push(
                Diagnostic::new(Code::MissingImage, format!("service `{}` has neither `image` nor `build`", entry.key))
                    .at(entry.key_span, "nothing to run")
                    .help("add `image: name:tag`, or `build: ./dir` with a Dockerfile"),
            );
        }
        if let Some(image) = service.get("image").filter(|i| i.scalar_text().is_some_and(|t| t.trim().is_empty())) {
            refs.diags.push(
                Diagnostic::new(Code::InvalidValue, format!("service `{}` has an empty `image`", entry.key))
                    .at(image.span, "no image name")
                    .help("write the image to run, `name:tag`, or remove `image` and let `build` name it"),
            );
        }
        refs.dependencies(service, services, &project.disabled);
        refs.mounts(service, section("volumes"));
        refs.names(service.get("secrets"), "secret", section("secrets"));
        refs.names(service.get("configs"), "config", section("configs"));
        refs.networks(service, section("networks"));
    }
    cycles(services, diags);
    for (section_name, sources) in
        [("secrets", &["file", "environment"][..]), ("configs", &["file", "environment", "content"])]
    {
        without_source(section(section_name), section_name, sources, diags);
    }
}

/// Compose refuses a secret or config that says neither where its content comes from nor
/// that it is `external`: there would be nothing to mount. Checked on the merged project,
/// as an override may add what the base file leaves out.
fn without_source(section: &Map, kind: &str, sources: &[&str], diags: &mut Diagnostics) {
    let what = kind.trim_end_matches('s');
    for entry in &section.entries {
        let Some(definition) = entry.value.as_map() else { continue };
        let external = definition.get("external").is_some_and(|e| e.value == crate::load::node::Value::Bool(true));
        if external || sources.iter().any(|k| definition.get(k).is_some()) {
            continue;
        }
        let keys: Vec<String> = sources.iter().map(|k| format!("`{k}`")).collect();
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("{what} `{}` sets none of {} or `external`", entry.key, keys.join(", ")),
            )
            .at(entry.key_span, "no content")
            .help(format!("add `file: ./{}.txt`, or `external: true` if it already exists", entry.key)),
        );
    }
}

/// Compose accepts an empty project (and prints it), so kompile does too, with a warning:
/// the output has no workloads.
fn no_services(project: &Project, root: &Map) -> Diagnostic {
    let at = root.entry("services").map_or(project.root.span, |e| e.key_span);
    let Some((first, first_span)) = project.disabled.first() else {
        return Diagnostic::new(Code::NoServices, "the project defines no services; the output is empty")
            .at(at, "no services here")
            .help("add a service under `services:`");
    };
    let names: Vec<String> = project.disabled.iter().map(|(name, _)| format!("`{name}`")).collect();
    Diagnostic::new(
        Code::NoServices,
        format!("every service is behind a profile that is not active ({}); the output is empty", names.join(", ")),
    )
    .at(*first_span, format!("`{first}` is only in inactive profiles"))
    .help("enable a profile with `--profile NAME` or `COMPOSE_PROFILES`")
}

struct References<'a> {
    service: &'a str,
    diags: &'a mut Diagnostics,
}

impl References<'_> {
    fn undefined(&mut self, what: &str, name: &str, span: Span, known: &Map) {
        let mut diagnostic = Diagnostic::new(
            Code::UndefinedReference,
            format!("service `{}` uses {what} `{name}`, which is not defined", self.service),
        )
        .at(span, format!("undefined {what}"));
        diagnostic = match closest(name, known) {
            Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
            None => diagnostic.help(format!("define it under the top-level `{what}s:` key")),
        };
        self.diags.push(diagnostic);
    }

    fn dependencies(&mut self, service: &Map, services: &Map, disabled: &[(String, Span)]) {
        let Some(deps) = service.get("depends_on").and_then(Node::as_map) else { return };
        for dep in &deps.entries {
            if services.get(&dep.key).is_some() {
                continue;
            }
            let required = dep.value.as_map().and_then(|m| m.get("required")).and_then(|r| r.scalar_text());
            if required.as_deref() == Some("false") {
                continue;
            }
            match disabled.iter().find(|(name, _)| *name == dep.key) {
                Some((_, span)) => self.diags.push(
                    Diagnostic::new(
                        Code::DisabledDependency,
                        format!("service `{}` depends on `{}`, which its profiles disabled", self.service, dep.key),
                    )
                    .at(dep.key_span, "disabled by profiles")
                    .also(*span, "defined here, with profiles")
                    .help("enable its profile with `--profile`, or mark the dependency `required: false`"),
                ),
                None => self.undefined("service", &dep.key, dep.key_span, services),
            }
        }
    }

    fn mounts(&mut self, service: &Map, volumes: &Map) {
        for mount in service.get("volumes").and_then(Node::as_seq).unwrap_or_default() {
            let Some(map) = mount.as_map() else { continue };
            if map.get("type").and_then(Node::as_str) != Some("volume") {
                continue;
            }
            let Some(source) = map.get("source") else { continue };
            let name = source.scalar_text().unwrap_or_default();
            if volumes.get(&name).is_none() {
                self.undefined("volume", &name, source.span, volumes);
            }
        }
    }

    fn names(&mut self, refs: Option<&Node>, what: &str, defined: &Map) {
        for item in refs.and_then(Node::as_seq).unwrap_or_default() {
            let Some(source) = item.as_map().and_then(|m| m.get("source")) else { continue };
            let name = source.scalar_text().unwrap_or_default();
            if defined.get(&name).is_none() {
                self.undefined(what, &name, source.span, defined);
            }
        }
    }

    fn networks(&mut self, service: &Map, networks: &Map) {
        let Some(used) = service.get("networks").and_then(Node::as_map) else { return };
        for network in &used.entries {
            if network.key != "default" && networks.get(&network.key).is_none() {
                self.undefined("network", &network.key, network.key_span, networks);
            }
        }
    }
}

fn closest<'a>(name: &str, known: &'a Map) -> Option<&'a str> {
    known
        .entries
        .iter()
        .map(|e| (strsim::jaro_winkler(name, &e.key), e.key.as_str()))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `depends_on` cycles: each cycle reported once, at the edge that closes it.
fn cycles(services: &Map, diags: &mut Diagnostics) {
    let edges: BTreeMap<&str, Vec<(&str, Span)>> = services
        .entries
        .iter()
        .map(|e| {
            let deps = e.value.as_map().and_then(|m| m.get("depends_on")).and_then(Node::as_map);
            let list =
                deps.map(|d| d.entries.iter().map(|d| (d.key.as_str(), d.key_span)).collect()).unwrap_or_default();
            (e.key.as_str(), list)
        })
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
