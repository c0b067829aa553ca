//! Reading and writing the project's ApplySet: its parent object and its live members.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde_json::Value;

use super::client::Cluster;
use super::errors::{Failure, Subject, diagnose};
use super::plan::{self, ApplySet, Key, Live, Manifest};
use super::{Settings, apply_one, get};
use crate::diag::Diagnostic;

/// What the cluster holds for the set before this run.
#[derive(Debug, Default)]
pub struct Current {
    pub group_kinds: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
    pub live: Vec<Live>,
}

/// Reads the parent and lists every member, for the group-kinds and namespaces the parent
/// recorded and those of `desired`.
pub async fn read(
    cluster: &Cluster,
    set: &ApplySet,
    desired: &[Manifest],
    settings: &Settings,
) -> Result<Current, Diagnostic> {
    let parent = set.parent(&BTreeSet::new(), &BTreeSet::new());
    let found = discover(cluster, &parent).await?;
    let live_parent = get(cluster, &found, &parent)
        .await
        .map_err(|f| diagnose(&f, &super::subject("get", &parent), &cluster.target))?;
    let (mut group_kinds, mut namespaces) = match &live_parent {
        Some(body) => plan::recorded(body, &set.namespace),
        None => (BTreeSet::new(), BTreeSet::from([set.namespace.clone()])),
    };
    group_kinds.extend(desired.iter().map(Manifest::group_kind));
    namespaces.extend(desired.iter().filter_map(|m| m.namespace.clone()));
    let live = members(cluster, set, &group_kinds, &namespaces, settings.concurrency).await?;
    Ok(Current { group_kinds, namespaces, live })
}

/// What a project that was applied holds: the parent as read, and every member listed for the
/// group-kinds and namespaces it recorded. Without a parent the project was never applied to
/// this namespace (or `down` finished), so there is nothing to look at: K419.
/// `status` and `down` read only this, never the compose files' objects: what is in the
/// cluster is what the parent and the `part-of` labels say.
pub async fn existing(cluster: &Cluster, set: &ApplySet, concurrency: usize) -> Result<Applied, Diagnostic> {
    let parent = set.parent(&BTreeSet::new(), &BTreeSet::new());
    let found = discover(cluster, &parent).await?;
    let live_parent = get(cluster, &found, &parent)
        .await
        .map_err(|f| diagnose(&f, &super::subject("get", &parent), &cluster.target))?;
    let Some(body) = live_parent else { return Err(not_applied(set, &cluster.target)) };
    // A ConfigMap of that name that is not the set's parent (another tool's) is not ours to
    // read members from, nor to delete.
    if body["metadata"]["labels"][plan::APPLYSET_ID].as_str() != Some(set.id.as_str()) {
        return Err(not_applied(set, &cluster.target));
    }
    let (group_kinds, namespaces) = plan::recorded(&body, &set.namespace);
    let live = members(cluster, set, &group_kinds, &namespaces, concurrency).await?;
    Ok(Applied { parent: body, current: Current { group_kinds, namespaces, live } })
}

/// The diagnostic for a project [`existing`] did not find.
fn not_applied(set: &ApplySet, target: &super::target::Target) -> Diagnostic {
    Diagnostic::new(
        crate::diag::Code::NotApplied,
        format!(
            "this project was never applied to namespace `{}` (context `{}`): there is no ApplySet parent ConfigMap `{}` there",
            set.namespace, target.context, set.name
        ),
    )
    .help(
        "apply it first (`kompile apply`), or name where it was applied: `-n NAMESPACE`, `--context NAME`; \
         the project (and so the parent's name) comes from the compose files' `name:` or `-p`",
    )
}

/// A project found applied: its parent object and its members.
#[derive(Debug)]
pub struct Applied {
    pub parent: Value,
    pub current: Current,
}

async fn discover(cluster: &Cluster, manifest: &Manifest) -> Result<super::client::Found, Diagnostic> {
    match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(diagnose(&super::not_served(manifest), &super::subject("get", manifest), &cluster.target)),
        Err(failure) => Err(diagnose(&failure, &super::subject("get", manifest), &cluster.target)),
    }
}

/// Every object labelled as a member of `set`, listed per group-kind and namespace. Kinds the
/// server no longer serves are skipped: nothing of them can be left.
async fn members(
    cluster: &Cluster,
    set: &ApplySet,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    concurrency: usize,
) -> Result<Vec<Live>, Diagnostic> {
    let mut queries = Vec::new();
    for group_kind in group_kinds {
        let subject = Subject { verb: "list", kind: group_kind.clone(), ..Subject::default() };
        let found = match cluster.discover(group_kind).await {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(failure) => return Err(diagnose(&failure, &subject, &cluster.target)),
        };
        if found.namespaced {
            queries.extend(namespaces.iter().map(|ns| (group_kind.clone(), found.clone(), Some(ns.clone()))));
        } else {
            queries.push((group_kind.clone(), found, None));
        }
    }
    let selector = format!("{}={}", plan::PART_OF, set.id);
    let results: Vec<_> = futures::stream::iter(queries.iter().map(|(group_kind, found, namespace)| {
        let selector = &selector;
        async move {
            let items = super::list(cluster, found, namespace.as_deref(), selector).await;
            ((group_kind, found, namespace), items)
        }
    }))
    .buffer_unordered(concurrency)
    .collect()
    .await;
    let mut live = Vec::new();
    for ((group_kind, found, namespace), items) in results {
        let items = items.map_err(|failure| {
            let subject =
                Subject { verb: "list", kind: group_kind.clone(), namespace: namespace.clone(), ..Subject::default() };
            diagnose(&failure, &subject, &cluster.target)
        })?;
        live.extend(items.into_iter().map(|body| as_live(group_kind, &found.resource.api_version, body)));
    }
    live.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(live)
}

/// A listed item as a member. List items come without `apiVersion` and `kind` (the list
/// carries them), so they are put back to compare items with what an apply returns.
fn as_live(group_kind: &str, api_version: &str, mut body: Value) -> Live {
    let (_, kind) = plan::split_group_kind(group_kind);
    if let Some(map) = body.as_object_mut() {
        map.insert("apiVersion".into(), Value::from(api_version));
        map.insert("kind".into(), Value::from(kind));
    }
    let key = Key {
        group_kind: group_kind.to_string(),
        namespace: body["metadata"]["namespace"].as_str().map(str::to_string),
        name: body["metadata"]["name"].as_str().unwrap_or_default().to_string(),
    };
    Live { key, kind: kind.to_string(), body }
}

/// Writes the parent recording `group_kinds` and `namespaces`. The parent is kompile's own
/// bookkeeping, so it is always applied with force.
pub async fn write_parent(
    cluster: &Cluster,
    set: &ApplySet,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    settings: &Settings,
) -> Result<(), Diagnostic> {
    let parent = set.parent(group_kinds, namespaces);
    let found = discover(cluster, &parent).await?;
    match apply_one(cluster, &found, &parent, settings, true).await {
        Ok(_) => Ok(()),
        // A dry run does not create the namespace the parent lives in.
        Err(Failure::Status(s)) if settings.dry_run && s.is_missing_namespace() => Ok(()),
        Err(failure) => Err(diagnose(&failure, &super::subject("patch", &parent), &cluster.target)),
    }
}
