//! Turns the validated [`App`] model into Kubernetes objects. Pure and infallible: every
//! decision that could fail or warn was already made by `lower`.

mod availability;
mod checksum;
mod configs_and_secrets;
mod controllers;
mod ingress;
mod k8s_service;
mod labels;
mod network_policy;
mod origin;
mod ports;
mod quantity;
mod runtime;
mod seeds;
mod sidecars;
mod storage;
mod waits;
mod workload;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, PodTemplateSpec, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::App;

pub use labels::{PART_OF, SERVICE_ANNOTATION};
pub use origin::Origin;
pub use waits::{DEPENDS_ON_ANNOTATION, parse_depends_on};

/// One Kubernetes object kompile can produce.
// Boxed: a Deployment is about 2.4 KB inline, and projects of tens of thousands of services
// exist; unboxed, every ConfigMap paid that size and sorting copied it (40,000 services
// peaked at 463 MB, a third of it the vector of objects and the sort's scratch space).
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    ConfigMap(Box<ConfigMap>),
    Secret(Box<Secret>),
    ServiceAccount(Box<ServiceAccount>),
    Role(Box<Role>),
    RoleBinding(Box<RoleBinding>),
    PersistentVolumeClaim(Box<PersistentVolumeClaim>),
    Service(Box<Service>),
    Ingress(Box<Ingress>),
    NetworkPolicy(Box<NetworkPolicy>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    HorizontalPodAutoscaler(Box<HorizontalPodAutoscaler>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
}

impl Object {
    /// The Kubernetes `kind`, e.g. `Deployment`.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::ConfigMap(_) => ConfigMap::KIND,
            Object::Secret(_) => Secret::KIND,
            Object::ServiceAccount(_) => ServiceAccount::KIND,
            Object::Role(_) => Role::KIND,
            Object::RoleBinding(_) => RoleBinding::KIND,
            Object::PersistentVolumeClaim(_) => PersistentVolumeClaim::KIND,
            Object::Service(_) => Service::KIND,
            Object::Ingress(_) => Ingress::KIND,
            Object::NetworkPolicy(_) => NetworkPolicy::KIND,
            Object::PodDisruptionBudget(_) => PodDisruptionBudget::KIND,
            Object::HorizontalPodAutoscaler(_) => HorizontalPodAutoscaler::KIND,
            Object::Deployment(_) => Deployment::KIND,
            Object::StatefulSet(_) => StatefulSet::KIND,
            Object::DaemonSet(_) => DaemonSet::KIND,
            Object::Job(_) => Job::KIND,
            Object::CronJob(_) => CronJob::KIND,
        }
    }

    /// `metadata.name`; emit always sets it.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::ConfigMap(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::ServiceAccount(o) => &o.metadata,
            Object::Role(o) => &o.metadata,
            Object::RoleBinding(o) => &o.metadata,
            Object::PersistentVolumeClaim(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Ingress(o) => &o.metadata,
            Object::NetworkPolicy(o) => &o.metadata,
            Object::PodDisruptionBudget(o) => &o.metadata,
            Object::HorizontalPodAutoscaler(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::StatefulSet(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
            Object::CronJob(o) => &o.metadata,
        }
    }

    /// The pod template of a workload (a CronJob's, of its Jobs); `None` for other kinds.
    pub fn pod_template(&self) -> Option<&PodTemplateSpec> {
        match self {
            Object::Deployment(o) => o.spec.as_ref().map(|s| &s.template),
            Object::StatefulSet(o) => o.spec.as_ref().map(|s| &s.template),
            Object::DaemonSet(o) => o.spec.as_ref().map(|s| &s.template),
            Object::Job(o) => o.spec.as_ref().map(|s| &s.template),
            Object::CronJob(o) => o.spec.as_ref()?.job_template.spec.as_ref().map(|s| &s.template),
            _ => None,
        }
    }

    /// The object as JSON, with `apiVersion` and `kind` first and fields in k8s-openapi's order.
    pub fn to_value(&self) -> serde_json::Value {
        let value = match self {
            Object::ConfigMap(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Role(o) => serde_json::to_value(o),
            Object::RoleBinding(o) => serde_json::to_value(o),
            Object::PersistentVolumeClaim(o) => serde_json::to_value(o),
            Object::Service(o) => serde_json::to_value(o),
            Object::Ingress(o) => serde_json::to_value(o),
            Object::NetworkPolicy(o) => serde_json::to_value(o),
            Object::PodDisruptionBudget(o) => serde_json::to_value(o),
            Object::HorizontalPodAutoscaler(o) => serde_json::to_value(o),
            Object::Deployment(o) => serde_json::to_value(o),
            Object::StatefulSet(o) => serde_json::to_value(o),
            Object::DaemonSet(o) => serde_json::to_value(o),
            Object::Job(o) => serde_json::to_value(o),
            Object::CronJob(o) => serde_json::to_value(o),
        };
        // Serializing into a Value only fails for non-string map keys or custom serializer
        // errors, and k8s-openapi types have neither; Null keeps this infallible regardless.
        value.unwrap_or_default()
    }

    /// Position of the kind in apply order: things a pod references come before the pod,
    /// and its NetworkPolicy before it, so it never runs unisolated.
    fn kind_rank(&self) -> u8 {
        match self {
            Object::ConfigMap(_) => 0,
            Object::Secret(_) => 1,
            Object::ServiceAccount(_) => 2,
            Object::Role(_) => 3,
            Object::RoleBinding(_) => 4,
            Object::PersistentVolumeClaim(_) => 5,
            Object::Service(_) => 6,
            Object::Ingress(_) => 7,
            Object::NetworkPolicy(_) => 8,
            Object::PodDisruptionBudget(_) => 9,
            Object::HorizontalPodAutoscaler(_) => 10,
            // Workloads last, in one rank: within it, by name (`kompile apply` orders them by
            // `depends_on`).
            Object::Deployment(_)
            | Object::StatefulSet(_)
            | Object::DaemonSet(_)
            | Object::Job(_)
            | Object::CronJob(_) => 11,
        }
    }
}

/// Every object for `app`, in apply order (see `kind_rank`), each kind sorted by name.
pub fn emit(app: &App) -> Vec<Object> {
    let mut objects =
        Vec::with_capacity(app.configs.len() + app.secrets.len() + app.volumes.len() + 3 * app.services.len());
    objects.extend(app.configs.iter().map(|c| Object::ConfigMap(Box::new(configs_and_secrets::config_map(app, c)))));
    objects.extend(app.secrets.iter().map(|s| Object::Secret(Box::new(configs_and_secrets::secret(app, s)))));
    objects.extend(app.volumes.iter().map(|v| Object::PersistentVolumeClaim(Box::new(storage::claim(app, v)))));
    for svc in &app.services {
        if let Some(env) = &svc.env_from {
            objects.push(Object::ConfigMap(Box::new(configs_and_secrets::env_config_map(app, svc, env))));
        }
        if let Some(env) = &svc.secret_env {
            objects.push(Object::Secret(Box::new(configs_and_secrets::env_secret(app, svc, env))));
        }
        // A sidecar's container is in its pod's workload, reached through that pod's Services.
        if svc.pod_of.is_some() {
            continue;
        }
        if let Some(s) = k8s_service::service(app, svc) {
            let aliases = svc.aliases.iter().map(|alias| k8s_service::alias(&s, alias));
            objects.extend(aliases.map(|a| Object::Service(Box::new(a))));
            objects.push(Object::Service(Box::new(s)));
        }
        if let Some(s) = k8s_service::published(app, svc) {
            objects.push(Object::Service(Box::new(s)));
        }
        if let Some(ingress) = ingress::ingress(app, svc) {
            objects.push(Object::Ingress(Box::new(ingress)));
        }
        if let Some(policy) = network_policy::network_policy(app, svc) {
            objects.push(Object::NetworkPolicy(Box::new(policy)));
        }
        if let Some(budget) = availability::disruption_budget(app, svc) {
            objects.push(Object::PodDisruptionBudget(Box::new(budget)));
        }
        if let Some(autoscaler) = availability::autoscaler(app, svc) {
            objects.push(Object::HorizontalPodAutoscaler(Box::new(autoscaler)));
        }
        objects.extend(controllers::objects(app, svc));
    }
    waits::finish(app, &mut objects);
    objects.sort_by(|a, b| (a.kind_rank(), a.name()).cmp(&(b.kind_rank(), b.name())));
    objects
}

/// Object metadata shared by every kind.
fn metadata(
    app: &App,
    name: &str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: app.namespace.clone(),
        labels: non_empty(labels),
        annotations: non_empty(annotations),
        ..ObjectMeta::default()
    }
}

/// Kubernetes omits empty maps; `None` keeps the output free of `{}` noise.
fn non_empty<K, V>(map: BTreeMap<K, V>) -> Option<BTreeMap<K, V>> {
    if map.is_empty() { None } else { Some(map) }
}

/// [`non_empty`] for lists.
fn non_empty_vec<T>(items: Vec<T>) -> Option<Vec<T>> {
    if items.is_empty() { None } else { Some(items) }
}

/// Kubernetes counts in whole seconds; rounding up never shortens what the user asked for.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// [`whole_seconds`] for the `int64` second fields.
fn seconds_up(duration: Duration) -> i64 {
    i64::try_from(whole_seconds(duration)).unwrap_or(i64::MAX)
}

/// [`whole_seconds`] for the many `int32` second fields.
fn seconds_up_i32(duration: Duration) -> i32 {
    saturating_i32(whole_seconds(duration))
}

/// Saturating conversion for counts the API holds as `int32`.
fn saturating_i32(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// [`saturating_i32`] for the model's `u32` counts.
fn int32(n: u32) -> i32 {
    saturating_i32(u64::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, port, service};
    use crate::model::{Config, ConfigData, Secret as ModelSecret};

    #[test]
    fn orders_by_kind_then_name() {
        let mut a = app();
        a.services = vec![service("zeta"), service("alpha")];
        for s in &mut a.services {
            s.expose = vec![port(80)];
        }
        a.secrets = vec![ModelSecret {
            name: "token".into(),
            k8s_name: "token".into(),
            key: "token".into(),
            data: b"x".to_vec(),
        }];
        a.configs = vec![Config {
            name: "conf".into(),
            k8s_name: "conf".into(),
            data: BTreeMap::from([("k".into(), ConfigData::Text("v".into()))]),
        }];
        let got: Vec<_> = emit(&a).iter().map(|o| (o.kind(), o.name().to_string())).collect();
        let want = [
            ("ConfigMap", "conf"),
            ("Secret", "token"),
            ("Service", "alpha"),
            ("Service", "zeta"),
            ("Deployment", "alpha"),
            ("Deployment", "zeta"),
        ];
        let want: Vec<_> = want.iter().map(|(k, n)| (*k, n.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn namespace_and_common_labels_on_every_object() {
        let mut a = app();
        a.namespace = Some("prod".into());
        a.services = vec![service("web")];
        for object in emit(&a) {
            let meta = object.metadata();
            assert_eq!(meta.namespace.as_deref(), Some("prod"));
            let labels = meta.labels.clone().unwrap_or_default();
            assert_eq!(labels["app.kubernetes.io/part-of"], "shop");
            assert_eq!(labels["app.kubernetes.io/managed-by"], "kompile");
        }
    }

    #[test]
    fn to_value_has_api_version_and_kind_first() {
        let mut a = app();
        a.services = vec![service("web")];
        for object in emit(&a) {
            let value = object.to_value();
            let keys: Vec<_> = value.as_object().map(|m| m.keys().take(2).cloned().collect()).unwrap_or_default();
            assert_eq!(keys, ["apiVersion", "kind"]);
            assert_eq!(value["kind"], object.kind());
        }
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(seconds_up(Duration::from_millis(1500)), 2);
        assert_eq!(seconds_up(Duration::from_secs(3)), 3);
        assert_eq!(seconds_up(Duration::ZERO), 0);
        assert_eq!(seconds_up_i32(Duration::from_secs(u64::MAX)), i32::MAX);
    }
}
