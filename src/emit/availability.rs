//! A service's PodDisruptionBudget and HorizontalPodAutoscaler, as `lower/availability.rs`
//! decided them.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{selector, service_annotations, service_labels};
use super::{int32, metadata, quantity};
use crate::model::{Amount, App, Budget, MemoryTarget, Service};

pub(super) fn disruption_budget(app: &App, svc: &Service) -> Option<PodDisruptionBudget> {
    let budget = svc.availability.disruption_budget?;
    let (max_unavailable, min_available) = match budget {
        Budget::MaxUnavailable(amount) => (Some(int_or_percent(amount)), None),
        Budget::MinAvailable(amount) => (None, Some(int_or_percent(amount))),
    };
    Some(PodDisruptionBudget {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable,
            min_available,
            selector: Some(LabelSelector { match_labels: Some(selector(app, svc)), ..LabelSelector::default() }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}

fn int_or_percent(amount: Amount) -> IntOrString {
    match amount {
        Amount::Count(n) => IntOrString::Int(int32(n)),
        Amount::Percent(p) => IntOrString::String(format!("{p}%")),
    }
}

pub(super) fn autoscaler(app: &App, svc: &Service) -> Option<HorizontalPodAutoscaler> {
    let autoscale = svc.availability.autoscale?;
    let cpu = autoscale.cpu.map(|p| metric("cpu", utilization(p)));
    let memory = autoscale.memory.map(|m| {
        let target = match m {
            MemoryTarget::Utilization(p) => utilization(p),
            MemoryTarget::AverageValue(bytes) => MetricTarget {
                type_: "AverageValue".to_string(),
                average_value: Some(quantity::bytes(bytes)),
                ..MetricTarget::default()
            },
        };
        metric("memory", target)
    });
    Some(HorizontalPodAutoscaler {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: svc.workload.kind().to_string(),
                name: svc.k8s_name.clone(),
            },
            min_replicas: Some(int32(autoscale.min)),
            max_replicas: int32(autoscale.max),
            metrics: Some(cpu.into_iter().chain(memory).collect()),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// An average utilization, percent of the pods' requests.
fn utilization(percent: u32) -> MetricTarget {
    MetricTarget {
        type_: "Utilization".to_string(),
        average_utilization: Some(int32(percent)),
        ..MetricTarget::default()
    }
}

fn metric(resource: &str, target: MetricTarget) -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_string(),
        resource: Some(ResourceMetricSource { name: resource.to_string(), target }),
        ..MetricSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, service};
    use crate::model::Autoscale;

    #[test]
    fn budget_and_autoscaler() {
        let mut s = service("web");
        assert!(disruption_budget(&app(), &s).is_none() && autoscaler(&app(), &s).is_none());
        s.availability.disruption_budget = Some(Budget::MinAvailable(Amount::Percent(50)));
        let spec = disruption_budget(&app(), &s).unwrap().spec.unwrap();
        assert_eq!(spec.min_available, Some(IntOrString::String("50%".into())));
        s.availability.autoscale =
            Some(Autoscale { min: 2, max: 5, cpu: Some(70), memory: Some(MemoryTarget::AverageValue(512 << 20)) });
        let spec = autoscaler(&app(), &s).unwrap().spec.unwrap();
        assert_eq!(
            (spec.min_replicas, spec.max_replicas, spec.scale_target_ref.kind.as_str()),
            (Some(2), 5, "Deployment")
        );
        let metrics = spec.metrics.unwrap();
        assert_eq!(metrics[1].resource.as_ref().unwrap().target.average_value.as_ref().unwrap().0, "512Mi");
    }
}
