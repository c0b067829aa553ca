//! Server-side apply field ownership, as the stand-in models it: every manager owns a set of
//! leaf paths. Lists are atomic (owned whole), which is coarser than the real server's
//! associative lists (containers by name, ports by port) but the same for one manager.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

pub type Path = Vec<String>;

/// Paths that identify the object rather than being fields of it.
fn is_identity(path: &[String]) -> bool {
    matches!(path, [a] if a == "apiVersion" || a == "kind")
        || matches!(path, [m, f] if m == "metadata" && (f == "name" || f == "namespace"))
}

/// Every leaf path of an applied configuration.
pub fn leaves(value: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out.retain(|p| !is_identity(p));
    out
}

fn walk(value: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(key.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

pub fn at<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// Removes a field, and any map the removal left empty.
pub fn remove(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    if parents.is_empty() {
        if let Some(map) = value.as_object_mut() {
            map.remove(last);
        }
        return;
    }
    let Some(parent) = value.get_mut(&parents[0]) else { return };
    remove(parent, &[&parents[1..], std::slice::from_ref(last)].concat());
    if parent.as_object().is_some_and(Map::is_empty)
        && let Some(map) = value.as_object_mut()
    {
        map.remove(&parents[0]);
    }
}

/// Merges `config` into `live`: maps field by field, anything else replaced.
pub fn merge(live: &mut Value, config: &Value) {
    match (live.as_object_mut(), config.as_object()) {
        (Some(live), Some(config)) => {
            for (key, value) in config {
                merge(live.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        _ => *live = config.clone(),
    }
}

/// `.spec.replicas`, as the API server prints field paths.
pub fn dotted(path: &[String]) -> String {
    path.iter().map(|p| format!(".{p}")).collect()
}

/// The `fieldsV1` form: `{"f:spec":{"f:replicas":{}}}`.
pub fn fields_v1(paths: &BTreeSet<Path>) -> Value {
    let mut root = json!({});
    for path in paths {
        let mut node = &mut root;
        for key in path {
            node = node
                .as_object_mut()
                .map(|m| m.entry(format!("f:{key}")).or_insert_with(|| json!({})))
                .unwrap_or_else(|| unreachable!());
        }
    }
    root
}

/// Owners other than `manager` of `path` whose value differs from `config`'s: the conflicts.
pub fn conflicts(
    owners: &BTreeMap<String, BTreeSet<Path>>,
    manager: &str,
    live: &Value,
    config: &Value,
    paths: &BTreeSet<Path>,
) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    for path in paths {
        for (other, owned) in owners {
            if other != manager && owned.contains(path) && at(live, path) != at(config, path) {
                out.push((path.clone(), other.clone()));
            }
        }
    }
    out
}
