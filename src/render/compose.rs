//! `kompile config`: the loaded project printed the way `docker compose config` prints it.
//!
//! The loader already produced canonical long syntax; this module applies what is only
//! presentation: defaults Compose prints (`command: null`, `networks: {default: null}`),
//! `env_file` folded into `environment`, implicit dependencies, unused resources dropped,
//! resource names, empty values left out and `$` escaped back to `$$`.
//! See docs/dev/compose-normalization.md for the rules and how they were observed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::load::node::Node;

type Object = Map<String, Value>;

/// The top-level sections whose entries services refer to by name.
const RESOURCE_SECTIONS: [&str; 4] = ["networks", "volumes", "secrets", "configs"];

/// Service keys Compose prints even when they are an empty mapping.
const KEPT_WHEN_EMPTY: [&str; 4] = ["healthcheck", "logging", "deploy", "build"];

/// The project as `docker compose config --format json` prints it (equal after parsing).
pub fn compose_json(tree: &Node, name: &str) -> Value {
    let top = into_object(tree.to_json());
    let services = render_services(top.get("services"));
    let used = used_resources(&services);
    let mut out = Object::new();
    out.insert("name".into(), Value::String(name.to_string()));
    for section in RESOURCE_SECTIONS {
        let declared = top.get(section).and_then(Value::as_object);
        let resources = render_resources(section, declared, &used, name);
        if !resources.is_empty() {
            out.insert(section.into(), Value::Object(resources));
        }
    }
    for (key, value) in &top {
        if key.starts_with("x-") {
            out.insert(key.clone(), value.clone());
        }
    }
    out.insert("services".into(), Value::Object(services));
    go_style(Value::Object(sorted(out)))
}

/// The same value as YAML.
pub fn compose_yaml(tree: &Node, name: &str) -> String {
    let value = compose_json(tree, name);
    // A JSON value always serializes; JSON is valid YAML should that ever change.
    serde_saphyr::to_string(&value).unwrap_or_else(|_| serde_json::to_string_pretty(&value).unwrap_or_default())
}

fn into_object(value: Value) -> Object {
    match value {
        Value::Object(map) => map,
        _ => Object::new(),
    }
}

/// Keys in byte order, as Go prints maps.
fn sorted(map: Object) -> Object {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}

// ---- services ------------------------------------------------------------------------

fn render_services(services: Option<&Value>) -> Object {
    let Some(services) = services.and_then(Value::as_object) else { return Object::new() };
    let rendered = services.iter().map(|(name, service)| (name.clone(), render_service(service))).collect();
    sorted(rendered)
}

fn render_service(service: &Value) -> Value {
    let mut service = service.as_object().cloned().unwrap_or_default();
    // Extensions inside a service are not part of Compose's service model, so JSON drops them.
    service.retain(|key, _| !key.starts_with("x-"));
    inline_env_files(&mut service);
    long_devices(&mut service);
    if service.get("gpus").and_then(Value::as_str) == Some("all") {
        // `gpus: all` is Compose's shorthand for "every GPU", written as count -1.
        service.insert("gpus".into(), serde_json::json!([{ "count": -1 }]));
    }
    add_implicit_dependencies(&mut service);
    default_networks(&mut service);
    drop_empty_values(&mut service);
    for key in ["command", "entrypoint"] {
        service.entry(key).or_insert(Value::Null);
    }
    for key in ["environment", "labels", "annotations", "sysctls", "depends_on", "networks"] {
        if let Some(Value::Object(map)) = service.remove(key) {
            service.insert(key.into(), Value::Object(sorted(map)));
        }
    }
    Value::Object(sorted(service))
}

/// `env_file` values become `environment` entries: later files win over earlier ones and
/// `environment` wins over every file, which is the order the container would see them in.
fn inline_env_files(service: &mut Object) {
    let Some(files) = service.remove("env_file") else { return };
    let mut environment = Object::new();
    for file in files.as_array().into_iter().flatten() {
        if let Some(values) = file.get("values").and_then(Value::as_object) {
            environment.extend(values.clone());
        }
    }
    if let Some(Value::Object(own)) = service.remove("environment") {
        environment.extend(own);
    }
    service.insert("environment".into(), Value::Object(environment));
}

/// `devices` in long form: `HOST[:CONTAINER[:PERMISSIONS]]` → `{source, target, permissions}`.
fn long_devices(service: &mut Object) {
    let Some(Value::Array(devices)) = service.get_mut("devices") else { return };
    for device in devices.iter_mut() {
        let Some(text) = device.as_str() else { continue };
        let mut parts = text.splitn(3, ':');
        let source = parts.next().unwrap_or_default().to_string();
        let target = parts.next().map_or_else(|| source.clone(), String::from);
        let permissions = parts.next().unwrap_or("rwm").to_string();
        *device = serde_json::json!({ "source": source, "target": target, "permissions": permissions });
    }
}

/// `links`, `volumes_from` and `network_mode: service:x` need the other service running
/// first, so Compose adds them to `depends_on`; an explicit entry is left as written.
fn add_implicit_dependencies(service: &mut Object) {
    let implicit = implicit_dependencies(service);
    if implicit.is_empty() {
        return;
    }
    let depends_on = service.entry("depends_on").or_insert_with(|| Value::Object(Object::new()));
    let Some(depends_on) = depends_on.as_object_mut() else { return };
    for (name, restart) in implicit {
        if depends_on.contains_key(&name) {
            continue;
        }
        let mut dependency = Object::new();
        dependency.insert("condition".into(), Value::String("service_started".into()));
        if restart {
            dependency.insert("restart".into(), Value::Bool(true));
        }
        dependency.insert("required".into(), Value::Bool(true));
        depends_on.insert(name, Value::Object(dependency));
    }
}

/// Services this one depends on without saying so, each with whether Compose restarts this
/// service when that one restarts (links and a shared network namespace: yes).
fn implicit_dependencies(service: &Object) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    if let Some(mode) = service.get("network_mode").and_then(Value::as_str)
        && let Some(name) = mode.strip_prefix("service:")
    {
        found.push((name.to_string(), true));
    }
    for link in strings(service.get("links")) {
        // `service:alias`: the alias is only a host name.
        let name = link.split(':').next().unwrap_or(link);
        found.push((name.to_string(), true));
    }
    for source in strings(service.get("volumes_from")) {
        if source.starts_with("container:") {
            continue;
        }
        // `service[:ro|:rw]`, optionally written `service:name`.
        let source = source.strip_prefix("service:").unwrap_or(source);
        let name = source.split(':').next().unwrap_or(source);
        found.push((name.to_string(), false));
    }
    found
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// A service with neither `networks` nor `network_mode` is on the project's default network.
fn default_networks(service: &mut Object) {
    if service.contains_key("network_mode") {
        return;
    }
    let has_networks = service.get("networks").and_then(Value::as_object).is_some_and(|n| !n.is_empty());
    if !has_networks {
        let mut networks = Object::new();
        networks.insert("default".into(), Value::Null);
        service.insert("networks".into(), Value::Object(networks));
    }
}

/// Compose leaves out zero values: `false`, empty lists and most empty mappings.
fn drop_empty_values(service: &mut Object) {
    service.retain(|key, value| match value {
        Value::Bool(b) => *b,
        Value::Array(items) => !items.is_empty() || matches!(key.as_str(), "command" | "entrypoint"),
        Value::Object(map) => !map.is_empty() || KEPT_WHEN_EMPTY.contains(&key.as_str()),
        _ => true,
    });
}

// ---- top-level resources -------------------------------------------------------------

/// The names services use, per resource section.
#[derive(Default)]
struct Used {
    networks: BTreeSet<String>,
    volumes: BTreeSet<String>,
    secrets: BTreeSet<String>,
    configs: BTreeSet<String>,
}

impl Used {
    fn get(&self, section: &str) -> Option<&BTreeSet<String>> {
        match section {
            "networks" => Some(&self.networks),
            "volumes" => Some(&self.volumes),
            "secrets" => Some(&self.secrets),
            "configs" => Some(&self.configs),
            _ => None,
        }
    }
}

fn used_resources(services: &Object) -> Used {
    let mut used = Used::default();
    for service in services.values() {
        if let Some(networks) = service.get("networks").and_then(Value::as_object) {
            used.networks.extend(networks.keys().cloned());
        }
        for mount in service.get("volumes").and_then(Value::as_array).into_iter().flatten() {
            if mount.get("type").and_then(Value::as_str) == Some("volume") {
                used.volumes.extend(mount.get("source").and_then(Value::as_str).map(String::from));
            }
        }
        used.secrets.extend(sources(service.get("secrets")));
        used.secrets.extend(sources(service.get("build").and_then(|b| b.get("secrets"))));
        used.configs.extend(sources(service.get("configs")));
    }
    used
}

/// The `source` of each `{source, target}` reference.
fn sources(references: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    let items = references.and_then(Value::as_array).into_iter().flatten();
    items.filter_map(|r| r.get("source").and_then(Value::as_str).map(String::from))
}

/// One section with only the resources some service uses, named as Compose names them.
fn render_resources(section: &str, declared: Option<&Object>, used: &Used, project: &str) -> Object {
    let Some(used) = used.get(section) else { return Object::new() };
    let mut out = Object::new();
    for (key, resource) in declared.into_iter().flatten() {
        if used.contains(key) {
            out.insert(key.clone(), render_resource(section, key, resource, project));
        }
    }
    // The default network exists without a declaration as soon as a service is on it.
    if section == "networks" && used.contains("default") && !out.contains_key("default") {
        out.insert("default".into(), render_resource(section, "default", &Value::Null, project));
    }
    sorted(out)
}

fn render_resource(section: &str, key: &str, resource: &Value, project: &str) -> Value {
    let mut resource = resource.as_object().cloned().unwrap_or_default();
    // The reference keeps `x-*` only at the top level; in JSON it drops them elsewhere.
    resource.retain(|key, value| {
        !key.starts_with("x-")
            && match value {
                Value::Bool(b) => *b,
                Value::Object(map) => !map.is_empty(),
                Value::Null => false,
                _ => true,
            }
    });
    if !resource.contains_key("name") {
        let external = resource.get("external").and_then(Value::as_bool) == Some(true);
        // External resources exist already under their own name; the project owns the rest.
        let name = if external { key.to_string() } else { format!("{project}_{key}") };
        resource.insert("name".into(), Value::String(name));
    }
    if section == "networks" {
        resource.entry("ipam").or_insert_with(|| Value::Object(Object::new()));
    }
    Value::Object(resource)
}

// ---- scalars ------------------------------------------------------------------------

/// Scalars as Go's Compose prints them. The loader unescaped `$$` while interpolating;
/// Compose prints every `$` (in keys too) doubled so the output can be loaded again without
/// a second round of interpolation. Whole floats (`cpus: 2`) print without a fraction.
fn go_style(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(escape(text)),
        Value::Number(number) => Value::Number(whole_number(number)),
        Value::Array(items) => Value::Array(items.into_iter().map(go_style).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (escape(k), go_style(v))).collect()),
        other => other,
    }
}

fn escape(text: String) -> String {
    if text.contains('$') { text.replace('$', "$$") } else { text }
}

fn whole_number(number: serde_json::Number) -> serde_json::Number {
    match number.as_f64() {
        // Within ±2^53 every whole f64 is exactly an i64.
        Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => serde_json::Number::from(f as i64),
        _ => number,
    }
}
