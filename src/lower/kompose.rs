//! Kompose's `kompose.*` service labels. Those with an `x-kompile` counterpart are read as that
//! setting (the service's own `x-kompile` wins), each with a note showing the `x-kompile` form;
//! the others are reported as not translated yet. None becomes a pod annotation.

use crate::compose::settings::{checked_host, checked_path};
use crate::compose::workload::{self, KOMPOSE_KIND, KOMPOSE_SCHEDULE};
use crate::compose::{self, IngressRoute, IngressSettings, Key, ServiceSettings, Spanned, Tls};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Autoscale, Concurrency, ExposeKind, MemoryTarget, TrafficPolicy};

pub const PREFIX: &str = "kompose.";

/// Kompose's `subPath` for every volume of the service; `lower/storage.rs` applies it.
pub const KOMPOSE_SUBPATH: &str = "kompose.volume.subpath";
/// Kompose's size and storage class of the claims of the service's volumes; `lower/storage.rs`
/// applies them where the volume's `x-kompile` sets none.
pub const KOMPOSE_SIZE: &str = "kompose.volume.size";
pub const KOMPOSE_STORAGE_CLASS: &str = "kompose.volume.storage-class-name";
/// Kompose's kind of volume for the service's named volumes: `emptyDir` is applied by
/// `lower/storage.rs`; `persistentVolumeClaim` is the default; `hostPath` and `configMap`
/// are not translated.
pub const KOMPOSE_VOLUME_TYPE: &str = "kompose.volume.type";

/// The settings the service's Kompose labels stand for, where its `x-kompile` block does not
/// set them, each with its note. Read once per service (`lower`), before any is lowered: the
/// workload, exposure, pod settings and autoscaler all come from one reading. A `sidecar` (a
/// service in another's pod) has no exposure or scaling of its own: its [`EXPOSURE_LABELS`]
/// and [`HPA_LABELS`] are left to `sidecars`, which reports them.
pub fn settings(service: &compose::Service, sidecar: bool, diags: &mut Diagnostics) -> ServiceSettings {
    let mut read = Reader { service, diags, settings: ServiceSettings::default(), ingress: None };
    let mut hpa: Option<(Autoscale, crate::source::Span)> = None;
    let pods_own = |key: &str| EXPOSURE_LABELS.contains(&key) || HPA_LABELS.contains(&key);
    for (key, value) in service.labels.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
        if sidecar && pods_own(key) {
            continue;
        }
        if is_pod_label(key) {
            read.pod_label(key, value, &mut hpa);
        } else {
            read.label(key, value);
        }
    }
    read.settings.autoscale = hpa.map(|(mut autoscale, span)| {
        // Kompose's defaults for what its labels leave out.
        if autoscale.max == 0 {
            autoscale.max = KOMPOSE_MAX_REPLICAS.max(autoscale.min);
        }
        if autoscale.cpu.is_none() && autoscale.memory.is_none() {
            autoscale.cpu = Some(KOMPOSE_CPU_UTILIZATION);
        }
        Spanned::new(autoscale, span)
    });
    read.finish()
}

/// The labels that say how a service's ports are reached from outside the cluster.
pub const EXPOSURE_LABELS: &[&str] = &[
    "kompose.service.type",
    "kompose.service.nodeport.port",
    "kompose.service.external-traffic-policy",
    "kompose.service.expose",
    "kompose.service.expose.tls-secret",
    "kompose.service.expose.ingress-class-name",
];

/// The labels of a HorizontalPodAutoscaler.
pub const HPA_LABELS: &[&str] =
    &["kompose.hpa.replicas.min", "kompose.hpa.replicas.max", "kompose.hpa.cpu", "kompose.hpa.memory"];

/// The pod and autoscaling labels, which [`Reader::pod_label`] reads.
const POD_LABELS: &[&str] = &["kompose.image-pull-secret", "kompose.serviceaccount-name"];

fn is_pod_label(key: &str) -> bool {
    POD_LABELS.contains(&key) || HPA_LABELS.contains(&key)
}

/// Kompose's HorizontalPodAutoscaler defaults.
const KOMPOSE_MAX_REPLICAS: u32 = 10;
const KOMPOSE_CPU_UTILIZATION: u32 = 50;

struct Reader<'a, 'b> {
    service: &'a compose::Service,
    diags: &'b mut Diagnostics,
    settings: ServiceSettings,
    /// The Ingress labels, which `kompose.service.expose` turns on.
    ingress: Option<IngressLabels>,
}

#[derive(Default)]
struct IngressLabels {
    expose: Option<Key>,
    settings: IngressSettings,
    /// `tls-secret` and `ingress-class-name`, which only matter with `expose`.
    extras: Vec<Key>,
}

impl Reader<'_, '_> {
    fn label(&mut self, key: &Key, value: &str) {
        let own = &self.service.settings;
        let span = key.span;
        match key.as_str() {
            "kompose.service.type" => {
                let Some(kind) = service_type(value) else {
                    return self.bad(key, value, "`loadbalancer`, `nodeport`, `clusterip` or `headless`");
                };
                self.read(key, value, own.expose.is_some(), "expose", kind.word());
                self.settings.expose = Some(Spanned::new(kind, span));
            }
            "kompose.service.nodeport.port" => {
                let port = value.trim().parse::<u16>().ok().filter(|p| crate::ports::NODE_PORTS.contains(p));
                let Some(port) = port else { return self.bad(key, value, "a port from 30000 to 32767") };
                self.read(key, value, own.node_port.is_some(), "node_port", &port.to_string());
                self.settings.node_port = Some(Spanned::new(port, span));
            }
            "kompose.service.external-traffic-policy" => {
                let Some(policy) = TrafficPolicy::from_word(value.trim()) else {
                    return self.bad(key, value, "`cluster` or `local`");
                };
                self.read(
                    key,
                    value,
                    own.external_traffic_policy.is_some(),
                    "external_traffic_policy",
                    policy.k8s_name(),
                );
                self.settings.external_traffic_policy = Some(Spanned::new(policy, span));
            }
            "kompose.service.expose" => self.expose(key, value),
            // A group is several services: `lower/sidecars.rs` reads it for the whole project.
            "kompose.service.group" => {}
            KOMPOSE_KIND => {
                let Some(kind) = workload::kompose_kind(value) else {
                    return self.bad(key, value, "`deployment`, `daemonset` or `statefulset`");
                };
                self.read(key, value, own.kind.is_some(), "kind", kind.word());
                self.settings.kind = Some(Spanned::new(kind, span));
            }
            KOMPOSE_SCHEDULE => {
                let schedule = value.trim();
                if let Some(problem) = workload::schedule_problem(schedule) {
                    let what = format!("label `{}` of service `{}`", key.value, self.service.name.value);
                    self.diags.push(workload::schedule_error(&what, schedule, &problem, span));
                    return;
                }
                self.read(key, value, own.schedule.is_some(), "schedule", &format!("\"{schedule}\""));
                self.settings.schedule = Some(Spanned::new(schedule.to_string(), span));
            }
            "kompose.cronjob.concurrency_policy" => {
                let Some(policy) = Concurrency::from_word(value.trim()) else {
                    return self.bad(key, value, "`Allow`, `Forbid` or `Replace`");
                };
                let word = policy.k8s_name().to_ascii_lowercase();
                self.read(key, value, own.concurrency.is_some(), "concurrency", &word);
                self.settings.concurrency = Some(Spanned::new(policy, span));
            }
            "kompose.cronjob.backoff_limit" => {
                let limit = value.trim().parse::<u32>().ok().filter(|n| i32::try_from(*n).is_ok());
                let Some(limit) = limit else { return self.bad(key, value, "a number of retries, e.g. `3`") };
                self.read(key, value, own.backoff_limit.is_some(), "backoff_limit", &limit.to_string());
                self.settings.backoff_limit = Some(Spanned::new(limit, span));
            }
            "kompose.security-context.fsgroup" => {
                let Some(group) = value.trim().parse::<u32>().ok() else {
                    return self.bad(key, value, "a numeric group id, e.g. `1000`");
                };
                self.read(key, value, own.fs_group.is_some(), "fs_group", &group.to_string());
                self.settings.fs_group = Some(Spanned::new(group, span));
            }
            // Applied to the mounts by `storage` (`KOMPOSE_SUBPATH`), which reads the label itself.
            KOMPOSE_SUBPATH => {
                let service = &self.service.name.value;
                self.diags.push(
                    Diagnostic::new(
                        Code::KomposeLabel,
                        format!(
                            "label `{}: {value}` of service `{service}` is read as `volume: {{subpath: {value}}}` on its named volumes",
                            key.value
                        ),
                    )
                    .at(span, "read as `volume.subpath`")
                    .help("write the long syntax with `volume: {subpath: ...}` on the mount instead"),
                );
            }
            KOMPOSE_VOLUME_TYPE if matches!(value.trim(), "emptyDir" | "persistentVolumeClaim") => {
                let service = &self.service.name.value;
                let what = if value.trim() == "emptyDir" {
                    "its named volumes are empty directories that live as long as the pod"
                } else {
                    "its named volumes are claims, as without the label"
                };
                self.diags.push(
                    Diagnostic::new(
                        Code::KomposeLabel,
                        format!("label `{}: {value}` of service `{service}` is read: {what}", key.value),
                    )
                    .at(span, "read")
                    .help("for scratch space, mount an anonymous volume (`- /path`) instead of a named one"),
                );
            }
            KOMPOSE_SIZE | KOMPOSE_STORAGE_CLASS => {
                let setting = if key.value == KOMPOSE_SIZE { "size" } else { "storage_class" };
                if setting == "size" && crate::units::parse_bytes(value.trim()).is_none() {
                    return self.bad(key, value, "a size, e.g. `10Gi`");
                }
                if setting == "storage_class" && !crate::names::is_dns_subdomain(value.trim()) {
                    return self.bad(key, value, "the name of a StorageClass");
                }
                let service = &self.service.name.value;
                self.diags.push(
                    Diagnostic::new(
                        Code::KomposeLabel,
                        format!(
                            "label `{}: {value}` of service `{service}` is read as `x-kompile.{setting}: {value}` on the volumes it mounts that set none",
                            key.value
                        ),
                    )
                    .at(span, format!("read as the volumes' `x-kompile.{setting}`"))
                    .help(format!("write `x-kompile: {{{setting}: {value}}}` on the top-level volume instead; see docs/x-kompile.md")),
                );
            }
            "kompose.service.expose.tls-secret" => {
                if !crate::names::is_dns_subdomain(value) {
                    return self.bad(key, value, "the name of a Secret");
                }
                self.read(key, value, own.ingress.is_some(), "ingress", &format!("{{tls: {value}}}"));
                let ingress = self.ingress.get_or_insert_with(IngressLabels::default);
                ingress.settings.tls = Some(Spanned::new(Tls::Secret(value.to_string()), span));
                ingress.extras.push(key.clone());
            }
            "kompose.service.expose.ingress-class-name" => {
                self.read(key, value, own.ingress.is_some(), "ingress", &format!("{{class: {value}}}"));
                let ingress = self.ingress.get_or_insert_with(IngressLabels::default);
                ingress.settings.class = Some(Spanned::new(value.to_string(), span));
                ingress.extras.push(key.clone());
            }
            _ => self.untranslated(key),
        }
    }

    fn pod_label(&mut self, key: &Key, value: &str, hpa: &mut Option<(Autoscale, crate::source::Span)>) {
        let own = &self.service.settings;
        let span = key.span;
        let value = value.trim();
        match key.as_str() {
            "kompose.image-pull-secret" => {
                if !crate::names::is_dns_subdomain(value) {
                    return self.bad(key, value, "the name of a Secret");
                }
                self.read(key, value, !own.image_pull_secrets.is_empty(), "image_pull_secrets", &format!("[{value}]"));
                self.settings.image_pull_secrets = vec![Spanned::new(value.to_string(), span)];
            }
            "kompose.serviceaccount-name" => {
                if !crate::names::is_dns_subdomain(value) {
                    return self.bad(key, value, "the name of a ServiceAccount");
                }
                self.read(key, value, own.service_account.is_some(), "service_account", value);
                self.settings.service_account = Some(Spanned::new(value.to_string(), span));
            }
            _ => self.hpa_label(key, value, hpa),
        }
    }

    /// `kompose.hpa.*`: one autoscaler, each label one of its fields.
    fn hpa_label(&mut self, key: &Key, value: &str, hpa: &mut Option<(Autoscale, crate::source::Span)>) {
        let overridden = self.service.settings.autoscale.is_some();
        let count = value.parse::<u32>().ok().filter(|n| *n >= 1);
        let percent = value.trim_end_matches('%').trim().parse::<u32>().ok().filter(|n| *n >= 1);
        let empty = Autoscale { min: 0, max: 0, cpu: None, memory: None };
        let (autoscale, _) = hpa.get_or_insert((empty, key.span));
        let form = match key.as_str() {
            "kompose.hpa.replicas.min" => {
                let Some(n) = count else { return self.bad(key, value, "a number of replicas, at least 1") };
                autoscale.min = n;
                format!("{{min: {n}}}")
            }
            "kompose.hpa.replicas.max" => {
                let Some(n) = count else { return self.bad(key, value, "a number of replicas, at least 1") };
                autoscale.max = n;
                format!("{{max: {n}}}")
            }
            "kompose.hpa.cpu" => {
                let Some(p) = percent else { return self.bad(key, value, "a CPU utilization percentage, e.g. `80`") };
                autoscale.cpu = Some(p);
                format!("{{cpu: {p}}}")
            }
            _ => {
                // Kompose reads a percentage; `1024Mi`, which its documentation also shows,
                // is an average amount per pod.
                let bytes = crate::units::parse_bytes(value).filter(|b| *b > 0 && !value.ends_with('%'));
                match (percent.filter(|_| value.parse::<u32>().is_ok() || value.ends_with('%')), bytes) {
                    (Some(p), _) => autoscale.memory = Some(MemoryTarget::Utilization(p)),
                    (None, Some(b)) => autoscale.memory = Some(MemoryTarget::AverageValue(b)),
                    (None, None) => {
                        return self.bad(key, value, "a memory utilization percentage (`70`) or a size (`512Mi`)");
                    }
                }
                format!("{{memory: {value}}}")
            }
        };
        self.read(key, value, overridden, "autoscale", &form);
    }

    /// `true` (an Ingress for every host) or hosts, each optionally with a path
    /// (`shop.example.com/api`), separated by commas, as Kompose reads them.
    fn expose(&mut self, key: &Key, value: &str) {
        // Kompose lowercases the hosts.
        let value = value.trim().to_ascii_lowercase();
        if value == "false" {
            // Kompose would make an Ingress for the host `false`; no Ingress is what is meant.
            self.diags.push(
                Diagnostic::new(
                    Code::KomposeLabel,
                    format!(
                        "label `{}: false` of service `{}` is read as no Ingress",
                        key.value, self.service.name.value
                    ),
                )
                .at(key.span, "no Ingress")
                .help("remove the label; `x-kompile.expose` chooses how published ports are reached"),
            );
            return;
        }
        let mut routes = Vec::new();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item.eq_ignore_ascii_case("true") {
                routes.push(IngressRoute { host: None, path: None });
                continue;
            }
            let (host, path) = match item.find('/') {
                Some(at) => (&item[..at], Some(&item[at..])),
                None => (item, None),
            };
            let host = checked_host(Spanned::new(host.to_string(), key.span), self.diags);
            let path = path.and_then(|p| checked_path(Spanned::new(p.to_string(), key.span), self.diags));
            if host.is_some() {
                routes.push(IngressRoute { host, path });
            }
        }
        if routes.is_empty() {
            return;
        }
        let overridden = self.service.settings.ingress.is_some();
        match routes.as_slice() {
            [IngressRoute { host: Some(host), path: None }] => {
                self.read(key, &value, overridden, "ingress", &format!("{{host: {}}}", host.value));
            }
            [IngressRoute { host: Some(host), path: Some(path) }] => {
                let form = format!("{{host: {}, path: {}}}", host.value, path.value);
                self.read(key, &value, overridden, "ingress", &form);
            }
            [IngressRoute { host: None, .. }] => self.read(key, &value, overridden, "ingress", "{}"),
            _ if overridden => self.read(key, &value, true, "ingress", ""),
            _ => self.several_hosts(key, &value, routes.len()),
        }
        let ingress = self.ingress.get_or_insert_with(IngressLabels::default);
        ingress.settings.routes = routes;
        ingress.expose = Some(key.clone());
    }

    /// The ingress labels make an Ingress only with `kompose.service.expose`, as in Kompose.
    fn finish(mut self) -> ServiceSettings {
        let Some(ingress) = self.ingress.take() else { return self.settings };
        match ingress.expose {
            Some(expose) => {
                self.settings.ingress = Some(Spanned::new(ingress.settings, expose.span));
                self.settings
            }
            None => {
                for key in ingress.extras {
                    self.diags.push(
                        Diagnostic::new(
                            Code::KomposeLabel,
                            format!(
                                "label `{}` of service `{}` has no effect without `kompose.service.expose`",
                                key.value, self.service.name.value
                            ),
                        )
                        .at(key.span, "no Ingress is made")
                        .help("give the service `x-kompile: {ingress: {host: HOST}}`; see docs/x-kompile.md"),
                    );
                }
                self.settings
            }
        }
    }

    /// The note for a label read as `x-kompile.<setting>: <value>`, or ignored because the
    /// service's `x-kompile` sets it.
    fn read(&mut self, key: &Key, value: &str, overridden: bool, setting: &str, form: &str) {
        let service = &self.service.name.value;
        let diagnostic = if overridden {
            Diagnostic::new(
                Code::KomposeLabel,
                format!(
                    "label `{}: {value}` of service `{service}` is ignored: its `x-kompile.{setting}` wins",
                    key.value
                ),
            )
            .at(key.span, "ignored")
            .help("remove the label, or the setting if the label says what you want")
        } else {
            Diagnostic::new(
                Code::KomposeLabel,
                format!(
                    "label `{}: {value}` of service `{service}` is read as `x-kompile.{setting}: {form}`",
                    key.value
                ),
            )
            .at(key.span, format!("read as `x-kompile.{setting}`"))
            .help(format!("write `x-kompile: {{{setting}: {form}}}` on the service instead; see docs/x-kompile.md"))
        };
        self.diags.push(diagnostic);
    }

    /// `x-kompile.ingress` has one host: a label listing several is kept as it is.
    fn several_hosts(&mut self, key: &Key, value: &str, count: usize) {
        self.diags.push(
            Diagnostic::new(
                Code::KomposeLabel,
                format!(
                    "label `{}: {value}` of service `{}` is read as one Ingress with {count} hosts",
                    key.value, self.service.name.value
                ),
            )
            .at(key.span, "read as an Ingress")
            .help("`x-kompile.ingress` takes one host; keep this label for several, or write `x-kompile: {ingress: {host: HOST}}` for one"),
        );
    }

    fn bad(&mut self, key: &Key, value: &str, expected: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("label `{}` of service `{}` cannot be `{value}`", key.value, self.service.name.value),
            )
            .at(key.span, "not a value Kompose reads")
            .help(format!("write {expected}")),
        );
    }

    fn untranslated(&mut self, key: &Key) {
        self.diags.push(
            Diagnostic::new(
                Code::KomposeUntranslated,
                format!("Kompose label `{}` of service `{}` is not translated yet", key.value, self.service.name.value),
            )
            .at(key.span, "left out of the manifests")
            .help("kompile reads kompose.service.type, .expose (with .tls-secret and .ingress-class-name), .nodeport.port, .external-traffic-policy, kompose.image-pull-secret, kompose.serviceaccount-name, kompose.security-context.fsgroup, kompose.volume.subpath, .size, .storage-class-name, kompose.hpa.*, kompose.service.group, kompose.controller.type and kompose.cronjob.*; see docs/mapping.md for what else has a translation"),
        );
    }
}

/// `kompose.service.type`, in any case: `clusterip` and `headless` keep the service inside the
/// cluster.
fn service_type(value: &str) -> Option<ExposeKind> {
    match value.trim().to_ascii_lowercase().as_str() {
        "loadbalancer" => Some(ExposeKind::LoadBalancer),
        "nodeport" => Some(ExposeKind::NodePort),
        "clusterip" | "headless" => Some(ExposeKind::None),
        _ => None,
    }
}
