//! Production readiness: valid Compose that will hurt on Kubernetes or in production (a host
//! port two services publish, a container port listed twice, unpinned images, no healthcheck,
//! literal secrets, services others use but cannot reach).

use std::collections::BTreeMap;

use crate::compose::{Project, Service, Spanned, addresses, workload};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Port;
use crate::source::Span;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    let services = &project.services[..];
    host_ports(services, diags);
    for service in services {
        duplicate_ports(service, diags);
        unpinned_image(service, diags);
        missing_healthcheck(service, diags);
        secrets_in_environment(service, diags);
    }
    unreachable_services(project, diags);
}

/// In Compose every service reaches every other on any port; in Kubernetes a name resolves
/// only through a Service, which needs ports. A service others depend on or link to, that
/// declares none, whose built image EXPOSEs none, and that nobody addresses with a port
/// (`db:5432` in a URL or a mounted config, which kompile learns) gets no Service. One that
/// runs to completion (a Job: `compose::workload`) is not asked for one.
fn unreachable_services(project: &Project, diags: &mut Diagnostics) {
    // Only a service without a port can be unreachable: most projects need no scan at all.
    if !project.services.iter().any(|s| addresses::lacks_ports(project, s)) {
        return;
    }
    let learned = addresses::learned_ports(project);
    if learned.values().all(|ports| !ports.is_empty()) {
        return;
    }
    let users = first_users(project);
    let waiters = workload::completion_waiters(project);
    for target in &project.services {
        let name = target.name.as_str();
        if !learned.get(name).is_some_and(Vec::is_empty) {
            continue;
        }
        // A task that runs to completion serves no one: others wait for it, not connect to it.
        if workload::runs_to_completion(target, waiters.get(name).copied()) {
            continue;
        }
        let Some((user, span)) = users.get(name) else { continue };
        // `ports: []` or `expose: []` turns the Dockerfile's EXPOSE off, as in lower.
        let written = target.ports.is_some() || target.expose.is_some();
        let declares = if target.build.is_some() && !written {
            "declares no `ports` or `expose`, and its Dockerfile EXPOSEs none"
        } else {
            "declares no `ports` or `expose`"
        };
        diags.push(
            Diagnostic::new(
                Code::UnreachableService,
                format!("`{user}` uses `{name}`, which has no port: it gets no Service, so its name will not resolve in the cluster"),
            )
            .at(*span, format!("uses `{name}`"))
            .also(target.name.span, declares)
            .help(format!("add `expose: [PORT]` to `{name}`, with the port it listens on")),
        );
    }
}

/// For every service some other one depends on, links to or names in a host variable
/// (`DB_HOST: db`, also by an extra name such as its `container_name`): the first service (in
/// file order) that does, and where. One pass over all services.
fn first_users(project: &Project) -> BTreeMap<&str, (&str, Span)> {
    // A service's own name wins over another's alias, as in name lookups everywhere.
    let extra: BTreeMap<&str, &str> = addresses::extra_names(project)
        .iter()
        .filter(|e| project.service(e.name).is_none())
        .map(|e| (e.name, project.services[e.service].name.as_str()))
        .collect();
    let mut users: BTreeMap<&str, (&str, Span)> = BTreeMap::new();
    for service in &project.services {
        let user = service.name.as_str();
        // An extra name counts as the service it names (`PG_HOST: pgcontainer`).
        let uses = addresses::named_uses(service).map(|(name, span)| (extra.get(name).copied().unwrap_or(name), span));
        for (used, span) in uses {
            if used != user {
                users.entry(used).or_insert((user, span));
            }
        }
    }
    users
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
fn secrets_in_environment(service: &Service, diags: &mut Diagnostics) {
    for variable in &service.environment {
        // `${PASSWORD}` is the fix this rule suggests: the value is not in the file.
        let literal = variable.value.as_ref().is_some_and(|v| !v.is_empty()) && !variable.interpolated;
        if !literal || !crate::compose::looks_secret(&variable.name) {
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
            .at(variable.name.span, "its value is in the file, for anyone who reads the repository")
            .help("declare it under top-level `secrets:` and mount it, or read it from the environment with `${VAR}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    fn lint(compose: &str) -> Vec<Diagnostic> {
        let mut sources = Sources::default();
        let mut diags = Diagnostics::default();
        let environment = crate::load::Environment::default();
        let directory = std::path::Path::new("/nonexistent");
        let project = crate::load::load_str(compose, directory, &environment, &mut sources, &mut diags).expect("loads");
        let mut found = Diagnostics::default();
        check(&project.typed, &mut found);
        found.into_items()
    }

    /// The first user in file order is named; a service that addresses itself is no user.
    #[test]
    fn unreachable_names_the_first_user() {
        let compose = "services:\n  db: {image: postgres:16, environment: {SELF: 'db:5432'}}\n  api: {image: a:1, depends_on: {db: {}}}\n  web: {image: w:1, links: [db], environment: {URL: 'jdbc:x://u@db/x'}}\n";
        let found: Vec<String> =
            lint(compose).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("`api` uses `db`"), "{found:?}");
    }

    /// A port another service addresses is learned, so the service is reachable; a built
    /// service whose Dockerfile kompile cannot read has no known port.
    #[test]
    fn learned_ports_make_services_reachable_and_built_ones_count() {
        let compose = "services:\n  db: {image: postgres:16}\n  app: {build: ./app}\n  api: {image: a:1, depends_on: [db, app], environment: {URL: 'postgres://u@db:5432/x'}}\n";
        let found: Vec<String> =
            lint(compose).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("`api` uses `app`"), "{found:?}");
    }

    /// A host variable names a service without a port (`DB_HOST: db`): a use, so a service
    /// nothing gives a port is reported; a URL without a port teaches the scheme's.
    #[test]
    fn host_variables_are_uses_and_urls_teach_their_scheme_port() {
        let compose = "services:\n  db: {image: mariadb:11}\n  cache: {image: redis:7}\n  worker: {image: w:1}\n  pg: {image: postgres:16, container_name: pgcontainer}\n  app: {image: a:1, environment: {WORDPRESS_DB_HOST: db, MODE: worker, REDIS_URL: 'redis://cache', PG_HOST: pgcontainer}}\n";
        let found: Vec<String> =
            lint(compose).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("`app` uses `db`"), "{found:?}");
        assert!(found[1].starts_with("`app` uses `pg`"), "by its container_name: {found:?}");
    }

    /// A service that runs to completion is waited for, not connected to: no port asked of it.
    #[test]
    fn jobs_are_not_asked_for_ports() {
        let compose = "services:\n  migrate: {image: m:1}\n  seed: {image: s:1, restart: 'no'}\n  app: {image: a:1, depends_on: {migrate: {condition: service_completed_successfully}, seed: {condition: service_started}}}\n";
        let found: Vec<String> =
            lint(compose).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert!(found.is_empty(), "{found:?}");
        let forced = compose.replace(
            "seed: {image: s:1, restart: 'no'}",
            "seed: {image: s:1, restart: 'no', x-kompile: {kind: deployment}}",
        );
        let found: Vec<String> =
            lint(&forced).into_iter().filter(|d| d.code == Code::UnreachableService).map(|d| d.message).collect();
        assert_eq!(found.len(), 1, "a Deployment is asked: {found:?}");
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
}
