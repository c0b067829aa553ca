//! `--helm-release-prefix`: every object's name becomes `<release>-<name>`, every reference
//! to it follows, and the `app.kubernetes.io/instance` label (selectors included) becomes the
//! release name, so two releases of one chart can share a namespace. Services are renamed too,
//! so clients that reach another service by its compose name (`db:5432`) must be given the
//! new one: the chart's README and NOTES say so.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::template::Parameter;
use super::values::{Templated, go_string};

/// The label whose value is the release name.
const INSTANCE: &str = "app.kubernetes.io/instance";

/// Keys whose value names another object.
const NAME_KEYS: [&str; 4] = ["secretName", "claimName", "serviceName", "serviceAccountName"];

/// Maps whose `name` names another object.
const REFERENCE_MAPS: [&str; 9] = [
    "configMap",
    "secret",
    "configMapRef",
    "secretRef",
    "configMapKeyRef",
    "secretKeyRef",
    "scaleTargetRef",
    "roleRef",
    "service",
];

/// The expression for a renamed object: `<release>-<name>`; longer than `limit`, it is cut
/// and ends with a digest of the whole name, so two long names stay two names.
pub fn renamed(name: &str, limit: usize) -> String {
    format!("(include \"kompile.name\" (list $.Release.Name {} {limit}))", go_string(name))
}

/// The longest name an object may have: a StatefulSet's pods add `-<ordinal>` and a
/// controller hash label (52 characters leave room), a CronJob's Jobs add 11 characters;
/// others are DNS labels.
fn limit(kind: &str) -> usize {
    match kind {
        "StatefulSet" | "CronJob" => 52,
        _ => 63,
    }
}

/// Adds the parameters that rename every object and reference in `templates`.
pub fn prefix(templates: &mut [Templated]) {
    // A name that several objects share (Service `db`, StatefulSet `db`) is renamed alike
    // everywhere, so references stay right: the shortest limit of its kinds applies.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for t in templates.iter() {
        let (Some(name), Some(kind)) = (t.object.pointer("/metadata/name"), t.object.get("kind")) else { continue };
        let (Some(name), Some(kind)) = (name.as_str(), kind.as_str()) else { continue };
        let slot = names.entry(name.to_string()).or_insert(63);
        *slot = (*slot).min(limit(kind));
    }
    for t in templates {
        let taken: BTreeSet<String> = t.parameters.iter().map(|p| p.pointer.clone()).collect();
        let mut found = Vec::new();
        walk(&t.object, "", None, &names, &mut found);
        let wait_args = wait_arguments(&t.object, &names);
        for parameter in found.into_iter().chain(wait_args) {
            if !taken.contains(&parameter.pointer) {
                t.parameters.push(parameter);
            }
        }
    }
}

/// Renamed fields at or below `value`, whose pointer is `at` and whose key in its parent map
/// is `key`.
fn walk(value: &Value, at: &str, key: Option<&str>, names: &BTreeMap<String, usize>, found: &mut Vec<Parameter>) {
    match value {
        Value::Object(map) => {
            for (child_key, child) in map {
                let pointer = super::super::overlay::child(at, child_key);
                if let Some(parameter) = reference(map, key, child_key, child, &pointer, names) {
                    found.push(parameter);
                } else {
                    walk(child, &pointer, Some(child_key), names, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let pointer = format!("{at}/{i}");
                match (key, item.as_str()) {
                    (Some("resourceNames"), Some(name)) if names.contains_key(name) => {
                        found.push(Parameter::new(pointer, renamed(name, names[name])));
                    }
                    _ => walk(item, &pointer, key, names, found),
                }
            }
        }
        _ => {}
    }
}

/// The parameter for `child` (at `pointer`, key `child_key` of `map`, itself under `key`) when
/// it is a name kompile gave or a reference to one.
fn reference(
    map: &serde_json::Map<String, Value>,
    key: Option<&str>,
    child_key: &str,
    child: &Value,
    pointer: &str,
    names: &BTreeMap<String, usize>,
) -> Option<Parameter> {
    let text = child.as_str()?;
    if child_key == INSTANCE && matches!(key, Some("labels" | "matchLabels" | "selector")) {
        return Some(Parameter::new(pointer, "$.Release.Name"));
    }
    let limit = names.get(text)?;
    let is_reference = NAME_KEYS.contains(&child_key)
        || (child_key == "name"
            && key.is_some_and(|k| REFERENCE_MAPS.contains(&k) || k == "metadata" && pointer == "/metadata/name"))
        || (child_key == "name" && map.get("kind").and_then(Value::as_str) == Some("ServiceAccount"));
    is_reference.then(|| Parameter::new(pointer, renamed(text, *limit)))
}

/// The object name a `wait-for-*` init container passes to its script (`sh -c SCRIPT wait
/// [KIND] NAME [PORT] SERVICE`): the Service, Job or workload it waits for, the first name
/// after `wait`. The compose service's name, last, is for messages and stays.
fn wait_arguments(object: &Value, names: &BTreeMap<String, usize>) -> Vec<Parameter> {
    let mut found = Vec::new();
    for pod in ["/spec/template/spec", "/spec/jobTemplate/spec/template/spec"] {
        let inits = object.pointer(&format!("{pod}/initContainers")).and_then(Value::as_array);
        for (i, init) in inits.into_iter().flatten().enumerate() {
            if !init["name"].as_str().is_some_and(|n| n.starts_with("wait-for-")) {
                continue;
            }
            let mut command = init["command"].as_array().into_iter().flatten().enumerate().skip(4);
            let first = command.find_map(|(j, word)| Some((j, word.as_str()?, *names.get(word.as_str()?)?)));
            if let Some((j, name, limit)) = first {
                found.push(Parameter::new(format!("{pod}/initContainers/{i}/command/{j}"), renamed(name, limit)));
            }
        }
    }
    found
}
