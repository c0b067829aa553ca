//! The `x-kompile` blocks, validated like compose keys: an unknown key is an error with
//! "did you mean", a bad value an error at the value. docs/x-kompile.md documents each key.

use crate::compose::{ProjectSettings, ServiceSettings, Spanned, VolumeSettings};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::node::{Map, Node};
use crate::model::AccessMode;
use crate::units;

pub fn project(node: Option<&Node>, diags: &mut Diagnostics) -> ProjectSettings {
    let Some(map) = block(node, "the project", diags) else { return ProjectSettings::default() };
    unknown_keys(map, ProjectSettings::KEYS, "the project", diags);
    let mut settings = ProjectSettings::default();
    for entry in &map.entries {
        match entry.key.as_str() {
            "registry" => settings.registry = string(&entry.value, "registry", diags),
            "deny" => settings.deny = string_list(&entry.value, "deny", diags),
            "warn" => settings.warn = string_list(&entry.value, "warn", diags),
            "allow" => settings.allow = string_list(&entry.value, "allow", diags),
            "network_policies" => settings.network_policies = boolean(&entry.value, "network_policies", diags),
            _ => {}
        }
    }
    settings
}

pub fn service(name: &str, node: Option<&Node>, diags: &mut Diagnostics) -> ServiceSettings {
    let place = format!("service `{name}`");
    let Some(map) = block(node, &place, diags) else { return ServiceSettings::default() };
    unknown_keys(map, ServiceSettings::KEYS, &place, diags);
    ServiceSettings::default()
}

pub fn volume(name: &str, node: Option<&Node>, diags: &mut Diagnostics) -> VolumeSettings {
    let place = format!("volume `{name}`");
    let Some(map) = block(node, &place, diags) else { return VolumeSettings::default() };
    unknown_keys(map, VolumeSettings::KEYS, &place, diags);
    let mut settings = VolumeSettings::default();
    for entry in &map.entries {
        match entry.key.as_str() {
            "size" => settings.size = size(&entry.value, name, diags),
            "storage_class" => settings.storage_class = string(&entry.value, "storage_class", diags),
            "access_mode" => settings.access_mode = access_mode(&entry.value, diags),
            _ => {}
        }
    }
    settings
}

/// The block itself: absent, or a mapping.
fn block<'a>(node: Option<&'a Node>, place: &str, diags: &mut Diagnostics) -> Option<&'a Map> {
    let node = node?;
    if node.is_null() {
        return None;
    }
    let map = node.as_map();
    if map.is_none() {
        diags.push(
            Diagnostic::new(Code::WrongType, format!("`x-kompile` of {place} must be a mapping"))
                .at(node.span, format!("{}, not a mapping", node.kind_name()))
                .help("write the settings as `x-kompile: {key: value}`; see docs/x-kompile.md"),
        );
    }
    map
}

fn unknown_keys(map: &Map, known: &'static [&'static str], place: &str, diags: &mut Diagnostics) {
    for entry in map.entries.iter().filter(|e| !known.contains(&e.key.as_str())) {
        let diagnostic =
            Diagnostic::new(Code::UnknownSetting, format!("`x-kompile.{}` of {place} is not a setting", entry.key))
                .at(entry.key_span, "unknown setting");
        let known_list = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
        diags.push(match crate::suggest::closest(&entry.key, known.iter().copied()) {
            Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
            None => diagnostic.help(format!("settings here: {known_list}; see docs/x-kompile.md")),
        });
    }
}

fn string(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    match node.scalar_text() {
        Some(text) => Some(Spanned::new(text, node.span)),
        _ => {
            diags.push(wrong(node, key, "a string"));
            None
        }
    }
}

fn boolean(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
    match node.value {
        crate::load::node::Value::Bool(b) => Some(Spanned::new(b, node.span)),
        _ => {
            diags.push(wrong(node, key, "true or false"));
            None
        }
    }
}

fn string_list(node: &Node, key: &str, diags: &mut Diagnostics) -> Vec<Spanned<String>> {
    let Some(items) = node.as_seq() else {
        diags.push(wrong(node, key, "a list of strings"));
        return Vec::new();
    };
    items.iter().filter_map(|item| string(item, key, diags)).collect()
}

fn size(node: &Node, volume: &str, diags: &mut Diagnostics) -> Option<Spanned<u64>> {
    let text = node.scalar_text().unwrap_or_default();
    let size = units::parse_bytes(&text).filter(|b| *b > 0);
    if size.is_none() {
        diags.push(
            Diagnostic::new(Code::InvalidSize, format!("`{text}` is not a size for volume `{volume}`"))
                .at(node.span, "invalid size")
                .help("write a number with a binary unit: `10Gi`, `512Mi`, `10g`"),
        );
    }
    Some(Spanned::new(size?, node.span))
}

fn access_mode(node: &Node, diags: &mut Diagnostics) -> Option<Spanned<AccessMode>> {
    let mode = match node.as_str() {
        Some("ReadWriteOnce") => AccessMode::ReadWriteOnce,
        Some("ReadWriteMany") => AccessMode::ReadWriteMany,
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    "`x-kompile.access_mode` must be `ReadWriteOnce` or `ReadWriteMany`",
                )
                .at(node.span, "not an access mode")
                .help("ReadWriteMany needs storage that attaches to many nodes (NFS, CephFS, EFS)"),
            );
            return None;
        }
    };
    Some(Spanned::new(mode, node.span))
}

fn wrong(node: &Node, key: &str, expected: &str) -> Diagnostic {
    Diagnostic::new(Code::WrongType, format!("`x-kompile.{key}` must be {expected}"))
        .at(node.span, format!("{}, not {expected}", node.kind_name()))
        .help("see docs/x-kompile.md")
}
