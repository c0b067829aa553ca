//! Compose keys with no Kubernetes translation: each one present gets a warning that says
//! what kompile does instead. Keep in step with docs/mapping.md.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node, Value};

/// Keys that lower translates, or that are deliberately without effect on Kubernetes
/// (see docs/mapping.md for why each is harmless to drop).
const TRANSLATED: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "configs",
    "cpus",
    "depends_on",
    "deploy",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "healthcheck",
    "image",
    "labels",
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
    "working_dir",
    "container_name",
    "hostname",
    "pull_policy",
    "stop_signal",
];

/// What to tell the user about a key kompile cannot translate.
fn advice(key: &str) -> &'static str {
    match key {
        "network_mode" => "Kubernetes pods share one flat network; containers of one pod share localhost",
        "devices" | "device_cgroup_rules" | "gpus" => {
            "request devices through a device plugin and resource limits instead"
        }
        "pid" | "ipc" | "uts" | "userns_mode" | "cgroup" | "cgroup_parent" => {
            "namespaces are set per pod in Kubernetes; add them with a kustomize patch if you need them"
        }
        "extra_hosts" | "dns" | "dns_search" | "dns_opt" => {
            "use the pod's hostAliases or dnsConfig through a kustomize patch"
        }
        "logging" => "the cluster collects container output; configure logging there",
        "ulimits" | "sysctls" | "security_opt" | "oom_score_adj" | "oom_kill_disable" | "shm_size" => {
            "these are node or pod security settings; set them with a kustomize patch if the cluster allows them"
        }
        "links" | "external_links" => "services reach each other by service name; links are not needed",
        "volumes_from" => "declare a named volume and mount it in both services",
        "init" => "Kubernetes has no init process option; add tini to the image",
        "platform" => "use a nodeSelector on kubernetes.io/arch through a kustomize patch",
        _ => "it is ignored; see docs/mapping.md",
    }
}

pub fn report(service: &str, map: &Map, diags: &mut Diagnostics) {
    for entry in &map.entries {
        let key = entry.key.as_str();
        if TRANSLATED.contains(&key) || key.starts_with("x-") || key == "extends" {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::UnsupportedKey,
                format!("`{key}` of service `{service}` has no Kubernetes translation"),
            )
            .at(entry.key_span, "ignored")
            .help(advice(key)),
        );
    }
    restart(service, map, diags);
    deploy(service, map, diags);
}

/// Deployments always restart containers; say so when Compose asked for something else.
fn restart(service: &str, map: &Map, diags: &mut Diagnostics) {
    let policy = map.get("restart").and_then(Node::as_str);
    let condition = map
        .get("deploy")
        .and_then(Node::as_map)
        .and_then(|d| d.get("restart_policy"))
        .and_then(Node::as_map)
        .and_then(|r| r.get("condition"));
    let (node, value) = match (map.get("restart"), policy, condition) {
        (_, _, Some(c)) if c.as_str() != Some("any") => (c, c.as_str().unwrap_or_default()),
        (Some(n), Some(p), _) if p == "no" || p.starts_with("on-failure") => (n, p),
        _ => return,
    };
    diags.push(
        Diagnostic::new(
            Code::RestartPolicy,
            format!("service `{service}` asks for restart `{value}`, but a Deployment always restarts"),
        )
        .at(node.span, "becomes `restartPolicy: Always`")
        .help("for a one-off task, run it as a Kubernetes Job instead of a compose service"),
    );
}

fn deploy(service: &str, map: &Map, diags: &mut Diagnostics) {
    let Some(deploy) = map.get("deploy").and_then(Node::as_map) else { return };
    for entry in &deploy.entries {
        let message = match (entry.key.as_str(), &entry.value.value) {
            ("mode", Value::Str(mode)) if mode == "global" => {
                "`deploy.mode: global` (one per node) becomes a Deployment"
            }
            ("placement", Value::Map(p)) if !p.entries.is_empty() => "`deploy.placement` is not translated",
            ("endpoint_mode", _) => "`deploy.endpoint_mode` is not translated",
            ("rollback_config", _) => {
                "`deploy.rollback_config` is not translated; roll back with `kubectl rollout undo`"
            }
            _ => continue,
        };
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, format!("{message} (service `{service}`)"))
                .at(entry.key_span, "not translated")
                .help("use a kustomize patch for scheduling rules, or a DaemonSet for one pod per node"),
        );
    }
}
