//! YAML text → [`Node`] tree with byte spans, duplicate keys rejected, `<<` merge keys
//! applied and alias expansion capped (an alias bomb must not eat the machine).

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YamlSpan};

use super::node::{Entry, Map, Node, Tag, Value};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Deeper nesting than this is hostile or broken; Compose files are a handful of levels deep.
const MAX_DEPTH: usize = 128;
/// How many nodes aliases may add in total; real files stay far below.
const MAX_ALIAS_NODES: usize = 100_000;

/// Parses the first document of `text`. An empty file is an empty mapping.
pub fn parse(file: FileId, text: &str) -> Result<Node, Diagnostic> {
    let mut builder = Builder::new(file, text);
    let mut parser = Parser::new_from_str(text);
    for event in &mut parser {
        match event {
            Ok((event, span)) => {
                if builder.event(event, span)? {
                    break;
                }
            }
            Err(error) => return Err(builder.scan_error(&error)),
        }
    }
    Ok(builder.root.unwrap_or_else(|| Node::map(Map::default(), Span::new(file, 0, 0))))
}

/// A collection being built, with where it started and its anchor.
enum Open {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
        tag: Tag,
    },
    Map {
        map: Map,
        merges: Vec<Node>,
        key: Option<(String, Span)>,
        /// Key → entry index, built once a mapping is large enough for scans to cost.
        index: Option<HashMap<String, usize>>,
        start: usize,
        anchor: usize,
        tag: Tag,
    },
}

/// Mappings up to this size look for duplicate keys by scanning; larger ones use an index.
const SCAN_LIMIT: usize = 16;

struct Builder<'a> {
    file: FileId,
    text: &'a str,
    /// Byte offset of each character, when the text is not ASCII (saphyr counts characters).
    char_bytes: Option<Vec<usize>>,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    alias_nodes: usize,
    root: Option<Node>,
}

impl<'a> Builder<'a> {
    fn new(file: FileId, text: &'a str) -> Builder<'a> {
        let char_bytes = (!text.is_ascii()).then(|| {
            let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            offsets.push(text.len());
            offsets
        });
        Builder { file, text, char_bytes, stack: Vec::new(), anchors: Vec::new(), alias_nodes: 0, root: None }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.text.len()),
            None => char_index.min(self.text.len()),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.byte(start), self.byte(end))
    }

    fn scan_error(&self, error: &ScanError) -> Diagnostic {
        let at = self.byte(error.marker().index());
        let info = error.info();
        // At the end of the file there is nothing to underline: point at the last thing
        // written instead, which is what was left unfinished.
        let content_end = self.text.trim_end().len();
        let (at, label) = if at >= content_end && content_end > 0 {
            let last = self.text[..content_end].chars().next_back().map_or(1, char::len_utf8);
            (content_end - last, "the file ends after this")
        } else {
            (at, "here")
        };
        let end = self.text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        let mut diagnostic = Diagnostic::new(Code::YamlSyntax, format!("YAML syntax error: {info}"))
            .at(Span::new(self.file, at, end), label);
        if info.contains("tab") || self.text[..at].ends_with('\t') {
            diagnostic = diagnostic.help("YAML indentation must use spaces, not tabs");
        } else {
            diagnostic = diagnostic.help("check the indentation and quoting around this point");
        }
        diagnostic
    }

    /// Handles one event; returns true when the first document is complete.
    fn event(&mut self, event: Event<'_>, span: YamlSpan) -> Result<bool, Diagnostic> {
        let start = span.start.index();
        let end = span.end.index();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag_text = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let node = self.scalar(text, style, tag_text.as_deref(), start, end);
                self.finish(node, anchor)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_depth(start)?;
                let tag = compose_tag(tag.as_ref().map(|t| t.suffix.as_str()));
                self.stack.push(Open::Seq { items: Vec::new(), start, anchor, tag });
            }
            Event::MappingStart(anchor, tag) => {
                self.check_depth(start)?;
                let tag = compose_tag(tag.as_ref().map(|t| t.suffix.as_str()));
                self.stack.push(Open::Map {
                    map: Map::default(),
                    merges: Vec::new(),
                    key: None,
                    index: None,
                    start,
                    anchor,
                    tag,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(end)?,
            Event::Alias(id) => self.alias(id, start, end)?,
            Event::DocumentEnd => return Ok(self.root.is_some()),
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => {}
        }
        Ok(false)
    }

    fn check_depth(&self, start: usize) -> Result<(), Diagnostic> {
        if self.stack.len() < MAX_DEPTH {
            return Ok(());
        }
        Err(Diagnostic::new(Code::YamlLimit, format!("the YAML nests deeper than {MAX_DEPTH} levels"))
            .at(self.span(start, start + 1), "too deep")
            .help("compose files need only a few levels; flatten this structure"))
    }

    fn scalar(&self, text: Cow<'_, str>, style: ScalarStyle, tag: Option<&str>, start: usize, end: usize) -> Node {
        let span = self.span(start, end);
        let value = match (style, tag) {
            (_, Some("tag:yaml.org,2002:str")) => Value::Str(text.into_owned()),
            (ScalarStyle::Plain, _) => resolve_plain(text),
            _ => Value::Str(text.into_owned()),
        };
        Node { value, span, tag: compose_tag(tag.and_then(|t| t.strip_prefix('!'))), interpolated: false }
    }

    fn alias(&mut self, id: usize, start: usize, end: usize) -> Result<(), Diagnostic> {
        let span = self.span(start, end);
        let Some(node) = self.anchors.iter().rev().find(|(a, _)| *a == id).map(|(_, n)| n.clone()) else {
            return Err(
                Diagnostic::new(Code::YamlSyntax, "an alias refers to an unknown anchor").at(span, "unknown anchor")
            );
        };
        self.alias_nodes += node.size();
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(Diagnostic::new(
                Code::YamlLimit,
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
            )
            .at(span, "expansion limit reached here")
            .help("this looks like an alias bomb; use each anchor a bounded number of times"));
        }
        // The alias keeps the anchored node's spans: problems point at the definition.
        self.finish(node, 0)
    }

    fn close(&mut self, end: usize) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.pop() else { return Ok(()) };
        let (node, anchor) = match open {
            Open::Seq { items, start, anchor, tag } => {
                (Node { value: Value::Seq(items), span: self.span(start, end), tag, interpolated: false }, anchor)
            }
            Open::Map { mut map, merges, start, anchor, tag, .. } => {
                apply_merges(&mut map, merges);
                (Node { value: Value::Map(map), span: self.span(start, end), tag, interpolated: false }, anchor)
            }
        };
        self.finish(node, anchor)
    }

    /// Places a complete node into its parent (or as the root) and records its anchor.
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), Diagnostic> {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root.get_or_insert(node);
            return Ok(());
        };
        match parent {
            Open::Seq { items, .. } => items.push(node),
            Open::Map { map, merges, key, index, .. } => match key.take() {
                None => {
                    let span = node.span;
                    *key = Some((key_text(node), span));
                }
                Some((name, _)) if name == "<<" => merges.push(node),
                Some((name, key_span)) => {
                    if let Some(first) = find_key(map, index, &name) {
                        return Err(Diagnostic::new(Code::DuplicateKey, format!("duplicate key `{name}`"))
                            .at(key_span, "defined again here")
                            .also(map.entries[first].key_span, "first defined here")
                            .help("remove one of the two entries; YAML keeps only one"));
                    }
                    if let Some(index) = index {
                        index.insert(name.clone(), map.entries.len());
                    }
                    map.entries.push(Entry { key: name, key_span, value: node });
                }
            },
        }
        Ok(())
    }
}

/// The index of `name` among the mapping's entries, building the index when the mapping
/// grows past [`SCAN_LIMIT`].
fn find_key(map: &Map, index: &mut Option<HashMap<String, usize>>, name: &str) -> Option<usize> {
    if index.is_none() && map.entries.len() >= SCAN_LIMIT {
        *index = Some(map.entries.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect());
    }
    match index {
        Some(index) => index.get(name).copied(),
        None => map.entries.iter().position(|e| e.key == name),
    }
}

/// `<<: *base` and `<<: [*a, *b]`: keys written in the mapping itself win, then earlier
/// merge sources win over later ones.
fn apply_merges(map: &mut Map, merges: Vec<Node>) {
    for source in merges {
        let sources = match source.value {
            Value::Seq(items) => items,
            _ => vec![source],
        };
        for item in sources {
            if let Value::Map(other) = item.value {
                for entry in other.entries {
                    if map.entry(&entry.key).is_none() {
                        map.entries.push(entry);
                    }
                }
            }
        }
    }
}

fn key_text(node: Node) -> String {
    match node.value {
        Value::Str(text) => text,
        Value::Null => String::new(),
        _ => node.scalar_text().unwrap_or_else(|| node.kind_name().to_string()),
    }
}

fn compose_tag(suffix: Option<&str>) -> Tag {
    match suffix {
        Some("reset") => Tag::Reset,
        Some("override") => Tag::Override,
        _ => Tag::None,
    }
}

/// YAML 1.2 core schema, as the reference implementation's YAML library reads plain scalars:
/// `yes`/`on` stay strings, `0o17` and `0x1f` are integers.
fn resolve_plain(text: Cow<'_, str>) -> Value {
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(&text) {
        return Value::Int(int);
    }
    if looks_like_float(&text)
        && let Ok(float) = text.parse::<f64>()
    {
        return Value::Float(float);
    }
    Value::Str(text.into_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // The reference reads integers as Go's `strconv.ParseInt(text, 0, 64)` does: a leading
    // `0` means octal (`mode: 0444`), `0b` binary, and `_` may separate digits.
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        (2, bin)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i64::from_str_radix(&digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// YAML 1.2 floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, frac)) => {
            (!whole.is_empty() || !frac.is_empty())
                && whole.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    fn parse_text(text: &str) -> Result<Node, Diagnostic> {
        let mut sources = Sources::default();
        let file = sources.add(std::path::Path::new("t.yaml"), text);
        parse(file, text)
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let node = parse_text("a: yes\nb: 8080\nc: '8080'\nd: 0.5\ne:\nf: true\ng: 0o17\nh: 1e3\ni: 80:80\n").unwrap();
        let map = node.as_map().unwrap();
        assert_eq!(map.get("a").unwrap().value, Value::Str("yes".into()));
        assert_eq!(map.get("b").unwrap().value, Value::Int(8080));
        assert_eq!(map.get("c").unwrap().value, Value::Str("8080".into()));
        assert_eq!(map.get("d").unwrap().value, Value::Float(0.5));
        assert_eq!(map.get("e").unwrap().value, Value::Null);
        assert_eq!(map.get("f").unwrap().value, Value::Bool(true));
        assert_eq!(map.get("g").unwrap().value, Value::Int(15));
        assert_eq!(map.get("h").unwrap().value, Value::Float(1000.0));
        assert_eq!(map.get("i").unwrap().value, Value::Str("80:80".into()));
    }

    #[test]
    fn integers_read_as_go_parses_them() {
        let node = parse_text("a: 0444\nb: 010\nc: 1_000\nd: 0b101\ne: 0\nf: _1\n").unwrap();
        let map = node.as_map().unwrap();
        assert_eq!(map.get("a").unwrap().value, Value::Int(0o444));
        assert_eq!(map.get("b").unwrap().value, Value::Int(8));
        assert_eq!(map.get("c").unwrap().value, Value::Int(1000));
        assert_eq!(map.get("d").unwrap().value, Value::Int(5));
        assert_eq!(map.get("e").unwrap().value, Value::Int(0));
        assert_eq!(map.get("f").unwrap().value, Value::Str("_1".into()));
    }

    #[test]
    fn spans_are_bytes_even_after_non_ascii_text() {
        let text = "# café ☕\nimage: nginx\n";
        let node = parse_text(text).unwrap();
        let value = node.as_map().unwrap().get("image").unwrap();
        assert_eq!(&text[value.span.range()], "nginx");
    }

    #[test]
    fn duplicate_keys_point_at_both() {
        let error = parse_text("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(error.code, Code::DuplicateKey);
        assert_eq!(error.primary.unwrap().span.range(), 10..11);
        assert_eq!(error.secondary[0].span.range(), 0..1);
    }

    #[test]
    fn merge_keys_apply_with_local_keys_winning() {
        let node = parse_text("base: &b {x: 1, y: 2}\nsvc:\n  <<: *b\n  y: 3\n").unwrap();
        let svc = node.as_map().unwrap().get("svc").unwrap().as_map().unwrap();
        assert_eq!(svc.get("x").unwrap().value, Value::Int(1));
        assert_eq!(svc.get("y").unwrap().value, Value::Int(3));
        assert!(svc.get("<<").is_none());
    }

    #[test]
    fn alias_bombs_stop_with_a_diagnostic() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert_eq!(parse_text(&text).unwrap_err().code, Code::YamlLimit);
    }

    #[test]
    fn deep_nesting_stops_with_a_diagnostic() {
        let text = "[".repeat(10_000);
        let error = parse_text(&text).unwrap_err();
        assert!(matches!(error.code, Code::YamlLimit | Code::YamlSyntax));
    }

    #[test]
    fn tags_reset_and_override_are_kept() {
        let node = parse_text("a: !reset []\nb: !override {x: 1}\n").unwrap();
        let map = node.as_map().unwrap();
        assert_eq!(map.get("a").unwrap().tag, Tag::Reset);
        assert_eq!(map.get("b").unwrap().tag, Tag::Override);
    }

    #[test]
    fn tabs_get_a_helpful_error() {
        let error = parse_text("services:\n\tweb: {}\n").unwrap_err();
        assert_eq!(error.code, Code::YamlSyntax);
        assert!(error.help.unwrap().contains("tabs"));
    }

    #[test]
    fn empty_text_is_an_empty_mapping() {
        assert_eq!(parse_text("").unwrap().as_map().unwrap().entries.len(), 0);
    }
}
