//! Splitting argument text into words, and reading JSON string arrays. All positions are
//! byte offsets into the text given; the caller maps them back to the original.

use std::ops::Range;

/// Splits on whitespace only, like Docker does for FROM, COPY, ADD, VOLUME and EXPOSE
/// (paths with spaces need the JSON form there).
pub(crate) fn split_plain(text: &str, base: usize) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push(base + s..base + i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(base + s..base + text.len());
    }
    words
}

/// The result of a quote-aware split: word ranges, and where an unclosed quote started.
pub(crate) struct Split {
    pub words: Vec<Range<usize>>,
    pub unclosed_quote: Option<usize>,
}

/// Splits on whitespace outside quotes, honouring the escape character outside single
/// quotes, like Docker does for ENV, LABEL and ARG.
pub(crate) fn split_quoted(text: &str, base: usize, escape: char) -> Split {
    split_words(text, base, escape, false)
}

/// [`split_quoted`] as BuildKit (dockerfile 1.16+) splits a line to find heredoc markers: an
/// unquoted `<<` keeps the blanks after it (space, tab, `\r`) in its word, so `<<  EOF` is one
/// word. `<` pair up from the left, so the third of `<<<` keeps nothing.
pub(crate) fn split_heredoc_words(text: &str, base: usize, escape: char) -> Split {
    split_words(text, base, escape, true)
}

fn split_words(text: &str, base: usize, escape: char, heredocs: bool) -> Split {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<(char, usize)> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some((q, _)) = quote {
            if c == q {
                quote = None;
            } else if c == escape && q == '"' {
                chars.next();
            }
            continue;
        }
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                words.push(base + s..base + i);
            }
            continue;
        }
        start.get_or_insert(i);
        if c == '"' || c == '\'' {
            quote = Some((c, base + i));
        } else if c == escape {
            chars.next();
        } else if heredocs && c == '<' && chars.clone().next().is_some_and(|(_, n)| n == '<') {
            chars.next();
            while chars.clone().next().is_some_and(|(_, n)| matches!(n, ' ' | '\t' | '\r')) {
                chars.next();
            }
        }
    }
    if let Some(s) = start {
        words.push(base + s..base + text.len());
    }
    Split { words, unclosed_quote: quote.map(|(_, at)| at) }
}

/// The length of the first word of `text` (which starts at a non-blank), quote-aware like
/// [`split_quoted`] but without splitting the rest.
pub(crate) fn first_word_len(text: &str, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                chars.next();
            }
            Some(_) => {}
            None if c.is_whitespace() => return i,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == escape => {
                chars.next();
            }
            None => {}
        }
    }
    text.len()
}

/// What a `[...]` argument turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Json {
    /// Decoded strings with the byte range of each literal (quotes included).
    Strings(Vec<(String, Range<usize>)>),
    /// Valid JSON array, but not all elements are strings: Docker rejects this.
    NotStrings,
    /// Not a JSON array at all: Docker falls back to the shell form.
    Invalid,
}

/// Parses `text` as a JSON array of strings. Positions are offsets into `text` plus `base`.
pub(crate) fn parse_json_array(text: &str, base: usize) -> Json {
    let mut reader = Reader { bytes: text.as_bytes(), text, pos: 0 };
    match reader.array(base) {
        Some(json) if reader.at_end() => json,
        _ => Json::Invalid,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.bytes.len()
    }

    fn array(&mut self, base: usize) -> Option<Json> {
        if !self.eat(b'[') {
            return None;
        }
        let mut strings = Vec::new();
        let mut all_strings = true;
        if self.eat(b']') {
            return Some(Json::Strings(strings));
        }
        loop {
            self.skip_ws();
            let start = self.pos;
            if self.peek() == Some(b'"') {
                let decoded = self.string()?;
                strings.push((decoded, base + start..base + self.pos));
            } else {
                self.skip_value()?;
                all_strings = false;
            }
            if self.eat(b']') {
                break;
            }
            if !self.eat(b',') {
                return None;
            }
        }
        Some(if all_strings { Json::Strings(strings) } else { Json::NotStrings })
    }

    /// Reads a string literal starting at the opening quote.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..)?;
            let c = rest.chars().next()?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Some(out),
                '\\' => out.push(self.escape()?),
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Option<char> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        self.pos += 4;
        Some(value)
    }

    /// `\uXXXX`, combining surrogate pairs; a lone surrogate becomes U+FFFD like Go does.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return Some(char::from_u32(first).unwrap_or('\u{fffd}'));
        }
        let save = self.pos;
        if self.text.get(self.pos..self.pos + 2) == Some("\\u") {
            self.pos += 2;
            if let Some(second) = self.hex4().filter(|s| (0xDC00..0xE000).contains(s)) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Some(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
        }
        self.pos = save;
        Some('\u{fffd}')
    }

    /// Skips a non-string JSON value. Nested containers are tracked with an explicit stack,
    /// not recursion, so deep nesting cannot overflow.
    fn skip_value(&mut self) -> Option<()> {
        let mut closers: Vec<u8> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                b'[' => {
                    self.pos += 1;
                    closers.push(b']');
                    if self.eat(b']') {
                        closers.pop();
                    } else {
                        continue;
                    }
                }
                b'{' => {
                    self.pos += 1;
                    closers.push(b'}');
                    if self.eat(b'}') {
                        closers.pop();
                    } else {
                        self.object_key()?;
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => self.scalar()?,
            }
            // After a value: close containers, or continue with the next element.
            loop {
                let Some(&closer) = closers.last() else { return Some(()) };
                if self.eat(closer) {
                    closers.pop();
                    continue;
                }
                if !self.eat(b',') {
                    return None;
                }
                if closer == b'}' {
                    self.object_key()?;
                }
                break;
            }
        }
    }

    fn object_key(&mut self) -> Option<()> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        self.string()?;
        self.eat(b':').then_some(())
    }

    /// Numbers, `true`, `false`, `null`. Loose about number syntax: only the string/non-string
    /// distinction matters here.
    fn scalar(&mut self) -> Option<()> {
        let rest = self.text.get(self.pos..)?;
        for word in ["true", "false", "null"] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Some(());
            }
        }
        let len = rest.bytes().take_while(|b| b.is_ascii_digit() || b"+-.eE".contains(b)).count();
        let starts_ok = rest.bytes().next().is_some_and(|b| b == b'-' || b.is_ascii_digit());
        if len == 0 || !starts_ok {
            return None;
        }
        self.pos += len;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, ranges: &[Range<usize>]) -> Vec<String> {
        ranges.iter().map(|r| text.get(r.clone()).unwrap_or("?").to_string()).collect()
    }

    #[test]
    fn plain_split() {
        let text = " a  bb\tc ";
        assert_eq!(split_plain(text, 10), vec![11..12, 14..16, 17..18]);
    }

    #[test]
    fn quoted_split_keeps_quotes_and_escapes() {
        let text = r#"a=1 b="two words" c='x y' d=e\ f"#;
        let split = split_quoted(text, 0, '\\');
        assert_eq!(texts(text, &split.words), vec!["a=1", r#"b="two words""#, "c='x y'", r"d=e\ f"]);
        assert_eq!(split.unclosed_quote, None);
    }

    #[test]
    fn first_word_is_quote_aware() {
        assert_eq!(first_word_len(r#"--a="b c" d"#, '\\'), 9);
        assert_eq!(first_word_len(r"--a=b\ c d", '\\'), 8);
        assert_eq!(first_word_len("--a", '\\'), 3);
    }

    #[test]
    fn quoted_split_reports_unclosed_quote() {
        let split = split_quoted(r#"a "b c"#, 0, '\\');
        assert_eq!(split.unclosed_quote, Some(2));
        assert_eq!(split.words, vec![0..1, 2..6]);
    }

    #[test]
    fn json_strings_with_spans() {
        let text = r#"["a", "b\"c", "\u00e9\ud83d\ude00"]"#;
        let Json::Strings(items) = parse_json_array(text, 100) else { panic!("not strings") };
        let decoded: Vec<&str> = items.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(decoded, vec!["a", "b\"c", "é😀"]);
        assert_eq!(items.first().map(|(_, r)| r.clone()), Some(101..104));
        assert_eq!(items.get(1).map(|(_, r)| r.clone()), Some(106..112));
    }

    #[test]
    fn json_non_strings_and_invalid() {
        assert_eq!(parse_json_array(r#"["a", 1]"#, 0), Json::NotStrings);
        assert_eq!(parse_json_array(r#"["a", {"k": [1, null]}, true]"#, 0), Json::NotStrings);
        assert_eq!(parse_json_array("[]", 0), Json::Strings(vec![]));
        assert_eq!(parse_json_array("['a']", 0), Json::Invalid);
        assert_eq!(parse_json_array(r#"["a"] x"#, 0), Json::Invalid);
        assert_eq!(parse_json_array(r#"["a",]"#, 0), Json::Invalid);
        assert_eq!(parse_json_array(r#"["a""#, 0), Json::Invalid);
    }

    #[test]
    fn json_deep_nesting_does_not_overflow() {
        let text = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_json_array(&text, 0), Json::NotStrings);
    }
}
