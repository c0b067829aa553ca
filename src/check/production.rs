//! Production readiness: valid Compose that will hurt on Kubernetes or in production (a host
//! port two services publish, a container port listed twice, unpinned images, no healthcheck,
//! literal secrets, services others use but cannot reach).

use std::collections::BTreeMap;

use crate::compose::{Service, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Port;
use crate::source::Span;

pub fn check(services: &[Service], diags: &mut Diagnostics) {
    host_ports(services, diags);
    for service in services {
        duplicate_ports(service, diags);
        unpinned_image(service, diags);
        missing_healthcheck(service, diags);
        secrets_in_environment(service, diags);
    }
    unreachable_services(services, diags);
}

/// In Compose every service reaches every other on any port; in Kubernetes a name resolves
/// only through a Service, and kompile makes one only for services that declare ports. A
/// service others depend on or address (`db:5432` in a URL) without ports would not resolve.
/// Built services are left out: their Dockerfile may EXPOSE the port.
fn unreachable_services(services: &[Service], diags: &mut Diagnostics) {
    let users = first_users(services);
    for target in services {
        if target.declares_ports() || target.build.is_some() {
            continue;
        }
        let name = target.name.as_str();
        if let Some((user, span, port)) = users.get(name) {
            let suggestion = port.map_or_else(|| "the port it listens on".to_string(), |p| format!("\"{p}\""));
            diags.push(
                Diagnostic::new(
                    Code::UnreachableService,
                    format!("`{user}` uses `{name}`, which declares no ports: it gets no Service, so its name will not resolve in the cluster"),
                )
                .at(*span, format!("uses `{name}`"))
                .also(target.name.span, "declares no `ports` or `expose`")
                .help(format!("add `expose: [{suggestion}]` to `{name}`")),
            );
        }
    }
}

/// For every name some service uses: the first service (in file order) that addresses it in
/// an environment value or depends on it, where, and the port it names. One pass over all
/// services, so a project of many services is not scanned once per service.
fn first_users(services: &[Service]) -> BTreeMap<&str, (&str, Span, Option<&str>)> {
    let mut users: BTreeMap<&str, (&str, Span, Option<&str>)> = BTreeMap::new();
    for service in services {
        let user = service.name.as_str();
        for value in service.environment.iter().filter_map(|v| v.value.as_ref()) {
            for (host, port) in addressed(value) {
                if host != user {
                    users.entry(host).or_insert((user, value.span, Some(port)));
                }
            }
        }
        for dependency in &service.depends_on {
            if dependency.service.as_str() != user {
                users.entry(dependency.service.as_str()).or_insert((user, dependency.service.span, None));
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

fn ports(service: &Service) -> &[Spanned<Port>] {
    service.ports.as_ref().map(|p| p.value.as_slice()).unwrap_or_default()
}

fn host_ports(services: &[Service], diags: &mut Diagnostics) {
    // One published port: (host ip, host port, protocol).
    let mut first: BTreeMap<(&str, u16, &str), (&str, Span)> = BTreeMap::new();
    for service in services {
        let name = service.name.as_str();
        for port in ports(service) {
            let Some(published) = port.published else { continue };
            let key = (port.host_ip.as_deref().unwrap_or("0.0.0.0"), published, port.protocol.compose_name());
            match first.get(&key) {
                Some((other, span)) if *other != name => diags.push(
                    Diagnostic::new(
                        Code::HostPortConflict,
                        format!("services `{name}` and `{other}` both publish host port {published}"),
                    )
                    .at(port.span, "published again here")
                    .also(*span, format!("first published by `{other}`"))
                    .help("kompile's manifests bind no host ports, but `docker compose up` cannot start both: give each its own"),
                ),
                Some(_) => {}
                None => {
                    first.insert(key, (name, port.span));
                }
            }
        }
    }
}

/// A container port as Compose tells two entries apart: target, protocol, host port, host ip.
type PortIdentity<'a> = (u16, &'a str, Option<u16>, Option<&'a str>);

fn duplicate_ports(service: &Service, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<PortIdentity<'_>, Span> = BTreeMap::new();
    for port in ports(service) {
        let key = (port.target, port.protocol.compose_name(), port.published, port.host_ip.as_deref());
        if let Some(first) = seen.get(&key) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicatePort,
                    format!("service `{}` lists container port {} twice", service.name.value, port.target),
                )
                .at(port.span, "listed again")
                .also(*first, "first listed here")
                .help("remove one of the two entries"),
            );
        } else {
            seen.insert(key, port.span);
        }
    }
}

fn unpinned_image(service: &Service, diags: &mut Diagnostics) {
    let Some(image) = &service.image else { return };
    if image.contains('@') {
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let problem = match tag {
        None | Some("") => "has no tag, so it means `latest`",
        Some("latest") => "uses the `latest` tag",
        Some(_) => return,
    };
    diags.push(
        Diagnostic::new(Code::UnpinnedImage, format!("image `{}` {problem}", image.value))
            .at(image.span, "unpinned")
            .help("pin a version (`postgres:16.3`) or a digest, so every node runs the same image and a rollout changes only what you changed"),
    );
}

fn missing_healthcheck(service: &Service, diags: &mut Diagnostics) {
    if !service.declares_ports() || service.healthcheck.is_some() || service.build.is_some() {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::MissingHealthcheck,
            format!("service `{}` serves ports but has no healthcheck", service.name.value),
        )
        .at(service.name.span, "no readiness probe")
        .help(
            "add a `healthcheck:`; without one, Kubernetes sends traffic and finishes rollouts before the app is ready",
        ),
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

fn secrets_in_environment(service: &Service, diags: &mut Diagnostics) {
    for variable in &service.environment {
        // `${PASSWORD}` is the fix this rule suggests: the value is not in the file.
        let literal = variable.value.as_ref().is_some_and(|v| !v.is_empty()) && !variable.interpolated;
        if !literal || !looks_secret(&variable.name) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::SecretInEnvironment,
                format!(
                    "`{}` of service `{}` looks like a secret written in the compose file",
                    variable.name.value, service.name.value
                ),
            )
            .at(variable.name.span, "ends up in plain text in the Deployment")
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
        let mut diags = Diagnostics::default();
        let environment = crate::load::Environment::default();
        let directory = std::path::Path::new("/nonexistent");
        let project = crate::load::load_str(compose, directory, &environment, &mut sources, &mut diags).expect("loads");
        let mut found = Diagnostics::default();
        check(&project.typed.services, &mut found);
        found.into_items()
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
