//! `kompile apply` against the cluster: namespaces, the ApplySet parent, each step's objects
//! concurrently, then prune. Waiting is in [`super::wait`].

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::Value;

use super::applyset::{self, Current};
use super::client::Cluster;
use super::errors::{Failure, Subject, diagnose};
use super::plan::{self, ApplySet, Change, Key, Live, Manifest, Step};
use super::restart;
use super::wait::{self, Rollout, Waiting};
use super::{Doomed, Settings, apply_one, delete, get, get_named, not_served, owner, subject};
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
    /// The `resourceVersion` of each Secret applied, for the workloads that use it.
    pub secret_versions: restart::Versions,
}

/// Applies `manifests` (already in step order) as members of `set`, printing one line per
/// object through `print`. Workloads go in `depends_on` order; with `waiting`, each wave of
/// them is applied only once what it depends on is ready (a Job: complete).
pub async fn apply(
    cluster: &Cluster,
    set: &ApplySet,
    manifests: &[Manifest],
    settings: &Settings,
    prune: PruneOptions,
    waiting: Option<&Waiting>,
    print: &mut dyn FnMut(String),
) -> Report {
    let mut report = Report::default();
    let current = match applyset::read(cluster, set, manifests, settings).await {
        Ok(current) => current,
        Err(d) => return failed(report, d),
    };
    // Decided before anything is sent: one refusal and nothing is applied.
    if !settings.adopt {
        let refusals = refuse_foreign(cluster, set, manifests, &current, settings).await;
        if !refusals.is_empty() {
            report.diagnostics.extend(refusals);
            report.failed = true;
            return report;
        }
    }
    if let Err(d) = ensure_namespaces(cluster, manifests, settings, &mut report, print).await {
        return failed(report, d);
    }
    // Record the superset first, so a run that stops halfway still knows where to look.
    if let Err(d) = applyset::write_parent(cluster, set, &current.group_kinds, &current.namespaces, settings).await {
        return failed(report, d);
    }
    let before: BTreeMap<&Key, &Value> = current.live.iter().map(|l| (&l.key, &l.body)).collect();
    for (step, items) in plan::steps(manifests) {
        if step == Step::Namespaces {
            continue;
        }
        if step == Step::Workloads {
            // Pods restart when a Secret they use changed (`restart`).
            let stamped: Vec<Manifest> = items
                .iter()
                .map(|m| restart::stamped(m, &report.secret_versions).unwrap_or_else(|| (*m).clone()))
                .collect();
            let items: Vec<&Manifest> = stamped.iter().collect();
            apply_in_order(cluster, &items, &before, settings, waiting, &mut report, print).await;
        } else {
            apply_step(cluster, &items, &before, settings, &mut report, print).await;
        }
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

/// Refusals for objects that exist but are not members of `set` ([`owner`]). Listed members
/// are known to be ours; every other object is looked up.
async fn refuse_foreign(
    cluster: &Cluster,
    set: &ApplySet,
    manifests: &[Manifest],
    current: &Current,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let members: BTreeSet<&Key> = current.live.iter().map(|l| &l.key).collect();
    let unknown: Vec<&Manifest> =
        manifests.iter().filter(|m| Step::of(&m.kind) != Step::Namespaces && !members.contains(&m.key())).collect();
    // Discover first, so concurrent lookups do not each ask for the same group.
    for manifest in &unknown {
        let _ = cluster.discover(&manifest.group_kind()).await;
    }
    let refusals: Vec<Option<Diagnostic>> =
        futures::stream::iter(unknown.iter().map(|manifest| check_owner(cluster, manifest, &set.id)))
            .buffered(settings.concurrency)
            .collect()
            .await;
    refusals.into_iter().flatten().collect()
}

async fn check_owner(cluster: &Cluster, manifest: &Manifest, set_id: &str) -> Option<Diagnostic> {
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        // Not served: applying it says so.
        Ok(None) => return None,
        Err(f) => return Some(diagnose(&f, &subject("get", manifest), &cluster.target)),
    };
    match get(cluster, &found, manifest).await {
        Ok(None) => None,
        Ok(Some(live)) => owner::foreign(&live, set_id).map(|o| owner::refusal(manifest, &o)),
        Err(f) => Some(diagnose(&f, &subject("get", manifest), &cluster.target)),
    }
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

/// Applies workloads wave by wave ([`plan::waves`]); before each wave, waits (when asked)
/// for what it needs. A dependency that fails or times out stops the run: nothing that
/// depends on it, directly or not, is applied.
async fn apply_in_order(
    cluster: &Cluster,
    items: &[&Manifest],
    before: &BTreeMap<&Key, &Value>,
    settings: &Settings,
    waiting: Option<&Waiting>,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) {
    let waves = plan::waves(items);
    for (index, wave) in waves.iter().enumerate() {
        if let Some(waiting) = waiting.filter(|_| !wave.needs.is_empty()) {
            let problems = wait::wait(cluster, &wave.needs, waiting).await;
            if !problems.is_empty() {
                report.diagnostics.extend(problems);
                report.diagnostics.push(held_back(&waves[index..], &wave.needs));
                report.failed = true;
                return;
            }
        }
        apply_step(cluster, &wave.apply, before, settings, report, print).await;
        if report.failed {
            let rest: usize = waves[index + 1..].iter().map(|w| w.apply.len()).sum();
            if rest > 0 {
                report.diagnostics.push(
                    Diagnostic::new(
                        Code::DependencyFailed,
                        format!(
                            "{rest} workload{} not applied because an earlier one failed",
                            if rest == 1 { " was" } else { "s were" }
                        ),
                    )
                    .help("workloads are applied in `depends_on` order; fix the errors above and apply again"),
                );
            }
            return;
        }
    }
}

/// Why `waves` were not applied: what they waited for did not get ready.
fn held_back(waves: &[plan::Wave<'_>], needs: &[&Manifest]) -> Diagnostic {
    let waiting: Vec<String> = waves.iter().flat_map(|w| &w.apply).map(|m| m.describe()).collect();
    let needed: Vec<String> = needs.iter().map(|m| m.describe()).collect();
    Diagnostic::new(
        Code::DependencyFailed,
        format!(
            "not applied, because what they depend on did not get ready: {}\n  they depend on: {}",
            waiting.join(", "),
            needed.join(", ")
        ),
    )
    .help("compose `depends_on` holds these back until their dependencies are ready (or, for a Job, complete); fix the dependency (see above) and apply again")
}

/// What applying one object came to: the change, maybe a note about it, and the object's
/// `resourceVersion` after it; or why it failed.
type Applied = Result<(Change, Option<Diagnostic>, Option<String>), Diagnostic>;

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
    let mut results: Vec<(usize, Applied)> =
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
            Ok((change, note, version)) => {
                if let Some(version) = version.filter(|_| manifest.kind == "Secret") {
                    report.secret_versions.insert((manifest.namespace.clone(), manifest.name.clone()), version);
                }
                print(format!("{} {}", manifest.describe(), change.word()));
                report.changes.push((manifest.kind.clone(), change));
                report.diagnostics.extend(note);
            }
            Err(d) => {
                print(format!("{} failed", manifest.describe()));
                report.diagnostics.push(d);
                report.failed = true;
            }
        }
    }
}

async fn apply_member(cluster: &Cluster, manifest: &Manifest, before: Option<&Value>, settings: &Settings) -> Applied {
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(diagnose(&not_served(manifest), &subject("patch", manifest), &cluster.target)),
        Err(f) => return Err(diagnose(&f, &subject("patch", manifest), &cluster.target)),
    };
    match apply_one(cluster, &found, manifest, settings, false).await {
        Ok((status, after)) => {
            // A dry run creates nothing, and so gives no version.
            let version = after["metadata"]["resourceVersion"].as_str().filter(|v| !v.is_empty()).map(String::from);
            Ok((plan::classify(status, before, &after), None, version))
        }
        // A dry run does not create the namespace, so objects in a new one cannot be checked;
        // a real run would create them.
        Err(Failure::Status(s)) if settings.dry_run && s.is_missing_namespace() => Ok((Change::Created, None, None)),
        Err(Failure::Status(s)) if manifest.kind == "Job" && s.code == 422 && s.message.contains("immutable") => {
            replace_job(cluster, &found, manifest, settings).await.map(|note| (Change::Changed, Some(note), None))
        }
        Err(f) => Err(diagnose(&f, &subject("patch", manifest), &cluster.target)),
    }
}

/// A Job's pod template cannot change. A finished Job is replaced (deleted, then created
/// from the new template: it runs again, as `docker compose up` reruns a changed one-off
/// service); a running one is left alone and reported, since replacing it would kill its work.
async fn replace_job(
    cluster: &Cluster,
    found: &super::client::Found,
    manifest: &Manifest,
    settings: &Settings,
) -> Result<Diagnostic, Diagnostic> {
    let failed = |f: Failure, verb| diagnose(&f, &subject(verb, manifest), &cluster.target);
    let live = get(cluster, found, manifest).await.map_err(|f| failed(f, "get"))?.unwrap_or_default();
    let what = manifest.describe();
    let service = manifest.service.as_deref().map(|s| format!(" (compose service `{s}`)")).unwrap_or_default();
    match wait::status(&live) {
        Rollout::Waiting(state) => {
            return Err(Diagnostic::new(
                Code::JobRunning,
                format!("{what}{service} is still {state} and its template changed, which Kubernetes does not allow"),
            )
            .help(format!(
                "let it finish and apply again (kompile then replaces it), or stop it now: `kubectl delete job -n {} {}`",
                manifest.namespace.as_deref().unwrap_or(&cluster.target.namespace),
                manifest.name
            ))
            .at(manifest.origin.service, "the Job was made from this service"));
        }
        Rollout::Done(_) | Rollout::Failed(_) => {}
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let precondition = Some((text(&live["metadata"]["uid"]), text(&live["metadata"]["resourceVersion"])));
    let doomed = Doomed { kind: "Job", namespace: manifest.namespace.as_deref(), name: &manifest.name, precondition };
    delete(cluster, found, &doomed, settings.dry_run).await.map_err(|f| failed(f, "delete"))?;
    if !settings.dry_run {
        apply_one(cluster, found, manifest, settings, false).await.map_err(|f| failed(f, "patch"))?;
    }
    let verb = if settings.dry_run { "would be replaced" } else { "was replaced" };
    Ok(Diagnostic::new(
        Code::JobReplaced,
        format!("{what}{service} had finished and its template changed: it {verb} (deleted and created again), so it runs again"),
    )
    .help("a Job's pod template cannot change; kompile replaces a finished one, as `docker compose up` recreates a changed service")
    .at(manifest.origin.service, "the Job was made from this service"))
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
    let kept = delete_all(cluster, set, &pruning.delete, settings, report, print).await;
    if !pruning.kept_volumes.is_empty() {
        report.diagnostics.push(kept_volumes(&pruning.kept_volumes));
    }
    if report.failed {
        // The parent keeps naming what could not be deleted, for the next run.
        return;
    }
    // The set now holds the project's objects and any volume claims kept above.
    let mut group_kinds: BTreeSet<String> = manifests.iter().map(Manifest::group_kind).collect();
    group_kinds.extend(pruning.kept_volumes.iter().chain(&kept).map(|l| l.key.group_kind.clone()));
    let mut namespaces: BTreeSet<String> = manifests.iter().filter_map(|m| m.namespace.clone()).collect();
    namespaces.insert(set.namespace.clone());
    if let Err(d) = applyset::write_parent(cluster, set, &group_kinds, &namespaces, settings).await {
        report.diagnostics.push(d);
        report.failed = true;
    }
}

/// What pruning one object came to.
pub enum Pruned {
    Deleted,
    /// Left alone, and why.
    Kept(String),
    Failed(Failure),
}

/// Deletes `doomed` concurrently and reports each, in a stable order; returns those kept
/// because they changed hands or changed since they were listed.
async fn delete_all<'a>(
    cluster: &Cluster,
    set: &ApplySet,
    doomed: &[&'a Live],
    settings: &Settings,
    report: &mut Report,
    print: &mut dyn FnMut(String),
) -> Vec<&'a Live> {
    let mut results: Vec<_> = futures::stream::iter(
        doomed.iter().map(|live| async move { (*live, prune_one(cluster, live, &set.id, settings.dry_run).await) }),
    )
    .buffer_unordered(settings.concurrency)
    .collect()
    .await;
    results.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let mut kept = Vec::new();
    let mut reasons = Vec::new();
    for (live, outcome) in results {
        let what = plan::describe(&live.kind, live.key.namespace.as_deref(), &live.key.name);
        match outcome {
            Pruned::Deleted => {
                print(format!("{what} pruned"));
                report.changes.push((live.kind.clone(), Change::Pruned));
            }
            Pruned::Kept(why) => {
                reasons.push(format!("  {what}: {why}"));
                kept.push(live);
            }
            Pruned::Failed(f) => {
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
    if !reasons.is_empty() {
        report.diagnostics.push(
            Diagnostic::new(
                Code::PruneSkipped,
                format!("not pruned, because it changed since it was listed:\n{}", reasons.join("\n")),
            )
            .help("prune deletes only objects still labelled as this project's; apply again to look at them afresh"),
        );
    }
    kept
}

/// Reads the object again just before deleting it, deletes it only if it is still a member of
/// the set, and only as it was read (uid and resourceVersion preconditions), so an object
/// another project or tool took over since the listing is never deleted.
pub async fn prune_one(cluster: &Cluster, live: &Live, set_id: &str, dry_run: bool) -> Pruned {
    let found = match cluster.discover(&live.key.group_kind).await {
        Ok(Some(found)) => found,
        // The kind is no longer served, so nothing of it is left to delete.
        Ok(None) => return Pruned::Deleted,
        Err(f) => return Pruned::Failed(f),
    };
    let (namespace, name) = (live.key.namespace.as_deref(), live.key.name.as_str());
    let fresh = match get_named(cluster, &found, namespace, name).await {
        Ok(Some(fresh)) => fresh,
        Ok(None) => return Pruned::Deleted,
        Err(f) => return Pruned::Failed(f),
    };
    if let Some(owner) = owner::foreign(&fresh, set_id) {
        return Pruned::Kept(owner.describe());
    }
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let precondition = Some((text(&fresh["metadata"]["uid"]), text(&fresh["metadata"]["resourceVersion"])));
    let doomed = Doomed { kind: &live.kind, namespace, name, precondition };
    match delete(cluster, &found, &doomed, dry_run).await {
        Ok(()) => Pruned::Deleted,
        Err(Failure::Status(s)) if s.code == 409 => {
            Pruned::Kept(format!("it was changed while being pruned ({})", s.message))
        }
        Err(f) => Pruned::Failed(f),
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
