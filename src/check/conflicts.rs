//! Two keys that say the same thing must agree: `scale` and `deploy.replicas`, the legacy
//! `cpus`/`mem_limit` and `deploy.resources.limits`. Compose refuses a project where they
//! differ, and so does kompile, showing both places. It also refuses keys that exclude each
//! other: `network_mode` with `networks`, `container_name` with more than one replica.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node};

pub fn check(services: &Map, diags: &mut Diagnostics) {
    for entry in &services.entries {
        let Some(service) = entry.value.as_map() else { continue };
        let deploy = service.get("deploy").and_then(Node::as_map);
        let limits = deploy
            .and_then(|d| d.get("resources"))
            .and_then(Node::as_map)
            .and_then(|r| r.get("limits"))
            .and_then(Node::as_map);
        agree(&entry.key, service.entry("scale"), deploy.and_then(|d| d.entry("replicas")), "deploy.replicas", diags);
        exclusive(&entry.key, service, deploy, diags);
        if let Some(limits) = limits {
            agree_or_missing(
                &entry.key,
                service.entry("cpus"),
                limits.entry("cpus"),
                "deploy.resources.limits.cpus",
                limits,
                diags,
            );
            agree_or_missing(
                &entry.key,
                service.entry("mem_limit"),
                limits.entry("memory"),
                "deploy.resources.limits.memory",
                limits,
                diags,
            );
        }
    }
}

type Entry = crate::load::node::Entry;

fn exclusive(service: &str, keys: &Map, deploy: Option<&Map>, diags: &mut Diagnostics) {
    if let (Some(mode), Some(networks)) = (keys.entry("network_mode"), keys.entry("networks")) {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("service `{service}` sets both `network_mode` and `networks`, which exclude each other"),
            )
            .at(mode.key_span, "network_mode here")
            .also(networks.key_span, "networks here")
            .help("keep one: `network_mode` shares another network stack, `networks` joins project networks"),
        );
    }
    let Some(name) = keys.entry("container_name") else { return };
    let replicas = [deploy.and_then(|d| d.entry("replicas")), keys.entry("scale")]
        .into_iter()
        .flatten()
        .find(|e| matches!(e.value.value, crate::load::node::Value::Int(n) if n > 1));
    if let Some(replicas) = replicas {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("service `{service}` has a `container_name` and more than one replica"),
            )
            .at(name.key_span, "one name")
            .also(replicas.value.span, "several containers")
            .help("container names are unique: remove `container_name`, or run one replica"),
        );
    }
}

fn agree(service: &str, legacy: Option<&Entry>, modern: Option<&Entry>, modern_name: &str, diags: &mut Diagnostics) {
    let (Some(legacy), Some(modern)) = (legacy, modern) else { return };
    if legacy.value.to_json() == modern.value.to_json() {
        return;
    }
    diags.push(
        conflict(service, legacy, modern_name)
            .at(legacy.value.span, "this value")
            .also(modern.value.span, "differs from this one"),
    );
}

/// With `deploy.resources.limits` present, Compose also refuses a legacy key that the limits
/// leave out: the two blocks would disagree about whether there is a limit at all.
fn agree_or_missing(
    service: &str,
    legacy: Option<&Entry>,
    modern: Option<&Entry>,
    modern_name: &str,
    limits: &Map,
    diags: &mut Diagnostics,
) {
    let Some(legacy_entry) = legacy else { return };
    match modern {
        Some(_) => agree(service, legacy, modern, modern_name, diags),
        None => {
            let limits_span = limits.entries.first().map_or(legacy_entry.value.span, |e| e.key_span);
            diags.push(conflict(service, legacy_entry, modern_name).at(legacy_entry.value.span, "set here").also(
                limits_span,
                format!("these limits have no `{}`", modern_name.rsplit('.').next().unwrap_or_default()),
            ));
        }
    }
}

fn conflict(service: &str, legacy: &Entry, modern_name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidValue,
        format!("service `{service}` sets `{}` and `{modern_name}` to different values", legacy.key),
    )
    .help(format!("keep only `{modern_name}`"))
}
