//! Volumes, secrets, configs and project files: what each service mounts, and the
//! claims, Secrets and ConfigMaps those mounts need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::names::{Namer, dns_label};
use crate::compose::{
    self, BindContents, FileObject, FileReference, FileSource, Key, LeftOut, NotShipped, ProjectFile, ServiceVolume,
    VolumeKind,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::project_files::{CONFIG_MAP_LIMIT, stored_size};
use crate::model::{
    AccessMode, Config, ConfigData, ConfigMapFiles, FileItem, Mount, MountSource, Propagation, Secret, Service, Volume,
    Workload,
};
use crate::names::config_key;
use crate::source::Span;

pub struct Storage<'a> {
    project: &'a compose::Project,
    /// Compose volume → services that mount it.
    volume_users: BTreeMap<String, BTreeSet<String>>,
    /// Claim name → the compose volume it was made for.
    claims: BTreeMap<String, String>,
    used_secrets: BTreeSet<String>,
    used_configs: BTreeSet<String>,
    /// ConfigMaps made from bind-mounted project files.
    project_files: Vec<Config>,
    /// Kubernetes names of declared volumes (claims), secrets and configs.
    claim_names: BTreeMap<String, String>,
    secret_names: BTreeMap<String, String>,
    config_names: BTreeMap<String, String>,
    /// Every ConfigMap name handed out, so env, config and project-file maps never clash.
    config_maps: BTreeSet<String>,
    /// Every Secret name handed out: top-level secrets' and services' environment Secrets.
    secrets: BTreeSet<String>,
    /// Compose volumes that are a StatefulSet's claim template: they get no claim of their own.
    templates: BTreeSet<String>,
}

/// A ReadWriteOnce named volume a service mounts, and every service that mounts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RwoVolume {
    /// The compose volume name.
    pub name: String,
    /// Already in the cluster (`external: true`): its claim is not kompile's to make.
    pub external: bool,
    /// By compose name, sorted.
    pub users: Vec<String>,
}

/// `wanted` (cut to leave room for a suffix), or `wanted-2`, ..., whichever `taken` lacks;
/// recorded as taken.
fn free_name(wanted: &str, taken: &mut BTreeSet<String>) -> String {
    let wanted: String = wanted.chars().take(58).collect();
    let wanted = wanted.trim_end_matches('-').to_string();
    let name = (1..)
        .map(|i| if i == 1 { wanted.clone() } else { format!("{wanted}-{i}") })
        .find(|n| !taken.contains(n))
        .unwrap_or(wanted);
    taken.insert(name.clone());
    name
}

impl<'a> Storage<'a> {
    pub fn new(project: &'a compose::Project, diags: &mut Diagnostics) -> Storage<'a> {
        let config_names = k8s_names("config", project.configs.iter().map(|c| &c.name), diags);
        let secret_names = k8s_names("secret", project.secrets.iter().map(|s| &s.name), diags);
        Storage {
            project,
            volume_users: BTreeMap::new(),
            claims: BTreeMap::new(),
            used_secrets: BTreeSet::new(),
            used_configs: BTreeSet::new(),
            project_files: Vec::new(),
            claim_names: k8s_names("volume", project.volumes.iter().map(|v| &v.name), diags),
            config_maps: config_names.values().cloned().collect(),
            config_names,
            secrets: secret_names.values().cloned().collect(),
            secret_names,
            templates: BTreeSet::new(),
        }
    }

    /// A name for a service's Secret of environment values that no other Secret of the
    /// project has: `wanted`, or `wanted-2`, ...
    pub fn env_secret_name(&mut self, wanted: &str) -> String {
        free_name(wanted, &mut self.secrets)
    }

    /// A ConfigMap name no other ConfigMap of the project has: `wanted`, or `wanted-2`, ...
    pub fn config_map_name(&mut self, wanted: &str) -> String {
        free_name(wanted, &mut self.config_maps)
    }

    /// The compose project the mounts are made for.
    pub fn project(&self) -> &'a compose::Project {
        self.project
    }

    /// The service's mounts, as `copy_up` planned them: the entries of `volumes` the image
    /// makes needless are left out, and its scratch entries are `emptyDir`s.
    pub fn mounts(
        &mut self,
        service: &compose::Service,
        k8s_name: &str,
        copy_up: &super::copy_up::Plan,
        diags: &mut Diagnostics,
    ) -> Vec<Mount> {
        let mut mounts = Vec::new();
        // Kompose's label, for every named volume that has no `volume.subpath` of its own.
        let kompose_subpath = service
            .labels
            .iter()
            .find(|(key, _)| key.value == super::kompose::KOMPOSE_SUBPATH)
            .map(|(key, value)| compose::Spanned::new(value.clone(), key.span));
        let mut skip = SkipMounts::new(service);
        for (index, volume) in service.volumes.iter().enumerate() {
            // Before the mount is made: a file too large to ship is no error when skipped.
            if copy_up.dropped.contains(&index) || skip.skips(&volume.target, diags) {
                continue;
            }
            if copy_up.scratch.contains(&index) {
                let target = crate::load::canonical::clean_container_path(&volume.target);
                mounts.push(Mount::new(target, false, MountSource::EmptyDir));
                continue;
            }
            if let Some(mut mount) = self.volume_mount(k8s_name, volume, &kompose_subpath, diags) {
                bidirectional(service, &mut mount, volume, diags);
                mounts.push(mount);
            }
        }
        for tmpfs in &service.tmpfs {
            if !tmpfs.unapplied.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Code::MountOption,
                        format!("tmpfs options `{}` at {} are dropped: an emptyDir has only a size", tmpfs.unapplied.join(","), tmpfs.target),
                    )
                    .at(tmpfs.span, "left out")
                    .help("an emptyDir is world-writable (0777) and owned by root; make the directory in the image if it needs another owner or mode"),
                );
            }
            let source = MountSource::Tmpfs { size: tmpfs.size };
            mounts.push(Mount::new(tmpfs.target.clone(), false, source));
        }
        for reference in &service.secrets {
            mounts.push(self.file_mount(reference, true, diags));
        }
        for reference in &service.configs {
            mounts.push(self.file_mount(reference, false, diags));
        }
        // Kompose's `kompose.volume.type: emptyDir`: the named volumes are scratch space.
        let scratch = service
            .labels
            .iter()
            .any(|(key, value)| key.value == super::kompose::KOMPOSE_VOLUME_TYPE && value.trim() == "emptyDir");
        if scratch {
            for mount in mounts.iter_mut().filter(|m| matches!(m.source, MountSource::Volume { .. })) {
                mount.source = MountSource::EmptyDir;
                mount.sub_path = None;
            }
        }
        let mut mounts = last_per_target(mounts);
        mounts.retain(|m| !skip.skips(&m.target, diags));
        skip.report_unused(diags);
        // Counted after the last-wins rule: a volume whose mount was replaced is not used.
        for mount in &mounts {
            if let MountSource::Volume { k8s_name } = &mount.source
                && let Some(volume) = self.claims.get(k8s_name)
            {
                self.volume_users.entry(volume.clone()).or_default().insert(service.name.value.clone());
            }
        }
        mounts
    }

    fn volume_mount(
        &mut self,
        k8s_name: &str,
        volume: &compose::Spanned<ServiceVolume>,
        kompose_subpath: &Option<compose::Spanned<String>>,
        diags: &mut Diagnostics,
    ) -> Option<Mount> {
        let span = volume.span;
        let target = volume.target.clone();
        let source = match &volume.kind {
            VolumeKind::Volume => match &volume.source {
                Some(name) => match self.driver_source(name, diags) {
                    Some(source) => source,
                    None => {
                        let k8s_name = self.claim_name(name);
                        self.claims.insert(k8s_name.clone(), name.clone());
                        MountSource::Volume { k8s_name }
                    }
                },
                None => MountSource::EmptyDir,
            },
            VolumeKind::Bind => {
                let written = volume.source.as_ref()?;
                // Loading made every other source absolute: this is a Windows path
                // (`C:\data`, `\\server\share`), which Compose takes but a hostPath cannot be.
                if !written.starts_with('/') {
                    diags.push(windows_bind(written, span));
                    return None;
                }
                // Compose keeps an absolute source as written (`/a/../b`); load decided on the
                // clean path, and so does the report.
                let source = crate::load::canonical::clean(Path::new(written));
                let source = source.to_string_lossy();
                self.bind_source(k8s_name, &source, &target, volume.contents.as_ref()?, span, diags)?
            }
            VolumeKind::Tmpfs => {
                if let Some(mode) = &volume.tmpfs_mode {
                    diags.push(
                        Diagnostic::new(
                            Code::MountOption,
                            format!("`tmpfs.mode` {} is dropped: Kubernetes cannot set an emptyDir's mode", octal(&mode.value)),
                        )
                        .at(mode.span, "left out")
                        .help("an emptyDir is world-writable (0777); make the directory in the image if it needs other permissions"),
                    );
                }
                MountSource::Tmpfs { size: volume.tmpfs_size }
            }
            VolumeKind::Other(kind) => {
                diags.push(
                    Diagnostic::new(
                        Code::UnsupportedKey,
                        format!("volumes of type `{kind}` have no Kubernetes translation"),
                    )
                    .at(span, "skipped")
                    .help("use a named volume, a bind mount of project files, or tmpfs"),
                );
                return None;
            }
        };
        // An NFS export mounted `ro` is read-only wherever it is mounted.
        let read_only = volume.read_only || matches!(source, MountSource::Nfs { read_only: true, .. });
        let mut mount = Mount::new(target, read_only, source);
        mount.sub_path = match &mount.source {
            MountSource::ConfigMap { maps } if volume.is_single_file() => single_key(maps),
            _ => volume.subpath.as_ref().or(kompose_subpath.as_ref()).and_then(|p| sub_path(p, &mount.source, diags)),
        };
        mount.propagation = volume.propagation.as_ref().and_then(|p| propagation(p, &mount.source, diags));
        Some(mount)
    }

    /// What a named volume with a driver becomes instead of a claim: an NFS export for the
    /// local driver's `type: nfs`. `None` for a plain volume (a claim) or an external one;
    /// other drivers are reported (K272) and get a claim.
    fn driver_source(&self, name: &str, diags: &mut Diagnostics) -> Option<MountSource> {
        let declared = self.project.volume(name).filter(|v| !v.external)?;
        let driver = declared.driver.as_ref().filter(|d| d.value != "local");
        if let Some(driver) = driver {
            diags.push(
                Diagnostic::new(
                    Code::VolumeDriver,
                    format!(
                        "volume `{name}` uses driver `{}`: it becomes a claim of the default storage class",
                        driver.value
                    ),
                )
                .at(driver.span, "not a Kubernetes storage class")
                .help("set `x-kompile: {storage_class: ...}` on the volume to the class that provides this storage"),
            );
            return None;
        }
        match declared.driver_opt("type") {
            Some("nfs" | "nfs4") => nfs(declared, diags),
            Some(other) if !declared.driver_opts.is_empty() => {
                let at = declared.driver_opts.first().map_or(declared.name.span, |(k, _)| k.span);
                diags.push(
                    Diagnostic::new(
                        Code::VolumeDriver,
                        format!("volume `{name}` has driver option `type: {other}`: it becomes a plain claim"),
                    )
                    .at(at, "driver options left out")
                    .help("kompile translates `type: nfs` (an inline nfs volume); for other storage, name a storage class with `x-kompile: {storage_class: ...}`"),
                );
                None
            }
            _ => None,
        }
    }

    /// The claim for a named volume: its external name, or the DNS label of its key.
    fn claim_name(&self, volume: &str) -> String {
        let declared = self.project.volume(volume);
        match declared.and_then(|d| d.explicit_name.as_ref().filter(|_| d.external)) {
            Some(name) => dns_label(name),
            None => self.claim_names.get(volume).cloned().unwrap_or_else(|| dns_label(volume)),
        }
    }

    /// A bind mount: project files become ConfigMaps, anything else a host path; `None` when
    /// it cannot be mounted (an error was reported). What it ships `load` decided and read
    /// (`contents`).
    fn bind_source(
        &mut self,
        k8s_name: &str,
        source: &str,
        target: &str,
        contents: &BindContents,
        span: Span,
        diags: &mut Diagnostics,
    ) -> Option<MountSource> {
        let (left_out, shipped) = match contents {
            BindContents::Outside => {
                diags.push(
                    Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` becomes a hostPath volume"))
                        .at(span, "outside the project")
                        .help("a hostPath reads whatever is on the node the pod lands on; prefer a named volume or a ConfigMap"),
                );
                return Some(MountSource::HostPath { path: source.to_string() });
            }
            BindContents::SymlinkOutside => {
                diags.push(
                    Diagnostic::new(
                        Code::HostPath,
                        format!(
                            "bind mount of `{source}` becomes a hostPath volume: a symlink takes it outside the project"
                        ),
                    )
                    .at(span, "resolves outside the project")
                    .help("project files are shipped only from inside the project directory"),
                );
                return Some(MountSource::HostPath { path: source.to_string() });
            }
            BindContents::Project { left_out, shipped } => (left_out, shipped),
        };
        let shipped = match shipped {
            Ok(shipped) => shipped,
            Err(NotShipped::TooLarge { path, size }) => {
                diags.push(file_too_large(path, *size, target, span));
                return None;
            }
            // Never a directory where the program expects a file: no mount at all.
            Err(NotShipped::NeverShipped(reason)) => {
                diags.push(
                    Diagnostic::new(
                        Code::FilesLeftOut,
                        format!("`{source}` is never shipped ({reason}): the mount at {target} is left out"),
                    )
                    .at(span, "not mounted")
                    .help("mount secrets with `secrets:`; env files are read with `env_file:`"),
                );
                return None;
            }
            Err(NotShipped::Other(reason)) => {
                report_left_out(source, left_out, span, diags);
                // Compose creates a missing directory, where the service then keeps its data.
                let help = if reason == NotShipped::MISSING {
                    "Compose makes the directory and the service writes there: use a named volume to keep the data across restarts"
                } else {
                    "bake these files into the image, or use a named volume"
                };
                diags.push(
                    Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` cannot be shipped: {reason}"))
                        .at(span, "an empty directory instead, whose data lasts as long as the pod")
                        .help(help),
                );
                return Some(MountSource::EmptyDir);
            }
        };
        // An empty directory is where the service writes (`./pgdata:/var/lib/postgresql/data`):
        // an empty ConfigMap would be read-only, and the database could not start.
        let only_empty_directories = left_out.iter().all(|l| l.reason == LeftOut::EMPTY_DIRECTORY);
        if shipped.files.is_empty() && !shipped.single && only_empty_directories {
            diags.push(
                Diagnostic::new(
                    Code::HostPath,
                    format!("bind mount of `{source}` is an empty directory: it becomes a writable empty directory"),
                )
                .at(span, "mounted as an empty directory; its data lasts as long as the pod")
                .help("the service writes here: use a named volume to keep the data across restarts"),
            );
            return Some(MountSource::EmptyDir);
        }
        report_left_out(source, left_out, span, diags);
        // Everything was left out: an empty volume would hide what the image has there.
        if shipped.files.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::FilesLeftOut,
                    format!("nothing of `{source}` ships: the mount at {target} is left out"),
                )
                .at(span, "not mounted")
                .help("mount secrets with `secrets:`; env files are read with `env_file:`"),
            );
            return None;
        }
        let base = Path::new(source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let wanted = format!("{k8s_name}-{}", dns_label(&base));
        let mut maps = Vec::new();
        for (i, (data, items)) in pack(&shipped.files).into_iter().enumerate() {
            let name = if i == 0 {
                self.config_map_name(&wanted)
            } else {
                self.config_map_name(&format!("{wanted}-{}", i + 1))
            };
            self.project_files.push(Config { name: source.to_string(), k8s_name: name.clone(), data });
            maps.push(ConfigMapFiles { k8s_name: name, items });
        }
        diags.push(shipped_as(&base, &maps, target, span));
        Some(MountSource::ConfigMap { maps })
    }

    /// A service's secret or config reference → a one-file mount.
    fn file_mount(&mut self, reference: &FileReference, secret: bool, diags: &mut Diagnostics) -> Mount {
        let source = reference.source.value.clone();
        let target = reference.target.clone();
        let mode = reference.mode.as_ref().and_then(|mode| file_mode(mode, diags));
        if let Some(key) = reference.owner.first() {
            let keys: Vec<String> = reference.owner.iter().map(|k| format!("`{}`", k.value)).collect();
            let verb = if keys.len() > 1 { "are" } else { "is" };
            let (keys, source) = (keys.join(" and "), &reference.source.value);
            diags.push(
                Diagnostic::new(
                    Code::MountOption,
                    format!("{keys} of `{source}` {verb} dropped: Kubernetes cannot give one mounted file an owner"),
                )
                .at(key.span, "left out")
                .help("the file is owned by root and readable as its `mode` says; the pod's `fsGroup` (`x-kompile.fs_group`) is the closest, or widen `mode`"),
            );
        }
        let names = if secret { &self.secret_names } else { &self.config_names };
        let k8s_name = names.get(&source).cloned().unwrap_or_else(|| dns_label(&source));
        let key = config_key(&source);
        let (target, source) = if secret {
            self.used_secrets.insert(source.clone());
            let target = target.unwrap_or_else(|| source.clone());
            let target = if target.starts_with('/') { target } else { format!("/run/secrets/{target}") };
            (target, MountSource::Secret { k8s_name, key, mode })
        } else {
            self.used_configs.insert(source.clone());
            let target = target.unwrap_or_else(|| format!("/{source}"));
            (target, MountSource::Config { k8s_name, key, mode })
        };
        Mount::new(target, true, source)
    }

    /// Claims mounted whole at the data directory of a [`DATA_DIRS`] image (`image`: the pulled
    /// image, or the base of a built one) start the database in a directory of the claim: the
    /// row's variable points there when the image has one (`PGDATA`, which works whatever user the
    /// database runs as), else the mount gets the row's `subPath`. Unless the service moved the
    /// directory itself (`PGDATA=...` in `environment`, which lowering moved out of the service,
    /// in an env file, or in the built image's `ENV`). Returns the variables to set, which the container's environment takes
    /// over any of the same name (they are kompile's, never a secret).
    pub fn data_directories(
        &self,
        service: &compose::Service,
        image: Option<&str>,
        image_env: &BTreeMap<String, Option<String>>,
        environment: &[compose::EnvVar],
        mounts: &mut [Mount],
        diags: &mut Diagnostics,
    ) -> Vec<(String, String)> {
        let mut variables = Vec::new();
        let Some(name) = image.map(repository_name) else { return variables };
        for mount in mounts {
            let written = service
                .volumes
                .iter()
                .find(|v| crate::load::canonical::clean_container_path(&v.target) == mount.target);
            let span = written.map_or(service.name.span, |v| v.span);
            // An external claim already holds its data, at its root: moving it would hide it.
            let volume = written.and_then(|v| v.source.as_deref());
            if volume.and_then(|n| self.project.volume(n)).is_some_and(|v| v.external) {
                continue;
            }
            if !matches!(mount.source, MountSource::Volume { .. }) || mount.sub_path.is_some() {
                continue;
            }
            let Some(row) = DATA_DIRS.iter().find(|row| row.image == name && row.path == mount.target) else {
                continue;
            };
            if moved(service, image_env, environment, row) {
                continue;
            }
            let directory = format!("{}/{}", row.path, row.sub_path);
            let (label, how) = if row.variable.is_empty() {
                mount.sub_path = Some(row.sub_path.to_string());
                (
                    format!("subPath: {}", row.sub_path),
                    format!("the claim's directory `{}` is mounted there", row.sub_path),
                )
            } else {
                variables.push((row.variable.to_string(), directory.clone()));
                (
                    format!("{}={directory}", row.variable),
                    format!("`{}` is set to its directory {directory}", row.variable),
                )
            };
            diags.push(
                Diagnostic::new(Code::DataSubdirectory, format!("`{name}` wants an empty {}: {how}", row.path))
                    .at(span, label)
                    .help("a fresh claim holds `lost+found`, which the database refuses; set the variable, or `volume: {subpath: ...}`, to choose the directory"),
            );
        }
        variables
    }

    /// Counts `service` as a user of the claim `k8s_name`: `volumes_from` copied the mount.
    pub fn add_user(&mut self, k8s_name: &str, service: &str) {
        if let Some(volume) = self.claims.get(k8s_name) {
            self.volume_users.entry(volume.clone()).or_default().insert(service.to_string());
        }
    }

    /// The named volumes among `mounts` whose claims are ReadWriteOnce, in mount order, once
    /// each; complete once every service's mounts were made.
    pub fn read_write_once_volumes(&self, mounts: &[Mount]) -> Vec<RwoVolume> {
        let mut out: Vec<RwoVolume> = Vec::new();
        for mount in mounts {
            let MountSource::Volume { k8s_name } = &mount.source else { continue };
            let Some(name) = self.claims.get(k8s_name) else { continue };
            if self.access_mode(name) != AccessMode::ReadWriteOnce || out.iter().any(|v| &v.name == name) {
                continue;
            }
            out.push(RwoVolume {
                name: name.clone(),
                external: self.project.volume(name).is_some_and(|v| v.external),
                users: self.volume_users.get(name).map(|u| u.iter().cloned().collect()).unwrap_or_default(),
            });
        }
        out
    }

    /// Makes compose volume `name` a StatefulSet's claim template: the claim it describes
    /// (named like the claim kompile would have made), which is then not made.
    pub fn claim_template(&mut self, name: &str) -> Option<Volume> {
        let declared = self.project.volume(name).filter(|v| !v.external)?;
        self.templates.insert(name.to_string());
        Some(self.volume(name, declared))
    }

    /// The claim of a declared volume, as its `x-kompile` block describes it.
    fn volume(&self, name: &str, declared: &compose::Volume) -> Volume {
        let settings = &declared.settings;
        Volume {
            name: name.to_string(),
            k8s_name: self.claim_name(name),
            access_mode: declared.access_mode(),
            size: settings.size.as_ref().map(|s| s.value).or_else(|| {
                self.kompose_label(name, super::kompose::KOMPOSE_SIZE).and_then(|v| crate::units::parse_bytes(v.trim()))
            }),
            storage_class: settings.storage_class.as_ref().map(|s| s.value.clone()).or_else(|| {
                let class = self.kompose_label(name, super::kompose::KOMPOSE_STORAGE_CLASS)?.trim();
                crate::names::is_dns_subdomain(class).then(|| class.to_string())
            }),
        }
    }

    /// The value of Kompose label `key` on the first service (by name) that mounts `volume`:
    /// Kompose's volume labels are service labels, for all of its volumes.
    fn kompose_label(&self, volume: &str, key: &str) -> Option<&'a str> {
        let project = self.project;
        let users = self.volume_users.get(volume)?;
        let labels = users.iter().filter_map(|u| project.service(u)).flat_map(|s| s.labels.iter());
        labels.filter(|(k, _)| k.value == key).map(|(_, v)| v.as_str()).next()
    }

    /// `x-kompile.access_mode` of a top-level volume; ReadWriteOnce when not set.
    fn access_mode(&self, volume: &str) -> AccessMode {
        self.project.volume(volume).map_or(AccessMode::ReadWriteOnce, compose::Volume::access_mode)
    }

    /// The claims, Secrets and ConfigMaps the mounted things need.
    pub fn finish(mut self, services: &[Service], diags: &mut Diagnostics) -> (Vec<Volume>, Vec<Secret>, Vec<Config>) {
        let volumes = self.claims(services, diags);
        let secrets = self.secret_objects();
        let mut configs = self.config_objects();
        configs.append(&mut self.project_files);
        configs.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        (volumes, secrets, configs)
    }

    fn claims(&self, services: &[Service], diags: &mut Diagnostics) -> Vec<Volume> {
        let mut out = Vec::new();
        let replicas_of: BTreeMap<&str, u32> = services.iter().map(|s| (s.name.as_str(), s.replicas)).collect();
        // A sidecar's container is in its pod's service's pods: those are counted.
        let pod_of: BTreeMap<&str, &str> =
            services.iter().map(|s| (s.name.as_str(), s.pod_of.as_deref().unwrap_or(&s.name))).collect();
        let per_node: BTreeSet<&str> =
            services.iter().filter(|s| s.workload == Workload::DaemonSet).map(|s| s.name.as_str()).collect();
        // A claim template is a claim per pod, never shared.
        for (name, users) in self.volume_users.iter().filter(|(name, _)| !self.templates.contains(*name)) {
            let Some(declared) = self.project.volume(name) else { continue };
            let pods: BTreeSet<&str> = users.iter().map(|u| pod_of.get(u.as_str()).copied().unwrap_or(u)).collect();
            let replicas: u32 = pods.iter().filter_map(|p| replicas_of.get(p)).sum();
            let on_every_node = pods.iter().any(|p| per_node.contains(p));
            if declared.access_mode() == AccessMode::ReadWriteOnce && (pods.len() > 1 || replicas > 1 || on_every_node)
            {
                let who: Vec<&str> = users.iter().map(String::as_str).collect();
                let pods = if on_every_node { "a pod on every node".to_string() } else { format!("{replicas} pods") };
                diags.push(
                    Diagnostic::new(Code::SharedVolume, format!("ReadWriteOnce volume `{name}` is used by {pods} ({})", who.join(", ")))
                        .at(declared.name.span, "attaches to one node at a time")
                        .help("pods on other nodes will not start; set `x-kompile: {access_mode: ReadWriteMany}` if your storage supports it, or give each service its own volume"),
                );
            }
            if declared.external {
                continue;
            }
            out.push(self.volume(name, declared));
        }
        out.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        out
    }

    fn secret_objects(&self) -> Vec<Secret> {
        let mut out = Vec::new();
        for name in &self.used_secrets {
            let Some(declared) = self.project.secret(name) else { continue };
            let Some(data) = content(declared) else { continue };
            let Some(k8s_name) = self.secret_names.get(name).cloned() else { continue };
            out.push(Secret { name: name.clone(), k8s_name, key: config_key(name), data });
        }
        out.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        out
    }

    fn config_objects(&self) -> Vec<Config> {
        let mut out = Vec::new();
        for name in &self.used_configs {
            let Some(declared) = self.project.config(name) else { continue };
            let Some(bytes) = content(declared) else { continue };
            let data = BTreeMap::from([(config_key(name), config_data(bytes))]);
            let Some(k8s_name) = self.config_names.get(name).cloned() else { continue };
            out.push(Config { name: name.clone(), k8s_name, data });
        }
        out
    }
}

/// A secret's or config's content from `file` (read by `load`, which reported a file it
/// could not read or that was too large), `environment` or `content`; `None` for external
/// ones, which already exist in the cluster.
fn content(object: &FileObject) -> Option<Vec<u8>> {
    match &object.source {
        FileSource::External | FileSource::Missing => None,
        FileSource::File { bytes, .. } => bytes.clone(),
        FileSource::Environment { value, .. } => Some(value.clone().into_bytes()),
        FileSource::Content(text) => Some(text.value.clone().into_bytes()),
    }
}

/// Images whose entrypoint refuses a data directory that is not empty, and a fresh claim is
/// not: the filesystem's `lost+found` is in its root. A directory of the claim gives the
/// database the empty directory it wants, and the data stays on the claim: the image's
/// variable points there, or, without one, the mount's `subPath` (which the kubelet creates
/// as root: a database that runs as another user could not write to it).
/// Add a row for another image: the last part of its repository, its data directory, the
/// variable that moves that directory, and the directory of the claim to use.
pub const DATA_DIRS: &[DataDir] = &[
    DataDir { image: "postgres", path: "/var/lib/postgresql/data", variable: "PGDATA", sub_path: "pgdata" },
    DataDir { image: "postgis", path: "/var/lib/postgresql/data", variable: "PGDATA", sub_path: "pgdata" },
    DataDir { image: "timescaledb", path: "/var/lib/postgresql/data", variable: "PGDATA", sub_path: "pgdata" },
    // `--initialize specified but the data directory has files in it` (docker-library/mysql#69).
    DataDir { image: "mysql", path: "/var/lib/mysql", variable: "", sub_path: "mysql-data" },
];

/// A row of [`DATA_DIRS`].
#[derive(Debug, Clone, Copy)]
pub struct DataDir {
    /// The last part of the image's repository (`postgres` of `docker.io/library/postgres:16`).
    pub image: &'static str,
    /// Where the image keeps its data.
    pub path: &'static str,
    /// The environment variable that moves it (`PGDATA`); empty when there is none.
    pub variable: &'static str,
    /// The directory of the claim mounted there.
    pub sub_path: &'static str,
}

/// The last part of an image's repository, without registry, tag or digest.
fn repository_name(image: &str) -> &str {
    let repository = repository(image);
    repository.rsplit('/').next().unwrap_or(repository)
}

/// An image reference's repository, registry included: without its digest or its tag (after
/// the last `:` that follows the last `/`; a registry may have a port).
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let tag_at = image.rfind(':').filter(|&at| !image[at..].contains('/'));
    tag_at.map_or(image, |at| &image[..at])
}

/// Whether the service sets the row's variable to another directory itself.
fn moved(
    service: &compose::Service,
    image_env: &BTreeMap<String, Option<String>>,
    environment: &[compose::EnvVar],
    row: &DataDir,
) -> bool {
    if row.variable.is_empty() {
        return false;
    }
    let elsewhere = |value: &str| value.trim_end_matches('/') != row.path;
    // The built image's `ENV PGDATA=...` (a value kompile cannot read counts as moved).
    if image_env.get(row.variable).is_some_and(|value| value.as_deref().is_none_or(elsewhere)) {
        return true;
    }
    let set = environment
        .iter()
        .any(|var| var.name.value == row.variable && var.value.as_ref().is_some_and(|v| elsewhere(&v.value)));
    let in_file =
        service.env_files.iter().flat_map(|f| &f.values).any(|(k, v)| k.value == row.variable && elsewhere(v));
    set || in_file
}

/// Kubernetes takes `Bidirectional` propagation only in a privileged container: otherwise
/// the host's mounts still reach the container (`HostToContainer`), but not the other way.
fn bidirectional(service: &compose::Service, mount: &mut Mount, volume: &ServiceVolume, diags: &mut Diagnostics) {
    if mount.propagation != Some(Propagation::Bidirectional) || service.privileged {
        return;
    }
    let span = volume.propagation.as_ref().map_or(service.name.span, |p| p.span);
    diags.push(
        Diagnostic::new(
            Code::MountPropagation,
            "`shared` propagation needs a privileged container: mounted with HostToContainer".to_string(),
        )
        .at(span, "mountPropagation: HostToContainer")
        .help("set `privileged: true` on the service if its mounts must reach the host"),
    );
    mount.propagation = Some(Propagation::HostToContainer);
}

/// Reports the group a claim was given from the service's numeric user (K264): the files of
/// the claim change group, which Docker never does.
/// `image`: the image whose known user (`IMAGE_USERS`) gave the group, if that is where it
/// came from.
pub fn report_fs_group(
    service: &compose::Service,
    mounts: &[Mount],
    group: Option<u32>,
    image: Option<&str>,
    diags: &mut Diagnostics,
) {
    let Some(group) = group else { return };
    let runs_as = match image {
        Some(image) => format!("the group image `{image}` runs as"),
        None => "the group it runs as".to_string(),
    };
    let Some(mount) = mounts.iter().find(|m| m.source.is_claim()) else { return };
    let span = service.volumes.iter().find(|v| v.target == mount.target).map_or(service.name.span, |v| v.span);
    diags.push(
        Diagnostic::new(
            Code::ClaimGroup,
            format!(
                "the claims of service `{}` are given to group {group}, {runs_as} (`fsGroup`)",
                service.name.value
            ),
        )
        .at(span, format!("group {group} may write here"))
        .help("a fresh claim is root's, and a non-root user could not write to it; the files are given to the group once (`OnRootMismatch`). Set `x-kompile: {fs_group: N}` to choose the group"),
    );
}

/// Pulled images known to run as a non-root user, which Docker's copy-up lets write to a new
/// volume (the volume takes the image directory's owner) and a fresh claim would not: the
/// user their Helm charts give `fsGroup` for. A row is the end of the repository path, so
/// mirrors and other registries match (`quay.io/prometheus/prometheus`,
/// `registry.example.com/mirror/bitnami/redis`); a row ending in `/` is an organisation, any
/// image of it. Add a row for another image.
pub const IMAGE_USERS: &[(&str, &str)] = &[
    ("bitnami/", "1001"),
    ("bitnamilegacy/", "1001"),
    ("grafana/grafana", "472"),
    ("grafana/grafana-oss", "472"),
    ("grafana/grafana-enterprise", "472"),
    ("prometheus/prometheus", "65534"),
    ("prom/prometheus", "65534"),
    ("prometheus/alertmanager", "65534"),
    ("prom/alertmanager", "65534"),
    ("jenkins/jenkins", "1000"),
    ("elasticsearch", "1000"),
    ("kibana", "1000"),
    ("opensearchproject/opensearch", "1000"),
    ("keycloak/keycloak", "1000"),
    ("nodered/node-red", "1000"),
    ("sonarqube", "1000"),
    ("sonatype/nexus3", "200"),
];

/// The user `image` runs as, from [`IMAGE_USERS`].
pub fn image_user(image: &str) -> Option<&'static str> {
    let repository = repository(image);
    // `path` ends with `tail` at a `/` (or is it); an organisation is the part before the
    // image's name.
    let ends_at_part = |path: &str, tail: &str| {
        path.strip_suffix(tail).is_some_and(|before| before.is_empty() || before.ends_with('/'))
    };
    let owner = repository.rsplit_once('/').map(|(owner, _)| owner);
    let matches = |row: &str| match row.strip_suffix('/') {
        Some(organisation) => owner.is_some_and(|owner| ends_at_part(owner, organisation)),
        None => ends_at_part(repository, row),
    };
    IMAGE_USERS.iter().find(|(row, _)| matches(row)).map(|(_, user)| *user)
}

/// The pod's `fsGroup` when it mounts a claim (a fresh claim's root is owned by root, and a
/// non-root image could not write to it): `x-kompile.fs_group`, else the group of a numeric
/// user (`uid:gid`, else the uid: the container then has that group too). A named or root
/// user gets none: Kubernetes cannot know its group, and root writes anyway.
pub fn fs_group(mounts: &[Mount], user: Option<&str>, setting: Option<u32>) -> Option<u32> {
    if !mounts.iter().any(|m| m.source.is_claim()) {
        return None;
    }
    if setting.is_some() {
        return setting;
    }
    let user = user?;
    let (uid, gid) = user.split_once(':').map_or((user, None), |(u, g)| (u, Some(g)));
    let uid = uid.parse::<u32>().ok()?;
    let group = gid.and_then(|g| g.parse::<u32>().ok()).unwrap_or(uid);
    (group != 0).then_some(group)
}

/// The local driver's NFS options, `o: addr=HOST,...` and `device: ":/export"`, as an inline
/// `nfs` volume: the pods mount the export themselves, as Docker would.
fn nfs(declared: &compose::Volume, diags: &mut Diagnostics) -> Option<MountSource> {
    let options = declared.driver_opt("o").unwrap_or_default();
    let server = options.split(',').find_map(|o| o.trim().strip_prefix("addr="));
    let device = declared.driver_opt("device").unwrap_or_default();
    // `:/export` (Docker passes `addr` separately), or `host:/export`.
    let (host, path) = device.split_once(':').unwrap_or(("", device));
    let server = server.filter(|s| !s.is_empty()).or(Some(host).filter(|h| !h.is_empty()));
    let at = declared.driver_opts.first().map_or(declared.name.span, |(k, _)| k.span);
    let (Some(server), true) = (server, path.starts_with('/')) else {
        diags.push(
            Diagnostic::new(
                Code::VolumeDriver,
                format!("NFS volume `{}` names no server (`o: addr=HOST`) and export (`device: \":/path\"`): it becomes a plain claim", declared.name.value),
            )
            .at(at, "driver options left out")
            .help("write `o: addr=HOST,...` and `device: \":/export\"`"),
        );
        return None;
    };
    let read_only = options.split(',').any(|o| o.trim() == "ro");
    let dropped: Vec<&str> = options
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty() && !o.starts_with("addr=") && *o != "ro" && *o != "rw")
        .collect();
    let dropped = if dropped.is_empty() {
        String::new()
    } else {
        format!("; options `{}` are left to the node", dropped.join(","))
    };
    diags.push(
        Diagnostic::new(
            Code::VolumeDriver,
            format!(
                "NFS volume `{}` is mounted from {server}:{path} by each pod, not through a claim{dropped}",
                declared.name.value
            ),
        )
        .at(at, "an inline nfs volume")
        .help("mount options in `o` other than `addr` and `ro` (nfsvers, nolock, ...) are the node's defaults in Kubernetes"),
    );
    Some(MountSource::Nfs { server: server.to_string(), path: path.to_string(), read_only })
}

/// A mode as loading left it (decimal, `0755` read as 493) in octal, as modes are read.
fn octal(mode: &str) -> String {
    mode.parse::<u32>().map_or_else(|_| mode.to_string(), |m| format!("0{m:o}"))
}

/// The key of the one file `maps` hold: a file bind-mounted over a file.
fn single_key(maps: &[ConfigMapFiles]) -> Option<String> {
    maps.first()?.items.first().map(|item| item.key.clone())
}

/// `volume.subpath`: a relative path inside a named volume, as Kubernetes' `subPath` takes it
/// (no `..`, not absolute). Compose allows it on named volumes only.
fn sub_path(written: &compose::Spanned<String>, source: &MountSource, diags: &mut Diagnostics) -> Option<String> {
    let path = written.value.trim_end_matches('/');
    let escapes = path.starts_with('/') || path.split('/').any(|part| part == "..");
    if escapes || path.is_empty() {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`volume.subpath` cannot be `{}`", written.value))
                .at(written.span, "the whole volume is mounted")
                .help("write a relative path inside the volume, without `..`, e.g. `subpath: data`"),
        );
        return None;
    }
    // An anonymous volume is a fresh emptyDir: a directory of it is as empty as the whole.
    matches!(source, MountSource::Volume { .. } | MountSource::Nfs { .. }).then(|| path.to_string())
}

/// `bind.propagation` → `mountPropagation`, which Kubernetes allows on host paths only (a
/// project directory shipped as a ConfigMap has no mounts to propagate).
fn propagation(
    written: &compose::Spanned<String>,
    source: &MountSource,
    diags: &mut Diagnostics,
) -> Option<Propagation> {
    let word = written.value.as_str();
    let Some(propagation) = Propagation::from_compose(word) else {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`bind.propagation` cannot be `{word}`"))
                .at(written.span, "left out")
                .help("write one of rprivate, private, rshared, shared, rslave, slave"),
        );
        return None;
    };
    if !matches!(source, MountSource::HostPath { .. }) {
        if propagation != Propagation::None {
            diags.push(
                Diagnostic::new(
                    Code::MountPropagation,
                    format!("`propagation: {word}` is dropped: the bind mount is not a host path in the cluster"),
                )
                .at(written.span, "no mountPropagation")
                .help("mount propagation needs a hostPath; project files are shipped as a ConfigMap"),
            );
        }
        return None;
    }
    // `None` is Kubernetes' default too: nothing to write.
    (propagation != Propagation::None).then_some(propagation)
}

fn windows_bind(source: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidValue,
        format!("bind mount of Windows path `{source}` cannot be a Kubernetes hostPath"),
    )
    .at(span, "Windows path")
    .help("a hostPath is an absolute path on a Linux node: use a named volume, or a path relative to the project")
}

/// A secret or config `mode` (octal text, as loading left it). Kubernetes refuses modes
/// above 0777 (Compose takes them, and `mode: 644` is decimal 644 = octal 1204, which has
/// the sticky bit), so such a mode is an error naming the octal the user most likely meant.
fn file_mode(mode: &compose::Spanned<u32>, diags: &mut Diagnostics) -> Option<u32> {
    if mode.value <= 0o777 {
        return Some(mode.value);
    }
    diags.push(mode_too_large(mode.value, mode.span));
    None
}

fn mode_too_large(mode: u32, span: Span) -> Diagnostic {
    // Read as decimal, the digits the user wrote: `644` became octal 1204.
    let written = mode.to_string();
    let meant = u32::from_str_radix(&written, 8).ok().filter(|m| *m <= 0o777);
    let (message, help) = match meant {
        Some(meant) => (
            format!("mode {written} is decimal (octal {mode:o}); did you mean `0{meant:o}`?"),
            format!("write `0{meant:o}` (a leading 0 makes it octal) or quote it: `\"{meant:o}\"`"),
        ),
        None => (
            format!("mode 0{mode:o} is above 0777"),
            "a mounted file's mode is permission bits only, at most `0777`".to_string(),
        ),
    };
    Diagnostic::new(Code::InvalidValue, message).at(span, "not a Kubernetes file mode").help(help)
}

/// Kubernetes names for every entry of a top-level section, reported when changed and
/// refused when two collide.
fn k8s_names<'k>(
    what: &'static str,
    keys: impl Iterator<Item = &'k Key>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut namer = Namer::new(what, diags);
    let mut names = BTreeMap::new();
    for key in keys {
        if let Some(name) = namer.name(&key.value, key.span) {
            names.insert(key.value.clone(), name);
        }
    }
    names
}

fn config_data(bytes: Vec<u8>) -> ConfigData {
    match String::from_utf8(bytes) {
        Ok(text) => ConfigData::Text(text),
        Err(error) => ConfigData::Binary(error.into_bytes()),
    }
}

/// Every file a key of its own and an item that puts it at its path, packed in path order
/// into as few ConfigMaps as hold them: at most 1 MiB of keys and values each, as written
/// (binary files base64), what Kubernetes takes.
fn pack(files: &[ProjectFile]) -> Vec<(BTreeMap<String, ConfigData>, Vec<FileItem>)> {
    let mut maps: Vec<(BTreeMap<String, ConfigData>, Vec<FileItem>)> = Vec::new();
    let mut keys = BTreeSet::new();
    let mut size = 0u64;
    for file in files {
        // A key cannot hold `/`: `conf.d/default.conf` is key `conf.d_default.conf`, which
        // another file may have taken (then `-2`, ...).
        let key = free_key(&config_key(&file.path.replace('/', "_")), &mut keys);
        let stored = stored_size(&key, &file.bytes);
        if maps.is_empty() || size + stored > CONFIG_MAP_LIMIT {
            maps.push((BTreeMap::new(), Vec::new()));
            size = 0;
        }
        size += stored;
        let mode = file.executable.then_some(0o755);
        let Some((data, items)) = maps.last_mut() else { continue };
        data.insert(key.clone(), config_data(file.bytes.clone()));
        items.push(FileItem { key, path: file.path.clone(), mode });
    }
    maps
}

/// `key`, or `key-2`, ..., whichever `taken` lacks; recorded as taken.
fn free_key(key: &str, taken: &mut BTreeSet<String>) -> String {
    let key = (1..)
        .map(|i| if i == 1 { key.to_string() } else { format!("{key}-{i}") })
        .find(|k| !taken.contains(k))
        .unwrap_or_default();
    taken.insert(key.clone());
    key
}

/// K208: where the project files went.
fn shipped_as(base: &str, maps: &[ConfigMapFiles], target: &str, span: Span) -> Diagnostic {
    let names: Vec<String> = maps.iter().map(|m| format!("`{}`", m.k8s_name)).collect();
    let message = match names.as_slice() {
        [one] => format!("`{base}` is shipped as ConfigMap {one}, mounted at {target}"),
        _ => format!(
            "`{base}` is shipped as ConfigMaps {} (more than one ConfigMap holds), one projected volume mounted at {target}",
            names.join(", ")
        ),
    };
    Diagnostic::new(Code::ProjectFiles, message)
        .at(span, "copied into a ConfigMap")
        .help("the files are copied at build time and mounted read-only: rebuild and apply after editing them")
}

/// K265: a file no ConfigMap can hold, and the ways out.
fn file_too_large(path: &Path, size: u64, target: &str, span: Span) -> Diagnostic {
    let shown = crate::source::display_path(path);
    // Near the limit a rounded size would read as the limit itself.
    let shown_size = if size < 2 * CONFIG_MAP_LIMIT {
        format!("{size} bytes")
    } else {
        format!("{:.1} MiB", size as f64 / (1024.0 * 1024.0))
    };
    // Smaller than the limit, and still too large: a binary file is written base64.
    let encoded = if size <= CONFIG_MAP_LIMIT { ", base64-encoded as binary files are," } else { "" };
    Diagnostic::new(
        Code::FileTooLarge,
        format!(
            "`{shown}` ({shown_size}) is larger{encoded} than the 1 MiB ({CONFIG_MAP_LIMIT} bytes) a ConfigMap holds: it cannot be mounted at {target}"
        ),
    )
    .at(span, "a file too large to ship")
    .help(format!(
        "bake the file into the image (`COPY`), put it on a named volume, or leave the mount out with `x-kompile: {{skip_mounts: [{target}]}}` on the service"
    ))
}

/// One K015 for a bind mount, naming what was left out (the first ten, then a count).
fn report_left_out(source: &str, left_out: &[LeftOut], span: Span, diags: &mut Diagnostics) {
    if left_out.is_empty() {
        return;
    }
    const SHOWN: usize = 10;
    let mut names: Vec<String> = left_out
        .iter()
        .take(SHOWN)
        .map(|l| format!("{} ({})", crate::source::display_path(&l.path), l.reason))
        .collect();
    if left_out.len() > SHOWN {
        names.push(format!("and {} more", left_out.len() - SHOWN));
    }
    diags.push(
        Diagnostic::new(
            Code::FilesLeftOut,
            format!(
                "`{}` is shipped without {} of its files: {}",
                crate::source::display_path(Path::new(source)),
                left_out.len(),
                names.join(", ")
            ),
        )
        .at(span, "some files left out")
        .help("secrets, env files, version control, symlinks out of the project and .dockerignore'd files never go into a ConfigMap; mount secrets with `secrets:`"),
    );
}

/// `x-kompile.skip_mounts` of a service: the container paths whose mounts are left out.
struct SkipMounts<'s> {
    /// Each path cleaned, with its entry and whether a mount was left out there.
    paths: Vec<(String, &'s compose::Spanned<String>, bool)>,
}

impl<'s> SkipMounts<'s> {
    fn new(service: &'s compose::Service) -> SkipMounts<'s> {
        let clean =
            |s: &'s compose::Spanned<String>| (crate::load::canonical::clean_container_path(&s.value), s, false);
        SkipMounts { paths: service.settings.skip_mounts.iter().map(clean).collect() }
    }

    /// Whether the mount at `target` is left out; K266 when it is.
    fn skips(&mut self, target: &str, diags: &mut Diagnostics) -> bool {
        let target = crate::load::canonical::clean_container_path(target);
        let Some((_, entry, used)) = self.paths.iter_mut().find(|(path, _, _)| *path == target) else { return false };
        *used = true;
        diags.push(
            Diagnostic::new(Code::MountSkipped, format!("the mount at {target} is left out of the pod"))
                .at(entry.span, "`x-kompile.skip_mounts` names it")
                .help("the container sees what its image holds at this path"),
        );
        true
    }

    /// K267 for each path no mount of the service is at.
    fn report_unused(&self, diags: &mut Diagnostics) {
        for (path, entry, _) in self.paths.iter().filter(|(_, _, used)| !used) {
            diags.push(
                Diagnostic::new(Code::SkipMatchesNothing, format!("the service mounts nothing at {path} to leave out"))
                    .at(entry.span, "no mount here")
                    .help("`x-kompile.skip_mounts` takes the container paths of the service's mounts, as written after `:`"),
            );
        }
    }
}

/// Targets cleaned lexically (`/data/../etc` is `/etc`), and one mount per target: Compose
/// keeps the last of several at one path, in the first one's place; Kubernetes refuses a pod
/// that has two.
fn last_per_target(mounts: Vec<Mount>) -> Vec<Mount> {
    let mut out: Vec<Mount> = Vec::with_capacity(mounts.len());
    for mut mount in mounts {
        mount.target = crate::load::canonical::clean_container_path(&mount.target);
        match out.iter_mut().find(|m| m.target == mount.target) {
            Some(earlier) => *earlier = mount,
            None => out.push(mount),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::Storage;
    use crate::compose::{
        self, BindContents, FileObject, FileReference, FileSource, LeftOut, NotShipped, ProjectFile, ProjectFiles,
        ServiceVolume, Spanned, VolumeKind, VolumeSettings,
    };
    use crate::diag::{Code, Diagnostics};
    use crate::model::{
        AccessMode, Config, ConfigData, ConfigMapFiles, FileItem, Mount, MountSource, Propagation, Secret, Volume,
    };
    use crate::source::Span;

    fn name(text: &str) -> compose::Key {
        Spanned::new(text.to_string(), Span::NONE)
    }

    fn service(text: &str) -> compose::Service {
        compose::Service { name: name(text), ..compose::Service::default() }
    }

    fn bind(source: &str, target: &str, contents: BindContents) -> Spanned<ServiceVolume> {
        let volume = ServiceVolume {
            kind: VolumeKind::Bind,
            source: Some(source.to_string()),
            target: target.to_string(),
            read_only: false,
            nocopy: false,
            tmpfs_size: None,
            tmpfs_mode: None,
            subpath: None,
            propagation: None,
            contents: Some(contents),
        };
        Spanned::new(volume, Span::NONE)
    }

    fn named(source: &str, target: &str) -> Spanned<ServiceVolume> {
        let volume = ServiceVolume {
            kind: VolumeKind::Volume,
            source: Some(source.to_string()),
            target: target.to_string(),
            read_only: false,
            nocopy: false,
            tmpfs_size: None,
            tmpfs_mode: None,
            subpath: None,
            propagation: None,
            contents: None,
        };
        Spanned::new(volume, Span::NONE)
    }

    fn files(files: &[(&str, &str)]) -> ProjectFiles {
        let file = |(path, text): &(&str, &str)| ProjectFile {
            path: path.to_string(),
            bytes: text.as_bytes().to_vec(),
            executable: false,
        };
        ProjectFiles { files: files.iter().map(file).collect(), single: false }
    }

    fn reference(source: &str) -> Spanned<FileReference> {
        let reference = FileReference { source: name(source), target: None, mode: None, owner: Vec::new() };
        Spanned::new(reference, Span::NONE)
    }

    type Lowered = (Vec<Mount>, (Vec<Volume>, Vec<Secret>, Vec<Config>), Diagnostics);

    /// The mounts and objects of one service `a` of `project`.
    fn lower(project: &compose::Project, a: &compose::Service) -> Lowered {
        let mut diags = Diagnostics::default();
        let mut store = Storage::new(project, &mut diags);
        let mounts = store.mounts(a, "a", &Default::default(), &mut diags);
        let objects = store.finish(&[], &mut diags);
        (mounts, objects, diags)
    }

    fn messages(diags: &Diagnostics, code: Code) -> Vec<&str> {
        diags.items().iter().filter(|d| d.code == code).map(|d| d.message.as_str()).collect()
    }

    /// A directory of which nothing ships is not mounted: an empty volume would hide what
    /// the image has there (nginx's `default.conf`).
    #[test]
    fn a_directory_of_which_nothing_ships_is_not_mounted() {
        let mut a = service("a");
        let left_out = vec![LeftOut { path: PathBuf::from("/p/certs/tls.key"), reason: "private key" }];
        let shipped = Ok(files(&[]));
        a.volumes.push(bind("/p/certs", "/etc/certs", BindContents::Project { left_out, shipped }));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        assert!(mounts.is_empty() && configs.is_empty(), "{mounts:?}");
        assert_eq!(
            messages(&diags, Code::FilesLeftOut),
            [
                "`/p/certs` is shipped without 1 of its files: /p/certs/tls.key (private key)",
                "nothing of `/p/certs` ships: the mount at /etc/certs is left out"
            ]
        );
    }

    #[test]
    fn project_files_become_a_config_map_without_what_was_left_out() {
        let mut a = service("a");
        let left_out = vec![LeftOut { path: PathBuf::from("/p/conf/leak"), reason: "symlink to outside the project" }];
        let shipped = Ok(files(&[("ok.txt", "fine"), ("a b", "x")]));
        a.volumes.push(bind("/p/conf", "/etc/conf", BindContents::Project { left_out, shipped }));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        assert_eq!(
            messages(&diags, Code::FilesLeftOut),
            ["`/p/conf` is shipped without 1 of its files: /p/conf/leak (symlink to outside the project)"]
        );
        assert_eq!(
            messages(&diags, Code::ProjectFiles),
            ["`conf` is shipped as ConfigMap `a-conf`, mounted at /etc/conf"]
        );
        let item = |key: &str, path: &str| FileItem { key: key.into(), path: path.into(), mode: None };
        let maps = vec![ConfigMapFiles {
            k8s_name: "a-conf".into(),
            items: vec![item("ok.txt", "ok.txt"), item("a_b", "a b")],
        }];
        assert_eq!(mounts, [Mount::new("/etc/conf".into(), false, MountSource::ConfigMap { maps })]);
        assert_eq!(configs.len(), 1);
        let keys: Vec<_> = configs[0].data.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a_b", "ok.txt"], "keys allow only [-._a-zA-Z0-9]; the item keeps the name");
        assert_eq!(configs[0].data["ok.txt"], ConfigData::Text("fine".into()));
    }

    #[test]
    fn a_single_executable_file_is_mounted_by_sub_path_with_its_mode() {
        let mut a = service("a");
        let mut shipped = ProjectFiles { single: true, ..files(&[("run.sh", "#!/bin/sh")]) };
        shipped.files[0].executable = true;
        let shipped = Ok(shipped);
        a.volumes.push(bind("/p/run.sh", "/run.sh", BindContents::Project { left_out: Vec::new(), shipped }));
        let (mounts, _, diags) = lower(&compose::Project::default(), &a);
        assert!(messages(&diags, Code::FilesLeftOut).is_empty());
        let item = FileItem { key: "run.sh".into(), path: "run.sh".into(), mode: Some(0o755) };
        let maps = vec![ConfigMapFiles { k8s_name: "a-run-sh".into(), items: vec![item] }];
        assert_eq!(mounts[0].source, MountSource::ConfigMap { maps });
        assert_eq!(mounts[0].sub_path.as_deref(), Some("run.sh"));
    }

    #[test]
    fn more_than_ten_files_left_out_are_counted() {
        let mut a = service("a");
        let left_out: Vec<_> =
            (0..12).map(|i| LeftOut { path: PathBuf::from(format!("/p/.env.{i:02}")), reason: "env file" }).collect();
        a.volumes.push(bind("/p", "/app", BindContents::Project { left_out, shipped: Ok(files(&[])) }));
        let (_, _, diags) = lower(&compose::Project::default(), &a);
        let message = messages(&diags, Code::FilesLeftOut)[0];
        assert!(message.starts_with("`/p` is shipped without 12 of its files: /p/.env.00 (env file), "), "{message}");
        assert!(message.ends_with("/p/.env.09 (env file), and 2 more"), "{message}");
    }

    /// `./pgdata:/var/lib/postgresql/data` with the directory there but empty: where the
    /// database writes, not files to ship.
    #[test]
    fn an_empty_project_directory_is_a_writable_empty_directory() {
        let mut a = service("a");
        a.volumes.push(bind(
            "/p/pgdata",
            "/var/lib/postgresql/data",
            BindContents::Project { left_out: Vec::new(), shipped: Ok(files(&[])) },
        ));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        assert_eq!(mounts[0].source, MountSource::EmptyDir);
        assert!(!mounts[0].read_only);
        assert!(configs.is_empty(), "no ConfigMap: {configs:?}");
        let found: Vec<_> = diags.items().iter().map(|d| d.code).collect();
        assert_eq!(found, [Code::HostPath]);
    }

    #[test]
    fn what_cannot_be_shipped_is_an_empty_directory_or_a_host_path() {
        let mut a = service("a");
        let reason = NotShipped::Other("it is not a regular file".into());
        let cannot = BindContents::Project { left_out: Vec::new(), shipped: Err(reason) };
        a.volumes.push(bind("/p/conf", "/c", cannot));
        a.volumes.push(bind("/p/link", "/l", BindContents::SymlinkOutside));
        // Compose keeps the source as written; kompile reports the clean path.
        a.volumes.push(bind("/srv/../etc/ssl", "/s", BindContents::Outside));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        let sources: Vec<_> = mounts.iter().map(|m| m.source.clone()).collect();
        assert_eq!(
            sources,
            [
                MountSource::EmptyDir,
                MountSource::HostPath { path: "/p/link".into() },
                MountSource::HostPath { path: "/etc/ssl".into() }
            ]
        );
        assert_eq!(
            messages(&diags, Code::HostPath),
            [
                "bind mount of `/p/conf` cannot be shipped: it is not a regular file",
                "bind mount of `/p/link` becomes a hostPath volume: a symlink takes it outside the project",
                "bind mount of `/etc/ssl` becomes a hostPath volume",
            ]
        );
        assert!(configs.is_empty());
    }

    /// Files in subdirectories keep their paths (keys cannot hold `/`); more than 1 MiB is
    /// split over ConfigMaps `<svc>-<dir>`, `<svc>-<dir>-2`, ... of one mount.
    #[test]
    fn files_over_a_config_map_are_split_and_keep_their_paths() {
        let mut a = service("a");
        let big = "x".repeat(700 << 10);
        let shipped = Ok(files(&[("a/b", "1"), ("a_b", "2"), ("data/one.sql", &big), ("data/two.sql", &big)]));
        a.volumes.push(bind("/p/db", "/init", BindContents::Project { left_out: Vec::new(), shipped }));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        assert_eq!(mounts[0].sub_path, None);
        let MountSource::ConfigMap { maps } = &mounts[0].source else { panic!("{mounts:?}") };
        let placed: Vec<Vec<(&str, &str)>> =
            maps.iter().map(|m| m.items.iter().map(|i| (i.key.as_str(), i.path.as_str())).collect()).collect();
        assert_eq!(
            placed,
            [
                vec![("a_b", "a/b"), ("a_b-2", "a_b"), ("data_one.sql", "data/one.sql")],
                vec![("data_two.sql", "data/two.sql")]
            ]
        );
        let names: Vec<_> = configs.iter().map(|c| c.k8s_name.as_str()).collect();
        assert_eq!(names, ["a-db", "a-db-2"]);
        assert_eq!(
            messages(&diags, Code::ProjectFiles),
            [
                "`db` is shipped as ConfigMaps `a-db`, `a-db-2` (more than one ConfigMap holds), one projected volume mounted at /init"
            ]
        );
    }

    /// A file over 1 MiB is an error, not a directory where a file was; skipped, a note.
    #[test]
    fn a_file_too_large_is_an_error_unless_its_mount_is_skipped() {
        let mut a = service("a");
        let too_large = NotShipped::TooLarge { path: PathBuf::from("/p/model.bin"), size: 3 << 20 };
        let contents = BindContents::Project { left_out: Vec::new(), shipped: Err(too_large) };
        a.volumes.push(bind("/p/model.bin", "/models/model.bin", contents));
        let (mounts, _, diags) = lower(&compose::Project::default(), &a);
        assert!(mounts.is_empty());
        assert_eq!(
            messages(&diags, Code::FileTooLarge),
            [
                "`/p/model.bin` (3.0 MiB) is larger than the 1 MiB (1048576 bytes) a ConfigMap holds: it cannot be mounted at /models/model.bin"
            ]
        );
        a.settings.skip_mounts = vec![name("/models/./model.bin"), name("/nothing")];
        let (mounts, _, diags) = lower(&compose::Project::default(), &a);
        assert!(mounts.is_empty());
        assert!(messages(&diags, Code::FileTooLarge).is_empty());
        assert_eq!(messages(&diags, Code::MountSkipped), ["the mount at /models/model.bin is left out of the pod"]);
        assert_eq!(messages(&diags, Code::SkipMatchesNothing), ["the service mounts nothing at /nothing to leave out"]);
    }

    /// `./.env.local:/app/.env`: never shipped, and never a directory in the file's place.
    #[test]
    fn a_single_file_never_shipped_is_not_mounted() {
        let mut a = service("a");
        let never = BindContents::Project { left_out: Vec::new(), shipped: Err(NotShipped::NeverShipped("env file")) };
        a.volumes.push(bind("/p/.env.local", "/app/.env", never));
        let (mounts, (_, _, configs), diags) = lower(&compose::Project::default(), &a);
        assert!(mounts.is_empty() && configs.is_empty(), "{mounts:?}");
        assert_eq!(
            messages(&diags, Code::FilesLeftOut),
            ["`/p/.env.local` is never shipped (env file): the mount at /app/.env is left out"]
        );
    }

    #[test]
    fn secrets_and_configs_take_what_load_read() {
        let object = |n: &str, source| FileObject { name: name(n), explicit_name: None, source };
        let project = compose::Project {
            secrets: vec![
                object(
                    "file",
                    FileSource::File { path: Spanned::new("/p/f".into(), Span::NONE), bytes: Some(b"pw".to_vec()) },
                ),
                // Not readable: load reported it.
                object("unread", FileSource::File { path: Spanned::new("/p/u".into(), Span::NONE), bytes: None }),
                object("env", FileSource::Environment { variable: name("TOKEN"), value: "t".into() }),
                object("outside", FileSource::External),
            ],
            configs: vec![object("inline", FileSource::Content(name("hello")))],
            ..compose::Project::default()
        };
        let mut a = service("a");
        a.secrets = ["file", "unread", "env", "outside"].into_iter().map(reference).collect();
        a.configs = vec![reference("inline")];
        let (mounts, (_, secrets, configs), diags) = lower(&project, &a);
        assert!(diags.items().is_empty(), "{:?}", diags.items());
        let targets: Vec<_> = mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(
            targets,
            ["/run/secrets/file", "/run/secrets/unread", "/run/secrets/env", "/run/secrets/outside", "/inline"]
        );
        let data: Vec<_> = secrets.iter().map(|s| (s.name.as_str(), s.data.as_slice())).collect();
        assert_eq!(data, [("env", &b"t"[..]), ("file", &b"pw"[..])]);
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].data["inline"], ConfigData::Text("hello".into()));
    }

    #[test]
    fn claims_take_their_settings_from_the_volume() {
        let settings = VolumeSettings {
            size: Some(Spanned::new(5 << 30, Span::NONE)),
            storage_class: Some(name("fast")),
            access_mode: Some(Spanned::new(AccessMode::ReadWriteMany, Span::NONE)),
            seed: None,
        };
        let volume = |n: &str, external, settings| compose::Volume {
            name: name(n),
            external,
            explicit_name: Some(format!("{n}_x")),
            settings,
            driver: None,
            driver_opts: Vec::new(),
        };
        let project = compose::Project {
            volumes: vec![
                volume("data", false, settings),
                volume("logs", false, VolumeSettings::default()),
                volume("shared", true, VolumeSettings::default()),
            ],
            ..compose::Project::default()
        };
        let mut a = service("a");
        a.volumes = vec![named("data", "/d"), named("logs", "/l"), named("shared", "/s")];
        let mut diags = Diagnostics::default();
        let mut store = Storage::new(&project, &mut diags);
        let mounts = store.mounts(&a, "a", &Default::default(), &mut diags);
        let rwo: Vec<String> = store.read_write_once_volumes(&mounts).into_iter().map(|v| v.name).collect();
        assert_eq!(rwo, ["logs", "shared"], "ReadWriteMany `data` is not one");
        let claim = |m: &Mount| match &m.source {
            MountSource::Volume { k8s_name } => k8s_name.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            mounts.iter().map(claim).collect::<Vec<_>>(),
            ["data", "logs", "shared-x"],
            "an external volume keeps its name"
        );
        let b = compose::Service { volumes: vec![named("logs", "/l")], ..service("b") };
        store.mounts(&b, "b", &Default::default(), &mut diags);
        let (claims, _, _) = store.finish(&[], &mut diags);
        let made: Vec<_> =
            claims.iter().map(|c| (c.k8s_name.as_str(), c.access_mode, c.size, c.storage_class.as_deref())).collect();
        assert_eq!(
            made,
            [
                ("data", AccessMode::ReadWriteMany, Some(5 << 30), Some("fast")),
                ("logs", AccessMode::ReadWriteOnce, None, None)
            ]
        );
        // `finish` counts the replicas of the lowered services, and none were given here.
        assert_eq!(messages(&diags, Code::SharedVolume), ["ReadWriteOnce volume `logs` is used by 0 pods (a, b)"]);
    }

    #[test]
    fn a_claim_gets_the_group_of_a_numeric_user_or_the_setting() {
        let claim = [Mount::new("/d".into(), false, MountSource::Volume { k8s_name: "d".into() })];
        let scratch = [Mount::new("/d".into(), false, MountSource::EmptyDir)];
        assert_eq!(super::fs_group(&claim, Some("1000:2000"), None), Some(2000));
        assert_eq!(super::fs_group(&claim, Some("1000"), None), Some(1000), "the uid's group");
        assert_eq!(super::fs_group(&claim, Some("0"), None), None, "root writes anyway");
        assert_eq!(super::fs_group(&claim, Some("app"), None), None, "a name has no known group");
        assert_eq!(super::fs_group(&claim, None, Some(3000)), Some(3000));
        assert_eq!(super::fs_group(&scratch, Some("1000"), Some(3000)), None, "no claim, nothing to own");
    }

    #[test]
    fn images_known_to_run_as_a_user_are_found_by_repository() {
        let user = super::image_user;
        assert_eq!(user("bitnami/postgresql:16"), Some("1001"));
        assert_eq!(user("docker.io/bitnami/redis@sha256:ab"), Some("1001"));
        assert_eq!(user("grafana/grafana:11.2.0"), Some("472"));
        assert_eq!(user("docker.io/library/elasticsearch:8.15.0"), Some("1000"));
        assert_eq!(user("registry.local:5000/grafana/grafana:11"), Some("472"), "a mirror");
        assert_eq!(user("registry.example.com/mirror/bitnami/redis:7"), Some("1001"));
        assert_eq!(user("public.ecr.aws/bitnami/postgresql"), Some("1001"));
        assert_eq!(user("bitnamilegacy/postgresql:16"), Some("1001"));
        assert_eq!(user("quay.io/prometheus/prometheus:v2.53.0"), Some("65534"));
        assert_eq!(user("docker.elastic.co/elasticsearch/elasticsearch:8.15.0"), Some("1000"));
        assert_eq!(user("grafana/loki:3"), None);
        assert_eq!(user("postgres:16"), None, "starts as root");
    }

    #[test]
    fn subpath_and_propagation_are_kept_where_kubernetes_has_them() {
        let mut a = service("a");
        let mut site = named("site", "/html");
        site.value.subpath = Some(Spanned::new("html/".into(), Span::NONE));
        let mut climb = named("site", "/up");
        climb.value.subpath = Some(Spanned::new("../etc".into(), Span::NONE));
        let mut host = bind("/srv", "/srv", BindContents::Outside);
        host.value.propagation = Some(Spanned::new("rshared".into(), Span::NONE));
        let mut files =
            bind("/p/conf", "/conf", BindContents::Project { left_out: Vec::new(), shipped: Ok(files(&[("a", "b")])) });
        files.value.propagation = Some(Spanned::new("rslave".into(), Span::NONE));
        a.volumes = vec![site, climb, host, files];
        let (mounts, _, diags) = lower(&compose::Project::default(), &a);
        assert_eq!(mounts[0].sub_path.as_deref(), Some("html"));
        assert_eq!(mounts[1].sub_path, None);
        assert_eq!(messages(&diags, Code::InvalidValue), ["`volume.subpath` cannot be `../etc`"]);
        assert_eq!(mounts[2].propagation, Some(Propagation::HostToContainer), "not privileged");
        assert_eq!(mounts[3].propagation, None);
        assert_eq!(messages(&diags, Code::MountPropagation).len(), 2);
    }

    #[test]
    fn a_database_starts_in_a_directory_of_its_claim() {
        let var = |name: &str, value: &str| compose::EnvVar {
            name: Spanned::new(name.to_string(), Span::NONE),
            value: Some(Spanned::new(value.into(), Span::NONE)),
            interpolated: false,
        };
        let project = compose::Project::default();
        // The mount's subPath and the variables added, for `image` (whose ENV is `image_env`)
        // at `target`.
        type ImageEnv = std::collections::BTreeMap<String, Option<String>>;
        let run_with = |image: &str, target: &str, image_env: &ImageEnv, environment: &[compose::EnvVar]| {
            let mut db = service("db");
            db.volumes = vec![named("data", target)];
            let mut diags = Diagnostics::default();
            let mut store = Storage::new(&project, &mut diags);
            let mut mounts = store.mounts(&db, "db", &Default::default(), &mut diags);
            let added: Vec<String> = store
                .data_directories(&db, Some(image), image_env, environment, &mut mounts, &mut diags)
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            let changed = !added.is_empty() || mounts[0].sub_path.is_some();
            assert_eq!(messages(&diags, Code::DataSubdirectory).len(), usize::from(changed), "one note per change");
            (mounts[0].sub_path.clone(), added)
        };
        let run = |image: &str, target: &str, environment: &[compose::EnvVar]| {
            run_with(image, target, &ImageEnv::new(), environment)
        };
        let postgres = "docker.io/library/postgres:16@sha256:ab";
        let pgdata = vec!["PGDATA=/var/lib/postgresql/data/pgdata".to_string()];
        // PGDATA, not a subPath: the kubelet makes a subPath directory as root, and a
        // postgres that runs as its own user could not write to it.
        assert_eq!(run(postgres, "/var/lib/postgresql/data/", &[]), (None, pgdata.clone()));
        assert_eq!(
            run(postgres, "/var/lib/postgresql/data", &[var("PGDATA", "/var/lib/postgresql/data/")]),
            (None, pgdata)
        );
        let moved = [var("PGDATA", "/var/lib/postgresql/data/pg")];
        assert_eq!(run(postgres, "/var/lib/postgresql/data", &moved), (None, vec![]), "moved by the user");
        assert_eq!(run("mysql:8.4", "/var/lib/mysql", &[]), (Some("mysql-data".into()), vec![]), "no variable");
        assert_eq!(run("mariadb:11", "/var/lib/mysql", &[]), (None, vec![]), "not in the table");
        // A built image's `ENV PGDATA=...` moved it too.
        let built = ImageEnv::from([("PGDATA".to_string(), Some("/var/lib/postgresql/data/custom".to_string()))]);
        assert_eq!(run_with("postgres:16", "/var/lib/postgresql/data", &built, &[]), (None, vec![]), "the image's ENV");
    }
}
