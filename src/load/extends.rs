//! `extends`: a service built on another service, from the same file or another one.

use std::path::{Path, PathBuf};

use super::node::{Map, Node, Value};
use super::{Loader, merge, services_map};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

/// Replaces every service that has `extends` with the merge of its base and itself.
pub(super) fn resolve(tree: &mut Node, file: &Path, loader: &mut Loader<'_>) {
    let extends = |map: &Map| map.entries.iter().any(|e| e.value.as_map().is_some_and(|s| s.get("extends").is_some()));
    if !services_map(tree).is_some_and(extends) {
        return;
    }
    let Some(services) = services_map(tree).cloned() else { return };
    let mut resolved = Vec::new();
    for entry in &services.entries {
        if entry.value.as_map().and_then(|m| m.get("extends")).is_none() {
            continue;
        }
        let mut stack = Vec::new();
        if let Some(node) = resolve_service(&entry.key, entry.key_span, &services, file, loader, &mut stack) {
            resolved.push((entry.key.clone(), node));
        }
    }
    let Some(target) = tree.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) else {
        return;
    };
    for (name, node) in resolved {
        if let Some(service) = target.get_mut(&name) {
            *service = node;
        }
    }
}

/// The service `name` of `services` with its own `extends` chain applied.
fn resolve_service(
    name: &str,
    reference: Span,
    services: &Map,
    file: &Path,
    loader: &mut Loader<'_>,
    stack: &mut Vec<(PathBuf, String)>,
) -> Option<Node> {
    let Some(service) = services.get(name) else {
        let mut diagnostic = Diagnostic::new(Code::ExtendsUnknown, format!("`extends` names unknown service `{name}`"))
            .at(reference, "no such service");
        if let Some(close) = services.entries.iter().find(|e| strsim::jaro_winkler(&e.key, name) > 0.8) {
            diagnostic = diagnostic.help(format!("did you mean `{}`?", close.key));
        }
        loader.diags.push(diagnostic);
        return None;
    };
    let Some(extends) = service.as_map().and_then(|m| m.get("extends")) else { return Some(service.clone()) };
    let key = (file.to_path_buf(), name.to_string());
    if let Some(start) = stack.iter().position(|k| *k == key) {
        let mut members = stack[start..].to_vec();
        members.sort();
        if !loader.extends_cycles.contains(&members) {
            loader.extends_cycles.push(members);
            let chain: Vec<&str> = stack[start..].iter().map(|(_, s)| s.as_str()).collect();
            loader.diags.push(
                Diagnostic::new(
                    Code::ExtendsCycle,
                    format!("services extend each other in a cycle: {} → {name}", chain.join(" → ")),
                )
                .at(reference, "extends back into the cycle")
                .help("break the cycle: one of these services must not extend the others"),
            );
        }
        return None;
    }
    let (base_name, base_span, base_file) = parse_extends(extends, loader)?;
    stack.push(key);
    let base = match base_file {
        None => resolve_service(&base_name, base_span, services, file, loader, stack),
        Some((other, named_at)) => {
            let dir = other.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let (_, tree) = loader.load_file(&other, &dir, named_at)?;
            let other_services = services_map(&tree).cloned().unwrap_or_default();
            resolve_service(&base_name, base_span, &other_services, &other, loader, stack)
        }
    };
    stack.pop();
    let mut own = service.clone();
    if let Some(map) = own.as_map_mut() {
        map.remove("extends");
    }
    let mut base = base?;
    if let Some(map) = base.as_map_mut() {
        map.remove("extends");
    }
    Some(merge::merge_service(base, own))
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
