//! The `x-kompile` blocks: Kubernetes-only settings, at the top of the file, on a service and
//! on a top-level volume. `load::decode` validates them like compose keys (unknown keys and bad
//! values are errors with "did you mean"); docs/x-kompile.md documents each key.

use super::{Key, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{AccessMode, Autoscale, Budget, Concurrency, ExposeKind, Toleration, TrafficPolicy, WorkloadKind};

/// The project-level `x-kompile` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectSettings {
    /// `registry`: where images of built services without `image` are pushed.
    pub registry: Option<Spanned<String>>,
    /// `deny`, `warn`, `allow`: diagnostic codes (id or name) and the level they get.
    pub deny: Vec<Spanned<String>>,
    pub warn: Vec<Spanned<String>>,
    pub allow: Vec<Spanned<String>>,
    /// `network_policies`: `false` turns off the NetworkPolicies that isolate compose
    /// networks (on by default).
    pub network_policies: Option<Spanned<bool>>,
    /// `expose`: how every service's published ports are reached; a service's own wins.
    pub expose: Option<Spanned<ExposeKind>>,
    /// `external_traffic_policy` of every published Service; a service's own wins.
    pub external_traffic_policy: Option<Spanned<TrafficPolicy>>,
    /// `kubernetes_version`: the oldest Kubernetes (major, minor) the manifests must run on.
    pub kubernetes_version: Option<Spanned<(u32, u32)>>,
    /// `wait_image` and `wait_kubectl_image` of every service; a service's own wins.
    pub wait_images: WaitImages,
}

impl ProjectSettings {
    pub const KEYS: &'static [&'static str] = &[
        "registry",
        "deny",
        "warn",
        "allow",
        "network_policies",
        "expose",
        "external_traffic_policy",
        "kubernetes_version",
        "wait_image",
        "wait_kubectl_image",
    ];

    /// The target Kubernetes version when the project names none: the oldest kompile's
    /// manifests are made for.
    pub const DEFAULT_KUBERNETES_VERSION: (u32, u32) = (1, 30);

    pub fn kubernetes_version(&self) -> (u32, u32) {
        self.kubernetes_version.map_or(Self::DEFAULT_KUBERNETES_VERSION, |v| v.value)
    }
}

/// The images of the init containers that wait for `depends_on`: already checked to be image
/// references without whitespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitImages {
    /// `wait_image`: waits for a TCP port; needs `sh` and `nc`.
    pub connect: Option<Spanned<String>>,
    /// `wait_kubectl_image`: waits through the Kubernetes API; needs `sh` and `kubectl`.
    pub kubectl: Option<Spanned<String>>,
}

/// A service's `x-kompile` block. `lower` also fills one from the service's Kompose labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceSettings {
    /// `expose`: how the service's published ports are reached from outside the cluster.
    pub expose: Option<Spanned<ExposeKind>>,
    /// `ingress`: the Ingress routed to the service.
    pub ingress: Option<Spanned<IngressSettings>>,
    /// `node_port`: the nodePort of the first published port, with `expose: nodeport`.
    pub node_port: Option<Spanned<u16>>,
    pub external_traffic_policy: Option<Spanned<TrafficPolicy>>,
    /// `secret_env`: environment names whose values go into a Secret, beyond those that look
    /// secret (`compose::looks_secret`).
    pub secret_env: Vec<Spanned<String>>,
    /// `skip_mounts`: container paths whose mounts are left out of the pod (a file too large
    /// for a ConfigMap that the image already holds, say).
    pub skip_mounts: Vec<Spanned<String>>,
    /// `service_account`: the pod's `serviceAccountName`.
    pub service_account: Option<Spanned<String>>,
    /// `image_pull_secrets`: Secret names, the pod's `imagePullSecrets`.
    pub image_pull_secrets: Vec<Spanned<String>>,
    /// `node_selector`: node label → value, added to the pod's `nodeSelector`.
    pub node_selector: Vec<(Key, String)>,
    pub tolerations: Vec<Spanned<Toleration>>,
    /// `disruption`: `false` (`None` here) or the PodDisruptionBudget's budget.
    pub disruption: Option<Spanned<Option<Budget>>>,
    /// `autoscale`: a HorizontalPodAutoscaler; `min` is 0 when not written (the service's
    /// replicas then).
    pub autoscale: Option<Spanned<Autoscale>>,
    /// `pod`: the service whose pod runs this service's container, as a sidecar.
    pub pod: Option<Spanned<String>>,
    /// `wait_image`, `wait_kubectl_image`: the images of this service's wait init containers.
    pub wait_images: WaitImages,
    /// `kind`: the workload that runs the service, over the one its compose keys imply
    /// (`compose::workload`).
    pub kind: Option<Spanned<WorkloadKind>>,
    /// `schedule`: a valid cron schedule (`compose::workload::schedule_problem`); makes the
    /// service a CronJob.
    pub schedule: Option<Spanned<String>>,
    /// `concurrency`: a CronJob's `concurrencyPolicy`.
    pub concurrency: Option<Spanned<Concurrency>>,
    /// `time_zone`: a CronJob's `timeZone`.
    pub time_zone: Option<Spanned<String>>,
    /// `backoff_limit`: a Job's (or CronJob's runs') `backoffLimit`.
    pub backoff_limit: Option<Spanned<u32>>,
    /// `fs_group`: the pod's `fsGroup` when it mounts a claim, over the image's group.
    pub fs_group: Option<Spanned<u32>>,
}

impl ServiceSettings {
    pub const KEYS: &'static [&'static str] = &[
        "expose",
        "ingress",
        "node_port",
        "external_traffic_policy",
        "secret_env",
        "skip_mounts",
        "service_account",
        "image_pull_secrets",
        "node_selector",
        "tolerations",
        "disruption",
        "autoscale",
        "pod",
        "wait_image",
        "wait_kubectl_image",
        "kind",
        "schedule",
        "concurrency",
        "time_zone",
        "backoff_limit",
        "fs_group",
    ];

    /// Whether the value of the environment variable `name` belongs in a Secret.
    pub fn is_secret_env(&self, name: &str) -> bool {
        super::looks_secret(name) || self.secret_env.iter().any(|n| n.value == name)
    }
}

/// A service's `x-kompile.ingress` block; already validated (hosts are DNS names, paths start
/// with `/`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngressSettings {
    /// One per host; `x-kompile` writes one, a Kompose `expose` label may list several.
    pub routes: Vec<IngressRoute>,
    /// `tls`: the Secret holding the certificate (`true` was turned into `<service>-tls` by
    /// `lower`; here it is `Tls::Default`).
    pub tls: Option<Spanned<Tls>>,
    pub class: Option<Spanned<String>>,
    pub annotations: Vec<(Key, String)>,
    /// `port`: the container port to route to; default the first published port's.
    pub port: Option<Spanned<u16>>,
}

impl IngressSettings {
    pub const KEYS: &'static [&'static str] = &["host", "path", "tls", "class", "annotations", "port"];
}

/// One `host` and `path` of an Ingress; no host matches every host.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressRoute {
    pub host: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// `tls: true`: the Secret `<service>-tls`.
    Default,
    Secret(String),
}

/// A top-level volume's `x-kompile` block: how its claim is made, and whether it starts with
/// the image's files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeSettings {
    /// `size`, bytes (`10Gi`).
    pub size: Option<Spanned<u64>>,
    pub storage_class: Option<Spanned<String>>,
    pub access_mode: Option<Spanned<AccessMode>>,
    /// `seed`: whether the volume starts with the image's files where it is mounted, as
    /// Docker fills an empty volume; unset, kompile decides from the Dockerfile (`lower/copy_up.rs`).
    pub seed: Option<Spanned<bool>>,
}

impl VolumeSettings {
    pub const KEYS: &'static [&'static str] = &["size", "storage_class", "access_mode", "seed"];
}

/// An Ingress host as written: a lowercase DNS name, optionally starting with `*.`; else an
/// error at it. Shared by `x-kompile.ingress.host` and Kompose's `kompose.service.expose`.
pub fn checked_host(host: Spanned<String>, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    if crate::names::is_ingress_host(&host.value) {
        return Some(host);
    }
    diags.push(
        Diagnostic::new(Code::InvalidValue, format!("ingress host `{}` is not a DNS name", host.value))
            .at(host.span, "not a host name")
            .help("write a lowercase DNS name such as `shop.example.com` (or `*.example.com`), without scheme, port or path"),
    );
    None
}

/// An Ingress path as written: it starts with `/`; else an error at it.
pub fn checked_path(path: Spanned<String>, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    if path.value.starts_with('/') && !path.value.chars().any(char::is_whitespace) {
        return Some(path);
    }
    diags.push(
        Diagnostic::new(Code::InvalidValue, format!("ingress path `{}` does not start with `/`", path.value))
            .at(path.span, "not an absolute path")
            .help("write the path the Ingress routes, e.g. `/` or `/api`"),
    );
    None
}
