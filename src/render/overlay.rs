//! A kustomize overlay: what one set of objects changes in another, as the files of an
//! overlay directory on top of `../../base`.
//!
//! Objects are matched by identity (API group, kind, namespace, name), the way kustomize
//! matches a patch to its target. An object only the overlay has is a resource of its own; an
//! object only the base has is a strategic-merge `$patch: delete`; an object both have but
//! different is an RFC 6902 JSON patch, which says exactly what changes, down to `null`s and
//! list items, where a strategic merge would merge lists by key instead.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// Where an overlay directory finds its base, relative to itself (`overlays/NAME/`).
const BASE: &str = "../../base";

/// `apiVersion`'s group, `kind`, namespace and name: what kustomize tells objects apart by.
type Identity = (String, String, String, String);

/// The files of an overlay directory (paths relative to it) that turn `base` into `overlay`:
/// the kustomization, the objects the base lacks, and one patch file per object it changes
/// or deletes. Both slices are objects as [`crate::emit::Object::to_value`] gives them.
pub fn overlay_files(base: &[Value], overlay: &[Value]) -> Vec<(String, String)> {
    let in_base: BTreeMap<Identity, &Value> = base.iter().map(|v| (identity(v), v)).collect();
    let in_overlay: BTreeSet<Identity> = overlay.iter().map(identity).collect();
    let mut names = FileNames::default();
    let mut files = Vec::new();
    let mut resources = vec![Value::from(BASE)];
    let mut patches = Vec::new();
    for object in overlay {
        match in_base.get(&identity(object)) {
            None => {
                let name = names.unique(&file_stem(object));
                resources.push(Value::from(name.as_str()));
                files.push((name, super::document(object)));
            }
            Some(before) => {
                let operations = diff(before, object);
                if operations.is_empty() {
                    continue;
                }
                let name = names.unique(&format!("patches/{}", file_stem(object)));
                patches.push(json!({"path": name, "target": target(before)}));
                files.push((name, super::document(&Value::Array(operations))));
            }
        }
    }
    for object in base.iter().filter(|o| !in_overlay.contains(&identity(o))) {
        let name = names.unique(&format!("patches/{}", file_stem(object)));
        patches.push(json!({"path": name}));
        files.push((name, super::document(&delete_patch(object))));
    }
    files.insert(0, (super::KUSTOMIZATION.to_string(), super::document(&kustomization(resources, patches))));
    files
}

/// The overlay's kustomization. `fifo` keeps the base's objects in kompile's apply order,
/// with the overlay's own objects after them, instead of kustomize's order by kind.
fn kustomization(resources: Vec<Value>, patches: Vec<Value>) -> Value {
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "sortOptions": {"order": "fifo"},
        "resources": resources,
    });
    if !patches.is_empty() {
        kustomization["patches"] = Value::Array(patches);
    }
    kustomization
}

fn identity(object: &Value) -> Identity {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string();
    let api_version = text("/apiVersion");
    let group = api_version.rsplit_once('/').map(|(group, _)| group.to_string()).unwrap_or_default();
    (group, text("/kind"), text("/metadata/namespace"), text("/metadata/name"))
}

/// The `target` of a JSON patch: the object it applies to, by the fields kustomize selects on.
fn target(object: &Value) -> Value {
    let (group, kind, namespace, name) = identity(object);
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let version = api_version.rsplit_once('/').map_or(api_version, |(_, version)| version);
    let mut target = Map::new();
    if !group.is_empty() {
        target.insert("group".into(), group.into());
    }
    target.insert("version".into(), version.into());
    target.insert("kind".into(), kind.into());
    target.insert("name".into(), name.into());
    if !namespace.is_empty() {
        target.insert("namespace".into(), namespace.into());
    }
    Value::Object(target)
}

/// A strategic-merge patch that deletes `object`: its identity and `$patch: delete`.
fn delete_patch(object: &Value) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), object["metadata"]["name"].clone());
    if let Some(namespace) = object.pointer("/metadata/namespace") {
        metadata.insert("namespace".into(), namespace.clone());
    }
    json!({
        "$patch": "delete",
        "apiVersion": object["apiVersion"],
        "kind": object["kind"],
        "metadata": metadata,
    })
}

/// The RFC 6902 operations that turn `from` into `to`; empty when they are equal.
pub fn diff(from: &Value, to: &Value) -> Vec<Value> {
    let mut operations = Vec::new();
    diff_at("", from, to, &mut operations);
    operations
}

/// Maps are compared key by key and lists of the same length item by item, so a patch names
/// only what changed; a list that grows or shrinks is replaced whole, since index-based adds
/// and removes are easy to get subtly wrong and a whole list is exact.
fn diff_at(path: &str, from: &Value, to: &Value, operations: &mut Vec<Value>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(before), Value::Object(after)) => {
            for key in before.keys().filter(|k| !after.contains_key(*k)) {
                operations.push(json!({"op": "remove", "path": child(path, key)}));
            }
            for (key, value) in after {
                match before.get(key) {
                    None => operations.push(json!({"op": "add", "path": child(path, key), "value": value})),
                    Some(old) => diff_at(&child(path, key), old, value, operations),
                }
            }
        }
        (Value::Array(before), Value::Array(after)) if before.len() == after.len() => {
            for (index, (old, new)) in before.iter().zip(after).enumerate() {
                diff_at(&format!("{path}/{index}"), old, new, operations);
            }
        }
        _ => operations.push(json!({"op": "replace", "path": path, "value": to})),
    }
}

/// A JSON pointer one key deeper (RFC 6901: `~` is `~0`, `/` is `~1`); the chart's templates
/// point into objects with it too.
pub(super) fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// `<kind>-<name>`, as the flat directory names its files, without the position.
fn file_stem(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or_default().to_ascii_lowercase();
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    format!("{kind}-{}", super::safe_name(name))
}

/// Hands out `<stem>.yaml`, then `<stem>-2.yaml` and so on for objects whose kind and name
/// are the same (in other groups or namespaces), so no file overwrites another.
#[derive(Default)]
struct FileNames {
    taken: BTreeSet<String>,
}

impl FileNames {
    fn unique(&mut self, stem: &str) -> String {
        let mut name = format!("{stem}.yaml");
        let mut count = 1;
        while self.taken.contains(&name) {
            count += 1;
            name = format!("{stem}-{count}.yaml");
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(name: &str, image: &str, env: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": image, "env": env}]}}},
        })
    }

    fn config_map(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }

    /// Applies RFC 6902 operations the way the subset [`diff`] writes behaves.
    fn apply(document: &Value, operations: &[Value]) -> Value {
        let mut out = document.clone();
        for operation in operations {
            let path = operation["path"].as_str().unwrap();
            let (parent, last) = path.rsplit_once('/').unwrap();
            let last = last.replace("~1", "/").replace("~0", "~");
            let target = out.pointer_mut(parent).unwrap();
            match (operation["op"].as_str().unwrap(), target) {
                ("remove", Value::Object(map)) => {
                    map.remove(&last).unwrap();
                }
                ("add" | "replace", Value::Object(map)) => {
                    map.insert(last, operation["value"].clone());
                }
                ("replace", Value::Array(items)) => items[last.parse::<usize>().unwrap()] = operation["value"].clone(),
                other => panic!("unexpected operation {other:?}"),
            }
        }
        out
    }

    fn parse(text: &str) -> Value {
        serde_saphyr::from_str(text).unwrap()
    }

    fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
        &files.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name} in {files:?}")).1
    }

    #[test]
    fn an_identical_overlay_is_just_the_base() {
        let base = [deployment("web", "nginx:1", json!([])), config_map("site", json!({"a": "1"}))];
        let files = overlay_files(&base, &base);
        assert_eq!(files.len(), 1);
        let kustomization = parse(file(&files, "kustomization.yaml"));
        assert_eq!(kustomization["resources"], json!(["../../base"]));
        assert!(kustomization.get("patches").is_none());
        assert_eq!(kustomization["sortOptions"], json!({"order": "fifo"}));
    }

    #[test]
    fn a_new_object_is_a_resource_of_the_overlay() {
        let base = [deployment("web", "nginx:1", json!([]))];
        let added = config_map("extra", json!({"k": "v"}));
        let files = overlay_files(&base, &[base[0].clone(), added.clone()]);
        let kustomization = parse(file(&files, "kustomization.yaml"));
        assert_eq!(kustomization["resources"], json!(["../../base", "configmap-extra.yaml"]));
        assert_eq!(parse(file(&files, "configmap-extra.yaml")), added);
    }

    #[test]
    fn an_object_only_the_base_has_is_deleted() {
        let base = [deployment("web", "nginx:1", json!([])), config_map("old", json!({}))];
        let files = overlay_files(&base, &base[..1]);
        let kustomization = parse(file(&files, "kustomization.yaml"));
        assert_eq!(kustomization["patches"], json!([{"path": "patches/configmap-old.yaml"}]));
        let patch = parse(file(&files, "patches/configmap-old.yaml"));
        assert_eq!(
            patch,
            json!({"$patch": "delete", "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old"}})
        );
    }

    #[test]
    fn a_changed_object_is_a_json_patch_with_its_target() {
        let base = [deployment("web", "nginx:1", json!([{"name": "A", "value": "1"}]))];
        let changed = deployment("web", "nginx:2", json!([{"name": "A", "value": "2"}]));
        let files = overlay_files(&base, std::slice::from_ref(&changed));
        let kustomization = parse(file(&files, "kustomization.yaml"));
        let target = json!({"group": "apps", "version": "v1", "kind": "Deployment", "name": "web"});
        assert_eq!(kustomization["patches"], json!([{"path": "patches/deployment-web.yaml", "target": target}]));
        let operations: Vec<Value> = serde_saphyr::from_str(file(&files, "patches/deployment-web.yaml")).unwrap();
        assert_eq!(
            operations,
            [
                json!({"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:2"}),
                json!({"op": "replace", "path": "/spec/template/spec/containers/0/env/0/value", "value": "2"}),
            ]
        );
        assert_eq!(apply(&base[0], &operations), changed);
    }

    #[test]
    fn lists_that_change_length_are_replaced_whole() {
        let before = deployment("web", "nginx:1", json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
        let after = deployment("web", "nginx:1", json!([{"name": "B", "value": "2"}]));
        let operations = diff(&before, &after);
        assert_eq!(
            operations,
            [
                json!({"op": "replace", "path": "/spec/template/spec/containers/0/env", "value": [{"name": "B", "value": "2"}]})
            ]
        );
        assert_eq!(apply(&before, &operations), after);
        let reordered = deployment("web", "nginx:1", json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]));
        assert_eq!(apply(&before, &diff(&before, &reordered)), reordered);
    }

    #[test]
    fn keys_are_added_removed_and_escaped() {
        let before = json!({"metadata": {"labels": {"a/b": "1", "gone": "x"}, "annotations": {"x~y": "1"}}});
        let after = json!({"metadata": {"labels": {"a/b": "2", "new": null}, "annotations": {"x~y": "1", "k": [1]}}});
        let operations = diff(&before, &after);
        assert_eq!(
            operations,
            [
                json!({"op": "remove", "path": "/metadata/labels/gone"}),
                json!({"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"}),
                json!({"op": "add", "path": "/metadata/labels/new", "value": null}),
                json!({"op": "add", "path": "/metadata/annotations/k", "value": [1]}),
            ]
        );
        assert_eq!(apply(&before, &operations), after);
        assert!(diff(&after, &after).is_empty());
        // A value that changes type is replaced.
        assert_eq!(
            diff(&json!({"a": [1]}), &json!({"a": {"b": 1}})),
            [json!({"op": "replace", "path": "/a", "value": {"b": 1}})]
        );
    }

    #[test]
    fn objects_are_told_apart_by_group_namespace_and_name() {
        let mut other_namespace = config_map("site", json!({}));
        other_namespace["metadata"]["namespace"] = json!("prod");
        let base = [config_map("site", json!({}))];
        let files = overlay_files(&base, &[base[0].clone(), other_namespace]);
        let kustomization = parse(file(&files, "kustomization.yaml"));
        assert_eq!(kustomization["resources"], json!(["../../base", "configmap-site.yaml"]));
        // Same kind and name twice: the second file gets a suffix instead of overwriting.
        let mut names = FileNames::default();
        assert_eq!(names.unique("patches/configmap-site"), "patches/configmap-site.yaml");
        assert_eq!(names.unique("patches/configmap-site"), "patches/configmap-site-2.yaml");
    }

    #[test]
    fn deleted_objects_keep_their_namespace() {
        let mut object = config_map("site", json!({}));
        object["metadata"]["namespace"] = json!("prod");
        assert_eq!(delete_patch(&object)["metadata"], json!({"name": "site", "namespace": "prod"}));
        assert_eq!(target(&object), json!({"version": "v1", "kind": "ConfigMap", "name": "site", "namespace": "prod"}));
    }
}
