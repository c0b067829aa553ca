//! Short syntax → long syntax, one file at a time, before files merge (merging works on the
//! long form, as in Compose). Values are checked as they are converted; a bad value is
//! reported with its span and dropped, so one run reports every problem.

pub mod ports;
mod volumes;

use std::path::{Component, Path, PathBuf};

use super::env::Environment;
use super::node::{Map, Node, Tag, Value};
use super::{schema, wrong_type};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Sources, Span};
use crate::units;

/// Everything a conversion needs besides the node itself.
pub struct Context<'a> {
    pub base_dir: &'a Path,
    /// `--strict-paths`: files outside `base_dir` are refused.
    pub strict: bool,
    pub environment: &'a Environment,
    pub sources: &'a mut Sources,
    pub diags: &'a mut Diagnostics,
}

pub fn canonicalize(
    tree: &mut Node,
    base_dir: &Path,
    environment: &Environment,
    strict: bool,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) {
    let mut cx = Context { base_dir, strict, environment, sources, diags };
    let Some(root) = tree.as_map_mut() else { return };
    drop_unknown_keys(root, schema::TOP_LEVEL, "at the top level", cx.diags);
    if let Some(entry) = root.entries.iter().find(|e| e.key == "version") {
        cx.diags.push(
            Diagnostic::new(Code::UnknownKey, "`version` is obsolete and ignored")
                .at(entry.key_span, "obsolete")
                .help("remove the `version` line; Compose has not used it for years"),
        );
    }
    root.remove("version");
    for entry in &mut root.entries {
        match entry.key.as_str() {
            "services" => {
                drop_empty_names(&mut entry.value, cx.diags);
                each_map_value(&mut entry.value, &mut cx, service);
            }
            "networks" => each_map_value(&mut entry.value, &mut cx, |n, cx| resource(n, cx, schema::NETWORK)),
            "volumes" => each_map_value(&mut entry.value, &mut cx, |n, cx| resource(n, cx, schema::VOLUME)),
            "secrets" => each_map_value(&mut entry.value, &mut cx, |n, cx| resource(n, cx, schema::SECRET)),
            "configs" => each_map_value(&mut entry.value, &mut cx, |n, cx| resource(n, cx, schema::CONFIG)),
            _ => {}
        }
    }
}

/// A service named `""` can be no Kubernetes object nor host name: reported and dropped,
/// so no later stage meets it.
fn drop_empty_names(node: &mut Node, diags: &mut Diagnostics) {
    let Some(map) = node.as_map_mut() else { return };
    map.entries.retain(|entry| {
        let empty = entry.key.trim().is_empty();
        if empty {
            diags.push(
                Diagnostic::new(Code::InvalidValue, "a service name cannot be empty")
                    .at(entry.key_span, "empty name")
                    .help("name the service with letters, digits, `-`, `_` or `.`"),
            );
        }
        !empty
    });
}

/// Applies `f` to each value of a mapping (`services:` → each service); `null` entries
/// become empty mappings first.
fn each_map_value(node: &mut Node, cx: &mut Context<'_>, mut f: impl FnMut(&mut Node, &mut Context<'_>)) {
    if node.is_null() {
        *node = Node::map(Map::default(), node.span);
    }
    let Some(map) = node.as_map_mut() else {
        cx.diags.push(wrong_type(node, "a mapping"));
        *node = Node::map(Map::default(), node.span);
        return;
    };
    for entry in &mut map.entries {
        if entry.value.is_null() {
            entry.value = Node::map(Map::default(), entry.key_span);
        }
        if entry.value.as_map().is_none() {
            cx.diags.push(wrong_type(&entry.value, "a mapping"));
            entry.value = Node::map(Map::default(), entry.value.span);
            continue;
        }
        f(&mut entry.value, cx);
    }
}

/// Removes keys that are neither known nor `x-*`, with a warning that suggests the
/// closest known key.
pub fn drop_unknown_keys(map: &mut Map, known: &'static [&'static str], place: &str, diags: &mut Diagnostics) {
    map.entries.retain(|entry| {
        let keep = known.contains(&entry.key.as_str()) || entry.key.starts_with("x-");
        if !keep {
            let mut diagnostic = Diagnostic::new(Code::UnknownKey, format!("unknown key `{}` {place}", entry.key))
                .at(entry.key_span, "not a Compose key; ignored");
            // Tens of thousands of unknown keys are counted, not shown: suggest only for those shown.
            let suggestion = if diags.would_keep(Code::UnknownKey) {
                crate::suggest::closest(&entry.key, known.iter().copied())
            } else {
                None
            };
            diagnostic = match suggestion {
                Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
                None => diagnostic.help("remove it, or prefix it with `x-` to keep it as an extension"),
            };
            diags.push(diagnostic);
        }
        keep
    });
}

/// Top-level networks, volumes, secrets and configs: labels as a map, files absolute.
fn resource(node: &mut Node, cx: &mut Context<'_>, known: &'static [&'static str]) {
    let Some(map) = node.as_map_mut() else { return };
    drop_unknown_keys(map, known, "in this definition", cx.diags);
    legacy_external(map, cx.diags);
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "labels" | "driver_opts" => to_string_map(&mut entry.value, cx, BareValue::Empty),
            "file" => {
                absolute_path(&mut entry.value, cx);
                if let Some(path) = entry.value.as_str().map(PathBuf::from)
                    && !super::allow_outside(&path, cx.base_dir, entry.value.span, "read", cx.strict, cx.diags)
                {
                    // Refused: nothing later may read it.
                    entry.value = Node::new(Value::Null, entry.value.span);
                }
            }
            "external" | "internal" | "attachable" | "enable_ipv6" | "enable_ipv4" => {
                to_bool(&mut entry.value, cx.diags)
            }
            "content" | "name" | "environment" | "driver" => to_string(&mut entry.value, cx.diags),
            _ => {}
        }
    }
}

/// The legacy `external: {name: X}` → `name: X` and `external: true`, as Compose prints it,
/// with its deprecation warning. `external: {}` is just `external: true`. A `name` that
/// says something else is refused, as Compose refuses it.
fn legacy_external(map: &mut Map, diags: &mut Diagnostics) {
    let Some(external) = map.get_mut("external") else { return };
    let span = external.span;
    let Some(inner) = external.as_map_mut() else { return };
    drop_unknown_keys(inner, &["name"], "in `external`", diags);
    let legacy = inner.entry("name").map(|e| (e.key_span, e.value.clone()));
    *external = Node::new(Value::Bool(true), span);
    let Some((key_span, mut name)) = legacy else { return };
    to_string(&mut name, diags);
    let Some(text) = name.as_str().map(str::to_string) else { return };
    diags.push(
        Diagnostic::new(Code::UnknownKey, "`external.name` is deprecated")
            .at(key_span, "deprecated")
            .help(format!("write `name: {text}` and `external: true`")),
    );
    match map.get("name").and_then(Node::scalar_text) {
        Some(other) if other != text => diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`name: {other}` and `external.name: {text}` conflict"))
                .at(name.span, "a second name")
                .help("keep only `name`"),
        ),
        Some(_) => {}
        None => map.insert("name", key_span, name),
    }
}

fn service(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else { return };
    drop_unknown_keys(map, schema::SERVICE, "in a service", cx.diags);
    for entry in &mut map.entries {
        let value = &mut entry.value;
        // Conversions build new nodes; `!reset`/`!override` must survive them for the merge.
        let tag = value.tag;
        match entry.key.as_str() {
            "build" => build(value, cx),
            "ports" => ports::canonicalize(value, cx),
            "expose" => expose(value, cx),
            "volumes" => volumes::canonicalize(value, cx),
            "environment" => to_string_map(value, cx, BareValue::FromEnvironment),
            "env_file" => env_files(value, cx),
            "labels" | "annotations" | "sysctls" => to_string_map(value, cx, BareValue::Empty),
            "depends_on" => depends_on(value, cx),
            "healthcheck" => healthcheck(value, cx),
            "command" | "entrypoint" => command(value, cx),
            "deploy" => deploy(value, cx),
            "cpus" => cpus(value, cx.diags),
            "mem_limit" | "mem_reservation" | "memswap_limit" | "shm_size" => bytes(value, cx.diags),
            "secrets" => file_references(value, cx, Some("/run/secrets/")),
            "configs" => file_references(value, cx, None),
            "networks" => service_networks(value, cx),
            "dns" | "dns_search" | "tmpfs" | "dns_opt" => string_list(value, cx, false),
            "cap_add" | "cap_drop" | "security_opt" | "profiles" | "group_add" | "links" | "external_links" => {
                string_list(value, cx, true)
            }
            "extra_hosts" => extra_hosts(value, cx),
            "stop_grace_period" => duration(value, cx.diags),
            "user" | "working_dir" | "image" | "restart" | "hostname" | "container_name" | "stop_signal" => {
                required_string(value, cx.diags)
            }
            "read_only" | "tty" | "stdin_open" | "privileged" | "init" => to_bool(value, cx.diags),
            "scale" => to_count(value, cx.diags),
            "pull_policy" => pull_policy(value),
            "post_start" | "pre_stop" => hooks(value, cx),
            _ => {}
        }
        value.tag = tag;
    }
}

// ---- scalars -------------------------------------------------------------------------

/// A scalar where Compose wants a string: numbers and booleans become their text.
/// [`to_string`] for keys whose schema type is a plain string: Compose rejects `image:` with
/// no value ("must be a string"), where kompile used to build a container with no image.
/// `!reset` with no value stays, for the merge.
fn required_string(node: &mut Node, diags: &mut Diagnostics) {
    if node.is_null() && node.tag != Tag::Reset {
        diags.push(wrong_type(node, "a string").help("give it a value, or remove the key"));
        return;
    }
    to_string(node, diags);
}

pub fn to_string(node: &mut Node, diags: &mut Diagnostics) {
    match node.scalar_text() {
        Some(text) => node.value = Value::Str(text),
        None if node.is_null() => {}
        None => diags.push(wrong_type(node, "a string")),
    }
}

pub fn to_bool(node: &mut Node, diags: &mut Diagnostics) {
    let parsed = match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) => match s.as_str() {
            "true" | "True" | "TRUE" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "False" | "FALSE" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    match parsed {
        Some(b) => node.value = Value::Bool(b),
        None => diags.push(wrong_type(node, "true or false").help("write `true` or `false`")),
    }
}

pub fn to_int(node: &mut Node, diags: &mut Diagnostics) {
    let parsed = match &node.value {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    };
    match parsed {
        Some(i) => node.value = Value::Int(i),
        None => diags.push(wrong_type(node, "a whole number")),
    }
}

/// A whole number that counts something (`deploy.replicas`, `healthcheck.retries`): Compose
/// refuses a negative one, which Kubernetes would refuse too.
fn to_count(node: &mut Node, diags: &mut Diagnostics) {
    to_int(node, diags);
    if let Value::Int(n) = node.value
        && n < 0
    {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`{n}` is negative; this is a count"))
                .at(node.span, "must be 0 or more")
                .help("write 0 or a positive whole number"),
        );
    }
}

fn duration(node: &mut Node, diags: &mut Diagnostics) {
    let Some(text) = node.scalar_text() else {
        diags.push(wrong_type(node, "a duration"));
        return;
    };
    match units::parse_duration(&text) {
        Some(d) => node.value = Value::Str(units::format_duration(d)),
        None => diags.push(
            Diagnostic::new(Code::InvalidDuration, format!("`{text}` is not a duration"))
                .at(node.span, "invalid duration")
                .help("write a number with a unit: `30s`, `1m30s`, `500ms`, `2h`"),
        ),
    }
}

/// Byte sizes become their exact byte count, as a string, as Compose prints them.
fn bytes(node: &mut Node, diags: &mut Diagnostics) {
    let Some(text) = node.scalar_text() else {
        diags.push(wrong_type(node, "a size such as `512m`"));
        return;
    };
    if text == "-1" {
        node.value = Value::Str(text);
        return;
    }
    match units::parse_bytes(&text) {
        Some(n) => node.value = Value::Str(n.to_string()),
        None => diags.push(
            Diagnostic::new(Code::InvalidSize, format!("`{text}` is not a size"))
                .at(node.span, "invalid size")
                .help("write bytes or a number with a binary unit: `512m`, `1g`, `64k`"),
        ),
    }
}

fn cpus(node: &mut Node, diags: &mut Diagnostics) {
    let Some(text) = node.scalar_text() else {
        diags.push(wrong_type(node, "a number of CPUs"));
        return;
    };
    match units::parse_cpus(&text) {
        Some(n) => node.value = Value::Float(n),
        None => diags.push(
            Diagnostic::new(Code::InvalidCpus, format!("`{text}` is not a number of CPUs"))
                .at(node.span, "invalid CPU value")
                .help("write a non-negative number of cores: `0.5`, `2`"),
        ),
    }
}

fn pull_policy(node: &mut Node) {
    if node.as_str() == Some("if_not_present") {
        node.value = Value::Str("missing".into());
    }
}

// ---- lists and maps --------------------------------------------------------------------

/// What a bare `KEY` (no `=`) means in a list-form mapping.
#[derive(Clone, Copy)]
pub enum BareValue {
    /// `environment`: the variable's value from the environment, else null.
    FromEnvironment,
    /// `labels`: an empty string.
    Empty,
    /// build `args`: the environment's value, else the key is dropped.
    FromEnvironmentOrDrop,
}

/// `[K=V, ...]` or `{K: V}` → `{K: "V"}`; scalars become strings.
pub fn to_string_map(node: &mut Node, cx: &mut Context<'_>, bare: BareValue) {
    let span = node.span;
    let mut out = Map::default();
    match &node.value {
        Value::Null => {}
        Value::Seq(items) => {
            for item in items {
                let Some(text) = item.scalar_text() else {
                    cx.diags.push(wrong_type(item, "`KEY=VALUE`"));
                    continue;
                };
                let (key, value) = match text.split_once('=') {
                    Some((k, v)) => {
                        (k.to_string(), Some(Node { interpolated: item.interpolated, ..Node::str(v, item.span) }))
                    }
                    None => (text.clone(), None),
                };
                if let Some(value) = value.or_else(|| bare_value(&key, item.span, bare, cx)) {
                    out.insert(key, item.span, value);
                }
            }
        }
        Value::Map(map) => {
            for entry in &map.entries {
                let value = match entry.value.scalar_text() {
                    Some(text) => Some(Node::str(text, entry.value.span)),
                    None if entry.value.is_null() => bare_value(&entry.key, entry.key_span, bare, cx),
                    None => {
                        cx.diags.push(wrong_type(&entry.value, "a string, number or boolean"));
                        continue;
                    }
                };
                if let Some(mut value) = value {
                    value.tag = entry.value.tag;
                    value.interpolated = entry.value.interpolated;
                    out.insert(entry.key.clone(), entry.key_span, value);
                }
            }
        }
        _ => {
            cx.diags.push(wrong_type(node, "a mapping or a list of `KEY=VALUE`"));
            return;
        }
    }
    *node = Node::map(out, span);
}

fn bare_value(key: &str, span: Span, bare: BareValue, cx: &Context<'_>) -> Option<Node> {
    match bare {
        BareValue::Empty => Some(Node::str("", span)),
        BareValue::FromEnvironment => {
            Some(cx.environment.get(key).map_or_else(|| Node::new(Value::Null, span), |v| Node::str(v, span)))
        }
        BareValue::FromEnvironmentOrDrop => cx.environment.get(key).map(|v| Node::str(v, span)),
    }
}

/// A string or a list of strings → a list of strings, optionally without duplicates.
fn string_list(node: &mut Node, cx: &mut Context<'_>, dedupe: bool) {
    let span = node.span;
    let items: Vec<Node> = match &node.value {
        Value::Seq(items) => items.clone(),
        Value::Null => Vec::new(),
        _ if node.scalar_text().is_some() => vec![node.clone()],
        _ => {
            cx.diags.push(wrong_type(node, "a string or a list of strings"));
            return;
        }
    };
    let mut out: Vec<Node> = Vec::new();
    for mut item in items {
        to_string(&mut item, cx.diags);
        if item.as_str().is_none() {
            continue;
        }
        if dedupe && out.iter().any(|o| o.value == item.value) {
            continue;
        }
        out.push(item);
    }
    *node = Node::new(Value::Seq(out), span);
}

fn expose(node: &mut Node, cx: &mut Context<'_>) {
    string_list(node, cx, true);
    for item in node.as_seq().unwrap_or_default() {
        let text = item.as_str().unwrap_or_default();
        if ports::parse_expose(text).is_none() {
            cx.diags.push(
                Diagnostic::new(Code::InvalidPort, format!("`{text}` is not a port to expose"))
                    .at(item.span, "invalid port")
                    .help("write a port or range with an optional protocol: `8080`, `9000-9002`, `53/udp`"),
            );
        }
    }
}

/// `extra_hosts` as a list of `host=ip`, sorted, as Compose prints it.
fn extra_hosts(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let mut hosts: Vec<Node> = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for item in items {
                let Some(text) = item.scalar_text() else {
                    cx.diags.push(wrong_type(item, "`host=ip`"));
                    continue;
                };
                let entry = match text.split_once('=') {
                    Some(_) => text,
                    None => text.replacen(':', "=", 1),
                };
                hosts.push(Node::str(entry, item.span));
            }
        }
        Value::Map(map) => {
            for entry in &map.entries {
                let ips: Vec<&Node> = match &entry.value.value {
                    Value::Seq(items) => items.iter().collect(),
                    _ => vec![&entry.value],
                };
                for ip in ips {
                    let text = ip.scalar_text().unwrap_or_default();
                    hosts.push(Node::str(format!("{}={text}", entry.key), ip.span));
                }
            }
        }
        _ => {
            cx.diags.push(wrong_type(node, "a list of `host=ip` or a mapping"));
            return;
        }
    }
    hosts.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    hosts.dedup_by(|a, b| a.value == b.value);
    *node = Node::new(Value::Seq(hosts), span);
}

/// `command`/`entrypoint`: a string is split as a POSIX shell splits words.
fn command(node: &mut Node, cx: &mut Context<'_>) {
    match &mut node.value {
        Value::Null => {}
        Value::Str(text) => match shell_words::split(text) {
            Ok(words) => {
                let span = node.span;
                node.value = Value::Seq(words.into_iter().map(|w| Node::str(w, span)).collect());
            }
            Err(_) => cx.diags.push(
                Diagnostic::new(Code::InvalidValue, "the command has an unterminated quote")
                    .at(node.span, "unbalanced quotes")
                    .help("close the quote, or write the command as a list: `[\"sh\", \"-c\", \"...\"]`"),
            ),
        },
        Value::Seq(items) => items.iter_mut().for_each(|i| to_string(i, cx.diags)),
        _ => cx.diags.push(wrong_type(node, "a string or a list of strings")),
    }
}

fn build(node: &mut Node, cx: &mut Context<'_>) {
    if node.scalar_text().is_some() {
        let span = node.span;
        let mut map = Map::default();
        map.insert("context", span, node.clone());
        *node = Node::map(map, span);
    }
    let span = node.span;
    let Some(map) = node.as_map_mut() else {
        cx.diags.push(wrong_type(node, "a path or a mapping"));
        return;
    };
    drop_unknown_keys(map, schema::BUILD, "in `build`", cx.diags);
    if map.get("context").is_none() {
        map.insert("context", span, Node::str(".", span));
    }
    if map.get("dockerfile").is_none() && map.get("dockerfile_inline").is_none() {
        map.insert("dockerfile", span, Node::str("Dockerfile", span));
    }
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "context" => context_path(&mut entry.value, cx),
            "args" => to_string_map(&mut entry.value, cx, BareValue::FromEnvironmentOrDrop),
            "labels" => to_string_map(&mut entry.value, cx, BareValue::Empty),
            "secrets" => file_references(&mut entry.value, cx, None),
            "dockerfile" | "target" | "network" => to_string(&mut entry.value, cx.diags),
            _ => {}
        }
    }
}

/// A build context: a local path made absolute; URLs (git, http) kept as written.
fn context_path(node: &mut Node, cx: &mut Context<'_>) {
    let Some(text) = node.as_str() else { return to_string(node, cx.diags) };
    if text.contains("://") || text.starts_with("git@") {
        return;
    }
    absolute_path(node, cx);
}

/// Makes a path absolute against the file's base directory, `~` against `$HOME`, and
/// cleans `.`/`..` without touching the disk.
pub fn absolute_path(node: &mut Node, cx: &mut Context<'_>) {
    to_string(node, cx.diags);
    if let Some(text) = node.as_str() {
        let resolved = resolve_path(text, cx);
        node.value = Value::Str(resolved.to_string_lossy().into_owned());
    }
}

pub fn resolve_path(text: &str, cx: &Context<'_>) -> PathBuf {
    let home = cx.environment.get("HOME").unwrap_or_default();
    let path = match text.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(format!("{home}{rest}")),
        _ => PathBuf::from(text),
    };
    clean(&cx.base_dir.join(path))
}

/// Lexical `.`/`..` resolution, as Go's `filepath.Clean`: `..` above the root is the root
/// (`/a/../../etc` is `/etc`); a relative path keeps the `..`s it cannot resolve.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut names = 0usize;
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if names > 0 => {
                out.pop();
                names -= 1;
            }
            Component::ParentDir if out.has_root() => {}
            Component::ParentDir => out.push(".."),
            Component::Normal(name) => {
                out.push(name);
                names += 1;
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// [`clean`] for a path inside a container, always `/`-separated.
pub fn clean_container_path(text: &str) -> String {
    clean(Path::new(text)).to_string_lossy().into_owned()
}

fn env_files(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let items: Vec<Node> = match &node.value {
        Value::Seq(items) => items.clone(),
        _ => vec![node.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(entry) = env_file(&item, cx) {
            out.push(entry);
        }
    }
    *node = Node::new(Value::Seq(out), span);
}

/// One `env_file` entry → `{path, required, values}`; `values` holds what the file
/// defines, with spans into it, so no later stage reads the file again.
fn env_file(item: &Node, cx: &mut Context<'_>) -> Option<Node> {
    let (path_node, required) = match &item.value {
        Value::Map(map) => {
            let required = match map.get("required") {
                Some(n) => matches!(n.value, Value::Bool(true)) || n.as_str() == Some("true"),
                None => true,
            };
            (map.get("path")?.clone(), required)
        }
        _ => (item.clone(), true),
    };
    let mut path_node = path_node;
    absolute_path(&mut path_node, cx);
    let path = PathBuf::from(path_node.as_str()?);
    let mut map = Map::default();
    // A path that exists but is no regular file (a pipe, a directory) is refused when read.
    if !path.exists() {
        if required {
            cx.diags.push(
                Diagnostic::new(
                    Code::MissingFile,
                    format!("env file {} does not exist", crate::source::display_path(&path)),
                )
                .at(item.span, "not found")
                .help("create the file, fix the path, or mark it `required: false`"),
            );
        }
        return None;
    }
    if !super::allow_outside(&path, cx.base_dir, path_node.span, "read", cx.strict, cx.diags) {
        return None;
    }
    map.insert("path", item.span, path_node);
    map.insert("required", item.span, Node::new(Value::Bool(required), item.span));
    let env = cx.environment.clone();
    let lookup = |name: &str| env.get(name);
    let (file, text) = super::env::read_env_source(&path, item.span, cx.sources, cx.diags)?;
    let entries = super::dotenv::parse(&text, &lookup);
    let mut values = Map::default();
    match entries {
        Ok(entries) => {
            for entry in entries {
                let line = Span::new(file, entry.span.start, entry.span.end);
                if let Some(value) = entry.value.or_else(|| lookup(&entry.key)) {
                    values.insert(entry.key, line, Node::str(value, line));
                }
            }
        }
        Err(error) => {
            cx.diags.push(super::env::env_error(file, error));
            return None;
        }
    }
    map.insert("values", item.span, Node::map(values, item.span));
    Some(Node::map(map, item.span))
}

fn depends_on(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let mut out = Map::default();
    match &node.value {
        Value::Seq(items) => {
            for item in items {
                let Some(name) = item.scalar_text() else {
                    cx.diags.push(wrong_type(item, "a service name"));
                    continue;
                };
                out.insert(name, item.span, dependency(item.span, None));
            }
        }
        Value::Map(map) => {
            for entry in &map.entries {
                let mut value = dependency(entry.key_span, entry.value.as_map());
                if let Some(m) = value.as_map_mut() {
                    drop_unknown_keys(m, schema::DEPENDS_ON, "in `depends_on`", cx.diags);
                }
                check_condition(&value, cx.diags);
                out.insert(entry.key.clone(), entry.key_span, value);
            }
        }
        _ => {
            cx.diags.push(wrong_type(node, "a list of services or a mapping"));
            return;
        }
    }
    *node = Node::map(out, span);
}

/// A dependency in long form with Compose's defaults.
fn dependency(span: Span, given: Option<&Map>) -> Node {
    let mut map = given.cloned().unwrap_or_default();
    if map.get("condition").is_none() {
        map.insert("condition", span, Node::str("service_started", span));
    }
    if map.get("required").is_none() {
        map.insert("required", span, Node::new(Value::Bool(true), span));
    }
    if map.get("restart").is_some_and(|r| r.value == Value::Bool(false)) {
        map.remove("restart");
    }
    Node::map(map, span)
}

fn check_condition(dependency: &Node, diags: &mut Diagnostics) {
    const CONDITIONS: [&str; 3] = ["service_started", "service_healthy", "service_completed_successfully"];
    let Some(condition) = dependency.as_map().and_then(|m| m.get("condition")) else { return };
    if let Some(text) = condition.as_str().filter(|c| !CONDITIONS.contains(c)) {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`{text}` is not a dependency condition"))
                .at(condition.span, "unknown condition")
                .help(format!("use one of: {}", CONDITIONS.join(", "))),
        );
    }
}

fn healthcheck(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else {
        cx.diags.push(wrong_type(node, "a mapping"));
        return;
    };
    drop_unknown_keys(map, schema::HEALTHCHECK, "in `healthcheck`", cx.diags);
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "test" => health_test(&mut entry.value, cx),
            "interval" | "timeout" | "start_period" | "start_interval" => duration(&mut entry.value, cx.diags),
            "retries" => to_count(&mut entry.value, cx.diags),
            "disable" => to_bool(&mut entry.value, cx.diags),
            _ => {}
        }
    }
    if map.get("disable").is_some_and(|d| d.value == Value::Bool(false)) {
        map.remove("disable");
    }
}

/// A string test means `CMD-SHELL`; a list must start with NONE, CMD or CMD-SHELL.
fn health_test(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    match &mut node.value {
        Value::Str(text) => {
            let command = std::mem::take(text);
            node.value = Value::Seq(vec![Node::str("CMD-SHELL", span), Node::str(command, span)]);
        }
        Value::Seq(items) => {
            items.iter_mut().for_each(|i| to_string(i, cx.diags));
            let first = items.first().and_then(Node::as_str);
            if !matches!(first, Some("NONE" | "CMD" | "CMD-SHELL")) {
                cx.diags.push(
                    Diagnostic::new(Code::InvalidValue, "a healthcheck test list must start with CMD, CMD-SHELL or NONE")
                        .at(items.first().map_or(span, |i| i.span), "expected CMD, CMD-SHELL or NONE")
                        .help("write `[\"CMD\", \"curl\", \"-f\", \"http://localhost\"]` or a plain string for a shell command"),
                );
            }
        }
        _ => cx.diags.push(wrong_type(node, "a string or a list")),
    }
}

fn deploy(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let Some(map) = node.as_map_mut() else {
        cx.diags.push(wrong_type(node, "a mapping"));
        return;
    };
    drop_unknown_keys(map, schema::DEPLOY, "in `deploy`", cx.diags);
    for key in ["resources", "placement"] {
        if map.get(key).is_none() {
            map.insert(key, span, Node::map(Map::default(), span));
        }
    }
    for entry in &mut map.entries {
        let value = &mut entry.value;
        match entry.key.as_str() {
            "replicas" => to_count(value, cx.diags),
            "labels" => to_string_map(value, cx, BareValue::Empty),
            "resources" => resources(value, cx),
            "update_config" | "rollback_config" => update_config(value, cx),
            "restart_policy" => restart_policy(value, cx),
            "mode" | "endpoint_mode" => to_string(value, cx.diags),
            _ => {}
        }
    }
}

fn resources(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else { return cx.diags.push(wrong_type(node, "a mapping")) };
    drop_unknown_keys(map, schema::RESOURCES, "in `resources`", cx.diags);
    for entry in &mut map.entries {
        let known = if entry.key == "limits" { schema::RESOURCE_LIMITS } else { schema::RESOURCE_RESERVATIONS };
        let Some(inner) = entry.value.as_map_mut() else {
            cx.diags.push(wrong_type(&entry.value, "a mapping"));
            continue;
        };
        drop_unknown_keys(inner, known, "in resources", cx.diags);
        for item in &mut inner.entries {
            match item.key.as_str() {
                "cpus" => cpus(&mut item.value, cx.diags),
                "memory" => bytes(&mut item.value, cx.diags),
                "pids" => to_int(&mut item.value, cx.diags),
                "devices" => device_counts(&mut item.value),
                _ => {}
            }
        }
    }
}

/// `count: all` of a device request is printed as -1, as Compose does.
fn device_counts(node: &mut Node) {
    let Value::Seq(items) = &mut node.value else { return };
    for count in items.iter_mut().filter_map(|d| d.as_map_mut()?.get_mut("count")) {
        if count.as_str() == Some("all") {
            count.value = Value::Int(-1);
        }
    }
}

/// `post_start` and `pre_stop` hooks: `command` as a list, `environment` as a mapping.
fn hooks(node: &mut Node, cx: &mut Context<'_>) {
    let Value::Seq(items) = &mut node.value else { return cx.diags.push(wrong_type(node, "a list of hooks")) };
    for hook in items.iter_mut().filter_map(Node::as_map_mut) {
        for entry in &mut hook.entries {
            match entry.key.as_str() {
                "command" => command(&mut entry.value, cx),
                "environment" => to_string_map(&mut entry.value, cx, BareValue::FromEnvironment),
                "user" | "working_dir" => to_string(&mut entry.value, cx.diags),
                "privileged" => to_bool(&mut entry.value, cx.diags),
                _ => {}
            }
        }
    }
}

fn update_config(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else { return cx.diags.push(wrong_type(node, "a mapping")) };
    drop_unknown_keys(map, schema::UPDATE_CONFIG, "in `update_config`", cx.diags);
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "parallelism" => to_int(&mut entry.value, cx.diags),
            "delay" | "monitor" => duration(&mut entry.value, cx.diags),
            "order" => one_of(&mut entry.value, &["start-first", "stop-first"], cx.diags),
            "failure_action" => one_of(&mut entry.value, &["continue", "rollback", "pause"], cx.diags),
            _ => {}
        }
    }
}

fn restart_policy(node: &mut Node, cx: &mut Context<'_>) {
    let Some(map) = node.as_map_mut() else { return cx.diags.push(wrong_type(node, "a mapping")) };
    drop_unknown_keys(map, schema::RESTART_POLICY, "in `restart_policy`", cx.diags);
    for entry in &mut map.entries {
        match entry.key.as_str() {
            "delay" | "window" => duration(&mut entry.value, cx.diags),
            "max_attempts" => to_int(&mut entry.value, cx.diags),
            "condition" => one_of(&mut entry.value, &["none", "on-failure", "any"], cx.diags),
            _ => {}
        }
    }
}

pub fn one_of(node: &mut Node, allowed: &[&str], diags: &mut Diagnostics) {
    to_string(node, diags);
    let Some(text) = node.as_str() else { return };
    if allowed.contains(&text) {
        return;
    }
    let mut diagnostic = Diagnostic::new(Code::InvalidValue, format!("`{text}` is not allowed here"))
        .at(node.span, format!("expected one of: {}", allowed.join(", ")));
    if let Some(close) = crate::suggest::closest(text, allowed.iter().copied()) {
        diagnostic = diagnostic.help(format!("did you mean `{close}`?"));
    }
    diags.push(diagnostic);
}

/// Service `secrets`/`configs`: names → `{source, target}`; `mode` printed in octal.
fn file_references(node: &mut Node, cx: &mut Context<'_>, default_dir: Option<&str>) {
    let span = node.span;
    let Some(items) = node.as_seq() else {
        cx.diags.push(wrong_type(node, "a list"));
        return;
    };
    let mut out = Vec::new();
    for item in items {
        let mut map = match &item.value {
            Value::Map(map) => map.clone(),
            _ => match item.scalar_text() {
                Some(name) => {
                    let mut map = Map::default();
                    map.insert("source", item.span, Node::str(name, item.span));
                    map
                }
                None => {
                    cx.diags.push(wrong_type(item, "a name or a mapping"));
                    continue;
                }
            },
        };
        drop_unknown_keys(&mut map, schema::FILE_REFERENCE, "in this reference", cx.diags);
        let source = map.get("source").and_then(Node::scalar_text);
        if let (Some(dir), Some(source), None) = (default_dir, &source, map.get("target")) {
            map.insert("target", item.span, Node::str(format!("{dir}{source}"), item.span));
        }
        if let Some(mode) = map.get_mut("mode") {
            file_mode(mode, cx.diags);
        }
        out.push(Node::map(map, item.span));
    }
    *node = Node::new(Value::Seq(out), span);
}

/// File modes print as Compose prints them, `0` then the octal digits (`0440`, `07`,
/// `01204`); YAML `0400` is already octal, a quoted `"0440"` is read as octal text.
fn file_mode(node: &mut Node, diags: &mut Diagnostics) {
    let mode = match &node.value {
        Value::Int(i) => u32::try_from(*i).ok(),
        Value::Str(s) => u32::from_str_radix(s.trim_start_matches("0o"), 8).ok(),
        _ => None,
    };
    match mode.filter(|m| *m <= 0o7777) {
        Some(mode) => node.value = Value::Str(format!("0{mode:o}")),
        None => diags.push(
            Diagnostic::new(Code::InvalidValue, "a file mode must be an octal number such as 0440")
                .at(node.span, "invalid mode"),
        ),
    }
}

fn service_networks(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    match &node.value {
        Value::Seq(items) => {
            let mut map = Map::default();
            for item in items {
                match item.scalar_text() {
                    Some(name) => map.insert(name, item.span, Node::new(Value::Null, item.span)),
                    None => cx.diags.push(wrong_type(item, "a network name")),
                }
            }
            *node = Node::map(map, span);
        }
        Value::Map(_) => {}
        _ => cx.diags.push(wrong_type(node, "a list or a mapping of networks")),
    }
}

/// Paths that are not relative to anything.
pub fn is_path_like(text: &str) -> bool {
    text.starts_with('.') || text.starts_with('/') || text.starts_with('~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_never_climbs_above_the_root() {
        let cases = [
            ("/a/../../etc/passwd", "/etc/passwd"),
            ("/..", "/"),
            ("/a/./b/../c/", "/a/c"),
            ("../../x", "../../x"),
            ("a/../../x", "../x"),
            ("a/b/../..", ""),
        ];
        for (path, want) in cases {
            assert_eq!(clean(Path::new(path)), PathBuf::from(want), "{path}");
        }
        assert_eq!(clean_container_path("/data/../../../run//x/."), "/run/x");
    }
}
