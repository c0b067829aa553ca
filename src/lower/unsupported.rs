//! Compose keys with no Kubernetes translation: each one present gets a warning that says
//! what kompile does instead. Keep in step with docs/mapping.md.

use crate::compose::{Key, Project, Service};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::WorkloadKind;

/// Keys that lower translates, or that are deliberately without effect on Kubernetes
/// (see docs/mapping.md for why each is harmless to drop).
const TRANSLATED: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "container_name",
    "configs",
    "cpus",
    "depends_on",
    "deploy",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "labels",
    "links",
    "mem_limit",
    "mem_reservation",
    "networks",
    "ports",
    "privileged",
    "profiles",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "stdin_open",
    "stop_grace_period",
    "tmpfs",
    "tty",
    "user",
    "volumes",
    "volumes_from",
    "working_dir",
    "pull_policy",
    // lower/runtime.rs
    "gpus",
    "post_start",
    "pre_stop",
    "shm_size",
    "stop_signal",
    "sysctls",
];

/// What to tell the user about a key kompile cannot translate.
fn advice(key: &str) -> &'static str {
    match key {
        "network_mode" => {
            "containers outside the project are not on the cluster: kompile runs the service in a pod of its own, open to every pod; use `network_mode: service:NAME` to share a project service's pod"
        }
        "devices" | "device_cgroup_rules" => "request devices through a device plugin and resource limits instead",
        "pid" | "ipc" | "uts" | "userns_mode" | "cgroup" | "cgroup_parent" => {
            "namespaces are set per pod in Kubernetes; add them with a kustomize patch if you need them"
        }
        "logging" => "the cluster collects container output; configure logging there",
        "ulimits" | "security_opt" | "oom_score_adj" | "oom_kill_disable" => {
            "these are node or pod security settings; set them with a kustomize patch if the cluster allows them"
        }
        "external_links" => {
            "containers outside the project are not on the cluster; reach them through a Service of type ExternalName"
        }
        "init" => "Kubernetes has no init process option; add tini to the image",
        "platform" => {
            "choose the nodes with `x-kompile: {node_selector: {kubernetes.io/arch: arm64}}` (and `kubernetes.io/os`); the image must exist for that platform"
        }
        "annotations" => "use `labels`, which kompile puts on the pod as annotations",
        _ => "it is ignored; see docs/mapping.md",
    }
}

/// `kind`: the workload that runs the service, which decides what a `deploy` key means.
pub fn report(service: &Service, kind: WorkloadKind, diags: &mut Diagnostics) {
    let name = service.name.as_str();
    for key in &service.keys {
        if TRANSLATED.contains(&key.as_str()) || key.starts_with("x-") || key.value == "extends" {
            continue;
        }
        // `none` is translated, `host` has its own note (lower/network.rs) and `service:` puts
        // the container in that service's pod (lower/sidecars.rs).
        let mode = service.network_mode.as_ref().map(|m| m.as_str());
        if key.value == "network_mode"
            && mode.is_some_and(|m| matches!(m, "host" | "none") || m.starts_with("service:"))
        {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::UnsupportedKey,
                format!("`{}` of service `{name}` has no Kubernetes translation", **key),
            )
            .at(key.span, "ignored")
            .help(advice(key)),
        );
    }
    deploy(service, kind, diags);
    networks(service, diags);
}

/// Joining networks becomes NetworkPolicies (`network.rs`) and aliases become Services
/// (`aliases.rs`); fixed addresses, which clients may rely on, have no translation.
fn networks(service: &Service, diags: &mut Diagnostics) {
    const NAMES: [&str; 4] = ["ipv4_address", "ipv6_address", "link_local_ips", "mac_address"];
    for network in &service.networks {
        for key in network.keys.iter().filter(|k| NAMES.contains(&k.as_str())) {
            diags.push(
                Diagnostic::new(
                    Code::UnsupportedKey,
                    format!(
                        "`networks.{}.{}` of service `{}` has no Kubernetes translation",
                        *network.name, **key, *service.name
                    ),
                )
                .at(key.span, "ignored")
                .help("clients reach the service by its service name; add a Service of your own for another name"),
            );
        }
    }
}

/// `deploy` settings below the top level (`deploy.<key>.…`) that have no effect on the
/// workload; `max_attempts` is a Job's `backoffLimit`.
fn nested(service: &Service, key: &str, kind: WorkloadKind, diags: &mut Diagnostics) {
    let ignored: &[&str] = match key {
        "update_config" => &["failure_action", "max_failure_ratio"],
        "restart_policy" if kind.runs_to_completion() => &["delay", "window"],
        "restart_policy" => &["delay", "max_attempts", "window"],
        _ => &[],
    };
    let below = |prefix: &str, names: &[&str]| -> Vec<Key> {
        let prefix = format!("{prefix}.");
        let inside = |k: &&Key| k.strip_prefix(&prefix).is_some_and(|rest| names.contains(&rest));
        service.deploy.nested_keys.iter().filter(inside).cloned().collect()
    };
    let mut found = below(key, ignored);
    if key == "resources" {
        for (part, skip) in [("limits", &["pids"][..]), ("reservations", &["generic_resources"][..])] {
            found.extend(below(&format!("resources.{part}"), skip));
        }
    }
    for path in found {
        diags.push(
            Diagnostic::new(
                Code::UnsupportedKey,
                format!("`deploy.{}` is not translated (service `{}`)", *path, *service.name),
            )
            .at(path.span, "not translated")
            .help("Kubernetes has no such Deployment setting; see docs/mapping.md"),
        );
    }
}

fn deploy(service: &Service, kind: WorkloadKind, diags: &mut Diagnostics) {
    let deploy = &service.deploy;
    let mode = deploy.mode.as_ref().map(|m| m.as_str());
    for key in &deploy.keys {
        const SCHEDULING: &str = "use a kustomize patch for scheduling rules; see docs/mapping.md";
        let (message, help) = match key.as_str() {
            "endpoint_mode" => ("`deploy.endpoint_mode` is not translated", SCHEDULING),
            "rollback_config" => {
                ("`deploy.rollback_config` is not translated; roll back with `kubectl rollout undo`", SCHEDULING)
            }
            "mode" if mode == Some("global-job") && kind == WorkloadKind::Job => (
                "`deploy.mode: global-job` (once on every node) becomes a Job that runs once",
                "Kubernetes has no Job that runs on every node; a DaemonSet runs a pod on every node until stopped",
            ),
            "labels" if deploy.labels_set => {
                ("`deploy.labels` (labels of the swarm service) are not translated", SCHEDULING)
            }
            other => {
                nested(service, other, kind, diags);
                continue;
            }
        };
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, format!("{message} (service `{}`)", *service.name))
                .at(key.span, "not translated")
                .help(help),
        );
    }
}

/// Top-level keys with no Kubernetes translation.
pub fn top_level(project: &Project, diags: &mut Diagnostics) {
    if let Some(key) = project.keys.iter().find(|k| k.value == "models") {
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, "top-level `models` has no Kubernetes translation")
                .at(key.span, "ignored")
                .help(
                    "serve the model from its own service with an image, or with an inference operator in the cluster",
                ),
        );
    }
}
