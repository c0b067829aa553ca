//! One compose service → one [`Service`] of the model.

use std::time::Duration;

use super::built::Built;
use super::names::{is_env_name, is_qualified_name};
use super::storage::Storage;
use super::{string_map, unsupported};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::canonical::ports::parse_expose;
use crate::load::node::{Map, Node, Value};
use crate::load::units;
use crate::model::{
    EnvFromConfigMap, EnvVar, Healthcheck, Port, ProbeCommand, Protocol, Resources, Service, UpdateOrder, UpdatePolicy,
};
use crate::source::Span;

/// Kubernetes gives a rollout ten minutes before reporting it stuck; kompile says so
/// explicitly so `kompile apply` and users see the same deadline.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(600);

/// The most ports one `ports` or `expose` entry (a range) may stand for. Each port is a
/// container port and a Service port; `1-65535` would make megabytes of manifests that no
/// API server accepts in one object.
const MAX_PORTS_PER_RANGE: usize = 100;

pub struct Lowering<'a, 'b> {
    pub name: &'b str,
    pub k8s_name: String,
    pub key_span: Span,
    pub node: &'a Node,
    /// The same service, typed.
    pub typed: &'a crate::compose::Service,
    pub store: &'b mut Storage<'a>,
    pub diags: &'b mut Diagnostics,
    /// The Dockerfile's facts, when the service builds one kompile could read.
    pub built: Option<Built>,
    /// The image reference for a built service without `image` (see `crate::images`).
    pub built_image: Option<String>,
}

impl Lowering<'_, '_> {
    fn get(&self, key: &str) -> Option<&Node> {
        self.node.as_map()?.get(key)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(Node::scalar_text)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|n| n.value == Value::Bool(true))
    }

    pub fn lower(&mut self) -> Service {
        if let Some(map) = self.node.as_map() {
            unsupported::report(self.name, map, self.diags);
        }
        let replicas = self.replicas();
        let mounts = self.store.mounts(self.typed, &self.k8s_name, self.diags);
        let mut update = self.update(replicas);
        if let Some(volume) = self.store.read_write_once_volume(&mounts) {
            update.recreate = true;
            let at = self.mount_span(&volume);
            self.diags.push(
                Diagnostic::new(
                    Code::RolloutDowntime,
                    format!(
                        "service `{}` mounts ReadWriteOnce volume `{volume}`: updates stop the old pod first",
                        self.name
                    ),
                )
                .at(at, "has downtime on every update")
                .help(
                    "a ReadWriteOnce claim attaches to one node at a time, so kompile uses the Recreate strategy; \
                       set `x-kompile: {access_mode: ReadWriteMany}` on the volume if your storage supports it",
                ),
            );
        }
        let (entrypoint, command) = self.entrypoint_and_command();
        Service {
            name: self.name.to_string(),
            k8s_name: self.k8s_name.clone(),
            span: self.span(),
            image: self.image(),
            entrypoint,
            command,
            environment: self.environment(),
            env_from: self.env_from(),
            working_dir: self.text("working_dir"),
            user: self.user(),
            ports: self.ports(),
            expose: self.expose_or_exposed(),
            replicas,
            update,
            healthcheck: self.healthcheck(),
            resources: self.resources(),
            mounts,
            stop_grace_period: self.duration("stop_grace_period"),
            read_only: self.flag("read_only"),
            privileged: self.flag("privileged"),
            cap_add: self.strings("cap_add"),
            cap_drop: self.strings("cap_drop"),
            tty: self.flag("tty"),
            stdin_open: self.flag("stdin_open"),
            labels: self.labels(),
            pull_policy: self.pull_policy(),
        }
    }

    /// `pull_policy` as `imagePullPolicy`; the policies Kubernetes lacks are reported.
    fn pull_policy(&mut self) -> Option<String> {
        let node = self.get("pull_policy")?;
        let policy = node.as_str()?;
        let k8s = match policy {
            "always" => "Always",
            "never" => "Never",
            "missing" | "if_not_present" => "IfNotPresent",
            _ => {
                let span = node.span;
                self.diags.push(
                    Diagnostic::new(
                        Code::UnsupportedKey,
                        format!("`pull_policy: {policy}` of service `{}` has no Kubernetes translation", self.name),
                    )
                    .at(span, "the cluster's default pull policy applies")
                    .help("Kubernetes pulls `Always`, `IfNotPresent` or `Never`; push built images to a registry"),
                );
                return None;
            }
        };
        Some(k8s.to_string())
    }

    /// The service's key in the compose file, where service-wide problems point.
    fn span(&self) -> Span {
        self.key_span
    }

    /// Where the service mounts named volume `volume`.
    fn mount_span(&self, volume: &str) -> Span {
        let mounts = self.get("volumes").and_then(Node::as_seq).unwrap_or_default();
        let source = |m: &Node| m.as_map().and_then(|m| m.get("source")).and_then(Node::scalar_text);
        mounts.iter().find(|m| source(m).as_deref() == Some(volume)).map_or(self.key_span, |m| m.span)
    }

    /// `image`, else the name `crate::images` gave the built image (it reported a service
    /// it could not name).
    fn image(&mut self) -> String {
        self.text("image").or_else(|| self.built_image.clone()).unwrap_or_default()
    }

    /// Compose `entrypoint` and `command`. An empty `entrypoint` clears the image's
    /// ENTRYPOINT and Docker then runs the image's CMD alone; Kubernetes can only do that
    /// with the CMD as the container command, so it is taken from the Dockerfile.
    fn entrypoint_and_command(&mut self) -> (Option<Vec<String>>, Option<Vec<String>>) {
        let command = self.words("command");
        let Some(entrypoint) = self.words("entrypoint") else { return (None, command) };
        if !entrypoint.is_empty() || command.as_ref().is_some_and(|c| !c.is_empty()) {
            return (Some(entrypoint), command);
        }
        let span = self.get("entrypoint").map_or(self.key_span, |n| n.span);
        let Some(built) = &self.built else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnsupportedKey,
                    format!("service `{}` clears the image's entrypoint without a command", self.name),
                )
                .at(span, "the image's ENTRYPOINT stays in Kubernetes")
                .help("Kubernetes cannot run the image's CMD without its ENTRYPOINT; add the CMD as `command`"),
            );
            return (Some(entrypoint), command);
        };
        match built.cmd() {
            Ok(Some(cmd)) => (Some(entrypoint), Some(cmd)),
            Ok(None) => {
                self.diags.push(unknown_command(
                    self.name,
                    span,
                    "its Dockerfile sets no CMD, so Docker has nothing to run",
                ));
                (Some(entrypoint), command)
            }
            Err(base) => {
                let why = format!("its CMD comes from base image `{base}`, which kompile cannot see");
                self.diags.push(unknown_command(self.name, span, &why));
                (Some(entrypoint), command)
            }
        }
    }

    fn words(&self, key: &str) -> Option<Vec<String>> {
        Some(self.get(key)?.as_seq()?.iter().filter_map(Node::scalar_text).collect())
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.words(key).unwrap_or_default()
    }

    fn duration(&self, key: &str) -> Option<Duration> {
        units::parse_duration(&self.text(key)?)
    }

    /// Compose `labels` become pod annotations; a key Kubernetes would refuse (and that
    /// could break the YAML, like one with a line break) is reported and left out.
    fn labels(&mut self) -> std::collections::BTreeMap<String, String> {
        let mut labels = string_map(self.get("labels"));
        let node = self.node;
        let labels_node = node.as_map().and_then(|m| m.get("labels")).and_then(Node::as_map);
        let entries = labels_node.map(|m| m.entries.as_slice()).unwrap_or_default();
        for entry in entries.iter().filter(|e| !is_qualified_name(&e.key)) {
            labels.remove(&entry.key);
            self.diags.push(
                Diagnostic::new(
                    Code::InvalidLabelKey,
                    format!(
                        "label {:?} of service `{}` is not a valid Kubernetes annotation key",
                        entry.key, self.name
                    ),
                )
                .at(entry.key_span, "left out of the manifests")
                .help(
                    "keys are an optional DNS prefix and `/`, then at most 63 letters, digits, `-`, `_` and `.`, \
                     starting and ending with a letter or digit (e.g. `com.example.team`)",
                ),
            );
        }
        labels
    }

    /// Reports a variable name Kubernetes refuses; true when the name may be used.
    fn env_name_ok(&mut self, name: &str, at: Span, from: &str) -> bool {
        if is_env_name(name) {
            return true;
        }
        self.diags.push(
            Diagnostic::new(
                Code::InvalidEnvName,
                format!("environment variable {name:?} of service `{}` has a name Kubernetes refuses", self.name),
            )
            .at(at, format!("left out of the {from}"))
            .help("names are letters, digits, `_`, `-` and `.`, not starting with a digit; rename the variable"),
        );
        false
    }

    fn environment(&mut self) -> Vec<EnvVar> {
        let node = self.node;
        let Some(map) = node.as_map().and_then(|m| m.get("environment")).and_then(Node::as_map) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in &map.entries {
            if self.env_name_ok(&entry.key, entry.key_span, "container's environment") {
                out.push(EnvVar { name: entry.key.clone(), value: entry.value.scalar_text() });
            }
        }
        out
    }

    /// Every `env_file`'s values in order (later files win), as one ConfigMap.
    fn env_from(&mut self) -> Option<EnvFromConfigMap> {
        let node = self.node;
        let files = node.as_map()?.get("env_file")?.as_seq()?;
        let mut data = std::collections::BTreeMap::new();
        for file in files {
            let Some(values) = file.as_map().and_then(|m| m.get("values")).and_then(Node::as_map) else { continue };
            for entry in &values.entries {
                // A ConfigMap with such a key is refused as a whole.
                if self.env_name_ok(&entry.key, entry.key_span, "env_file ConfigMap") {
                    data.insert(entry.key.clone(), entry.value.scalar_text().unwrap_or_default());
                }
            }
        }
        if data.is_empty() {
            return None;
        }
        let k8s_name = self.store.config_map_name(&format!("{}-env", self.k8s_name));
        Some(EnvFromConfigMap { k8s_name, data })
    }

    /// Compose `user`, else a numeric USER of the Dockerfile.
    fn user(&mut self) -> Option<String> {
        if self.get("user").is_none() {
            let (user, problem) = self.built.as_ref().map(|b| b.user(self.name)).unwrap_or_default();
            if let Some(problem) = problem {
                self.diags.push(problem);
            }
            return user;
        }
        let user = self.text("user")?;
        let (uid, gid) = user.split_once(':').map_or((user.as_str(), None), |(u, g)| (u, Some(g)));
        let span = self.get("user").map_or(Span::NONE, |n| n.span);
        if let Some(gid) = gid.filter(|g| uid.parse::<u32>().is_ok() && g.parse::<u32>().is_err()) {
            self.diags.push(
                Diagnostic::new(
                    Code::NamedUser,
                    format!("group `{gid}` is a name; Kubernetes can only set numeric groups"),
                )
                .at(span, "runAsGroup needs a number; only the user id is kept")
                .help("use the numeric group id (e.g. `1000:1000`)"),
            );
        }
        if uid.parse::<u32>().is_err() {
            self.diags.push(
                Diagnostic::new(
                    Code::NamedUser,
                    format!("user `{user}` is a name; Kubernetes can only enforce numeric users"),
                )
                .at(span, "runAsUser needs a number")
                .help("use the numeric id (e.g. `1000` or `1000:1000`) so the pod can run with runAsNonRoot"),
            );
        }
        Some(user)
    }

    fn ports(&mut self) -> Vec<Port> {
        let node = self.node;
        let Some(items) = node.as_map().and_then(|m| m.get("ports")).and_then(Node::as_seq) else { return Vec::new() };
        // A range was expanded into entries that share its span.
        let mut per_range = std::collections::BTreeMap::<Span, usize>::new();
        for item in items {
            *per_range.entry(item.span).or_default() += 1;
        }
        per_range.retain(|_, count| *count > MAX_PORTS_PER_RANGE);
        for (span, count) in &per_range {
            self.diags.push(too_many_ports(self.name, *count, *span));
        }
        let mut out = Vec::new();
        for item in items.iter().filter(|i| !per_range.contains_key(&i.span)) {
            let Some(map) = item.as_map() else { continue };
            let Some(mut port) = port(map) else { continue };
            if let Some(name) = port.name.take() {
                if crate::model::is_port_name(&name) {
                    port.name = Some(name);
                } else {
                    let at = map.get("name").map_or(item.span, |n| n.span);
                    self.diags.push(
                        Diagnostic::new(
                            Code::NameChanged,
                            format!(
                                "port name `{name}` of service `{}` is not a valid Kubernetes port name",
                                self.name
                            ),
                        )
                        .at(at, "a generated name is used instead")
                        .help("port names are at most 15 lowercase letters, digits and `-`, with at least one letter"),
                    );
                }
            }
            out.push(port);
        }
        out
    }

    /// Compose ports win; a service that declares none gets the Dockerfile's EXPOSE.
    fn expose_or_exposed(&mut self) -> Vec<Port> {
        let declared = self.get("ports").is_some() || self.get("expose").is_some();
        match &self.built {
            Some(built) if !declared => {
                let ports = built.ports();
                if ports.len() > MAX_PORTS_PER_RANGE {
                    let at = self.get("build").map_or(self.key_span, |b| b.span);
                    self.diags.push(
                        too_many_ports(self.name, ports.len(), at).help(
                            "the Dockerfile EXPOSEs them; list the ports the service really serves under `expose:`",
                        ),
                    );
                    return Vec::new();
                }
                ports
            }
            _ => self.expose(),
        }
    }

    fn expose(&mut self) -> Vec<Port> {
        let mut out = Vec::new();
        let node = self.node;
        let entries = node.as_map().and_then(|m| m.get("expose")).and_then(Node::as_seq).unwrap_or_default();
        for entry in entries {
            let Some(text) = entry.scalar_text() else { continue };
            let Some((range, protocol)) = parse_expose(&text) else { continue };
            let count = range.clone().count();
            if count > MAX_PORTS_PER_RANGE {
                self.diags.push(too_many_ports(self.name, count, entry.span));
                continue;
            }
            for target in range {
                out.push(Port {
                    target,
                    published: None,
                    protocol: protocol_of(&protocol),
                    host_ip: None,
                    name: None,
                    app_protocol: None,
                });
            }
        }
        out
    }

    fn replicas(&mut self) -> u32 {
        let deploy = self.get("deploy").and_then(Node::as_map);
        let replicas = deploy.and_then(|d| d.get("replicas")).or_else(|| self.get("scale"));
        match replicas.map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).unwrap_or(1),
            _ => 1,
        }
    }

    fn update(&mut self, replicas: u32) -> UpdatePolicy {
        let config = self.get("deploy").and_then(Node::as_map).and_then(|d| d.get("update_config"));
        let map = config.and_then(Node::as_map);
        let field = |key: &str| map.and_then(|m| m.get(key));
        let parallelism = match field("parallelism").map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).unwrap_or(1),
            _ => 1,
        };
        let order = match field("order").and_then(Node::as_str) {
            Some("stop-first") => UpdateOrder::StopFirst,
            _ => UpdateOrder::StartFirst,
        };
        let seconds = |key: &str| field(key).and_then(Node::as_str).and_then(units::parse_duration);
        let min_ready = seconds("monitor").or_else(|| seconds("delay")).filter(|d| !d.is_zero());
        let progress_deadline = Some(PROGRESS_DEADLINE.saturating_add(min_ready.unwrap_or_default()));
        if order == UpdateOrder::StopFirst {
            let at = field("order").map_or(self.span(), |n| n.span);
            self.stop_first_warning(replicas, parallelism, at);
        }
        UpdatePolicy { parallelism, order, min_ready, progress_deadline, recreate: false }
    }

    fn stop_first_warning(&mut self, replicas: u32, parallelism: u32, at: Span) {
        let all_at_once = parallelism == 0 || parallelism >= replicas;
        if !all_at_once {
            return;
        }
        let message = if replicas == 1 {
            format!("`stop-first` with one replica takes service `{}` to zero ready pods on every update", self.name)
        } else {
            format!(
                "`stop-first` with parallelism {parallelism} stops all {replicas} replicas of `{}` at once",
                self.name
            )
        };
        self.diags.push(
            Diagnostic::new(Code::RolloutDowntime, message)
                .at(at, "the old pods stop before new ones are ready")
                .help("use `order: start-first` (kompile's default), or raise replicas above parallelism"),
        );
    }

    /// Compose's healthcheck over the image's, field by field, as Docker merges them: a
    /// compose healthcheck without `test` keeps the Dockerfile's test and changes its timings.
    fn healthcheck(&self) -> Option<Healthcheck> {
        let image = self.built.as_ref().and_then(Built::healthcheck);
        let Some(map) = self.get("healthcheck").and_then(Node::as_map) else { return image };
        if map.get("disable").is_some_and(|d| d.value == Value::Bool(true)) {
            return None;
        }
        let command = match map.get("test") {
            Some(test) => probe_command(test)?,
            None => image.as_ref()?.test.clone()?,
        };
        let image = image.as_ref();
        let duration = |key: &str| map.get(key).and_then(Node::as_str).and_then(units::parse_duration);
        let retries = match map.get("retries").map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).ok(),
            _ => None,
        };
        Some(Healthcheck {
            test: Some(command),
            interval: duration("interval").or(image.and_then(|i| i.interval)),
            timeout: duration("timeout").or(image.and_then(|i| i.timeout)),
            start_period: duration("start_period").or(image.and_then(|i| i.start_period)),
            start_interval: duration("start_interval").or(image.and_then(|i| i.start_interval)),
            retries: retries.or(image.and_then(|i| i.retries)),
        })
    }

    /// `deploy.resources` first, the legacy `cpus`/`mem_limit`/`mem_reservation` keys as
    /// fallback, as Compose reads them.
    fn resources(&mut self) -> Resources {
        let resources = self.get("deploy").and_then(Node::as_map).and_then(|d| d.get("resources"));
        let part = |key: &str| resources.and_then(Node::as_map).and_then(|r| r.get(key)).and_then(Node::as_map);
        let limits = part("limits");
        let reservations = part("reservations");
        let cpu_request_node = reservations.and_then(|r| r.get("cpus"));
        let memory_request_node = reservations.and_then(|r| r.get("memory")).or_else(|| self.get("mem_reservation"));
        let cpu_limit = millicores(limits.and_then(|l| l.get("cpus")).or_else(|| self.get("cpus")));
        let memory_limit = byte_count(limits.and_then(|l| l.get("memory")).or_else(|| self.get("mem_limit")));
        let cpu_request = millicores(cpu_request_node);
        let memory_request = byte_count(memory_request_node);
        let span = |node: Option<&Node>| node.map_or(self.key_span, |n| n.span);
        let (cpu_span, memory_span) = (span(cpu_request_node), span(memory_request_node));
        Resources {
            cpu_limit,
            cpu_request: self.at_most_limit(cpu_request, cpu_limit, "CPU", cpu_span),
            memory_limit,
            memory_request: self.at_most_limit(memory_request, memory_limit, "memory", memory_span),
        }
    }

    /// Kubernetes refuses a request above its limit; Docker accepts it. Lower the request
    /// to the limit, which is all the container may ever use anyway.
    fn at_most_limit(&mut self, request: Option<u64>, limit: Option<u64>, what: &str, at: Span) -> Option<u64> {
        match (request, limit) {
            (Some(request), Some(limit)) if request > limit => {
                self.diags.push(
                    Diagnostic::new(
                        Code::RequestAboveLimit,
                        format!("service `{}` reserves more {what} than its limit allows", self.name),
                    )
                    .at(at, "lowered to the limit")
                    .help("Kubernetes requires requests ≤ limits; make the reservation at most the limit"),
                );
                Some(limit)
            }
            _ => request,
        }
    }
}

fn too_many_ports(service: &str, count: usize, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidPort,
        format!("service `{service}` would get {count} ports from one range; kompile allows {MAX_PORTS_PER_RANGE}"),
    )
    .at(at, "too many ports")
    .help("each port becomes a container port and a Service port; list the ports the service really serves")
}

fn unknown_command(service: &str, at: Span, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownCommand,
        format!("service `{service}` clears the image's entrypoint without a command; {why}"),
    )
    .at(at, "Kubernetes would keep the image's ENTRYPOINT")
    .help("write the command to run as `command:` so Compose and Kubernetes run the same process")
}

/// A compose healthcheck `test`: `CMD` runs directly, `CMD-SHELL` in a shell; `NONE` is none.
fn probe_command(test: &Node) -> Option<ProbeCommand> {
    let test: Vec<String> = test.as_seq()?.iter().filter_map(Node::scalar_text).collect();
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(ProbeCommand::Exec(rest.to_vec())),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => Some(ProbeCommand::Shell(rest.join(" "))),
        _ => None,
    }
}

fn port(map: &Map) -> Option<Port> {
    let target = match map.get("target")?.value {
        Value::Int(n) => u16::try_from(n).ok()?,
        _ => return None,
    };
    let text = |key: &str| map.get(key).and_then(Node::scalar_text);
    Some(Port {
        target,
        published: text("published").and_then(|p| p.parse().ok()),
        protocol: protocol_of(&text("protocol").unwrap_or_default()),
        host_ip: text("host_ip"),
        name: text("name"),
        app_protocol: text("app_protocol"),
    })
}

pub(super) fn protocol_of(text: &str) -> Protocol {
    match text {
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => Protocol::Tcp,
    }
}

/// Cores → millicores, rounded up so a limit is never tighter than written.
fn millicores(node: Option<&Node>) -> Option<u64> {
    let cores = match node?.value {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
        _ => return None,
    };
    (cores > 0.0).then(|| (cores * 1000.0 - 1e-9).ceil() as u64)
}

fn byte_count(node: Option<&Node>) -> Option<u64> {
    node?.as_str()?.parse().ok().filter(|b| *b > 0)
}
