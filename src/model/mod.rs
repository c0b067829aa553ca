//! The one typed application model. `lower` builds it from a loaded, checked compose project;
//! `emit` turns it into Kubernetes objects. Everything here is already validated: emit never
//! fails and never reports diagnostics.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::source::Span;

/// A compose project, resolved and ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// Compose project name; becomes `app.kubernetes.io/part-of` and `instance`.
    pub name: String,
    /// Kubernetes namespace to put every object in, if the user asked for one.
    pub namespace: Option<String>,
    /// Sorted by `name`.
    pub services: Vec<Service>,
    /// Named volumes that at least one service mounts, sorted by `k8s_name`.
    pub volumes: Vec<Volume>,
    /// Sorted by `k8s_name`.
    pub secrets: Vec<Secret>,
    /// Sorted by `k8s_name`.
    pub configs: Vec<Config>,
}

impl App {
    /// The service named `name` (compose name); services are sorted by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.binary_search_by(|s| s.name.as_str().cmp(name)).ok().map(|at| &self.services[at])
    }

    /// The sidecars in `svc`'s pod, in name order.
    pub fn sidecars_of<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Service> + 'a {
        svc.sidecars.iter().filter_map(|name| self.service(name))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The compose service name, as written.
    pub name: String,
    /// DNS-1123 label derived from `name`; names the Deployment, the Service and the pods' labels.
    pub k8s_name: String,
    pub span: Span,
    pub image: String,
    /// Compose `entrypoint` (becomes the container `command`); `None` keeps the image's.
    pub entrypoint: Option<Vec<String>>,
    /// Compose `command` (becomes the container `args`); `None` keeps the image's.
    pub command: Option<Vec<String>>,
    /// Compose `environment`, after `env_file` entries were moved out; order kept, later wins.
    pub environment: Vec<EnvVar>,
    /// The service's `env_file`s merged in order, as one ConfigMap referenced through `envFrom`.
    /// `environment` entries of the same name take precedence, as in Compose.
    pub env_from: Option<EnvFromConfigMap>,
    /// The values of environment variables that are secrets (from `environment` and
    /// `env_file`), as one Secret: `environment` entries of these names take their value from
    /// it (`secretKeyRef`; their `value` here is empty), `env_file` ones through `envFrom`.
    pub secret_env: Option<SecretEnv>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// Published ports, one entry per port (ranges already expanded).
    pub ports: Vec<Port>,
    /// `expose`d ports, one per port, ranges expanded.
    pub expose: Vec<Port>,
    pub replicas: u32,
    pub update: UpdatePolicy,
    pub healthcheck: Option<Healthcheck>,
    pub resources: Resources,
    pub mounts: Vec<Mount>,
    /// Volumes among `mounts` that start with the image's files, as Docker fills an empty
    /// volume: an init container of the same image copies them in while the volume is empty.
    pub seeds: Vec<Seed>,
    pub stop_grace_period: Option<Duration>,
    pub read_only: bool,
    pub privileged: bool,
    /// The pod's `fsGroup`: the group that owns the claims it mounts (a fresh claim is
    /// owned by root), set only when the pod mounts one (`lower/storage.rs`, `fs_group`).
    pub fs_group: Option<u32>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub tty: bool,
    pub stdin_open: bool,
    /// Compose `labels` (service labels); emitted as pod template annotations, never as
    /// selector labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes `imagePullPolicy` (`Always`, `IfNotPresent`, `Never`) from `pull_policy`.
    pub pull_policy: Option<String>,
    /// Compose `extra_hosts`: the pod's `/etc/hosts` entries, by address in first-seen order.
    pub host_aliases: Vec<HostAlias>,
    /// The names other than `k8s_name` that reach the service (`container_name`, `hostname`,
    /// network and `links` aliases), valid and unique Service names: one more ClusterIP
    /// Service each, selecting the same pods on the same ports. Empty for a service without
    /// ports.
    pub aliases: Vec<String>,
    /// The compose networks the pods join, as pod labels; empty when kompile does not
    /// isolate networks (no project networks, or `x-kompile.network_policies: false`).
    pub networks: Vec<PodNetwork>,
    /// Who may connect to the pods: what the service's NetworkPolicy says.
    pub isolation: Isolation,
    /// Compose `dns`, `dns_search`, `dns_opt`: the pod's `dnsConfig`.
    pub dns: Option<DnsConfig>,
    /// Compose `hostname` (its first label) and `domainname` (else the rest of `hostname`),
    /// each a valid DNS label.
    pub hostname: Option<String>,
    pub subdomain: Option<String>,
    /// How published ports are reached from outside the cluster.
    pub exposure: Exposure,
    /// What runs the pods: a Deployment, StatefulSet, DaemonSet, Job or CronJob.
    pub workload: Workload,
    /// What must be up (or done) before the pods start (`depends_on`): init containers wait.
    pub waits: Vec<Wait>,
    /// Pod and container settings beyond the basics: lifecycle hooks, scheduling, sysctls.
    pub runtime: Runtime,
    /// PodDisruptionBudget and HorizontalPodAutoscaler.
    pub availability: Availability,
    /// A sidecar (`network_mode: service:X`, `x-kompile.pod: X`, a Kompose service group): the
    /// compose name of the service whose pod runs this container, always the pod's own
    /// service (a sidecar of a sidecar names the first). emit makes no workload, Service or
    /// policy for it; its container joins that pod (`lower/sidecars.rs` moved its ports there).
    pub pod_of: Option<String>,
    /// The compose names of the sidecars whose containers run in this service's pod (those
    /// whose `pod_of` is this service), sorted.
    pub sidecars: Vec<String>,
}

/// The kind of workload that runs a service's pods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Workload {
    #[default]
    Deployment,
    /// Pods with stable identity and their own claims (databases).
    StatefulSet(StatefulSet),
    /// One pod per node (`deploy.mode: global`).
    DaemonSet,
    /// Runs to completion (`restart: "no"`, `on-failure`).
    Job(Job),
    /// A Job on a schedule (`x-kompile.schedule`).
    CronJob(CronJob),
}

impl Workload {
    /// The Kubernetes kind.
    pub fn kind(&self) -> &'static str {
        self.workload_kind().k8s_name()
    }

    pub fn workload_kind(&self) -> WorkloadKind {
        match self {
            Workload::Deployment => WorkloadKind::Deployment,
            Workload::StatefulSet(_) => WorkloadKind::StatefulSet,
            Workload::DaemonSet => WorkloadKind::DaemonSet,
            Workload::Job(_) => WorkloadKind::Job,
            Workload::CronJob(_) => WorkloadKind::CronJob,
        }
    }

    /// Runs to completion rather than serving: no Service, probes or replicas.
    pub fn runs_to_completion(&self) -> bool {
        matches!(self, Workload::Job(_) | Workload::CronJob(_))
    }
}

/// A service whose pods keep their identity and own their claims (`lower/workload.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSet {
    /// The StatefulSet's name: the service's `k8s_name`, shortened to 52 characters (longer
    /// names make pod labels the API server refuses).
    pub k8s_name: String,
    /// The governing headless Service (`clusterIP: None`, `<service>-headless`), named in
    /// `serviceName`; it gives each pod a DNS name.
    pub service_name: String,
    /// Named volumes whose claims belong to the StatefulSet, one per pod: `volumeClaimTemplates`
    /// named `k8s_name`, so pod `i` gets the claim `<k8s_name>-<statefulset>-<i>`. Mounted as
    /// [`MountSource::ClaimTemplate`].
    pub claim_templates: Vec<Volume>,
}

/// What a Job's pod does when its container exits with an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobRestart {
    /// Compose `restart: "no"` (its default): the pod fails; retries are new pods.
    #[default]
    Never,
    /// Compose `on-failure`: the container is restarted in its pod.
    OnFailure,
}

impl JobRestart {
    /// The pod's `restartPolicy`.
    pub fn k8s_name(self) -> &'static str {
        match self {
            JobRestart::Never => "Never",
            JobRestart::OnFailure => "OnFailure",
        }
    }
}

/// A service that runs to completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    pub restart: JobRestart,
    /// Failed tries before the Job fails (`backoffLimit`): 0 runs it once, [`Job::NO_LIMIT`]
    /// retries as long as it fails, as Docker's `on-failure` does.
    pub backoff_limit: u32,
    /// Pods that must succeed, all run at once (`completions` and `parallelism`): Compose runs
    /// `replicas` containers side by side, each once.
    pub completions: u32,
}

impl Job {
    /// The largest `backoffLimit` (an int32): Docker restarts `on-failure` without limit.
    pub const NO_LIMIT: u32 = i32::MAX as u32;
}

/// A Job on a schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronJob {
    /// The CronJob's name: the service's `k8s_name`, shortened to 52 characters (the API
    /// server's limit, which leaves room for the Jobs' suffix).
    pub k8s_name: String,
    /// Five cron fields or a macro (`@daily`), already validated.
    pub schedule: String,
    pub concurrency: Concurrency,
    /// An IANA time zone (`Europe/Berlin`); `None`: the controller's (usually UTC).
    pub time_zone: Option<String>,
    /// Each run.
    pub job: Job,
}

/// What a CronJob does when a run is due while the previous one still runs
/// (`concurrencyPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Concurrency {
    Allow,
    /// kompile's default: a compose task is rarely written to run twice at once.
    #[default]
    Forbid,
    Replace,
}

impl Concurrency {
    pub const WORDS: &'static [&'static str] = &["allow", "forbid", "replace"];

    /// From `x-kompile.concurrency` (or Kompose's label), in any case.
    pub fn from_word(word: &str) -> Option<Concurrency> {
        match word.to_ascii_lowercase().as_str() {
            "allow" => Some(Concurrency::Allow),
            "forbid" => Some(Concurrency::Forbid),
            "replace" => Some(Concurrency::Replace),
            _ => None,
        }
    }

    pub fn k8s_name(self) -> &'static str {
        match self {
            Concurrency::Allow => "Allow",
            Concurrency::Forbid => "Forbid",
            Concurrency::Replace => "Replace",
        }
    }
}

/// The kind of workload, as `x-kompile.kind` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub const WORDS: &'static [&'static str] = &["deployment", "statefulset", "daemonset", "job", "cronjob"];

    /// From the word `x-kompile.kind` uses.
    pub fn from_word(word: &str) -> Option<WorkloadKind> {
        match word {
            "deployment" => Some(WorkloadKind::Deployment),
            "statefulset" => Some(WorkloadKind::StatefulSet),
            "daemonset" => Some(WorkloadKind::DaemonSet),
            "job" => Some(WorkloadKind::Job),
            "cronjob" => Some(WorkloadKind::CronJob),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::Job => "job",
            WorkloadKind::CronJob => "cronjob",
        }
    }

    /// The Kubernetes kind.
    pub fn k8s_name(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }

    /// Runs to completion rather than serving until stopped.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::CronJob)
    }
}

/// One `depends_on` entry that holds the service back (`required: true`, the default): what
/// it waits for, and how its init container checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The compose name of the service waited for.
    pub service: String,
    /// Its `k8s_name`: names its workload and its Service.
    pub k8s_name: String,
    pub condition: WaitCondition,
    /// How an init container checks it; `None`: no init container (nothing to wait for, or
    /// nothing the pod can ask; lower said which). `kompile apply` still orders by it.
    pub check: Option<WaitCheck>,
}

/// The compose `depends_on` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitCondition {
    Started,
    Healthy,
    Completed,
}

impl WaitCondition {
    /// The word in the `kompile.dev/depends-on` annotation.
    pub fn word(self) -> &'static str {
        match self {
            WaitCondition::Started => "started",
            WaitCondition::Healthy => "healthy",
            WaitCondition::Completed => "completed",
        }
    }

    pub fn from_word(word: &str) -> Option<WaitCondition> {
        match word {
            "started" => Some(WaitCondition::Started),
            "healthy" => Some(WaitCondition::Healthy),
            "completed" => Some(WaitCondition::Completed),
            _ => None,
        }
    }
}

/// How an init container waits for a dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitCheck {
    /// A TCP connection to `<k8s_name>:<port>` succeeds: the ClusterIP Service forwards only
    /// to ready pods, and readiness is the healthcheck. `image` has `sh` and `nc`.
    Connect { port: u16, image: String },
    /// `kubectl rollout status <kind>/<k8s_name>` succeeds (a dependency the pod cannot
    /// connect to). `kind` is `Deployment`, `StatefulSet` or `DaemonSet`; `image` has `sh`
    /// and `kubectl`.
    Rollout { kind: String, image: String },
    /// The Job `<k8s_name>` has the `Complete` condition; `Failed` fails the init container.
    Job { image: String },
}

impl WaitCheck {
    /// Whether the check asks the Kubernetes API (the pod needs a ServiceAccount that may).
    pub fn uses_api(&self) -> bool {
        !matches!(self, WaitCheck::Connect { .. })
    }
}

/// Pod and container settings beyond the basics (`lower/runtime.rs` decides them;
/// `shm_size` becomes a memory-backed mount at `/dev/shm` among the service's `mounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runtime {
    /// The `post_start` hooks as one exec command (`lifecycle.postStart`).
    pub post_start: Option<Vec<String>>,
    /// The `pre_stop` hooks as one exec command (`lifecycle.preStop`).
    pub pre_stop: Option<Vec<String>>,
    /// `lifecycle.stopSignal` (`SIGINT`); set only when the target Kubernetes version has it.
    pub stop_signal: Option<String>,
    /// `spec.os.name`, which `stopSignal` requires.
    pub os: Option<String>,
    /// Pod `securityContext.sysctls`, in file order.
    pub sysctls: Vec<(String, String)>,
    /// `nvidia.com/gpu` limit.
    pub gpus: Option<u32>,
    /// Node labels a node must have (`placement.constraints` with `==`, `x-kompile.node_selector`).
    pub node_selector: BTreeMap<String, String>,
    /// Node labels a node must not have with these values (`!=` constraints): required node
    /// affinity, `NotIn`.
    pub node_exclusions: Vec<(String, Vec<String>)>,
    /// `topologySpreadConstraints` over the service's pods.
    pub spread: Vec<Spread>,
    /// `max_replicas_per_node: 1`: required pod anti-affinity on the node's hostname.
    pub one_per_node: bool,
    pub service_account: Option<String>,
    pub image_pull_secrets: Vec<String>,
    pub tolerations: Vec<Toleration>,
}

/// One `topologySpreadConstraint` over the service's own pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// A node label, e.g. `zone` or `kubernetes.io/hostname`.
    pub topology_key: String,
    pub max_skew: u32,
    /// `DoNotSchedule` when true, else `ScheduleAnyway`.
    pub hard: bool,
}

/// A pod toleration, as Kubernetes writes it; already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toleration {
    pub key: Option<String>,
    /// `Exists` or `Equal`.
    pub operator: Option<String>,
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: Option<String>,
    pub seconds: Option<i64>,
}

/// PodDisruptionBudget and HorizontalPodAutoscaler of a service (`lower/availability.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability {
    /// A `policy/v1` PodDisruptionBudget named after the service.
    pub disruption_budget: Option<Budget>,
    /// An `autoscaling/v2` HorizontalPodAutoscaler named after the service; the workload then
    /// leaves `replicas` to it.
    pub autoscale: Option<Autoscale>,
}

/// What a PodDisruptionBudget keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    MaxUnavailable(Amount),
    MinAvailable(Amount),
}

/// A number of pods, or a percentage of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Count(u32),
    Percent(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilization, percent of the request.
    pub cpu: Option<u32>,
    pub memory: Option<MemoryTarget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryTarget {
    /// Percent of the memory request.
    Utilization(u32),
    /// Bytes per pod on average.
    AverageValue(u64),
}

/// A compose network a pod joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetwork {
    /// The network's name made a valid label-key part (`front-tier`).
    pub label: String,
    /// An `external` network is shared with other projects: its members are matched in the
    /// whole namespace, not only in this project.
    pub external: bool,
}

impl PodNetwork {
    /// The pod label that says the pod is on this network: `kompile.dev/network-<label>`,
    /// whose value is `"true"`.
    pub fn key(&self) -> String {
        format!("kompile.dev/network-{}", self.label)
    }
}

/// Which traffic reaches a service's pods.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Isolation {
    /// No NetworkPolicy selects the pods: every pod may connect, as without networks.
    #[default]
    Open,
    /// Pods sharing one of the service's `networks` may connect on any port, anyone on the
    /// `published` container ports. `internal`: every network it joins is `internal`, so its
    /// pods may connect only to those networks' pods, and to DNS.
    Networks { published: Vec<(u16, Protocol)>, internal: bool },
    /// `network_mode: none`: nothing in, nothing out.
    Offline,
}

/// The pod's `dnsConfig`; `nameservers` set means `dnsPolicy: None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsConfig {
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    /// Resolver options, `ndots:2` as (`ndots`, `2`), `use-vc` as (`use-vc`, None).
    pub options: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAlias {
    pub ip: String,
    pub hostnames: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    /// `None`: declared without a value and unset (Compose passes nothing); not emitted.
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEnv {
    /// Secret name, e.g. `<service>-secret-env`.
    pub k8s_name: String,
    /// By variable name, the value exactly as Compose passes it (the kubelet does not expand
    /// values taken from a Secret).
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFromConfigMap {
    /// ConfigMap name, e.g. `<service>-env`.
    pub k8s_name: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// As Compose and Dockerfiles write it: `tcp`, `udp`, `sctp`.
    /// From how Compose and Dockerfiles write it; anything but `udp` and `sctp` is TCP, the
    /// default both use (loading already refused other protocols).
    pub fn from_compose_name(text: &str) -> Protocol {
        match text {
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            _ => Protocol::Tcp,
        }
    }

    pub fn compose_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub target: u16,
    /// Host port as Compose writes it (may be absent or a single port; ranges are expanded).
    pub published: Option<u16>,
    pub protocol: Protocol,
    pub host_ip: Option<String>,
    /// Compose long-syntax `name`, already a valid IANA_SVC_NAME if set.
    pub name: Option<String>,
    pub app_protocol: Option<String>,
}

impl Port {
    /// Published on a loopback `host_ip` (`127.0.0.1:8081:8080`): only the Docker host
    /// itself reaches it.
    pub fn on_loopback(&self) -> bool {
        let ip = self.host_ip.as_deref().map(|ip| ip.trim_start_matches('[').trim_end_matches(']'));
        ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()).is_some_and(|ip| ip.is_loopback())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOrder {
    /// Compose `start-first`: new pod up before the old one goes.
    StartFirst,
    /// Compose `stop-first` (Compose's default, not ours): old pod stops first.
    StopFirst,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// How many pods change at once (Compose `parallelism`; 0 means all at once).
    pub parallelism: u32,
    pub order: UpdateOrder,
    /// Compose `delay`/`monitor`: how long a new pod must stay ready before it counts.
    pub min_ready: Option<Duration>,
    /// How long a rollout may take before it is reported as failed.
    pub progress_deadline: Option<Duration>,
    /// True when a ReadWriteOnce volume forces old pods to stop before new ones start.
    pub recreate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCommand {
    /// Compose `CMD`: run directly.
    Exec(Vec<String>),
    /// Compose `CMD-SHELL` or a plain string: run with `/bin/sh -c`.
    Shell(String),
    /// Compose `NONE` or `disable: true`, Dockerfile `HEALTHCHECK NONE`: no check, not even
    /// the image's.
    None,
}

/// A health check: a compose `healthcheck`, a Dockerfile `HEALTHCHECK`, and the two merged
/// for a service (Docker's rules: compose wins field by field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Healthcheck {
    /// `None` when the check sets only timings and keeps the image's test.
    pub test: Option<ProbeCommand>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_limit: Option<u64>,
    pub cpu_request: Option<u64>,
    /// Memory in bytes.
    pub memory_limit: Option<u64>,
    pub memory_request: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path in the container.
    pub target: String,
    pub read_only: bool,
    pub source: MountSource,
    /// What inside the volume is mounted instead of its root (`subPath`): compose
    /// `volume.subpath`, a database's data directory (`lower/storage.rs`, `DATA_DIRS`), or
    /// the key of a single project file. Secrets and configs mount their key (`emit`).
    pub sub_path: Option<String>,
    /// `mountPropagation` of a hostPath mount (compose `bind.propagation`).
    pub propagation: Option<Propagation>,
}

impl Mount {
    /// A mount of `source` at `target`, with no sub-path and no propagation.
    pub fn new(target: String, read_only: bool, source: MountSource) -> Mount {
        Mount { target, read_only, source, sub_path: None, propagation: None }
    }
}

/// Kubernetes' `mountPropagation`: how mounts made under a host path reach the container
/// and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// `private`, `rprivate`: Docker's default.
    None,
    /// `slave`, `rslave`: the host's new mounts reach the container.
    HostToContainer,
    /// `shared`, `rshared`: both ways; Kubernetes allows it only in privileged containers.
    Bidirectional,
}

impl Propagation {
    /// From compose's `bind.propagation` word.
    pub fn from_compose(word: &str) -> Option<Propagation> {
        match word {
            "private" | "rprivate" => Some(Propagation::None),
            "slave" | "rslave" => Some(Propagation::HostToContainer),
            "shared" | "rshared" => Some(Propagation::Bidirectional),
            _ => None,
        }
    }

    pub fn k8s_name(self) -> &'static str {
        match self {
            Propagation::None => "None",
            Propagation::HostToContainer => "HostToContainer",
            Propagation::Bidirectional => "Bidirectional",
        }
    }
}

/// A volume mounted at `target` (a `Volume`, `ClaimTemplate` or `EmptyDir` mount of the same
/// service) that is filled with what the image has at `target` while it is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A top-level named volume; `k8s_name` is the PersistentVolumeClaim.
    Volume { k8s_name: String },
    /// A named volume that is a StatefulSet's own: its `volumeClaimTemplates` entry `name`
    /// (see [`StatefulSet::claim_templates`]), one claim per pod.
    ClaimTemplate { name: String },
    /// An anonymous volume: scratch space that lives as long as the pod.
    EmptyDir,
    /// tmpfs: a memory-backed emptyDir.
    Tmpfs { size: Option<u64> },
    /// Project files shipped in ConfigMaps: each file a key of one of `maps`, projected to
    /// its path under `target`. One map is a configMap volume; several (the files are more
    /// than one ConfigMap holds) are one `projected` volume. A single file is mounted at
    /// `target` by its key ([`Mount::sub_path`]).
    ConfigMap { maps: Vec<ConfigMapFiles> },
    /// A host path outside the project: kept as a hostPath volume (a warning was reported).
    HostPath { path: String },
    /// An NFS export (a volume of the local driver with `type: nfs`), mounted by each pod.
    /// `read_only`: the options say `ro`, so every mount of it is read-only.
    Nfs { server: String, path: String, read_only: bool },
    /// A top-level secret; mounted as one file.
    Secret { k8s_name: String, key: String, mode: Option<u32> },
    /// A top-level config; mounted as one file.
    Config { k8s_name: String, key: String, mode: Option<u32> },
    /// What the container named `container`, in the same pod, mounts at `target`
    /// (`volumes_from`): the very same pod volume, so an anonymous volume is shared too.
    Shared { container: String, target: String },
}

impl MountSource {
    /// A PersistentVolumeClaim: a named volume's own, or a StatefulSet's per pod.
    pub fn is_claim(&self) -> bool {
        matches!(self, MountSource::Volume { .. } | MountSource::ClaimTemplate { .. })
    }
}

/// One ConfigMap of project files a mount uses, and where each of its keys goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMapFiles {
    pub k8s_name: String,
    pub items: Vec<FileItem>,
}

/// A ConfigMap key projected to `path` (relative to the mount, subdirectories included),
/// with `mode` 0755 for an executable file (the default mode otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileItem {
    pub key: String,
    pub path: String,
    pub mode: Option<u32>,
}

/// How a service's published ports are reached from outside the cluster (`x-kompile.expose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExposeKind {
    /// A `<service>-published` Service of type LoadBalancer: `<lb-address>:<published port>`.
    LoadBalancer,
    /// A `<service>-published` Service of type NodePort: `<node>:<nodePort>`.
    NodePort,
    /// An Ingress to the service's ClusterIP Service.
    Ingress,
    /// Nothing outside the cluster: only the ClusterIP Service.
    None,
}

impl ExposeKind {
    pub const WORDS: &'static [&'static str] = &["loadbalancer", "nodeport", "ingress", "none"];

    /// From the word `x-kompile.expose` uses.
    pub fn from_word(word: &str) -> Option<ExposeKind> {
        match word {
            "loadbalancer" => Some(ExposeKind::LoadBalancer),
            "nodeport" => Some(ExposeKind::NodePort),
            "ingress" => Some(ExposeKind::Ingress),
            "none" => Some(ExposeKind::None),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            ExposeKind::LoadBalancer => "loadbalancer",
            ExposeKind::NodePort => "nodeport",
            ExposeKind::Ingress => "ingress",
            ExposeKind::None => "none",
        }
    }
}

/// A published Service's `externalTrafficPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficPolicy {
    Cluster,
    Local,
}

impl TrafficPolicy {
    /// `Cluster` or `Local`, in any case (Kompose writes them in lowercase).
    pub fn from_word(word: &str) -> Option<TrafficPolicy> {
        if word.eq_ignore_ascii_case("cluster") {
            Some(TrafficPolicy::Cluster)
        } else if word.eq_ignore_ascii_case("local") {
            Some(TrafficPolicy::Local)
        } else {
            None
        }
    }

    pub fn k8s_name(self) -> &'static str {
        match self {
            TrafficPolicy::Cluster => "Cluster",
            TrafficPolicy::Local => "Local",
        }
    }
}

/// What reaches a service from outside the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The `<service>-published` Service; `None` when no port is published outside.
    pub published: Option<PublishedService>,
    pub ingress: Option<Ingress>,
}

/// A Service of type LoadBalancer or NodePort for a service's published ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedService {
    pub k8s_name: String,
    /// `LoadBalancer` or `NodePort`.
    pub kind: ExposeKind,
    /// One per published port and protocol.
    pub ports: Vec<PublishedPort>,
    pub external_traffic_policy: Option<TrafficPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedPort {
    /// The Service `port`: the published port (the container port when Compose publishes on
    /// a random host port).
    pub port: u16,
    /// `nodePort`; `None` lets the cluster allocate one.
    pub node_port: Option<u16>,
    /// The container port.
    pub target: u16,
    pub protocol: Protocol,
}

/// A `networking.k8s.io/v1` Ingress to the service's ClusterIP Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub k8s_name: String,
    pub rules: Vec<IngressRule>,
    /// The ClusterIP Service port routed to: a container port.
    pub port: u16,
    pub tls_secret: Option<String>,
    pub class: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRule {
    /// `None`: every host.
    pub host: Option<String>,
    /// Starts with `/`; a `Prefix` path.
    pub path: String,
    /// Where the host (or the setting) is written, for conflicts.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The compose volume name.
    pub name: String,
    pub k8s_name: String,
    pub access_mode: AccessMode,
    /// Requested size in bytes (from `x-kompile` or driver options); None: 1Gi default.
    pub size: Option<u64>,
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub k8s_name: String,
    /// One key named after the secret, holding its bytes.
    pub key: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub name: String,
    pub k8s_name: String,
    /// key → file content. Compose configs have one key; bind-mounted project directories
    /// have one key per file.
    pub data: BTreeMap<String, ConfigData>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigData {
    Text(String),
    Binary(Vec<u8>),
}

/// An IANA_SVC_NAME, as Kubernetes requires of port names: 1–15 lowercase alphanumerics and
/// `-`, at least one letter, no `-` at either end or twice in a row.
pub fn is_port_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}
