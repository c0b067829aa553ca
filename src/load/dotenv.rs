//! Parser for `.env` / `env_file` files, following Docker Compose v2
//! (compose-go) as observed with the reference binary.
//!
//! Accepted lines:
//! - `KEY=VAL`, `KEY=` (empty value), bare `KEY`, and the same with an
//!   `export ` prefix. `KEY: VAL` also works: the key ends at the first `=`
//!   or `:`, so `A:B=1` sets `A` to `B=1`. Spaces around the key are allowed.
//! - Blank lines and lines whose first non-blank character is `#`.
//! - Unquoted values: leading blanks are dropped, then the value is cut at the
//!   first ` #` (a space, not a tab, before `#`), then trimmed. So `A=a#b` is
//!   `a#b`, `A=a\t#b` keeps the `#`, and surprisingly `A= #b` is `#b`.
//!   No escapes; `\` is literal. The value is interpolated.
//! - `'...'` values are literal (no interpolation); the only escape is `\'`.
//! - `"..."` values take `\n \t \r \\ \" \$` and also `\a \b \f \v`; any other
//!   `\x` is kept as both characters. Escapes are applied before
//!   interpolation, so `\$` gives a literal `$` while `\\$A` gives `\` and A's
//!   value; a variable's value is never unescaped.
//! - Quoted values may span lines (a CR before a newline inside quotes is
//!   kept). Anything after the closing quote on its line is ignored.
//! - CRLF line endings and a UTF-8 BOM at the start are accepted.
//!
//! Surprises in compose, recorded here because callers may rely on them:
//! - Precedence: while expanding `$VAR`, `lookup` (the shell environment)
//!   wins over a VAR defined earlier in the same file. Only when `lookup`
//!   returns `None` is the file's own earlier value used. (The file value
//!   still becomes the entry's value; this is only about expansion.)
//! - A bare `KEY` (value `None`) means "take KEY from the environment if it
//!   is set, otherwise ignore the line"; it does not clear an earlier
//!   `KEY=...` in the same file. It is not used when expanding later lines
//!   (compose resolves those through the environment anyway). A line holding
//!   only `export` is a bare key named `export`.
//! - Keys: like compose, anything but an empty key, white space and the
//!   characters `$ / , ' " {`. Names Kubernetes would reject are reported
//!   when they are used, not here.
//! - Unset variables referenced in values become empty; compose warns about
//!   them, but this API does not report them.

use std::collections::HashMap;
use std::ops::Range;

use super::interpolate::{InterpolationError, interpolate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    /// None for a bare `KEY` line: compose then takes KEY from the environment
    /// and skips the line when it is unset there.
    pub value: Option<String>,
    /// Byte range of the whole line in the file text, for diagnostics.
    /// Covers every line of a multi-line quoted value; excludes the line ending.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    /// Never holds a value from the file: values may be secrets.
    pub message: String,
    pub span: Range<usize>,
    /// Values expand beyond [`super::interpolate::MAX_VALUE_BYTES`] or [`MAX_TOTAL_BYTES`] (K016, not K013).
    pub too_large: bool,
}

/// All the values of one file together, expanded, are at most this large.
pub const MAX_TOTAL_BYTES: usize = 64 << 20;

impl std::fmt::Display for DotenvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DotenvError {}

/// `lookup` resolves variables not defined earlier in the same file (the caller passes the shell environment etc.).
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<EnvEntry>, DotenvError> {
    let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut entries: Vec<EnvEntry> = Vec::new();
    let mut defined: HashMap<String, String> = HashMap::new();
    let mut total = 0usize;
    while pos < text.len() {
        let resolve = |name: &str| lookup(name).or_else(|| defined.get(name).cloned());
        let (entry, next) = parse_line(text, pos, &resolve)?;
        if let Some(entry) = entry {
            if let Some(value) = &entry.value {
                total += value.len();
                if total > MAX_TOTAL_BYTES {
                    let message = format!("the values of this file expand to more than {} MiB", MAX_TOTAL_BYTES >> 20);
                    return Err(DotenvError { message, span: entry.span, too_large: true });
                }
                defined.insert(entry.key.clone(), value.clone());
            }
            entries.push(entry);
        }
        pos = next;
    }
    Ok(entries)
}

/// Parses the line starting at `start`; returns the entry (None for blank
/// and comment lines) and where the next line starts.
fn parse_line(
    text: &str,
    start: usize,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<(Option<EnvEntry>, usize), DotenvError> {
    let end = line_end(text, start);
    let line = &text[start..end];
    let body = line.trim_start_matches(is_blank);
    if body.is_empty() || body.starts_with('#') {
        return Ok((None, next_line(text, end)));
    }
    let body = strip_export(body);
    let body_start = end - body.len();
    let Some(separator) = body.find(['=', ':']) else {
        let key = parse_key(body, start..end)?;
        let entry = EnvEntry { key, value: None, span: start..end };
        return Ok((Some(entry), next_line(text, end)));
    };
    let key = parse_key(&body[..separator], start..end)?;
    let value_start = body_start + separator + 1;
    let (value, value_end) = parse_value(text, value_start, start, resolve)?;
    let entry = EnvEntry { key, value: Some(value), span: start..value_end };
    Ok((Some(entry), next_line(text, value_end)))
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// End of the line containing `from`, excluding the `\n` and a CR before it.
fn line_end(text: &str, from: usize) -> usize {
    let newline = text[from..].find('\n').map_or(text.len(), |i| from + i);
    if newline > from && text[..newline].ends_with('\r') { newline - 1 } else { newline }
}

/// Start of the line after the one ending at `end` (as given by [`line_end`]).
fn next_line(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    let skip = if rest.starts_with("\r\n") { 2 } else { 1 };
    (end + skip).min(text.len())
}

/// Drops a leading `export` keyword; a lone `export` stays (it is a bare key).
fn strip_export(body: &str) -> &str {
    match body.strip_prefix("export") {
        Some(rest) if rest.starts_with(is_blank) => rest.trim_start_matches(is_blank),
        _ => body,
    }
}

fn parse_key(raw: &str, span: Range<usize>) -> Result<String, DotenvError> {
    let key = raw.trim_end_matches(is_blank);
    if is_valid_key(key) {
        return Ok(key.to_owned());
    }
    let message = if key.is_empty() {
        "missing variable name before `=`".to_owned()
    } else {
        format!("invalid variable name {key:?}: names cannot be empty or contain spaces, `$`, `/`, `,`, quotes or `{{`")
    };
    Err(DotenvError { message, span, too_large: false })
}

fn is_valid_key(key: &str) -> bool {
    // The reference accepts any key but these characters; so do we ("what Compose accepts,
    // kompile accepts"). Kubernetes-invalid names are reported later, where they matter.
    !key.is_empty() && !key.chars().any(|c| c.is_whitespace() || matches!(c, '$' | '/' | ',' | '\'' | '"' | '{'))
}

/// Parses the value starting at `from` (just after the separator). Returns
/// the value and the end of the last line it occupies.
fn parse_value(
    text: &str,
    from: usize,
    line_start: usize,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), DotenvError> {
    let end = line_end(text, from);
    let raw = text[from..end].trim_start_matches(is_blank);
    let raw_start = end - raw.len();
    match raw.chars().next() {
        Some(quote @ ('\'' | '"')) => parse_quoted(text, raw_start, quote, line_start, resolve),
        _ => {
            let unquoted = raw.split(" #").next().unwrap_or_default().trim();
            let value = expand(unquoted, resolve, line_start..end)?;
            Ok((value, end))
        }
    }
}

/// Parses a value opened by `quote` at `open`; it may span lines.
fn parse_quoted(
    text: &str,
    open: usize,
    quote: char,
    line_start: usize,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), DotenvError> {
    let content_start = open + 1;
    let Some(close) = find_closing_quote(&text[content_start..], quote) else {
        return Err(DotenvError {
            message: format!("unterminated quoted value: missing closing {quote}"),
            span: line_start..line_end(text, open),
            too_large: false,
        });
    };
    let content = &text[content_start..content_start + close];
    let end = line_end(text, content_start + close);
    let value = if quote == '\'' {
        content.replace("\\'", "'")
    } else {
        expand(&unescape_double(content), resolve, line_start..end)?
    };
    Ok((value, end))
}

/// `text` as diagnostics may show it: every value and comment masked with `*`, byte for
/// byte, so offsets and line breaks stay where they were (keys stay readable).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The quote of a value that continues on the next line.
    let mut open: Option<char> = None;
    for line in text.split_inclusive('\n') {
        let keep = match open {
            Some(_) => 0,
            None => {
                let body = line.trim_start_matches(is_blank);
                let offset = line.len() - body.len();
                if body.starts_with('#') { offset + 1 } else { line.find(['=', ':']).map_or(line.len(), |i| i + 1) }
            }
        };
        let value = &line[keep..];
        open = match open {
            Some(quote) => still_open(value, quote),
            None => {
                let start = value.trim_start_matches(is_blank);
                match start.chars().next() {
                    Some(quote @ ('\'' | '"')) if keep < line.len() => still_open(&start[1..], quote),
                    _ => None,
                }
            }
        };
        out.push_str(&line[..keep]);
        for c in value.chars() {
            match c {
                '\n' | '\r' => out.push(c),
                _ => out.extend(std::iter::repeat_n('*', c.len_utf8())),
            }
        }
    }
    out
}

/// `Some(quote)` when `rest` does not close the value `quote` opened.
fn still_open(rest: &str, quote: char) -> Option<char> {
    find_closing_quote(rest, quote).is_none().then_some(quote)
}

/// Offset of the unescaped `quote` that closes `content`, if any.
fn find_closing_quote(content: &str, quote: char) -> Option<usize> {
    let mut chars = content.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            // The escaped character can never close the value.
            chars.next();
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// Applies double-quote escapes. `\$` becomes `$$` so that the following
/// interpolation turns it into a literal `$` instead of expanding it.
fn unescape_double(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut chars = content.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next) => push_escape(&mut out, next),
            None => out.push('\\'),
        }
    }
    out
}

fn push_escape(out: &mut String, escaped: char) {
    let replacement = match escaped {
        'n' => "\n",
        't' => "\t",
        'r' => "\r",
        'a' => "\u{7}",
        'b' => "\u{8}",
        'f' => "\u{c}",
        'v' => "\u{b}",
        '\\' => "\\",
        '"' => "\"",
        '$' => "$$",
        other => {
            // Unknown escapes keep their backslash, as compose does.
            out.push('\\');
            out.push(other);
            return;
        }
    };
    out.push_str(replacement);
}

fn expand(raw: &str, resolve: &dyn Fn(&str) -> Option<String>, span: Range<usize>) -> Result<String, DotenvError> {
    match interpolate(raw, resolve) {
        Ok(done) => Ok(done.value),
        Err(err) => {
            // The value itself is not quoted back: it may be a secret.
            let message = match &err {
                InterpolationError::Syntax { message, .. } => format!("invalid interpolation in the value: {message}"),
                InterpolationError::Required { .. } | InterpolationError::TooLarge { .. } => err.to_string(),
            };
            let too_large = matches!(err, InterpolationError::TooLarge { .. });
            Err(DotenvError { message, span, too_large })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(name: &str) -> Option<String> {
        match name {
            "SHELL_VAR" => Some("from-shell".into()),
            "A" => Some("shell-a".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn entries(text: &str) -> Vec<EnvEntry> {
        match parse(text, &shell) {
            Ok(entries) => entries,
            Err(err) => panic!("{text:?} failed: {err:?}"),
        }
    }

    /// (key, value) pairs, for tests that do not look at spans.
    fn pairs(text: &str) -> Vec<(String, Option<String>)> {
        entries(text).into_iter().map(|e| (e.key, e.value)).collect()
    }

    fn one(text: &str) -> Option<String> {
        let all = pairs(text);
        assert_eq!(all.len(), 1, "{text:?} gave {all:?}");
        all.into_iter().next().and_then(|(_, value)| value)
    }

    fn error(text: &str) -> DotenvError {
        match parse(text, &shell) {
            Ok(entries) => panic!("{text:?} unexpectedly gave {entries:?}"),
            Err(err) => err,
        }
    }

    fn kv(key: &str, value: &str) -> (String, Option<String>) {
        (key.into(), Some(value.into()))
    }

    #[test]
    fn redaction_keeps_keys_and_offsets_and_masks_values() {
        let text = "# pw: x\nDB_PASSWORD=hunter2\nexport K=\"a\nb c\"\nBARE\nT: é\n";
        let shown = redact(text);
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "#******\nDB_PASSWORD=*******\nexport K=**\n****\nBARE\nT:***\n");
    }

    #[test]
    fn error_messages_hold_no_values() {
        let err = error("TOKEN=abc${\n");
        assert!(!err.message.contains("abc"), "{}", err.message);
    }

    #[test]
    fn values_that_double_each_other_stop_at_the_limit() {
        // A0 is 64 bytes; A15 would be 2 MiB, A40 two terabytes.
        let mut text = format!("A0={}\n", "x".repeat(64));
        for i in 1..41 {
            text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        let err = parse(&text, &no_env).unwrap_err();
        assert!(err.too_large, "{err:?}");
        assert_eq!(&text[err.span.clone()], "A15=${A14}${A14}");
        // Many values under the per-value limit are bounded in all.
        let big = format!("B={}\n", "y".repeat(1 << 19));
        let repeated = format!("{big}{}", "C=${B}${B}\n".repeat(80));
        let err = parse(&repeated, &no_env).unwrap_err();
        assert!(err.too_large && err.message.contains("64 MiB"), "{err:?}");
    }

    #[test]
    fn basic_forms() {
        let text = "A1=1\nB=\nC\nexport D=4\n\texport  E=5\nexport F\nexport\n";
        let expected = vec![
            kv("A1", "1"),
            kv("B", ""),
            ("C".into(), None),
            kv("D", "4"),
            kv("E", "5"),
            ("F".into(), None),
            ("export".into(), None),
        ];
        assert_eq!(pairs(text), expected);
        assert_eq!(pairs("exportA=x"), vec![kv("exportA", "x")]);
    }

    #[test]
    fn blank_and_comment_lines() {
        let text = "\n   \n# comment\n  # indented\n\t\nA=1";
        assert_eq!(pairs(text), vec![kv("A", "1")]);
        assert_eq!(pairs(""), vec![]);
    }

    #[test]
    fn spaces_around_key_and_value() {
        assert_eq!(one("  E = 5  "), Some("5".into()));
        assert_eq!(one("B = \"q\""), Some("q".into()));
        assert_eq!(one("C=  'x'  "), Some("x".into()));
        assert_eq!(one("D=x=y"), Some("x=y".into()));
        assert_eq!(one("E=a b  c"), Some("a b  c".into()));
    }

    #[test]
    fn inline_comments() {
        assert_eq!(one("F=a #c"), Some("a".into()));
        assert_eq!(one("F=a  # c # d"), Some("a".into()));
        assert_eq!(one("G=a#c"), Some("a#c".into()));
        assert_eq!(one("H=a\t#c"), Some("a\t#c".into()));
        assert_eq!(one("I=#notcomment"), Some("#notcomment".into()));
        // compose trims before looking for ` #`.
        assert_eq!(one("J= #c"), Some("#c".into()));
        assert_eq!(one("K=\"a # b\" # c"), Some("a # b".into()));
        assert_eq!(one("L='y' #c"), Some("y".into()));
    }

    #[test]
    fn yaml_style_separator() {
        let expected = vec![kv("A", "v"), kv("B", "v"), kv("C", "q"), kv("D", "B=1")];
        assert_eq!(pairs("A:  v # c\nB :v\nC:\"q\"\nD:B=1"), expected);
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(one("A='x $SHELL_VAR ${A} \\n'"), Some("x $SHELL_VAR ${A} \\n".into()));
        assert_eq!(one("A='a\\'b'"), Some("a'b".into()));
        assert_eq!(one("A='a\\\\b'"), Some("a\\\\b".into()));
        assert_eq!(one("A='${'"), Some("${".into()));
    }

    #[test]
    fn double_quote_escapes() {
        let text = r#"A="x\ny\tz\rw\\v\"q\$r\a\b\f\v\x41\u00e9\/\'""#;
        let expected = "x\ny\tz\rw\\v\"q$r\u{7}\u{8}\u{c}\u{b}\\x41\\u00e9\\/\\'";
        assert_eq!(one(text), Some(expected.into()));
        assert_eq!(one(r#"A="${SHELL_VAR}\${SHELL_VAR}""#), Some("from-shell${SHELL_VAR}".into()));
        assert_eq!(one(r#"A="\\$SHELL_VAR""#), Some("\\from-shell".into()));
        assert_eq!(one("A=\" sp \""), Some(" sp ".into()));
    }

    #[test]
    fn unquoted_values_have_no_escapes() {
        assert_eq!(one(r"A=a\nb"), Some(r"a\nb".into()));
        assert_eq!(one(r"A=\$SHELL_VAR"), Some(r"\from-shell".into()));
    }

    #[test]
    fn variable_values_are_not_unescaped() {
        let lookup = |name: &str| (name == "X").then(|| r"p\nq".to_owned());
        let found = parse("A=\"${X}\"\nB=$X", &lookup).map(|e| e.into_iter().map(|e| e.value).collect());
        assert_eq!(found, Ok(vec![Some(r"p\nq".into()), Some(r"p\nq".into())]));
    }

    #[test]
    fn interpolation_and_dollar_escapes() {
        let text = "A=$$x\nB=\"$$x\"\nC=${MISSING:-d}\nD=$MISSING\nE=${EMPTY-d}";
        let expected = vec![kv("A", "$x"), kv("B", "$x"), kv("C", "d"), kv("D", ""), kv("E", "")];
        assert_eq!(pairs(text), expected);
    }

    #[test]
    fn earlier_lines_are_used_when_lookup_has_nothing() {
        let text = "X=1\nX=2\nY=$X\nZ=\"${X}\"\nW='$X'";
        let expected = vec![kv("X", "1"), kv("X", "2"), kv("Y", "2"), kv("Z", "2"), kv("W", "$X")];
        assert_eq!(pairs(text), expected);
        // A later definition does not help an earlier line.
        assert_eq!(pairs("Y=$X\nX=1")[0], kv("Y", ""));
    }

    #[test]
    fn lookup_wins_over_earlier_lines() {
        // Checked with compose: the shell value is used for expansion, but
        // the entry keeps the file's value.
        assert_eq!(pairs("A=file\nB=$A"), vec![kv("A", "file"), kv("B", "shell-a")]);
    }

    #[test]
    fn bare_key_does_not_define_for_later_lines() {
        let found = parse("C\nD=$C", &no_env);
        let expected = vec![
            EnvEntry { key: "C".into(), value: None, span: 0..1 },
            EnvEntry { key: "D".into(), value: Some(String::new()), span: 2..6 },
        ];
        assert_eq!(found, Ok(expected));
    }

    #[test]
    fn multi_line_quoted_values() {
        let text = "A=\"multi\nline\"\nB='m2\nl2' junk\nC=3";
        let expected = vec![kv("A", "multi\nline"), kv("B", "m2\nl2"), kv("C", "3")];
        assert_eq!(pairs(text), expected);
        let spans: Vec<_> = entries(text).into_iter().map(|e| e.span).collect();
        assert_eq!(spans, vec![0..14, 15..29, 30..33]);
    }

    #[test]
    fn text_after_closing_quote_is_ignored() {
        assert_eq!(one("A=\"x\"junk"), Some("x".into()));
        assert_eq!(one("A=\"a\" b"), Some("a".into()));
    }

    #[test]
    fn backslash_newline_in_double_quotes_is_kept() {
        assert_eq!(one("A=\"a\\\nb\""), Some("a\\\nb".into()));
    }

    #[test]
    fn crlf_line_endings() {
        let text = "A=1\r\n#c\r\nB\r\nC=\"m\r\nl\"\r\nD='x'\r\n";
        let expected = vec![kv("A", "1"), ("B".into(), None), kv("C", "m\r\nl"), kv("D", "x")];
        assert_eq!(pairs(text), expected);
        let spans: Vec<_> = entries(text).into_iter().map(|e| e.span).collect();
        assert_eq!(spans, vec![0..3, 9..10, 12..20, 22..27]);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let found = entries("\u{feff}A=1\nB=2");
        let expected = vec![
            EnvEntry { key: "A".into(), value: Some("1".into()), span: 3..6 },
            EnvEntry { key: "B".into(), value: Some("2".into()), span: 7..10 },
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn keys_with_dots_and_dashes() {
        assert_eq!(pairs("A-B=x\nA.B=y\n_a=z"), vec![kv("A-B", "x"), kv("A.B", "y"), kv("_a", "z")]);
    }

    #[test]
    fn invalid_keys() {
        let cases = [
            ("OK=1\nA B=x\n", 5..10),
            ("=x", 0..2),
            ("A$B=x", 0..5),
            ("A/B=z", 0..5),
            ("A\tB=1", 0..5),
            ("C # comment", 0..11),
            ("X=1\r\nA'=1\r\n", 5..9),
        ];
        for (text, span) in cases {
            assert_eq!(error(text).span, span, "{text:?}");
        }
        assert!(error("A B=x").message.contains("\"A B\""));
    }

    #[test]
    fn unterminated_quotes() {
        let err = error("X=1\nA=\"unterminated\nB=2\n");
        assert_eq!(err.span, 4..19);
        assert!(err.message.contains("unterminated"));
        assert_eq!(error("A='x\\'").span, 0..6);
    }

    #[test]
    fn interpolation_errors() {
        let err = error("X=1\nA=${MISSING:?err}\n");
        assert_eq!(err.message, "required variable MISSING is missing a value: err");
        assert_eq!(err.span, 4..21);
        assert_eq!(error("A=${").span, 0..4);
        assert_eq!(error("A=\"${\"").span, 0..6);
        assert!(error("A=${B:-x").message.starts_with("invalid interpolation"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = ["\"", "'", "A=\"", "A='", "A=\"\\", "\u{feff}", "\r", "\r\n", "A=\r", "\n\n=", ":", "export "];
        for sample in samples {
            let _ = parse(sample, &shell);
        }
    }
}
