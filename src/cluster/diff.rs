//! `kompile diff`: each object as it is live next to what a server-side dry-run apply makes
//! of it, without the fields that change on every write, and Secret values masked.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};

use super::applyset::Current;
use super::client::Cluster;
use super::errors::{Failure, diagnose};
use super::normalize::normalize;
use super::plan::{self, Key, Manifest};
use super::{Settings, apply_one, get, not_served, owner, restart, subject};
use crate::diag::Diagnostic;

/// The annotation client-side `kubectl apply` leaves: the whole object as last applied, so on a
/// Secret it holds the values too.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces Secret values with `***`, marking which side changed the way `kubectl diff` does,
/// so a changed secret shows as changed without showing it. The last-applied annotation is
/// masked whole, as one value.
pub fn mask_secrets(live: &mut Option<Value>, merged: &mut Option<Value>) {
    mask_values(live, merged, "/metadata/annotations", Some(LAST_APPLIED));
    for pointer in ["/data", "/stringData"] {
        mask_values(live, merged, pointer, None);
    }
}

/// Masks the values of the map at JSON `pointer` on both sides (only the entry `only`, when
/// given).
fn mask_values(live: &mut Option<Value>, merged: &mut Option<Value>, pointer: &str, only: Option<&str>) {
    let map_at = |side: &Option<Value>| {
        side.as_ref().and_then(|v| v.pointer(pointer)).and_then(Value::as_object).cloned().unwrap_or_default()
    };
    let (before, after) = (map_at(live), map_at(merged));
    let mask = |side: &mut Option<Value>,
                own: &serde_json::Map<String, Value>,
                other: &serde_json::Map<String, Value>,
                word: &str| {
        let Some(map) = side.as_mut().and_then(|v| v.pointer_mut(pointer)).and_then(Value::as_object_mut) else {
            return;
        };
        for (key, value) in map.iter_mut().filter(|(key, _)| only.is_none_or(|o| o == key.as_str())) {
            let same = other.get(key).is_none_or(|o| Some(o) == own.get(key));
            *value = json!(if same { "***".to_string() } else { format!("*** ({word})") });
        }
    };
    mask(live, &before, &after, "before");
    mask(merged, &after, &before, "after");
}

/// What applying would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Created,
    Changed,
    Deleted,
    Unchanged,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Created => "created",
            Kind::Changed => "changed",
            Kind::Deleted => "deleted",
            Kind::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub change: Kind,
    /// Fields another manager owns: applying without `--force-conflicts` would fail on them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Why the merged side is not what the server would make of it, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub live: Option<Value>,
    pub merged: Option<Value>,
    /// The live object's `resourceVersion`, which normalizing takes out of `live`.
    #[serde(skip)]
    pub version: Option<String>,
}

impl Entry {
    fn new(manifest: &Manifest, live: Option<Value>, merged: Option<Value>, show_secrets: bool) -> Entry {
        let (mut live, mut merged) = (live.as_ref().map(normalize), merged.as_ref().map(normalize));
        if manifest.kind == "Secret" && manifest.group.is_empty() && !show_secrets {
            mask_secrets(&mut live, &mut merged);
        }
        let change = match (&live, &merged) {
            (None, Some(_)) => Kind::Created,
            (Some(_), None) => Kind::Deleted,
            (a, b) if a == b => Kind::Unchanged,
            _ => Kind::Changed,
        };
        let api_version = match manifest.group.as_str() {
            "" => manifest.version.clone(),
            group => format!("{group}/{}", manifest.version),
        };
        Entry {
            api_version,
            kind: manifest.kind.clone(),
            namespace: manifest.namespace.clone(),
            name: manifest.name.clone(),
            change,
            conflicts: Vec::new(),
            note: None,
            live,
            merged,
            version: None,
        }
    }

    /// `apps.v1.Deployment.shop.web`: kubectl's file name for the object.
    pub fn file_name(&self) -> String {
        let api = self.api_version.replace('/', ".");
        let ns = self.namespace.as_deref().unwrap_or("");
        format!("{api}.{}.{ns}.{}", self.kind, self.name)
    }
}

/// The unified diff of one entry, with a header naming it; colour with ANSI when asked.
pub fn render(entry: &Entry, color: bool) -> String {
    let yaml = |v: &Option<Value>| v.as_ref().map(crate::render::value_yaml).unwrap_or_default();
    let (before, after) = (yaml(&entry.live), yaml(&entry.merged));
    let what = plan::describe(&entry.kind, entry.namespace.as_deref(), &entry.name);
    let mut header = format!("{} {what} ({})", entry.change.word(), entry.api_version);
    if !entry.conflicts.is_empty() {
        header.push_str(&format!(
            "\n  conflict: another manager owns {}; apply needs --force-conflicts",
            entry.conflicts.join(", ")
        ));
    }
    if let Some(note) = &entry.note {
        header.push_str(&format!("\n  note: {note}"));
    }
    let mut out = paint(color, "1", &format!("=== {header}"));
    out.push('\n');
    let diff = TextDiff::from_lines(&before, &after);
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&paint(color, "36", &hunk.header().to_string()));
        out.push('\n');
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ("-", "31"),
                ChangeTag::Insert => ("+", "32"),
                ChangeTag::Equal => (" ", ""),
            };
            let line = format!("{sign}{}", change.value().trim_end_matches('\n'));
            out.push_str(&if code.is_empty() { line } else { paint(color, code, &line) });
            out.push('\n');
        }
    }
    out
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

/// `1 created, 2 changed, 0 deleted, 5 unchanged`.
pub fn count(entries: &[Entry]) -> String {
    let n = |k: Kind| entries.iter().filter(|e| e.change == k).count();
    format!(
        "{} created, {} changed, {} deleted, {} unchanged",
        n(Kind::Created),
        n(Kind::Changed),
        n(Kind::Deleted),
        n(Kind::Unchanged)
    )
}

/// Every object's entry, in the manifests' order, then the objects prune would delete.
pub async fn collect(
    cluster: &Cluster,
    manifests: &[Manifest],
    current: Option<&Current>,
    set_id: &str,
    settings: &Settings,
    prune_volumes: bool,
    show_secrets: bool,
) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    // Discover every kind up front, so concurrent requests do not each ask for the same group.
    let mut entries = namespaces(cluster, manifests).await?;
    for manifest in manifests {
        let _ = cluster.discover(&manifest.group_kind()).await;
    }
    // Workloads last: `apply` stamps them with the versions of the Secrets applied before
    // them (`restart`), and so does the preview.
    let (workloads, others): (Vec<&Manifest>, Vec<&Manifest>) =
        manifests.iter().partition(|m| plan::Step::of(&m.kind) == plan::Step::Workloads);
    let mut errors = Vec::new();
    for result in entries_of(cluster, &others, set_id, settings, show_secrets).await {
        match result {
            Ok(entry) => entries.push(entry),
            Err(d) => errors.push(d),
        }
    }
    let versions = secret_versions(&entries);
    let stamped: Vec<Manifest> =
        workloads.iter().map(|m| restart::stamped(m, &versions).unwrap_or_else(|| (*m).clone())).collect();
    for result in entries_of(cluster, &stamped.iter().collect::<Vec<_>>(), set_id, settings, show_secrets).await {
        match result {
            Ok(entry) => entries.push(entry),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(current) = current {
        let desired: BTreeSet<Key> = manifests.iter().map(Manifest::key).collect();
        let pruning = plan::prune(&current.live, &desired, set_id, prune_volumes);
        for live in pruning.delete {
            let manifest = plan::manifest(live.body.clone());
            entries.push(Entry::new(&manifest, Some(live.body.clone()), None, show_secrets));
        }
    }
    Ok(entries)
}

/// What applying each of `manifests` would do, in their order.
async fn entries_of(
    cluster: &Cluster,
    manifests: &[&Manifest],
    set_id: &str,
    settings: &Settings,
    show_secrets: bool,
) -> Vec<Result<Entry, Diagnostic>> {
    futures::stream::iter(
        manifests.iter().map(|m| async move { entry(cluster, m, set_id, settings, show_secrets).await }),
    )
    .buffered(settings.concurrency)
    .collect()
    .await
}

/// The versions `apply` would stamp workloads with: a Secret it leaves as it is keeps its
/// `resourceVersion`; one it creates or changes gets a new one, not known yet.
fn secret_versions(entries: &[Entry]) -> restart::Versions {
    let secrets = entries.iter().filter(|e| e.kind == "Secret" && e.api_version == "v1");
    let version = |e: &Entry| match e.change {
        Kind::Unchanged => e.version.clone(),
        _ => Some(restart::PENDING.to_string()),
    };
    secrets.filter_map(|e| Some(((e.namespace.clone(), e.name.clone()), version(e)?))).collect()
}

/// Namespaces that `apply` would create, as created entries. A namespace that cannot be read
/// (no cluster-wide rights) is assumed to exist, as `apply` assumes.
async fn namespaces(cluster: &Cluster, manifests: &[Manifest]) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    let names: BTreeSet<&str> = manifests.iter().filter_map(|m| m.namespace.as_deref()).collect();
    let mut entries = Vec::new();
    for name in names {
        let namespace = plan::namespace(name);
        let fail = |f: &Failure| vec![diagnose(f, &subject("get", &namespace), &cluster.target)];
        let found = match cluster.discover("Namespace").await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(fail(&not_served(&namespace))),
            Err(f) => return Err(fail(&f)),
        };
        match get(cluster, &found, &namespace).await {
            Ok(None) => entries.push(Entry::new(&namespace, None, Some(namespace.body.clone()), false)),
            Ok(Some(_)) => {}
            Err(f) if f.is_forbidden() => {}
            Err(f) => return Err(fail(&f)),
        }
    }
    Ok(entries)
}

async fn entry(
    cluster: &Cluster,
    manifest: &Manifest,
    set_id: &str,
    settings: &Settings,
    show_secrets: bool,
) -> Result<Entry, Diagnostic> {
    let fail = |f: &Failure, verb| diagnose(f, &subject(verb, manifest), &cluster.target);
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(fail(&not_served(manifest), "get")),
        Err(f) => return Err(fail(&f, "get")),
    };
    let live = get(cluster, &found, manifest).await.map_err(|f| fail(&f, "get"))?;
    // The same refusal `apply` makes, so a diff never previews a takeover apply would refuse.
    if !settings.adopt
        && let Some(owner) = live.as_ref().and_then(|live| owner::foreign(live, set_id))
    {
        return Err(owner::refusal(manifest, &owner));
    }
    let dry = Settings { dry_run: true, ..settings.clone() };
    let (merged, conflicts) = match apply_one(cluster, &found, manifest, &dry, false).await {
        Ok((_, merged)) => (merged, Vec::new()),
        // The server cannot dry-run objects into a namespace that does not exist yet (apply
        // creates it first); show the object as compiled and say so.
        Err(Failure::Status(s)) if s.is_missing_namespace() => {
            let mut entry = Entry::new(manifest, None, Some(manifest.body.clone()), show_secrets);
            let namespace = manifest.namespace.as_deref().unwrap_or_default();
            entry.note = Some(format!(
                "namespace `{namespace}` does not exist yet; shown as compiled, not checked by the server"
            ));
            return Ok(entry);
        }
        // Show what apply would do once forced, and say that it needs forcing.
        Err(Failure::Status(s)) if s.code == 409 && !s.causes.is_empty() => {
            let fields = s.causes.iter().map(|(field, _)| field.clone()).collect();
            let (_, merged) = apply_one(cluster, &found, manifest, &dry, true).await.map_err(|f| fail(&f, "patch"))?;
            (merged, fields)
        }
        Err(f) => return Err(fail(&f, "patch")),
    };
    let version = live.as_ref().and_then(|l| l["metadata"]["resourceVersion"].as_str()).map(String::from);
    let mut entry = Entry::new(manifest, live, Some(merged), show_secrets);
    entry.conflicts = conflicts;
    entry.version = version;
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_applied_annotation_of_a_secret_is_masked() {
        let annotations = |value: &str| json!({"metadata": {"annotations": {LAST_APPLIED: value, "keep": "me"}}});
        let mut live = Some(annotations(r#"{"data":{"token":"aHVudGVyMg=="}}"#));
        let mut merged = Some(annotations(r#"{"data":{"token":"bmV3"}}"#));
        mask_secrets(&mut live, &mut merged);
        assert_eq!(live, Some(json!({"metadata": {"annotations": {LAST_APPLIED: "*** (before)", "keep": "me"}}})));
        assert_eq!(merged, Some(json!({"metadata": {"annotations": {LAST_APPLIED: "*** (after)", "keep": "me"}}})));
    }

    #[test]
    fn secrets_are_masked_and_changes_marked() {
        let mut live = Some(json!({"data": {"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}}));
        let mut merged = Some(json!({"data": {"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}}));
        mask_secrets(&mut live, &mut merged);
        assert_eq!(live, Some(json!({"data": {"same": "***", "changed": "*** (before)", "gone": "***"}})));
        assert_eq!(merged, Some(json!({"data": {"same": "***", "changed": "*** (after)", "new": "***"}})));
    }

    fn manifest(kind: &str) -> Manifest {
        plan::manifest(json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "a", "namespace": "ns"}}))
    }

    #[test]
    fn entries_classify_and_render_a_unified_diff() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "old"}});
        let merged = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "new"}});
        let e = Entry::new(&manifest("ConfigMap"), Some(live.clone()), Some(merged), false);
        assert_eq!(e.change, Kind::Changed);
        let text = render(&e, false);
        assert!(text.starts_with("=== changed ConfigMap ns/a (v1)\n@@ "), "{text}");
        assert!(text.contains("\n-  k: old\n+  k: new\n"), "{text}");
        assert_eq!(
            Entry::new(&manifest("ConfigMap"), Some(live.clone()), Some(live.clone()), false).change,
            Kind::Unchanged
        );
        assert_eq!(Entry::new(&manifest("ConfigMap"), None, Some(live.clone()), false).change, Kind::Created);
        let deleted = Entry::new(&manifest("ConfigMap"), Some(live), None, false);
        assert_eq!(deleted.change, Kind::Deleted);
        assert_eq!(deleted.file_name(), "v1.ConfigMap.ns.a");
        assert_eq!(count(&[e, deleted]), "0 created, 1 changed, 1 deleted, 0 unchanged");
    }
}
