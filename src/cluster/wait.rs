//! Waiting for workloads to roll out, decided the way `kubectl rollout status` decides it,
//! and explaining a failed rollout from its pods and their events.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::client::Cluster;
use super::errors::Failure;
use super::plan::Manifest;
use super::{get, list};
use crate::diag::{Code, Diagnostic};

/// Where one rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Done(String),
    Waiting(String),
    Failed(String),
}

/// `kubectl rollout status` for a Deployment: the controller must have seen the latest
/// generation; a `ProgressDeadlineExceeded` condition is a failure; otherwise it waits for
/// every replica to be updated, old ones gone and updated ones available.
pub fn rollout(deployment: &Value) -> Rollout {
    let int = |v: &Value| v.as_i64().unwrap_or(0);
    let status = &deployment["status"];
    if int(&deployment["metadata"]["generation"]) > int(&status["observedGeneration"]) {
        return Rollout::Waiting("waiting for the controller to see the new spec".into());
    }
    let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
    if let Some(c) = conditions.iter().find(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
    {
        return Rollout::Failed(format!("ProgressDeadlineExceeded: {}", c["message"].as_str().unwrap_or_default()));
    }
    let wanted = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let (updated, replicas, available) =
        (int(&status["updatedReplicas"]), int(&status["replicas"]), int(&status["availableReplicas"]));
    if updated < wanted {
        return Rollout::Waiting(format!("{updated} of {wanted} replicas updated"));
    }
    if replicas > updated {
        return Rollout::Waiting(format!("{} old replicas pending termination", replicas - updated));
    }
    if available < updated {
        return Rollout::Waiting(format!("{available} of {updated} updated replicas available"));
    }
    Rollout::Done(format!("{available} of {wanted} replicas available"))
}

/// Where a workload of any kind stands, judged as `kubectl rollout status` does (a Job: by
/// its conditions; a CronJob has nothing to wait for: it runs on its schedule).
pub fn status(workload: &Value) -> Rollout {
    match workload["kind"].as_str().unwrap_or_default() {
        "StatefulSet" => stateful_set(workload),
        "DaemonSet" => daemon_set(workload),
        "Job" => job(workload),
        "CronJob" => Rollout::Done("scheduled".into()),
        _ => rollout(workload),
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// The controller has not seen the latest spec yet.
fn unobserved(workload: &Value) -> Option<Rollout> {
    (int(&workload["metadata"]["generation"]) > int(&workload["status"]["observedGeneration"]))
        .then(|| Rollout::Waiting("waiting for the controller to see the new spec".into()))
}

/// `kubectl rollout status statefulset`: every replica ready, the update's pods updated, and
/// the current revision the updated one. `OnDelete` updates are not followed.
fn stateful_set(set: &Value) -> Rollout {
    if let Some(waiting) = unobserved(set) {
        return waiting;
    }
    let (spec, status) = (&set["spec"], &set["status"]);
    if spec["updateStrategy"]["type"] == "OnDelete" {
        return Rollout::Done("updates on delete".into());
    }
    let wanted = spec["replicas"].as_i64().unwrap_or(1);
    let ready = int(&status["readyReplicas"]);
    if ready < wanted {
        return Rollout::Waiting(format!("{ready} of {wanted} pods ready"));
    }
    let partition = int(&spec["updateStrategy"]["rollingUpdate"]["partition"]);
    let updated = int(&status["updatedReplicas"]);
    if partition > 0 {
        if updated < wanted - partition {
            return Rollout::Waiting(format!("{updated} of {} pods updated", wanted - partition));
        }
        return Rollout::Done(format!("{updated} pods updated (partitioned)"));
    }
    if status["updateRevision"] != status["currentRevision"] {
        return Rollout::Waiting(format!("{updated} of {wanted} pods at the new revision"));
    }
    Rollout::Done(format!("{ready} of {wanted} pods ready"))
}

/// `kubectl rollout status daemonset`: every scheduled pod updated and available.
fn daemon_set(set: &Value) -> Rollout {
    if let Some(waiting) = unobserved(set) {
        return waiting;
    }
    if set["spec"]["updateStrategy"]["type"] == "OnDelete" {
        return Rollout::Done("updates on delete".into());
    }
    let status = &set["status"];
    let wanted = int(&status["desiredNumberScheduled"]);
    let updated = int(&status["updatedNumberScheduled"]);
    if updated < wanted {
        return Rollout::Waiting(format!("{updated} of {wanted} pods updated"));
    }
    let available = int(&status["numberAvailable"]);
    if available < wanted {
        return Rollout::Waiting(format!("{available} of {wanted} updated pods available"));
    }
    Rollout::Done(format!("{available} of {wanted} pods available"))
}

/// A Job is done when it has the `Complete` condition, failed with `Failed` (its reason:
/// `BackoffLimitExceeded`, `DeadlineExceeded`, …).
fn job(job: &Value) -> Rollout {
    let conditions = job["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let holds = |kind: &str| conditions.iter().find(|c| c["type"] == kind && c["status"] == "True");
    let status = &job["status"];
    let counts = format!(
        "{} active, {} succeeded, {} failed",
        int(&status["active"]),
        int(&status["succeeded"]),
        int(&status["failed"])
    );
    if let Some(failed) = holds("Failed") {
        let reason = failed["reason"].as_str().unwrap_or("Failed");
        let message = failed["message"].as_str().unwrap_or_default();
        return Rollout::Failed(format!("the Job failed ({reason}: {message}; {counts})"));
    }
    if holds("Complete").is_some() {
        return Rollout::Done(format!("{COMPLETED} ({counts})"));
    }
    Rollout::Waiting(format!("running ({counts})"))
}

/// How a finished Job's state begins: shown as is, where other workloads show `ready (…)`.
const COMPLETED: &str = "completed";

/// What a pod's status says is wrong with it, one line per problem.
pub fn pod_problems(pod: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let conditions = pod["status"]["conditions"].as_array().cloned().unwrap_or_default();
    for c in &conditions {
        if c["type"] == "PodScheduled" && c["status"] == "False" {
            let message = c["message"].as_str().unwrap_or_default();
            problems
                .push(format!("cannot be scheduled ({}): {message}", c["reason"].as_str().unwrap_or("Unschedulable")));
        }
    }
    let statuses = ["initContainerStatuses", "containerStatuses"];
    for container in statuses.iter().flat_map(|key| pod["status"][key].as_array().into_iter().flatten()) {
        let name = container["name"].as_str().unwrap_or_default();
        let waiting = &container["state"]["waiting"];
        if let Some(reason) = waiting["reason"].as_str().filter(|r| *r != "ContainerCreating") {
            let mut line = format!("container {name}: {reason}");
            if let Some(message) = waiting["message"].as_str() {
                line.push_str(&format!(": {message}"));
            }
            if let Some(code) = container["lastState"]["terminated"]["exitCode"].as_i64() {
                line.push_str(&format!(" (last exit code {code})"));
            }
            problems.push(line);
        } else if let Some(code) = container["state"]["terminated"]["exitCode"].as_i64().filter(|c| *c != 0) {
            let reason = container["state"]["terminated"]["reason"].as_str().unwrap_or("Error");
            problems.push(format!("container {name}: exited with code {code} ({reason})"));
        } else if container["state"].get("running").is_some() && container["ready"] == false {
            problems.push(format!("container {name}: running but not ready (its readiness probe is failing)"));
        }
    }
    problems
}

/// What to do about the problems found, from their most telling reason.
pub fn advice(problems: &[String], service: Option<&str>, namespace: &str, pod: Option<&str>) -> String {
    let service = service.map(|s| format!("compose service `{s}`")).unwrap_or_else(|| "the service".into());
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    if has("ImagePull") || has("ErrImage") || has("InvalidImageName") {
        format!("check the image name and tag of {service}, and that the cluster may pull it (registry credentials)")
    } else if has("CrashLoopBackOff") || has("Error") || has("exited with code") {
        let logs = pod.map(|p| format!(" (`kubectl logs -n {namespace} {p} --previous`)")).unwrap_or_default();
        format!("the container of {service} keeps exiting; its logs say why{logs}")
    } else if has("cannot be scheduled") {
        format!("no node can run {service}: lower its `deploy.resources.reservations` or add capacity")
    } else if has("readiness probe") {
        format!("the healthcheck of {service} keeps failing; check its `healthcheck` and the port it listens on")
    } else {
        format!("see `kubectl describe deployment -n {namespace}` and the events of its pods")
    }
}

/// How waiting is shown.
pub struct Display {
    /// Redraw one line per workload in place; otherwise print a line whenever one changes.
    pub live: bool,
}

/// How long and how often to wait: `timeout` bounds all the waiting of one run, counted from
/// `start`, however many times `kompile apply` waits (before dependents, and at the end).
pub struct Waiting {
    pub timeout: Duration,
    pub interval: Duration,
    pub display: Display,
    pub start: Instant,
    pub concurrency: usize,
}

/// Polls every workload in `manifests` until it is done, failed, or `timeout` passed. Returns
/// a diagnostic for each that did not finish.
pub async fn wait(cluster: &Cluster, manifests: &[&Manifest], waiting: &Waiting) -> Vec<Diagnostic> {
    let state = follow(manifests, waiting, "workloads ready", |manifest| poll(cluster, manifest)).await;
    let mut diagnostics = Vec::new();
    for (i, reason) in unfinished(state, waiting, "not ready") {
        diagnostics.push(explain(cluster, manifests[i], &reason).await);
    }
    diagnostics
}

/// Polls every object in `manifests` (already deleted) until the server no longer has it, or
/// `timeout` passed, shown as [`wait`] shows rollouts. Returns `(index, reason)` for each
/// that is still there.
pub async fn gone(cluster: &Cluster, manifests: &[&Manifest], waiting: &Waiting) -> Vec<(usize, String)> {
    let state = follow(manifests, waiting, "objects gone", |manifest| poll_gone(cluster, manifest)).await;
    unfinished(state, waiting, "not gone")
}

/// The index and reason of each object that did not finish.
fn unfinished(state: BTreeMap<usize, Rollout>, waiting: &Waiting, not: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, outcome) in state {
        let reason = match outcome {
            Rollout::Done(_) => continue,
            Rollout::Failed(reason) => reason,
            Rollout::Waiting(reason) => format!("{not} after {}s: {reason}", waiting.timeout.as_secs()),
        };
        out.push((i, reason));
    }
    out
}

/// The polling loop of [`wait`] and [`gone`]: `poll` every object not finished yet, show each
/// change, until none is waiting or the deadline passed. `done` counts the finished ones on a
/// crowded terminal (`workloads ready`).
async fn follow<'m, F, Fut>(
    manifests: &[&'m Manifest],
    waiting: &Waiting,
    done: &str,
    poll: F,
) -> BTreeMap<usize, Rollout>
where
    F: Fn(&'m Manifest) -> Fut,
    Fut: std::future::Future<Output = Rollout>,
{
    let Waiting { timeout, interval, ref display, start, concurrency } = *waiting;
    let mut state: BTreeMap<usize, Rollout> =
        (0..manifests.len()).map(|i| (i, Rollout::Waiting("waiting".into()))).collect();
    let mut drawn = 0;
    loop {
        let pending: Vec<usize> =
            state.iter().filter(|(_, r)| matches!(r, Rollout::Waiting(_))).map(|(i, _)| *i).collect();
        let polled: Vec<(usize, Rollout)> = futures::stream::iter(pending.iter().map(|&i| {
            let polling = poll(manifests[i]);
            async move { (i, polling.await) }
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
        for (i, now) in polled {
            if !display.live && state.get(&i) != Some(&now) {
                eprintln!("{}: {}", manifests[i].describe(), text(&now));
            }
            state.insert(i, now);
        }
        if display.live {
            drawn = redraw(manifests, &state, drawn, done);
        }
        let waiting = state.values().any(|r| matches!(r, Rollout::Waiting(_)));
        if !waiting || start.elapsed() >= timeout {
            break;
        }
        tokio::time::sleep(interval.min(timeout.saturating_sub(start.elapsed()))).await;
    }
    state
}

/// Whether a deleted object is gone: the server answers 404 for it.
async fn poll_gone(cluster: &Cluster, manifest: &Manifest) -> Rollout {
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        // Not served any more: nothing of it can be left.
        Ok(None) => return Rollout::Done(DELETED.into()),
        Err(f) => return Rollout::Waiting(unanswered(&f)),
    };
    match get(cluster, &found, manifest).await {
        Ok(None) => Rollout::Done(DELETED.into()),
        Ok(Some(live)) => Rollout::Waiting(still_there(&live)),
        Err(f) if f.is_transient() => Rollout::Waiting(unanswered(&f)),
        Err(_) => Rollout::Failed("the object can no longer be read".into()),
    }
}

/// Why a deleted object is still there: finalizers hold it, or the server has not got to it.
pub fn still_there(live: &Value) -> String {
    let finalizers: Vec<&str> =
        live["metadata"]["finalizers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    match (live["metadata"].get("deletionTimestamp").is_some(), finalizers.is_empty()) {
        (true, false) => format!("being deleted, held by finalizers {}", finalizers.join(", ")),
        (true, true) => "being deleted".to_string(),
        (false, _) => "still there".to_string(),
    }
}

/// How a gone object's state reads: shown as is, where workloads show `ready (…)`.
const DELETED: &str = "deleted";

async fn poll(cluster: &Cluster, manifest: &Manifest) -> Rollout {
    let found = match cluster.discover(&manifest.group_kind()).await {
        Ok(Some(found)) => found,
        _ => return Rollout::Failed("the cluster no longer serves this kind".into()),
    };
    match get(cluster, &found, manifest).await {
        Ok(Some(live)) => status(&live),
        Ok(None) => Rollout::Failed("the object was deleted while waiting".into()),
        // Transient failures were retried already; keep waiting, the deadline still holds, and
        // say what the server said, should the deadline pass.
        Err(f) if f.is_transient() => Rollout::Waiting(unanswered(&f)),
        Err(_) => Rollout::Failed("the object can no longer be read".into()),
    }
}

/// A failed poll, as the reason a rollout is still waiting.
fn unanswered(failure: &Failure) -> String {
    match failure {
        Failure::Status(s) => format!("the cluster answered {}: {}", s.code, s.message),
        Failure::Unreachable(reason) => format!("the cluster did not answer: {reason}"),
        _ => "the cluster could not be asked".to_string(),
    }
}

fn text(rollout: &Rollout) -> String {
    match rollout {
        Rollout::Done(s) if s.starts_with(COMPLETED) || s == DELETED => s.clone(),
        Rollout::Done(s) => format!("ready ({s})"),
        Rollout::Waiting(s) => s.clone(),
        Rollout::Failed(s) => format!("failed: {s}"),
    }
}

/// At most this many workloads get a line of their own on a terminal; the rest are counted.
const LIVE_LINES: usize = 20;

/// Rewrites the block of status lines in place; returns how many lines it drew. Finished
/// workloads make room for waiting ones once there are more than fit.
fn redraw(manifests: &[&Manifest], state: &BTreeMap<usize, Rollout>, drawn: usize, done: &str) -> usize {
    let mut lines: Vec<String> = Vec::new();
    let crowded = state.len() > LIVE_LINES;
    for (i, rollout) in state {
        let mark = match rollout {
            Rollout::Done(_) if crowded => continue,
            Rollout::Done(_) => "✓",
            Rollout::Waiting(_) => "…",
            Rollout::Failed(_) => "✗",
        };
        lines.push(format!("{mark} {}: {}", manifests[*i].describe(), text(rollout)));
    }
    if crowded {
        let ready = state.values().filter(|r| matches!(r, Rollout::Done(_))).count();
        let hidden = lines.len().saturating_sub(LIVE_LINES);
        lines.truncate(LIVE_LINES);
        let more = if hidden > 0 { format!(", {hidden} more not shown") } else { String::new() };
        lines.push(format!("{ready} of {} {done}{more}", state.len()));
    }
    let mut err = std::io::stderr().lock();
    if drawn > 0 {
        let _ = write!(err, "\x1b[{drawn}A");
    }
    for line in &lines {
        let _ = writeln!(err, "\x1b[2K{line}");
    }
    // Clear what is left of a longer previous block.
    for _ in lines.len()..drawn {
        let _ = writeln!(err, "\x1b[2K");
    }
    let _ = err.flush();
    lines.len().max(drawn)
}

/// A rollout-failed diagnostic with the pods' reasons and their recent warning events.
async fn explain(cluster: &Cluster, manifest: &Manifest, reason: &str) -> Diagnostic {
    let namespace = manifest.namespace.clone().unwrap_or_else(|| cluster.target.namespace.clone());
    let mut lines = Vec::new();
    let mut first_pod = None;
    for pod in pods(cluster, manifest, &namespace).await {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let problems = pod_problems(&pod);
        if problems.is_empty() {
            continue;
        }
        lines.extend(problems.iter().map(|p| format!("pod {name}: {p}")));
        for event in warning_events(cluster, &namespace, &name).await {
            lines.push(format!("  event: {event}"));
        }
        first_pod.get_or_insert((name, problems));
    }
    let what = match &manifest.service {
        Some(s) => format!("{} (from compose service `{s}`)", manifest.describe()),
        None => manifest.describe(),
    };
    let became = if manifest.kind == "Job" { "complete" } else { "become ready" };
    let mut message = format!("{what} did not {became}: {reason}");
    for line in &lines {
        message.push_str(&format!("\n  {line}"));
    }
    let (pod, problems) = first_pod.map(|(p, pr)| (Some(p), pr)).unwrap_or_default();
    Diagnostic::new(Code::RolloutFailed, message)
        .help(advice(&problems, manifest.service.as_deref(), &namespace, pod.as_deref()))
        .at(manifest.origin.service, "the workload was made from this service")
}

/// What is wrong with the workload's pods, as a failed rollout lists them (`pod NAME: …`), for
/// `status`.
pub async fn pod_reasons(cluster: &Cluster, manifest: &Manifest) -> Vec<String> {
    let namespace = manifest.namespace.clone().unwrap_or_else(|| cluster.target.namespace.clone());
    let mut lines = Vec::new();
    for pod in pods(cluster, manifest, &namespace).await {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
        lines.extend(pod_problems(&pod).into_iter().map(|p| format!("pod {name}: {p}")));
    }
    lines
}

/// The workload's pods, found by its selector's labels (a Job's selector is the server's:
/// its pod template's labels find the same pods).
async fn pods(cluster: &Cluster, manifest: &Manifest, namespace: &str) -> Vec<Value> {
    let spec = &manifest.body["spec"];
    let labels = spec["selector"]["matchLabels"]
        .as_object()
        .or_else(|| spec["template"]["metadata"]["labels"].as_object())
        .cloned()
        .unwrap_or_default();
    let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    let Ok(Some(found)) = cluster.discover("Pod").await else { return Vec::new() };
    let mut pods = list(cluster, &found, Some(namespace), &selector.join(",")).await.unwrap_or_default();
    pods.truncate(5);
    pods
}

/// The last three warning events about a pod, as `Reason: message`.
async fn warning_events(cluster: &Cluster, namespace: &str, pod: &str) -> Vec<String> {
    let Ok(Some(found)) = cluster.discover("Event").await else { return Vec::new() };
    let params = kube::api::ListParams::default().fields(&format!("involvedObject.name={pod}"));
    let Ok(request) = Cluster::collection(&found, Some(namespace)).list(&params) else { return Vec::new() };
    let Ok(reply) = cluster.call(request).await else { return Vec::new() };
    let mut events = reply.body["items"].as_array().cloned().unwrap_or_default();
    // The server lists in no particular order; RFC 3339 times sort as text.
    events.sort_by_key(|e| e["lastTimestamp"].as_str().or(e["eventTime"].as_str()).unwrap_or_default().to_string());
    let warnings: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "Warning")
        .map(|e| format!("{}: {}", e["reason"].as_str().unwrap_or_default(), e["message"].as_str().unwrap_or_default()))
        .collect();
    warnings.iter().rev().take(3).rev().cloned().collect()
}

/// The workloads whose rollout is followed.
pub fn workloads(manifests: &[Manifest]) -> Vec<&Manifest> {
    manifests.iter().filter(|m| matches!(m.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(generation: i64, status: Value) -> Value {
        json!({"metadata": {"generation": generation}, "spec": {"replicas": 2}, "status": status})
    }

    #[test]
    fn waits_for_the_new_generation_to_be_observed() {
        let d = deployment(
            2,
            json!({"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2}),
        );
        assert!(matches!(rollout(&d), Rollout::Waiting(m) if m.contains("new spec")));
    }

    #[test]
    fn follows_kubectl_rollout_status() {
        let s = |u: i64, r: i64, a: i64| {
            rollout(&deployment(
                1,
                json!({"observedGeneration": 1, "updatedReplicas": u, "replicas": r, "availableReplicas": a}),
            ))
        };
        assert_eq!(s(1, 2, 1), Rollout::Waiting("1 of 2 replicas updated".into()));
        assert_eq!(s(2, 3, 2), Rollout::Waiting("1 old replicas pending termination".into()));
        assert_eq!(s(2, 2, 1), Rollout::Waiting("1 of 2 updated replicas available".into()));
        assert_eq!(s(2, 2, 2), Rollout::Done("2 of 2 replicas available".into()));
    }

    #[test]
    fn a_failing_poll_says_what_the_server_said() {
        let status = super::super::errors::Status {
            code: 500,
            reason: "InternalError".into(),
            message: "etcdserver: request timed out".into(),
            ..Default::default()
        };
        assert_eq!(unanswered(&Failure::Status(status)), "the cluster answered 500: etcdserver: request timed out");
        assert!(unanswered(&Failure::Unreachable("connection refused".into())).ends_with("connection refused"));
    }

    #[test]
    fn progress_deadline_is_a_failure() {
        let d = deployment(
            1,
            json!({"observedGeneration": 1, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"web-5d8\" has timed out progressing."}]}),
        );
        assert!(matches!(rollout(&d), Rollout::Failed(m) if m.contains("has timed out progressing")));
    }

    #[test]
    fn stateful_sets_follow_kubectl_rollout_status() {
        let set = |status: Value| {
            status_of(
                json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": status}),
            )
        };
        let base = json!({"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 2,
            "currentRevision": "db-1", "updateRevision": "db-1"});
        assert_eq!(set(base.clone()), Rollout::Waiting("1 of 2 pods ready".into()));
        let mut rolling = base.clone();
        rolling["readyReplicas"] = json!(2);
        rolling["updateRevision"] = json!("db-2");
        assert_eq!(set(rolling.clone()), Rollout::Waiting("2 of 2 pods at the new revision".into()));
        rolling["currentRevision"] = json!("db-2");
        assert_eq!(set(rolling), Rollout::Done("2 of 2 pods ready".into()));
        assert!(matches!(set(json!({"observedGeneration": 0})), Rollout::Waiting(m) if m.contains("new spec")));
    }

    #[test]
    fn daemon_sets_wait_for_every_scheduled_pod() {
        let set = |updated: i64, available: i64| {
            status_of(json!({"kind": "DaemonSet", "metadata": {"generation": 1}, "status": {"observedGeneration": 1,
                "desiredNumberScheduled": 3, "updatedNumberScheduled": updated, "numberAvailable": available}}))
        };
        assert_eq!(set(2, 2), Rollout::Waiting("2 of 3 pods updated".into()));
        assert_eq!(set(3, 2), Rollout::Waiting("2 of 3 updated pods available".into()));
        assert_eq!(set(3, 3), Rollout::Done("3 of 3 pods available".into()));
    }

    #[test]
    fn jobs_are_judged_by_their_conditions() {
        let job = |conditions: Value| {
            status_of(json!({"kind": "Job", "status": {"active": 1, "failed": 2, "conditions": conditions}}))
        };
        assert_eq!(job(json!([])), Rollout::Waiting("running (1 active, 0 succeeded, 2 failed)".into()));
        let failed = job(json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit"}]));
        assert!(
            matches!(&failed, Rollout::Failed(m) if m.contains("BackoffLimitExceeded: Job has reached")),
            "{failed:?}"
        );
        let done = job(json!([{"type": "Complete", "status": "True"}]));
        assert!(matches!(&done, Rollout::Done(m) if text(&done) == *m && m.starts_with("completed")));
        assert!(matches!(job(json!([{"type": "Complete", "status": "False"}])), Rollout::Waiting(_)));
        assert!(matches!(status_of(json!({"kind": "CronJob"})), Rollout::Done(_)));
    }

    fn status_of(workload: Value) -> Rollout {
        status(&workload)
    }

    #[test]
    fn pod_problems_name_the_reason() {
        let pod = json!({"status": {
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                            "message": "0/3 nodes are available: 3 Insufficient memory."}],
            "containerStatuses": [
                {"name": "web", "ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff",
                 "message": "back-off 10s restarting failed container"}}, "lastState": {"terminated": {"exitCode": 1}}},
                {"name": "side", "ready": false, "state": {"running": {}}}]}});
        let problems = pod_problems(&pod);
        assert_eq!(problems.len(), 3);
        assert!(problems[0].contains("Insufficient memory"));
        assert_eq!(
            problems[1],
            "container web: CrashLoopBackOff: back-off 10s restarting failed container (last exit code 1)"
        );
        assert!(problems[2].contains("readiness probe"));
        assert!(advice(&problems[1..2], Some("web"), "shop", Some("web-1")).contains("kubectl logs -n shop web-1"));
        assert!(advice(&["container web: ImagePullBackOff".into()], Some("web"), "shop", None).contains("image name"));
    }
}
