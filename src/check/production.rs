//! Production readiness: valid Compose that will hurt on Kubernetes or in production (a host
//! port two services publish, a container port listed twice, unpinned images, no healthcheck,
//! literal secrets, services others use but cannot reach).

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
    let users = first_users(services);
    for target in &services.entries {
        let Some(map) = target.value.as_map() else { continue };
        let declares =
            ["ports", "expose"].iter().any(|k| map.get(k).and_then(Node::as_seq).is_some_and(|p| !p.is_empty()));
        if declares || map.get("build").is_some() {
            continue;
        }
        if let Some((user, span, port)) = users.get(target.key.as_str()) {
            let suggestion = port.map_or_else(|| "the port it listens on".to_string(), |p| format!("\"{p}\""));
            diags.push(
                Diagnostic::new(
                    Code::UnreachableService,
                    format!("`{user}` uses `{}`, which declares no ports: it gets no Service, so its name will not resolve in the cluster", target.key),
                )
                .at(*span, format!("uses `{}`", target.key))
                .also(target.key_span, "declares no `ports` or `expose`")
                .help(format!("add `expose: [{suggestion}]` to `{}`", target.key)),
            );
        }
    }
}

/// For every name some service uses: the first service (in file order) that addresses it in
/// an environment value or depends on it, where, and the port it names. One pass over all
/// services, so a project of many services is not scanned once per service.
fn first_users(services: &Map) -> BTreeMap<&str, (&str, Span, Option<&str>)> {
    let mut users: BTreeMap<&str, (&str, Span, Option<&str>)> = BTreeMap::new();
    for entry in &services.entries {
        let Some(service) = entry.value.as_map() else { continue };
        let user = entry.key.as_str();
        let environment = service.get("environment").and_then(Node::as_map);
        for variable in environment.map(|e| e.entries.as_slice()).unwrap_or_default() {
            let Some(value) = variable.value.as_str() else { continue };
            for (host, port) in addressed(value) {
                if host != user {
                    users.entry(host).or_insert((user, variable.value.span, Some(port)));
                }
            }
        }
        let dependencies = service.get("depends_on").and_then(Node::as_map);
        for dependency in dependencies.map(|d| d.entries.as_slice()).unwrap_or_default() {
            if dependency.key != user {
                users.entry(dependency.key.as_str()).or_insert((user, dependency.key_span, None));
            }
        }
    }
    users
}

/// Every `host:port` a value addresses, in order: `postgres://app@db:5432/app` gives
/// `("db", "5432")`. The host runs back from the `:` to the start or to one of `/ @ , =` or a
/// space; the port is the digits after it.
fn addressed(value: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut host_start = 0;
    for (i, c) in value.char_indices() {
        if matches!(c, '/' | '@' | ' ' | ',' | '=') {
            host_start = i + 1;
        } else if c == ':' {
            let rest = &value[i + 1..];
            let port = &rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())];
            if host_start < i && !port.is_empty() {
                found.push((&value[host_start..i], port));
            }
        }
    }
    found
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
                    .help("kompile's manifests bind no host ports, but `docker compose up` cannot start both: give each its own"),
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
        // `${PASSWORD}` is the fix this rule suggests: the value is not in the file.
        let literal = entry.value.as_str().is_some_and(|v| !v.is_empty()) && !entry.value.interpolated;
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
    use super::*;
    use crate::source::Sources;

    #[test]
    fn ports_are_read_from_addresses_of_the_host() {
        assert_eq!(addressed("postgres://app@db:5432/app"), [("db", "5432")]);
        assert_eq!(addressed("redis:6379"), [("redis", "6379")]);
        assert_eq!(addressed("http://mydb:5432"), [("mydb", "5432")], "only whole host names");
        assert!(addressed("db").is_empty(), "a bare name names no port");
        assert_eq!(addressed("a:b:5432"), [("a:b", "5432")], "`b` follows a `:`, not a boundary");
        assert_eq!(addressed("hosts=a:1,db:27017"), [("a", "1"), ("db", "27017")]);
    }

    fn lint(compose: &str) -> Vec<Diagnostic> {
        let mut sources = Sources::default();
        let file = sources.add(std::path::Path::new("compose.yaml"), compose);
        let mut diags = Diagnostics::default();
        let root = crate::load::yaml::parse(file, compose).expect("valid YAML");
        let services = root.as_map().and_then(|m| m.get("services")).and_then(Node::as_map).expect("services");
        check(services, &mut diags);
        diags.into_items()
    }

    /// The first user in file order is named; a service that addresses itself is no user.
    #[test]
    fn unreachable_names_the_first_user() {
        let compose = "services:\n  db: {image: postgres:16, environment: {SELF: 'db:5432'}}\n  api: {image: a:1, depends_on: {db: {}}}\n  web: {image: w:1, environment: {URL: 'postgres://u@db:5432/x'}}\n";
        let found: Vec<String> =
            lint(compose).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("`api` uses `db`"), "{found:?}");
    }

    /// Many services that use nobody raise nothing. (The old check scanned every service once
    /// per service: 100,000 services took over a minute; timing is not asserted here.)
    #[test]
    fn many_services_without_ports_raise_nothing() {
        let compose: String = std::iter::once("services:\n".to_string())
            .chain((0..2_000).map(|i| format!("  s{i}: {{image: nginx:1}}\n")))
            .collect();
        assert!(lint(&compose).iter().all(|d| d.code != Code::UnreachableService));
    }

    #[test]
    fn an_empty_host_name_addresses_nothing() {
        // A service named "" once made the search for its name loop forever.
        assert!(addressed(":5432").is_empty());
        assert!(addressed("=:1 /:2").is_empty());
    }
}
