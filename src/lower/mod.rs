//! Lowering: the loaded, checked compose tree → the typed [`App`] model. Every decision
//! that needs a warning (names changed, keys without a translation, risky rollouts) is made
//! and reported here, so `emit` can be pure.

mod names;
mod service;
mod storage;
mod unsupported;

use std::collections::BTreeMap;

pub use names::dns_label;

use crate::diag::Diagnostics;
use crate::load::Project;
use crate::load::node::{Map, Node};
use crate::model::App;

/// What the user chose on the command line that shapes the model.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub namespace: Option<String>,
}

pub fn lower(project: &Project, settings: &Settings, diags: &mut Diagnostics) -> App {
    let empty = Map::default();
    let root = project.root.as_map().unwrap_or(&empty);
    let section = |key: &str| root.get(key).and_then(Node::as_map).unwrap_or(&empty);
    let mut store = storage::Storage::new(project, section("volumes"), section("secrets"), section("configs"), diags);
    let mut named = Vec::new();
    let mut namer = names::Namer::new("service", diags);
    for (name, key_span, node) in sorted(section("services")) {
        if let Some(k8s_name) = namer.name(&name, key_span) {
            named.push((name, key_span, node, k8s_name));
        }
    }
    let mut services = Vec::new();
    for (name, key_span, node, k8s_name) in named {
        let mut lowering = service::Lowering { name: &name, k8s_name, key_span, node, store: &mut store, diags };
        services.push(lowering.lower());
    }
    let (volumes, secrets, configs) = store.finish(&services, diags);
    App { name: project.name.clone(), namespace: settings.namespace.clone(), services, volumes, secrets, configs }
}

/// `(name, key span, node)` of a mapping, sorted by name so output order never depends on
/// the order of the file.
fn sorted(map: &Map) -> Vec<(String, crate::source::Span, &Node)> {
    let mut entries: Vec<_> = map.entries.iter().map(|e| (e.key.clone(), e.key_span, &e.value)).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// Mapping values as strings, for labels and annotations.
fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.and_then(Node::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.to_string(), v.scalar_text()?))).collect())
        .unwrap_or_default()
}
