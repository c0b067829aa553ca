//! `kompile down`: deletes the members of the project's ApplySet in the reverse of the order
//! `apply` creates them, waiting for each batch to be gone before the next, then the parent.
//!
//! Order ([`order`]): workloads first, by `depends_on` waves reversed (what others depend on
//! goes last, so nothing loses a dependency while it still runs), then Services and Ingresses,
//! then configuration (ConfigMaps, Secrets, volume claims, RBAC, NetworkPolicies): pods that
//! still run would otherwise lose what they mount, and a claim a pod still uses is held by the
//! `kubernetes.io/pvc-protection` finalizer. Volume claims only with `--volumes`, and with
//! them the claims a StatefulSet made from its claim templates, which are no members.
//!
//! Each member is deleted as prune deletes it ([`apply::prune_one`]): read again, kept unless
//! still labelled as this set's, deleted with the uid and resourceVersion of that read.

// The label emit puts on every object with the compose project's name.
use crate::emit::PART_OF as PROJECT_LABEL;
use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::Value;

use super::apply::{self, Pruned};
use super::applyset::Applied;
use super::client::Cluster;
use super::errors::{Failure, Subject, diagnose};
use super::plan::{self, Key, Live, Manifest, PART_OF, Step};
use super::wait::{self, Waiting};
use super::{Doomed, delete, list};
use crate::diag::{Code, Diagnostic};

/// What `down` deletes, in order, and what it keeps.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// Deleted batch by batch: each is gone before the next is deleted.
    pub batches: Vec<Vec<&'a Live>>,
    /// Member volume claims kept because `--volumes` was not given.
    pub kept_volumes: Vec<&'a Live>,
    /// The claims StatefulSets made from their claim templates ([`find_claims`]): no
    /// members, deleted last with `--volumes`, else kept.
    pub claims: Vec<Live>,
    pub volumes: bool,
}

impl Plan<'_> {
    /// Everything that goes, in order (the parent aside).
    pub fn doomed(&self) -> Vec<&Live> {
        let claims = self.claims.iter().filter(|_| self.volumes);
        self.batches.iter().flatten().copied().chain(claims).collect()
    }
}

/// The members of `set_id` among `live` (exactly: the `part-of` label must be the set's id,
/// whatever the server's selector returned), in deletion order; see the module comment.
pub fn order<'a>(live: &'a [Live], set_id: &str, volumes: bool) -> Plan<'a> {
    let mut plan = Plan { volumes, ..Plan::default() };
    let members: Vec<&Live> = live
        .iter()
        .filter(|l| l.body["metadata"]["labels"][PART_OF].as_str() == Some(set_id) && l.kind != "Namespace")
        .collect();
    let workloads: Vec<&Live> = members.iter().copied().filter(|l| Step::of(&l.kind) == Step::Workloads).collect();
    plan.batches.extend(reversed_waves(&workloads));
    let services: Vec<&Live> = members.iter().copied().filter(|l| Step::of(&l.kind) == Step::Services).collect();
    let mut config = Vec::new();
    for member in members.iter().copied().filter(|l| Step::of(&l.kind) == Step::Config) {
        if member.kind == "PersistentVolumeClaim" && !volumes {
            plan.kept_volumes.push(member);
        } else {
            config.push(member);
        }
    }
    plan.batches.extend([services, config].into_iter().filter(|b| !b.is_empty()));
    plan
}

/// The workloads by [`plan::waves`] (the `kompile.dev/depends-on` annotations), last wave
/// first.
fn reversed_waves<'a>(workloads: &[&'a Live]) -> Vec<Vec<&'a Live>> {
    let manifests: Vec<Manifest> = workloads.iter().map(|l| plan::manifest(l.body.clone())).collect();
    let refs: Vec<&Manifest> = manifests.iter().collect();
    let by_key: BTreeMap<Key, &Live> = workloads.iter().map(|l| (l.key.clone(), *l)).collect();
    let mut batches: Vec<Vec<&Live>> = plan::waves(&refs)
        .into_iter()
        .map(|wave| wave.apply.iter().filter_map(|m| by_key.get(&m.key()).copied()).collect())
        .collect();
    batches.reverse();
    batches
}

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const INSTANCE: &str = "app.kubernetes.io/instance";
const NAME: &str = "app.kubernetes.io/name";

/// Whether `claim` is one a StatefulSet of compose project `project` made from a kompile
/// claim template: labelled by kompile for the project (template labels) and with the set's
/// selector labels (instance and name), named `<template>-<set>-<ordinal>` after that set, and
/// no member of any ApplySet. Found by these labels, such claims are found even once their
/// StatefulSet is gone (a `down` without `--volumes` deleted it).
pub fn template_claim(claim: &Value, project: &str) -> bool {
    let labels = &claim["metadata"]["labels"];
    let label = |key: &str| labels[key].as_str();
    let ours = label(MANAGED_BY) == Some("kompile")
        && label(PROJECT_LABEL) == Some(project)
        && label(INSTANCE) == Some(project)
        && labels.get(PART_OF).is_none();
    let Some(set) = label(NAME) else { return false };
    let name = claim["metadata"]["name"].as_str().unwrap_or_default();
    let named = name.rsplit_once('-').is_some_and(|(rest, ordinal)| {
        !ordinal.is_empty()
            && ordinal.bytes().all(|b| b.is_ascii_digit())
            && rest.strip_suffix(set).is_some_and(|template| template.len() > 1 && template.ends_with('-'))
    });
    ours && named
}

/// Finds the StatefulSets' claims of compose project `project` in `namespaces` (by the labels
/// of [`template_claim`]) into `plan.claims`.
pub async fn find_claims(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    project: &str,
    plan: &mut Plan<'_>,
) -> Result<(), Diagnostic> {
    let subject = Subject { verb: "list", kind: "PersistentVolumeClaim".into(), ..Subject::default() };
    let found = match cluster.discover("PersistentVolumeClaim").await {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(()),
        Err(f) => return Err(diagnose(&f, &subject, &cluster.target)),
    };
    let selector = format!("{MANAGED_BY}=kompile,{PROJECT_LABEL}={project},{INSTANCE}={project},!{PART_OF}");
    for namespace in namespaces {
        let items = list(cluster, &found, Some(namespace), &selector).await.map_err(|f| {
            diagnose(&f, &Subject { namespace: Some(namespace.clone()), ..subject.clone() }, &cluster.target)
        })?;
        let claims = items.into_iter().filter(|c| template_claim(c, project));
        plan.claims.extend(claims.map(|body| claim(&found.resource.api_version, body)));
    }
    plan.claims.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(())
}

/// A listed claim as a [`Live`] object (list items come without kind and apiVersion).
fn claim(api_version: &str, mut body: Value) -> Live {
    body["apiVersion"] = Value::from(api_version);
    body["kind"] = Value::from("PersistentVolumeClaim");
    let manifest = plan::manifest(body);
    Live { key: manifest.key(), kind: manifest.kind, body: manifest.body }
}

/// What one run of `down` did.
#[derive(Debug, Default)]
pub struct Report {
    /// Kinds of the objects deleted (or, in a dry run, that would be).
    pub deleted: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// A delete failed or an object did not go: the run stopped there.
    pub failed: bool,
    /// Something of the set was left (kept volume claims, objects that changed hands), so the
    /// parent stays, for a later `down` to find it.
    pub kept: bool,
}

/// How `down` runs.
pub struct Options<'a> {
    pub dry_run: bool,
    pub concurrency: usize,
    /// Not used in a dry run: nothing goes, so nothing is waited for.
    pub waiting: &'a Waiting,
}

/// Deletes `plan`'s batches in order, then (with `--volumes`) the StatefulSets' claims, after
/// every workload is gone, then the parent when nothing of the set is left. Prints a line per
/// object through `print`.
pub async fn down(
    cluster: &Cluster,
    applied: &Applied,
    set_id: &str,
    plan: &Plan<'_>,
    options: &Options<'_>,
    print: &mut dyn FnMut(String),
) -> Report {
    // Kept member claims keep the parent too: a later `down --volumes` must find them.
    let mut report = Report { kept: !plan.kept_volumes.is_empty(), ..Report::default() };
    let mut kept: Vec<&Live> = plan.kept_volumes.clone();
    kept.extend(plan.claims.iter().filter(|_| !plan.volumes));
    if !kept.is_empty() {
        report.diagnostics.push(kept_volumes(&kept));
    }
    let claims: Vec<&Live> = plan.claims.iter().filter(|_| plan.volumes).collect();
    let batches = plan.batches.iter().map(|b| (b.clone(), true)).chain([(claims, false)]);
    for (batch, members) in batches.filter(|(b, _)| !b.is_empty()) {
        run_batch(cluster, set_id, &batch, members, options, &mut report, print).await;
        if report.failed {
            return report;
        }
    }
    if !report.kept {
        let parent = parent(&applied.parent);
        run_batch(cluster, set_id, &[&parent], false, options, &mut report, print).await;
    }
    report
}

/// The parent as a [`Live`] object, deleted like a claim: as it was read, never by label.
fn parent(body: &Value) -> Live {
    let manifest = plan::manifest(body.clone());
    Live { key: manifest.key(), kind: manifest.kind, body: manifest.body }
}

/// Deletes one batch concurrently (members as prune does, other objects as they were read),
/// waits until they are gone, and reports each in a stable order.
async fn run_batch(
    cluster: &Cluster,
    set_id: &str,
    batch: &[&Live],
    members: bool,
    options: &Options<'_>,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) {
    let dry_run = options.dry_run;
    let mut results: Vec<(&Live, Pruned)> = futures::stream::iter(batch.iter().map(|live| async move {
        let outcome = if members {
            apply::prune_one(cluster, live, set_id, dry_run).await
        } else {
            as_read(cluster, live, dry_run).await
        };
        (*live, outcome)
    }))
    .buffer_unordered(options.concurrency)
    .collect()
    .await;
    results.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let mut going = Vec::new();
    let mut reasons = Vec::new();
    for (live, outcome) in results {
        match outcome {
            Pruned::Deleted => going.push(live),
            Pruned::Kept(why) => reasons.push(format!("  {}: {why}", describe(live))),
            Pruned::Failed(f) => {
                report.diagnostics.push(diagnose(&f, &subject(live), &cluster.target));
                report.failed = true;
            }
        }
    }
    if !reasons.is_empty() {
        report.kept = true;
        report.diagnostics.push(changed_hands(&reasons));
    }
    if dry_run {
        for live in going {
            print(format!("{} would be deleted", describe(live)));
            report.deleted.push(live.kind.clone());
        }
        return;
    }
    let manifests: Vec<Manifest> = going.iter().map(|l| plan::manifest(l.body.clone())).collect();
    let refs: Vec<&Manifest> = manifests.iter().collect();
    let left = wait::gone(cluster, &refs, options.waiting).await;
    for (i, live) in going.iter().enumerate() {
        match left.iter().find(|(at, _)| *at == i) {
            Some((_, reason)) => {
                report.diagnostics.push(not_deleted(live, reason));
                report.failed = true;
            }
            None => {
                print(format!("{} deleted", describe(live)));
                report.deleted.push(live.kind.clone());
            }
        }
    }
}

/// Deletes an object that carries no `part-of` label (a claim a StatefulSet made, the parent)
/// as it was read: the uid and resourceVersion preconditions make the server refuse it (409)
/// when it was replaced or changed since.
async fn as_read(cluster: &Cluster, live: &Live, dry_run: bool) -> Pruned {
    let found = match cluster.discover(&live.key.group_kind).await {
        Ok(Some(found)) => found,
        Ok(None) => return Pruned::Deleted,
        Err(f) => return Pruned::Failed(f),
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let meta = &live.body["metadata"];
    let precondition = Some((text(&meta["uid"]), text(&meta["resourceVersion"])));
    let doomed =
        Doomed { kind: &live.kind, namespace: live.key.namespace.as_deref(), name: &live.key.name, precondition };
    match delete(cluster, &found, &doomed, dry_run).await {
        Ok(()) => Pruned::Deleted,
        Err(Failure::Status(s)) if s.code == 409 => {
            Pruned::Kept(format!("it changed since it was read ({})", s.message))
        }
        Err(f) => Pruned::Failed(f),
    }
}

fn describe(live: &Live) -> String {
    plan::describe(&live.kind, live.key.namespace.as_deref(), &live.key.name)
}

fn subject(live: &Live) -> Subject {
    Subject {
        verb: "delete",
        kind: live.kind.clone(),
        namespace: live.key.namespace.clone(),
        name: live.key.name.clone(),
        ..Subject::default()
    }
}

fn kept_volumes(kept: &[&Live]) -> Diagnostic {
    let names: Vec<&str> = kept.iter().map(|l| l.key.name.as_str()).collect();
    Diagnostic::new(
        Code::PruneSkipped,
        format!("kept {} volume claim{}: {}", names.len(), if names.len() == 1 { "" } else { "s" }, names.join(", ")),
    )
    .help(
        "volume claims hold data, so `down` keeps them (and the ApplySet parent, to find the project's \
         claims again); run `kompile down --volumes` to delete them and their data",
    )
}

fn changed_hands(reasons: &[String]) -> Diagnostic {
    Diagnostic::new(
        Code::PruneSkipped,
        format!("not deleted, because it changed since it was listed:\n{}", reasons.join("\n")),
    )
    .help("`down` deletes only objects still labelled as this project's, as they were read; the ApplySet parent is kept, so run `kompile down` again to look at them afresh")
}

fn not_deleted(live: &Live, reason: &str) -> Diagnostic {
    Diagnostic::new(Code::NotDeleted, format!("{} was deleted but is {reason}", describe(live))).help(
        "something holds it (a finalizer, or a controller that has not finished); \
         see `kubectl get -o yaml` for its `finalizers`, or run `kompile down` again with a longer `--timeout`; \
         what depends on it was not deleted yet",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(api_version: &str, kind: &str, name: &str, set: &str, extra: Value) -> Live {
        let mut body = json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": "shop", "labels": {PART_OF: set}}});
        plan_merge(&mut body, extra);
        let manifest = plan::manifest(body);
        Live { key: manifest.key(), kind: manifest.kind, body: manifest.body }
    }

    fn plan_merge(body: &mut Value, extra: Value) {
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "metadata" {
                    for (mk, mv) in v.as_object().into_iter().flatten() {
                        body["metadata"][mk] = mv.clone();
                    }
                } else {
                    body.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn workload(name: &str, depends_on: &str) -> Live {
        let annotations = json!({"kompile.dev/depends-on": depends_on});
        live("apps/v1", "Deployment", name, "me", json!({"metadata": {"annotations": annotations}}))
    }

    fn names(batch: &[&Live]) -> Vec<String> {
        batch.iter().map(|l| format!("{}/{}", l.kind, l.key.name)).collect()
    }

    #[test]
    fn dependents_go_first_then_services_then_config() {
        let live = vec![
            workload("db", ""),
            workload("web", "db=healthy,cache=started"),
            workload("cache", ""),
            workload("worker", "web=started"),
            live("v1", "Service", "web", "me", json!({})),
            live("v1", "ConfigMap", "settings", "me", json!({})),
            live("v1", "PersistentVolumeClaim", "data", "me", json!({})),
            live("v1", "ConfigMap", "theirs", "other-set", json!({})),
        ];
        let plan = order(&live, "me", false);
        let batches: Vec<Vec<String>> = plan.batches.iter().map(|b| names(b)).collect();
        assert_eq!(
            batches,
            [
                vec!["Deployment/worker"],
                vec!["Deployment/web"],
                vec!["Deployment/db", "Deployment/cache"],
                vec!["Service/web"],
                vec!["ConfigMap/settings"],
            ]
        );
        assert_eq!(names(&plan.kept_volumes), ["PersistentVolumeClaim/data"]);
        let with_volumes = order(&live, "me", true);
        assert_eq!(
            names(with_volumes.batches.last().expect("config")),
            ["ConfigMap/settings", "PersistentVolumeClaim/data"]
        );
        assert!(with_volumes.kept_volumes.is_empty());
    }

    #[test]
    fn claims_of_stateful_sets_are_found_by_label_and_name() {
        let claim = |name: &str, extra: Value| {
            let mut labels = json!({MANAGED_BY: "kompile", PROJECT_LABEL: "shop", INSTANCE: "shop", NAME: "db"});
            for (k, v) in extra.as_object().into_iter().flatten() {
                labels[k] = v.clone();
            }
            json!({"metadata": {"name": name, "labels": labels}})
        };
        assert!(template_claim(&claim("pgdata-db-0", json!({})), "shop"));
        assert!(template_claim(&claim("pgdata-db-12", json!({"x": "y"})), "shop"));
        assert!(!template_claim(&claim("pgdata-db-0", json!({PROJECT_LABEL: "other"})), "shop"));
        assert!(!template_claim(&claim("pgdata-db-0", json!({PART_OF: "some-set"})), "shop"));
        assert!(!template_claim(&claim("pgdata-db-backup", json!({})), "shop"));
        assert!(!template_claim(&claim("pgdata-xdb-0", json!({})), "shop"));
        assert!(!template_claim(&claim("db-0", json!({})), "shop"));
        assert!(!template_claim(&claim("pgdata-db-0", json!({MANAGED_BY: "helm"})), "shop"));
    }
}
