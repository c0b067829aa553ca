//! Lint rules: valid Compose that will hurt on Kubernetes or in production.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node};
use crate::source::Span;

pub fn check(services: &Map, diags: &mut Diagnostics) {
    host_ports(services, diags);
    for entry in &services.entries {
        let Some(service) = entry.value.as_map() else { continue };
        duplicate_ports(&entry.key, service, diags);
        unpinned_image(service, diags);
        missing_healthcheck(&entry.key, entry.key_span, service, diags);
        secrets_in_environment(&entry.key, service, diags);
    }
    unreachable_services(services, diags);
}

/// In Compose every service reaches every other on any port; in Kubernetes a name resolves
/// only through a Service, and kompile makes one only for services that declare ports. A
/// service others depend on or address (`db:5432` in a URL) without ports would not resolve.
/// Built services are left out: their Dockerfile may EXPOSE the port.
fn unreachable_services(services: &Map, diags: &mut Diagnostics) {
    for target in &services.entries {
        let Some(map) = target.value.as_map() else { continue };
        let declares =
            ["ports", "expose"].iter().any(|k| map.get(k).and_then(Node::as_seq).is_some_and(|p| !p.is_empty()));
        if declares || map.get("build").is_some() {
            continue;
        }
        if let Some((user, span, port)) = first_user(services, &target.key) {
            let suggestion = port.map_or_else(|| "the port it listens on".to_string(), |p| format!("\"{p}\""));
            diags.push(
                Diagnostic::new(
                    Code::UnreachableService,
                    format!("`{user}` uses `{}`, which declares no ports: it gets no Service, so its name will not resolve in the cluster", target.key),
                )
                .at(span, format!("uses `{}`", target.key))
                .also(target.key_span, "declares no `ports` or `expose`")
                .help(format!("add `expose: [{suggestion}]` to `{}`", target.key)),
            );
        }
    }
}

/// The first service that depends on or addresses `name`, where, and the port it names.
fn first_user(services: &Map, name: &str) -> Option<(String, Span, Option<String>)> {
    for entry in &services.entries {
        let Some(service) = entry.value.as_map() else { continue };
        if entry.key == name {
            continue;
        }
        let environment = service.get("environment").and_then(Node::as_map);
        for variable in environment.map(|e| e.entries.as_slice()).unwrap_or_default() {
            if let Some(port) = variable.value.as_str().and_then(|v| addressed_port(v, name)) {
                return Some((entry.key.clone(), variable.value.span, Some(port)));
            }
        }
        let dependency = service.get("depends_on").and_then(Node::as_map).and_then(|d| d.entry(name));
        if let Some(dependency) = dependency {
            return Some((entry.key.clone(), dependency.key_span, None));
        }
    }
    None
}

/// `postgres://app@db:5432/app` or `db:6379` → `5432` / `6379` for host `db`.
fn addressed_port(value: &str, host: &str) -> Option<String> {
    // An empty name (reported when loading) is found everywhere and would never advance.
    if host.is_empty() {
        return None;
    }
    let bytes = value.as_bytes();
    let mut from = 0;
    while let Some(found) = value[from..].find(host) {
        let start = from + found;
        let end = start + host.len();
        let boundary = start == 0 || matches!(bytes[start - 1], b'/' | b'@' | b' ' | b',' | b'=');
        if boundary && value[end..].starts_with(':') {
            let port: String = value[end + 1..].chars().take_while(char::is_ascii_digit).collect();
            if !port.is_empty() {
                return Some(port);
            }
        }
        from = end;
    }
    None
}

fn text(map: &Map, key: &str) -> Option<String> {
    map.get(key).and_then(Node::scalar_text)
}

/// One published port: (host ip, host port, protocol).
type Published = (String, String, String);

fn host_ports(services: &Map, diags: &mut Diagnostics) {
    let mut first: BTreeMap<Published, (String, Span)> = BTreeMap::new();
    for entry in &services.entries {
        let ports = entry.value.as_map().and_then(|s| s.get("ports")).and_then(Node::as_seq).unwrap_or_default();
        for port in ports {
            let Some(map) = port.as_map() else { continue };
            let Some(published) = text(map, "published") else { continue };
            let ip = text(map, "host_ip").unwrap_or_else(|| "0.0.0.0".into());
            let key = (ip, published.clone(), text(map, "protocol").unwrap_or_else(|| "tcp".into()));
            match first.get(&key) {
                Some((other, span)) if *other != entry.key => diags.push(
                    Diagnostic::new(
                        Code::HostPortConflict,
                        format!("services `{}` and `{other}` both publish host port {published}", entry.key),
                    )
                    .at(port.span, "published again here")
                    .also(*span, format!("first published by `{other}`"))
                    .help("give each service its own host port; Compose cannot start both"),
                ),
                Some(_) => {}
                None => {
                    first.insert(key, (entry.key.clone(), port.span));
                }
            }
        }
    }
}

fn duplicate_ports(name: &str, service: &Map, diags: &mut Diagnostics) {
    let ports = service.get("ports").and_then(Node::as_seq).unwrap_or_default();
    let mut seen: BTreeMap<(String, String, String, String), Span> = BTreeMap::new();
    for port in ports {
        let Some(map) = port.as_map() else { continue };
        let key = (
            text(map, "target").unwrap_or_default(),
            text(map, "protocol").unwrap_or_default(),
            text(map, "published").unwrap_or_default(),
            text(map, "host_ip").unwrap_or_default(),
        );
        if let Some(first) = seen.get(&key) {
            diags.push(
                Diagnostic::new(Code::DuplicatePort, format!("service `{name}` lists container port {} twice", key.0))
                    .at(port.span, "listed again")
                    .also(*first, "first listed here")
                    .help("remove one of the two entries"),
            );
        } else {
            seen.insert(key, port.span);
        }
    }
}

fn unpinned_image(service: &Map, diags: &mut Diagnostics) {
    let Some(node) = service.get("image") else { return };
    let Some(image) = node.scalar_text() else { return };
    if image.contains('@') {
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(&image);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let problem = match tag {
        None | Some("") => "has no tag, so it means `latest`",
        Some("latest") => "uses the `latest` tag",
        Some(_) => return,
    };
    diags.push(
        Diagnostic::new(Code::UnpinnedImage, format!("image `{image}` {problem}"))
            .at(node.span, "unpinned")
            .help("pin a version (`postgres:16.3`) or a digest, so every node runs the same image and a rollout changes only what you changed"),
    );
}

fn missing_healthcheck(name: &str, span: Span, service: &Map, diags: &mut Diagnostics) {
    let has_ports =
        ["ports", "expose"].iter().any(|k| service.get(k).and_then(Node::as_seq).is_some_and(|p| !p.is_empty()));
    if !has_ports || service.get("healthcheck").is_some() || service.get("build").is_some() {
        return;
    }
    diags.push(
        Diagnostic::new(Code::MissingHealthcheck, format!("service `{name}` serves ports but has no healthcheck"))
            .at(span, "no readiness probe")
            .help("add a `healthcheck:`; without one, Kubernetes sends traffic and finishes rollouts before the app is ready"),
    );
}

/// Names that mean a credential. `_FILE` variables point at a file and are fine.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY"]
        .iter()
        .any(|word| upper.contains(word))
}

fn secrets_in_environment(name: &str, service: &Map, diags: &mut Diagnostics) {
    let Some(environment) = service.get("environment").and_then(Node::as_map) else { return };
    for entry in &environment.entries {
        let literal = entry.value.as_str().is_some_and(|v| !v.is_empty());
        if !literal || !looks_secret(&entry.key) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::SecretInEnvironment,
                format!("`{}` of service `{name}` looks like a secret written in the compose file", entry.key),
            )
            .at(entry.key_span, "ends up in plain text in the Deployment")
            .help("declare it under top-level `secrets:` and mount it, or read it from the environment with `${VAR}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::addressed_port;

    #[test]
    fn ports_are_read_from_addresses_of_the_host() {
        assert_eq!(addressed_port("postgres://app@db:5432/app", "db").as_deref(), Some("5432"));
        assert_eq!(addressed_port("redis:6379", "redis").as_deref(), Some("6379"));
        assert_eq!(addressed_port("http://mydb:5432", "db"), None, "only whole host names");
        assert_eq!(addressed_port("db", "db"), None, "a bare name names no port");
        assert_eq!(addressed_port("hosts=a:1,db:27017", "db").as_deref(), Some("27017"));
    }

    #[test]
    fn an_empty_host_name_addresses_nothing() {
        // `find("")` matches everywhere without advancing: this looped forever.
        assert_eq!(addressed_port("db:5432", ""), None);
    }
}
