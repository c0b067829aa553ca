//! The service keys `lower::runtime` translates: lifecycle hooks, the stop signal, sysctls,
//! `shm_size`, devices (`gpus`, `deploy.resources.reservations.devices`) and
//! `deploy.placement`. Canonicalization already checked their values.

use super::{bytes, count, flag, string_pairs, strings, text};
use crate::compose::{Device, Hook, Placement, ServiceRuntime, Spanned};
use crate::load::node::{Node, Value};

/// One of the keys of [`ServiceRuntime`] into `runtime`.
pub fn key(key: &str, value: &Node, runtime: &mut ServiceRuntime) {
    match key {
        "stop_signal" => runtime.stop_signal = text(value),
        "sysctls" => runtime.sysctls = string_pairs(Some(value)),
        "shm_size" => runtime.shm_size = bytes(value),
        "post_start" => runtime.post_start = hooks(value),
        "pre_stop" => runtime.pre_stop = hooks(value),
        "gpus" => runtime.gpus = gpus(value),
        _ => {}
    }
}

fn hooks(node: &Node) -> Vec<Spanned<Hook>> {
    let hook = |item: &Node| {
        let map = item.as_map()?;
        let privileged = map.get("privileged").map(|p| Spanned::new(flag(Some(p)), p.span));
        let hook = Hook {
            command: strings(map.get("command")),
            user: map.get("user").and_then(text),
            privileged: privileged.filter(|p| p.value),
            working_dir: map.get("working_dir").and_then(Node::scalar_text),
            environment: string_pairs(map.get("environment")).into_iter().map(|(k, v)| (k.value, v)).collect(),
        };
        Some(Spanned::new(hook, item.span))
    };
    node.as_seq().unwrap_or_default().iter().filter_map(hook).collect()
}

/// `gpus: all` or a list of device requests.
fn gpus(node: &Node) -> Vec<Spanned<Device>> {
    if node.as_str() == Some("all") {
        let all = Device { count: Some(None), ..Device::default() };
        return vec![Spanned::new(all, node.span)];
    }
    devices(Some(node))
}

pub fn devices(node: Option<&Node>) -> Vec<Spanned<Device>> {
    let device = |item: &Node| {
        let map = item.as_map()?;
        let device = Device {
            capabilities: strings(map.get("capabilities")),
            driver: map.get("driver").and_then(Node::scalar_text),
            count: map.get("count").map(device_count),
            device_ids: strings(map.get("device_ids")),
        };
        Some(Spanned::new(device, item.span))
    };
    node.and_then(Node::as_seq).unwrap_or_default().iter().filter_map(device).collect()
}

/// `all` (Compose prints it as -1) is `None`.
fn device_count(node: &Node) -> Option<u32> {
    match &node.value {
        Value::Int(n) => u32::try_from(*n).ok(),
        Value::Str(text) => text.trim().parse().ok(),
        _ => None,
    }
}

pub fn placement(node: Option<&Node>) -> Placement {
    let Some(map) = node.and_then(Node::as_map) else { return Placement::default() };
    let constraints = map.get("constraints").and_then(Node::as_seq).unwrap_or_default();
    let preferences = map.get("preferences").and_then(Node::as_seq).unwrap_or_default();
    let spread = |p: &Node| p.as_map()?.get("spread").and_then(text);
    Placement {
        constraints: constraints.iter().filter_map(text).collect(),
        spreads: preferences.iter().filter_map(spread).collect(),
        max_replicas_per_node: map.get("max_replicas_per_node").and_then(count),
    }
}
