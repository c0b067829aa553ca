//! Service `volumes` in long form: `type`, `source`, `target`, options.

use super::{Context, clean_container_path, drop_unknown_keys, is_path_like, resolve_path, to_bool, to_string};
use crate::diag::{Code, Diagnostic};
use crate::load::node::{Map, Node, Value};
use crate::load::{schema, wrong_type};
use crate::source::Span;
use crate::units;

pub fn canonicalize(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let Some(items) = node.as_seq() else {
        cx.diags.push(wrong_type(node, "a list of volumes"));
        return;
    };
    let mut out = Vec::new();
    for item in items {
        let converted = match &item.value {
            Value::Map(map) => long(map.clone(), item.span, cx),
            _ => match item.scalar_text() {
                Some(text) => short(&text, item.span, cx),
                None => {
                    cx.diags.push(wrong_type(item, "a volume"));
                    None
                }
            },
        };
        if let Some(mount) = converted {
            keep_last_per_target(&mut out, mount);
        }
    }
    *node = Node::new(Value::Seq(out), span);
}

/// Compose keeps one mount per (cleaned) target: a later one replaces the earlier in its place.
fn keep_last_per_target(mounts: &mut Vec<Node>, mount: Node) {
    let target = |m: &Node| m.as_map().and_then(|m| m.get("target")).and_then(Node::scalar_text);
    let new = target(&mount);
    match mounts.iter_mut().find(|m| new.is_some() && target(m) == new) {
        Some(earlier) => *earlier = mount,
        None => mounts.push(mount),
    }
}

/// A bind source as Compose prints it: an absolute path as written, a relative one (or `~`)
/// made absolute against the file's directory and cleaned. Lowering cleans every source
/// before it decides anything from it.
/// A Windows absolute path (`C:\data`, `c:/data`, `\\server\share`) is kept as written too:
/// Compose running on Linux takes it and prints it unchanged.
fn bind_source(text: &str, cx: &Context<'_>) -> String {
    if text.starts_with('/') || is_windows_absolute(text) {
        text.to_string()
    } else {
        resolve_path(text, cx).to_string_lossy().into_owned()
    }
}

fn is_windows_absolute(text: &str) -> bool {
    let bytes = text.as_bytes();
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/');
    drive || text.starts_with(r"\\")
}

/// A bind source in short syntax: a path, or (as Compose reads it) a Windows drive path
/// or UNC path, whatever platform kompile runs on.
fn is_bind_source(text: &str) -> bool {
    let mut chars = text.chars();
    let drive = matches!((chars.next(), chars.next()), (Some(c), Some(':')) if c.is_alphabetic());
    is_path_like(text) || drive || text.starts_with(r"\\")
}

/// Splits at `:` as Compose does: a `:` right after a single letter is a Windows drive
/// (`C:\data:/data` is `C:\data` and `/data`), not a separator.
fn split_short(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let part = &text[start..i];
        let drive = part.chars().count() == 1 && part.chars().all(char::is_alphabetic);
        if c == ':' && !drive {
            parts.push(part);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `[SOURCE:]TARGET[:OPTIONS]`.
fn short(text: &str, span: Span, cx: &mut Context<'_>) -> Option<Node> {
    let parts = split_short(text);
    let (source, target, options) = match parts.as_slice() {
        [target] => (None, *target, ""),
        [source, target] => (Some(*source), *target, ""),
        [source, target, options] => (Some(*source), *target, *options),
        _ => {
            cx.diags.push(invalid_volume(text, "too many `:`", span));
            return None;
        }
    };
    if !target.starts_with('/') {
        cx.diags.push(invalid_volume(text, "the container path must be absolute", span));
        return None;
    }
    let mut map = Map::default();
    let mut flags = Map::default();
    let bind = source.is_some_and(is_bind_source);
    let kind = if bind { "bind" } else { "volume" };
    map.insert("type", span, Node::str(kind, span));
    if let Some(source) = source {
        let source = if bind { bind_source(source, cx) } else { source.to_string() };
        map.insert("source", span, Node::str(source, span));
    }
    map.insert("target", span, Node::str(clean_container_path(target), span));
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => map.insert("read_only", span, Node::new(Value::Bool(true), span)),
            "rw" | "cached" | "delegated" | "consistent" => {}
            "z" | "Z" if bind => flags.insert("selinux", span, Node::str(option, span)),
            "nocopy" if !bind => flags.insert("nocopy", span, Node::new(Value::Bool(true), span)),
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" if bind => {
                flags.insert("propagation", span, Node::str(option, span))
            }
            _ => {
                cx.diags.push(invalid_volume(text, &format!("unknown option `{option}`"), span));
                return None;
            }
        }
    }
    if bind {
        flags.insert("create_host_path", span, Node::new(Value::Bool(true), span));
    }
    map.insert(kind, span, Node::map(flags, span));
    Some(Node::map(map, span))
}

fn long(mut map: Map, span: Span, cx: &mut Context<'_>) -> Option<Node> {
    drop_unknown_keys(&mut map, schema::VOLUME_MOUNT, "in a volume", cx.diags);
    let kind = map.get("type").and_then(Node::scalar_text);
    let Some(kind) = kind else {
        cx.diags.push(
            Diagnostic::new(Code::InvalidValue, "a volume in long syntax needs a `type`")
                .at(span, "no `type`")
                .help("add `type: volume`, `type: bind` or `type: tmpfs`"),
        );
        return None;
    };
    if map.get("target").is_none() {
        cx.diags.push(
            Diagnostic::new(Code::InvalidValue, "a volume needs a `target`")
                .at(span, "no `target`")
                .help("add `target: /path/in/container`"),
        );
        return None;
    }
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "source" if kind == "bind" => {
                to_string(&mut entry.value, cx.diags);
                if let Some(text) = entry.value.as_str() {
                    entry.value.value = Value::Str(bind_source(text, cx));
                }
            }
            "target" => {
                to_string(&mut entry.value, cx.diags);
                if let Some(text) = entry.value.as_str() {
                    entry.value.value = Value::Str(clean_container_path(text));
                }
            }
            "source" | "consistency" => to_string(&mut entry.value, cx.diags),
            "read_only" => to_bool(&mut entry.value, cx.diags),
            "tmpfs" => tmpfs_options(&mut entry.value, cx),
            _ => {}
        }
    }
    map.remove("consistency");
    if let Some(kind_node) = map.get_mut("type") {
        super::one_of(kind_node, &["volume", "bind", "tmpfs", "image", "npipe", "cluster"], cx.diags);
    }
    Some(Node::map(map, span))
}

fn tmpfs_options(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else { return };
    if let Some(size) = map.get_mut("size") {
        let text = size.scalar_text().unwrap_or_default();
        match units::parse_bytes(&text) {
            Some(bytes) => size.value = Value::Str(bytes.to_string()),
            None => cx.diags.push(
                Diagnostic::new(Code::InvalidSize, format!("`{text}` is not a size"))
                    .at(size.span, "invalid size")
                    .help("write bytes or a number with a binary unit: `64m`, `1g`"),
            ),
        }
    }
}

fn invalid_volume(text: &str, reason: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::InvalidValue, format!("invalid volume `{text}`: {reason}")).at(span, reason.to_string()).help(
        "write `NAME:/container/path[:ro]` for a named volume or `./host/path:/container/path[:ro]` for a bind mount",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_drives_are_not_separators() {
        assert_eq!(split_short(r"C:\data:/data:ro"), [r"C:\data", "/data", "ro"]);
        assert_eq!(split_short("c:/x/y:/z"), ["c:/x/y", "/z"]);
        assert_eq!(split_short("data:/data"), ["data", "/data"]);
        assert_eq!(split_short("/data"), ["/data"]);
        assert!(is_windows_absolute(r"C:\data") && is_windows_absolute("c:/x") && is_windows_absolute(r"\\srv\share"));
        assert!(!is_windows_absolute("C:data") && !is_windows_absolute("./data"));
        assert!(is_bind_source("C:data") && is_bind_source(r"\\srv\s") && !is_bind_source("data"));
    }
}
