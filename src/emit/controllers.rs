//! The workload of each service as `lower` chose it (`model::Workload`): a Deployment
//! (`workload.rs`), or a StatefulSet with its governing headless Service, a DaemonSet, a Job
//! or a CronJob. Every kind runs the pod of `workload::pod_template`.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet, StatefulSet, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodTemplateSpec, Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{selector, service_annotations, service_labels};
use super::workload::{deployment, pod_template};
use super::{Object, int32, k8s_service, metadata, non_empty_vec, seconds_up_i32, storage};
use crate::model::{self, App, UpdateOrder, Workload};

/// The objects that run `svc`'s pods: its workload, and a StatefulSet's headless Service.
pub(super) fn objects(app: &App, svc: &model::Service) -> Vec<Object> {
    match &svc.workload {
        Workload::Deployment => vec![Object::Deployment(Box::new(deployment(app, svc)))],
        Workload::StatefulSet(set) => vec![
            Object::Service(Box::new(headless(app, svc, set))),
            Object::StatefulSet(Box::new(stateful_set(app, svc, set))),
        ],
        Workload::DaemonSet => vec![Object::DaemonSet(Box::new(daemon_set(app, svc)))],
        Workload::Job(job) => vec![Object::Job(Box::new(job_object(app, svc, job)))],
        Workload::CronJob(cron) => vec![Object::CronJob(Box::new(cron_job(app, svc, cron)))],
    }
}

fn label_selector(app: &App, svc: &model::Service) -> LabelSelector {
    LabelSelector { match_labels: Some(selector(app, svc)), ..LabelSelector::default() }
}

/// Pods that keep their names (`<set>-0`, ...) and their claims. `Parallel` starts and
/// replaces pods without waiting for the ones before them, as Compose starts replicas; an
/// update replaces one pod at a time, stopping it first.
fn stateful_set(app: &App, svc: &model::Service, set: &model::StatefulSet) -> StatefulSet {
    StatefulSet {
        metadata: metadata(app, &set.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(StatefulSetSpec {
            // An autoscaler sets the replicas; written here, every apply would reset them.
            replicas: svc.availability.autoscale.is_none().then(|| int32(svc.replicas)),
            selector: label_selector(app, svc),
            service_name: Some(set.service_name.clone()),
            pod_management_policy: Some("Parallel".to_string()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                rolling_update: None,
            }),
            min_ready_seconds: svc.update.min_ready.map(seconds_up_i32),
            template: pod_template(app, svc),
            volume_claim_templates: non_empty_vec(set.claim_templates.iter().map(|v| claim_template(app, v)).collect()),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// A claim template is the claim kompile would otherwise make, without a namespace (the
/// StatefulSet's applies).
fn claim_template(app: &App, volume: &model::Volume) -> PersistentVolumeClaim {
    let mut claim = storage::claim(app, volume);
    claim.metadata.namespace = None;
    claim
}

/// The governing Service of a StatefulSet: headless (`clusterIP: None`), so each pod has a DNS
/// name (`<set>-0.<service>`); clients keep using the ClusterIP Service named after the
/// service. Same pods and ports.
fn headless(app: &App, svc: &model::Service, set: &model::StatefulSet) -> Service {
    let ports = k8s_service::service(app, svc).and_then(|s| s.spec).and_then(|s| s.ports);
    Service {
        metadata: metadata(app, &set.service_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            cluster_ip: Some("None".to_string()),
            selector: Some(selector(app, svc)),
            ports,
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// One pod on every node. `update_config` reads as for a Deployment, per node: start-first
/// starts the new pod before the old one stops (`maxSurge`), stop-first the reverse.
fn daemon_set(app: &App, svc: &model::Service) -> DaemonSet {
    let update = &svc.update;
    // Parallelism 0 is "all at once".
    let batch = match update.parallelism {
        0 => IntOrString::String("100%".to_string()),
        n => IntOrString::Int(int32(n)),
    };
    let none = IntOrString::Int(0);
    let (max_surge, max_unavailable) = match update.order {
        UpdateOrder::StartFirst => (batch, none),
        UpdateOrder::StopFirst => (none, batch),
    };
    DaemonSet {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(DaemonSetSpec {
            selector: label_selector(app, svc),
            template: pod_template(app, svc),
            min_ready_seconds: update.min_ready.map(seconds_up_i32),
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_surge: Some(max_surge),
                    max_unavailable: Some(max_unavailable),
                }),
            }),
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    }
}

fn job_object(app: &App, svc: &model::Service, job: &model::Job) -> Job {
    Job {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(job_spec(app, svc, job)),
        ..Job::default()
    }
}

fn cron_job(app: &App, svc: &model::Service, cron: &model::CronJob) -> CronJob {
    CronJob {
        metadata: metadata(app, &cron.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(CronJobSpec {
            schedule: cron.schedule.clone(),
            time_zone: cron.time_zone.clone(),
            concurrency_policy: Some(cron.concurrency.k8s_name().to_string()),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(service_labels(app, svc)), ..ObjectMeta::default() }),
                spec: Some(job_spec(app, svc, &cron.job)),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    }
}

/// `completions` pods, all at once, each restarted as Compose would; the Job's selector is
/// the one Kubernetes generates.
fn job_spec(app: &App, svc: &model::Service, job: &model::Job) -> JobSpec {
    JobSpec {
        template: job_pod(app, svc, job.restart),
        backoff_limit: Some(int32(job.backoff_limit)),
        completions: Some(int32(job.completions)),
        parallelism: Some(int32(job.completions)),
        ..JobSpec::default()
    }
}

/// The service's pod, as a Job runs it: the restart policy on the pod, and no readiness or
/// startup probe on its container (no one sends a task traffic, and a Job does not roll
/// out); the liveness probe stays, waiting out `start_period` as the startup probe did.
fn job_pod(app: &App, svc: &model::Service, restart: model::JobRestart) -> PodTemplateSpec {
    let mut template = pod_template(app, svc);
    if let Some(pod) = &mut template.spec {
        pod.restart_policy = Some(restart.k8s_name().to_string());
        for container in pod.containers.iter_mut().filter(|c| c.name == svc.k8s_name) {
            container.readiness_probe = None;
            if container.startup_probe.take().is_some()
                && let Some(liveness) = &mut container.liveness_probe
            {
                let start_period = svc.healthcheck.as_ref().and_then(|h| h.start_period);
                liveness.initial_delay_seconds = start_period.map(seconds_up_i32);
            }
        }
    }
    template
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::emit::fixtures::{app, port, service};
    use crate::model::{AccessMode, Healthcheck, JobRestart, MountSource, ProbeCommand, Volume};

    fn template(name: &str) -> Volume {
        Volume {
            name: name.into(),
            k8s_name: name.into(),
            access_mode: AccessMode::ReadWriteOnce,
            size: Some(5 << 30),
            storage_class: None,
        }
    }

    fn database() -> model::Service {
        let mut s = service("db");
        s.expose = vec![port(5432)];
        s.mounts = vec![model::Mount::new(
            "/var/lib/postgresql/data".into(),
            false,
            MountSource::ClaimTemplate { name: "pgdata".into() },
        )];
        s.workload = Workload::StatefulSet(model::StatefulSet {
            k8s_name: "db".into(),
            service_name: "db-headless".into(),
            claim_templates: vec![template("pgdata")],
        });
        s
    }

    #[test]
    fn a_stateful_set_owns_its_claims_and_has_a_headless_service() {
        let mut a = app();
        a.namespace = Some("shop".into());
        let s = database();
        let objects = objects(&a, &s);
        let kinds: Vec<_> = objects.iter().map(|o| (o.kind(), o.name().to_string())).collect();
        assert_eq!(kinds, [("Service", "db-headless".to_string()), ("StatefulSet", "db".to_string())]);
        let Object::Service(headless) = &objects[0] else { panic!("{kinds:?}") };
        let spec = headless.spec.clone().unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec.ports.unwrap()[0].port, 5432);
        let Object::StatefulSet(set) = &objects[1] else { panic!("{kinds:?}") };
        let spec = set.spec.clone().unwrap();
        assert_eq!(spec.service_name.as_deref(), Some("db-headless"));
        assert_eq!(spec.pod_management_policy.as_deref(), Some("Parallel"));
        let claims = spec.volume_claim_templates.unwrap();
        assert_eq!(claims[0].metadata.name.as_deref(), Some("pgdata"));
        assert_eq!(claims[0].metadata.namespace, None, "the StatefulSet's namespace applies");
        let storage =
            &claims[0].spec.as_ref().unwrap().resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"];
        assert_eq!(storage.0, "5Gi");
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.volumes, None, "a claim template is no pod volume");
        assert_eq!(pod.containers[0].volume_mounts.as_ref().unwrap()[0].name, "pgdata");
    }

    #[test]
    fn a_daemon_set_surges_one_pod_per_node() {
        let mut s = service("agent");
        s.workload = Workload::DaemonSet;
        let [Object::DaemonSet(set)] = &objects(&app(), &s)[..] else { panic!() };
        let rolling = set.spec.clone().unwrap().update_strategy.unwrap().rolling_update.unwrap();
        assert_eq!(
            (rolling.max_surge, rolling.max_unavailable),
            (Some(IntOrString::Int(1)), Some(IntOrString::Int(0)))
        );
        s.update.order = UpdateOrder::StopFirst;
        s.update.parallelism = 0;
        let [Object::DaemonSet(set)] = &objects(&app(), &s)[..] else { panic!() };
        let rolling = set.spec.clone().unwrap().update_strategy.unwrap().rolling_update.unwrap();
        assert_eq!(rolling.max_unavailable, Some(IntOrString::String("100%".into())));
    }

    #[test]
    fn a_job_runs_its_replicas_once_without_readiness() {
        let mut s = service("migrate");
        s.replicas = 3;
        s.healthcheck = Some(Healthcheck {
            test: Some(ProbeCommand::Exec(vec!["true".into()])),
            start_period: Some(Duration::from_secs(20)),
            ..Healthcheck::default()
        });
        s.workload = Workload::Job(model::Job { restart: JobRestart::Never, backoff_limit: 0, completions: 3 });
        let [Object::Job(job)] = &objects(&app(), &s)[..] else { panic!() };
        let spec = job.spec.clone().unwrap();
        assert_eq!((spec.completions, spec.parallelism, spec.backoff_limit), (Some(3), Some(3), Some(0)));
        assert_eq!(spec.selector, None, "generated by Kubernetes");
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        let container = &pod.containers[0];
        assert!(container.readiness_probe.is_none() && container.startup_probe.is_none());
        assert_eq!(container.liveness_probe.as_ref().and_then(|p| p.initial_delay_seconds), Some(20));
    }

    #[test]
    fn a_cron_job_runs_the_job_on_its_schedule() {
        let mut s = service("backup");
        let job = model::Job { restart: JobRestart::OnFailure, backoff_limit: model::Job::NO_LIMIT, completions: 1 };
        s.workload = Workload::CronJob(model::CronJob {
            k8s_name: "backup".into(),
            schedule: "0 3 * * *".into(),
            concurrency: model::Concurrency::Forbid,
            time_zone: Some("Europe/Berlin".into()),
            job,
        });
        let [Object::CronJob(cron)] = &objects(&app(), &s)[..] else { panic!() };
        let spec = cron.spec.clone().unwrap();
        assert_eq!(spec.schedule, "0 3 * * *");
        assert_eq!(
            (spec.concurrency_policy.as_deref(), spec.time_zone.as_deref()),
            (Some("Forbid"), Some("Europe/Berlin"))
        );
        let job = spec.job_template.spec.unwrap();
        assert_eq!(job.template.spec.unwrap().restart_policy.as_deref(), Some("OnFailure"));
        assert_eq!(job.backoff_limit, Some(i32::MAX), "as long as it fails");
    }
}
