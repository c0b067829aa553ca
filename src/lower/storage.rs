//! Volumes, secrets, configs and project files: what each service mounts, and the
//! claims, Secrets and ConfigMaps those mounts need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::names::{Namer, dns_label};
use crate::compose::{
    self, BindContents, FileObject, FileReference, FileSource, Key, LeftOut, ServiceVolume, VolumeKind,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{AccessMode, Config, ConfigData, Mount, MountSource, Secret, Service, Volume, Workload};
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

    /// The service's mounts; the entries of `volumes` at the indices in `dropped` are left
    /// out (the image already holds what they mount: `copy_up`).
    pub fn mounts(
        &mut self,
        service: &compose::Service,
        k8s_name: &str,
        dropped: &[usize],
        diags: &mut Diagnostics,
    ) -> Vec<Mount> {
        let mut mounts = Vec::new();
        for (index, volume) in service.volumes.iter().enumerate() {
            if dropped.contains(&index) {
                continue;
            }
            if let Some(mount) = self.volume_mount(k8s_name, volume, volume.span, diags) {
                mounts.push(mount);
            }
        }
        for tmpfs in &service.tmpfs {
            let source = MountSource::Tmpfs { size: tmpfs.size };
            mounts.push(Mount { target: tmpfs.target.clone(), read_only: false, source });
        }
        for reference in &service.secrets {
            mounts.push(self.file_mount(reference, true, diags));
        }
        for reference in &service.configs {
            mounts.push(self.file_mount(reference, false, diags));
        }
        let mounts = last_per_target(mounts);
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
        volume: &ServiceVolume,
        span: Span,
        diags: &mut Diagnostics,
    ) -> Option<Mount> {
        let target = volume.target.clone();
        let source = match &volume.kind {
            VolumeKind::Volume => match &volume.source {
                Some(name) => {
                    let k8s_name = self.claim_name(name);
                    self.claims.insert(k8s_name.clone(), name.clone());
                    MountSource::Volume { k8s_name }
                }
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
                self.bind_source(k8s_name, &source, &target, volume.contents.as_ref()?, span, diags)
            }
            VolumeKind::Tmpfs => MountSource::Tmpfs { size: volume.tmpfs_size },
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
        Some(Mount { target, read_only: volume.read_only, source })
    }

    /// The claim for a named volume: its external name, or the DNS label of its key.
    fn claim_name(&self, volume: &str) -> String {
        let declared = self.project.volume(volume);
        match declared.and_then(|d| d.explicit_name.as_ref().filter(|_| d.external)) {
            Some(name) => dns_label(name),
            None => self.claim_names.get(volume).cloned().unwrap_or_else(|| dns_label(volume)),
        }
    }

    /// A bind mount: project files become a ConfigMap, anything else a host path. What it
    /// ships `load` decided and read (`contents`).
    fn bind_source(
        &mut self,
        k8s_name: &str,
        source: &str,
        target: &str,
        contents: &BindContents,
        span: Span,
        diags: &mut Diagnostics,
    ) -> MountSource {
        let (left_out, shipped) = match contents {
            BindContents::Outside => {
                diags.push(
                    Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` becomes a hostPath volume"))
                        .at(span, "outside the project")
                        .help("a hostPath reads whatever is on the node the pod lands on; prefer a named volume or a ConfigMap"),
                );
                return MountSource::HostPath { path: source.to_string() };
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
                return MountSource::HostPath { path: source.to_string() };
            }
            BindContents::Project { left_out, shipped } => (left_out, shipped),
        };
        report_left_out(source, left_out, span, diags);
        let shipped = match shipped {
            Ok(shipped) => shipped,
            Err(reason) => {
                diags.push(
                    Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` cannot be shipped: {reason}"))
                        .at(span, "mounted as an empty directory instead")
                        .help("bake these files into the image, or use a named volume"),
                );
                return MountSource::EmptyDir;
            }
        };
        // An empty directory is where the service writes (`./pgdata:/var/lib/postgresql/data`):
        // an empty ConfigMap would be read-only, and the database could not start.
        if shipped.files.is_empty() && !shipped.single && left_out.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::HostPath,
                    format!("bind mount of `{source}` is an empty directory: it becomes a writable empty directory"),
                )
                .at(span, "mounted as an empty directory; its data lasts as long as the pod")
                .help("the service writes here: use a named volume to keep the data across restarts"),
            );
            return MountSource::EmptyDir;
        }
        let data: BTreeMap<String, ConfigData> =
            shipped.files.iter().map(|(name, bytes)| (config_key(name), config_data(bytes.clone()))).collect();
        let base = Path::new(source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = self.config_map_name(&format!("{k8s_name}-{}", dns_label(&base)));
        diags.push(
            Diagnostic::new(
                Code::ProjectFiles,
                format!("`{base}` is shipped as ConfigMap `{name}`, mounted at {target}"),
            )
            .at(span, "copied into a ConfigMap")
            .help("the files are copied at build time and mounted read-only: rebuild and apply after editing them"),
        );
        let sub_path = shipped.single.then(|| data.keys().next().cloned()).flatten();
        self.project_files.push(Config { name: source.to_string(), k8s_name: name.clone(), data });
        let default_mode = shipped.executable.then_some(0o755);
        MountSource::ConfigMap { k8s_name: name, sub_path, default_mode }
    }

    /// A service's secret or config reference → a one-file mount.
    fn file_mount(&mut self, reference: &FileReference, secret: bool, diags: &mut Diagnostics) -> Mount {
        let source = reference.source.value.clone();
        let target = reference.target.clone();
        let mode = reference.mode.as_ref().and_then(|mode| file_mode(mode, diags));
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
        Mount { target, read_only: true, source }
    }

    /// Counts `service` as a user of the claim `k8s_name`: `volumes_from` copied the mount.
    pub fn add_user(&mut self, k8s_name: &str, service: &str) {
        if let Some(volume) = self.claims.get(k8s_name) {
            self.volume_users.entry(volume.clone()).or_default().insert(service.to_string());
        }
    }

    /// The first named volume among `mounts` whose claim is ReadWriteOnce.
    pub fn read_write_once_volume(&self, mounts: &[Mount]) -> Option<String> {
        self.read_write_once_volumes(mounts).into_iter().next().map(|v| v.name)
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
            size: settings.size.as_ref().map(|s| s.value),
            storage_class: settings.storage_class.as_ref().map(|s| s.value.clone()),
        }
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
        self, BindContents, FileObject, FileReference, FileSource, LeftOut, ProjectFiles, ServiceVolume, Spanned,
        VolumeKind, VolumeSettings,
    };
    use crate::diag::{Code, Diagnostics};
    use crate::model::{AccessMode, Config, ConfigData, Mount, MountSource, Secret, Volume};
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
            contents: None,
        };
        Spanned::new(volume, Span::NONE)
    }

    fn files(files: &[(&str, &str)]) -> ProjectFiles {
        let files = files.iter().map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())).collect();
        ProjectFiles { files, single: false, executable: false }
    }

    fn reference(source: &str) -> Spanned<FileReference> {
        let reference = FileReference { source: name(source), target: None, mode: None };
        Spanned::new(reference, Span::NONE)
    }

    type Lowered = (Vec<Mount>, (Vec<Volume>, Vec<Secret>, Vec<Config>), Diagnostics);

    /// The mounts and objects of one service `a` of `project`.
    fn lower(project: &compose::Project, a: &compose::Service) -> Lowered {
        let mut diags = Diagnostics::default();
        let mut store = Storage::new(project, &mut diags);
        let mounts = store.mounts(a, "a", &[], &mut diags);
        let objects = store.finish(&[], &mut diags);
        (mounts, objects, diags)
    }

    fn messages(diags: &Diagnostics, code: Code) -> Vec<&str> {
        diags.items().iter().filter(|d| d.code == code).map(|d| d.message.as_str()).collect()
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
        let source = MountSource::ConfigMap { k8s_name: "a-conf".into(), sub_path: None, default_mode: None };
        assert_eq!(mounts, [Mount { target: "/etc/conf".into(), read_only: false, source }]);
        assert_eq!(configs.len(), 1);
        let keys: Vec<_> = configs[0].data.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a_b", "ok.txt"], "keys allow only [-._a-zA-Z0-9]");
        assert_eq!(configs[0].data["ok.txt"], ConfigData::Text("fine".into()));
    }

    #[test]
    fn a_single_executable_file_is_mounted_by_sub_path_with_its_mode() {
        let mut a = service("a");
        let shipped = Ok(ProjectFiles { single: true, executable: true, ..files(&[("run.sh", "#!/bin/sh")]) });
        a.volumes.push(bind("/p/run.sh", "/run.sh", BindContents::Project { left_out: Vec::new(), shipped }));
        let (mounts, _, diags) = lower(&compose::Project::default(), &a);
        assert!(messages(&diags, Code::FilesLeftOut).is_empty());
        let source = MountSource::ConfigMap {
            k8s_name: "a-run-sh".into(),
            sub_path: Some("run.sh".into()),
            default_mode: Some(0o755),
        };
        assert_eq!(mounts[0].source, source);
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
        let cannot = BindContents::Project { left_out: Vec::new(), shipped: Err("it is not a regular file".into()) };
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
        let mounts = store.mounts(&a, "a", &[], &mut diags);
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
        store.mounts(&b, "b", &[], &mut diags);
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
}
