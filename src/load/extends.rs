//! `extends`: a service built on another service, from the same file or another one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::node::{Map, Node, Value};
use super::{Loader, identity, merge, services_map};
use crate::diag::{Code, Diagnostic};
use crate::source::{Span, display_path};

/// Longest `extends` chain followed; real ones are a few links long.
pub(super) const MAX_EXTENDS_DEPTH: usize = 64;

/// Replaces every service that has `extends` with the merge of its base and itself.
pub(super) fn resolve(tree: &mut Node, file: &Path, loader: &mut Loader<'_>) {
    let extends = |map: &Map| map.entries.iter().any(|e| e.value.as_map().is_some_and(|s| s.get("extends").is_some()));
    if !services_map(tree).is_some_and(extends) {
        return;
    }
    let Some(services) = services_map(tree).cloned() else { return };
    let file = File { path: file, services: &services, index: services.iter().collect() };
    // Each service is resolved once, however many services extend it: linear in the
    // number of services, not quadratic in the length of the chains.
    let mut resolved = Resolved::new();
    for entry in &services.entries {
        if entry.value.as_map().and_then(|m| m.get("extends")).is_some() {
            resolve_service(&entry.key, entry.key_span, &file, loader, &mut resolved);
        }
    }
    let Some(target) = tree.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) else {
        return;
    };
    for entry in &mut target.entries {
        if let Some((Some(node), _)) = resolved.remove(&entry.key) {
            entry.value = node;
        }
    }
}

/// The services of one file, with an index by name.
struct File<'a> {
    path: &'a Path,
    services: &'a Map,
    index: HashMap<&'a str, &'a Node>,
}

/// Services already resolved: the result (`None` when its chain is broken, reported) and
/// how many `extends` links lie under it.
type Resolved = HashMap<String, (Option<Node>, usize)>;

/// The service `name` with its `extends` chain applied, `None` when the chain is broken
/// (reported). The chain is walked in a loop, not by recursion, so a long one cannot
/// overflow the stack; every service on it is remembered in `resolved`.
fn resolve_service(name: &str, reference: Span, file: &File<'_>, loader: &mut Loader<'_>, resolved: &mut Resolved) {
    // The services that extend, from `name` down, each with its own node. The chain is
    // walked to its end whatever its length (a loop needs no stack), so the depth limit
    // falls on the same service in whatever order services are listed.
    let mut chain: Vec<(String, Node)> = Vec::new();
    let mut on_chain: HashSet<String> = HashSet::new();
    let (mut current, mut at) = (name.to_string(), reference);
    let (mut base, mut depth) = loop {
        if let Some(done) = resolved.get(&current) {
            break done.clone();
        }
        let Some(service) = file.index.get(current.as_str()) else {
            loader.diags.push(unknown_service(&current, at, file.services));
            break (None, 0);
        };
        let Some(extends) = service.as_map().and_then(|m| m.get("extends")) else {
            break (Some((*service).clone()), 0);
        };
        if on_chain.contains(&current) {
            let start = chain.iter().position(|(n, _)| *n == current).unwrap_or_default();
            let members: Vec<&str> = chain[start..].iter().map(|(n, _)| n.as_str()).collect();
            report_cycle(file.path, &members, &current, at, loader);
            break (None, 0);
        }
        let Some((base_name, base_span, base_file)) = parse_extends(extends, loader) else { break (None, 0) };
        on_chain.insert(current.clone());
        chain.push((current.clone(), (*service).clone()));
        match base_file {
            Some((other, named_at)) if identity(&other) != identity(file.path) => {
                break (other_file_service(&other, named_at, &base_name, base_span, loader), 0);
            }
            _ => (current, at) = (base_name, base_span),
        }
    };
    for (service_name, own) in chain.into_iter().rev() {
        depth += 1;
        if depth == MAX_EXTENDS_DEPTH + 1 && base.is_some() {
            // At the service's own `extends`, the same place whichever service led here.
            let at = own.as_map().and_then(|m| m.get("extends")).map_or(own.span, |e| e.span);
            loader.diags.push(too_deep(&service_name, at));
        }
        base = base.filter(|_| depth <= MAX_EXTENDS_DEPTH).map(|base| merge_onto(base, own));
        resolved.insert(service_name, (base.clone(), depth));
    }
}

/// `own` merged onto its resolved `base`, without `extends`.
fn merge_onto(mut base: Node, mut own: Node) -> Node {
    for node in [&mut base, &mut own] {
        if let Some(map) = node.as_map_mut() {
            map.remove("extends");
        }
    }
    merge::merge_service(base, own)
}

/// A service of another file, that file loaded once (with its own `extends` resolved).
fn other_file_service(other: &Path, named_at: Span, name: &str, at: Span, loader: &mut Loader<'_>) -> Option<Node> {
    let key = identity(other);
    if loader.loading.contains(&key) {
        loader.diags.push(
            Diagnostic::new(
                Code::ExtendsCycle,
                format!("{} is extended from while it is being loaded", display_path(other)),
            )
            .at(named_at, "extends from a file that extends from this one")
            .help("break the cycle: files cannot extend services from each other both ways"),
        );
        return None;
    }
    if !loader.allow(other, named_at, "extended") {
        return None;
    }
    if !loader.extends_files.contains_key(&key) {
        let dir = other.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let services =
            loader.load_file(other, &dir, named_at).map(|(_, tree)| services_map(&tree).cloned().unwrap_or_default());
        loader.extends_files.insert(key.clone(), services);
    }
    let services = loader.extends_files.get(&key).cloned().flatten()?;
    match services.get(name) {
        // Its own `extends` is still there only when its chain is broken, already reported.
        Some(service) if service.as_map().and_then(|m| m.get("extends")).is_some() => None,
        Some(service) => Some(service.clone()),
        None => {
            loader.diags.push(unknown_service(name, at, &services));
            None
        }
    }
}

fn unknown_service(name: &str, reference: Span, services: &Map) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::ExtendsUnknown, format!("`extends` names unknown service `{name}`"))
        .at(reference, "no such service");
    if let Some(close) = crate::suggest::closest(name, services.entries.iter().map(|e| e.key.as_str())) {
        diagnostic = diagnostic.help(format!("did you mean `{close}`?"));
    }
    diagnostic
}

/// Reports a cycle once, however many of its services lead into it.
fn report_cycle(file: &Path, members: &[&str], back_to: &str, at: Span, loader: &mut Loader<'_>) {
    let mut key: Vec<(PathBuf, String)> = members.iter().map(|m| (file.to_path_buf(), m.to_string())).collect();
    key.sort();
    if loader.extends_cycles.contains(&key) {
        return;
    }
    loader.extends_cycles.push(key);
    loader.diags.push(
        Diagnostic::new(
            Code::ExtendsCycle,
            format!("services extend each other in a cycle: {} → {back_to}", members.join(" → ")),
        )
        .at(at, "extends back into the cycle")
        .help("break the cycle: one of these services must not extend the others"),
    );
}

fn too_deep(name: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ExtendsDepth,
        format!("service `{name}` extends through a chain of more than {MAX_EXTENDS_DEPTH} services"),
    )
    .at(at, "one link too many")
    .help("extend a common base service directly instead of chaining services")
}

/// A file named in a compose file, and where it is named.
type FileRef = (PathBuf, Span);

/// `extends: name` or `extends: {service, file}` → (service, its span, other file and
/// where it is named).
fn parse_extends(node: &Node, loader: &mut Loader<'_>) -> Option<(String, Span, Option<FileRef>)> {
    match &node.value {
        Value::Str(name) => Some((name.clone(), node.span, None)),
        Value::Map(map) => {
            let Some(service) = map.get("service").and_then(|s| Some((s.scalar_text()?, s.span))) else {
                loader.diags.push(
                    Diagnostic::new(Code::WrongType, "`extends` needs a `service`")
                        .at(node.span, "no `service`")
                        .help("write `extends: {service: base, file: common.yaml}`"),
                );
                return None;
            };
            let file = map.get("file").and_then(|n| Some((n.as_str()?, n.span))).map(|(f, span)| {
                let base = loader.sources.get(node.span.file).and_then(|s| s.path.parent().map(Path::to_path_buf));
                (base.unwrap_or_default().join(f), span)
            });
            Some((service.0, service.1, file))
        }
        _ => {
            loader.diags.push(super::wrong_type(node, "a service name or a mapping"));
            None
        }
    }
}
