//! Merging compose files the way Compose does: mappings merge, sequences append, some
//! lists merge by a key, `command`/`entrypoint`/`healthcheck.test` replace, `!reset`
//! removes, `!override` replaces.

use super::node::{Map, Node, Tag, Value};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

/// `overlay` merged onto `base`; both are canonical compose trees.
pub fn merge(base: Node, overlay: Node) -> Node {
    merge_at(base, overlay, &[])
}

fn merge_at(base: Node, overlay: Node, path: &[&str]) -> Node {
    match overlay.tag {
        Tag::Override => return Node { tag: Tag::None, ..overlay },
        Tag::Reset => return overlay,
        Tag::None => {}
    }
    let interpolated = overlay.interpolated;
    match (base.value, overlay.value) {
        (Value::Map(base_map), Value::Map(overlay_map)) => {
            let span = overlay.span;
            Node::map(merge_maps(base_map, overlay_map, path), span)
        }
        (Value::Seq(base_items), Value::Seq(overlay_items)) => {
            let items = merge_seqs(base_items, overlay_items, path);
            Node::new(Value::Seq(items), overlay.span)
        }
        (_, value) => Node { value, span: overlay.span, tag: Tag::None, interpolated },
    }
}

fn merge_maps(mut base: Map, overlay: Map, path: &[&str]) -> Map {
    for entry in overlay.entries {
        if entry.value.tag == Tag::Reset {
            base.remove(&entry.key);
            continue;
        }
        let mut child_path = path.to_vec();
        child_path.push(&entry.key);
        let replaces = replaces_whole(&child_path);
        match base.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(existing) if !replaces => {
                let old = std::mem::replace(&mut existing.value, Node::new(Value::Null, Span::NONE));
                existing.value = merge_at(old, entry.value, &child_path);
            }
            Some(existing) => existing.value = strip_tag(entry.value),
            None => base.entries.push(super::node::Entry { value: strip_tag(entry.value), ..entry }),
        }
    }
    base
}

/// A service merged onto the service it extends, with the same rules as files.
pub fn merge_service(base: Node, overlay: Node) -> Node {
    merge_at(base, overlay, &["services", "_"])
}

fn strip_tag(node: Node) -> Node {
    Node { tag: Tag::None, ..node }
}

/// Keys whose value an override replaces instead of merging into.
fn replaces_whole(path: &[&str]) -> bool {
    matches!(path, ["services", _, "command" | "entrypoint"] | ["services", _, "healthcheck", "test"])
}

/// Lists that merge by a key (volumes by target, secrets/configs by source); others append
/// without exact duplicates.
fn merge_seqs(base: Vec<Node>, overlay: Vec<Node>, path: &[&str]) -> Vec<Node> {
    let key = match path {
        ["services", _, "volumes"] => Some("target"),
        ["services", _, "secrets" | "configs"] => Some("source"),
        _ => None,
    };
    let mut out = base;
    for item in overlay {
        let item = strip_tag(item);
        let same = |existing: &Node| match key {
            Some(key) => field(existing, key).is_some() && field(existing, key) == field(&item, key),
            // Spans differ between files; the values are what must match.
            None => existing.to_json() == item.to_json(),
        };
        match out.iter().position(same) {
            Some(index) if key.is_some() => out[index] = item,
            Some(_) => {}
            None => out.push(item),
        }
    }
    out
}

fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Value> {
    node.as_map()?.get(key).map(|n| &n.value)
}

/// Adds an included project's services and resources; a name defined on both sides is an
/// error, as in Compose.
pub fn add_included(tree: &mut Node, included: Node, span: Span, diags: &mut Diagnostics) {
    let (Some(root), Value::Map(included)) = (tree.as_map_mut(), included.value) else { return };
    for section in included.entries {
        let Value::Map(items) = section.value.value else { continue };
        if !matches!(section.key.as_str(), "services" | "networks" | "volumes" | "secrets" | "configs") {
            continue;
        }
        if root.get(&section.key).is_none() {
            root.insert(section.key.clone(), section.key_span, Node::map(Map::default(), section.key_span));
        }
        let Some(target) = root.get_mut(&section.key).and_then(Node::as_map_mut) else { continue };
        for item in items.entries {
            if let Some(existing) = target.entry(&item.key) {
                diags.push(
                    Diagnostic::new(
                        Code::IncludeFailed,
                        format!("`{}` is defined both here and in an included file", item.key),
                    )
                    .at(existing.key_span, "defined here")
                    .also(item.key_span, "and in the included file")
                    .also(span, "included here")
                    .help("rename one of them; included projects cannot override each other"),
                );
                continue;
            }
            target.entries.push(item);
        }
    }
}
