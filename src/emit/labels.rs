//! The Kubernetes recommended labels, so `kubectl get -l` and dashboards group kompile's
//! objects by project and by service.

use std::collections::BTreeMap;

use crate::model::{App, Service};
use crate::names::label_value;

pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub(super) const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub(super) const NAME: &str = "app.kubernetes.io/name";
pub(super) const INSTANCE: &str = "app.kubernetes.io/instance";
/// Records which compose service an object came from, since `k8s_name` may differ from it.
pub const SERVICE_ANNOTATION: &str = "kompile.dev/service";

/// Labels on every object of the project.
pub(super) fn app_labels(app: &App) -> BTreeMap<String, String> {
    BTreeMap::from([(PART_OF.to_string(), label_value(&app.name)), (MANAGED_BY.to_string(), "kompile".to_string())])
}

/// Labels on the objects that belong to one service: its Deployment, pods, Service and env
/// ConfigMap.
pub(super) fn service_labels(app: &App, svc: &Service) -> BTreeMap<String, String> {
    let mut labels = app_labels(app);
    labels.extend(selector(app, svc));
    labels
}

/// The pod selector. Deliberately only the two labels that identify the service: a
/// Deployment's selector is immutable, so it must not include anything that may change.
pub(super) fn selector(app: &App, svc: &Service) -> BTreeMap<String, String> {
    BTreeMap::from([(NAME.to_string(), svc.k8s_name.clone()), (INSTANCE.to_string(), label_value(&app.name))])
}

/// The pod template's labels: the service's, and one per network it joins (never selector
/// labels: a Deployment's selector cannot change).
pub(super) fn pod_labels(app: &App, svc: &Service) -> BTreeMap<String, String> {
    let mut labels = service_labels(app, svc);
    labels.extend(svc.networks.iter().map(|n| (n.key(), "true".to_string())));
    labels
}

/// Annotations naming the compose service, for the Deployment and the Service.
pub(super) fn service_annotations(svc: &Service) -> BTreeMap<String, String> {
    BTreeMap::from([(SERVICE_ANNOTATION.to_string(), svc.name.clone())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, service};

    #[test]
    fn selector_is_subset_of_service_labels() {
        let (a, s) = (app(), service("web"));
        let labels = service_labels(&a, &s);
        for (k, v) in selector(&a, &s) {
            assert_eq!(labels.get(&k), Some(&v));
        }
        assert_eq!(labels.len(), 4);
    }

    #[test]
    fn long_project_names_make_valid_label_values() {
        let mut a = app();
        a.name = "p".repeat(100);
        let labels = service_labels(&a, &service("web"));
        assert!(labels.values().all(|v| crate::names::label_value(v) == *v && v.len() <= 63), "{labels:?}");
    }
}
