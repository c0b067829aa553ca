//! `depends_on` → `model::Service::waits`: what each service waits for before its pods start,
//! and how its init containers check it. Decided after every service is lowered, because the
//! check depends on the dependency: its ports, its workload, who may reach it.
//!
//! - `service_started`, `service_healthy`: a TCP connection to the dependency's Service. The
//!   ClusterIP forwards only to ready pods, and readiness is the healthcheck, so the connection
//!   succeeds exactly when a healthy pod is there. A dependency with no TCP port the dependent
//!   may reach (no ports, UDP only, another network) is waited for through the API instead
//!   (`kubectl rollout status`).
//! - `service_completed_successfully`: the dependency's Job has the `Complete` condition, asked
//!   through the API.
//!
//! API checks need a ServiceAccount allowed to read the named objects; emit makes it.

use std::collections::HashMap;

use crate::compose::{Condition, Dependency, Project, ProjectSettings, Service as ComposeService, Spanned, WaitImages};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Isolation, Protocol, Service, Wait, WaitCheck, WaitCondition, Workload};

/// Busybox 1.37.0 (glibc), the multi-platform index as docker-library/repo-info records it
/// (docs/decisions.md): `sh` and `nc`, 2 MB.
pub const CONNECT_IMAGE: &str =
    "docker.io/library/busybox:1.37.0@sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0";
/// alpine/kubectl 1.36.2, the multi-platform index (docs/decisions.md): `kubectl` and a
/// busybox `sh`. registry.k8s.io/kubectl has no shell, so it could not say what it waits for
/// nor stop on a failed Job.
pub const KUBECTL_IMAGE: &str =
    "docker.io/alpine/kubectl:1.36.2@sha256:01d138ce994b684abc62d9cfdff44de42a4c8996dcc12626dd0193afc3fb5a95";

/// Sets `waits` of every service from its `depends_on`.
pub fn assign(project: &Project, services: &mut [Service], diags: &mut Diagnostics) {
    let index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    // A sidecar's pod is its service's: it waits there, and is waited for there.
    let pod = |i: usize| services[i].pod_of.as_deref().and_then(|root| index.get(root).copied()).unwrap_or(i);
    let mut all = Vec::with_capacity(services.len());
    for compose in &project.services {
        let Some(&me) = index.get(compose.name.as_str()) else { continue };
        let images = Images::of(&project.settings, compose);
        let mut waits = Vec::new();
        for dependency in &compose.depends_on {
            let Some(&them) = index.get(dependency.service.as_str()) else { continue };
            // Containers of one pod start together; waiting for one's own pod never ends.
            if pod(them) == pod(me) {
                // A task's sidecars are native sidecars, started before the task.
                let started_first = me == pod(me)
                    && services[me].workload.runs_to_completion()
                    && dependency.condition == Condition::Started;
                if them != me && !started_first {
                    diags.push(same_pod(compose, dependency, &services[pod(me)].name));
                }
                continue;
            }
            let pair =
                Pair { compose, dependency, dependent: &services[pod(me)], dependency_model: &services[pod(them)] };
            if let Some(wait) = pair.wait(&images, diags) {
                waits.push(wait);
            }
        }
        all.push((pod(me), waits));
    }
    for (me, waits) in all {
        for wait in waits {
            add(&mut services[me].waits, wait);
        }
    }
}

/// One wait per workload waited for: a pod and its sidecars (or a service and its sidecar,
/// both depended on) are one workload, and two init containers of one name are refused. The
/// stronger condition (started < healthy < completed) is kept, with its check.
fn add(waits: &mut Vec<Wait>, wait: Wait) {
    match waits.iter_mut().find(|w| w.k8s_name == wait.k8s_name) {
        Some(held) if held.condition < wait.condition => *held = wait,
        Some(_) => {}
        None => waits.push(wait),
    }
}

/// A dependency between two containers of one pod, which start together: no init container
/// can wait for a container of its own pod, which starts only after the init containers.
fn same_pod(compose: &ComposeService, dependency: &Dependency, pod: &str) -> Diagnostic {
    let (me, them) = (compose.name.as_str(), dependency.service.as_str());
    let condition = match dependency.condition {
        Condition::Started => "started",
        Condition::Healthy => "healthy",
        Condition::CompletedSuccessfully => "completed",
    };
    Diagnostic::new(
        Code::SidecarSetting,
        format!("`{me}` does not wait for `{them}` to be {condition}: both are containers of the pod of `{pod}`, which start together"),
    )
    .at(dependency.service.span, "not waited for in the pod")
    .help(format!(
        "Kubernetes starts the containers of a pod without waiting for one to be ready; make `{me}` wait itself (retry its connections, or loop in its entrypoint until `{them}` answers on localhost)"
    ))
}

/// The wait images in force for one service: its own, else the project's, else kompile's.
struct Images {
    connect: String,
    kubectl: String,
}

impl Images {
    fn of(project: &ProjectSettings, service: &ComposeService) -> Images {
        let pick = |own: &Option<Spanned<String>>, shared: &Option<Spanned<String>>, default: &str| {
            own.as_ref().or(shared.as_ref()).map_or_else(|| default.to_string(), |i| i.value.clone())
        };
        let (own, shared): (&WaitImages, &WaitImages) = (&service.settings.wait_images, &project.wait_images);
        Images {
            connect: pick(&own.connect, &shared.connect, CONNECT_IMAGE),
            kubectl: pick(&own.kubectl, &shared.kubectl, KUBECTL_IMAGE),
        }
    }
}

/// One `depends_on` entry, with both ends lowered.
struct Pair<'a> {
    compose: &'a ComposeService,
    dependency: &'a Dependency,
    dependent: &'a Service,
    dependency_model: &'a Service,
}

impl Pair<'_> {
    fn wait(&self, images: &Images, diags: &mut Diagnostics) -> Option<Wait> {
        let (me, them) = (self.compose.name.as_str(), self.dependency.service.as_str());
        let at = self.dependency.service.span;
        if !self.dependency.required {
            diags.push(
                Diagnostic::new(
                    Code::OptionalDependency,
                    format!("`{me}` does not wait for `{them}`: the dependency is `required: false`"),
                )
                .at(at, "not waited for")
                .help("Compose starts an optional dependency first when it exists but does not hold the service back; on the cluster the pods start without it, so the service must retry its connections"),
            );
            return None;
        }
        if self.dependency.restart {
            diags.push(
                Diagnostic::new(
                    Code::DependencyRestart,
                    format!("`{me}` is not restarted when `{them}` restarts (`restart: true`)"),
                )
                .at(at, "no restart on the cluster")
                .help(format!(
                    "Kubernetes restarts each pod on its own; `{me}` must reconnect when `{them}` comes back"
                )),
            );
        }
        let condition = match self.dependency.condition {
            Condition::Started => WaitCondition::Started,
            Condition::Healthy => WaitCondition::Healthy,
            Condition::CompletedSuccessfully if self.dependency_model.workload.runs_to_completion() => {
                WaitCondition::Completed
            }
            // Made something that never completes (`x-kompile.kind`): waiting for a Job that
            // does not exist would hold the pods forever; its readiness is the nearest thing.
            Condition::CompletedSuccessfully => {
                self.never_completes(diags);
                WaitCondition::Healthy
            }
        };
        let check = self.check(condition, images, diags);
        let model = self.dependency_model;
        Some(Wait { service: model.name.clone(), k8s_name: model.k8s_name.clone(), condition, check })
    }

    fn check(&self, condition: WaitCondition, images: &Images, diags: &mut Diagnostics) -> Option<WaitCheck> {
        let them = self.dependency_model;
        match (&them.workload, condition) {
            (Workload::CronJob(_), _) => {
                self.not_waited("it is a CronJob, which runs on its schedule", diags);
                None
            }
            (Workload::Job(_), WaitCondition::Started) => None,
            (Workload::Job(_), WaitCondition::Healthy) => {
                self.not_waited(
                    "it runs to completion as a Job, and Kubernetes keeps no health of a Job to wait for",
                    diags,
                );
                None
            }
            (_, WaitCondition::Completed) => self.through_api(WaitCheck::Job { image: images.kubectl.clone() }, diags),
            (workload, _) => match self.reachable_port() {
                Some(port) => Some(WaitCheck::Connect { port, image: images.connect.clone() }),
                None => {
                    let check = WaitCheck::Rollout { kind: workload.kind().to_string(), image: images.kubectl.clone() };
                    let check = self.through_api(check, diags)?;
                    self.api_note(diags);
                    Some(check)
                }
            },
        }
    }

    /// `check`, unless the dependent's pods cannot reach the API server (`network_mode: none`,
    /// only internal networks: their NetworkPolicy lets nothing out but DNS and their networks).
    fn through_api(&self, check: WaitCheck, diags: &mut Diagnostics) -> Option<WaitCheck> {
        match self.dependent.isolation {
            Isolation::Offline | Isolation::Networks { internal: true, .. } => {
                let why = match check {
                    WaitCheck::Job { .. } => {
                        "they may not connect to the Kubernetes API to ask for its Job (`network_mode: none`, or only internal networks)"
                    }
                    _ => {
                        "they may connect neither to it nor to the Kubernetes API (`network_mode: none`, or only internal networks)"
                    }
                };
                self.not_waited(why, diags);
                None
            }
            _ => Some(check),
        }
    }

    /// The first TCP port of the dependency's Service that the dependent's pods may connect
    /// to, as the two NetworkPolicies decide.
    fn reachable_port(&self) -> Option<u16> {
        let (me, them) = (self.dependent, self.dependency_model);
        if them.workload.runs_to_completion() {
            return None;
        }
        let shared = me.networks.iter().any(|n| them.networks.iter().any(|m| m.label == n.label));
        let mut tcp = them.ports.iter().chain(&them.expose).filter(|p| p.protocol == Protocol::Tcp).map(|p| p.target);
        let open_to_me = |port: u16| match &them.isolation {
            Isolation::Open => true,
            Isolation::Offline => false,
            Isolation::Networks { published, .. } => shared || published.contains(&(port, Protocol::Tcp)),
        };
        let may_leave = match &me.isolation {
            Isolation::Offline => false,
            Isolation::Networks { internal: true, .. } => shared,
            _ => true,
        };
        tcp.find(|&port| open_to_me(port) && may_leave)
    }

    fn never_completes(&self, diags: &mut Diagnostics) {
        let (me, them) = (self.compose.name.as_str(), self.dependency.service.as_str());
        let kind = self.dependency_model.workload.kind();
        diags.push(
            Diagnostic::new(
                Code::DependencyNotWaited,
                format!("the pods of `{me}` cannot wait for `{them}` to complete: it runs as a {kind}, which never completes"),
            )
            .at(self.dependency.service.span, "waits for it to be ready instead")
            .help(format!("`service_completed_successfully` needs a task that ends: let `{them}` run as a Job (remove its `x-kompile.kind` or Kompose controller label), or wait with `service_healthy`")),
        );
    }

    fn not_waited(&self, why: &str, diags: &mut Diagnostics) {
        let (me, them) = (self.compose.name.as_str(), self.dependency.service.as_str());
        diags.push(
            Diagnostic::new(Code::DependencyNotWaited, format!("the pods of `{me}` cannot wait for `{them}`: {why}"))
                .at(self.dependency.service.span, "not waited for in the cluster")
                .help(format!(
                    "`kompile apply` still applies `{me}` after `{them}`; with plain manifests `{me}` starts at once and must retry until `{them}` is there"
                )),
        );
    }

    fn api_note(&self, diags: &mut Diagnostics) {
        let (me, them) = (self.compose.name.as_str(), self.dependency.service.as_str());
        diags.push(
            Diagnostic::new(
                Code::DependencyApiWait,
                format!("`{me}` waits for `{them}` through the Kubernetes API: `{them}` has no TCP port `{me}` may connect to"),
            )
            .at(self.dependency.service.span, "waited for with `kubectl rollout status`")
            .help(format!(
                "the pods of `{me}` get the ServiceAccount `{}-wait`, allowed to read only `{them}`'s workload; give `{them}` a TCP port in `expose` to wait by connecting instead",
                self.dependent.k8s_name
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text};
    use crate::model::{App, Wait, WaitCheck, WaitCondition};

    fn waits<'a>(app: &'a App, name: &str) -> &'a [Wait] {
        &app.services.iter().find(|s| s.name == name).unwrap().waits
    }

    #[test]
    fn started_and_healthy_connect_to_the_first_tcp_port_completed_asks_for_the_job() {
        let compose = "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n  migrate:\n    image: m:1\n  web:\n    image: w:1\n    depends_on:\n      db: {condition: service_healthy}\n      migrate: {condition: service_completed_successfully}\n";
        let (app, diags) = lower_text(compose);
        let waits = waits(&app, "web");
        assert_eq!(waits.len(), 2);
        assert_eq!((waits[0].k8s_name.as_str(), waits[0].condition), ("db", WaitCondition::Healthy));
        assert!(
            matches!(&waits[0].check, Some(WaitCheck::Connect { port: 5432, image }) if image == super::CONNECT_IMAGE)
        );
        assert_eq!((waits[1].k8s_name.as_str(), waits[1].condition), ("migrate", WaitCondition::Completed));
        assert!(matches!(&waits[1].check, Some(WaitCheck::Job { image }) if image == super::KUBECTL_IMAGE));
        assert!(!codes(&diags).contains(&Code::DependencyApiWait), "{diags:?}");
    }

    #[test]
    fn a_dependency_without_a_tcp_port_is_waited_for_through_the_api() {
        let compose = "services:\n  worker:\n    image: w:1\n  syslog:\n    image: s:1\n    expose: ['514/udp']\n  web:\n    image: w:1\n    depends_on: [worker, syslog]\n";
        let (app, diags) = lower_text(compose);
        let kinds: Vec<_> = waits(&app, "web").iter().map(|w| w.check.clone()).collect();
        let rollout = Some(WaitCheck::Rollout { kind: "Deployment".into(), image: super::KUBECTL_IMAGE.into() });
        assert_eq!(kinds, [rollout.clone(), rollout]);
        assert_eq!(codes(&diags).iter().filter(|c| **c == Code::DependencyApiWait).count(), 2, "{diags:?}");
    }

    #[test]
    fn a_dependency_on_another_network_is_waited_for_through_the_api() {
        let compose = "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n    networks: [back]\n  web:\n    image: w:1\n    networks: [front]\n    depends_on: [db]\nnetworks:\n  front: {}\n  back: {}\n";
        let (app, diags) = lower_text(compose);
        assert!(matches!(waits(&app, "web")[0].check, Some(WaitCheck::Rollout { .. })));
        assert!(codes(&diags).contains(&Code::DependencyApiWait));
    }

    #[test]
    fn optional_dependencies_do_not_wait_and_restart_is_noted() {
        let compose = "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n  cache:\n    image: redis:7\n    expose: ['6379']\n  web:\n    image: w:1\n    depends_on:\n      db: {condition: service_started, restart: true}\n      cache: {condition: service_started, required: false}\n";
        let (app, diags) = lower_text(compose);
        let names: Vec<_> = waits(&app, "web").iter().map(|w| w.service.as_str()).collect();
        assert_eq!(names, ["db"]);
        let found = codes(&diags);
        assert!(found.contains(&Code::OptionalDependency) && found.contains(&Code::DependencyRestart), "{diags:?}");
    }

    #[test]
    fn images_come_from_the_service_then_the_project() {
        let compose = "x-kompile: {wait_image: 'mirror/busybox:1', wait_kubectl_image: 'mirror/kubectl:1'}\nservices:\n  db:\n    image: postgres:16\n    expose: ['5432']\n  web:\n    image: w:1\n    depends_on: [db]\n    x-kompile: {wait_image: 'own/busybox:2'}\n  migrate:\n    image: m:1\n  api:\n    image: a:1\n    depends_on: {migrate: {condition: service_completed_successfully}}\n";
        let (app, _) = lower_text(compose);
        assert!(
            matches!(&waits(&app, "web")[0].check, Some(WaitCheck::Connect { image, .. }) if image == "own/busybox:2")
        );
        assert!(matches!(&waits(&app, "api")[0].check, Some(WaitCheck::Job { image }) if image == "mirror/kubectl:1"));
    }

    /// A service and its sidecar are one pod: waiting for both is one init container.
    #[test]
    fn a_pod_and_its_sidecar_are_waited_for_once_with_the_stronger_condition() {
        let compose = "services:\n  web:\n    image: x:1\n    expose: ['80']\n  logship:\n    image: f:1\n    network_mode: service:web\n  worker:\n    image: w:1\n    depends_on: {logship: {condition: service_started}, web: {condition: service_healthy}}\n";
        let (app, _) = lower_text(compose);
        let found: Vec<_> = waits(&app, "worker").iter().map(|w| (w.k8s_name.as_str(), w.condition)).collect();
        assert_eq!(found, [("web", WaitCondition::Healthy)]);
    }

    /// A dependency made a Deployment cannot complete: waiting for its Job would never end.
    #[test]
    fn completion_of_a_forced_deployment_is_waited_for_as_readiness() {
        let compose = "services:\n  seed:\n    image: s:1\n    expose: ['80']\n    x-kompile: {kind: deployment}\n  web:\n    image: w:1\n    depends_on: {seed: {condition: service_completed_successfully}}\n";
        let (app, diags) = lower_text(compose);
        let wait = &waits(&app, "web")[0];
        assert_eq!(wait.condition, WaitCondition::Healthy);
        assert!(matches!(wait.check, Some(WaitCheck::Connect { port: 80, .. })), "{wait:?}");
        assert!(codes(&diags).contains(&Code::DependencyNotWaited), "{diags:?}");
    }

    /// qbittorrent behind gluetun: containers of one pod start together.
    #[test]
    fn a_dependency_in_ones_own_pod_is_reported() {
        let compose = "services:\n  gluetun:\n    image: g:1\n    expose: ['8080']\n  qbittorrent:\n    image: q:1\n    network_mode: service:gluetun\n    depends_on: {gluetun: {condition: service_healthy}}\n";
        let (app, diags) = lower_text(compose);
        assert!(waits(&app, "gluetun").is_empty() && waits(&app, "qbittorrent").is_empty());
        let found: Vec<_> = diags.items().iter().filter(|d| d.code == Code::SidecarSetting).collect();
        assert_eq!(found.len(), 1, "{diags:?}");
        assert!(found[0].message.contains("start together"), "{found:?}");
    }

    /// A task's sidecar is a native sidecar, started before the task.
    #[test]
    fn a_task_waits_for_its_native_sidecar_to_start() {
        let compose = "services:\n  task:\n    image: t:1\n    x-kompile: {kind: job}\n    depends_on: [proxy]\n  proxy:\n    image: p:1\n    x-kompile: {pod: task}\n";
        let (_, diags) = lower_text(compose);
        assert!(!codes(&diags).contains(&Code::SidecarSetting), "{diags:?}");
    }

    #[test]
    fn pods_without_network_cannot_wait() {
        let compose = "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n  batch:\n    image: b:1\n    network_mode: none\n    depends_on: [db]\n";
        let (app, diags) = lower_text(compose);
        assert_eq!(waits(&app, "batch")[0].check, None);
        assert!(codes(&diags).contains(&Code::DependencyNotWaited), "{diags:?}");
    }
}
