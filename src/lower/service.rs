//! One compose service → one [`Service`] of the model.

use std::time::Duration;

use super::built::Built;
use super::storage::Storage;
use super::unsupported;
use crate::compose;
use crate::compose::addresses::{Learned, Place};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{
    EnvFromConfigMap, EnvVar, Exposure, Healthcheck, HostAlias, Port, ProbeCommand, Resources, SecretEnv, Service,
    UpdateOrder, UpdatePolicy, WorkloadKind,
};
use crate::names::{is_env_name, is_qualified_name};
use crate::source::Span;

/// Kubernetes gives a rollout ten minutes before reporting it stuck; kompile says so
/// explicitly so `kompile apply` and users see the same deadline.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(600);

/// The most ports one `ports` or `expose` entry (a range) may stand for. Each port is a
/// container port and a Service port; `1-65535` would make megabytes of manifests that no
/// API server accepts in one object.
const MAX_PORTS_PER_RANGE: usize = 100;

pub struct Lowering<'a, 'b> {
    pub service: &'a compose::Service,
    /// The service's `environment`, moved out of it (see [`super::lower`]).
    pub environment: Vec<compose::EnvVar>,
    pub k8s_name: String,
    pub store: &'b mut Storage<'a>,
    pub networks: &'b super::network::Networks<'a>,
    pub diags: &'b mut Diagnostics,
    /// The Dockerfile's facts, when the service builds one kompile could read.
    pub built: Option<Built>,
    /// The image reference for a built service without `image` (see `crate::images`).
    pub built_image: Option<String>,
    /// The ports others address the service on, when it has none of its own.
    pub learned: Vec<Learned>,
    /// The project's `x-kompile` block: defaults for every service.
    pub project: &'a compose::ProjectSettings,
    /// Which environment values go into the Secret rather than the pod template.
    pub secret_values: &'b compose::SecretValues,
    /// The first service that waits for this one to complete, and where it says so.
    pub waiter: Option<(&'a str, Span)>,
    /// The service whose pod runs this one, when it is another's (`sidecars::Pods`).
    pub pod: Option<&'a str>,
    /// The settings the service's Kompose labels stand for (`kompose::settings`), read once
    /// for every stage of `lower` that needs them.
    pub labels: &'b compose::ServiceSettings,
}

impl<'a> Lowering<'a, '_> {
    /// The compose service name.
    fn name(&self) -> &'a str {
        &self.service.name.value
    }

    pub fn lower(&mut self) -> Service {
        let service = self.service;
        let sidecar = self.pod.is_some();
        let labels = self.labels;
        let choice = super::workload::choose(service, labels, self.waiter, self.diags);
        unsupported::report(service, choice.kind, self.diags);
        let replicas = service.replicas();
        // A ReadWriteOnce volume's rollout is decided once every service's mounts are known
        // (`workload::claims`).
        let copy_up = super::copy_up::plan(service, self.built.as_ref(), self.store.project(), self.diags);
        let mut mounts = self.store.mounts(service, &self.k8s_name, &copy_up, self.diags);
        let base = super::built::base_image(self.built.as_ref(), service);
        let base = base.as_deref();
        let no_env = std::collections::BTreeMap::new();
        let image_env = self.built.as_ref().map_or(&no_env, |b| &b.config.env);
        let data_variables =
            self.store.data_directories(service, base, image_env, &self.environment, &mut mounts, self.diags);
        super::runtime::shm(service, &mut mounts);
        let seeds = super::copy_up::seeds(&copy_up, service, &mounts, self.diags);
        let update = self.update(replicas, choice.kind);
        let (entrypoint, command) = self.entrypoint_and_command();
        let (entrypoint, command) = (entrypoint.map(kubelet_literals), command.map(kubelet_literals));
        let (mut environment, env_from, secret_env) = self.environment();
        for (name, value) in data_variables {
            environment.retain(|var| var.name != name);
            environment.push(EnvVar { name, value: Some(value) });
        }
        let ports = self.ports();
        let (networks, mut isolation) = self.networks.of(service, &ports);
        let (hostname, subdomain) = super::dns::hostname(service, self.diags);
        super::traefik::report(service, self.diags);
        let expose = self.expose_or_exposed(choice.kind);
        // A sidecar's ports are its pod's, exposed as the pod's service says (`sidecars`
        // reports the sidecar's own exposure settings as dropped).
        let exposure = if sidecar {
            Exposure::default()
        } else {
            super::expose::Exposing {
                service,
                k8s_name: &self.k8s_name,
                project: self.project,
                labels,
                ports: &ports,
                expose: &expose,
                diags: self.diags,
            }
            .exposure()
        };
        let workload = super::workload::workload(service, labels, &choice, &self.k8s_name, self.diags);
        super::network::admit_ingress(&mut isolation, &exposure);
        let user = self.user();
        let setting = service.settings.fs_group.or(labels.fs_group).map(|g| g.value);
        // Without a user of its own, the image's known user (a pulled image, or a built one's base).
        let known =
            if user.is_none() { base.filter(|image| super::storage::image_user(image).is_some()) } else { None };
        let runs_as = user.as_deref().or_else(|| known.and_then(super::storage::image_user));
        let fs_group = super::storage::fs_group(&mounts, runs_as, setting);
        // A sidecar's pod takes its `fsGroup` from the pod's service, which reports it.
        if setting.is_none() && !sidecar {
            super::storage::report_fs_group(service, &mounts, fs_group, known, self.diags);
        }
        Service {
            name: self.name().to_string(),
            k8s_name: self.k8s_name.clone(),
            span: self.span(),
            image: self.image(),
            entrypoint,
            command,
            environment,
            env_from,
            secret_env,
            working_dir: service.working_dir.as_ref().map(|w| w.value.clone()),
            user: user.clone(),
            fs_group,
            ports,
            expose,
            replicas,
            update,
            healthcheck: self.healthcheck(),
            resources: self.resources(),
            mounts,
            seeds,
            stop_grace_period: service.stop_grace_period.as_ref().map(|d| d.value),
            read_only: service.read_only,
            privileged: service.privileged,
            cap_add: service.cap_add.clone(),
            cap_drop: service.cap_drop.clone(),
            tty: service.tty,
            stdin_open: service.stdin_open,
            labels: self.labels(),
            pull_policy: self.pull_policy(),
            host_aliases: self.host_aliases(),
            aliases: Vec::new(),
            networks,
            isolation,
            dns: super::dns::dns_config(service, self.diags),
            hostname,
            subdomain,
            exposure,
            workload,
            waits: Vec::new(),
            runtime: self.runtime(labels),
            // Decided once the pods are whole: `availability::assign`.
            availability: Default::default(),
            pod_of: None,
            sidecars: Vec::new(),
        }
    }

    fn runtime(&mut self, labels: &compose::ServiceSettings) -> crate::model::Runtime {
        let (service, project) = (self.service, self.project);
        super::runtime::RuntimeLowering { service, project, labels, diags: self.diags }.lower()
    }

    /// `extra_hosts` as the pod's `hostAliases`, grouped by address. Kubernetes needs an IP
    /// address; Docker's `host-gateway` (the host running Docker) has no counterpart on a
    /// cluster, so such an entry is reported and left out.
    fn host_aliases(&mut self) -> Vec<HostAlias> {
        let mut aliases: Vec<HostAlias> = Vec::new();
        for entry in &self.service.extra_hosts {
            let (host, address) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
            let ip = address.trim_start_matches('[').trim_end_matches(']');
            if ip.parse::<std::net::IpAddr>().is_err() {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnsupportedKey,
                        format!("`extra_hosts` entry `{host}` → `{address}` of service `{}` is not an IP address Kubernetes can use", self.name()),
                    )
                    .at(entry.span, "left out of hostAliases")
                    .help("hostAliases need an IP address; reach the Docker host's services through a Service (type ExternalName) instead"),
                );
                continue;
            }
            match aliases.iter_mut().find(|a| a.ip == ip) {
                Some(alias) => alias.hostnames.push(host.to_string()),
                None => aliases.push(HostAlias { ip: ip.to_string(), hostnames: vec![host.to_string()] }),
            }
        }
        aliases
    }

    /// `pull_policy` as `imagePullPolicy`; the policies Kubernetes lacks are reported.
    fn pull_policy(&mut self) -> Option<String> {
        let policy = self.service.pull_policy.as_ref()?;
        let k8s = match policy.as_str() {
            "always" => "Always",
            "never" => "Never",
            "missing" | "if_not_present" => "IfNotPresent",
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnsupportedKey,
                        format!(
                            "`pull_policy: {}` of service `{}` has no Kubernetes translation",
                            policy.value,
                            self.name()
                        ),
                    )
                    .at(policy.span, "the cluster's default pull policy applies")
                    .help("Kubernetes pulls `Always`, `IfNotPresent` or `Never`; push built images to a registry"),
                );
                return None;
            }
        };
        Some(k8s.to_string())
    }

    /// The service's key in the compose file, where service-wide problems point.
    fn span(&self) -> Span {
        self.service.name.span
    }

    /// `image`, else the name `crate::images` gave the built image (it reported a service
    /// it could not name).
    fn image(&mut self) -> String {
        let image = self.service.image.as_ref().map(|i| i.value.clone());
        image.or_else(|| self.built_image.clone()).unwrap_or_default()
    }

    /// Compose `entrypoint` and `command`. An empty `entrypoint` clears the image's
    /// ENTRYPOINT and Docker then runs the image's CMD alone; Kubernetes can only do that
    /// with the CMD as the container command, so it is taken from the Dockerfile.
    fn entrypoint_and_command(&mut self) -> (Option<Vec<String>>, Option<Vec<String>>) {
        let command = self.service.command.as_ref().map(|c| c.value.clone());
        let Some(written) = &self.service.entrypoint else { return (None, command) };
        let entrypoint = written.value.clone();
        if !entrypoint.is_empty() || command.as_ref().is_some_and(|c| !c.is_empty()) {
            return (Some(entrypoint), command);
        }
        let span = written.span;
        let Some(built) = &self.built else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnsupportedKey,
                    format!("service `{}` clears the image's entrypoint without a command", self.name()),
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
                    self.name(),
                    span,
                    "its Dockerfile sets no CMD, so Docker has nothing to run",
                ));
                (Some(entrypoint), command)
            }
            Err(base) => {
                let why = format!("its CMD comes from base image `{base}`, which kompile cannot see");
                self.diags.push(unknown_command(self.name(), span, &why));
                (Some(entrypoint), command)
            }
        }
    }

    /// Compose `labels` become pod annotations; a key Kubernetes would refuse (and that
    /// could break the YAML, like one with a line break) is reported and left out.
    fn labels(&mut self) -> std::collections::BTreeMap<String, String> {
        let mut labels = compose::to_map(&self.service.labels);
        // Kompose's labels are settings (see `kompose`), read or reported there.
        labels.retain(|key, _| !key.starts_with(super::kompose::PREFIX));
        for (key, _) in self.service.labels.iter().filter(|(k, _)| !is_qualified_name(k)) {
            labels.remove(&key.value);
            self.diags.push(
                Diagnostic::new(
                    Code::InvalidLabelKey,
                    format!(
                        "label {:?} of service `{}` is not a valid Kubernetes annotation key",
                        key.value,
                        self.name()
                    ),
                )
                .at(key.span, "left out of the manifests")
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
                format!("environment variable {name:?} of service `{}` has a name Kubernetes refuses", self.name()),
            )
            .at(at, format!("left out of the {from}"))
            .help("names are letters, digits, `_`, `-` and `.`, not starting with a digit; rename the variable"),
        );
        false
    }

    /// `environment` and the `env_file`s: plain values in the container and a ConfigMap,
    /// secret ones (see `compose::SecretValues::is_secret`: by name, a URL's password, or
    /// another secret value inside) in one Secret, never in the pod template or a ConfigMap.
    fn environment(&mut self) -> (Vec<EnvVar>, Option<EnvFromConfigMap>, Option<SecretEnv>) {
        let settings = &self.service.settings;
        let secret_values = self.secret_values;
        let mut secrets = std::collections::BTreeMap::new();
        let mut data = std::collections::BTreeMap::new();
        for file in &self.service.env_files {
            for (key, value) in &file.values {
                // A ConfigMap with such a key is refused as a whole.
                if self.env_name_ok(key, key.span, "env_file ConfigMap") {
                    // A later file's value wins wherever it goes: an earlier one of the other
                    // kind must not be left for `envFrom` to take.
                    let (into, other) = if secret_values.is_secret(settings, key, value) {
                        (&mut secrets, &mut data)
                    } else {
                        (&mut data, &mut secrets)
                    };
                    other.remove(&key.value);
                    into.insert(key.value.clone(), value.clone());
                }
            }
        }
        let mut out = Vec::new();
        for var in std::mem::take(&mut self.environment) {
            if !self.env_name_ok(&var.name, var.name.span, "container's environment") {
                continue;
            }
            let value = match var.value {
                // Taken from the Secret by name: the value stays out of the pod template.
                Some(value) if secret_values.is_secret(settings, &var.name, &value) => {
                    secrets.insert(var.name.value.clone(), value.value);
                    Some(String::new())
                }
                // This value wins (Compose's later one): the container must not take an
                // env_file's, or an earlier entry's, secret value of the same name by name.
                Some(value) => {
                    secrets.remove(&var.name.value);
                    Some(kubelet_literal(value.value))
                }
                None => None,
            };
            out.push(EnvVar { name: var.name.value, value });
        }
        let env_from = (!data.is_empty()).then(|| EnvFromConfigMap {
            k8s_name: self.store.config_map_name(&format!("{}-env", self.k8s_name)),
            data,
        });
        let secret_env = (!secrets.is_empty()).then(|| SecretEnv {
            k8s_name: self.store.env_secret_name(&format!("{}-secret-env", self.k8s_name)),
            data: secrets,
        });
        (out, env_from, secret_env)
    }

    /// Compose `user`, else a numeric USER of the Dockerfile.
    fn user(&mut self) -> Option<String> {
        let Some(written) = &self.service.user else {
            let (user, problem) = self.built.as_ref().map(|b| b.user(self.name())).unwrap_or_default();
            if let Some(problem) = problem {
                self.diags.push(problem);
            }
            return user;
        };
        let (user, span) = (written.value.clone(), written.span);
        let (uid, gid) = user.split_once(':').map_or((user.as_str(), None), |(u, g)| (u, Some(g)));
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
        let Some(items) = &self.service.ports else { return Vec::new() };
        // A range was expanded into entries that share its span.
        let mut per_range = std::collections::BTreeMap::<Span, usize>::new();
        for item in items.iter() {
            *per_range.entry(item.span).or_default() += 1;
        }
        per_range.retain(|_, count| *count > MAX_PORTS_PER_RANGE);
        for (span, count) in &per_range {
            self.diags.push(too_many_ports(self.name(), *count, *span));
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate().filter(|(_, i)| !per_range.contains_key(&i.span)) {
            let mut port = item.value.clone();
            if let Some(name) = port.name.take() {
                if crate::model::is_port_name(&name) {
                    port.name = Some(name);
                } else {
                    let at = self.service.port_name_spans.get(index).copied().flatten().unwrap_or(item.span);
                    self.diags.push(
                        Diagnostic::new(
                            Code::NameChanged,
                            format!(
                                "port name `{name}` of service `{}` is not a valid Kubernetes port name",
                                self.name()
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

    /// Compose ports win; a service that declares none gets the Dockerfile's EXPOSE, else the
    /// ports others address it on (but for one that runs to completion: a task serves no one).
    fn expose_or_exposed(&mut self, kind: WorkloadKind) -> Vec<Port> {
        // `ports: []` declares no port, but says not to take the Dockerfile's.
        let declared = self.service.ports.is_some() || self.service.expose.is_some();
        let mut ports =
            match &self.built {
                Some(built) if !declared => {
                    let ports = built.ports();
                    if ports.len() > MAX_PORTS_PER_RANGE {
                        let at = self.service.build.as_ref().map_or(self.span(), |b| b.span);
                        self.diags.push(too_many_ports(self.name(), ports.len(), at).help(
                            "the Dockerfile EXPOSEs them; list the ports the service really serves under `expose:`",
                        ));
                        return Vec::new();
                    }
                    ports
                }
                _ => self.expose(),
            };
        if !self.learned.is_empty() && !kind.runs_to_completion() {
            let declares_others = self.service.declares_ports() || !ports.is_empty();
            ports.extend(self.learned_ports(declares_others));
        }
        ports
    }

    /// The learned ports, with a note saying where each was found: a port kompile took from
    /// a configuration file should not go unsaid.
    fn learned_ports(&mut self, declares_others: bool) -> Vec<Port> {
        // Docker refuses ports on a service that shares another's network: they are declared
        // on the pod's service.
        let shares_network = self.service.network_mode.as_ref().is_some_and(|m| m.starts_with("service:"));
        let declare_on = self.pod.filter(|_| shares_network);
        self.diags.push(learned_note(self.name(), self.span(), &self.learned, declares_others, declare_on));
        let port = |l: &Learned| Port {
            target: l.port,
            published: None,
            protocol: l.protocol,
            host_ip: None,
            name: None,
            app_protocol: None,
        };
        self.learned.iter().map(port).collect()
    }

    fn expose(&mut self) -> Vec<Port> {
        let mut out = Vec::new();
        let entries = self.service.expose.as_ref().map(|e| e.value.as_slice()).unwrap_or_default();
        for entry in entries {
            let count = entry.ports.clone().count();
            if count > MAX_PORTS_PER_RANGE {
                self.diags.push(too_many_ports(self.name(), count, entry.span));
                continue;
            }
            for target in entry.ports.clone() {
                out.push(Port {
                    target,
                    published: None,
                    protocol: entry.protocol,
                    host_ip: None,
                    name: None,
                    app_protocol: None,
                });
            }
        }
        out
    }

    /// Compose `update_config` as a rollout; what it costs is said for a Deployment (a
    /// StatefulSet's is said once its claims are known, other kinds have none like it).
    fn update(&mut self, replicas: u32, kind: WorkloadKind) -> UpdatePolicy {
        let config = self.service.deploy.update_config.as_ref().map(|c| &c.value);
        let parallelism = config.and_then(|c| c.parallelism).unwrap_or(1);
        let order_written = config.and_then(|c| c.order.as_ref());
        let order = match order_written.map(|o| o.as_str()) {
            Some("stop-first") => UpdateOrder::StopFirst,
            _ => UpdateOrder::StartFirst,
        };
        let min_ready = config.and_then(|c| c.monitor.or(c.delay)).filter(|d| !d.is_zero());
        let progress_deadline = Some(PROGRESS_DEADLINE.saturating_add(min_ready.unwrap_or_default()));
        if order == UpdateOrder::StopFirst && kind == WorkloadKind::Deployment {
            let at = order_written.map_or(self.span(), |o| o.span);
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
            format!("`stop-first` with one replica takes service `{}` to zero ready pods on every update", self.name())
        } else {
            format!(
                "`stop-first` with parallelism {parallelism} stops all {replicas} replicas of `{}` at once",
                self.name()
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
        let Some(written) = &self.service.healthcheck else { return image };
        let command = match &written.test {
            // `NONE`, `disable: true`, or a test kompile cannot run.
            Some(ProbeCommand::None) => return None,
            Some(test) => test.clone(),
            None => image.as_ref()?.test.clone()?,
        };
        let image = image.as_ref();
        Some(Healthcheck {
            test: Some(command),
            interval: written.interval.or(image.and_then(|i| i.interval)),
            timeout: written.timeout.or(image.and_then(|i| i.timeout)),
            start_period: written.start_period.or(image.and_then(|i| i.start_period)),
            start_interval: written.start_interval.or(image.and_then(|i| i.start_interval)),
            retries: written.retries.or(image.and_then(|i| i.retries)),
        })
    }

    /// `deploy.resources` first, the legacy `cpus`/`mem_limit`/`mem_reservation` keys as
    /// fallback, as Compose reads them (a zero is no value, and the legacy key applies).
    fn resources(&mut self) -> Resources {
        let service = self.service;
        let (limits, reservations) = (&service.deploy.resources.limits, &service.deploy.resources.reservations);
        let cpu_limit = millicores(limits.cpus.as_ref().or(service.cpus.as_ref()));
        let memory_limit = limits.memory.as_ref().or(service.mem_limit.as_ref()).map(|m| m.value);
        let cpu_request_written = reservations.cpus.as_ref();
        let memory_request_written = reservations.memory.as_ref().or(service.mem_reservation.as_ref());
        let cpu_request = millicores(cpu_request_written);
        let memory_request = memory_request_written.map(|m| m.value);
        let cpu_span = cpu_request_written.map_or(self.span(), |c| c.span);
        let memory_span = memory_request_written.map_or(self.span(), |m| m.span);
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
                        format!("service `{}` reserves more {what} than its limit allows", self.name()),
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

/// K214 for `service`: each learned port, who uses it and where (a label in the compose file,
/// `path:line` in the message for project files, which have no span).
/// `8000`, `514/udp`: as `expose` writes it (TCP, the default, goes unsaid).
fn port_text(learned: &Learned) -> String {
    match learned.protocol {
        crate::model::Protocol::Tcp => learned.port.to_string(),
        other => format!("{}/{}", learned.port, other.compose_name()),
    }
}

/// `declares_others`: the service declares ports, just not these.
/// `declare_on` is the pod's service, for a service whose ports Docker wants declared there.
fn learned_note(
    service: &str,
    at: Span,
    learned: &[Learned],
    declares_others: bool,
    declare_on: Option<&str>,
) -> Diagnostic {
    let mut uses = Vec::new();
    let label = if declares_others { "does not declare it" } else { "declares no port" };
    let mut note = Diagnostic::new(Code::LearnedPort, "").at(at, label);
    for learned in learned {
        let (port, user) = (port_text(learned), &learned.user);
        match &learned.place {
            Place::Compose(span) => {
                uses.push(format!("{port} (used by `{user}`)"));
                note = note.also(*span, format!("`{user}` uses port {port}"));
            }
            Place::File { path, line } => uses.push(format!("{port} (used by `{user}` in {path}:{line})")),
        }
    }
    let ports: Vec<String> = learned.iter().map(|l| format!("\"{}\"", port_text(l))).collect();
    let (plural, them) = if uses.len() == 1 { ("", "it") } else { ("s", "them") };
    note.message = if declares_others {
        let ports = if uses.len() == 1 { "a port" } else { "ports" };
        format!(
            "service `{service}` is used on {ports} it does not declare; its Service gets {them} too: {}",
            uses.join(", ")
        )
    } else {
        format!(
            "service `{service}` declares no port; its Service gets the port{plural} others use: {}",
            uses.join(", ")
        )
    };
    let ports = ports.join(", ");
    match declare_on {
        Some(pod) => note.help(format!(
            "declare {them} on `{pod}` to make {them} explicit: `expose: [{ports}]` (`{service}` shares `{pod}`'s network, and Docker refuses ports on it)"
        )),
        None => note.help(format!("declare {them} to make {them} explicit: `expose: [{ports}]`")),
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

/// Cores → millicores, rounded up so a limit is never tighter than written.
fn millicores(cores: Option<&compose::Spanned<f64>>) -> Option<u64> {
    let cores = cores?.value;
    (cores > 0.0).then(|| (cores * 1000.0 - 1e-9).ceil() as u64)
}

/// The kubelet expands `$(VAR)` and turns `$$` into `$` in a container's `command`, `args` and
/// `env` values, where Compose has already resolved its own: the `$` that would start either
/// is doubled, so the process receives the value Compose gives it. Any other `$` means only
/// itself to the kubelet and stays, so ordinary values stay readable; most values have none
/// and are returned as they are.
fn kubelet_literal(value: String) -> String {
    let expands = |w: &[u8]| w[0] == b'$' && matches!(w[1], b'$' | b'(');
    let bytes = value.as_bytes();
    if !bytes.contains(&b'$') || !bytes.windows(2).any(expands) {
        return value;
    }
    let mut out = String::with_capacity(value.len() + 4);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$' | '(')) {
            out.push('$');
        }
    }
    out
}

fn kubelet_literals(words: Vec<String>) -> Vec<String> {
    words.into_iter().map(kubelet_literal).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_dollars_the_kubelet_would_expand_are_doubled() {
        let cases = [
            ("$HOME ${X} cost $5 end$", "$HOME ${X} cost $5 end$"),
            ("$(CACHE_URL)", "$$(CACHE_URL)"),
            // The last `$` starts nothing: the kubelet keeps a `$` at the end.
            ("$$", "$$$"),
            ("$$$(A)", "$$$$$$(A)"),
            ("no dollar", "no dollar"),
        ];
        for (value, escaped) in cases {
            assert_eq!(super::kubelet_literal(value.to_string()), escaped, "{value}");
        }
    }
}
