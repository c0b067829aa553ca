//! The stand-in's objects and the semantics of writing them: server-side apply with field
//! ownership, dry runs, and uid/resourceVersion/generation bookkeeping.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::fields::{self, Path};
use super::{KindInfo, status};

pub fn now() -> String {
    "2026-11-26T12:00:00Z".to_string()
}

pub struct Stored {
    pub body: Value,
    /// Fields each manager applied.
    pub owners: BTreeMap<String, BTreeSet<Path>>,
    /// The controller's `(generation, ticks)` for workloads.
    pub ticks: (i64, u32),
}

#[derive(Default)]
pub struct Store {
    objects: BTreeMap<(String, String, String), Stored>,
    resource_version: u64,
    uids: u64,
}

/// An error answer: HTTP status and a `Status` body.
pub type Refusal = (u16, Value);

impl Store {
    fn key(plural: &str, namespace: &str, name: &str) -> (String, String, String) {
        (plural.to_string(), namespace.to_string(), name.to_string())
    }

    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<&Stored> {
        self.objects.get(&Self::key(plural, namespace, name))
    }

    pub fn get_mut(&mut self, plural: &str, namespace: &str, name: &str) -> Option<&mut Stored> {
        self.objects.get_mut(&Self::key(plural, namespace, name))
    }

    pub fn list(&self, plural: &str, namespace: Option<&str>) -> Vec<&Stored> {
        self.objects
            .iter()
            .filter(|((p, ns, _), _)| p == plural && namespace.is_none_or(|n| n == ns))
            .map(|(_, o)| o)
            .collect()
    }

    pub fn resource_version(&self) -> String {
        self.resource_version.to_string()
    }

    pub fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn next_uid(&mut self) -> String {
        self.uids += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.uids)
    }

    /// Stores an object made by the stand-in itself (pods, events).
    pub fn insert(&mut self, plural: &str, namespace: &str, name: &str, mut body: Value) {
        body["metadata"]["uid"] = json!(self.next_uid());
        body["metadata"]["resourceVersion"] = json!(self.next_version());
        body["metadata"]["creationTimestamp"] = json!(now());
        let stored = Stored { body, owners: BTreeMap::new(), ticks: (0, 0) };
        self.objects.insert(Self::key(plural, namespace, name), stored);
    }

    /// A write that changes nothing kompile looks at: a new resourceVersion.
    pub fn touch(&mut self, plural: &str, namespace: &str, name: &str) {
        let version = self.next_version();
        if let Some(stored) = self.get_mut(plural, namespace, name) {
            stored.body["metadata"]["resourceVersion"] = json!(version);
        }
    }

    pub fn remove_where(&mut self, plural: &str, namespace: &str, doomed: impl Fn(&Value) -> bool) {
        self.objects.retain(|(p, ns, _), o| !(p == plural && ns == namespace && doomed(&o.body)));
    }

    pub fn remove(&mut self, plural: &str, namespace: &str, name: &str) -> Option<Stored> {
        self.objects.remove(&Self::key(plural, namespace, name))
    }

    /// Server-side apply of `config` by `manager`; `Ok((201 | 200, object))`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        kind: &KindInfo,
        namespace: &str,
        name: &str,
        manager: &str,
        config: &Value,
        force: bool,
        dry_run: bool,
    ) -> Result<(u16, Value), Refusal> {
        check_identity(kind, namespace, name, config)?;
        if kind.namespaced && self.get("namespaces", "", namespace).is_none() {
            return Err(status(
                404,
                "NotFound",
                &format!("namespaces \"{namespace}\" not found"),
                json!({"name": namespace, "kind": "namespaces"}),
            ));
        }
        let paths = fields::leaves(config);
        let Some(existing) = self.get(kind.plural, namespace, name) else {
            return Ok((201, self.create(kind, namespace, name, manager, config, paths, dry_run)));
        };
        let mut owners = existing.owners.clone();
        let live = existing.body.clone();
        let conflicts = fields::conflicts(&owners, manager, &live, config, &paths);
        if !conflicts.is_empty() && !force {
            return Err(conflict(kind, name, &conflicts));
        }
        for owned in owners.values_mut() {
            owned.retain(|p| !(force && paths.contains(p)));
        }
        let mut body = live.clone();
        let previous = owners.remove(manager).unwrap_or_default();
        for dropped in previous.difference(&paths) {
            if !owners.values().any(|o| o.contains(dropped)) {
                fields::remove(&mut body, dropped);
            }
        }
        fields::merge(&mut body, config);
        if kind.kind == "Job" && body["spec"]["template"] != live["spec"]["template"] {
            // As the API server: a Job's pod template is immutable.
            let message =
                format!("Job.batch \"{name}\" is invalid: spec.template: Invalid value: \"...\": field is immutable");
            let causes = json!([{"reason": "FieldValueInvalid", "message": "Invalid value: \"...\": field is immutable", "field": "spec.template"}]);
            return Err(status(
                422,
                "Invalid",
                &message,
                json!({"name": name, "group": "batch", "kind": "jobs", "causes": causes}),
            ));
        }
        owners.insert(manager.to_string(), paths);
        owners.retain(|_, o| !o.is_empty());
        let changed =
            strip(&body) != strip(&live) || managers(&owners) != managers(&self.owners_of(kind, namespace, name));
        if changed && !dry_run {
            body["metadata"]["resourceVersion"] = json!(self.next_version());
            if body.get("spec") != live.get("spec") {
                let generation = live["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
                body["metadata"]["generation"] = json!(generation);
            }
        } else if changed && body.get("spec") != live.get("spec") {
            // A dry run shows the generation the write would get, with the live resourceVersion.
            body["metadata"]["generation"] = json!(live["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
        }
        body["metadata"]["managedFields"] = managed_fields(&owners, &body["apiVersion"]);
        if !dry_run && let Some(stored) = self.get_mut(kind.plural, namespace, name) {
            stored.body = body.clone();
            stored.owners = owners;
        }
        Ok((200, body))
    }

    fn owners_of(&self, kind: &KindInfo, namespace: &str, name: &str) -> BTreeMap<String, BTreeSet<Path>> {
        self.get(kind.plural, namespace, name).map(|o| o.owners.clone()).unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        kind: &KindInfo,
        namespace: &str,
        name: &str,
        manager: &str,
        config: &Value,
        paths: BTreeSet<Path>,
        dry_run: bool,
    ) -> Value {
        let mut body = config.clone();
        body["metadata"]["uid"] = json!(self.next_uid());
        body["metadata"]["resourceVersion"] = json!(if dry_run { String::new() } else { self.next_version() });
        body["metadata"]["creationTimestamp"] = json!(now());
        if body.get("spec").is_some() {
            body["metadata"]["generation"] = json!(1);
        }
        if kind.kind == "Deployment" && body["spec"].get("replicas").is_none() {
            body["spec"]["replicas"] = json!(1);
        }
        let owners = BTreeMap::from([(manager.to_string(), paths)]);
        body["metadata"]["managedFields"] = managed_fields(&owners, &body["apiVersion"]);
        if !dry_run {
            let stored = Stored { body: body.clone(), owners, ticks: (0, 0) };
            self.objects.insert(Self::key(kind.plural, namespace, name), stored);
        }
        body
    }
}

fn check_identity(kind: &KindInfo, namespace: &str, name: &str, config: &Value) -> Result<(), Refusal> {
    let bad = |message: String| Err(status(400, "BadRequest", &message, Value::Null));
    if config["metadata"].get("managedFields").is_some() {
        return bad("metadata.managedFields must be nil".into());
    }
    if config["kind"] != kind.kind || config["apiVersion"] != kind.api_version() {
        return bad(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            config["apiVersion"],
            kind.api_version()
        ));
    }
    if config["metadata"]["name"] != name {
        return bad("the name of the object does not match the name on the URL".into());
    }
    let body_namespace = config["metadata"]["namespace"].as_str().unwrap_or(namespace);
    if kind.namespaced && body_namespace != namespace {
        return bad("the namespace of the provided object does not match the namespace sent on the request".into());
    }
    Ok(())
}

/// The object without what changes on every write, to tell a no-op apply.
fn strip(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(meta) = body["metadata"].as_object_mut() {
        for key in ["managedFields", "resourceVersion", "generation"] {
            meta.remove(key);
        }
    }
    body
}

fn managers(owners: &BTreeMap<String, BTreeSet<Path>>) -> Vec<(String, BTreeSet<Path>)> {
    owners.iter().map(|(m, p)| (m.clone(), p.clone())).collect()
}

fn managed_fields(owners: &BTreeMap<String, BTreeSet<Path>>, api_version: &Value) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|(manager, paths)| {
            json!({"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now(),
                "fieldsType": "FieldsV1", "fieldsV1": fields::fields_v1(paths)})
        })
        .collect();
    json!(entries)
}

/// The 409 the real server sends, message and causes alike.
fn conflict(kind: &KindInfo, name: &str, conflicts: &[(Path, String)]) -> Refusal {
    let n = conflicts.len();
    let message = if n == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with \"{}\": {}",
            conflicts[0].1,
            fields::dotted(&conflicts[0].0)
        )
    } else {
        let lines: Vec<String> = conflicts.iter().map(|(p, _)| format!("- {}", fields::dotted(p))).collect();
        format!("Apply failed with {n} conflicts: conflicts with \"{}\":\n{}", conflicts[0].1, lines.join("\n"))
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(p, m)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\""), "field": fields::dotted(p)}))
        .collect();
    status(409, "Conflict", &message, json!({"name": name, "group": kind.group, "kind": kind.plural, "causes": causes}))
}
