//! Who addresses whom, on which port. In Compose every service reaches every other on any
//! port; in Kubernetes a name resolves only through a Service, which needs the ports. Where a
//! service declares none (no `ports`, `expose` or Dockerfile `EXPOSE`), the ports are learned
//! from how the other services address it: `host:port` in their environment values, commands
//! and the project files they mount (nginx `proxy_pass`, HAProxy `server`, `.env` files, JSON,
//! YAML, TOML), URLs without a port (the scheme's: `http://api/` is port 80), Envoy's
//! `address`/`port_value` pairs, and `DB_HOST`/`DB_PORT` variables.
//!
//! One home for both stages that need it: `check` (K118: a service others use that nothing
//! gives a port) and `lower` (the learned ports, and the note saying where each came from).

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::path::Path;

use super::{BindContents, FileSource, Project, Service, Spanned};
use crate::model::Protocol;
use crate::source::Span;

/// Where a use of `host:port` is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In a compose file: the value that holds it.
    Compose(Span),
    /// In a project file a service mounts (or a compose `config` file): the path relative
    /// to the project directory, and the line (from 1). Such files have no span.
    File { path: String, line: usize },
}

/// A port learned for a service that declares none: the first place another service uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub port: u16,
    pub protocol: Protocol,
    /// The compose service whose configuration addresses it.
    pub user: String,
    pub place: Place,
}

/// The ports others address a service on that it does not declare, each once, in the order
/// they were found (users in file order). In Compose every container port is reachable, so a
/// port clients use goes into the Service whether or not the service declares others. Every
/// service that has no port (see [`lacks_ports`]) is a key, even with nothing learned; a
/// service with ports is one only when something was.
pub fn learned_ports(project: &Project) -> BTreeMap<String, Vec<Learned>> {
    let mut learned: BTreeMap<String, Vec<Learned>> = BTreeMap::new();
    let mut known: Vec<Vec<RangeInclusive<u16>>> = Vec::with_capacity(project.services.len());
    let mut targets: HashMap<&str, usize> = HashMap::with_capacity(project.services.len());
    for (index, service) in project.services.iter().enumerate() {
        let ports = known_ports(project, service);
        if ports.is_empty() {
            learned.insert(service.name.value.clone(), Vec::new());
        }
        known.push(ports);
        targets.insert(service.name.as_str(), index);
    }
    // Extra names after service names: a service's own name wins over another's alias.
    for extra in extra_names(project) {
        targets.entry(extra.name).or_insert(extra.service);
    }
    for user in &project.services {
        let mut record = |host: &str, port: u16, protocol: Protocol, place: &mut dyn FnMut() -> Option<Place>| {
            let Some(&index) = targets.get(host) else { return };
            let target = &project.services[index];
            if target.name.value == user.name.value || known[index].iter().any(|r| r.contains(&port)) {
                return;
            }
            let ports = learned.entry(target.name.value.clone()).or_default();
            if ports.iter().all(|l| (l.port, l.protocol) != (port, protocol))
                && let Some(place) = place()
            {
                ports.push(Learned { port, protocol, user: user.name.value.clone(), place });
            }
        };
        uses(project, user, &mut record);
    }
    learned
}

/// The services a service names without a port: those it `depends_on`, links to
/// (`db:database` names `db`), and names in a host variable ([`bare_hosts`]), with where.
pub fn named_uses(service: &Service) -> impl Iterator<Item = (&str, Span)> {
    let dependencies = service.depends_on.iter().map(|d| (d.service.as_str(), d.service.span));
    let links = service.links.iter().map(|l| (l.split_once(':').map_or(l.as_str(), |(t, _)| t), l.span));
    dependencies.chain(links).chain(bare_hosts(service))
}

/// The first name of another service (its own or an extra name) that `user` connects to, and
/// where: through `depends_on`, `links`, a host variable, or an address in its configuration.
/// For the few services that need to know (those with their own `dns` servers).
pub fn first_service_used<'p>(project: &'p Project, user: &'p Service) -> Option<(String, Span)> {
    let mut names: std::collections::HashSet<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
    names.extend(extra_names(project).iter().map(|extra| extra.name));
    names.remove(user.name.as_str());
    if let Some((name, span)) = named_uses(user).find(|(n, _)| names.contains(n)) {
        return Some((name.to_string(), span));
    }
    let mut first = None;
    uses(project, user, &mut |host, _, _, place| {
        if first.is_none()
            && names.contains(host)
            && let Some(place) = place()
        {
            let span = match place {
                Place::Compose(span) => span,
                Place::File { .. } => user.name.span,
            };
            first = Some((host.to_string(), span));
        }
    });
    first
}

/// Whether a service has no port kompile knows: none in `ports` or `expose`, and (when
/// neither key is written) none its built Dockerfile EXPOSEs.
pub fn lacks_ports(project: &Project, service: &Service) -> bool {
    known_ports(project, service).is_empty()
}

/// How far a chain of `network_mode: service:` is followed.
const MAX_NETWORK_CHAIN: usize = 16;

/// The container ports a service serves on: its own, and those of the service whose network
/// it shares (`network_mode: service:X`, followed along a chain), where Docker wants the
/// ports of that network declared.
fn known_ports(project: &Project, service: &Service) -> Vec<RangeInclusive<u16>> {
    let mut ports = declared_ports(project, service);
    let mut host = service;
    for _ in 0..MAX_NETWORK_CHAIN {
        let target = host.network_mode.as_ref().and_then(|m| m.strip_prefix("service:"));
        let Some(next) = target.and_then(|name| project.service(name)) else { break };
        if next.name.value == service.name.value {
            break;
        }
        ports.extend(declared_ports(project, next));
        host = next;
    }
    ports
}

/// The container ports a service declares: `ports` and `expose`, or (when neither key is
/// written) what its built Dockerfile EXPOSEs. `ports: []` says not to take the Dockerfile's
/// ports (as lower does).
fn declared_ports(project: &Project, service: &Service) -> Vec<RangeInclusive<u16>> {
    let mut ports: Vec<RangeInclusive<u16>> =
        service.ports.iter().flat_map(|p| p.iter().map(|p| p.target..=p.target)).collect();
    ports.extend(service.expose.iter().flat_map(|e| e.iter()).map(|range| range.ports.clone()));
    let written = service.ports.is_some() || service.expose.is_some();
    if !written {
        ports.extend(image_exposes(project, service).into_iter().map(|port| port..=port));
    }
    ports
}

/// The ports the Dockerfile a service builds EXPOSEs.
fn image_exposes(project: &Project, service: &Service) -> Vec<u16> {
    let Some(build) = &service.build else { return Vec::new() };
    let name = service.name.as_str();
    let Some(file) = project.dockerfiles.iter().find(|d| d.services.iter().any(|s| s == name)) else {
        return Vec::new();
    };
    let target = build.target.as_ref().map(|t| t.value.as_str());
    let config = crate::dockerfile::image_config(&file.parsed, target, &super::to_map(&build.args));
    config.map(|c| c.expose.iter().map(|e| e.port).collect()).unwrap_or_default()
}

/// A name other than its own that reaches a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraName<'a> {
    pub name: &'a str,
    pub span: Span,
    /// What gives it: `container_name`, `hostname`, `network alias`, `links alias`.
    pub kind: &'static str,
    /// The index of the service it reaches, in `Project::services`.
    pub service: usize,
}

/// The names other than its own that reach a service: its `container_name`, `hostname` and
/// network aliases, and the aliases other services give it in `links` (`db:database`). In
/// file order, service by service, then the links.
pub fn extra_names<'a>(project: &'a Project) -> Vec<ExtraName<'a>> {
    let mut names = Vec::new();
    for (service, s) in project.services.iter().enumerate() {
        let name = |kind, n: &'a Spanned<String>| ExtraName { name: n.as_str(), span: n.span, kind, service };
        names.extend(s.container_name.iter().map(|n| name("container_name", n)));
        names.extend(s.hostname.iter().map(|n| name("hostname", n)));
        names.extend(s.networks.iter().flat_map(|n| &n.aliases).map(|n| name("network alias", n)));
    }
    if project.services.iter().all(|s| s.links.is_empty()) {
        return names;
    }
    let index: HashMap<&str, usize> = project.services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    for link in project.services.iter().flat_map(|s| &s.links) {
        let Some((target, alias)) = link.split_once(':') else { continue };
        if let Some(&service) = index.get(target) {
            names.push(ExtraName { name: alias, span: link.span, kind: "links alias", service });
        }
    }
    names
}

/// Called with a host, a port, and where they are written: made only when asked for, since
/// most hosts are no service; `None` when the place turns out to be a comment.
type Found<'a> = dyn FnMut(&str, u16, Protocol, &mut dyn FnMut() -> Option<Place>) + 'a;

/// Every `host:port` a service's configuration addresses, passed to `found` with where it is
/// written (made only when asked for: most hosts are no service).
fn uses(project: &Project, user: &Service, found: &mut Found<'_>) {
    // An image's name is asked about only for the few values that address a service.
    for variable in &user.environment {
        let Some(value) = variable.value.as_ref().filter(|v| may_address(v)) else { continue };
        let place = || (!names_an_image(&variable.name)).then_some(Place::Compose(value.span));
        scan(value, |host, port, protocol, _| found(host, port, protocol, &mut || place()));
    }
    for file in &user.env_files {
        for (key, value) in file.values.iter().filter(|(_, v)| may_address(v)) {
            let span = if key.span.is_none() { file.path.span } else { key.span };
            let place = || (!names_an_image(key)).then_some(Place::Compose(span));
            scan(value, |host, port, protocol, _| found(host, port, protocol, &mut || place()));
        }
    }
    let variables = user.environment.iter().filter_map(|v| Some((v.name.as_str(), v.value.as_ref()?)));
    host_and_port_variables(variables.map(|(name, value)| (name, value.as_str(), value.span)), found);
    for file in &user.env_files {
        let span = |key: &Spanned<String>| if key.span.is_none() { file.path.span } else { key.span };
        host_and_port_variables(file.values.iter().map(|(k, v)| (k.as_str(), v.as_str(), span(k))), found);
    }
    for argv in user.entrypoint.iter().chain(&user.command) {
        for word in argv.iter().filter(|w| may_address(w)) {
            scan(word, |host, port, protocol, _| found(host, port, protocol, &mut || Some(Place::Compose(argv.span))));
        }
    }
    project_files(project, user, &mut |bytes, path| in_file(bytes, path, found));
    for reference in &user.configs {
        if let Some(FileSource::Content(text)) = project.config(&reference.source).map(|c| &c.source) {
            scan(text, |host, port, protocol, _| found(host, port, protocol, &mut || Some(Place::Compose(text.span))));
        }
    }
}

/// Called with a file's bytes and a maker of its path relative to the project.
type VisitFile<'a> = dyn FnMut(&[u8], &dyn Fn() -> String) + 'a;

/// The project files a service reads: those it bind-mounts (what `load` shipped) and the
/// files of the compose `configs` it uses, each with its path relative to the project
/// (made only when asked for).
fn project_files(project: &Project, user: &Service, visit: &mut VisitFile<'_>) {
    for volume in &user.volumes {
        let (Some(source), Some(BindContents::Project { shipped: Ok(files), .. })) = (&volume.source, &volume.contents)
        else {
            continue;
        };
        for file in &files.files {
            let path = || {
                let full =
                    if files.single { Path::new(source).to_path_buf() } else { Path::new(source).join(&file.path) };
                relative(project, &full)
            };
            visit(&file.bytes, &path);
        }
    }
    for reference in &user.configs {
        if let Some(FileSource::File { path, bytes: Some(bytes) }) =
            project.config(&reference.source).map(|c| &c.source)
        {
            visit(bytes, &|| relative(project, Path::new(&path.value)));
        }
    }
}

/// Docker's embedded DNS server, which only containers on a Compose network can ask.
pub const DOCKER_DNS: &str = "127.0.0.11";

/// A project file a service reads that names Docker's DNS server (nginx `resolver
/// 127.0.0.11`, HAProxy `nameserver dns 127.0.0.11:53`): the first place in each file, not in
/// a comment.
pub fn docker_dns_uses(project: &Project) -> Vec<(&str, String, usize)> {
    let mut found = Vec::new();
    for user in &project.services {
        project_files(project, user, &mut |bytes, path| {
            let Ok(text) = std::str::from_utf8(bytes) else { return };
            let mut lines = Lines { text, at: 0, line: 1, commented: commented(text) };
            let ends = |at: usize| !text[at + DOCKER_DNS.len()..].starts_with(|c: char| c.is_ascii_digit());
            let first = text.match_indices(DOCKER_DNS).map(|(at, _)| at).filter(|at| ends(*at)).find_map(|at| {
                let (line, commented) = lines.seek(at);
                (!commented).then_some(line)
            });
            if let Some(line) = first {
                found.push((user.name.as_str(), path(), line));
            }
        });
    }
    found
}

/// `BACKUP_IMAGE: postgres:16`, `REDIS_VERSION`, `APP_TAG`: an image and its tag, not a
/// host and its port.
fn names_an_image(name: &str) -> bool {
    let mut words = name.split(['_', '-', '.']);
    words.any(|word| ["IMAGE", "VERSION", "TAG"].iter().any(|w| w.eq_ignore_ascii_case(word)))
}

/// `DB_HOST=db` beside `DB_PORT=5432` (any prefix and case; `HOST` or `HOSTNAME`): the way
/// many images take an address. The place is the host variable's.
fn host_and_port_variables<'v, I>(variables: I, found: &mut Found<'_>)
where
    I: Iterator<Item = (&'v str, &'v str, Span)> + Clone,
{
    for (name, host, span) in variables.clone() {
        let Some(start) = prefix(name, "HOST").or_else(|| prefix(name, "HOSTNAME")) else { continue };
        let same = |other: &str| prefix(other, "PORT").is_some_and(|p| p.eq_ignore_ascii_case(start));
        let port =
            variables.clone().find(|(other, _, _)| same(other)).and_then(|(_, p, _)| p.trim().parse::<u16>().ok());
        if let Some(port @ 1..) = port {
            found(host.trim(), port, Protocol::Tcp, &mut || Some(Place::Compose(span)));
        }
    }
}

/// The hosts a service names without a port in variables made for one (`DB_HOST: db`,
/// `WORDPRESS_DB_HOST=db`, `REDIS_ADDR`, `SMTP_SERVER`), with the value's place: uses that
/// teach no port, but whose name must resolve.
pub fn bare_hosts(service: &Service) -> impl Iterator<Item = (&str, Span)> {
    const SUFFIXES: [&str; 5] = ["HOST", "HOSTNAME", "SERVER", "ADDR", "ADDRESS"];
    service.environment.iter().filter_map(|variable| {
        let value = variable.value.as_ref()?;
        let host = value.trim();
        let named = SUFFIXES.iter().any(|suffix| prefix(&variable.name, suffix).is_some());
        (named && !host.is_empty() && host.bytes().all(is_host_byte)).then_some((host, value.span))
    })
}

/// `name` without `suffix` (compared ignoring case), when it ends with it.
fn prefix<'n>(name: &'n str, suffix: &str) -> Option<&'n str> {
    let cut = name.len().checked_sub(suffix.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(suffix)).then(|| &name[..cut])
}

fn relative(project: &Project, path: &Path) -> String {
    path.strip_prefix(&project.directory).unwrap_or(path).display().to_string()
}

/// The uses in one project file; a line commented out (`#`, `;`, `//`) is no use.
fn in_file(bytes: &[u8], path: &dyn Fn() -> String, found: &mut Found<'_>) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let mut lines = Lines { text, at: 0, line: 1, commented: commented(text) };
    scan(text, |host, port, protocol, at| {
        found(host, port, protocol, &mut || {
            let (line, commented) = lines.seek(at);
            (!commented).then(|| Place::File { path: path(), line })
        })
    });
}

/// Whether a line is a comment in the usual configuration syntaxes.
fn commented(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('#') || line.starts_with(';') || line.starts_with("//")
}

/// The line of an offset, found moving forward from the last one asked for, so a file with
/// many addresses is read once per pass, not once per address.
struct Lines<'t> {
    text: &'t str,
    at: usize,
    line: usize,
    /// Whether the line `at` is on is a comment.
    commented: bool,
}

impl Lines<'_> {
    fn seek(&mut self, offset: usize) -> (usize, bool) {
        if offset < self.at {
            *self = Lines { text: self.text, at: 0, line: 1, commented: commented(self.text) };
        }
        let passed = &self.text.as_bytes()[self.at..offset];
        if let Some(last) = passed.iter().rposition(|b| *b == b'\n') {
            self.line += passed.iter().filter(|b| **b == b'\n').count();
            self.commented = commented(&self.text[self.at + last + 1..]);
        }
        self.at = offset;
        (self.line, self.commented)
    }
}

/// Whether a short text can hold an address: most values hold neither a `:` nor a `;`, and
/// are not scanned.
fn may_address(text: &str) -> bool {
    text.bytes().any(|b| b == b':' || b == b';')
}

/// Every address in a text: `host:port` pairs, URLs without a port (the
/// scheme's), and Envoy's `address`/`port_value` pairs. An address is UDP when its URL says
/// so (`udp://syslog:514`), else TCP.
fn scan(text: &str, mut found: impl FnMut(&str, u16, Protocol, usize)) {
    let protocol = |at: usize| {
        let udp = text.get(..at).is_some_and(|before| before.ends_with("udp://"));
        if udp { Protocol::Udp } else { Protocol::Tcp }
    };
    host_ports(text, |host, port, at| found(host, port, protocol(at), at));
    urls_without_port(text, |host, port, at| found(host, port, Protocol::Tcp, at));
    address_pairs(text, |host, port, at| found(host, port, Protocol::Tcp, at));
    connection_strings(text, |host, port, at| found(host, port, Protocol::Tcp, at));
}

/// `Host=pg;Port=5432;Database=app`, `Server=tcp:mssql,1433;User Id=sa`, `Data
/// Source=sql,1433`: connection strings (ADO.NET, Npgsql, MySqlConnector) name the host and
/// its port in `key=value` parts separated by `;`. Only a written port is an address.
fn connection_strings(text: &str, mut found: impl FnMut(&str, u16, usize)) {
    if !text.contains(';') || !text.contains('=') {
        return;
    }
    let base = text.as_ptr() as usize;
    for string in text.split(['"', '\'', '\n']).filter(|s| s.contains(';')) {
        let mut host: Option<(&str, usize)> = None;
        let mut port: Option<u16> = None;
        for part in string.split(';') {
            let Some((key, value)) = part.split_once('=') else { continue };
            let (key, value) = (key.trim(), value.trim());
            if ["server", "host", "data source", "address", "addr"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                let value = value.strip_prefix("tcp:").unwrap_or(value);
                let (name, written) = value.split_once(',').unwrap_or((value, ""));
                host = Some((name.trim(), value.as_ptr() as usize - base));
                port = written.trim().parse().ok().or(port);
            } else if key.eq_ignore_ascii_case("port") {
                port = value.parse().ok();
            }
        }
        if let (Some((name, at)), Some(port @ 1..)) = (host, port)
            && !name.is_empty()
            && name.bytes().all(is_host_byte)
        {
            found(name, port, at);
        }
    }
}

/// `http://backend/api`, `proxy_pass http://app;`, `postgres://user:secret@db/app`: a URL
/// whose host has no port reaches the scheme's default port, as the client library does.
/// Schemes without a well-known port are left out.
fn urls_without_port(text: &str, mut found: impl FnMut(&str, u16, usize)) {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("://") {
        let scheme_start = bytes[..at].iter().rposition(|b| !is_scheme_byte(*b)).map_or(0, |p| p + 1);
        let Some(port) = default_port(&text[scheme_start..at]) else { continue };
        let rest = &text[at + 3..];
        // The authority ends at the path, query or fragment, or at what ends a URL in text.
        let authority_end = rest.find(['/', '?', '#', ';', ' ', '"', '\'', ',', '\n', ')']).unwrap_or(rest.len());
        let host_start = rest[..authority_end].rfind('@').map_or(0, |p| p + 1);
        let host_text = &rest[host_start..authority_end];
        let host_end = host_text.bytes().position(|b| !is_host_byte(b)).unwrap_or(host_text.len());
        // `host:port` is `host_ports`' to report; `[v6]` or `${VAR}` are no service names.
        if host_end > 0 && host_end == host_text.len() {
            found(&host_text[..host_end], port, at + 3 + host_start);
        }
    }
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// The port a client connects to when a URL of this scheme names none. A driver after `+`
/// (SQLAlchemy's `postgresql+psycopg2`, `mysql+pymysql`) and Celery's `db+` before it do not
/// change the database spoken to.
fn default_port(scheme: &str) -> Option<u16> {
    let scheme = scheme.strip_prefix("db+").unwrap_or(scheme);
    let scheme = scheme.split_once('+').map_or(scheme, |(database, _driver)| database);
    const PORTS: [(&str, u16); 22] = [
        ("http", 80),
        ("ws", 80),
        ("https", 443),
        ("wss", 443),
        ("postgres", 5432),
        ("postgresql", 5432),
        ("mysql", 3306),
        ("mariadb", 3306),
        ("redis", 6379),
        ("rediss", 6379),
        ("mongodb", 27017),
        ("amqp", 5672),
        ("amqps", 5671),
        ("nats", 4222),
        ("mqtt", 1883),
        ("memcached", 11211),
        ("ldap", 389),
        ("ldaps", 636),
        ("smtp", 25),
        ("ftp", 21),
        ("clickhouse", 9000),
        ("couchdb", 5984),
    ];
    PORTS.iter().find(|(name, _)| name.eq_ignore_ascii_case(scheme)).map(|(_, port)| *port)
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Every `host:port` in `text`, with the byte offset of the host: `postgres://app@db:5432/app`
/// gives `db`, 5432. The host is the run of letters, digits, `-`, `_` and `.` before a `:`
/// (not itself after a `:`, which would make it a port or a password); the port is 1 to 5
/// digits up to 65535, not followed by a letter, digit or `.digit` (so `nginx:1.27` is an
/// image, not an address), and not after a single `/` (`registry.example.com/app:1`).
pub fn host_ports(text: &str, mut found: impl FnMut(&str, u16, usize)) {
    let bytes = text.as_bytes();
    for (colon, _) in text.match_indices(':') {
        let start = bytes[..colon].iter().rposition(|b| !is_host_byte(*b)).map_or(0, |p| p + 1);
        if start == colon || (start > 0 && bytes[start - 1] == b':') {
            continue;
        }
        // After one `/` it is a path's or an image's last part (`registry.example.com/app:1`);
        // after `//` a URL's host.
        let after_slash = |at: usize| at > 0 && bytes[at - 1] == b'/';
        if after_slash(start) && !after_slash(start - 1) {
            continue;
        }
        let digits = bytes[colon + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let end = colon + 1 + digits;
        let next = bytes.get(end).copied();
        // `redis:7-alpine` is an image tag: a port ends the address.
        let continues = next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            || (next == Some(b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit));
        if digits == 0 || digits > 5 || continues {
            continue;
        }
        if let Ok(port @ 1..) = text[colon + 1..end].parse::<u16>() {
            found(&text[start..colon], port, start);
        }
    }
}

/// Envoy's `socket_address: {address: app, port_value: 8080}`, in YAML or JSON: an
/// `address` whose value is a bare name, and the first `port_value` after it, within a few
/// lines and before the next `address`.
fn address_pairs(text: &str, mut found: impl FnMut(&str, u16, usize)) {
    if !text.contains("port_value") {
        return;
    }
    for (at, _) in text.match_indices("address") {
        let rest = &text[at + "address".len()..];
        let Some(host) = key_value(rest) else { continue };
        let mut end = rest.len().min(300);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let window = &rest[..end];
        let window = &window[..window.find("address").unwrap_or(window.len())];
        let Some(port_at) = window.find("port_value") else { continue };
        let port = key_value(&window[port_at + "port_value".len()..]).and_then(|p| p.parse::<u16>().ok());
        if let (Some(port @ 1..), Some(offset)) = (port, rest.find(host)) {
            found(host, port, at + "address".len() + offset);
        }
    }
}

/// The value after a key (`"key": "value"`, `key: value`, `key = value`): the run of host
/// characters after the separator, quotes and spaces.
fn key_value(after_key: &str) -> Option<&str> {
    let rest = after_key.trim_start_matches(['"', '\'']).trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('='))?;
    let rest = rest.trim_start_matches([' ', '\t', '"', '\'']);
    let end = rest.bytes().position(|b| !is_host_byte(b)).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(String, u16)> {
        let mut out = Vec::new();
        scan(text, |host, port, _, _| out.push((host.to_string(), port)));
        out
    }

    #[test]
    fn ports_are_read_from_addresses_of_the_host() {
        assert_eq!(all("postgres://app@db:5432/app"), [("db".into(), 5432)]);
        assert_eq!(all("redis:6379"), [("redis".into(), 6379)]);
        assert_eq!(all("http://mydb:5432"), [("mydb".into(), 5432)], "only whole host names");
        assert!(all("db").is_empty(), "a bare name names no port");
        assert_eq!(all("http://backend/api"), [("backend".into(), 80)], "the scheme's port");
        assert_eq!(all("proxy_pass https://app;"), [("app".into(), 443)]);
        assert_eq!(all("postgresql://user:s3cret@db/app?x=1"), [("db".into(), 5432)], "after the user");
        assert_eq!(all("REDIS=redis://cache"), [("cache".into(), 6379)]);
        assert!(all("grpc://api/x myscheme://b ${SCHEME}://c http:///x").is_empty(), "no well-known port, no host");
        assert!(all("http://${HOST}/ http://[::1]/").is_empty(), "not names");
        assert!(all("a:b:5432").is_empty(), "`b` follows a `:`: a port or a password, not a host");
        assert_eq!(all("hosts=a:1,db:27017"), [("a".into(), 1), ("db".into(), 27017)]);
        assert!(all("image: nginx:1.27 postgres:16").len() == 1, "{:?}", all("image: nginx:1.27 postgres:16"));
        assert!(all("db:70000 db:0 db:5432x").is_empty());
        assert!(all("image: r.example.com/app:1 path /srv/app:80").is_empty(), "an image, a path");
        assert!(all("redis:7-alpine node:20-bookworm").is_empty(), "image tags");
    }

    #[test]
    fn an_empty_host_name_addresses_nothing() {
        // A service named "" once made the search for its name loop forever.
        assert!(all(":5432").is_empty());
        assert!(all("=:1 /:2").is_empty());
    }

    #[test]
    fn proxy_configurations_are_read() {
        let nginx = "upstream app {\n  server backend:8000;\n}\nserver {\n  location / { proxy_pass http://web:3000; }\n  location ~ \\.php$ { fastcgi_pass php:9000; }\n  location /g { grpc_pass grpc://grpc-app:50051; }\n}\n";
        let hosts: Vec<_> = all(nginx);
        let expected: Vec<(String, u16)> =
            [("backend", 8000), ("web", 3000), ("php", 9000), ("grpc-app", 50051)].map(|(h, p)| (h.into(), p)).into();
        assert_eq!(hosts, expected);
        assert_eq!(all("backend be\n    server s1 app:8080 check\n"), [("app".into(), 8080)]);
        assert_eq!(
            all("[[http.services.x.loadBalancer.servers]]\nurl = \"http://app:8080\"\n"),
            [("app".into(), 8080)]
        );
        assert_eq!(all("{\"upstream\": \"api:9000\"}"), [("api".into(), 9000)]);
        assert_eq!(all("API_URL=api:9000\n"), [("api".into(), 9000)]);
        assert_eq!(all("Host=pg;Port=5432;Database=app;Password=x"), [("pg".into(), 5432)]);
        assert_eq!(all("{\"Default\": \"Server=tcp:mssql,1433;User Id=sa\"}"), [("mssql".into(), 1433)]);
        assert_eq!(all("Data Source=sqldata, 1433;Initial Catalog=x"), [("sqldata".into(), 1433)]);
        assert!(all("Server=sqldata;Database=x;").is_empty(), "no port written");
    }

    #[test]
    fn envoy_socket_addresses_are_read() {
        let yaml = "address:\n  socket_address:\n    address: app\n    port_value: 8080\n";
        assert_eq!(all(yaml), [("app".into(), 8080)]);
        let inline = "socket_address: {address: web, port_value: 80}";
        assert_eq!(all(inline), [("web".into(), 80)]);
        let json = "{\"socket_address\": {\"address\": \"api\", \"port_value\": 9000}}";
        assert_eq!(all(json), [("api".into(), 9000)]);
        let listener = "socket_address: {address: 0.0.0.0, port_value: 10000}";
        assert_eq!(all(listener), [("0.0.0.0".into(), 10000)], "not a name; the caller looks it up");
    }

    #[test]
    fn text_that_is_not_ascii_is_read_without_panics() {
        let text = format!("address: app \n{}port_value: 80\né:1 ä.b:2 x:3é", "é".repeat(200));
        assert!(all(&text).iter().all(|(host, _)| host != "app"), "`port_value` is too far from `address`");
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                all(&text[..cut]);
                all(&text[cut..]);
            }
        }
    }

    #[test]
    fn commented_lines_in_files_are_no_use() {
        let mut found = Vec::new();
        let text = "# proxy_pass http://old:80;\nproxy_pass http://new:81;\n  ; x a:1\nsocket_address: {address: envoy, port_value: 82}\n// b:2\nc:3 # d:4\n";
        in_file(text.as_bytes(), &|| "f".to_string(), &mut |host, port, _, place| {
            if let Some(Place::File { line, .. }) = place() {
                found.push((host.to_string(), port, line));
            }
        });
        let expected: Vec<(String, u16, usize)> =
            [("new", 81, 2), ("c", 3, 6), ("d", 4, 6), ("envoy", 82, 4)].map(|(h, p, l)| (h.into(), p, l)).into();
        assert_eq!(found, expected, "the Envoy pass reads the file again from the start");
    }

    fn project(text: &str) -> Project {
        let mut sources = crate::source::Sources::default();
        let mut diags = crate::diag::Diagnostics::default();
        let environment = crate::load::Environment::default();
        let directory = Path::new("/nonexistent/addresses");
        crate::load::load_str(text, directory, &environment, &mut sources, &mut diags).expect("loads").typed
    }

    fn ports(learned: &BTreeMap<String, Vec<Learned>>, name: &str) -> Vec<(u16, String)> {
        learned[name].iter().map(|l| (l.port, l.user.clone())).collect()
    }

    #[test]
    fn ports_are_learned_by_name_and_extra_name_from_other_services() {
        let text = "services:\n  api:\n    image: a:1\n    container_name: backend\n    environment: {SELF: 'api:1'}\n  web:\n    image: w:1\n    ports: ['80:80']\n    environment: {A: 'http://api:8000', B: 'backend:8001', C: 'api:8000'}\n    links: ['cache:memo']\n  worker:\n    image: w:1\n    entrypoint: [run, --redis=memo:6379]\n    configs: [settings]\n  cache:\n    image: redis:7\n  db:\n    image: postgres:16\n    networks: {default: {aliases: [web]}}\nconfigs:\n  settings:\n    content: '{\"db\": \"db:5432\"}'\n";
        let project = project(text);
        let learned = learned_ports(&project);
        assert_eq!(learned.keys().collect::<Vec<_>>(), ["api", "cache", "db", "worker"], "`web` has ports");
        let web = || "web".to_string();
        assert_eq!(ports(&learned, "api"), [(8000, web()), (8001, web())], "once per port; not from itself");
        assert_eq!(ports(&learned, "cache"), [(6379, "worker".to_string())], "by a links alias");
        assert_eq!(ports(&learned, "db"), [(5432, "worker".to_string())], "from a config's content");
        assert!(ports(&learned, "worker").is_empty());
        assert!(matches!(learned["cache"][0].place, Place::Compose(span) if !span.is_none()));
    }

    /// In Compose every container port is reachable: a port clients use that the service does
    /// not declare is learned beside the declared ones; a declared one, or an image tag, is not.
    #[test]
    fn ports_used_beyond_the_declared_ones_are_learned() {
        let text = "services:\n  kafka:\n    image: k:1\n    hostname: broker\n    ports: ['9092:9092']\n    expose: ['9990-9999']\n  registry:\n    image: r:1\n    environment: {SERVERS: 'broker:29092,kafka:9092,kafka:9995', BACKUP_IMAGE: 'kafka:16', STAGING_URL: 'http://kafka:8080'}\n";
        let learned = learned_ports(&project(text));
        let registry = || "registry".to_string();
        assert_eq!(ports(&learned, "kafka"), [(29092, registry()), (8080, registry())]);
        assert!(learned["registry"].is_empty(), "no port and nobody uses it: a key with nothing learned");
    }

    /// Airflow's stock file: SQLAlchemy and Celery URLs name a driver beside the database.
    #[test]
    fn a_driver_in_the_scheme_keeps_the_databases_port() {
        let text = "services:\n  postgres:\n    image: postgres:16\n  mysql:\n    image: mysql:8\n  app:\n    image: a:1\n    environment: {SQL: 'postgresql+psycopg2://u:p@postgres/a', RESULTS: 'db+postgresql://u:p@postgres/a', MY: 'mysql+pymysql://u@mysql/d'}\n";
        let learned = learned_ports(&project(text));
        assert_eq!(learned["postgres"].iter().map(|l| l.port).collect::<Vec<_>>(), [5432]);
        assert_eq!(learned["mysql"].iter().map(|l| l.port).collect::<Vec<_>>(), [3306]);
    }

    #[test]
    fn a_udp_url_teaches_a_udp_port() {
        let text = "services:\n  syslog:\n    image: s:1\n  app:\n    image: a:1\n    environment: {SYSLOG: 'udp://syslog:514', METRICS: 'syslog:9100'}\n";
        let learned = learned_ports(&project(text));
        let found: Vec<(u16, Protocol)> = learned["syslog"].iter().map(|l| (l.port, l.protocol)).collect();
        assert_eq!(found, [(514, Protocol::Udp), (9100, Protocol::Tcp)]);
    }

    #[test]
    fn host_and_port_variables_are_an_address() {
        let text = "services:\n  db:\n    image: postgres:16\n  web:\n    image: w:1\n    environment: {db_host: db, DB_PORT: '5432', CACHE_HOST: db, OTHER_PORT: '1', X_HOSTNAME: db, X_PORT: nope}\n";
        let learned = learned_ports(&project(text));
        assert_eq!(ports(&learned, "db"), [(5432, "web".to_string())], "the prefix must match; the port be a number");
    }

    #[test]
    fn a_built_service_that_exposes_has_ports() {
        let text = "services:\n  app:\n    build: ./app\n  web:\n    image: w:1\n    environment: {A: 'app:80'}\n";
        let mut project = project(text);
        assert!(lacks_ports(&project, &project.services[0]), "no Dockerfile was read: no EXPOSE known");
        let parsed = crate::dockerfile::parse("FROM scratch\nEXPOSE 80\n");
        let file = crate::source::Span::NONE.file;
        let path = "/nonexistent/addresses/app/Dockerfile".into();
        project.dockerfiles.push(super::super::BuildFile {
            path,
            file,
            parsed,
            services: vec!["app".into()],
            ignore: Default::default(),
            silences: Default::default(),
        });
        assert!(!lacks_ports(&project, &project.services[0]));
        assert!(!learned_ports(&project).contains_key("app"));
    }
}
