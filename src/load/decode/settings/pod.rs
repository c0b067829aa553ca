//! The `x-kompile` settings of a service's pod and its availability (`service_account`,
//! `image_pull_secrets`, `node_selector`, `tolerations`, `disruption`, `autoscale`) and the
//! project's `kubernetes_version`, validated as the API server would.

use super::{block_of, node_text, string, unknown_keys, wrong};
use crate::compose::{Key, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Node, Value};
use crate::model::{Amount, Autoscale, Budget, MemoryTarget, Toleration};
use crate::names::{is_dns_subdomain, is_label_value, is_qualified_name};

const AUTOSCALE_KEYS: &[&str] = &["min", "max", "cpu", "memory"];
const DISRUPTION_KEYS: &[&str] = &["max_unavailable", "min_available"];
const TOLERATION_KEYS: &[&str] = &["key", "operator", "value", "effect", "tolerationSeconds"];
const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn invalid(node: &Node, message: String, label: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidValue, message).at(node.span, label.to_string()).help(help.to_string())
}

/// `"1.33"`, `v1.33` or `1.33.2`. A bare `1.30` is the number 1.3 to YAML, so only text is
/// taken.
pub fn kubernetes_version(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<(u32, u32)>> {
    let parsed = node.as_str().and_then(|text| {
        let mut parts = text.trim().trim_start_matches('v').split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    });
    if parsed.is_none() {
        let help = "write the version in quotes, e.g. `kubernetes_version: \"1.33\"` (YAML reads a bare 1.30 as 1.3)";
        let message = format!("`x-kompile.kubernetes_version` cannot be `{}`", node_text(node));
        diags.push(invalid(node, message, "not a Kubernetes version such as \"1.33\"", help));
    }
    Some(Spanned::new(parsed?, node.span))
}

/// A Secret or ServiceAccount name.
pub fn object_name(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let name = string(node, key, diags)?;
    if is_dns_subdomain(&name) {
        return Some(name);
    }
    let message = format!("`x-kompile.{key}` `{}` is not a Kubernetes object name", name.value);
    diags.push(invalid(node, message, "not a name", "names are lowercase letters, digits, `-` and `.`"));
    None
}

pub fn object_names(node: &Node, key: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    let Some(items) = node.as_seq() else {
        diags.push(wrong(node, key, "a list of names"));
        return Vec::new();
    };
    items.iter().filter_map(|item| object_name(item, key, diags)).collect()
}

pub fn node_selector(node: &Node, diags: &mut Diagnostics) -> Vec<(Key, String)> {
    let Some(map) = block_of(node, "node_selector", diags) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in &map.entries {
        let Some(value) = string(&entry.value, "node_selector", diags) else { continue };
        if !is_qualified_name(&entry.key) || !is_label_value(&value) {
            let message = format!("`x-kompile.node_selector` `{}: {}` is not a node label", entry.key, value.value);
            let help = "keys are an optional DNS prefix and `/` then a name (`disktype`, `kubernetes.io/arch`); values at most 63 letters, digits, `-`, `_`, `.`";
            diags.push(invalid(&entry.value, message, "not a label", help));
            continue;
        }
        out.push((Spanned::new(entry.key.clone(), entry.key_span), value.value));
    }
    out
}

pub fn tolerations(node: &Node, diags: &mut Diagnostics) -> Vec<Spanned<Toleration>> {
    let Some(items) = node.as_seq() else {
        diags.push(wrong(node, "tolerations", "a list of tolerations"));
        return Vec::new();
    };
    items.iter().filter_map(|item| toleration(item, diags)).collect()
}

fn toleration(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<Toleration>> {
    let map = block_of(node, "tolerations", diags)?;
    unknown_keys(map, TOLERATION_KEYS, "tolerations.", "a toleration", diags);
    let text = |key: &str, diags: &mut Diagnostics| map.get(key).and_then(|v| string(v, key, diags)).map(|s| s.value);
    let mut toleration = Toleration {
        key: text("key", diags).filter(|k| !k.is_empty()),
        operator: text("operator", diags),
        value: text("value", diags).filter(|v| !v.is_empty()),
        effect: text("effect", diags),
        seconds: None,
    };
    if let Some(seconds) = map.get("tolerationSeconds") {
        match seconds.value {
            Value::Int(n) => toleration.seconds = Some(n),
            _ => diags.push(wrong(seconds, "tolerations.tolerationSeconds", "a whole number of seconds")),
        }
    }
    match toleration_problem(&toleration) {
        None => Some(Spanned::new(toleration, node.span)),
        Some(problem) => {
            let help = "write e.g. `{key: gpu, operator: Exists, effect: NoSchedule}` or `{key: team, value: ml}`";
            diags.push(invalid(node, format!("toleration {problem}"), "not a valid toleration", help));
            None
        }
    }
}

/// What the API server would refuse in a toleration.
fn toleration_problem(t: &Toleration) -> Option<String> {
    let exists = match t.operator.as_deref() {
        None | Some("Equal") => false,
        Some("Exists") => true,
        Some(other) => return Some(format!("operator `{other}` is neither `Exists` nor `Equal`")),
    };
    if let Some(key) = t.key.as_deref().filter(|k| !is_qualified_name(k)) {
        return Some(format!("key `{key}` is not a label key"));
    }
    if t.key.is_none() && !exists {
        return Some("without a `key` must use `operator: Exists`".to_string());
    }
    match t.value.as_deref() {
        Some(value) if exists => return Some(format!("with `operator: Exists` cannot have value `{value}`")),
        Some(value) if !is_label_value(value) => return Some(format!("value `{value}` is not a label value")),
        _ => {}
    }
    if let Some(effect) = t.effect.as_deref().filter(|e| !EFFECTS.contains(e)) {
        return Some(format!("effect `{effect}` is not one of {}", EFFECTS.join(", ")));
    }
    if t.seconds.is_some() && t.effect.as_deref() != Some("NoExecute") {
        return Some("has `tolerationSeconds` without `effect: NoExecute`".to_string());
    }
    None
}

/// `false`, or `{max_unavailable: N}` / `{min_available: N}` with a count or a percentage.
pub fn disruption(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<Option<Budget>>> {
    if node.value == Value::Bool(false) {
        return Some(Spanned::new(None, node.span));
    }
    let Some(map) = node.as_map() else {
        diags.push(wrong(node, "disruption", "`false` or a mapping"));
        return None;
    };
    unknown_keys(map, DISRUPTION_KEYS, "disruption.", "a disruption budget", diags);
    let budgets: Vec<Budget> = map
        .entries
        .iter()
        .filter_map(|entry| {
            let amount = amount(&entry.value, &entry.key, diags)?;
            match entry.key.as_str() {
                "max_unavailable" => Some(Budget::MaxUnavailable(amount)),
                "min_available" => Some(Budget::MinAvailable(amount)),
                _ => None,
            }
        })
        .collect();
    if let [budget] = budgets.as_slice() {
        return Some(Spanned::new(Some(*budget), node.span));
    }
    if map.entries.iter().all(|e| DISRUPTION_KEYS.contains(&e.key.as_str())) {
        let help = "a PodDisruptionBudget has one of them, e.g. `disruption: {max_unavailable: 1}`";
        diags.push(invalid(
            node,
            "`x-kompile.disruption` needs exactly one of `max_unavailable` and `min_available`".to_string(),
            "not one budget",
            help,
        ));
    }
    None
}

/// A count of pods, or `"N%"`.
fn amount(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Amount> {
    let amount = match &node.value {
        Value::Int(n) => u32::try_from(*n).ok().map(Amount::Count),
        Value::Str(text) => percent(text).map(Amount::Percent),
        _ => None,
    };
    if amount.is_none() {
        let message = format!("`x-kompile.disruption.{key}` cannot be `{}`", node_text(node));
        diags.push(invalid(
            node,
            message,
            "not a number of pods or a percentage",
            "write a whole number (`1`) or a percentage (`\"25%\"`)",
        ));
    }
    amount
}

/// `"70%"` → 70; at most 100.
fn percent(text: &str) -> Option<u32> {
    text.trim().strip_suffix('%')?.trim().parse().ok().filter(|p| *p <= 100)
}

pub fn autoscale(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<Autoscale>> {
    let map = block_of(node, "autoscale", diags)?;
    unknown_keys(map, AUTOSCALE_KEYS, "autoscale.", "an autoscaler", diags);
    let replicas = |key: &str, diags: &mut Diagnostics| {
        let accept = |n: i64| u32::try_from(n).ok().filter(|n| *n >= 1);
        let (setting, help) = (format!("autoscale.{key}"), "write a whole number, at least 1");
        super::whole_number(map.get(key)?, &setting, accept, "not a number of replicas", help, diags).map(|n| n.value)
    };
    let min = replicas("min", diags).unwrap_or(0);
    let Some(max) = replicas("max", diags) else {
        if map.get("max").is_none() {
            let help = "write the most replicas the autoscaler may run, e.g. `autoscale: {max: 10, cpu: 70}`";
            diags.push(invalid(node, "`x-kompile.autoscale` needs `max`".to_string(), "no `max`", help));
        }
        return None;
    };
    if min > max {
        let message = format!("`x-kompile.autoscale.min` {min} is above `max` {max}");
        diags.push(invalid(node, message, "min above max", "make `min` at most `max`"));
        return None;
    }
    let cpu = map.get("cpu").and_then(|c| utilization(c, "cpu", diags));
    let memory = map.get("memory").and_then(|m| memory_target(m, diags));
    Some(Spanned::new(Autoscale { min, max, cpu, memory }, node.span))
}

/// A percentage of the request: `70` or `"70%"`, above 0.
fn utilization(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<u32> {
    let value = match &node.value {
        Value::Int(n) => u32::try_from(*n).ok(),
        Value::Str(text) => text.trim().strip_suffix('%').and_then(|p| p.trim().parse().ok()),
        _ => None,
    };
    let value = value.filter(|v| *v > 0);
    if value.is_none() {
        let message = format!("`x-kompile.autoscale.{key}` cannot be `{}`", node_text(node));
        diags.push(invalid(
            node,
            message,
            "not a utilization percentage",
            "write the target average utilization, percent of the request: `70` or `\"70%\"`",
        ));
    }
    value
}

/// A percentage of the request, or an average amount per pod (`512Mi`).
fn memory_target(node: &Node, diags: &mut Diagnostics) -> Option<MemoryTarget> {
    if let Value::Str(text) = &node.value
        && !text.trim().ends_with('%')
    {
        let bytes = crate::units::parse_bytes(text).filter(|b| *b > 0);
        if bytes.is_none() {
            let message = format!("`x-kompile.autoscale.memory` cannot be `{text}`");
            diags.push(invalid(
                node,
                message,
                "neither a percentage nor a size",
                "write a utilization percentage (`80`) or an average size per pod (`512Mi`)",
            ));
        }
        return bytes.map(MemoryTarget::AverageValue);
    }
    utilization(node, "memory", diags).map(MemoryTarget::Utilization)
}
