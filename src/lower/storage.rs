//! Volumes, secrets, configs and project files: what each service mounts, and the
//! claims, Secrets and ConfigMaps those mounts need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::names::{Namer, dns_label};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::images::ignore::Ignore;
use crate::load::node::{Map, Node, Value};
use crate::load::{Environment, Project, read_regular, units};
use crate::model::{AccessMode, Config, ConfigData, Mount, MountSource, Secret, Service, Volume};
use crate::source::Span;

/// The most a ConfigMap can hold; larger project files cannot be shipped this way.
const CONFIG_MAP_LIMIT: u64 = 1024 * 1024;

pub struct Storage<'a> {
    project_dir: PathBuf,
    environment: &'a Environment,
    volumes: &'a Map,
    secrets: &'a Map,
    configs: &'a Map,
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
    /// What may be shipped from the project, worked out at the first bind mount that needs
    /// it (it reads `.dockerignore` and resolves every secret's file) and kept for the rest.
    shipping: std::cell::OnceCell<ShippingRules>,
}

impl<'a> Storage<'a> {
    pub fn new(
        project: &'a Project,
        volumes: &'a Map,
        secrets: &'a Map,
        configs: &'a Map,
        diags: &mut Diagnostics,
    ) -> Storage<'a> {
        let config_names = k8s_names("config", configs, diags);
        Storage {
            project_dir: project.directory.clone(),
            environment: &project.environment,
            volumes,
            secrets,
            configs,
            volume_users: BTreeMap::new(),
            claims: BTreeMap::new(),
            used_secrets: BTreeSet::new(),
            used_configs: BTreeSet::new(),
            project_files: Vec::new(),
            claim_names: k8s_names("volume", volumes, diags),
            secret_names: k8s_names("secret", secrets, diags),
            config_maps: config_names.values().cloned().collect(),
            config_names,
            shipping: std::cell::OnceCell::new(),
        }
    }

    /// A ConfigMap name no other ConfigMap of the project has: `wanted`, or `wanted-2`, ...
    pub fn config_map_name(&mut self, wanted: &str) -> String {
        let wanted: String = wanted.chars().take(58).collect();
        let wanted = wanted.trim_end_matches('-').to_string();
        let name = (1..)
            .map(|i| if i == 1 { wanted.clone() } else { format!("{wanted}-{i}") })
            .find(|n| !self.config_maps.contains(n))
            .unwrap_or(wanted);
        self.config_maps.insert(name.clone());
        name
    }

    pub fn mounts(&mut self, service: &str, k8s_name: &str, node: &Node, diags: &mut Diagnostics) -> Vec<Mount> {
        let Some(map) = node.as_map() else { return Vec::new() };
        let mut mounts = Vec::new();
        for item in map.get("volumes").and_then(Node::as_seq).unwrap_or_default() {
            if let Some(mount) = self.volume_mount(k8s_name, item, diags) {
                mounts.push(mount);
            }
        }
        for item in map.get("tmpfs").and_then(Node::as_seq).unwrap_or_default() {
            mounts.extend(tmpfs_mount(item));
        }
        for item in map.get("secrets").and_then(Node::as_seq).unwrap_or_default() {
            mounts.extend(self.file_mount(item, true, diags));
        }
        for item in map.get("configs").and_then(Node::as_seq).unwrap_or_default() {
            mounts.extend(self.file_mount(item, false, diags));
        }
        let mounts = last_per_target(mounts);
        // Counted after the last-wins rule: a volume whose mount was replaced is not used.
        for mount in &mounts {
            if let MountSource::Volume { k8s_name } = &mount.source
                && let Some(volume) = self.claims.get(k8s_name)
            {
                self.volume_users.entry(volume.clone()).or_default().insert(service.to_string());
            }
        }
        mounts
    }

    fn volume_mount(&mut self, k8s_name: &str, item: &Node, diags: &mut Diagnostics) -> Option<Mount> {
        let map = item.as_map()?;
        let text = |key: &str| map.get(key).and_then(Node::scalar_text);
        let target = text("target")?;
        let read_only = map.get("read_only").is_some_and(|r| r.value == Value::Bool(true));
        let source = match text("type").as_deref() {
            Some("volume") => match text("source") {
                Some(name) => {
                    let k8s_name = self.claim_name(&name);
                    self.claims.insert(k8s_name.clone(), name);
                    MountSource::Volume { k8s_name }
                }
                None => MountSource::EmptyDir,
            },
            // Compose keeps an absolute source as written (`/a/../b`); decide on the clean path.
            Some("bind") => {
                let written = text("source")?;
                // Loading made every other source absolute: this is a Windows path
                // (`C:\data`, `\\server\share`), which Compose takes but a hostPath cannot be.
                if !written.starts_with('/') {
                    diags.push(windows_bind(&written, item.span));
                    return None;
                }
                let source = crate::load::canonical::clean(Path::new(&written));
                let source = source.to_string_lossy();
                self.bind_source(k8s_name, &source, &target, item.span, diags)?
            }
            Some("tmpfs") => {
                let size = map.get("tmpfs").and_then(Node::as_map).and_then(|t| t.get("size"));
                MountSource::Tmpfs { size: size.and_then(Node::scalar_text).and_then(|s| s.parse().ok()) }
            }
            other => {
                diags.push(
                    Diagnostic::new(
                        Code::UnsupportedKey,
                        format!("volumes of type `{}` have no Kubernetes translation", other.unwrap_or("?")),
                    )
                    .at(item.span, "skipped")
                    .help("use a named volume, a bind mount of project files, or tmpfs"),
                );
                return None;
            }
        };
        Some(Mount { target, read_only, source })
    }

    /// The claim for a named volume: its external name, or the DNS label of its key.
    fn claim_name(&self, volume: &str) -> String {
        let declared = self.volumes.get(volume).and_then(Node::as_map);
        let external = declared.and_then(|d| d.get("external")).is_some_and(|e| e.value == Value::Bool(true));
        let explicit = declared.and_then(|d| d.get("name")).and_then(Node::scalar_text);
        match (external, explicit) {
            (true, Some(name)) => dns_label(&name),
            _ => self.claim_names.get(volume).cloned().unwrap_or_else(|| dns_label(volume)),
        }
    }

    /// A bind mount: project files become a ConfigMap, anything else a host path.
    fn bind_source(
        &mut self,
        k8s_name: &str,
        source: &str,
        target: &str,
        span: Span,
        diags: &mut Diagnostics,
    ) -> Option<MountSource> {
        let path = Path::new(source);
        if !path.starts_with(&self.project_dir) {
            diags.push(
                Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` becomes a hostPath volume"))
                    .at(span, "outside the project")
                    .help("a hostPath reads whatever is on the node the pod lands on; prefer a named volume or a ConfigMap"),
            );
            return Some(MountSource::HostPath { path: source.to_string() });
        }
        let rules = self.shipping_rules();
        if rules.leads_outside(path) {
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
        let mut left_out = Vec::new();
        let read = read_project_files(path, rules, &mut left_out);
        report_left_out(source, &left_out, span, diags);
        let (data, single, executable) = match read {
            Ok(read) => read,
            Err(reason) => {
                diags.push(
                    Diagnostic::new(Code::HostPath, format!("bind mount of `{source}` cannot be shipped: {reason}"))
                        .at(span, "mounted as an empty directory instead")
                        .help("bake these files into the image, or use a named volume"),
                );
                return Some(MountSource::EmptyDir);
            }
        };
        let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = self.config_map_name(&format!("{k8s_name}-{}", dns_label(&base)));
        diags.push(
            Diagnostic::new(
                Code::ProjectFiles,
                format!("`{base}` is shipped as ConfigMap `{name}`, mounted at {target}"),
            )
            .at(span, "copied into a ConfigMap")
            .help("the files are copied at build time and mounted read-only: rebuild and apply after editing them"),
        );
        let sub_path = single.then(|| data.keys().next().cloned()).flatten();
        self.project_files.push(Config { name: source.to_string(), k8s_name: name.clone(), data });
        let default_mode = executable.then_some(0o755);
        Some(MountSource::ConfigMap { k8s_name: name, sub_path, default_mode })
    }

    /// What may be shipped from the project: see [`ShippingRules`].
    fn shipping_rules(&self) -> &ShippingRules {
        self.shipping.get_or_init(|| self.new_shipping_rules())
    }

    fn new_shipping_rules(&self) -> ShippingRules {
        let root = std::fs::canonicalize(&self.project_dir).unwrap_or_else(|_| self.project_dir.clone());
        let secret_files = self
            .secrets
            .iter()
            .filter_map(|(_, s)| s.as_map()?.get("file")?.as_str().map(PathBuf::from))
            .map(|f| std::fs::canonicalize(&f).unwrap_or(f))
            .collect();
        let ignore = read_regular(&root.join(".dockerignore"), CONFIG_MAP_LIMIT)
            .map(|bytes| Ignore::parse(&String::from_utf8_lossy(&bytes)))
            .unwrap_or_default();
        ShippingRules { root, secret_files, ignore }
    }

    /// A service's secret or config reference → a one-file mount.
    fn file_mount(&mut self, item: &Node, secret: bool, diags: &mut Diagnostics) -> Option<Mount> {
        let map = item.as_map()?;
        let source = map.get("source").and_then(Node::scalar_text)?;
        let target = map.get("target").and_then(Node::scalar_text);
        let mode = map.get("mode").and_then(|m| file_mode(m, diags));
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
        Some(Mount { target, read_only: true, source })
    }

    /// Named volumes whose claims are ReadWriteOnce, among `mounts`.
    pub fn read_write_once_volume(&self, mounts: &[Mount]) -> Option<String> {
        mounts.iter().find_map(|m| match &m.source {
            MountSource::Volume { k8s_name } => {
                let name = self.claims.get(k8s_name)?;
                (self.access_mode(name) == AccessMode::ReadWriteOnce).then(|| name.clone())
            }
            _ => None,
        })
    }

    fn access_mode(&self, volume: &str) -> AccessMode {
        match self.volume_setting(volume, "access_mode").as_deref() {
            Some("ReadWriteMany") => AccessMode::ReadWriteMany,
            _ => AccessMode::ReadWriteOnce,
        }
    }

    /// `x-kompile.size` in bytes; a size that cannot be read is an error rather than a
    /// silently different claim.
    fn volume_size(&self, volume: &str, diags: &mut Diagnostics) -> Option<u64> {
        let text = self.volume_setting(volume, "size")?;
        let size = units::parse_bytes(&text).filter(|b| *b > 0);
        if size.is_none() {
            let node = self.volumes.get(volume).and_then(Node::as_map).and_then(|d| d.get("x-kompile"));
            diags.push(
                Diagnostic::new(Code::InvalidSize, format!("`{text}` is not a size for volume `{volume}`"))
                    .at(node.map_or(Span::NONE, |n| n.span), "invalid size")
                    .help("write a number with a binary unit: `10Gi`, `512Mi`, `10g`"),
            );
        }
        size
    }

    /// `x-kompile: {size, storage_class, access_mode}` on a top-level volume.
    fn volume_setting(&self, volume: &str, key: &str) -> Option<String> {
        let declared = self.volumes.get(volume)?.as_map()?;
        declared.get("x-kompile")?.as_map()?.get(key)?.scalar_text()
    }

    /// The claims, Secrets and ConfigMaps the mounted things need.
    pub fn finish(mut self, services: &[Service], diags: &mut Diagnostics) -> (Vec<Volume>, Vec<Secret>, Vec<Config>) {
        let volumes = self.claims(services, diags);
        let secrets = self.secret_objects(diags);
        let mut configs = self.config_objects(diags);
        configs.append(&mut self.project_files);
        configs.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        (volumes, secrets, configs)
    }

    fn claims(&self, services: &[Service], diags: &mut Diagnostics) -> Vec<Volume> {
        let mut out = Vec::new();
        let replicas_of: BTreeMap<&str, u32> = services.iter().map(|s| (s.name.as_str(), s.replicas)).collect();
        for (name, users) in &self.volume_users {
            let Some(entry) = self.volumes.entry(name) else { continue };
            let external =
                entry.value.as_map().and_then(|d| d.get("external")).is_some_and(|e| e.value == Value::Bool(true));
            let access_mode = self.access_mode(name);
            let replicas: u32 = users.iter().filter_map(|u| replicas_of.get(u.as_str())).sum();
            if access_mode == AccessMode::ReadWriteOnce && (users.len() > 1 || replicas > 1) {
                let who: Vec<&str> = users.iter().map(String::as_str).collect();
                diags.push(
                    Diagnostic::new(Code::SharedVolume, format!("ReadWriteOnce volume `{name}` is used by {replicas} pods ({})", who.join(", ")))
                        .at(entry.key_span, "attaches to one node at a time")
                        .help("pods on other nodes will not start; set `x-kompile: {access_mode: ReadWriteMany}` if your storage supports it, or give each service its own volume"),
                );
            }
            if external {
                continue;
            }
            out.push(Volume {
                name: name.clone(),
                k8s_name: self.claim_name(name),
                access_mode,
                size: self.volume_size(name, diags),
                storage_class: self.volume_setting(name, "storage_class"),
            });
        }
        out.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        out
    }

    fn secret_objects(&self, diags: &mut Diagnostics) -> Vec<Secret> {
        let mut out = Vec::new();
        for name in &self.used_secrets {
            let Some(entry) = self.secrets.entry(name) else { continue };
            let Some(data) = self.resource_bytes(name, &entry.value, diags) else { continue };
            let Some(k8s_name) = self.secret_names.get(name).cloned() else { continue };
            out.push(Secret { name: name.clone(), k8s_name, key: config_key(name), data });
        }
        out.sort_by(|a, b| a.k8s_name.cmp(&b.k8s_name));
        out
    }

    fn config_objects(&self, diags: &mut Diagnostics) -> Vec<Config> {
        let mut out = Vec::new();
        for name in &self.used_configs {
            let Some(entry) = self.configs.entry(name) else { continue };
            let Some(bytes) = self.resource_bytes(name, &entry.value, diags) else { continue };
            let data = BTreeMap::from([(config_key(name), config_data(bytes))]);
            let Some(k8s_name) = self.config_names.get(name).cloned() else { continue };
            out.push(Config { name: name.clone(), k8s_name, data });
        }
        out
    }

    /// A secret's or config's content from `file`, `environment` or `content`; `None` for
    /// external ones, which already exist in the cluster.
    fn resource_bytes(&self, name: &str, node: &Node, diags: &mut Diagnostics) -> Option<Vec<u8>> {
        let map = node.as_map()?;
        if let Some(file) = map.get("file") {
            let path = file.as_str()?;
            return match read_regular(Path::new(path), CONFIG_MAP_LIMIT) {
                Ok(bytes) if bytes.len() as u64 > CONFIG_MAP_LIMIT => {
                    diags.push(
                        Diagnostic::new(
                            Code::ReadFailed,
                            format!(
                                "`{name}` reads {}, which is larger than the 1 MiB a Secret or ConfigMap can hold",
                                crate::source::display_path(Path::new(path))
                            ),
                        )
                        .at(file.span, "too large")
                        .help("mount large files from a volume instead"),
                    );
                    None
                }
                Ok(bytes) => Some(bytes),
                Err(error) => {
                    diags.push(
                        Diagnostic::new(
                            Code::MissingFile,
                            format!(
                                "`{name}` reads {}, which cannot be read: {}",
                                crate::source::display_path(Path::new(path)),
                                crate::load::io_reason(&error)
                            ),
                        )
                        .at(file.span, "cannot be read")
                        .help("create the file or fix the path; it is relative to the compose file"),
                    );
                    None
                }
            };
        }
        if let Some(variable) = map.get("environment").and_then(Node::as_str) {
            return Some(self.environment.get(variable).unwrap_or_default().into_bytes());
        }
        map.get("content").and_then(Node::scalar_text).map(String::into_bytes)
    }
}

/// Kubernetes names for every entry of a top-level section, reported when changed and
/// refused when two collide.
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
fn file_mode(node: &Node, diags: &mut Diagnostics) -> Option<u32> {
    let mode = u32::from_str_radix(node.as_str()?, 8).ok()?;
    if mode <= 0o777 {
        return Some(mode);
    }
    diags.push(mode_too_large(mode, node.span));
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

fn k8s_names(what: &'static str, section: &Map, diags: &mut Diagnostics) -> BTreeMap<String, String> {
    let mut namer = Namer::new(what, diags);
    let mut names = BTreeMap::new();
    for entry in &section.entries {
        if let Some(name) = namer.name(&entry.key, entry.key_span) {
            names.insert(entry.key.clone(), name);
        }
    }
    names
}

/// ConfigMap and Secret keys allow `[-._a-zA-Z0-9]`; other characters become `_`.
fn config_key(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

fn config_data(bytes: Vec<u8>) -> ConfigData {
    match String::from_utf8(bytes) {
        Ok(text) => ConfigData::Text(text),
        Err(error) => ConfigData::Binary(error.into_bytes()),
    }
}

/// Which project files never go into a ConfigMap, where anyone who can read the
/// namespace reads them in clear text.
struct ShippingRules {
    /// The project directory, symlinks resolved.
    root: PathBuf,
    /// The files of the project's compose secrets, symlinks resolved.
    secret_files: BTreeSet<PathBuf>,
    /// The project's `.dockerignore`, if it has one.
    ignore: Ignore,
}

impl ShippingRules {
    /// Whether `path` exists and, symlinks resolved, lies outside the project.
    fn leads_outside(&self, path: &Path) -> bool {
        std::fs::canonicalize(path).is_ok_and(|real| !real.starts_with(&self.root))
    }

    /// Why the project file at `path` is not shipped, if it is not.
    fn excluded(&self, path: &Path) -> Option<&'static str> {
        let name = path.file_name()?.to_string_lossy();
        if name.starts_with(".env") {
            return Some("env file");
        }
        if name == ".git" {
            return Some("git repository");
        }
        let real = std::fs::canonicalize(path).ok()?;
        if !real.starts_with(&self.root) {
            return Some("symlink to outside the project");
        }
        if self.secret_files.contains(&real) {
            return Some("compose secret");
        }
        let relative = real.strip_prefix(&self.root).ok()?.to_string_lossy().into_owned();
        self.ignore.excludes(&relative).then_some(".dockerignore")
    }
}

/// One K015 for a bind mount, naming what was left out (the first ten, then a count).
fn report_left_out(source: &str, left_out: &[(PathBuf, &str)], span: Span, diags: &mut Diagnostics) {
    if left_out.is_empty() {
        return;
    }
    const SHOWN: usize = 10;
    let mut names: Vec<String> = left_out
        .iter()
        .take(SHOWN)
        .map(|(path, why)| format!("{} ({why})", crate::source::display_path(path)))
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

/// A file (one key) or the files directly in a directory (one key each); also whether it
/// was a single file, and whether any file is executable. Files `rules` exclude are left
/// out and listed in `left_out`.
fn read_project_files(
    path: &Path,
    rules: &ShippingRules,
    left_out: &mut Vec<(PathBuf, &'static str)>,
) -> Result<(BTreeMap<String, ConfigData>, bool, bool), String> {
    let meta = std::fs::metadata(path).map_err(|_| "it does not exist".to_string())?;
    let candidates: Vec<PathBuf> = if meta.is_file() {
        vec![path.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(path).map_err(|e| e.to_string())?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        paths
    };
    let mut files = Vec::new();
    if meta.is_file() && rules.excluded(path).is_some() {
        return Err("it is a file that is never shipped".into());
    }
    for candidate in candidates {
        if let Some(why) = rules.excluded(&candidate) {
            left_out.push((candidate, why));
        } else if candidate.is_dir() {
            return Err("it contains directories, which a ConfigMap cannot hold".into());
        } else {
            files.push(candidate);
        }
    }
    let mut total = 0u64;
    let mut data = BTreeMap::new();
    let executable = files.iter().any(|f| is_executable(f));
    for file in &files {
        let bytes = read_regular(file, CONFIG_MAP_LIMIT - total).map_err(|e| e.to_string())?;
        total += bytes.len() as u64;
        if total > CONFIG_MAP_LIMIT {
            return Err("it is larger than the 1 MiB a ConfigMap can hold".into());
        }
        let key = config_key(&file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        data.insert(key, config_data(bytes));
    }
    Ok((data, meta.is_file(), executable))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// Service-level `tmpfs: /run` or `/run:size=64m`.
fn tmpfs_mount(item: &Node) -> Option<Mount> {
    let text = item.as_str()?;
    let (target, options) = text.split_once(':').unwrap_or((text, ""));
    let size = options.split(',').find_map(|o| o.strip_prefix("size=")).and_then(units::parse_bytes);
    Some(Mount { target: target.to_string(), read_only: false, source: MountSource::Tmpfs { size } })
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
    use std::collections::BTreeMap;

    use crate::diag::{Code, Diagnostics};
    use crate::load::{self, Options};
    use crate::lower::testing::codes;
    use crate::lower::{Settings, lower};
    use crate::source::Sources;

    /// Lowers `compose` in a fresh directory after `prepare` has put files next to it.
    fn lower_in_dir(compose: &str, prepare: impl FnOnce(&std::path::Path)) -> Diagnostics {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        prepare(dir.path());
        let options = Options {
            files: vec![dir.path().join("compose.yaml")],
            shell: BTreeMap::new(),
            working_dir: dir.path().to_path_buf(),
            ..Options::default()
        };
        let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
        let project = load::load(&options, &mut sources, &mut diags).unwrap();
        lower(&project, &Settings::default(), &mut diags);
        diags
    }

    /// `lower_in_dir`, and the manifests rendered as YAML when there are no errors.
    fn manifests_in_dir(compose: &str, prepare: impl FnOnce(&std::path::Path)) -> (Diagnostics, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        prepare(dir.path());
        let options = Options {
            files: vec![dir.path().join("compose.yaml")],
            working_dir: dir.path().to_path_buf(),
            ..Options::default()
        };
        let (mut sources, mut diags) = (Sources::default(), Diagnostics::default());
        let project = load::load(&options, &mut sources, &mut diags).unwrap();
        let app = lower(&project, &Settings::default(), &mut diags);
        (diags, crate::render::yaml(&crate::emit::emit(&app)))
    }

    #[test]
    fn symlinks_out_of_the_project_are_not_followed_into_a_config_map() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("shadow"), "TOPSECRET").unwrap();
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf, ./link:/etc/link]\n";
        let (diags, yaml) = manifests_in_dir(compose, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/ok.txt"), "fine").unwrap();
            std::os::unix::fs::symlink(outside.path().join("shadow"), dir.join("conf/leak")).unwrap();
            std::os::unix::fs::symlink(outside.path(), dir.join("link")).unwrap();
        });
        assert!(!yaml.contains("TOPSECRET"), "{yaml}");
        assert!(yaml.contains("fine"), "the other files are shipped: {yaml}");
        let left_out = diags.items().iter().find(|d| d.code == Code::FilesLeftOut).expect("no K015");
        assert!(left_out.message.contains("leak (symlink to outside the project)"), "{}", left_out.message);
        let host = diags.items().iter().find(|d| d.code == Code::HostPath).expect("no K204 for ./link");
        assert!(host.message.contains("symlink takes it outside"), "{}", host.message);
    }

    #[test]
    fn mounting_the_project_ships_no_secrets_env_files_or_ignored_files() {
        let compose = "services:\n  a:\n    image: x:1\n    secrets: [db]\n    volumes: [./:/app, ./.env.local:/x]\nsecrets:\n  db:\n    file: ./db.txt\n";
        let (diags, yaml) = manifests_in_dir(compose, |dir| {
            std::fs::write(dir.join(".env"), "DB_PASSWORD=hunter2\n").unwrap();
            std::fs::write(dir.join(".env.local"), "TOKEN=envlocal\n").unwrap();
            std::fs::write(dir.join("db.txt"), "dbsecret").unwrap();
            std::fs::write(dir.join("notes.tmp"), "ignoredtext").unwrap();
            std::fs::write(dir.join(".dockerignore"), "*.tmp\n").unwrap();
            std::fs::write(dir.join("app.py"), "print()").unwrap();
        });
        for secret in ["hunter2", "envlocal", "ignoredtext"] {
            assert!(!yaml.contains(secret), "{secret} shipped: {yaml}");
        }
        // The compose secret is still mounted, as a Secret; only the ConfigMap leaves it out.
        assert!(yaml.contains("app.py"), "{yaml}");
        let left_out: Vec<_> = diags.items().iter().filter(|d| d.code == Code::FilesLeftOut).collect();
        let message = &left_out[0].message;
        for name in [".env (env file)", "db.txt (compose secret)", "notes.tmp (.dockerignore)"] {
            assert!(message.contains(name), "{name} not in {message}");
        }
        assert!(codes(&diags).contains(&Code::HostPath), "the single .env.local mount is refused");
    }

    #[test]
    fn a_plain_project_directory_leaves_nothing_out() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf]\n";
        let (diags, _) = manifests_in_dir(compose, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/app.env.example"), "A=1").unwrap();
        });
        assert!(!codes(&diags).contains(&Code::FilesLeftOut), "{:?}", diags.items());
    }

    const SECRET: &str = "services:\n  a:\n    image: x:1\n    secrets: [s]\nsecrets:\n  s:\n    file: ./big\n";

    #[test]
    fn a_secret_file_too_large_for_a_secret_is_refused_unread() {
        let diags = lower_in_dir(SECRET, |dir| {
            std::fs::File::create(dir.join("big")).unwrap().set_len(1 << 30).unwrap();
        });
        let refused = diags.items().iter().find(|d| d.code == Code::ReadFailed).expect("no K001");
        assert!(refused.message.contains("larger than the 1 MiB"), "{}", refused.message);
    }

    #[test]
    fn devices_and_pipes_are_not_read_as_secrets_or_project_files() {
        // /dev/zero never ends; opening a FIFO without a writer never returns.
        let diags = lower_in_dir(&SECRET.replace("./big", "/dev/zero"), |_| {});
        assert!(codes(&diags).contains(&Code::MissingFile), "{:?}", diags.items());
        let mount = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf]\n";
        let diags = lower_in_dir(mount, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/ok.txt"), "fine").unwrap();
            let made = std::process::Command::new("mkfifo").arg(dir.join("conf/pipe")).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        });
        let shipped = diags.items().iter().find(|d| d.code == Code::HostPath).expect("no K204");
        assert!(shipped.message.contains("is not a regular file"), "{}", shipped.message);
    }
}
