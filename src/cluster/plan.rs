//! The pure part of applying: what is sent, in which order, and what the ApplySet records.
//! No IO here, so every rule is unit-tested.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::normalize::normalize;
use crate::emit::{DEPENDS_ON_ANNOTATION, Object, Origin};
use crate::model::WaitCondition;

/// Label on the ApplySet parent: the id of the set.
pub const APPLYSET_ID: &str = "applyset.kubernetes.io/id";
/// Label on every member: the id of the set it belongs to.
pub const PART_OF: &str = "applyset.kubernetes.io/part-of";
pub const TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const CONTAINS_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const ADDITIONAL_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// The annotation emit puts on objects made from one compose service.
pub use crate::emit::SERVICE_ANNOTATION;

/// The apply steps, in order: each needs only what earlier steps created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Namespaces,
    /// ConfigMaps, Secrets and volume claims: what pods mount or read.
    Config,
    Services,
    Workloads,
}

impl Step {
    pub fn of(kind: &str) -> Step {
        match kind {
            "Namespace" => Step::Namespaces,
            "Service" | "Ingress" => Step::Services,
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "ReplicaSet" | "Pod" => Step::Workloads,
            _ => Step::Config,
        }
    }
}

/// One object to apply, as JSON, with what messages and lookups need.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The compose service the object came from, when emit recorded it.
    pub service: Option<String>,
    /// Where that service is defined, for diagnostics.
    pub origin: Origin,
    pub body: Value,
}

impl Manifest {
    /// `Deployment.apps`, or `Service` for the core group: the ApplySet spelling.
    pub fn group_kind(&self) -> String {
        group_kind(&self.group, &self.kind)
    }

    /// Identity within a cluster.
    pub fn key(&self) -> Key {
        Key { group_kind: self.group_kind(), namespace: self.namespace.clone(), name: self.name.clone() }
    }

    /// `Deployment shop/web`, for messages.
    pub fn describe(&self) -> String {
        describe(&self.kind, self.namespace.as_deref(), &self.name)
    }
}

pub fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Identity of an object: group-kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group_kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

pub fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") }
}

/// Splits `Deployment.apps` into `("apps", "Deployment")`.
pub fn split_group_kind(group_kind: &str) -> (&str, &str) {
    match group_kind.split_once('.') {
        Some((kind, group)) => (group, kind),
        None => ("", group_kind),
    }
}

/// Splits `apps/v1` into group and version; `v1` is the core group.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// The ApplySet id (KEP-3659): base64url, unpadded, of the SHA-256 of
/// `<name>.<namespace>.<kind>.<group>` of the parent, wrapped as `applyset-…-v1`.
pub fn applyset_id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let digest = Sha256::digest(format!("{name}.{namespace}.{kind}.{group}").as_bytes());
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

/// The parent's name: one per project and namespace. A project name that is no DNS label
/// (`my_app`, over 63 characters) is made one, with a hash so projects stay apart.
pub fn parent_name(project: &str) -> String {
    format!("kompile-applyset-{}", crate::names::hashed_label(project, 63))
}

/// The project's ApplySet: the parent is a ConfigMap in the project's namespace (a ConfigMap
/// rather than kubectl's default Secret, because it holds nothing secret and reading Secrets
/// is often not allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplySet {
    /// The compose project's name, as emit labels its objects (`app.kubernetes.io/part-of`).
    pub project: String,
    pub name: String,
    pub namespace: String,
    pub id: String,
}

impl ApplySet {
    pub fn new(project: &str, namespace: &str) -> ApplySet {
        let name = parent_name(project);
        let id = applyset_id(&name, namespace, "ConfigMap", "");
        ApplySet { project: project.to_string(), name, namespace: namespace.to_string(), id }
    }

    /// The parent object recording `group_kinds` and `namespaces` (those besides its own).
    pub fn parent(&self, group_kinds: &BTreeSet<String>, namespaces: &BTreeSet<String>) -> Manifest {
        let kinds: Vec<&str> = group_kinds.iter().map(String::as_str).collect();
        let mut annotations = serde_json::Map::new();
        annotations.insert(TOOLING.into(), json!(format!("kompile/v{}", env!("CARGO_PKG_VERSION"))));
        annotations.insert(CONTAINS_GROUP_KINDS.into(), json!(kinds.join(",")));
        let others: Vec<&str> = namespaces.iter().filter(|n| **n != self.namespace).map(String::as_str).collect();
        if !others.is_empty() {
            annotations.insert(ADDITIONAL_NAMESPACES.into(), json!(others.join(",")));
        }
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": { APPLYSET_ID: self.id },
                "annotations": annotations,
            },
        });
        Manifest {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some(self.namespace.clone()),
            name: self.name.clone(),
            service: None,
            origin: Origin::default(),
            body,
        }
    }
}

/// What a live parent recorded: its group-kinds and every namespace (its own included).
pub fn recorded(parent: &Value, own_namespace: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let annotation = |key: &str| -> BTreeSet<String> {
        parent["metadata"]["annotations"][key]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut namespaces = annotation(ADDITIONAL_NAMESPACES);
    namespaces.insert(own_namespace.to_string());
    (annotation(CONTAINS_GROUP_KINDS), namespaces)
}

/// The compiled objects as manifests, each labelled as a member of `set`, in apply order
/// (stable within a step, so output is reproducible).
pub fn manifests(objects: &[Object], set: &ApplySet) -> Vec<Manifest> {
    let mut out: Vec<Manifest> = objects.iter().map(|o| member(o.to_value(), &set.id)).collect();
    out.sort_by_key(|m| Step::of(&m.kind));
    out
}

fn member(mut body: Value, id: &str) -> Manifest {
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(PART_OF.into(), json!(id));
        }
    }
    manifest(body)
}

/// Reads the identity fields out of an object's JSON.
pub fn manifest(body: Value) -> Manifest {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let (group, version) = split_api_version(body["apiVersion"].as_str().unwrap_or_default());
    Manifest {
        group: group.to_string(),
        version: version.to_string(),
        kind: text(&body["kind"]),
        namespace: body["metadata"]["namespace"].as_str().map(str::to_string),
        name: text(&body["metadata"]["name"]),
        service: body["metadata"]["annotations"][SERVICE_ANNOTATION].as_str().map(str::to_string),
        origin: Origin::default(),
        body,
    }
}

/// Workloads applied together, after what they need from earlier waves.
#[derive(Debug, Clone, PartialEq)]
pub struct Wave<'a> {
    /// Dependencies of `apply` that must be ready (a Job: complete) first.
    pub needs: Vec<&'a Manifest>,
    pub apply: Vec<&'a Manifest>,
}

/// The workloads of a step in `depends_on` order (the `kompile.dev/depends-on` annotation emit
/// puts on workloads): each wave holds the workloads whose dependencies are all in earlier
/// waves. Dependencies that are not among `workloads` are left out; `check` refused cycles, and
/// one that got here anyway is broken where it closes rather than looped on.
pub fn waves<'a>(workloads: &[&'a Manifest]) -> Vec<Wave<'a>> {
    let find = |name: &str, of: &Manifest| {
        workloads.iter().position(|w| w.name == name && w.namespace == of.namespace && is_workload(&w.kind))
    };
    let edges: Vec<Vec<(usize, bool)>> = workloads
        .iter()
        .map(|w| {
            let value = w.body["metadata"]["annotations"][DEPENDS_ON_ANNOTATION].as_str().unwrap_or_default();
            crate::emit::parse_depends_on(value)
                .into_iter()
                .filter_map(|(name, condition)| {
                    let at = find(&name, w)?;
                    Some((at, needs_waiting(&workloads[at].kind, condition)))
                })
                .collect()
        })
        .collect();
    let mut depth: Vec<Option<usize>> = vec![None; workloads.len()];
    for i in 0..workloads.len() {
        depth_of(i, &edges, &mut depth, &mut Vec::new());
    }
    let deepest = depth.iter().flatten().max().copied().unwrap_or(0);
    (0..=deepest)
        .map(|d| {
            let members: Vec<usize> = (0..workloads.len()).filter(|&i| depth[i] == Some(d)).collect();
            let mut needs: Vec<usize> =
                members.iter().flat_map(|&i| edges[i].iter().filter(|(_, wait)| *wait).map(|(at, _)| *at)).collect();
            needs.sort_unstable();
            needs.dedup();
            Wave {
                needs: needs.into_iter().map(|i| workloads[i]).collect(),
                apply: members.into_iter().map(|i| workloads[i]).collect(),
            }
        })
        .filter(|wave| !wave.apply.is_empty())
        .collect()
}

/// One more than the deepest dependency; `stack` holds the workloads being worked out, so a
/// cycle ends instead of recursing for ever.
fn depth_of(i: usize, edges: &[Vec<(usize, bool)>], depth: &mut [Option<usize>], stack: &mut Vec<usize>) -> usize {
    if let Some(d) = depth[i] {
        return d;
    }
    if stack.contains(&i) {
        return 0;
    }
    stack.push(i);
    let d = edges[i].iter().map(|(at, _)| depth_of(*at, edges, depth, stack) + 1).max().unwrap_or(0);
    stack.pop();
    depth[i] = Some(d);
    d
}

fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob")
}

/// Whether a dependent must wait for a dependency of `kind` before it is applied, or only be
/// applied after it: a Job is waited for only to complete, a CronJob never (it runs on its
/// schedule); anything else until it is ready.
fn needs_waiting(kind: &str, condition: WaitCondition) -> bool {
    match kind {
        "CronJob" => false,
        "Job" => condition == WaitCondition::Completed,
        _ => true,
    }
}

/// A Namespace object, applied (only when missing) before anything that lives in it.
pub fn namespace(name: &str) -> Manifest {
    manifest(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
}

/// Manifests grouped by step, steps in order.
pub fn steps(manifests: &[Manifest]) -> BTreeMap<Step, Vec<&Manifest>> {
    let mut steps: BTreeMap<Step, Vec<&Manifest>> = BTreeMap::new();
    for m in manifests {
        steps.entry(Step::of(&m.kind)).or_default().push(m);
    }
    steps
}

/// A live member of the ApplySet, as found by listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub key: Key,
    pub kind: String,
    pub body: Value,
}

/// What prune deletes: live members of `set` that the project no longer has. Objects whose
/// `part-of` label is not exactly this set's id are never candidates, whatever the server's
/// label selector returned. Volume claims hold data: they are kept unless `prune_volumes`.
pub struct Pruning<'a> {
    pub delete: Vec<&'a Live>,
    pub kept_volumes: Vec<&'a Live>,
}

pub fn prune<'a>(live: &'a [Live], desired: &BTreeSet<Key>, set_id: &str, prune_volumes: bool) -> Pruning<'a> {
    let mut pruning = Pruning { delete: Vec::new(), kept_volumes: Vec::new() };
    for object in live {
        let owned = object.body["metadata"]["labels"][PART_OF].as_str() == Some(set_id);
        if !owned || desired.contains(&object.key) || object.kind == "Namespace" {
            continue;
        }
        if object.kind == "PersistentVolumeClaim" && !prune_volumes {
            pruning.kept_volumes.push(object);
        } else {
            pruning.delete.push(object);
        }
    }
    pruning
}

/// What came back, for a message: `None` when `answer` is the object `sent` describes (same
/// apiVersion, kind, name and namespace), else a short description of what it was.
pub fn not_the_object(sent: &Manifest, answer: &Value) -> Option<String> {
    let api_version = answer["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = split_api_version(api_version);
    let same = group == sent.group
        && version == sent.version
        && answer["kind"].as_str() == Some(sent.kind.as_str())
        && answer["metadata"]["name"].as_str() == Some(sent.name.as_str())
        && (sent.namespace.is_none() || answer["metadata"]["namespace"].as_str() == sent.namespace.as_deref());
    (!same).then(|| describe_answer(answer))
}

/// `None` when `answer` confirms a delete of `kind`/`name`: a `Success` Status, or the object
/// itself (what the server sends while finalizers hold it), else what it was.
pub fn not_deleted(kind: &str, name: &str, answer: &Value) -> Option<String> {
    let success = answer["kind"] == "Status" && answer["status"] == "Success";
    let object = answer["kind"].as_str() == Some(kind) && answer["metadata"]["name"].as_str() == Some(name);
    (!success && !object).then(|| describe_answer(answer))
}

fn describe_answer(answer: &Value) -> String {
    match answer {
        Value::Null => "not JSON (an HTML page or other text?)".to_string(),
        Value::Object(map) if map.is_empty() => "an empty JSON object `{}`".to_string(),
        Value::Object(_) => {
            let text = |v: &Value| v.as_str().unwrap_or("(none)").to_string();
            let kind = text(&answer["kind"]);
            match answer["metadata"]["name"].as_str() {
                Some(name) => format!("{} `{name}` (apiVersion {})", kind, text(&answer["apiVersion"])),
                None => format!("a JSON object of kind {kind} without a name"),
            }
        }
        _ => "a JSON value that is not an object".to_string(),
    }
}

/// What applying did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Changed,
    Unchanged,
    Pruned,
}

impl Change {
    pub fn word(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
            Change::Pruned => "pruned",
        }
    }
}

/// 201 means created; otherwise the object changed unless the result equals what was live
/// (compared without bookkeeping, so a no-op apply counts as unchanged even in dry-run, where
/// the server does not say).
pub fn classify(http_status: u16, before: Option<&Value>, after: &Value) -> Change {
    match before {
        _ if http_status == 201 => Change::Created,
        None => Change::Changed,
        Some(before) if normalize(before) == normalize(after) => Change::Unchanged,
        Some(_) => Change::Changed,
    }
}

/// `created 3 (Deployment 1, Service 2), changed 1 (ConfigMap 1), …`: counts per change and kind.
pub fn summary(changes: &[(String, Change)], dry_run: bool) -> String {
    let mut counts: BTreeMap<Change, BTreeMap<&str, usize>> = BTreeMap::new();
    for (kind, change) in changes {
        *counts.entry(*change).or_default().entry(kind.as_str()).or_default() += 1;
    }
    let parts: Vec<String> = [Change::Created, Change::Changed, Change::Unchanged, Change::Pruned]
        .iter()
        .map(|change| {
            let kinds = counts.get(change).cloned().unwrap_or_default();
            let total: usize = kinds.values().sum();
            if total == 0 {
                return format!("{} 0", change.word());
            }
            let per: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            format!("{} {total} ({})", change.word(), per.join(", "))
        })
        .collect();
    let suffix = if dry_run { " (dry run: nothing was changed)" } else { "" };
    format!("{}{suffix}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_put_namespaces_first_and_workloads_last() {
        let order = ["Deployment", "Service", "Secret", "Namespace", "PersistentVolumeClaim", "ConfigMap"];
        let mut kinds: Vec<_> = order.iter().map(|k| (Step::of(k), *k)).collect();
        kinds.sort();
        let sorted: Vec<_> = kinds.iter().map(|(_, k)| *k).collect();
        assert_eq!(sorted, ["Namespace", "ConfigMap", "PersistentVolumeClaim", "Secret", "Service", "Deployment"]);
    }

    #[test]
    fn parent_names_are_valid_for_every_project_name() {
        assert_eq!(parent_name("shop"), "kompile-applyset-shop");
        for project in ["my_app", &"p".repeat(200), "app-"] {
            let name = parent_name(project);
            // A DNS-1123 subdomain as Kubernetes checks it: no limit per dot-separated part.
            let valid = name.len() <= 253
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.ends_with('-');
            assert!(valid, "{name}");
        }
        assert_ne!(parent_name("my_app"), parent_name("my-app"), "projects stay apart");
    }

    #[test]
    fn applyset_id_matches_the_kep_formula() {
        // sha256("kompile-applyset-shop.default.ConfigMap.") computed independently with
        // `printf %s … | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d =`.
        let id = applyset_id("kompile-applyset-shop", "default", "ConfigMap", "");
        assert_eq!(id, "applyset-D-FF8RG7eve8_e5gMI2C5Piiqww54l4CFwN13jdrdhE-v1");
        assert_ne!(id, applyset_id("kompile-applyset-shop", "prod", "ConfigMap", ""));
    }

    #[test]
    fn group_kinds_round_trip() {
        assert_eq!(group_kind("apps", "Deployment"), "Deployment.apps");
        assert_eq!(group_kind("", "Service"), "Service");
        assert_eq!(split_group_kind("Deployment.apps"), ("apps", "Deployment"));
        assert_eq!(split_group_kind("Service"), ("", "Service"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
    }

    #[test]
    fn parent_records_sorted_kinds_and_other_namespaces() {
        let set = ApplySet::new("shop", "default");
        let kinds = BTreeSet::from(["Service".to_string(), "Deployment.apps".to_string()]);
        let namespaces = BTreeSet::from(["default".to_string(), "extra".to_string()]);
        let parent = set.parent(&kinds, &namespaces);
        let annotations = &parent.body["metadata"]["annotations"];
        assert_eq!(annotations[CONTAINS_GROUP_KINDS], "Deployment.apps,Service");
        assert_eq!(annotations[ADDITIONAL_NAMESPACES], "extra");
        assert_eq!(parent.body["metadata"]["labels"][APPLYSET_ID], set.id.as_str());
        let (read_kinds, read_namespaces) = recorded(&parent.body, "default");
        assert_eq!(read_kinds, kinds);
        assert_eq!(read_namespaces, namespaces);
    }

    fn live(kind: &str, name: &str, id: &str) -> Live {
        let body = json!({"kind": kind, "metadata": {"name": name, "labels": {PART_OF: id}}});
        Live { key: Key { group_kind: kind.into(), namespace: None, name: name.into() }, kind: kind.into(), body }
    }

    #[test]
    fn prune_deletes_only_own_members_that_are_gone_and_keeps_volumes() {
        let objects = [
            live("Deployment", "kept", "mine"),
            live("Deployment", "gone", "mine"),
            live("Deployment", "foreign", "theirs"),
            live("PersistentVolumeClaim", "data", "mine"),
        ];
        let desired = BTreeSet::from([objects[0].key.clone()]);
        let p = prune(&objects, &desired, "mine", false);
        let names: Vec<_> = p.delete.iter().map(|l| l.key.name.as_str()).collect();
        assert_eq!(names, ["gone"]);
        assert_eq!(p.kept_volumes.len(), 1);
        let p = prune(&objects, &desired, "mine", true);
        assert_eq!(p.delete.len(), 2);
    }

    #[test]
    fn classify_uses_status_and_content() {
        let before = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "v"}});
        let same = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "v"}});
        let other = json!({"metadata": {"name": "a", "resourceVersion": "2"}, "data": {"k": "w"}});
        assert_eq!(classify(201, None, &same), Change::Created);
        assert_eq!(classify(200, None, &same), Change::Changed);
        assert_eq!(classify(200, Some(&before), &same), Change::Unchanged);
        assert_eq!(classify(200, Some(&before), &other), Change::Changed);
    }

    #[test]
    fn answers_must_be_the_object_sent() {
        let sent = manifest(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}),
        );
        assert_eq!(not_the_object(&sent, &sent.body), None);
        assert!(not_the_object(&sent, &Value::Null).is_some_and(|a| a.contains("HTML")));
        assert!(not_the_object(&sent, &json!({})).is_some_and(|a| a.contains("empty JSON object")));
        let elsewhere =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "other"}});
        assert!(not_the_object(&sent, &elsewhere).is_some());
        let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}});
        assert_eq!(not_the_object(&sent, &other).as_deref(), Some("ConfigMap `web` (apiVersion v1)"));
        let success = json!({"kind": "Status", "apiVersion": "v1", "status": "Success"});
        assert_eq!(not_deleted("Deployment", "web", &success), None);
        assert_eq!(not_deleted("Deployment", "web", &elsewhere), None, "the object held by finalizers");
        assert!(not_deleted("Deployment", "web", &json!({})).is_some());
        assert!(not_deleted("Deployment", "web", &json!({"kind": "Status", "status": "Failure"})).is_some());
    }

    #[test]
    fn summary_counts_per_kind() {
        let changes = vec![
            ("Service".to_string(), Change::Created),
            ("Deployment".to_string(), Change::Created),
            ("Deployment".to_string(), Change::Unchanged),
        ];
        assert_eq!(
            summary(&changes, false),
            "created 2 (Deployment 1, Service 1), changed 0, unchanged 1 (Deployment 1), pruned 0"
        );
    }

    fn workload(kind: &str, name: &str, depends_on: &str) -> Manifest {
        let api = if kind == "Job" || kind == "CronJob" { "batch/v1" } else { "apps/v1" };
        manifest(json!({"apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": "shop", "annotations": {DEPENDS_ON_ANNOTATION: depends_on}}}))
    }

    fn names<'a>(list: &[&'a Manifest]) -> Vec<&'a str> {
        list.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn waves_follow_depends_on_and_wait_only_for_what_is_needed() {
        let all = [
            workload("Deployment", "web", "db=healthy,migrate=completed,seed=started"),
            workload("Job", "migrate", "db=healthy"),
            workload("StatefulSet", "db", ""),
            workload("Job", "seed", ""),
            workload("CronJob", "backup", "db=started,missing=healthy"),
            workload("Deployment", "alone", ""),
        ];
        let refs: Vec<&Manifest> = all.iter().collect();
        let waves = waves(&refs);
        let got: Vec<(Vec<&str>, Vec<&str>)> = waves.iter().map(|w| (names(&w.needs), names(&w.apply))).collect();
        assert_eq!(
            got,
            [
                (vec![], vec!["db", "seed", "alone"]),
                (vec!["db"], vec!["migrate", "backup"]),
                (vec!["migrate", "db"], vec!["web"]),
            ]
            .map(|(n, a)| (n.to_vec(), a.to_vec()))
            .to_vec()
        );
        let sorted_needs = {
            let mut n = names(&waves[2].needs);
            n.sort();
            n
        };
        assert_eq!(sorted_needs, ["db", "migrate"], "a started Job is applied first but not waited for");
    }

    #[test]
    fn a_cycle_is_broken_not_followed() {
        let all = [workload("Deployment", "a", "b=started"), workload("Deployment", "b", "a=started")];
        let refs: Vec<&Manifest> = all.iter().collect();
        let waves = waves(&refs);
        assert_eq!(waves.iter().map(|w| w.apply.len()).sum::<usize>(), 2);
    }

    #[test]
    fn members_carry_the_part_of_label() {
        let m = member(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}), "id1");
        assert_eq!(m.body["metadata"]["labels"][PART_OF], "id1");
        assert_eq!((m.group.as_str(), m.version.as_str(), m.kind.as_str()), ("apps", "v1", "Deployment"));
    }
}
