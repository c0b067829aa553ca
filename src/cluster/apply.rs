//! `kompile apply` against the cluster: namespaces, the ApplySet parent, each step's objects
//! concurrently, then prune. Waiting is in [`super::wait`].

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::Value;

use super::applyset::{self, Current};
use super::client::Cluster;
use super::errors::{Failure, Subject, diagnose};
use super::plan::{self, ApplySet, Change, Key, Live, Manifest, Step};
use super::{Settings, apply_one, delete, get, not_served, subject};
use crate::diag::{Code, Diagnostic};

#[derive(Debug, Clone, Copy, Default)]
pub struct PruneOptions {
    pub prune: bool,
    pub prune_volumes: bool,
}

/// What one run did.
#[derive(Debug, Default)]
pub struct Report {
    /// `(kind, change)` for the summary.
    pub changes: Vec<(String, Change)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether any object failed to apply or prune.
    pub failed: bool,
}

/// Applies `manifests` (already in step order) as members of `set`, printing one line per
/// object through `print`.
pub async fn apply(
    cluster: &Cluster,
    set: &ApplySet,
    manifests: &[Manifest],
    settings: &Settings,
    prune: PruneOptions,
    print: &mut dyn FnMut(String),
) -> Report {
    let mut report = Report::default();
    if let Err(d) = ensure_namespaces(cluster, manifests, settings, &mut report, print).await {
        report.diagnostics.push(d);
        report.failed = true;
        return report;
    }
    let current = match applyset::read(cluster, set, manifests, settings).await {
        Ok(current) => current,
        Err(d) => return failed(report, d),
    };
    // Record the superset first, so a run that stops halfway still knows where to look.
    if let Err(d) = applyset::write_parent(cluster, set, &current.group_kinds, &current.namespaces, settings).await {
        return failed(report, d);
    }
    let before: BTreeMap<&Key, &Value> = current.live.iter().map(|l| (&l.key, &l.body)).collect();
    for (step, items) in plan::steps(manifests) {
        if step == Step::Namespaces {
            continue;
        }
        apply_step(cluster, &items, &before, settings, &mut report, print).await;
        if report.failed {
            let rest = manifests.iter().filter(|m| Step::of(&m.kind) > step).count();
            if rest > 0 {
                report.diagnostics.push(
                    Diagnostic::new(Code::RequestFailed, format!("{rest} objects were not applied because an earlier step failed"))
                        .help("objects are applied in order (config, services, workloads) so that nothing starts without what it needs; fix the errors above and apply again"),
                );
            }
            break;
        }
    }
    finish_prune(cluster, set, manifests, &current, settings, prune, &mut report, print).await;
    report
}

fn failed(mut report: Report, diagnostic: Diagnostic) -> Report {
    report.diagnostics.push(diagnostic);
    report.failed = true;
    report
}

/// Creates the namespaces the objects live in when they are missing. Existing namespaces are
/// left alone (applying them would need cluster-wide rights many users lack), and namespaces
/// are never members of the ApplySet: pruning one would delete everything in it.
async fn ensure_namespaces(
    cluster: &Cluster,
    manifests: &[Manifest],
    settings: &Settings,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) -> Result<(), Diagnostic> {
    let names: BTreeSet<&str> = manifests.iter().filter_map(|m| m.namespace.as_deref()).collect();
    for name in names {
        let manifest = plan::namespace(name);
        let found = match cluster.discover("Namespace").await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(diagnose(&not_served(&manifest), &subject("get", &manifest), &cluster.target)),
            Err(f) => return Err(diagnose(&f, &subject("get", &manifest), &cluster.target)),
        };
        match get(cluster, &found, &manifest).await {
            Ok(Some(_)) => continue,
            // Not allowed to look: assume it exists, the objects' own requests will tell.
            Err(f) if f.is_forbidden() => continue,
            Err(f) => return Err(diagnose(&f, &subject("get", &manifest), &cluster.target)),
            Ok(None) => {}
        }
        apply_one(cluster, &found, &manifest, settings, false)
            .await
            .map_err(|f| diagnose(&f, &subject("patch", &manifest), &cluster.target))?;
        print(format!("{} created", manifest.describe()));
        report.changes.push((manifest.kind.clone(), Change::Created));
    }
    Ok(())
}

/// Applies one step's objects with at most `settings.concurrency` requests in flight, then
/// prints their outcomes in the step's order.
async fn apply_step(
    cluster: &Cluster,
    items: &[&Manifest],
    before: &BTreeMap<&Key, &Value>,
    settings: &Settings,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) {
    let mut results: Vec<(usize, Result<Change, Diagnostic>)> =
        futures::stream::iter(items.iter().enumerate().map(|(index, manifest)| async move {
            (index, apply_member(cluster, manifest, before.get(&manifest.key()).copied(), settings).await)
        }))
        .buffer_unordered(settings.concurrency)
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    for (index, result) in results {
        let manifest = items[index];
        match result {
            Ok(change) => {
                print(format!("{} {}", manifest.describe(), change.word()));
                report.changes.push((manifest.kind.clone(), change));
            }
            Err(d) => {
                print(format!("{} failed", manifest.describe()));
                report.diagnostics.push(d);
                report.failed = true;
            }
        }
    }
}

async fn apply_member(
    cluster: &Cluster,
    manifest: &Manifest,
    before: Option<&Value>,
    settings: &Settings,
) -> Result<Change, Diagnostic> {
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(diagnose(&not_served(manifest), &subject("patch", manifest), &cluster.target)),
        Err(f) => return Err(diagnose(&f, &subject("patch", manifest), &cluster.target)),
    };
    match apply_one(cluster, &found, manifest, settings, false).await {
        Ok((status, after)) => Ok(plan::classify(status, before, &after)),
        // A dry run does not create the namespace, so objects in a new one cannot be checked;
        // a real run would create them.
        Err(Failure::Status(s)) if settings.dry_run && super::diff::missing_namespace(&s) => Ok(Change::Created),
        Err(f) => Err(diagnose(&f, &subject("patch", manifest), &cluster.target)),
    }
}

/// Deletes members that left the project (when asked and when every apply succeeded), then
/// records the set as it now is.
#[allow(clippy::too_many_arguments)]
async fn finish_prune(
    cluster: &Cluster,
    set: &ApplySet,
    manifests: &[Manifest],
    current: &Current,
    settings: &Settings,
    options: PruneOptions,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) {
    if !options.prune {
        return;
    }
    if report.failed {
        report.diagnostics.push(
            Diagnostic::new(Code::PruneSkipped, "nothing was pruned because some objects failed to apply").help(
                "pruning after a partial apply could delete what is still in use; fix the errors and apply again",
            ),
        );
        return;
    }
    let desired: BTreeSet<Key> = manifests.iter().map(Manifest::key).collect();
    let pruning = plan::prune(&current.live, &desired, &set.id, options.prune_volumes);
    delete_all(cluster, &pruning.delete, settings, report, print).await;
    if !pruning.kept_volumes.is_empty() {
        report.diagnostics.push(kept_volumes(&pruning.kept_volumes));
    }
    if report.failed {
        // The parent keeps naming what could not be deleted, for the next run.
        return;
    }
    // The set now holds the project's objects and any volume claims kept above.
    let mut group_kinds: BTreeSet<String> = manifests.iter().map(Manifest::group_kind).collect();
    group_kinds.extend(pruning.kept_volumes.iter().map(|l| l.key.group_kind.clone()));
    let mut namespaces: BTreeSet<String> = manifests.iter().filter_map(|m| m.namespace.clone()).collect();
    namespaces.insert(set.namespace.clone());
    if let Err(d) = applyset::write_parent(cluster, set, &group_kinds, &namespaces, settings).await {
        report.diagnostics.push(d);
        report.failed = true;
    }
}

/// Deletes `doomed` concurrently and reports each, in a stable order.
async fn delete_all(
    cluster: &Cluster,
    doomed: &[&Live],
    settings: &Settings,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) {
    let mut results: Vec<_> = futures::stream::iter(doomed.iter().map(|live| async move {
        let outcome = match cluster.discover(&live.key.group_kind).await {
            Ok(Some(found)) => {
                delete(cluster, &found, live.key.namespace.as_deref(), &live.key.name, settings.dry_run).await
            }
            // The kind is no longer served, so nothing of it is left to delete.
            Ok(None) => Ok(()),
            Err(f) => Err(f),
        };
        (*live, outcome)
    }))
    .buffer_unordered(settings.concurrency)
    .collect()
    .await;
    results.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    for (live, outcome) in results {
        match outcome {
            Ok(()) => {
                print(format!("{} pruned", plan::describe(&live.kind, live.key.namespace.as_deref(), &live.key.name)));
                report.changes.push((live.kind.clone(), Change::Pruned));
            }
            Err(f) => {
                let subject = Subject {
                    verb: "delete",
                    kind: live.kind.clone(),
                    namespace: live.key.namespace.clone(),
                    name: live.key.name.clone(),
                    ..Subject::default()
                };
                report.diagnostics.push(diagnose(&f, &subject, &cluster.target));
                report.failed = true;
            }
        }
    }
}

fn kept_volumes(kept: &[&Live]) -> Diagnostic {
    let names: Vec<&str> = kept.iter().map(|l| l.key.name.as_str()).collect();
    Diagnostic::new(
        Code::PruneSkipped,
        format!(
            "kept {} volume claim{} that left the project: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
    )
    .help("volume claims hold data, so prune keeps them; pass `--prune-volumes` to delete them and their data")
}
