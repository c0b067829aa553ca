//! The stand-in's workload controllers. Each GET of a workload is one tick of its
//! controller; what happens depends on the first container's image:
//!
//! | image contains | Deployment, StatefulSet, DaemonSet | Job |
//! |---|---|---|
//! | `crashloop` | pods in CrashLoopBackOff; a Deployment reports ProgressDeadlineExceeded after 3 ticks (the others have no deadline) | pods exit 1, `Failed` (BackoffLimitExceeded) after 3 ticks |
//! | `failjob` | as `crashloop` | as `crashloop` |
//! | `pullfail` | pods in ImagePullBackOff, as above | as above, ImagePullBackOff |
//! | `unschedulable` | pods Pending (Unschedulable), as above | never starts |
//! | `stall` | never progresses and never reaches a deadline (for `--timeout`) | runs for ever |
//! | anything else | observed on tick 1, every replica available on tick 2 | running on tick 1, `Complete` on tick 2 |
//!
//! A CronJob has no status to follow. A StatefulSet's first tick also makes the claims of its
//! claim templates.

use serde_json::{Value, json};

use super::store::{Store, now};

/// The kinds whose pods the stand-in makes (and deletes with them).
pub const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    Healthy,
    CrashLoop,
    PullFail,
    Unschedulable,
    Stall,
}

impl Scenario {
    fn failing(self) -> bool {
        matches!(self, Scenario::CrashLoop | Scenario::PullFail | Scenario::Unschedulable)
    }
}

fn scenario(workload: &Value) -> Scenario {
    let image = workload["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default();
    if image.contains("crashloop") || image.contains("failjob") {
        Scenario::CrashLoop
    } else if image.contains("pullfail") {
        Scenario::PullFail
    } else if image.contains("unschedulable") {
        Scenario::Unschedulable
    } else if image.contains("stall") {
        Scenario::Stall
    } else {
        Scenario::Healthy
    }
}

fn plural(kind: &str) -> &'static str {
    match kind {
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        "Job" => "jobs",
        _ => "deployments",
    }
}

/// Advances the workload of `kind` stored at `namespace`/`name` by one tick.
pub fn tick(store: &mut Store, kind: &str, namespace: &str, name: &str) {
    if !WORKLOADS.contains(&kind) {
        return;
    }
    let Some(object) = store.get_mut(plural(kind), namespace, name) else { return };
    let generation = object.body["metadata"]["generation"].as_i64().unwrap_or(1);
    if object.ticks.0 != generation {
        object.ticks = (generation, 0);
    }
    object.ticks.1 += 1;
    let ticks = object.ticks.1;
    let workload = object.body.clone();
    let scenario = scenario(&workload);
    let replicas =
        if kind == "Job" || kind == "DaemonSet" { 1 } else { workload["spec"]["replicas"].as_i64().unwrap_or(1) };
    let hash = format!("{:x}", 0x5d8f00 + generation);
    let status = match kind {
        "StatefulSet" => stateful_set(scenario, ticks, generation, replicas, name, &hash),
        "DaemonSet" => daemon_set(scenario, ticks, generation),
        "Job" => job(scenario, ticks),
        _ => deployment(scenario, ticks, generation, replicas, name, &hash),
    };
    if let Some(object) = store.get_mut(plural(kind), namespace, name) {
        object.body["status"] = status;
    }
    let finished_job = kind == "Job" && ticks == 3 && scenario.failing()
        || kind == "Job" && ticks == 2 && scenario == Scenario::Healthy;
    if ticks == 1 && kind == "StatefulSet" {
        make_claims(store, namespace, name, &workload, replicas);
    }
    if ticks == 1 || finished_job {
        replace_pods(
            store,
            namespace,
            name,
            &workload,
            Pods { scenario, kind, hash: &hash, replicas, finished: finished_job },
        );
    }
}

fn deployment(scenario: Scenario, ticks: u32, generation: i64, replicas: i64, name: &str, hash: &str) -> Value {
    let mut status = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": 0, "availableReplicas": 0, "unavailableReplicas": replicas,
        "conditions": [condition("Progressing", "True", "ReplicaSetUpdated", &format!("ReplicaSet \"{name}-{hash}\" is progressing."))]});
    match scenario {
        Scenario::Healthy if ticks >= 2 => {
            status = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                    condition("Progressing", "True", "NewReplicaSetAvailable", &format!("ReplicaSet \"{name}-{hash}\" has successfully progressed."))]});
        }
        s if s.failing() && ticks >= 3 => {
            status["conditions"] = json!([condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{name}-{hash}\" has timed out progressing.")
            )]);
        }
        _ => {}
    }
    status
}

fn stateful_set(scenario: Scenario, ticks: u32, generation: i64, replicas: i64, name: &str, hash: &str) -> Value {
    let revision = format!("{name}-{hash}");
    let ready = if scenario == Scenario::Healthy && ticks >= 2 { replicas } else { 0 };
    json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready, "currentReplicas": ready,
        "updatedReplicas": replicas, "availableReplicas": ready,
        "currentRevision": if ready == replicas { revision.clone() } else { format!("{name}-old") }, "updateRevision": revision})
}

fn daemon_set(scenario: Scenario, ticks: u32, generation: i64) -> Value {
    let available = i64::from(scenario == Scenario::Healthy && ticks >= 2);
    json!({"observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
        "updatedNumberScheduled": 1, "numberReady": available, "numberAvailable": available,
        "numberUnavailable": 1 - available, "numberMisscheduled": 0})
}

fn job(scenario: Scenario, ticks: u32) -> Value {
    match scenario {
        Scenario::Healthy if ticks >= 2 => json!({"succeeded": 1, "startTime": now(), "completionTime": now(),
            "conditions": [condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]}),
        s if s.failing() && ticks >= 3 => json!({"failed": 7, "startTime": now(),
            "conditions": [condition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]}),
        _ => json!({"active": 1, "startTime": now()}),
    }
}

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
        "lastUpdateTime": now(), "lastTransitionTime": now()})
}

/// The claims a StatefulSet's pods use, made from its claim templates as the StatefulSet
/// controller makes them: `<template>-<set>-<ordinal>`, with the template's labels and the
/// set's selector labels, and no ApplySet label. Existing claims are kept (they outlive pods).
fn make_claims(store: &mut Store, namespace: &str, name: &str, set: &Value, replicas: i64) {
    let selector = set["spec"]["selector"]["matchLabels"].as_object().cloned().unwrap_or_default();
    for template in set["spec"]["volumeClaimTemplates"].as_array().cloned().unwrap_or_default() {
        let Some(claim) = template["metadata"]["name"].as_str() else { continue };
        for i in 0..replicas {
            let claim_name = format!("{claim}-{name}-{i}");
            if store.get("persistentvolumeclaims", namespace, &claim_name).is_some() {
                continue;
            }
            let mut labels = template["metadata"]["labels"].as_object().cloned().unwrap_or_default();
            labels.extend(selector.clone());
            let body = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": namespace, "labels": labels},
                "spec": template["spec"].clone(), "status": {"phase": "Bound"}});
            store.insert("persistentvolumeclaims", namespace, &claim_name, body);
        }
    }
}

/// What the pods of one tick look like.
struct Pods<'a> {
    scenario: Scenario,
    kind: &'a str,
    hash: &'a str,
    replicas: i64,
    /// A Job that just finished: its pod terminated.
    finished: bool,
}

/// Deletes the workload's old pods and creates the new generation's, with events for the
/// failing ones.
fn replace_pods(store: &mut Store, namespace: &str, name: &str, workload: &Value, pods: Pods<'_>) {
    let Pods { scenario, kind, hash, replicas, finished } = pods;
    let prefix = format!("{name}-");
    store.remove_where("pods", namespace, |pod| {
        pod["metadata"]["name"].as_str().is_some_and(|n| n.starts_with(&prefix))
    });
    let template = &workload["spec"]["template"];
    let container = template["spec"]["containers"][0]["name"].as_str().unwrap_or("app").to_string();
    let image = template["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string();
    for i in 0..replicas {
        let pod_name = match kind {
            "StatefulSet" => format!("{name}-{i}"),
            _ => format!("{name}-{hash}-{i:05}"),
        };
        let (state, conditions, event) = match scenario {
            Scenario::CrashLoop if kind == "Job" && finished => (
                json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now()}}),
                json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]),
                Some(("BackoffLimitExceeded", "Job has reached the specified backoff limit".to_string())),
            ),
            Scenario::CrashLoop => (
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 10s restarting failed container={container} pod={pod_name}")}}),
                json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]),
                Some(("BackOff", "Back-off restarting failed container".to_string())),
            ),
            Scenario::PullFail => (
                json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}}),
                json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]),
                Some(("Failed", format!("Failed to pull image \"{image}\": not found"))),
            ),
            Scenario::Unschedulable => (
                Value::Null,
                json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": "0/1 nodes are available: 1 Insufficient memory."}]),
                Some(("FailedScheduling", "0/1 nodes are available: 1 Insufficient memory.".to_string())),
            ),
            _ if finished => (
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now()}}),
                json!([{"type": "PodScheduled", "status": "True"}]),
                None,
            ),
            _ => (json!({"running": {"startedAt": now()}}), json!([{"type": "PodScheduled", "status": "True"}]), None),
        };
        let phase = match (scenario, finished) {
            (Scenario::Unschedulable, _) => "Pending",
            (Scenario::Healthy, true) => "Succeeded",
            (_, true) => "Failed",
            _ => "Running",
        };
        let mut status = json!({"phase": phase, "conditions": conditions});
        if !state.is_null() {
            let mut container_status = json!({"name": container, "image": image, "ready": scenario == Scenario::Healthy && !finished, "restartCount": 3, "state": state});
            if scenario == Scenario::CrashLoop && !finished {
                container_status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error"}});
            }
            status["containerStatuses"] = json!([container_status]);
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": namespace, "labels": template["metadata"]["labels"].clone()},
            "spec": template["spec"].clone(), "status": status});
        store.insert("pods", namespace, &pod_name, pod);
        if let Some((reason, message)) = event {
            let event_name = format!("{pod_name}.{reason}");
            let event = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": event_name, "namespace": namespace},
                "involvedObject": {"kind": "Pod", "namespace": namespace, "name": pod_name},
                "reason": reason, "message": message, "type": "Warning", "count": 5, "lastTimestamp": now()});
            store.insert("events", namespace, &event_name, event);
        }
    }
}
