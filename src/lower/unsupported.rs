//! Compose keys with no Kubernetes translation: each one present gets a warning that says
//! what kompile does instead. Keep in step with docs/mapping.md.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node, Value};
use crate::source::Span;

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
    "pull_policy",
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
        "container_name" => "pods get generated names; other services reach this one by its service name",
        "hostname" | "domainname" => {
            "the pod's hostname is its generated pod name; set `hostname` with a kustomize patch"
        }
        "stop_signal" => "Kubernetes stops containers with SIGTERM (or the image's STOPSIGNAL); handle it in the app",
        "annotations" => "use `labels`, which kompile puts on the pod as annotations",
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
    networks(service, map, diags);
}

/// Networks are flat in Kubernetes: joining one is harmless to drop, but aliases and fixed
/// addresses are names and addresses clients may rely on.
fn networks(service: &str, map: &Map, diags: &mut Diagnostics) {
    const NAMES: [&str; 5] = ["aliases", "ipv4_address", "ipv6_address", "link_local_ips", "mac_address"];
    let Some(networks) = map.get("networks").and_then(Node::as_map) else { return };
    for network in &networks.entries {
        let Some(settings) = network.value.as_map() else { continue };
        for entry in settings.entries.iter().filter(|e| NAMES.contains(&e.key.as_str())) {
            diags.push(
                Diagnostic::new(
                    Code::UnsupportedKey,
                    format!(
                        "`networks.{}.{}` of service `{service}` has no Kubernetes translation",
                        network.key, entry.key
                    ),
                )
                .at(entry.key_span, "ignored")
                .help("clients reach the service by its service name; add a Service of your own for another name"),
            );
        }
    }
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

/// `deploy` settings below the top level that have no effect on the Deployment.
fn nested(service: &str, key: &str, node: &Node, diags: &mut Diagnostics) {
    let Some(map) = node.as_map() else { return };
    let ignored: &[&str] = match key {
        "update_config" => &["failure_action", "max_failure_ratio"],
        "restart_policy" => &["delay", "max_attempts", "window"],
        _ => &[],
    };
    let mut found: Vec<(String, Span)> = Vec::new();
    for entry in map.entries.iter().filter(|e| ignored.contains(&e.key.as_str())) {
        found.push((format!("{key}.{}", entry.key), entry.key_span));
    }
    if key == "resources" {
        for (part, skip) in [("limits", &["pids"][..]), ("reservations", &["devices", "generic_resources"][..])] {
            let Some(inner) = map.get(part).and_then(Node::as_map) else { continue };
            for entry in inner.entries.iter().filter(|e| skip.contains(&e.key.as_str())) {
                found.push((format!("resources.{part}.{}", entry.key), entry.key_span));
            }
        }
    }
    for (path, span) in found {
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, format!("`deploy.{path}` is not translated (service `{service}`)"))
                .at(span, "not translated")
                .help("Kubernetes has no such Deployment setting; see docs/mapping.md"),
        );
    }
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
            ("mode", Value::Str(mode)) if mode.ends_with("-job") => {
                "a `deploy.mode` job becomes a Deployment that restarts it forever; run it as a Kubernetes Job"
            }
            ("labels", Value::Map(l)) if !l.entries.is_empty() => {
                "`deploy.labels` (labels of the swarm service) are not translated"
            }
            _ => {
                nested(service, &entry.key, &entry.value, diags);
                continue;
            }
        };
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, format!("{message} (service `{service}`)"))
                .at(entry.key_span, "not translated")
                .help("use a kustomize patch for scheduling rules, or a DaemonSet for one pod per node"),
        );
    }
}

/// Top-level keys with no Kubernetes translation.
pub fn top_level(root: &Map, diags: &mut Diagnostics) {
    if let Some(entry) = root.entry("models") {
        diags.push(
            Diagnostic::new(Code::UnsupportedKey, "top-level `models` has no Kubernetes translation")
                .at(entry.key_span, "ignored")
                .help(
                    "serve the model from its own service with an image, or with an inference operator in the cluster",
                ),
        );
    }
}
