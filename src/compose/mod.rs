//! The typed compose project: what `load` hands every later stage. It is decoded once from
//! the merged, canonical `Node` tree (`load::decode`) after every value was checked, so here
//! durations are `Duration`s, sizes are bytes, ports are numbers and paths are absolute. Each
//! value keeps the place it was written ([`Spanned`]) so later stages can point at it.
//!
//! The `Node` tree stays for merging and for `kompile config`; nothing after `load` reads it.

pub mod addresses;
mod secrets;
pub mod settings;
pub mod workload;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

pub use secrets::{SecretValues, looks_secret, url_passwords};
pub use settings::{IngressRoute, IngressSettings, ProjectSettings, ServiceSettings, Tls, VolumeSettings, WaitImages};

use crate::dockerfile::Dockerfile;
use crate::model::{AccessMode, Healthcheck, Port, Protocol};
use crate::source::{FileId, Span};

/// A value and where it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }
}

impl<T: Default> Default for Spanned<T> {
    fn default() -> Spanned<T> {
        Spanned { value: T::default(), span: Span::NONE }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// A name and the span of its key (`services.web`, `environment.PATH`).
pub type Key = Spanned<String>;

/// A loaded compose project: files merged, profiles applied, every value typed.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: String,
    pub directory: PathBuf,
    /// The compose files that were read, in merge order.
    pub files: Vec<FileId>,
    pub profiles: Vec<String>,
    /// Enabled services, in file order.
    pub services: Vec<Service>,
    /// Services that profiles turned off, with their key spans: references to them are errors.
    pub disabled: Vec<Key>,
    pub networks: Vec<Network>,
    pub volumes: Vec<Volume>,
    pub secrets: Vec<FileObject>,
    pub configs: Vec<FileObject>,
    /// Top-level keys, for keys that have no translation (`models`).
    pub keys: Vec<Key>,
    /// The project-level `x-kompile` block.
    pub settings: ProjectSettings,
    /// The Dockerfiles the enabled services build, parsed.
    pub dockerfiles: Vec<BuildFile>,
    /// Where each service is in `services`, by name ([`Project::indexed`]): every stage looks
    /// services up by name, and a scan per lookup made projects of thousands of services
    /// quadratic.
    pub(crate) by_name: std::collections::HashMap<String, usize>,
}

impl Project {
    /// The project with its services indexed by name; call it again after changing the list.
    pub fn indexed(mut self) -> Project {
        self.by_name = self.services.iter().enumerate().map(|(at, s)| (s.name.value.clone(), at)).collect();
        self
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        // A project built without the index (in tests) is searched.
        if self.by_name.len() != self.services.len() {
            return self.services.iter().find(|s| s.name.value == name);
        }
        let at = *self.by_name.get(name)?;
        self.services.get(at).filter(|s| s.name.value == name)
    }

    pub fn volume(&self, name: &str) -> Option<&Volume> {
        self.volumes.iter().find(|v| v.name.value == name)
    }

    pub fn secret(&self, name: &str) -> Option<&FileObject> {
        self.secrets.iter().find(|v| v.name.value == name)
    }

    pub fn config(&self, name: &str) -> Option<&FileObject> {
        self.configs.iter().find(|v| v.name.value == name)
    }
}

/// One compose service. Keys without a typed field are listed in `keys` only.
#[derive(Debug, Clone, Default)]
pub struct Service {
    /// The service name and the span of its key.
    pub name: Key,
    /// Every key the service sets, in file order (after `extends` and merging).
    pub keys: Vec<Key>,
    pub image: Option<Spanned<String>>,
    pub build: Option<Spanned<Build>>,
    pub command: Option<Spanned<Vec<String>>>,
    pub entrypoint: Option<Spanned<Vec<String>>>,
    pub environment: Vec<EnvVar>,
    pub env_files: Vec<EnvFile>,
    /// `None` when the key is absent; `Some([])` for `ports: []`.
    pub ports: Option<Spanned<Vec<Spanned<Port>>>>,
    pub expose: Option<Spanned<Vec<Spanned<PortRange>>>>,
    pub healthcheck: Option<Spanned<Healthcheck>>,
    pub deploy: Deploy,
    /// The legacy `scale`.
    pub scale: Option<Spanned<u32>>,
    pub volumes: Vec<Spanned<ServiceVolume>>,
    /// Service-level `tmpfs` entries: a target and the size option.
    pub tmpfs: Vec<Spanned<Tmpfs>>,
    pub secrets: Vec<Spanned<FileReference>>,
    pub configs: Vec<Spanned<FileReference>>,
    pub labels: Vec<Label>,
    pub user: Option<Spanned<String>>,
    pub working_dir: Option<Spanned<String>>,
    pub depends_on: Vec<Dependency>,
    /// The networks the service joins, with their per-service settings.
    pub networks: Vec<ServiceNetwork>,
    pub network_mode: Option<Spanned<String>>,
    pub links: Vec<Spanned<String>>,
    pub volumes_from: Vec<Spanned<String>>,
    pub container_name: Option<Spanned<String>>,
    pub hostname: Option<Spanned<String>>,
    pub domainname: Option<Spanned<String>>,
    /// `dns` (nameservers), `dns_search` and `dns_opt` (resolver options such as `ndots:2`),
    /// each a list after loading (Compose takes `dns: 8.8.8.8` for `[8.8.8.8]`).
    pub dns: Vec<Spanned<String>>,
    pub dns_search: Vec<Spanned<String>>,
    pub dns_opt: Vec<Spanned<String>>,
    pub restart: Option<Spanned<String>>,
    pub pull_policy: Option<Spanned<String>>,
    pub read_only: bool,
    pub privileged: bool,
    pub tty: bool,
    pub stdin_open: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// The legacy `cpus`, in cores.
    pub cpus: Option<Spanned<f64>>,
    /// The legacy `mem_limit` and `mem_reservation`, in bytes.
    pub mem_limit: Option<Spanned<u64>>,
    pub mem_reservation: Option<Spanned<u64>>,
    pub stop_grace_period: Option<Spanned<Duration>>,
    /// The service's `x-kompile` block.
    pub settings: ServiceSettings,
    /// `extra_hosts` in canonical `host=address` form.
    pub extra_hosts: Vec<Spanned<String>>,
    /// Where each `ports` entry's `name` is written, in the order of `ports` (`None` for an
    /// entry without one): a name Kubernetes refuses is reported there.
    pub port_name_spans: Vec<Option<Span>>,
    /// `stop_signal`, `sysctls`, `shm_size`, `post_start`, `pre_stop`, `gpus`.
    pub runtime: ServiceRuntime,
}

/// The service keys `lower::runtime` reads: lifecycle hooks, the stop signal, kernel
/// settings and devices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRuntime {
    pub stop_signal: Option<Spanned<String>>,
    /// `sysctls` in file order, values as text.
    pub sysctls: Vec<(Key, String)>,
    /// Bytes.
    pub shm_size: Option<Spanned<u64>>,
    pub post_start: Vec<Spanned<Hook>>,
    pub pre_stop: Vec<Spanned<Hook>>,
    /// The `gpus` key: `all` is one device entry with `count: all`.
    pub gpus: Vec<Spanned<Device>>,
}

/// A `post_start` or `pre_stop` hook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hook {
    pub command: Vec<String>,
    pub user: Option<Spanned<String>>,
    pub privileged: Option<Spanned<bool>>,
    pub working_dir: Option<String>,
    /// In file order; a name without a value is left out, as Compose passes nothing.
    pub environment: Vec<(String, String)>,
}

/// A `deploy.resources.reservations.devices` entry or a `gpus` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Device {
    pub capabilities: Vec<String>,
    pub driver: Option<String>,
    /// `None`: not written; `Some(None)`: `all`.
    pub count: Option<Option<u32>>,
    pub device_ids: Vec<String>,
}

/// `deploy.placement`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    /// As written, e.g. `node.labels.zone==a`.
    pub constraints: Vec<Spanned<String>>,
    /// The `spread` of each preference, e.g. `node.labels.zone`.
    pub spreads: Vec<Spanned<String>>,
    pub max_replicas_per_node: Option<Spanned<u32>>,
}

impl Service {
    /// Whether the service sets `key` (any value, even an empty list).
    pub fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.value == key)
    }

    /// The span of `key`, else of the service name.
    pub fn key_span(&self, key: &str) -> Span {
        self.keys.iter().find(|k| k.value == key).map_or(self.name.span, |k| k.span)
    }

    /// Whether the service declares any port, in `ports` or `expose` (an empty list is none).
    pub fn declares_ports(&self) -> bool {
        let some = |list: Option<usize>| list.is_some_and(|n| n > 0);
        some(self.ports.as_ref().map(|p| p.len())) || some(self.expose.as_ref().map(|e| e.len()))
    }

    /// The number of replicas Compose runs: `deploy.replicas`, else `scale`, else one.
    pub fn replicas(&self) -> u32 {
        self.deploy.replicas.as_ref().or(self.scale.as_ref()).map_or(1, |r| r.value)
    }
}

/// `build`, with the context made absolute (or kept as a URL).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Build {
    pub context: Option<Spanned<String>>,
    pub dockerfile: Option<Spanned<String>>,
    pub dockerfile_inline: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    /// Build arguments that have a value, in file order.
    pub args: Vec<(Key, String)>,
    pub additional_contexts: Vec<(Key, String)>,
    pub secrets: Vec<Spanned<FileReference>>,
}

/// One `environment` entry. `value` is `None` for a bare name the environment did not set.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub name: Key,
    pub value: Option<Spanned<String>>,
    /// The value is one whole `${VAR}` (or `$VAR`) of interpolation: it is not written in the
    /// compose file.
    pub interpolated: bool,
}

/// One `env_file`, read by `load`: its path and values.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvFile {
    pub path: Spanned<String>,
    pub required: bool,
    pub values: Vec<(Key, String)>,
}

/// A `labels` entry (on the service; pod annotations in Kubernetes).
pub type Label = (Key, String);

/// An `expose` entry: a port or a range, with its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRange {
    pub ports: RangeInclusive<u16>,
    pub protocol: Protocol,
}

/// `deploy`, the parts kompile reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deploy {
    pub replicas: Option<Spanned<u32>>,
    pub mode: Option<Spanned<String>>,
    pub resources: DeployResources,
    pub update_config: Option<Spanned<UpdateConfig>>,
    pub restart_policy: Option<Spanned<RestartPolicy>>,
    /// `deploy.labels`, `placement`, `endpoint_mode`, ... : every key set, for the keys
    /// without a translation.
    pub keys: Vec<Key>,
    /// Keys set inside `deploy.*` blocks (`update_config.failure_action`, ...) as dotted
    /// paths, with whether the block had content: for the keys without a translation.
    pub nested_keys: Vec<Key>,
    /// Whether `placement` and `labels` have entries.
    pub placement_set: bool,
    pub placement: Placement,
    pub labels_set: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployResources {
    pub limits: ResourceAmounts,
    pub reservations: ResourceAmounts,
    /// `reservations.devices`.
    pub devices: Vec<Spanned<Device>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceAmounts {
    /// Whether the block is written (even empty), and the span of its first key.
    pub present: bool,
    pub first_key: Option<Span>,
    /// Cores.
    pub cpus: Option<Spanned<f64>>,
    /// Bytes.
    pub memory: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateConfig {
    pub parallelism: Option<u32>,
    /// `start-first` or `stop-first`, with its span.
    pub order: Option<Spanned<String>>,
    pub delay: Option<Duration>,
    pub monitor: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestartPolicy {
    pub condition: Option<Spanned<String>>,
    pub max_attempts: Option<u32>,
    pub delay: Option<Duration>,
    pub window: Option<Duration>,
}

/// A service `volumes` entry in long form.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceVolume {
    pub kind: VolumeKind,
    /// A named volume's name, or a bind mount's absolute path as Compose prints it.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    /// `volume.nocopy`.
    pub nocopy: bool,
    /// `tmpfs.size`, bytes.
    pub tmpfs_size: Option<u64>,
    /// `tmpfs.mode`, as written: Kubernetes cannot set an emptyDir's mode.
    pub tmpfs_mode: Option<Spanned<String>>,
    /// `volume.subpath`: the directory of the volume to mount, relative.
    pub subpath: Option<Spanned<String>>,
    /// `bind.propagation` (`rprivate`, `rslave`, `rshared`, ...), as written.
    pub propagation: Option<Spanned<String>>,
    /// For a bind mount with a source: what it ships, decided (and read) by `load`.
    pub contents: Option<BindContents>,
}

impl ServiceVolume {
    /// Whether this is a bind mount of one project file that ships (mounted by its key).
    pub fn is_single_file(&self) -> bool {
        matches!(&self.contents, Some(BindContents::Project { shipped: Ok(files), .. }) if files.single)
    }
}

/// What a bind mount's source becomes in Kubernetes. `load` decides it and reads the files,
/// so `lower` reads none; `lower` reports what it decided (K204, K015, K208).
#[derive(Debug, Clone, PartialEq)]
pub enum BindContents {
    /// Outside the project directory: a hostPath, read on whatever node the pod lands on.
    Outside,
    /// Inside the project directory, but a symlink takes it outside: a hostPath too, and
    /// nothing was read.
    SymlinkOutside,
    /// Project files: what was left out of them, and what ships, or why they cannot be.
    Project { left_out: Vec<LeftOut>, shipped: Result<ProjectFiles, NotShipped> },
}

impl NotShipped {
    /// The reason of [`NotShipped::Other`] for a source that does not exist.
    pub const MISSING: &'static str = "it does not exist";
}

/// Why the project files of a bind mount cannot be shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotShipped {
    /// One file is larger than a ConfigMap holds (`size` bytes, or more): no split helps.
    TooLarge { path: PathBuf, size: u64 },
    /// The mount is of a single file that is never shipped, and why (`env file`, ...).
    NeverShipped(&'static str),
    /// Anything else: missing, not a regular file, more files or bytes than kompile ships.
    Other(String),
}

/// A project file that is never shipped, and why (`env file`, `compose secret`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub path: PathBuf,
    pub reason: &'static str,
}

impl LeftOut {
    /// What an empty directory is left out as: a ConfigMap holds files only.
    pub const EMPTY_DIRECTORY: &'static str = "empty directory";
}

/// The project files a bind mount ships (each file within the 1 MiB a ConfigMap holds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFiles {
    /// In path order: the file itself, or every file under the directory, at any depth.
    pub files: Vec<ProjectFile>,
    /// Whether the source is a single file rather than a directory.
    pub single: bool,
}

/// One project file: its path relative to the mounted directory (`/`-separated; the file's
/// name for a single file), its bytes and whether it is executable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeKind {
    Volume,
    Bind,
    Tmpfs,
    /// `npipe`, `cluster`, `image`: kinds Kubernetes has no translation for.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmpfs {
    pub target: String,
    pub size: Option<u64>,
    /// The other options, as written (`mode=0700`, `uid=1000`, `noexec`): an emptyDir has
    /// none of them.
    pub unapplied: Vec<String>,
}

/// A service's (or a build's) reference to a top-level secret or config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReference {
    pub source: Spanned<String>,
    /// As written, or the default Compose gives (`/run/secrets/<source>` for secrets).
    pub target: Option<String>,
    /// Permission bits as written (octal); Compose takes more than 0o777, Kubernetes does not.
    pub mode: Option<Spanned<u32>>,
    /// The `uid` and `gid` keys, when written: Kubernetes cannot own one file by a user.
    pub owner: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub service: Key,
    /// `service_started`, `service_healthy` or `service_completed_successfully`.
    pub condition: Condition,
    pub required: bool,
    pub restart: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceNetwork {
    pub name: Key,
    pub aliases: Vec<Spanned<String>>,
    /// Keys set under the network (`aliases`, `ipv4_address`, ...), for those without a
    /// translation.
    pub keys: Vec<Key>,
}

/// A top-level network.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub name: Key,
    pub external: bool,
    /// `name:`, the name outside the project.
    pub explicit_name: Option<String>,
    /// `internal: true`: Compose gives its containers no way out of the network.
    pub internal: bool,
    pub driver: Option<String>,
}

/// A top-level volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub name: Key,
    pub external: bool,
    pub explicit_name: Option<String>,
    pub settings: VolumeSettings,
    /// `driver`, with its span; `None` for Docker's `local`.
    pub driver: Option<Spanned<String>>,
    /// `driver_opts` in file order (`type`, `o`, `device` for the local driver).
    pub driver_opts: Vec<(Key, String)>,
}

impl Volume {
    /// The value of the driver option `key`.
    pub fn driver_opt(&self, key: &str) -> Option<&str> {
        self.driver_opts.iter().find(|(k, _)| k.value == key).map(|(_, v)| v.as_str())
    }

    pub fn access_mode(&self) -> AccessMode {
        self.settings.access_mode.as_ref().map_or(AccessMode::ReadWriteOnce, |m| m.value)
    }
}

/// A top-level secret or config and where its content comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct FileObject {
    pub name: Key,
    pub explicit_name: Option<String>,
    pub source: FileSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileSource {
    /// Already in the cluster.
    External,
    /// `file:`, read by `load` when a service mounts it: the absolute path and its bytes
    /// (`None` when it is not mounted or could not be read, which was reported).
    File { path: Spanned<String>, bytes: Option<Vec<u8>> },
    /// `environment:`, the variable's value (empty when unset).
    Environment { variable: Spanned<String>, value: String },
    /// `content:` (configs).
    Content(Spanned<String>),
    /// None of these: Compose refuses the project, and so does `check`.
    Missing,
}

/// A parsed Dockerfile and the services that build it.
#[derive(Debug, Clone)]
pub struct BuildFile {
    pub path: PathBuf,
    pub file: FileId,
    pub parsed: Dockerfile,
    pub services: Vec<String>,
    /// The `.dockerignore` of the build (of the first service's context): what of the
    /// context never reaches the image.
    pub ignore: crate::dockerignore::Ignore,
    /// What its hadolint settings silence.
    pub silences: crate::diag::Silences,
}

/// `(key, value)` pairs as an ordered map, later entries winning.
pub fn to_map(entries: &[(Key, String)]) -> BTreeMap<String, String> {
    entries.iter().map(|(k, v)| (k.value.clone(), v.clone())).collect()
}
