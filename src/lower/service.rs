//! One compose service → one [`Service`] of the model.

use std::time::Duration;

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

pub struct Lowering<'a, 'b> {
    pub name: &'b str,
    pub k8s_name: String,
    pub key_span: Span,
    pub node: &'a Node,
    pub store: &'b mut Storage<'a>,
    pub diags: &'b mut Diagnostics,
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
        let mounts = self.store.mounts(self.name, &self.k8s_name, self.node, self.diags);
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
        Service {
            name: self.name.to_string(),
            k8s_name: self.k8s_name.clone(),
            span: self.span(),
            image: self.image(),
            entrypoint: self.words("entrypoint"),
            command: self.words("command"),
            environment: self.environment(),
            env_from: self.env_from(),
            working_dir: self.text("working_dir"),
            user: self.user(),
            ports: self.ports(),
            expose: self.expose(),
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
            labels: string_map(self.get("labels")),
        }
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

    fn image(&mut self) -> String {
        if let Some(image) = self.text("image") {
            return image;
        }
        if let Some(build) = self.get("build") {
            self.diags.push(
                Diagnostic::new(
                    Code::BuildNeedsImage,
                    format!("service `{}` is built but has no image name", self.name),
                )
                .at(build.span, "built here")
                .help("add `image: registry.example.com/team/name:tag` so the cluster can pull what you push"),
            );
        }
        String::new()
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

    fn environment(&self) -> Vec<EnvVar> {
        let Some(map) = self.get("environment").and_then(Node::as_map) else { return Vec::new() };
        map.iter().map(|(name, value)| EnvVar { name: name.to_string(), value: value.scalar_text() }).collect()
    }

    /// Every `env_file`'s values in order (later files win), as one ConfigMap.
    fn env_from(&self) -> Option<EnvFromConfigMap> {
        let files = self.get("env_file")?.as_seq()?;
        let mut data = std::collections::BTreeMap::new();
        for file in files {
            let Some(values) = file.as_map().and_then(|m| m.get("values")).and_then(Node::as_map) else { continue };
            for (key, value) in values.iter() {
                data.insert(key.to_string(), value.scalar_text().unwrap_or_default());
            }
        }
        (!data.is_empty()).then(|| EnvFromConfigMap { k8s_name: format!("{}-env", self.k8s_name), data })
    }

    fn user(&mut self) -> Option<String> {
        let user = self.text("user")?;
        let uid = user.split(':').next().unwrap_or_default();
        if uid.parse::<u32>().is_err() {
            let span = self.get("user").map_or(Span::NONE, |n| n.span);
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

    fn ports(&self) -> Vec<Port> {
        let Some(items) = self.get("ports").and_then(Node::as_seq) else { return Vec::new() };
        items.iter().filter_map(|item| port(item.as_map()?)).collect()
    }

    fn expose(&self) -> Vec<Port> {
        let mut out = Vec::new();
        for text in self.strings("expose") {
            let Some((range, protocol)) = parse_expose(&text) else { continue };
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
        let progress_deadline = Some(PROGRESS_DEADLINE + min_ready.unwrap_or_default());
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

    fn healthcheck(&self) -> Option<Healthcheck> {
        let map = self.get("healthcheck")?.as_map()?;
        if map.get("disable").is_some_and(|d| d.value == Value::Bool(true)) {
            return None;
        }
        let test: Vec<String> = map.get("test")?.as_seq()?.iter().filter_map(Node::scalar_text).collect();
        let command = match test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => ProbeCommand::Exec(rest.to_vec()),
            Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => ProbeCommand::Shell(rest.join(" ")),
            _ => return None,
        };
        let duration = |key: &str| map.get(key).and_then(Node::as_str).and_then(units::parse_duration);
        let retries = match map.get("retries").map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).ok(),
            _ => None,
        };
        Some(Healthcheck {
            command,
            interval: duration("interval"),
            timeout: duration("timeout"),
            start_period: duration("start_period"),
            start_interval: duration("start_interval"),
            retries,
        })
    }

    /// `deploy.resources` first, the legacy `cpus`/`mem_limit`/`mem_reservation` keys as
    /// fallback, as Compose reads them.
    fn resources(&self) -> Resources {
        let resources = self.get("deploy").and_then(Node::as_map).and_then(|d| d.get("resources"));
        let part = |key: &str| resources.and_then(Node::as_map).and_then(|r| r.get(key)).and_then(Node::as_map);
        let limits = part("limits");
        let reservations = part("reservations");
        Resources {
            cpu_limit: millicores(limits.and_then(|l| l.get("cpus")).or_else(|| self.get("cpus"))),
            cpu_request: millicores(reservations.and_then(|r| r.get("cpus"))),
            memory_limit: byte_count(limits.and_then(|l| l.get("memory")).or_else(|| self.get("mem_limit"))),
            memory_request: byte_count(
                reservations.and_then(|r| r.get("memory")).or_else(|| self.get("mem_reservation")),
            ),
        }
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

fn protocol_of(text: &str) -> Protocol {
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
