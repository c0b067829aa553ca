//! `ports` in long form, one entry per port (ranges expanded where Compose expands them).

use super::{Context, drop_unknown_keys, one_of, to_string};
use crate::diag::{Code, Diagnostic};
use crate::load::node::{Map, Node, Value};
use crate::load::{schema, wrong_type};
use crate::ports;
use crate::source::Span;

/// One port in Compose's long syntax, before it becomes a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongPort {
    pub host_ip: Option<String>,
    pub target: u16,
    pub published: Option<String>,
    pub protocol: String,
}

pub fn canonicalize(node: &mut Node, cx: &mut Context<'_>) {
    let span = node.span;
    let Some(items) = node.as_seq() else {
        cx.diags.push(wrong_type(node, "a list of ports"));
        return;
    };
    let mut out = Unique::default();
    for item in items {
        if let Value::Map(map) = &item.value {
            if let Some(long) = long_port(map.clone(), item.span, cx) {
                out.push(long, cx);
            }
            continue;
        }
        let Some(text) = item.scalar_text() else {
            cx.diags.push(wrong_type(item, "a port"));
            continue;
        };
        match parse_short(&text) {
            Ok(ports) => ports.iter().for_each(|p| out.push(port_node(p, item.span), cx)),
            Err(reason) => cx.diags.push(invalid_port(&text, &reason, item.span)),
        }
    }
    *node = Node::new(Value::Seq(out.ports), span);
}

/// Compose drops a port equal to one already listed, after ranges are expanded and short
/// entries written long: `["3000", "3000-3001", {target: 3000}]` is 3000 and 3001.
/// A range may expand to 65,536 ports, so what was seen is a map, not a scan.
#[derive(Default)]
struct Unique {
    ports: Vec<Node>,
    seen: std::collections::HashMap<String, Span>,
}

impl Unique {
    /// Keeps `port` unless it was listed before; then warns (K114) and drops it.
    fn push(&mut self, port: Node, cx: &mut Context<'_>) {
        match self.seen.entry(identity(&port)) {
            std::collections::hash_map::Entry::Occupied(first) => cx.diags.push(listed_twice(&port, *first.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(port.span);
                self.ports.push(port);
            }
        }
    }
}

fn listed_twice(port: &Node, first: Span) -> Diagnostic {
    let target = port.as_map().and_then(|m| m.get("target")).and_then(Node::scalar_text).unwrap_or_default();
    Diagnostic::new(Code::DuplicatePort, format!("container port {target} is listed twice with the same mapping"))
        .at(port.span, "listed again; dropped, as Compose drops it")
        .also(first, "first listed here")
        .help("remove one of the two entries")
}

/// A port's keys and values, in key order (a long entry may list its keys in any order), as
/// one string: every port of a project is hashed once, so this stays one allocation.
fn identity(port: &Node) -> String {
    use std::fmt::Write;
    let entries = port.as_map().map(|m| m.entries.as_slice()).unwrap_or_default();
    let mut sorted: Vec<_> = entries.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut identity = String::new();
    for entry in sorted {
        // Separators no key or value of a canonical port contains; the kind keeps `80` and
        // `"80"` apart, as Compose's comparison of typed values does.
        let _ = match &entry.value.value {
            Value::Str(text) => write!(identity, "{}\u{1f}s{text}\u{1e}", entry.key),
            other => write!(identity, "{}\u{1f}{}\u{1e}", entry.key, Node::new(other.clone(), Span::NONE).to_json()),
        };
    }
    identity
}

pub fn invalid_port(text: &str, reason: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::InvalidPort, format!("invalid port `{text}`: {reason}"))
        .at(span, reason.to_string())
        .help("write `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`, e.g. `8080:80`, `127.0.0.1:5432:5432`, `53:53/udp`")
}

fn port_node(port: &LongPort, span: Span) -> Node {
    let mut map = Map::default();
    map.insert("mode", span, Node::str("ingress", span));
    if let Some(ip) = &port.host_ip {
        map.insert("host_ip", span, Node::str(ip.clone(), span));
    }
    map.insert("target", span, Node::new(Value::Int(i64::from(port.target)), span));
    if let Some(published) = &port.published {
        map.insert("published", span, Node::str(published.clone(), span));
    }
    map.insert("protocol", span, Node::str(port.protocol.clone(), span));
    Node::map(map, span)
}

fn long_port(mut map: Map, span: Span, cx: &mut Context<'_>) -> Option<Node> {
    drop_unknown_keys(&mut map, schema::PORT, "in a port", cx.diags);
    let target = map.get("target").cloned();
    let Some(target_node) = target else {
        cx.diags.push(
            Diagnostic::new(Code::InvalidPort, "a port needs a `target`")
                .at(span, "no `target`")
                .help("add `target: <container port>`"),
        );
        return None;
    };
    let text = target_node.scalar_text().unwrap_or_default();
    match parse_port_number(&text) {
        Ok(target) => {
            map.insert("target", target_node.span, Node::new(Value::Int(i64::from(target)), target_node.span))
        }
        Err(reason) => {
            cx.diags.push(invalid_port(&text, &reason, target_node.span));
            return None;
        }
    }
    if let Some(published) = map.get_mut("published") {
        to_string(published, cx.diags);
        let text = published.as_str().unwrap_or_default().to_string();
        if let Err(reason) = parse_range(&text) {
            cx.diags.push(invalid_port(&text, &reason, published.span));
        }
    }
    let protocol = map.get("protocol").and_then(Node::scalar_text).unwrap_or_else(|| "tcp".into());
    map.insert("protocol", span, Node::str(protocol.to_lowercase(), map.get("protocol").map_or(span, |n| n.span)));
    if let Some(protocol) = map.get_mut("protocol") {
        one_of(protocol, &ports::PROTOCOLS, cx.diags);
    }
    if map.get("mode").is_none() {
        map.insert("mode", span, Node::str("ingress", span));
    }
    Some(Node::map(map, span))
}

/// `[IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTOCOL]`, IPv6 addresses in brackets.
pub fn parse_short(text: &str) -> Result<Vec<LongPort>, String> {
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((rest, protocol)) => (rest, protocol.to_lowercase()),
        None => (text, "tcp".to_string()),
    };
    if !ports::is_protocol(&protocol) {
        return Err(format!("unknown protocol `{protocol}`"));
    }
    let (host_ip, rest) = split_ip(rest)?;
    let (published, container) = match rest.rsplit_once(':') {
        Some((published, container)) => (Some(published), container),
        None => (None, rest),
    };
    if published.is_some_and(|p| p.contains(':')) {
        return Err("too many `:`; wrap IPv6 addresses in brackets".into());
    }
    let published = published.filter(|p| !p.is_empty());
    let targets = parse_range(container)?;
    let published_range = published.map(parse_range).transpose()?;
    let port = |target: u16, published: Option<String>| LongPort {
        host_ip: host_ip.clone(),
        target,
        published,
        protocol: protocol.clone(),
    };
    match published_range {
        None => Ok(targets.map(|t| port(t, None)).collect()),
        Some(hosts) if targets.len() == 1 => {
            let published =
                if hosts.len() == 1 { hosts.start().to_string() } else { published.unwrap_or("").to_string() };
            Ok(vec![port(*targets.start(), Some(published))])
        }
        Some(hosts) if hosts.len() == targets.len() => {
            Ok(targets.zip(hosts).map(|(t, h)| port(t, Some(h.to_string()))).collect())
        }
        Some(_) => Err("the host and container ranges have different lengths".into()),
    }
}

/// Splits a leading `IP:` (or `[IPv6]:`) off; returns the IP, if any, and the rest.
fn split_ip(text: &str) -> Result<(Option<String>, &str), String> {
    if let Some(inner) = text.strip_prefix('[') {
        let (ip, rest) = inner.split_once(']').ok_or("an IPv6 address is missing its `]`")?;
        let rest = rest.strip_prefix(':').ok_or("expected `:` after the IPv6 address")?;
        ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("`{ip}` is not an IPv6 address"))?;
        return Ok((Some(ip.to_string()), rest));
    }
    let parts: Vec<&str> = text.split(':').collect();
    match parts.len() {
        1 | 2 => Ok((None, text)),
        3 => {
            let ip = parts[0];
            ip.parse::<std::net::IpAddr>().map_err(|_| format!("`{ip}` is not an IP address"))?;
            Ok((Some(ip.to_string()), &text[ip.len() + 1..]))
        }
        _ => Err("too many `:`; wrap IPv6 addresses in brackets".into()),
    }
}

/// `80` or `9000-9002`; every port in 1–65535.
pub fn parse_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    ports::range(text, 1).map_err(|e| reason(&e))
}

pub fn parse_port_number(text: &str) -> Result<u16, String> {
    ports::number(text, 1).map_err(|e| reason(&e))
}

/// A port error in the words of the compose diagnostics.
fn reason(error: &ports::Error) -> String {
    match error {
        ports::Error::Missing => "a port number is missing".into(),
        ports::Error::NotANumber(text) => format!("`{text}` is not a port number"),
        ports::Error::OutOfRange(text) => format!("`{text}` is outside 1-65535"),
        ports::Error::Backwards(text) => format!("the range `{text}` ends before it starts"),
    }
}

/// `expose` entries: a port or range, optionally with a protocol (lowercased).
pub fn parse_expose(text: &str) -> Option<(std::ops::RangeInclusive<u16>, String)> {
    let spec = ports::spec(text, 1).ok()?;
    let protocol = spec.protocol.unwrap_or("tcp").to_lowercase();
    ports::is_protocol(&protocol).then(|| (spec.ports(), protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(text: &str) -> Vec<(Option<String>, u16, Option<String>, String)> {
        parse_short(text).unwrap().into_iter().map(|p| (p.host_ip, p.target, p.published, p.protocol)).collect()
    }

    #[test]
    fn short_forms() {
        assert_eq!(short("80"), vec![(None, 80, None, "tcp".into())]);
        assert_eq!(short("8080:80"), vec![(None, 80, Some("8080".into()), "tcp".into())]);
        assert_eq!(short("127.0.0.1:8081:81"), vec![(Some("127.0.0.1".into()), 81, Some("8081".into()), "tcp".into())]);
        assert_eq!(short("127.0.0.1::84"), vec![(Some("127.0.0.1".into()), 84, None, "tcp".into())]);
        assert_eq!(short("[::1]:82:82"), vec![(Some("::1".into()), 82, Some("82".into()), "tcp".into())]);
        assert_eq!(short("93:93/UDP"), vec![(None, 93, Some("93".into()), "udp".into())]);
        assert_eq!(short("9000-9001:9000-9001").len(), 2);
        assert_eq!(short("3000-3001").len(), 2);
        assert_eq!(short("8090-8091:90"), vec![(None, 90, Some("8090-8091".into()), "tcp".into())]);
    }

    #[test]
    fn bad_ports_explain_themselves() {
        assert!(parse_short("abc:80").unwrap_err().contains("abc"));
        assert!(parse_short("80:80:80:80").is_err());
        assert!(parse_short("70000").unwrap_err().contains("1-65535"));
        assert!(parse_short("0").is_err());
        assert!(parse_short("80/xyz").unwrap_err().contains("protocol"));
        assert!(parse_short("9000-9002:80-81").is_err());
        assert!(parse_short("90-80").is_err());
    }
}
