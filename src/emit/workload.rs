//! The pod of a compose service, with its single container, and the Deployment that runs it
//! (the other kinds of workload are in `controllers.rs`).

use indexmap::IndexMap;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, Container, ContainerPort, EnvFromSource, EnvVar, EnvVarSource, ExecAction,
    PodDNSConfig, PodDNSConfigOption, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SecretEnvSource,
    SecretKeySelector, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::time::Duration;

use super::checksum;
use super::labels::{pod_labels, selector, service_annotations, service_labels};
use super::ports::{container_ports, protocol_name};
use super::{
    int32, metadata, non_empty, non_empty_vec, quantity, saturating_i32, seconds_up, seconds_up_i32, storage,
    whole_seconds,
};
use crate::model::{App, Healthcheck, ProbeCommand, Resources, Service, UpdateOrder, UpdatePolicy};

/// Docker's healthcheck defaults, used when compose leaves a field out.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;

pub(super) fn deployment(app: &App, svc: &Service) -> Deployment {
    Deployment {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(DeploymentSpec {
            // An autoscaled workload leaves its replicas to the autoscaler, or every apply resets them.
            replicas: svc.availability.autoscale.is_none().then(|| int32(svc.replicas)),
            selector: LabelSelector { match_labels: Some(selector(app, svc)), ..LabelSelector::default() },
            strategy: Some(strategy(&svc.update, svc.replicas)),
            min_ready_seconds: svc.update.min_ready.map(seconds_up_i32),
            progress_deadline_seconds: svc.update.progress_deadline.map(seconds_up_i32),
            template: pod_template(app, svc),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// Compose `update_config` as a rollout strategy. `order` decides whether extra pods are
/// added (start-first) or existing ones removed (stop-first), `parallelism` how many.
fn strategy(update: &UpdatePolicy, replicas: u32) -> DeploymentStrategy {
    if update.recreate {
        return DeploymentStrategy { type_: Some("Recreate".to_string()), rolling_update: None };
    }
    // Compose parallelism 0 means "all at once"; at least one pod must move or the
    // rollout never progresses.
    let batch = if update.parallelism == 0 { replicas } else { update.parallelism };
    let batch = IntOrString::Int(int32(batch.max(1)));
    let none = IntOrString::Int(0);
    let (max_surge, max_unavailable) = match update.order {
        UpdateOrder::StartFirst => (batch, none),
        UpdateOrder::StopFirst => (none, batch),
    };
    DeploymentStrategy {
        type_: Some("RollingUpdate".to_string()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(max_surge),
            max_unavailable: Some(max_unavailable),
        }),
    }
}

pub(super) fn pod_template(app: &App, svc: &Service) -> PodTemplateSpec {
    let (volumes, volume_mounts) = storage::volumes_and_mounts(svc);
    let container = Container { volume_mounts: non_empty_vec(volume_mounts), ..container(svc) };
    let spec = PodSpec {
        containers: vec![container],
        init_containers: super::waits::init_containers(svc),
        volumes: non_empty_vec(volumes),
        termination_grace_period_seconds: svc.stop_grace_period.map(seconds_up),
        host_aliases: non_empty_vec(host_aliases(svc)),
        hostname: svc.hostname.clone(),
        subdomain: svc.subdomain.clone(),
        dns_policy: svc.dns.as_ref().filter(|d| !d.nameservers.is_empty()).map(|_| "None".to_string()),
        dns_config: svc.dns.as_ref().map(dns_config),
        ..PodSpec::default()
    };
    // The seeding containers mount the pod's volumes under the names the sidecars left them.
    let spec = super::seeds::with_seeds(app, svc, super::sidecars::with_sidecars(app, svc, spec));
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels(app, svc)),
            annotations: non_empty(pod_annotations(app, svc)),
            ..ObjectMeta::default()
        }),
        spec: Some(super::runtime::pod(app, svc, spec)),
    }
}

/// Compose labels are free-form metadata, not identity; as annotations they can never collide
/// with or break the selector. The config checksum rolls the pods when their files change.
fn pod_annotations(app: &App, svc: &Service) -> BTreeMap<String, String> {
    let mut annotations = svc.labels.clone();
    if let Some(sum) = checksum::config_checksum(app, svc) {
        annotations.insert(checksum::CONFIG_CHECKSUM.to_string(), sum);
    }
    annotations
}

fn host_aliases(svc: &Service) -> Vec<k8s_openapi::api::core::v1::HostAlias> {
    let alias = |a: &crate::model::HostAlias| k8s_openapi::api::core::v1::HostAlias {
        ip: a.ip.clone(),
        hostnames: Some(a.hostnames.clone()),
    };
    svc.host_aliases.iter().map(alias).collect()
}

/// Compose `dns` servers replace the cluster's (`dnsPolicy: None`, set beside this); search
/// domains and options alone are added to the cluster's resolver settings.
fn dns_config(dns: &crate::model::DnsConfig) -> PodDNSConfig {
    let option = |(name, value): &(String, Option<String>)| PodDNSConfigOption {
        name: Some(name.clone()),
        value: value.clone(),
    };
    PodDNSConfig {
        nameservers: non_empty_vec(dns.nameservers.clone()),
        searches: non_empty_vec(dns.searches.clone()),
        options: non_empty_vec(dns.options.iter().map(option).collect()),
    }
}

/// The service's container, minus volume mounts.
pub(super) fn container(svc: &Service) -> Container {
    let probe = svc.healthcheck.as_ref().and_then(health_probe);
    let (command, args) = command_and_args(svc);
    let container = Container {
        name: svc.k8s_name.clone(),
        image: Some(svc.image.clone()),
        image_pull_policy: svc.pull_policy.clone(),
        command,
        args,
        env: non_empty_vec(env(svc)),
        env_from: non_empty_vec(env_from(svc)),
        working_dir: svc.working_dir.clone(),
        ports: non_empty_vec(ports(svc)),
        readiness_probe: probe.clone(),
        liveness_probe: probe,
        startup_probe: svc.healthcheck.as_ref().and_then(startup_probe),
        resources: resources(&svc.resources),
        security_context: security_context(svc),
        tty: svc.tty.then_some(true),
        stdin: svc.stdin_open.then_some(true),
        ..Container::default()
    };
    // Hooks, GPUs: the container's own, so a sidecar's come with it into another pod.
    super::runtime::container(svc, container)
}

/// Compose `entrypoint` → `command`, `command` → `args`. An empty entrypoint clears the
/// image's ENTRYPOINT; an empty `command` field in Kubernetes keeps it, so the compose
/// command becomes the whole container command instead.
fn command_and_args(svc: &Service) -> (Option<Vec<String>>, Option<Vec<String>>) {
    match &svc.entrypoint {
        Some(entrypoint) if entrypoint.is_empty() => (svc.command.clone().filter(|c| !c.is_empty()), None),
        entrypoint => (entrypoint.clone(), svc.command.clone()),
    }
}

/// `environment` in order; a repeated name keeps its first position and its last value, as
/// Compose's "later wins". Names declared without a value are left out: Compose would take
/// them from the host shell, which the cluster does not have.
fn env(svc: &Service) -> Vec<EnvVar> {
    let mut vars: IndexMap<&str, &str> = IndexMap::new();
    for var in &svc.environment {
        if let Some(value) = &var.value {
            vars.insert(&var.name, value);
        }
    }
    let secret = svc.secret_env.as_ref();
    let from_secret = |name: &str| {
        let secret = secret.filter(|s| s.data.contains_key(name))?;
        let key = SecretKeySelector { name: secret.k8s_name.clone(), key: name.to_string(), optional: None };
        Some(EnvVarSource { secret_key_ref: Some(key), ..EnvVarSource::default() })
    };
    vars.into_iter()
        .map(|(name, value)| match from_secret(name) {
            Some(source) => EnvVar { name: name.to_string(), value: None, value_from: Some(source) },
            None => EnvVar { name: name.to_string(), value: Some(value.to_string()), value_from: None },
        })
        .collect()
}

/// The env files' plain values (a ConfigMap), then their secret ones (the Secret, which also
/// holds the `environment` secrets: those come by name through `env` too, with the same value).
fn env_from(svc: &Service) -> Vec<EnvFromSource> {
    let mut sources = Vec::new();
    if let Some(env) = &svc.env_from {
        let name = env.k8s_name.clone();
        sources.push(EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource { name, optional: None }),
            ..EnvFromSource::default()
        });
    }
    let named = |key: &String| svc.environment.iter().any(|v| &v.name == key && v.value.is_some());
    if let Some(secret) = svc.secret_env.as_ref().filter(|s| !s.data.keys().all(named)) {
        let name = secret.k8s_name.clone();
        sources.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource { name, optional: None }),
            ..EnvFromSource::default()
        });
    }
    sources
}

fn ports(svc: &Service) -> Vec<ContainerPort> {
    container_ports(svc)
        .into_iter()
        .map(|p| ContainerPort {
            container_port: i32::from(p.target),
            protocol: Some(protocol_name(p.protocol).to_string()),
            name: Some(p.name),
            ..ContainerPort::default()
        })
        .collect()
}

/// The healthcheck as readiness and liveness probe: Docker marks an unhealthy container and
/// keeps it out of rotation; Kubernetes needs both probes for the same effect plus a restart.
fn health_probe(check: &Healthcheck) -> Option<Probe> {
    Some(Probe {
        exec: Some(exec(check.test.as_ref()?)?),
        period_seconds: Some(probe_seconds(check.interval.unwrap_or(DEFAULT_INTERVAL))),
        timeout_seconds: Some(probe_seconds(check.timeout.unwrap_or(DEFAULT_TIMEOUT))),
        failure_threshold: Some(int32(check.retries.unwrap_or(DEFAULT_RETRIES).max(1))),
        ..Probe::default()
    })
}

/// Docker ignores failures during `start_period`, then applies `retries` as usual. The
/// startup probe's budget is period × failureThreshold, so
/// `failureThreshold = ceil(start_period / period) + retries` gives the app at least the
/// whole start period plus the same tolerance it has afterwards.
fn startup_probe(check: &Healthcheck) -> Option<Probe> {
    let start_period = whole_seconds(check.start_period?);
    let period = whole_seconds(check.start_interval.unwrap_or(DEFAULT_START_INTERVAL)).max(1);
    let retries = u64::from(check.retries.unwrap_or(DEFAULT_RETRIES));
    let threshold = start_period.div_ceil(period).saturating_add(retries).max(1);
    Some(Probe {
        exec: Some(exec(check.test.as_ref()?)?),
        period_seconds: Some(saturating_i32(period)),
        timeout_seconds: Some(probe_seconds(check.timeout.unwrap_or(DEFAULT_TIMEOUT))),
        failure_threshold: Some(saturating_i32(threshold)),
        ..Probe::default()
    })
}

/// Probe timings must be at least one second.
fn probe_seconds(duration: Duration) -> i32 {
    seconds_up_i32(duration).max(1)
}

/// The probe's command; `None` for a check that is turned off.
fn exec(command: &ProbeCommand) -> Option<ExecAction> {
    let command = match command {
        ProbeCommand::Exec(argv) => argv.clone(),
        ProbeCommand::Shell(script) => {
            vec!["/bin/sh".to_string(), "-c".to_string(), script.clone()]
        }
        ProbeCommand::None => return None,
    };
    Some(ExecAction { command: Some(command) })
}

pub(super) fn resources(res: &Resources) -> Option<ResourceRequirements> {
    let limits = quantities(res.cpu_limit, res.memory_limit);
    let requests = quantities(res.cpu_request, res.memory_request);
    if limits.is_empty() && requests.is_empty() {
        return None;
    }
    Some(ResourceRequirements {
        limits: non_empty(limits),
        requests: non_empty(requests),
        ..ResourceRequirements::default()
    })
}

fn quantities(cpu: Option<u64>, memory: Option<u64>) -> BTreeMap<String, Quantity> {
    let cpu = cpu.map(|m| ("cpu".to_string(), quantity::cpu(m)));
    let memory = memory.map(|b| ("memory".to_string(), quantity::bytes(b)));
    cpu.into_iter().chain(memory).collect()
}

/// Only the settings the service asked for; `None` when it asked for none, so the defaults of
/// the image and cluster apply as they do under Compose.
fn security_context(svc: &Service) -> Option<SecurityContext> {
    let (run_as_user, run_as_group) = svc.user.as_deref().and_then(numeric_user).unzip();
    let context = SecurityContext {
        read_only_root_filesystem: svc.read_only.then_some(true),
        privileged: svc.privileged.then_some(true),
        capabilities: capabilities(svc),
        run_as_user,
        run_as_group: run_as_group.flatten(),
        run_as_non_root: run_as_user.and_then(|uid| (uid != 0).then_some(true)),
        ..SecurityContext::default()
    };
    (context != SecurityContext::default()).then_some(context)
}

/// `uid` or `uid:gid`, numeric. Names need the image's /etc/passwd, which Kubernetes
/// cannot consult, so they yield nothing here (lower already reported them).
fn numeric_user(user: &str) -> Option<(i64, Option<i64>)> {
    let (uid, gid) = match user.split_once(':') {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (user, None),
    };
    let uid = uid.parse::<u32>().ok()?;
    // A named group is dropped (lower reported it); the numeric user still applies.
    let gid = gid.and_then(|g| g.parse::<u32>().ok());
    Some((i64::from(uid), gid.map(i64::from)))
}

fn capabilities(svc: &Service) -> Option<Capabilities> {
    let add = svc.cap_add.iter().map(|c| capability(c)).collect();
    let drop = svc.cap_drop.iter().map(|c| capability(c)).collect();
    let caps = Capabilities { add: non_empty_vec(add), drop: non_empty_vec(drop) };
    (caps != Capabilities::default()).then_some(caps)
}

/// Docker accepts `CAP_NET_ADMIN` and `net_admin`; Kubernetes wants `NET_ADMIN`.
fn capability(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, port, service};
    use crate::model::EnvVar as ModelEnvVar;

    fn check(command: ProbeCommand) -> Healthcheck {
        Healthcheck { test: Some(command), ..Healthcheck::default() }
    }

    fn spec(svc: &Service) -> DeploymentSpec {
        deployment(&app(), svc).spec.unwrap()
    }

    #[test]
    fn dns_servers_replace_the_cluster_resolver_and_search_domains_extend_it() {
        let mut s = service("web");
        s.dns = Some(crate::model::DnsConfig {
            nameservers: vec![],
            searches: vec!["corp.example".into()],
            options: vec![("ndots".into(), Some("2".into())), ("use-vc".into(), None)],
        });
        let pod = spec(&s).template.spec.unwrap();
        assert_eq!(pod.dns_policy, None, "ClusterFirst, with the search domain added");
        let config = pod.dns_config.unwrap();
        assert_eq!(config.searches, Some(vec!["corp.example".to_string()]));
        let options = config.options.unwrap();
        assert_eq!((options[1].name.as_deref(), options[1].value.as_deref()), (Some("use-vc"), None));
        s.dns.as_mut().unwrap().nameservers = vec!["10.0.0.53".into()];
        assert_eq!(spec(&s).template.spec.unwrap().dns_policy.as_deref(), Some("None"));
    }

    #[test]
    fn network_labels_are_on_pods_but_not_in_the_selector() {
        let mut s = service("web");
        s.networks = vec![crate::model::PodNetwork { label: "front".into(), external: false }];
        s.hostname = Some("web".into());
        s.subdomain = Some("corp".into());
        let spec = spec(&s);
        let labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(labels.get("kompile.dev/network-front").map(String::as_str), Some("true"));
        assert!(!spec.selector.match_labels.unwrap().contains_key("kompile.dev/network-front"));
        let pod = spec.template.spec.unwrap();
        assert_eq!((pod.hostname.as_deref(), pod.subdomain.as_deref()), (Some("web"), Some("corp")));
    }

    fn only_container(svc: &Service) -> Container {
        spec(svc).template.spec.unwrap().containers.remove(0)
    }

    #[test]
    fn selector_is_stable_subset_of_template_labels() {
        let mut s = service("web");
        s.labels = BTreeMap::from([("com.example.team".into(), "core".into())]);
        let d = deployment(&app(), &s);
        let spec = d.spec.unwrap();
        let selector = spec.selector.match_labels.unwrap();
        let template = spec.template.metadata.unwrap();
        let labels = template.labels.unwrap();
        assert_eq!(selector.keys().collect::<Vec<_>>(), ["app.kubernetes.io/instance", "app.kubernetes.io/name"]);
        assert!(selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
        assert!(!labels.contains_key("com.example.team"));
        assert_eq!(template.annotations.unwrap()["com.example.team"], "core");
        assert_eq!(d.metadata.annotations.unwrap()["kompile.dev/service"], "web");
    }

    #[test]
    fn strategies() {
        let mut update = UpdatePolicy {
            parallelism: 2,
            order: UpdateOrder::StartFirst,
            min_ready: None,
            progress_deadline: None,
            recreate: false,
        };
        let rolling = |s: DeploymentStrategy| {
            let r = s.rolling_update.unwrap();
            (s.type_.unwrap(), r.max_surge.unwrap(), r.max_unavailable.unwrap())
        };
        let (kind, surge, unavailable) = rolling(strategy(&update, 4));
        assert_eq!((kind.as_str(), surge, unavailable), ("RollingUpdate", IntOrString::Int(2), IntOrString::Int(0)));

        update.order = UpdateOrder::StopFirst;
        let (_, surge, unavailable) = rolling(strategy(&update, 4));
        assert_eq!((surge, unavailable), (IntOrString::Int(0), IntOrString::Int(2)));

        update.parallelism = 0;
        let (_, surge, unavailable) = rolling(strategy(&update, 4));
        assert_eq!((surge, unavailable), (IntOrString::Int(0), IntOrString::Int(4)));
        let (_, _, unavailable) = rolling(strategy(&update, 0));
        assert_eq!(unavailable, IntOrString::Int(1));

        update.recreate = true;
        let recreate = strategy(&update, 4);
        assert_eq!(recreate.type_.as_deref(), Some("Recreate"));
        assert!(recreate.rolling_update.is_none());
    }

    #[test]
    fn rollout_timings_round_up() {
        let mut s = service("web");
        s.update.min_ready = Some(Duration::from_millis(2500));
        s.update.progress_deadline = Some(Duration::from_secs(600));
        s.stop_grace_period = Some(Duration::from_millis(100));
        let spec = spec(&s);
        assert_eq!(spec.min_ready_seconds, Some(3));
        assert_eq!(spec.progress_deadline_seconds, Some(600));
        assert_eq!(spec.template.spec.unwrap().termination_grace_period_seconds, Some(1));
    }

    #[test]
    fn container_basics() {
        let mut s = service("web");
        s.entrypoint = Some(vec!["/entry".into()]);
        s.command = Some(vec!["serve".into(), "--port=80".into()]);
        s.working_dir = Some("/app".into());
        s.pull_policy = Some("Always".into());
        s.tty = true;
        s.ports = vec![port(80)];
        let c = only_container(&s);
        assert_eq!(c.name, "web");
        assert_eq!(c.command, Some(vec!["/entry".to_string()]));
        assert_eq!(c.args, Some(vec!["serve".to_string(), "--port=80".to_string()]));
        assert_eq!(c.working_dir.as_deref(), Some("/app"));
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        assert_eq!((c.tty, c.stdin), (Some(true), None));
        let p = &c.ports.unwrap()[0];
        assert_eq!((p.container_port, p.protocol.as_deref(), p.name.as_deref()), (80, Some("TCP"), Some("tcp-80")));
    }

    /// A secret value is taken from the Secret by name, never written in the pod template;
    /// env-file secrets come through `envFrom`, after the ConfigMap.
    #[test]
    fn secret_values_come_from_the_secret() {
        let mut s = service("web");
        s.environment = vec![
            ModelEnvVar { name: "DB_PASSWORD".into(), value: Some(String::new()) },
            ModelEnvVar { name: "LEVEL".into(), value: Some("info".into()) },
        ];
        s.env_from = Some(crate::model::EnvFromConfigMap { k8s_name: "web-env".into(), data: BTreeMap::new() });
        let data =
            BTreeMap::from([("DB_PASSWORD".to_string(), "pw".to_string()), ("TOKEN".to_string(), "t".to_string())]);
        s.secret_env = Some(crate::model::SecretEnv { k8s_name: "web-secret-env".into(), data });
        let c = only_container(&s);
        let env = c.env.unwrap();
        assert_eq!(env[0].value, None, "no value in the pod template");
        let key = env[0].value_from.as_ref().and_then(|f| f.secret_key_ref.clone()).unwrap();
        assert_eq!((key.name.as_str(), key.key.as_str()), ("web-secret-env", "DB_PASSWORD"));
        assert_eq!(env[1].value.as_deref(), Some("info"));
        let from = c.env_from.unwrap();
        assert_eq!(from[0].config_map_ref.as_ref().map(|r| r.name.as_str()), Some("web-env"));
        assert_eq!(from[1].secret_ref.as_ref().map(|r| r.name.as_str()), Some("web-secret-env"), "TOKEN");
        s.secret_env.as_mut().unwrap().data.remove("TOKEN");
        assert_eq!(only_container(&s).env_from.unwrap().len(), 1, "every secret is named in env");
    }

    #[test]
    fn empty_entrypoint_runs_command_as_container_command() {
        let mut s = service("web");
        s.entrypoint = Some(vec![]);
        s.command = Some(vec!["python".into(), "-m".into(), "http.server".into()]);
        let c = only_container(&s);
        assert_eq!(c.command, Some(vec!["python".to_string(), "-m".to_string(), "http.server".to_string()]));
        assert_eq!(c.args, None);
        s.command = None;
        let c = only_container(&s);
        assert_eq!((c.command, c.args), (None, None));
    }

    #[test]
    fn env_dedupes_keeping_last_value() {
        let mut s = service("web");
        let var = |n: &str, v: Option<&str>| ModelEnvVar { name: n.into(), value: v.map(String::from) };
        s.environment = vec![var("A", Some("1")), var("B", Some("2")), var("UNSET", None), var("A", Some("3"))];
        s.env_from = Some(crate::model::EnvFromConfigMap { k8s_name: "web-env".into(), data: BTreeMap::new() });
        let c = only_container(&s);
        let env: Vec<_> = c.env.unwrap().into_iter().map(|e| (e.name, e.value.unwrap())).collect();
        assert_eq!(env, [("A".to_string(), "3".to_string()), ("B".to_string(), "2".to_string())]);
        assert_eq!(c.env_from.unwrap()[0].config_map_ref.clone().unwrap().name, "web-env");
    }

    #[test]
    fn probe_commands() {
        let exec_form = health_probe(&check(ProbeCommand::Exec(vec!["curl".into(), "-f".into()]))).unwrap();
        assert_eq!(exec_form.exec.unwrap().command.unwrap(), ["curl", "-f"]);
        let shell = health_probe(&check(ProbeCommand::Shell("pg_isready || exit 1".into()))).unwrap();
        assert_eq!(shell.exec.unwrap().command.unwrap(), ["/bin/sh", "-c", "pg_isready || exit 1"]);
        assert_eq!(
            (shell.period_seconds, shell.timeout_seconds, shell.failure_threshold),
            (Some(30), Some(30), Some(3))
        );
    }

    #[test]
    fn probes_on_container() {
        let mut s = service("web");
        let mut hc = check(ProbeCommand::Shell("true".into()));
        hc.interval = Some(Duration::from_millis(200));
        hc.timeout = Some(Duration::from_millis(1500));
        hc.retries = Some(5);
        s.healthcheck = Some(hc);
        let c = only_container(&s);
        let readiness = c.readiness_probe.unwrap();
        assert_eq!(Some(&readiness), c.liveness_probe.as_ref());
        assert_eq!((readiness.period_seconds, readiness.timeout_seconds), (Some(1), Some(2)));
        assert_eq!(readiness.failure_threshold, Some(5));
        assert!(c.startup_probe.is_none());
    }

    #[test]
    fn startup_probe_covers_start_period() {
        let mut hc = check(ProbeCommand::Exec(vec!["true".into()]));
        hc.start_period = Some(Duration::from_secs(60));
        let p = startup_probe(&hc).unwrap();
        // 60s / 5s default interval = 12, plus the 3 default retries.
        assert_eq!((p.period_seconds, p.failure_threshold), (Some(5), Some(15)));

        hc.start_period = Some(Duration::from_secs(61));
        hc.start_interval = Some(Duration::from_secs(10));
        hc.retries = Some(1);
        let p = startup_probe(&hc).unwrap();
        // ceil(61 / 10) = 7, plus 1 retry; 10s × 8 = 80s ≥ 61s.
        assert_eq!((p.period_seconds, p.failure_threshold), (Some(10), Some(8)));

        hc.start_period = Some(Duration::ZERO);
        hc.retries = Some(0);
        assert_eq!(startup_probe(&hc).unwrap().failure_threshold, Some(1));
    }

    #[test]
    fn resources_as_quantities() {
        let res = Resources {
            cpu_limit: Some(1500),
            cpu_request: Some(2000),
            memory_limit: Some(268_435_456),
            memory_request: Some(1000),
        };
        let r = resources(&res).unwrap();
        let limits = r.limits.unwrap();
        let requests = r.requests.unwrap();
        assert_eq!((limits["cpu"].0.as_str(), limits["memory"].0.as_str()), ("1500m", "256Mi"));
        assert_eq!((requests["cpu"].0.as_str(), requests["memory"].0.as_str()), ("2", "1000"));
        assert!(resources(&Resources::default()).is_none());
        let only_limit = resources(&Resources { cpu_limit: Some(500), ..Resources::default() }).unwrap();
        assert_eq!(only_limit.limits.unwrap()["cpu"].0, "500m");
        assert!(only_limit.requests.is_none());
    }

    #[test]
    fn security_settings() {
        let mut s = service("web");
        assert!(security_context(&s).is_none());
        s.read_only = true;
        s.privileged = true;
        s.cap_add = vec!["cap_net_admin".into(), "SYS_TIME".into()];
        s.cap_drop = vec!["ALL".into()];
        s.user = Some("1000:2000".into());
        let sc = security_context(&s).unwrap();
        assert_eq!((sc.read_only_root_filesystem, sc.privileged), (Some(true), Some(true)));
        let caps = sc.capabilities.unwrap();
        assert_eq!(caps.add.unwrap(), ["NET_ADMIN", "SYS_TIME"]);
        assert_eq!(caps.drop.unwrap(), ["ALL"]);
        assert_eq!((sc.run_as_user, sc.run_as_group, sc.run_as_non_root), (Some(1000), Some(2000), Some(true)));
    }

    #[test]
    fn users() {
        assert_eq!(numeric_user("0"), Some((0, None)));
        assert_eq!(numeric_user("33:33"), Some((33, Some(33))));
        assert_eq!(numeric_user("www-data"), None);
        assert_eq!(numeric_user("1000:staff"), Some((1000, None)));
        let mut s = service("web");
        s.user = Some("0".into());
        let sc = security_context(&s).unwrap();
        assert_eq!((sc.run_as_user, sc.run_as_non_root), (Some(0), None));
        s.user = Some("nobody".into());
        assert!(security_context(&s).is_none());
    }
}
