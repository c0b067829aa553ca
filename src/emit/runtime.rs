//! The service's [`Runtime`](crate::model::Runtime) in its pod and container: lifecycle hooks
//! and stop signal, GPUs, sysctls, scheduling (node selector, affinity, spread, tolerations),
//! service account and image pull secrets. `lower/runtime.rs` decided all of it.

use k8s_openapi::api::core::v1::{
    Affinity, Container, ExecAction, Lifecycle, LifecycleHandler, LocalObjectReference, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm, PodAntiAffinity, PodOS, PodSecurityContext, PodSpec,
    ResourceRequirements, Sysctl, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::labels::selector;
use super::{int32, non_empty, non_empty_vec};
use crate::model::{App, Runtime, Service};

/// The resource name the NVIDIA device plugin offers.
const GPU: &str = "nvidia.com/gpu";

/// `container` with the service's lifecycle hooks, stop signal and GPUs.
pub(super) fn container(svc: &Service, mut container: Container) -> Container {
    let runtime = &svc.runtime;
    container.lifecycle = lifecycle(runtime);
    if let Some(gpus) = runtime.gpus {
        // Extended resources are limits; Kubernetes sets the request equal to it.
        let resources = container.resources.get_or_insert_with(ResourceRequirements::default);
        let limits = resources.limits.get_or_insert_with(Default::default);
        limits.insert(GPU.to_string(), k8s_openapi::apimachinery::pkg::api::resource::Quantity(gpus.to_string()));
    }
    container
}

fn lifecycle(runtime: &Runtime) -> Option<Lifecycle> {
    let handler = |command: &Vec<String>| LifecycleHandler {
        exec: Some(ExecAction { command: Some(command.clone()) }),
        ..LifecycleHandler::default()
    };
    let lifecycle = Lifecycle {
        post_start: runtime.post_start.as_ref().map(handler),
        pre_stop: runtime.pre_stop.as_ref().map(handler),
        stop_signal: runtime.stop_signal.clone(),
    };
    (lifecycle != Lifecycle::default()).then_some(lifecycle)
}

/// `spec` with the service's pod-level runtime settings.
pub(super) fn pod(app: &App, svc: &Service, mut spec: PodSpec) -> PodSpec {
    let runtime = &svc.runtime;
    if !runtime.sysctls.is_empty() {
        let sysctls = runtime.sysctls.iter().map(|(name, value)| Sysctl { name: name.clone(), value: value.clone() });
        spec.security_context.get_or_insert_with(PodSecurityContext::default).sysctls = Some(sysctls.collect());
    }
    if let Some(group) = svc.fs_group {
        // Merged with the sysctls above. `OnRootMismatch` changes the owner of a claim's files
        // once, not on every start (a large volume would take minutes).
        let context = spec.security_context.get_or_insert_with(PodSecurityContext::default);
        context.fs_group = Some(i64::from(group));
        context.fs_group_change_policy = Some("OnRootMismatch".to_string());
    }
    if !runtime.node_selector.is_empty() {
        spec.node_selector.get_or_insert_with(Default::default).extend(runtime.node_selector.clone());
    }
    spec.affinity = affinity(app, svc).or(spec.affinity);
    spec.topology_spread_constraints = non_empty_vec(spread(app, svc)).or(spec.topology_spread_constraints);
    spec.tolerations = non_empty_vec(runtime.tolerations.iter().map(toleration).collect()).or(spec.tolerations);
    spec.service_account_name = runtime.service_account.clone().or(spec.service_account_name);
    let secrets = runtime.image_pull_secrets.iter().map(|name| LocalObjectReference { name: name.clone() });
    spec.image_pull_secrets = non_empty_vec(secrets.collect()).or(spec.image_pull_secrets);
    spec.os = runtime.os.clone().map(|name| PodOS { name }).or(spec.os);
    spec
}

/// `!=` constraints as required node affinity, `max_replicas_per_node: 1` as required pod
/// anti-affinity on the node's hostname.
fn affinity(app: &App, svc: &Service) -> Option<Affinity> {
    let runtime = &svc.runtime;
    let expressions: Vec<NodeSelectorRequirement> = runtime
        .node_exclusions
        .iter()
        .map(|(key, values)| NodeSelectorRequirement {
            key: key.clone(),
            operator: "NotIn".to_string(),
            values: Some(values.clone()),
        })
        .collect();
    let node_affinity = (!expressions.is_empty()).then(|| NodeAffinity {
        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: Some(expressions),
                ..NodeSelectorTerm::default()
            }],
        }),
        ..NodeAffinity::default()
    });
    let pod_anti_affinity = runtime.one_per_node.then(|| PodAntiAffinity {
        required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
            label_selector: Some(own_pods(app, svc)),
            topology_key: "kubernetes.io/hostname".to_string(),
            ..PodAffinityTerm::default()
        }]),
        ..PodAntiAffinity::default()
    });
    let affinity = Affinity { node_affinity, pod_anti_affinity, ..Affinity::default() };
    (affinity != Affinity::default()).then_some(affinity)
}

fn spread(app: &App, svc: &Service) -> Vec<TopologySpreadConstraint> {
    let constraint = |s: &crate::model::Spread| TopologySpreadConstraint {
        label_selector: Some(own_pods(app, svc)),
        max_skew: int32(s.max_skew.max(1)),
        topology_key: s.topology_key.clone(),
        when_unsatisfiable: if s.hard { "DoNotSchedule" } else { "ScheduleAnyway" }.to_string(),
        ..TopologySpreadConstraint::default()
    };
    svc.runtime.spread.iter().map(constraint).collect()
}

/// The service's own pods, by its selector labels.
fn own_pods(app: &App, svc: &Service) -> LabelSelector {
    LabelSelector { match_labels: non_empty(selector(app, svc)), ..LabelSelector::default() }
}

fn toleration(t: &crate::model::Toleration) -> Toleration {
    Toleration {
        key: t.key.clone(),
        operator: t.operator.clone(),
        value: t.value.clone(),
        effect: t.effect.clone(),
        toleration_seconds: t.seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, service};
    use crate::model::Spread;

    #[test]
    fn nothing_set_changes_nothing() {
        let s = service("web");
        assert_eq!(pod(&app(), &s, PodSpec::default()), PodSpec::default());
        assert_eq!(container(&s, Container::default()), Container::default());
    }

    #[test]
    fn scheduling_settings() {
        let mut s = service("web");
        s.runtime.node_exclusions = vec![("zone".into(), vec!["a".into()])];
        s.runtime.one_per_node = true;
        s.runtime.spread = vec![Spread { topology_key: "zone".into(), max_skew: 1, hard: false }];
        s.runtime.gpus = Some(2);
        s.runtime.stop_signal = Some("SIGINT".into());
        s.runtime.os = Some("linux".into());
        let spec = pod(&app(), &s, PodSpec::default());
        let affinity = spec.affinity.unwrap();
        let term = &affinity.node_affinity.unwrap().required_during_scheduling_ignored_during_execution.unwrap();
        assert_eq!(term.node_selector_terms[0].match_expressions.as_ref().unwrap()[0].operator, "NotIn");
        assert!(affinity.pod_anti_affinity.is_some());
        assert_eq!(spec.topology_spread_constraints.unwrap()[0].when_unsatisfiable, "ScheduleAnyway");
        assert_eq!(spec.os.unwrap().name, "linux");
        let c = container(&s, Container::default());
        assert_eq!(c.resources.unwrap().limits.unwrap()[GPU].0, "2");
        assert_eq!(c.lifecycle.unwrap().stop_signal.as_deref(), Some("SIGINT"));
    }
}
