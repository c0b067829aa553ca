//! A YAML writer for JSON values, in the block style kubectl prints. Written for speed and
//! for one property: every string reads back as the same string in YAML 1.1 and 1.2
//! readers. Anything that could be read as another type, or that needs care, is written as
//! a double-quoted string (JSON syntax, plus escapes for every character YAML does not allow
//! unescaped); multi-line text becomes a literal block.

use serde_json::{Map, Value};

/// One document, `---` first.
pub fn document(value: &Value) -> String {
    let mut out = String::from("---\n");
    match value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0),
        other => {
            scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, width: usize) {
    out.extend(std::iter::repeat_n(' ', width));
}

fn mapping(out: &mut String, map: &Map<String, Value>, width: usize) {
    for (key, value) in map {
        indent(out, width);
        key_then_colon(out, key, width);
        child(out, value, width, width + 2);
    }
}

/// YAML reads an implicit key only up to 1024 characters and never as a block scalar, so
/// keys are plain or quoted, and a long one is written as an explicit `? key` entry.
fn key_then_colon(out: &mut String, key: &str, width: usize) {
    if is_plain_safe(key) && key.len() <= MAX_IMPLICIT_KEY {
        out.push_str(key);
        out.push(':');
        return;
    }
    let start = out.len();
    quoted(out, key);
    if out.len() - start <= MAX_IMPLICIT_KEY {
        out.push(':');
        return;
    }
    out.insert_str(start, "? ");
    out.push('\n');
    indent(out, width);
    out.push(':');
}

/// The longest implicit key YAML allows, in characters (bytes here: stricter).
const MAX_IMPLICIT_KEY: usize = 1024;

/// Sequence items start at the parent key's indentation, as kubectl writes them.
fn sequence(out: &mut String, items: &[Value], width: usize) {
    for item in items {
        indent(out, width);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                let mut first = true;
                for (key, value) in map {
                    if !first {
                        indent(out, width + 2);
                    }
                    first = false;
                    key_then_colon(out, key, width + 2);
                    child(out, value, width + 2, width + 4);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                sequence(out, inner, width + 2);
            }
            other => {
                out.push(' ');
                scalar(out, other, width + 2);
                out.push('\n');
            }
        }
    }
}

/// The value after `key:`: inline for scalars and empty collections, else on the next lines.
fn child(out: &mut String, value: &Value, key_width: usize, nested: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            mapping(out, map, nested);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, key_width);
        }
        other => {
            out.push(' ');
            scalar(out, other, nested);
            out.push('\n');
        }
    }
}

fn scalar(out: &mut String, value: &Value, width: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(out, s, width),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn string(out: &mut String, text: &str, width: usize) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else if is_block_safe(text) {
        literal_block(out, text, width);
    } else {
        quoted(out, text);
    }
}

/// A double-quoted scalar: JSON string syntax (valid YAML), and every character outside
/// YAML's printable set, or one a YAML 1.1 reader takes for a line break or byte-order mark,
/// written as an escape. kubectl refuses files with such characters raw.
fn quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_raw_safe(c) => out.push(c),
            c => {
                use std::fmt::Write;
                // Only BMP characters fail `is_raw_safe`, so four digits always suffice.
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
        }
    }
    out.push('"');
}

/// Characters written as they are inside quotes and literal blocks: YAML 1.2's printable
/// set without NEL, LS, PS (line breaks to YAML 1.1) and the byte-order mark.
fn is_raw_safe(c: char) -> bool {
    matches!(c, '\t' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{2027}' | '\u{202A}'..='\u{D7FF}' | '\u{E000}'..='\u{FEFE}' | '\u{FF00}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `|`, `|-` or `|+` by the number of trailing newlines, so the text reads back exactly.
fn literal_block(out: &mut String, text: &str, width: usize) {
    let body = text.trim_end_matches('\n');
    let chomp = match text.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    out.push('|');
    out.push_str(chomp);
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, width);
            out.push_str(line);
        }
    }
}

/// Multi-line text a literal block keeps exactly: no carriage returns or other control
/// characters, and a first line that does not start with white space (that would need an
/// indentation indicator).
fn is_block_safe(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with([' ', '\t', '\n'])
        && text.chars().all(|c| c == '\n' || is_raw_safe(c))
        && !text.split('\n').any(|line| line.ends_with([' ', '\t']))
}

/// Words YAML 1.1 or 1.2 readers turn into booleans or null.
const SPECIAL: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
];

/// Conservative: plain only for text no YAML 1.1 or 1.2 reader could take for anything but
/// this string. Inside the text any printable ASCII is fine in block context except the
/// `: ` and ` #` sequences; the first character must not be an indicator, and text starting
/// with a digit stays plain only in the `500m`/`256Mi` shape.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    // This runs for every string of every object: branch-free passes over the bytes (which
    // the compiler vectorizes) for the range and for the `: ` and ` #` pairs.
    let bytes = text.as_bytes();
    let printable = bytes.iter().fold(true, |ok, byte| ok & (byte.wrapping_sub(b' ') <= b'~' - b' '));
    if !printable || text.ends_with([' ', ':']) {
        return false;
    }
    let pair = |w: &[u8]| (w[0] == b':' && w[1] == b' ') | (w[0] == b' ' && w[1] == b'#');
    if bytes.windows(2).fold(false, |found, w| found | pair(w)) {
        return false;
    }
    if text.len() <= 5 && SPECIAL.contains(&text) {
        return false;
    }
    match first {
        '0'..='9' => digits_then_letters(text),
        // `-m`, `--port=80`: options, never numbers or sequence entries.
        '-' => text[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '-'),
        c => c.is_ascii_alphabetic() || matches!(c, '/' | '_' | '$'),
    }
}

fn digits_then_letters(text: &str) -> bool {
    let letters = text.trim_start_matches(|c: char| c.is_ascii_digit());
    !letters.is_empty() && letters.chars().all(|c| c.is_ascii_alphabetic()) && !letters.eq_ignore_ascii_case("e")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: &Value) {
        let text = document(value);
        // kubectl's reader refuses what YAML 1.2 does not allow raw; saphyr is lenient.
        let raw = text.chars().find(|c| *c != '\n' && !is_raw_safe(*c));
        assert_eq!(raw, None, "{text:?}");
        let back: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert_eq!(&back, value, "{text}");
    }

    #[test]
    fn lookalikes_stay_strings() {
        let tricky = [
            "8080",
            "1.0",
            "1e3",
            "0o17",
            "0x1F",
            "017",
            "1_000",
            "12:30",
            "2001-12-14",
            "yes",
            "No",
            "on",
            "null",
            "~",
            "",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#c",
            "-",
            "- x",
            "[x]",
            "{x}",
            "*a",
            "&a",
            "!t",
            "%p",
            "@x",
            "`x`",
            "'q'",
            "\"q\"",
            ".inf",
            ".nan",
            "-1",
            "+1",
            "1e",
            "500m",
            "256Mi",
            "1Gi",
            "café",
            "a\tb",
            "x\r\ny",
            "a,b",
            "?",
            "|",
            ">",
            "http://api:8000/x",
            "--port=8080",
            "-m",
            "--",
            "-.5",
            "-x y",
            "/bin/sh",
            "$HOME",
            "${X}",
            "a|b && c",
            "x: y",
            "x:",
            "a #b",
            "a#b",
            "a\\b",
            "q'x",
            "w\"x",
            "~x",
            "x~",
            "CMD-SHELL",
            "a=b",
            "0",
            "1.2.3",
        ];
        for text in tricky {
            round_trip(&json!({ "k": text, "list": [text], text: 1 }));
        }
    }

    #[test]
    fn multi_line_text_becomes_a_literal_block() {
        let text = document(&json!({"data": {"nginx.conf": "server {\n  listen 80;\n}\n"}}));
        assert_eq!(text, "---\ndata:\n  nginx.conf: |\n    server {\n      listen 80;\n    }\n");
        for body in ["a\nb", "a\nb\n\n", "a\n\nb\n", "a \nb", " a\nb", "a\n", "\n", "a\r\nb"] {
            round_trip(&json!({ "k": body }));
        }
    }

    #[test]
    fn characters_yaml_forbids_raw_are_escaped() {
        let text = document(&json!({"k": "a\u{7F}b\u{85}c\u{9F}\u{FEFF}\u{2028}\u{2029}\u{FFFE}\u{FFFF}\u{0}"}));
        assert_eq!(text, "---\nk: \"a\\u007Fb\\u0085c\\u009F\\uFEFF\\u2028\\u2029\\uFFFE\\uFFFF\\u0000\"\n");
        let block = document(&json!({"k": "a\n\u{85}b\u{2028}\n"}));
        assert!(block.is_ascii(), "{block}");
        round_trip(&json!({"k": "a\n\u{85}b\u{2028}\n"}));
    }

    #[test]
    fn long_keys_are_explicit() {
        let long = "k".repeat(2000);
        let text = document(&json!({ long.clone(): {"a": [1]}, "b": 2 }));
        assert!(text.starts_with("---\n? "), "{text}");
        round_trip(&json!({ long.clone(): {"a": [1]}, "b": [1, 2], "c": {long.clone(): "x"} }));
        round_trip(&json!([{ long.clone(): "v", "x": long }]));
    }

    /// A small deterministic generator (xorshift64*), so the property test needs no crate
    /// and every run checks the same cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// Text biased towards what breaks writers: indicators, white space, line breaks,
        /// control and non-characters, lookalikes of other types.
        fn text(&mut self) -> String {
            const SPECIAL: &[char] = &[
                ' ',
                '\t',
                '\n',
                '\r',
                ':',
                '#',
                '-',
                '?',
                '|',
                '>',
                '\'',
                '"',
                '\\',
                '{',
                '}',
                '[',
                ']',
                ',',
                '&',
                '*',
                '!',
                '%',
                '@',
                '`',
                '~',
                '.',
                '0',
                '1',
                'e',
                'x',
                'y',
                'n',
                '\u{0}',
                '\u{7}',
                '\u{1B}',
                '\u{7F}',
                '\u{80}',
                '\u{85}',
                '\u{9F}',
                '\u{A0}',
                '\u{2028}',
                '\u{2029}',
                '\u{FEFF}',
                '\u{FFFE}',
                '\u{FFFF}',
                '\u{D7FF}',
                '\u{E000}',
                '\u{FFFD}',
                '\u{10000}',
                '\u{10FFFF}',
                'é',
                '日',
            ];
            const WORDS: &[&str] = &["true", "no", "null", "~", "1e3", "0x1F", "12:30", "- ", ": ", " #", "---", "..."];
            let mut text = String::new();
            for _ in 0..self.below(12) {
                match self.below(4) {
                    0 => text.push(SPECIAL[self.below(SPECIAL.len())]),
                    1 => text.push_str(WORDS[self.below(WORDS.len())]),
                    2 => text.push((b'a' + self.below(26) as u8) as char),
                    _ => text.extend(char::from_u32(self.below(0x11_0000) as u32)),
                }
            }
            text
        }

        fn value(&mut self, depth: usize) -> Value {
            match self.below(if depth > 2 { 3 } else { 6 }) {
                0 | 1 => Value::String(self.text()),
                2 => json!(self.below(1000)),
                3 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
                _ => Value::Object((0..self.below(4)).map(|_| (self.text(), self.value(depth + 1))).collect()),
            }
        }
    }

    #[test]
    fn any_string_reads_back_as_written() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let key = rng.text();
            let value = rng.value(0);
            round_trip(
                &json!({ key.clone(): value.clone(), "list": [key.clone(), value], "nested": { "a": { key: 1 } } }),
            );
        }
    }

    #[test]
    fn nesting_matches_kubectl_style() {
        let value =
            json!({"spec": {"ports": [{"name": "http", "port": 80}], "empty": {}, "none": [], "args": ["a", "b"]}});
        assert_eq!(
            document(&value),
            "---\nspec:\n  ports:\n  - name: http\n    port: 80\n  empty: {}\n  none: []\n  args:\n  - a\n  - b\n"
        );
        round_trip(&value);
        round_trip(&json!({"a": [[1, [2, {"b": [3]}]], {"c": {"d": null}}], "n": 1.5, "t": true}));
    }
}
