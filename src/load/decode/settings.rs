//! The `x-kompile` blocks, validated like compose keys: an unknown key is an error with
//! "did you mean", a bad value an error at the value. docs/x-kompile.md documents each key.

use crate::compose::settings::{checked_host, checked_path};
use crate::compose::workload::{is_time_zone, schedule_error, schedule_problem};
use crate::compose::{IngressRoute, IngressSettings, ProjectSettings, ServiceSettings, Spanned, Tls, VolumeSettings};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node, Value};
use crate::model::{AccessMode, Concurrency, ExposeKind, TrafficPolicy, WorkloadKind};
use crate::units;

mod pod;

pub fn project(node: Option<&Node>, diags: &mut Diagnostics) -> ProjectSettings {
    let Some(map) = block(node, "the project", diags) else { return ProjectSettings::default() };
    unknown_keys(map, ProjectSettings::KEYS, "", "the project", diags);
    let mut settings = ProjectSettings::default();
    for entry in &map.entries {
        match entry.key.as_str() {
            "registry" => settings.registry = string(&entry.value, "registry", diags),
            "deny" => settings.deny = string_list(&entry.value, "deny", diags),
            "warn" => settings.warn = string_list(&entry.value, "warn", diags),
            "allow" => settings.allow = string_list(&entry.value, "allow", diags),
            "network_policies" => settings.network_policies = boolean(&entry.value, "network_policies", diags),
            "expose" => settings.expose = expose(&entry.value, diags),
            "external_traffic_policy" => settings.external_traffic_policy = traffic_policy(&entry.value, diags),
            "kubernetes_version" => settings.kubernetes_version = pod::kubernetes_version(&entry.value, diags),
            "wait_image" => settings.wait_images.connect = image(&entry.value, "wait_image", diags),
            "wait_kubectl_image" => settings.wait_images.kubectl = image(&entry.value, "wait_kubectl_image", diags),
            _ => {}
        }
    }
    settings
}

pub fn service(name: &str, node: Option<&Node>, diags: &mut Diagnostics) -> ServiceSettings {
    let place = format!("service `{name}`");
    let Some(map) = block(node, &place, diags) else { return ServiceSettings::default() };
    unknown_keys(map, ServiceSettings::KEYS, "", &place, diags);
    let mut settings = ServiceSettings::default();
    for entry in &map.entries {
        let value = &entry.value;
        match entry.key.as_str() {
            "expose" => settings.expose = expose(value, diags),
            "ingress" => settings.ingress = ingress(name, value, diags),
            "node_port" => settings.node_port = node_port(value, diags),
            "external_traffic_policy" => settings.external_traffic_policy = traffic_policy(value, diags),
            "secret_env" => settings.secret_env = string_list(value, "secret_env", diags),
            "skip_mounts" => settings.skip_mounts = string_list(value, "skip_mounts", diags),
            "service_account" => settings.service_account = pod::object_name(value, "service_account", diags),
            "image_pull_secrets" => settings.image_pull_secrets = pod::object_names(value, "image_pull_secrets", diags),
            "node_selector" => settings.node_selector = pod::node_selector(value, diags),
            "tolerations" => settings.tolerations = pod::tolerations(value, diags),
            "disruption" => settings.disruption = pod::disruption(value, diags),
            "autoscale" => settings.autoscale = pod::autoscale(value, diags),
            "pod" => settings.pod = string(value, "pod", diags),
            "wait_image" => settings.wait_images.connect = image(value, "wait_image", diags),
            "wait_kubectl_image" => settings.wait_images.kubectl = image(value, "wait_kubectl_image", diags),
            "kind" => settings.kind = kind(value, diags),
            "schedule" => settings.schedule = schedule(value, diags),
            "concurrency" => settings.concurrency = concurrency(value, diags),
            "time_zone" => settings.time_zone = time_zone(value, diags),
            "backoff_limit" => settings.backoff_limit = backoff_limit(value, diags),
            "fs_group" => settings.fs_group = fs_group(value, diags),
            _ => {}
        }
    }
    settings
}

/// `kind`: `deployment`, `statefulset`, `daemonset`, `job` or `cronjob`.
fn kind(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<WorkloadKind>> {
    let word = node.as_str().unwrap_or_default();
    let Some(kind) = WorkloadKind::from_word(word) else {
        let help = one_of(word, WorkloadKind::WORDS);
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`x-kompile.kind` cannot be `{}`", node_text(node)))
                .at(node.span, "not a kind of workload")
                .help(help),
        );
        return None;
    };
    Some(Spanned::new(kind, node.span))
}

/// "did you mean" among `words`, else the list.
fn one_of(word: &str, words: &[&str]) -> String {
    let list = words.join("`, `");
    match crate::suggest::closest(&word.to_ascii_lowercase(), words.iter().copied()) {
        Some(close) => format!("did you mean `{close}`? (one of `{list}`)"),
        None => format!("one of `{list}`; see docs/x-kompile.md"),
    }
}

/// `schedule`: five cron fields or a macro, as the CronJob controller reads them.
fn schedule(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let text = string(node, "schedule", diags)?;
    let trimmed = text.value.trim().to_string();
    if let Some(problem) = schedule_problem(&trimmed) {
        diags.push(schedule_error("`x-kompile.schedule`", &trimmed, &problem, node.span));
        return None;
    }
    Some(Spanned::new(trimmed, text.span))
}

fn concurrency(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<Concurrency>> {
    let word = node.as_str().unwrap_or_default();
    let Some(policy) = Concurrency::from_word(word) else {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`x-kompile.concurrency` cannot be `{}`", node_text(node)))
                .at(node.span, "not a concurrency policy")
                .help(one_of(word, Concurrency::WORDS)),
        );
        return None;
    };
    Some(Spanned::new(policy, node.span))
}

fn time_zone(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let zone = string(node, "time_zone", diags)?;
    if !is_time_zone(&zone.value) {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`x-kompile.time_zone` cannot be `{}`", zone.value))
                .at(node.span, "not a time zone name")
                .help("write an IANA time zone name such as `UTC` or `Europe/Berlin`"),
        );
        return None;
    }
    Some(zone)
}

fn backoff_limit(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<u32>> {
    let accept = |n: i64| u32::try_from(n).ok().filter(|n| i32::try_from(*n).is_ok());
    let help = "write how many times a failed run is retried before the Job fails, e.g. `3` (0: never)";
    whole_number(node, "backoff_limit", accept, "not a number of retries", help, diags)
}

/// A whole number for `x-kompile.<key>` that `accept` takes (its type and range); anything
/// else is K110 at it, with `label` and `help`.
fn whole_number<T>(
    node: &Node,
    key: &str,
    accept: impl Fn(i64) -> Option<T>,
    label: &str,
    help: &str,
    diags: &mut Diagnostics,
) -> Option<Spanned<T>> {
    let number = match node.value {
        Value::Int(n) => accept(n),
        _ => None,
    };
    if number.is_none() {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`x-kompile.{key}` cannot be `{}`", node_text(node)))
                .at(node.span, label.to_string())
                .help(help.to_string()),
        );
    }
    Some(Spanned::new(number?, node.span))
}

pub fn volume(name: &str, node: Option<&Node>, diags: &mut Diagnostics) -> VolumeSettings {
    let place = format!("volume `{name}`");
    let Some(map) = block(node, &place, diags) else { return VolumeSettings::default() };
    unknown_keys(map, VolumeSettings::KEYS, "", &place, diags);
    let mut settings = VolumeSettings::default();
    for entry in &map.entries {
        match entry.key.as_str() {
            "size" => settings.size = size(&entry.value, name, diags),
            "storage_class" => settings.storage_class = string(&entry.value, "storage_class", diags),
            "access_mode" => settings.access_mode = access_mode(&entry.value, diags),
            "seed" => settings.seed = boolean(&entry.value, "seed", diags),
            _ => {}
        }
    }
    settings
}

/// The block itself: absent, or a mapping.
fn block<'a>(node: Option<&'a Node>, place: &str, diags: &mut Diagnostics) -> Option<&'a Map> {
    let node = node?;
    if node.is_null() {
        return None;
    }
    let map = node.as_map();
    if map.is_none() {
        diags.push(
            Diagnostic::new(Code::WrongType, format!("`x-kompile` of {place} must be a mapping"))
                .at(node.span, format!("{}, not a mapping", node.kind_name()))
                .help("write the settings as `x-kompile: {key: value}`; see docs/x-kompile.md"),
        );
    }
    map
}

/// `prefix` is the path of a nested block (`ingress.`).
fn unknown_keys(map: &Map, known: &'static [&'static str], prefix: &str, place: &str, diags: &mut Diagnostics) {
    for entry in map.entries.iter().filter(|e| !known.contains(&e.key.as_str())) {
        let diagnostic = Diagnostic::new(
            Code::UnknownSetting,
            format!("`x-kompile.{prefix}{}` of {place} is not a setting", entry.key),
        )
        .at(entry.key_span, "unknown setting");
        let known_list = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
        diags.push(match crate::suggest::closest(&entry.key, known.iter().copied()) {
            Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
            None => diagnostic.help(format!("settings here: {known_list}; see docs/x-kompile.md")),
        });
    }
}

fn string(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    match node.scalar_text() {
        Some(text) => Some(Spanned::new(text, node.span)),
        _ => {
            diags.push(wrong(node, key, "a string"));
            None
        }
    }
}

/// An image reference: one word, as a container's `image` must be.
fn image(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let image = string(node, key, diags)?;
    if !image.value.is_empty() && !image.value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(image);
    }
    diags.push(
        Diagnostic::new(Code::InvalidValue, format!("`x-kompile.{key}` is not an image reference"))
            .at(node.span, "not an image")
            .help("write an image reference such as `registry.example.com/busybox:1.37.0@sha256:…`"),
    );
    None
}

fn boolean(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
    match node.value {
        crate::load::node::Value::Bool(b) => Some(Spanned::new(b, node.span)),
        _ => {
            diags.push(wrong(node, key, "true or false"));
            None
        }
    }
}

fn string_list(node: &Node, key: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    let Some(items) = node.as_seq() else {
        diags.push(wrong(node, key, "a list of strings"));
        return Vec::new();
    };
    items.iter().filter_map(|item| string(item, key, diags)).collect()
}

fn size(node: &Node, volume: &str, diags: &mut Diagnostics) -> Option<Spanned<u64>> {
    let text = node.scalar_text().unwrap_or_default();
    let size = units::parse_bytes(&text).filter(|b| *b > 0);
    if size.is_none() {
        diags.push(
            Diagnostic::new(Code::InvalidSize, format!("`{text}` is not a size for volume `{volume}`"))
                .at(node.span, "invalid size")
                .help("write a number with a binary unit: `10Gi`, `512Mi`, `10g`"),
        );
    }
    Some(Spanned::new(size?, node.span))
}

fn access_mode(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<AccessMode>> {
    let mode = match node.as_str() {
        Some("ReadWriteOnce") => AccessMode::ReadWriteOnce,
        Some("ReadWriteMany") => AccessMode::ReadWriteMany,
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    "`x-kompile.access_mode` must be `ReadWriteOnce` or `ReadWriteMany`",
                )
                .at(node.span, "not an access mode")
                .help("ReadWriteMany needs storage that attaches to many nodes (NFS, CephFS, EFS)"),
            );
            return None;
        }
    };
    Some(Spanned::new(mode, node.span))
}

/// `expose`: `loadbalancer`, `nodeport`, `ingress` or `none`.
fn expose(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<ExposeKind>> {
    let word = node.as_str().unwrap_or_default();
    let Some(kind) = ExposeKind::from_word(word) else {
        let words = ExposeKind::WORDS.join("`, `");
        let help = match crate::suggest::closest(&word.to_ascii_lowercase(), ExposeKind::WORDS.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? (one of `{words}`)"),
            None => format!("one of `{words}`; see docs/x-kompile.md"),
        };
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`x-kompile.expose` cannot be `{}`", node_text(node)))
                .at(node.span, "not a kind of exposure")
                .help(help),
        );
        return None;
    };
    Some(Spanned::new(kind, node.span))
}

fn traffic_policy(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<TrafficPolicy>> {
    let Some(policy) = node.as_str().and_then(TrafficPolicy::from_word) else {
        diags.push(
            Diagnostic::new(Code::InvalidValue, "`x-kompile.external_traffic_policy` must be `Cluster` or `Local`")
                .at(node.span, "not a traffic policy")
                .help("`Local` keeps the client's address and sends traffic only to pods on the node it reached"),
        );
        return None;
    };
    Some(Spanned::new(policy, node.span))
}

/// `fs_group`: a group id, as Kubernetes' `fsGroup` (an int64 that must not be negative).
fn fs_group(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<u32>> {
    let help = "write the numeric group the image's user writes as, e.g. `fs_group: 1000`";
    whole_number(node, "fs_group", |n| u32::try_from(n).ok(), "not a group id", help, diags)
}

fn node_port(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<u16>> {
    let accept = |n: i64| u16::try_from(n).ok().filter(|p| crate::ports::NODE_PORTS.contains(p));
    let help = "clusters give nodePorts from 30000 to 32767 by default; leave it out to get one allocated";
    whole_number(node, "node_port", accept, "not a port from 30000 to 32767", help, diags)
}

fn ingress(service: &str, node: &Node, diags: &mut Diagnostics) -> Option<Spanned<IngressSettings>> {
    let place = format!("service `{service}`");
    let map = block_of(node, "ingress", diags)?;
    unknown_keys(map, IngressSettings::KEYS, "ingress.", &place, diags);
    let mut settings = IngressSettings::default();
    let mut route = IngressRoute { host: None, path: None };
    for entry in &map.entries {
        let value = &entry.value;
        match entry.key.as_str() {
            "host" => route.host = string(value, "ingress.host", diags).and_then(|h| checked_host(h, diags)),
            "path" => route.path = string(value, "ingress.path", diags).and_then(|p| checked_path(p, diags)),
            "tls" => settings.tls = tls(value, diags),
            "class" => settings.class = string(value, "ingress.class", diags),
            "annotations" => settings.annotations = annotations(value, diags),
            "port" => settings.port = container_port(value, diags),
            _ => {}
        }
    }
    settings.routes.push(route);
    Some(Spanned::new(settings, node.span))
}

/// A mapping inside a block (`ingress:`), else a wrong-type error.
fn block_of<'a>(node: &'a Node, key: &str, diags: &mut Diagnostics) -> Option<&'a Map> {
    let map = node.as_map();
    if map.is_none() {
        diags.push(wrong(node, key, "a mapping"));
    }
    map
}

/// `tls: true` (the Secret `<service>-tls`), `false`, or a Secret name.
fn tls(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<Tls>> {
    let tls = match &node.value {
        Value::Bool(true) => Tls::Default,
        Value::Bool(false) => return None,
        Value::Str(name) if crate::names::is_dns_subdomain(name) => Tls::Secret(name.clone()),
        _ => {
            diags.push(
                Diagnostic::new(Code::InvalidValue, format!("`x-kompile.ingress.tls` cannot be `{}`", node_text(node)))
                    .at(node.span, "neither a boolean nor a Secret name")
                    .help("write `tls: true` for the Secret `<service>-tls`, or the name of the Secret holding the certificate"),
            );
            return None;
        }
    };
    Some(Spanned::new(tls, node.span))
}

fn annotations(node: &Node, diags: &mut Diagnostics) -> Vec<(crate::compose::Key, String)> {
    let Some(map) = block_of(node, "ingress.annotations", diags) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in &map.entries {
        if !crate::names::is_qualified_name(&entry.key) {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("ingress annotation {:?} is not a valid annotation key", entry.key),
                )
                .at(entry.key_span, "not an annotation key")
                .help("keys are an optional DNS prefix and `/`, then at most 63 letters, digits, `-`, `_` and `.`"),
            );
            continue;
        }
        match entry.value.scalar_text() {
            Some(text) => out.push((Spanned::new(entry.key.clone(), entry.key_span), text)),
            None => diags.push(wrong(&entry.value, "ingress.annotations", "a string")),
        }
    }
    out
}

fn container_port(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<u16>> {
    let port = match node.value {
        Value::Int(n) => u16::try_from(n).ok().filter(|p| *p > 0),
        _ => None,
    };
    if port.is_none() {
        diags.push(
            Diagnostic::new(Code::InvalidPort, format!("`x-kompile.ingress.port` cannot be `{}`", node_text(node)))
                .at(node.span, "not a port")
                .help("write the container port the Ingress routes to, from 1 to 65535"),
        );
    }
    Some(Spanned::new(port?, node.span))
}

/// A scalar as written, for messages.
fn node_text(node: &Node) -> String {
    node.scalar_text().unwrap_or_else(|| node.kind_name().to_string())
}

fn wrong(node: &Node, key: &str, expected: &str) -> Diagnostic {
    Diagnostic::new(Code::WrongType, format!("`x-kompile.{key}` must be {expected}"))
        .at(node.span, format!("{}, not {expected}", node.kind_name()))
        .help("see docs/x-kompile.md")
}
