//! The stand-in's Deployment controller. Each GET of a Deployment is one tick of the
//! controller; what happens depends on the first container's image:
//!
//! | image contains | outcome |
//! |---|---|
//! | `crashloop` | pods in CrashLoopBackOff, ProgressDeadlineExceeded after 3 ticks |
//! | `pullfail` | pods in ImagePullBackOff, ProgressDeadlineExceeded after 3 ticks |
//! | `unschedulable` | pods Pending (Unschedulable), ProgressDeadlineExceeded after 3 ticks |
//! | `stall` | never progresses and never reaches its deadline (for `--timeout`) |
//! | anything else | observed on tick 1, every replica available on tick 2 |

use serde_json::{Value, json};

use super::store::{Store, now};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    Healthy,
    CrashLoop,
    PullFail,
    Unschedulable,
    Stall,
}

fn scenario(deployment: &Value) -> Scenario {
    let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default();
    if image.contains("crashloop") {
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

/// Advances the Deployment stored at `key` by one tick.
pub fn tick(store: &mut Store, namespace: &str, name: &str) {
    let Some(object) = store.get_mut("deployments", namespace, name) else { return };
    let generation = object.body["metadata"]["generation"].as_i64().unwrap_or(1);
    if object.ticks.0 != generation {
        object.ticks = (generation, 0);
    }
    object.ticks.1 += 1;
    let ticks = object.ticks.1;
    let deployment = object.body.clone();
    let scenario = scenario(&deployment);
    let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let hash = format!("{:x}", 0x5d8f00 + generation);
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
        Scenario::CrashLoop | Scenario::PullFail | Scenario::Unschedulable if ticks >= 3 => {
            status["conditions"] = json!([condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{name}-{hash}\" has timed out progressing.")
            )]);
        }
        Scenario::Stall => status["observedGeneration"] = json!(generation),
        _ => {}
    }
    if let Some(object) = store.get_mut("deployments", namespace, name) {
        object.body["status"] = status;
    }
    if ticks == 1 {
        replace_pods(store, namespace, name, &deployment, scenario, &hash, replicas);
    }
}

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
        "lastUpdateTime": now(), "lastTransitionTime": now()})
}

/// Deletes the Deployment's old pods and creates the new generation's, with events for the
/// failing ones.
fn replace_pods(
    store: &mut Store,
    namespace: &str,
    name: &str,
    deployment: &Value,
    scenario: Scenario,
    hash: &str,
    replicas: i64,
) {
    let prefix = format!("{name}-");
    store.remove_where("pods", namespace, |pod| {
        pod["metadata"]["name"].as_str().is_some_and(|n| n.starts_with(&prefix))
    });
    let template = &deployment["spec"]["template"];
    let container = template["spec"]["containers"][0]["name"].as_str().unwrap_or("app").to_string();
    let image = template["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string();
    for i in 0..replicas {
        let pod_name = format!("{name}-{hash}-{i:05}");
        let (state, conditions, event) = match scenario {
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
            _ => (json!({"running": {"startedAt": now()}}), json!([{"type": "PodScheduled", "status": "True"}]), None),
        };
        let mut status = json!({"phase": if scenario == Scenario::Unschedulable { "Pending" } else { "Running" }, "conditions": conditions});
        if !state.is_null() {
            let mut container_status = json!({"name": container, "image": image, "ready": scenario == Scenario::Healthy, "restartCount": 3, "state": state});
            if scenario == Scenario::CrashLoop {
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
