//! A service's PodDisruptionBudget and HorizontalPodAutoscaler → [`Availability`].
//!
//! Every workload that runs more than one pod gets a budget, so draining a node never takes
//! all of them at once: `maxUnavailable` is the rollout's `parallelism` (default 1), the number
//! of pods Compose itself would take down together. `x-kompile.disruption` sets it or turns it
//! off. DaemonSets get none: `kubectl drain` skips their pods, and a budget of a DaemonSet
//! supports neither `maxUnavailable` nor percentages. Jobs and CronJobs get none either.

use std::collections::BTreeMap;

use crate::compose::{Project, ServiceSettings, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Amount, Autoscale, Availability, Budget, MemoryTarget, Service, Workload};
use crate::source::Span;

/// What the HorizontalPodAutoscaler aims for when `autoscale` names no metric: Kubernetes'
/// own default, written out.
const DEFAULT_CPU_UTILIZATION: u32 = 80;

/// Sets the budget and autoscaler of every service that runs a pod, once the pods are whole
/// (after `sidecars::join` and `workload::claims`): utilization is a share of the requests of
/// every container of the pod, its sidecars' too. Sidecars get none: their pod's service
/// says (`sidecars` reports their own settings as dropped).
pub fn assign(
    project: &Project,
    labels: &BTreeMap<&str, ServiceSettings>,
    services: &mut [Service],
    diags: &mut Diagnostics,
) {
    for at in 0..services.len() {
        let Some(compose) = project.service(&services[at].name).filter(|_| services[at].pod_of.is_none()) else {
            continue;
        };
        let Some(labels) = labels.get(compose.name.as_str()) else { continue };
        let availability = {
            let lowered = &services[at];
            let find = |name: &String| services.binary_search_by(|s| s.name.cmp(name)).ok().map(|at| &services[at]);
            let sidecars: Vec<&Service> = lowered.sidecars.iter().filter_map(find).collect();
            AvailabilityLowering { service: compose, labels, diags: &mut *diags }.lower(lowered, &sidecars)
        };
        services[at].availability = availability;
    }
}

struct AvailabilityLowering<'a, 'b> {
    service: &'a crate::compose::Service,
    /// The settings the service's Kompose labels stand for (`kompose::settings`).
    labels: &'b ServiceSettings,
    diags: &'b mut Diagnostics,
}

impl AvailabilityLowering<'_, '_> {
    /// `lowered` is the rest of the service, already lowered: its workload, replicas,
    /// rollout and resources decide, with the resources of the `sidecars` in its pod.
    fn lower(&mut self, lowered: &Service, sidecars: &[&Service]) -> Availability {
        let own = &self.service.settings;
        let autoscale = own.autoscale.or(self.labels.autoscale);
        let autoscale = autoscale.and_then(|a| self.autoscale(a, lowered, sidecars));
        let disruption_budget = self.budget(lowered, autoscale.as_ref());
        Availability { disruption_budget, autoscale }
    }

    fn budget(&mut self, lowered: &Service, autoscale: Option<&Autoscale>) -> Option<Budget> {
        let written = self.service.settings.disruption.as_ref();
        if let Some((kind, reason)) = self.not_for(&lowered.workload) {
            if let Some(written) = written {
                self.not_applicable("disruption", written.span, kind, reason);
            }
            return None;
        }
        // The fewest pods that run: an autoscaler may scale down to its `min`.
        let pods = autoscale.map_or(lowered.replicas, |a| a.min);
        match written {
            Some(Spanned { value: None, .. }) => None,
            Some(Spanned { value: Some(budget), span }) => {
                self.blocks_eviction(*budget, pods, *span);
                Some(*budget)
            }
            None if pods > 1 => Some(Budget::MaxUnavailable(Amount::Count(lowered.update.parallelism.max(1)))),
            None => None,
        }
    }

    /// A budget that lets no pod go makes every node drain hang.
    fn blocks_eviction(&mut self, budget: Budget, pods: u32, at: Span) {
        let blocks = match budget {
            Budget::MaxUnavailable(Amount::Count(0) | Amount::Percent(0)) => true,
            Budget::MinAvailable(Amount::Count(n)) => n >= pods,
            Budget::MinAvailable(Amount::Percent(p)) => p >= 100,
            Budget::MaxUnavailable(_) => false,
        };
        if blocks {
            self.diags.push(
                Diagnostic::new(
                    Code::DisruptionBlocksEviction,
                    format!(
                        "the disruption budget of service `{}` lets none of its {pods} pod(s) be evicted",
                        self.service.name.value
                    ),
                )
                .at(at, "node drains wait forever")
                .help("allow at least one pod to go (`max_unavailable: 1`), or run more replicas than `min_available`"),
            );
        }
    }

    fn autoscale(
        &mut self,
        written: Spanned<Autoscale>,
        lowered: &Service,
        sidecars: &[&Service],
    ) -> Option<Autoscale> {
        if let Some((kind, reason)) = self.not_for(&lowered.workload) {
            self.not_applicable("autoscale", written.span, kind, reason);
            return None;
        }
        let mut autoscale = written.value;
        if autoscale.min == 0 {
            autoscale.min = lowered.replicas.clamp(1, autoscale.max);
        }
        if autoscale.cpu.is_none() && autoscale.memory.is_none() {
            autoscale.cpu = Some(DEFAULT_CPU_UTILIZATION);
        }
        // Every container of the pod needs the request (init containers do not count): the
        // autoscaler reports `missing request for cpu in container …` and does not scale.
        // Without a request, Kubernetes takes the limit as the request.
        for container in std::iter::once(lowered).chain(sidecars.iter().copied()) {
            let resources = &container.resources;
            if autoscale.cpu.is_some() && resources.cpu_request.or(resources.cpu_limit).is_none() {
                self.without_request(Resource::Cpu, container, written.span);
            }
            let memory_utilization = matches!(autoscale.memory, Some(MemoryTarget::Utilization(_)));
            if memory_utilization && resources.memory_request.or(resources.memory_limit).is_none() {
                self.without_request(Resource::Memory, container, written.span);
            }
        }
        Some(autoscale)
    }

    /// K250 for `container`, the service's own or one of its sidecars.
    fn without_request(&mut self, resource: Resource, container: &Service, at: Span) {
        let (name, key) = match resource {
            Resource::Cpu => ("CPU", "cpus"),
            Resource::Memory => ("memory", "memory"),
        };
        let service = &self.service.name.value;
        let diagnostic = if container.name == *service {
            Diagnostic::new(
                Code::AutoscaleWithoutRequests,
                format!("service `{service}` is autoscaled on {name} utilization but reserves no {name}"),
            )
            .at(at, "utilization is a share of the request")
            .help(format!("set `deploy.resources.reservations.{key}` (or a limit), or the autoscaler cannot compute utilization and does not scale"))
        } else {
            let sidecar = &container.name;
            Diagnostic::new(
                Code::AutoscaleWithoutRequests,
                format!("service `{service}` is autoscaled on {name} utilization, but `{sidecar}` in its pod reserves no {name}"),
            )
            .at(at, "utilization is a share of the requests of every container")
            .also(container.span, format!("a container of `{service}`'s pod"))
            .help(format!("set `deploy.resources.reservations.{key}` (or a limit) on `{sidecar}` too, or the autoscaler cannot compute utilization (\"missing request\") and does not scale"))
        };
        self.diags.push(diagnostic);
    }

    /// The kind of a workload that has neither a budget nor an autoscaler, and why. Compose's
    /// `deploy.mode: global` (one per node) counts even where the workload has not been chosen
    /// as a DaemonSet.
    fn not_for(&self, workload: &Workload) -> Option<(&'static str, &'static str)> {
        let global = self.service.deploy.mode.as_ref().is_some_and(|m| m.value == "global");
        match workload {
            Workload::Job(_) | Workload::CronJob(_) => Some((
                workload.kind(),
                "a Job runs to completion; its pods are neither scaled nor protected from drains",
            )),
            Workload::DaemonSet => Some((workload.kind(), DAEMON_SET)),
            _ if global => Some(("DaemonSet", DAEMON_SET)),
            Workload::Deployment | Workload::StatefulSet(_) => None,
        }
    }

    fn not_applicable(&mut self, key: &str, at: Span, kind: &str, reason: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::AvailabilityNotApplicable,
                format!("`x-kompile.{key}` of service `{}` is ignored: it runs as a {kind}", self.service.name.value),
            )
            .at(at, "ignored")
            .help(reason.to_string()),
        );
    }
}

/// A resource an autoscaler can target as a share of the pods' requests.
#[derive(Clone, Copy)]
enum Resource {
    Cpu,
    Memory,
}

const DAEMON_SET: &str =
    "a DaemonSet runs one pod per node; `kubectl drain` skips its pods and it has no replica count";

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text, only_service};
    use crate::model::{Amount, Budget, MemoryTarget};

    #[test]
    fn replicated_services_get_a_budget_from_parallelism() {
        let (app, _) =
            lower_text("services:\n  a:\n    image: x:1\n    deploy: {replicas: 4, update_config: {parallelism: 2}}\n");
        assert_eq!(only_service(&app).availability.disruption_budget, Some(Budget::MaxUnavailable(Amount::Count(2))));
        let (app, _) = lower_text("services:\n  a:\n    image: x:1\n");
        assert_eq!(only_service(&app).availability.disruption_budget, None);
    }

    #[test]
    fn autoscaling_takes_min_from_replicas_and_warns_without_requests() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    deploy: {replicas: 3}\n    x-kompile: {autoscale: {max: 9, memory: 512Mi}}\n",
        );
        let autoscale = only_service(&app).availability.autoscale.unwrap();
        assert_eq!((autoscale.min, autoscale.max, autoscale.cpu), (3, 9, None));
        assert_eq!(autoscale.memory, Some(MemoryTarget::AverageValue(512 << 20)));
        assert!(codes(&diags).is_empty(), "an average value needs no request: {diags:?}");
        let (_, diags) = lower_text("services:\n  a:\n    image: x:1\n    x-kompile: {autoscale: {max: 4}}\n");
        assert_eq!(codes(&diags), [Code::AutoscaleWithoutRequests], "the default target is CPU utilization");
    }

    /// The autoscaler's utilization is a share of the requests of every container of the pod.
    #[test]
    fn a_sidecar_without_the_request_is_reported() {
        let compose = "services:\n  api:\n    image: x:1\n    cpus: 1\n    x-kompile: {autoscale: {max: 4}}\n    depends_on: [db]\n  side:\n    image: s:1\n    network_mode: service:api\n  db:\n    image: postgres:16\n    expose: ['5432']\n";
        let (_, diags) = lower_text(compose);
        let k250: Vec<_> = diags.items().iter().filter(|d| d.code == Code::AutoscaleWithoutRequests).collect();
        assert_eq!(k250.len(), 1, "the sidecar only; the wait's init container does not count: {diags:?}");
        assert!(k250[0].message.contains("`api` is autoscaled") && k250[0].message.contains("`side`"), "{k250:?}");
        let (_, diags) =
            lower_text(&compose.replace("network_mode: service:api", "network_mode: service:api\n    cpus: 0.1"));
        assert!(!codes(&diags).contains(&Code::AutoscaleWithoutRequests), "{diags:?}");
    }

    #[test]
    fn budgets_that_block_drains_are_reported() {
        let (app, diags) =
            lower_text("services:\n  a:\n    image: x:1\n    x-kompile: {disruption: {min_available: 1}}\n");
        assert_eq!(only_service(&app).availability.disruption_budget, Some(Budget::MinAvailable(Amount::Count(1))));
        assert_eq!(codes(&diags), [Code::DisruptionBlocksEviction]);
    }

    #[test]
    fn kompose_hpa_labels_are_read_as_autoscale() {
        let compose = "services:\n  a:\n    image: x:1\n    cpus: 1\n    labels: {kompose.hpa.replicas.max: '6', kompose.hpa.cpu: '70'}\n";
        let (app, diags) = lower_text(compose);
        let autoscale = only_service(&app).availability.autoscale.unwrap();
        assert_eq!((autoscale.min, autoscale.max, autoscale.cpu), (1, 6, Some(70)));
        assert_eq!(codes(&diags), [Code::KomposeLabel, Code::KomposeLabel]);
    }
}
