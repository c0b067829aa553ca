//! The merged, canonical `Node` tree → the typed [`compose::Project`]. Canonicalization
//! already checked and normalized every compose value (and reported and dropped bad ones),
//! so decoding only converts; the `x-kompile` blocks are validated here, and the files the
//! project's secrets and configs name are read here, so later stages read no files.

mod runtime;
mod settings;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::node::{Map, Node, Value};
use super::{Environment, io_reason, read_regular};
use crate::compose::{
    Build, BuildFile, Condition, Dependency, Deploy, DeployResources, EnvFile, EnvVar, FileObject, FileReference,
    FileSource, Key, Network, PortRange, Project, ResourceAmounts, RestartPolicy, Service, ServiceNetwork,
    ServiceVolume, Spanned, Tmpfs, UpdateConfig, Volume, VolumeKind,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Healthcheck, Port, ProbeCommand, Protocol};
use crate::source::{FileId, Span};
use crate::units;

/// A Secret or ConfigMap holds at most this much; larger files are refused unread.
pub const OBJECT_LIMIT: u64 = 1024 * 1024;

/// What the project is besides its tree.
pub struct Parts<'a> {
    pub name: String,
    pub directory: std::path::PathBuf,
    pub files: Vec<FileId>,
    pub profiles: Vec<String>,
    pub disabled: Vec<(String, Span)>,
    pub dockerfiles: Vec<BuildFile>,
    pub environment: &'a Environment,
}

/// Service keys and environments, the bulk of a project's strings, are moved out of `root`
/// rather than copied: keep a copy of the tree first if it is needed afterwards.
pub fn decode(root: &mut Node, parts: Parts<'_>, diags: &mut Diagnostics) -> Project {
    let mut services = Vec::new();
    if let Some(entries) = root.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) {
        for entry in &mut entries.entries {
            services.push(service(key(&entry.key, entry.key_span), &mut entry.value, diags));
        }
    }
    let empty = Map::default();
    let map = root.as_map().unwrap_or(&empty);
    let section = |key: &str| map.get(key).and_then(Node::as_map).unwrap_or(&empty);
    // Every secret's file, mounted or not and external or not: none is shipped as a project file.
    let secret_files = section("secrets").entries.iter();
    let secret_files = secret_files.filter_map(|e| e.value.as_map()?.get("file")?.as_str().map(PathBuf::from));
    super::project_files::read_bind_mounts(&mut services, &parts.directory, secret_files.collect());
    // Only what an enabled service mounts is read: an unused secret's file may not exist.
    let used = |refs: fn(&Service) -> &[Spanned<FileReference>]| -> BTreeSet<String> {
        services.iter().flat_map(|s| refs(s).iter().map(|r| r.source.value.clone())).collect()
    };
    let (used_secrets, used_configs) = (used(|s| &s.secrets), used(|s| &s.configs));
    Project {
        name: parts.name,
        directory: parts.directory,
        files: parts.files,
        profiles: parts.profiles,
        services,
        disabled: parts.disabled.into_iter().map(|(name, span)| Spanned::new(name, span)).collect(),
        networks: section("networks").entries.iter().map(|e| network(key(&e.key, e.key_span), &e.value)).collect(),
        volumes: section("volumes").entries.iter().map(|e| volume(key(&e.key, e.key_span), &e.value, diags)).collect(),
        secrets: file_objects(section("secrets"), &used_secrets, parts.environment, diags),
        configs: file_objects(section("configs"), &used_configs, parts.environment, diags),
        keys: keys(map),
        settings: settings::project(map.get("x-kompile"), diags),
        dockerfiles: parts.dockerfiles,
        ..Project::default()
    }
    .indexed()
}

fn key(name: &str, span: Span) -> Key {
    Spanned::new(name.to_string(), span)
}

fn keys(map: &Map) -> Vec<Key> {
    map.entries.iter().map(|e| key(&e.key, e.key_span)).collect()
}

fn text(node: &Node) -> Option<Spanned<String>> {
    Some(Spanned::new(node.scalar_text()?, node.span))
}

fn flag(node: Option<&Node>) -> bool {
    node.is_some_and(|n| n.value == Value::Bool(true))
}

fn whole(node: &Node) -> Option<i64> {
    match node.value {
        Value::Int(n) => Some(n),
        _ => None,
    }
}

fn count(node: &Node) -> Option<Spanned<u32>> {
    Some(Spanned::new(u32::try_from(whole(node)?).ok()?, node.span))
}

fn duration(node: &Node) -> Option<Spanned<std::time::Duration>> {
    Some(Spanned::new(units::parse_duration(node.as_str()?)?, node.span))
}

/// Sizes are canonical byte counts; zero means "not set", as in Compose.
fn bytes(node: &Node) -> Option<Spanned<u64>> {
    let bytes: u64 = node.scalar_text()?.parse().ok()?;
    (bytes > 0).then(|| Spanned::new(bytes, node.span))
}

fn cores(node: &Node) -> Option<Spanned<f64>> {
    let cores = match node.value {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
        _ => return None,
    };
    (cores > 0.0).then(|| Spanned::new(cores, node.span))
}

fn words(node: &Node) -> Option<Spanned<Vec<String>>> {
    Some(Spanned::new(node.as_seq()?.iter().filter_map(Node::scalar_text).collect(), node.span))
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.and_then(words).map(|w| w.value).unwrap_or_default()
}

fn spanned_strings(node: Option<&Node>) -> Vec<Spanned<String>> {
    node.and_then(Node::as_seq).unwrap_or_default().iter().filter_map(text).collect()
}

/// A canonical string map (`labels`, `args`, env file values), in file order.
fn string_pairs(node: Option<&Node>) -> Vec<(Key, String)> {
    let Some(map) = node.and_then(Node::as_map) else { return Vec::new() };
    map.entries.iter().filter_map(|e| Some((key(&e.key, e.key_span), e.value.scalar_text()?))).collect()
}

/// One pass over the service's keys: a project may have thousands of services.
fn service(name: Key, node: &mut Node, diags: &mut Diagnostics) -> Service {
    let mut s = Service::default();
    let Some(map) = node.as_map_mut() else { return Service { name, ..s } };
    for entry in &mut map.entries {
        if entry.key == "environment" {
            s.environment = take_environment(&mut entry.value);
            continue;
        }
        let value = &entry.value;
        let seq = || value.as_seq().unwrap_or_default();
        match entry.key.as_str() {
            "image" => s.image = text(value),
            "build" => s.build = Some(build(value)),
            "command" => s.command = words(value),
            "entrypoint" => s.entrypoint = words(value),
            "env_file" => s.env_files = env_files(Some(value)),
            "ports" => {
                s.ports = Some(ports(value));
                s.port_name_spans = port_name_spans(value);
            }
            "expose" => s.expose = Some(expose(value)),
            "healthcheck" => s.healthcheck = Some(healthcheck(value)),
            "deploy" => s.deploy = deploy(value),
            "scale" => s.scale = count(value),
            "volumes" => s.volumes = seq().iter().filter_map(service_volume).collect(),
            "tmpfs" => s.tmpfs = seq().iter().filter_map(tmpfs).collect(),
            "secrets" => s.secrets = file_references(Some(value)),
            "configs" => s.configs = file_references(Some(value)),
            "labels" => s.labels = string_pairs(Some(value)),
            "user" => s.user = text(value),
            "working_dir" => s.working_dir = text(value),
            "depends_on" => s.depends_on = depends_on(Some(value)),
            "networks" => s.networks = service_networks(Some(value)),
            "network_mode" => s.network_mode = text(value),
            "links" => s.links = spanned_strings(Some(value)),
            "volumes_from" => s.volumes_from = spanned_strings(Some(value)),
            "container_name" => s.container_name = text(value),
            "hostname" => s.hostname = text(value),
            "domainname" => s.domainname = text(value),
            "dns" => s.dns = spanned_strings(Some(value)),
            "dns_search" => s.dns_search = spanned_strings(Some(value)),
            "dns_opt" => s.dns_opt = spanned_strings(Some(value)),
            "restart" => s.restart = text(value),
            "pull_policy" => s.pull_policy = text(value),
            "read_only" => s.read_only = flag(Some(value)),
            "privileged" => s.privileged = flag(Some(value)),
            "tty" => s.tty = flag(Some(value)),
            "stdin_open" => s.stdin_open = flag(Some(value)),
            "cap_add" => s.cap_add = strings(Some(value)),
            "cap_drop" => s.cap_drop = strings(Some(value)),
            "cpus" => s.cpus = cores(value),
            "mem_limit" => s.mem_limit = bytes(value),
            "mem_reservation" => s.mem_reservation = bytes(value),
            "stop_grace_period" => s.stop_grace_period = duration(value),
            "extra_hosts" => s.extra_hosts = spanned_strings(Some(value)),
            "x-kompile" => s.settings = settings::service(&name.value, Some(value), diags),
            "stop_signal" | "sysctls" | "shm_size" | "post_start" | "pre_stop" | "gpus" => {
                runtime::key(&entry.key, value, &mut s.runtime)
            }
            _ => {}
        }
    }
    s.keys = map.entries.iter_mut().map(|e| Spanned::new(std::mem::take(&mut e.key), e.key_span)).collect();
    s.name = name;
    s
}

fn build(node: &Node) -> Spanned<Build> {
    let empty = Map::default();
    let map = node.as_map().unwrap_or(&empty);
    let get = |key: &str| map.get(key);
    let build = Build {
        context: get("context").and_then(text),
        dockerfile: get("dockerfile").and_then(text),
        dockerfile_inline: get("dockerfile_inline").and_then(text),
        target: get("target").and_then(text),
        args: string_pairs(get("args")),
        additional_contexts: string_pairs(get("additional_contexts")),
        secrets: file_references(get("secrets")),
    };
    Spanned::new(build, node.span)
}

/// `environment`, its names and values moved out of the tree.
fn take_environment(node: &mut Node) -> Vec<EnvVar> {
    let Some(map) = node.as_map_mut() else { return Vec::new() };
    let variable = |e: &mut super::node::Entry| {
        let value = match &mut e.value.value {
            Value::Str(text) => Some(Spanned::new(std::mem::take(text), e.value.span)),
            _ => text(&e.value),
        };
        EnvVar { name: Spanned::new(std::mem::take(&mut e.key), e.key_span), value, interpolated: e.value.interpolated }
    };
    map.entries.iter_mut().map(variable).collect()
}

fn env_files(node: Option<&Node>) -> Vec<EnvFile> {
    let items = node.and_then(Node::as_seq).unwrap_or_default();
    let file = |item: &Node| {
        let map = item.as_map()?;
        Some(EnvFile {
            path: text(map.get("path")?)?,
            required: !matches!(map.get("required").map(|r| &r.value), Some(Value::Bool(false))),
            values: string_pairs(map.get("values")),
        })
    };
    items.iter().filter_map(file).collect()
}

fn ports(node: &Node) -> Spanned<Vec<Spanned<Port>>> {
    let ports = node.as_seq().unwrap_or_default().iter().filter_map(port);
    Spanned::new(ports.map(|(port, _)| port).collect(), node.span)
}

/// The spans of the `name`s of [`ports`], entry by entry.
fn port_name_spans(node: &Node) -> Vec<Option<Span>> {
    node.as_seq().unwrap_or_default().iter().filter_map(port).map(|(_, name)| name).collect()
}

/// A canonical `ports` entry, and the span of its `name`.
fn port(item: &Node) -> Option<(Spanned<Port>, Option<Span>)> {
    let map = item.as_map()?;
    let target = u16::try_from(whole(map.get("target")?)?).ok()?;
    let get = |key: &str| map.get(key).and_then(Node::scalar_text);
    let port = Port {
        target,
        published: get("published").and_then(|p| p.parse().ok()),
        protocol: Protocol::from_compose_name(&get("protocol").unwrap_or_default()),
        host_ip: get("host_ip"),
        name: get("name"),
        app_protocol: get("app_protocol"),
    };
    Some((Spanned::new(port, item.span), map.get("name").map(|n| n.span)))
}

fn expose(node: &Node) -> Spanned<Vec<Spanned<PortRange>>> {
    let range = |item: &Node| {
        let (ports, protocol_text) = super::canonical::ports::parse_expose(&item.scalar_text()?)?;
        Some(Spanned::new(PortRange { ports, protocol: Protocol::from_compose_name(&protocol_text) }, item.span))
    };
    Spanned::new(node.as_seq().unwrap_or_default().iter().filter_map(range).collect(), node.span)
}

fn healthcheck(node: &Node) -> Spanned<Healthcheck> {
    let empty = Map::default();
    let map = node.as_map().unwrap_or(&empty);
    let time = |key: &str| map.get(key).and_then(duration).map(|d| d.value);
    let test = if flag(map.get("disable")) { Some(ProbeCommand::None) } else { map.get("test").map(health_test) };
    let check = Healthcheck {
        test,
        interval: time("interval"),
        timeout: time("timeout"),
        start_period: time("start_period"),
        start_interval: time("start_interval"),
        retries: map.get("retries").and_then(count).map(|r| r.value),
    };
    Spanned::new(check, node.span)
}

/// A canonical `test`: `["CMD", ...]` runs directly, `["CMD-SHELL", script]` in a shell,
/// `["NONE"]` turns the check off.
fn health_test(node: &Node) -> ProbeCommand {
    let test = strings(Some(node));
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => ProbeCommand::Exec(rest.to_vec()),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => ProbeCommand::Shell(rest.join(" ")),
        _ => ProbeCommand::None,
    }
}

fn deploy(node: &Node) -> Deploy {
    let empty = Map::default();
    let map = node.as_map().unwrap_or(&empty);
    let get = |key: &str| map.get(key);
    let has_entries = |key: &str| get(key).and_then(Node::as_map).is_some_and(|m| !m.entries.is_empty());
    Deploy {
        replicas: get("replicas").and_then(count),
        mode: get("mode").and_then(text),
        resources: resources(get("resources")),
        update_config: get("update_config").map(update_config),
        restart_policy: get("restart_policy").map(restart_policy),
        keys: keys(map),
        nested_keys: nested_keys(map),
        placement_set: has_entries("placement"),
        placement: runtime::placement(get("placement")),
        labels_set: has_entries("labels"),
    }
}

/// Keys inside `deploy`'s blocks, as dotted paths (`update_config.failure_action`,
/// `resources.limits.pids`).
fn nested_keys(deploy: &Map) -> Vec<Key> {
    // Built by hand, not with `format!`: every service of a large project has a few.
    let path = |parts: &[&str]| {
        let mut path = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                path.push('.');
            }
            path.push_str(part);
        }
        path
    };
    let mut out = Vec::new();
    for entry in &deploy.entries {
        let Some(inner) = entry.value.as_map() else { continue };
        for child in &inner.entries {
            out.push(Spanned::new(path(&[&entry.key, &child.key]), child.key_span));
            for grandchild in child.value.as_map().map(|m| m.entries.as_slice()).unwrap_or_default() {
                let nested = path(&[&entry.key, &child.key, &grandchild.key]);
                out.push(Spanned::new(nested, grandchild.key_span));
            }
        }
    }
    out
}

fn resources(node: Option<&Node>) -> DeployResources {
    let part = |key: &str| {
        let map = node.and_then(Node::as_map).and_then(|r| r.get(key)).and_then(Node::as_map);
        ResourceAmounts {
            present: map.is_some(),
            first_key: map.and_then(|m| m.entries.first()).map(|e| e.key_span),
            cpus: map.and_then(|m| m.get("cpus")).and_then(cores),
            memory: map.and_then(|m| m.get("memory")).and_then(bytes),
        }
    };
    let reservations = node.and_then(Node::as_map).and_then(|r| r.get("reservations")).and_then(Node::as_map);
    let devices = runtime::devices(reservations.and_then(|r| r.get("devices")));
    DeployResources { limits: part("limits"), reservations: part("reservations"), devices }
}

fn update_config(node: &Node) -> Spanned<UpdateConfig> {
    let map = node.as_map();
    let get = |key: &str| map.and_then(|m| m.get(key));
    let config = UpdateConfig {
        parallelism: get("parallelism").and_then(count).map(|c| c.value),
        order: get("order").and_then(text),
        delay: get("delay").and_then(duration).map(|d| d.value),
        monitor: get("monitor").and_then(duration).map(|d| d.value),
    };
    Spanned::new(config, node.span)
}

fn restart_policy(node: &Node) -> Spanned<RestartPolicy> {
    let map = node.as_map();
    let get = |key: &str| map.and_then(|m| m.get(key));
    let policy = RestartPolicy {
        condition: get("condition").and_then(text),
        max_attempts: get("max_attempts").and_then(count).map(|c| c.value),
        delay: get("delay").and_then(duration).map(|d| d.value),
        window: get("window").and_then(duration).map(|d| d.value),
    };
    Spanned::new(policy, node.span)
}

fn service_volume(item: &Node) -> Option<Spanned<ServiceVolume>> {
    let map = item.as_map()?;
    let get = |key: &str| map.get(key).and_then(Node::scalar_text);
    let inner = |block: &str, key: &str| map.get(block).and_then(Node::as_map).and_then(|b| b.get(key));
    let kind = match get("type")?.as_str() {
        "volume" => VolumeKind::Volume,
        "bind" => VolumeKind::Bind,
        "tmpfs" => VolumeKind::Tmpfs,
        other => VolumeKind::Other(other.to_string()),
    };
    let volume = ServiceVolume {
        kind,
        source: get("source"),
        target: get("target")?,
        read_only: flag(map.get("read_only")),
        nocopy: flag(inner("volume", "nocopy")),
        tmpfs_size: inner("tmpfs", "size").and_then(bytes).map(|b| b.value),
        tmpfs_mode: inner("tmpfs", "mode").and_then(text),
        subpath: inner("volume", "subpath").and_then(text),
        propagation: inner("bind", "propagation").and_then(text),
        // Bind mounts' files are read once every service is decoded: see `project_files`.
        contents: None,
    };
    Some(Spanned::new(volume, item.span))
}

/// Service-level `tmpfs: /run` or `/run:size=64m`.
fn tmpfs(item: &Node) -> Option<Spanned<Tmpfs>> {
    let text = item.as_str()?;
    let (target, options) = text.split_once(':').unwrap_or((text, ""));
    let options: Vec<&str> = options.split(',').filter(|o| !o.is_empty()).collect();
    let size = options.iter().find_map(|o| o.strip_prefix("size=")).and_then(units::parse_bytes);
    let unapplied = options.iter().filter(|o| !o.starts_with("size=") && **o != "rw").map(|o| o.to_string()).collect();
    Some(Spanned::new(Tmpfs { target: target.to_string(), size, unapplied }, item.span))
}

fn file_references(node: Option<&Node>) -> Vec<Spanned<FileReference>> {
    let reference = |item: &Node| {
        let map = item.as_map()?;
        let reference = FileReference {
            source: text(map.get("source")?)?,
            target: map.get("target").and_then(Node::scalar_text),
            mode: map.get("mode").and_then(|m| Some(Spanned::new(u32::from_str_radix(m.as_str()?, 8).ok()?, m.span))),
            owner: map
                .entries
                .iter()
                .filter(|e| e.key == "uid" || e.key == "gid")
                .map(|e| key(&e.key, e.key_span))
                .collect(),
        };
        Some(Spanned::new(reference, item.span))
    };
    node.and_then(Node::as_seq).unwrap_or_default().iter().filter_map(reference).collect()
}

fn depends_on(node: Option<&Node>) -> Vec<Dependency> {
    let Some(map) = node.and_then(Node::as_map) else { return Vec::new() };
    let dependency = |entry: &super::node::Entry| {
        let settings = entry.value.as_map();
        let get = |key: &str| settings.and_then(|s| s.get(key));
        Dependency {
            service: key(&entry.key, entry.key_span),
            condition: match get("condition").and_then(Node::as_str) {
                Some("service_healthy") => Condition::Healthy,
                Some("service_completed_successfully") => Condition::CompletedSuccessfully,
                _ => Condition::Started,
            },
            required: !matches!(get("required").map(|r| &r.value), Some(Value::Bool(false))),
            restart: flag(get("restart")),
        }
    };
    map.entries.iter().map(dependency).collect()
}

fn service_networks(node: Option<&Node>) -> Vec<ServiceNetwork> {
    let Some(map) = node.and_then(Node::as_map) else { return Vec::new() };
    let network = |entry: &super::node::Entry| {
        let settings = entry.value.as_map();
        ServiceNetwork {
            name: key(&entry.key, entry.key_span),
            aliases: spanned_strings(settings.and_then(|s| s.get("aliases"))),
            keys: settings.map(keys).unwrap_or_default(),
        }
    };
    map.entries.iter().map(network).collect()
}

fn network(name: Key, node: &Node) -> Network {
    let map = node.as_map();
    Network {
        name,
        external: flag(map.and_then(|m| m.get("external"))),
        explicit_name: map.and_then(|m| m.get("name")).and_then(Node::scalar_text),
        internal: flag(map.and_then(|m| m.get("internal"))),
        driver: map.and_then(|m| m.get("driver")).and_then(Node::scalar_text),
    }
}

fn volume(name: Key, node: &Node, diags: &mut Diagnostics) -> Volume {
    let map = node.as_map();
    Volume {
        external: flag(map.and_then(|m| m.get("external"))),
        explicit_name: map.and_then(|m| m.get("name")).and_then(Node::scalar_text),
        settings: settings::volume(&name.value, map.and_then(|m| m.get("x-kompile")), diags),
        driver: map.and_then(|m| m.get("driver")).and_then(text),
        driver_opts: string_pairs(map.and_then(|m| m.get("driver_opts"))),
        name,
    }
}

fn file_objects(
    section: &Map,
    used: &BTreeSet<String>,
    environment: &Environment,
    diags: &mut Diagnostics,
) -> Vec<FileObject> {
    let object = |entry: &super::node::Entry, diags: &mut Diagnostics| {
        let map = entry.value.as_map();
        let get = |key: &str| map.and_then(|m| m.get(key));
        let source = if flag(get("external")) {
            FileSource::External
        } else if let Some(file) = get("file").and_then(text) {
            let bytes = if used.contains(&entry.key) { read_object_file(&entry.key, &file, diags) } else { None };
            FileSource::File { path: file, bytes }
        } else if let Some(variable) = get("environment").and_then(text) {
            let value = environment.get(&variable.value).unwrap_or_default();
            FileSource::Environment { variable, value }
        } else if let Some(content) = get("content").and_then(text) {
            FileSource::Content(content)
        } else {
            FileSource::Missing
        };
        FileObject {
            name: key(&entry.key, entry.key_span),
            explicit_name: get("name").and_then(Node::scalar_text),
            source,
        }
    };
    section.entries.iter().map(|e| object(e, diags)).collect()
}

/// A secret's or config's file, refused unread when it is larger than an object can hold.
fn read_object_file(name: &str, file: &Spanned<String>, diags: &mut Diagnostics) -> Option<Vec<u8>> {
    let path = Path::new(&file.value);
    let shown = crate::source::display_path(path);
    match read_regular(path, OBJECT_LIMIT) {
        Ok(bytes) if bytes.len() as u64 > OBJECT_LIMIT => {
            diags.push(
                Diagnostic::new(
                    Code::ReadFailed,
                    format!("`{name}` reads {shown}, which is larger than the 1 MiB a Secret or ConfigMap can hold"),
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
                    format!("`{name}` reads {shown}, which cannot be read: {}", io_reason(&error)),
                )
                .at(file.span, "cannot be read")
                .help("create the file or fix the path; it is relative to the compose file"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::compose::FileSource;
    use crate::diag::Code;
    use crate::load;
    use crate::load::testing::load_in_dir;

    const SECRET: &str = "services:\n  a:\n    image: x:1\n    secrets: [s]\nsecrets:\n  s:\n    file: ./big\n";

    fn secret_bytes(project: &load::Project) -> Option<&Vec<u8>> {
        match &project.typed.secret("s")?.source {
            FileSource::File { bytes, .. } => bytes.as_ref(),
            _ => None,
        }
    }

    #[test]
    fn a_mounted_secret_file_is_read() {
        let (project, diags) = load_in_dir(SECRET, |dir| std::fs::write(dir.join("big"), "pw").unwrap());
        assert!(diags.items().is_empty(), "{:?}", diags.items());
        assert_eq!(secret_bytes(&project.unwrap()).map(Vec::as_slice), Some(&b"pw"[..]));
    }

    #[test]
    fn a_secret_file_too_large_for_a_secret_is_refused_unread() {
        let (project, diags) = load_in_dir(SECRET, |dir| {
            std::fs::File::create(dir.join("big")).unwrap().set_len(1 << 30).unwrap();
        });
        let refused = diags.items().iter().find(|d| d.code == Code::ReadFailed).expect("no K001");
        assert!(refused.message.contains("larger than the 1 MiB"), "{}", refused.message);
        assert_eq!(secret_bytes(&project.unwrap()), None);
    }

    #[test]
    fn an_external_secret_is_not_read_even_with_a_file() {
        let compose = SECRET.replace("file: ./big", "external: true\n    file: ./big");
        let (project, diags) = load_in_dir(&compose, |dir| std::fs::write(dir.join("big"), "pw").unwrap());
        assert!(diags.items().is_empty(), "{:?}", diags.items());
        assert_eq!(project.unwrap().typed.secret("s").map(|s| &s.source), Some(&FileSource::External));
    }

    #[test]
    fn a_tmpfs_mount_of_size_zero_has_no_size() {
        // Compose drops it (`tmpfs: {}`): zero is no limit, not a limit of zero bytes.
        let compose = "services:\n  a:\n    image: x:1\n    volumes:\n      - {type: tmpfs, target: /t, tmpfs: {size: 0}}\n      - {type: tmpfs, target: /u, tmpfs: {size: 64m}}\n";
        let (project, _) = load_in_dir(compose, |_| {});
        let project = project.unwrap();
        let sizes: Vec<_> = project.typed.services[0].volumes.iter().map(|v| v.tmpfs_size).collect();
        assert_eq!(sizes, [None, Some(64 << 20)]);
    }

    #[test]
    fn the_short_tmpfs_syntax_keeps_what_an_empty_dir_cannot_do() {
        let compose = "services:\n  a:\n    image: x:1\n    tmpfs: ['/run:size=64m,mode=0700,uid=1000,rw', /tmp]\n";
        let (project, _) = load_in_dir(compose, |_| {});
        let project = project.unwrap();
        let tmpfs: Vec<_> = project.typed.services[0].tmpfs.iter().map(|t| (t.size, t.unapplied.clone())).collect();
        assert_eq!(tmpfs, [(Some(64 << 20), vec!["mode=0700".to_string(), "uid=1000".into()]), (None, vec![])]);
    }

    #[test]
    fn devices_are_not_read_as_secrets() {
        // /dev/zero never ends.
        let (project, diags) = load_in_dir(&SECRET.replace("./big", "/dev/zero"), |_| {});
        let refused = diags.items().iter().find(|d| d.code == Code::MissingFile).expect("no K108");
        assert!(refused.message.contains("is not a regular file"), "{}", refused.message);
        assert_eq!(secret_bytes(&project.unwrap()), None);
    }
}
