//! Turns text into [`Dockerfile`]: directives, then one instruction per logical line, each
//! with its flags, arguments and heredoc bodies.

use std::ops::Range;

use super::ast::{Args, Comment, Dockerfile, Heredoc, Instruction, Issue, Keyword, ParseError, Word};
use super::lines::{Line, Lines, Logical, continuation_cut, is_blank, is_comment};
use super::words::{Json, first_word_len, parse_json_array, split_heredoc_words, split_plain, split_quoted};
use super::{directives, validate};

const BOM: char = '\u{feff}';

/// Parses a Dockerfile. Never fails: syntax errors are collected in [`Dockerfile::errors`].
pub fn parse(text: &str) -> Dockerfile {
    let start = if text.starts_with(BOM) { BOM.len_utf8() } else { 0 };
    let mut lines = Lines::new(text, start);
    let mut errors = Vec::new();
    let directives = directives::read(&mut lines, &mut errors);
    let escape = directives.iter().find(|d| d.name == "escape").and_then(|d| d.value.chars().next()).unwrap_or('\\');
    let mut parser = Parser { text, lines, escape, errors, warnings: Vec::new() };
    let mut instructions = Vec::new();
    let mut comments = Vec::new();
    while let Some(line) = parser.lines.next_line() {
        let content = parser.lines.text(line);
        if is_blank(content) {
            continue;
        }
        if is_comment(content) {
            comments.push(comment(content, line));
            continue;
        }
        let mut instruction = parser.instruction(line);
        instruction.comments_before = std::mem::take(&mut comments);
        instructions.push(instruction);
    }
    for instruction in &instructions {
        validate::instruction(instruction, &mut parser.errors, &mut parser.warnings);
    }
    validate::structure(&instructions, text, &mut parser.errors);
    Dockerfile {
        directives,
        instructions,
        escape,
        trailing_comments: comments,
        errors: parser.errors,
        warnings: parser.warnings,
    }
}

fn comment(content: &str, line: Line) -> Comment {
    let leading = content.len() - content.trim_start().len();
    let body = content.trim_start().strip_prefix('#').unwrap_or("");
    Comment { text: body.trim().to_string(), span: line.start + leading..line.end }
}

struct Parser<'a> {
    text: &'a str,
    lines: Lines<'a>,
    escape: char,
    errors: Vec<ParseError>,
    warnings: Vec<ParseError>,
}

impl Parser<'_> {
    fn instruction(&mut self, first: Line) -> Instruction {
        let (logical, comments_inside) = self.read_logical(first);
        let start = logical.text.len() - logical.text.trim_start().len();
        let mut instruction = self.command(&logical, start, true);
        instruction.comments_inside = comments_inside;
        instruction
    }

    /// Joins a line with its continuations. Comment lines inside are dropped (kept aside);
    /// blank lines inside are skipped with a warning, as BuildKit does.
    fn read_logical(&mut self, first: Line) -> (Logical, Vec<Comment>) {
        let mut logical = Logical::default();
        let mut comments = Vec::new();
        let mut line = first;
        loop {
            let content = self.lines.text(line);
            let Some(cut) = continuation_cut(content, self.escape) else {
                logical.push(line.start, content);
                break;
            };
            logical.push(line.start, content.get(..cut).unwrap_or(""));
            match self.next_continued_line(&mut comments) {
                Some(next) => line = next,
                None => break,
            }
        }
        (logical, comments)
    }

    fn next_continued_line(&mut self, comments: &mut Vec<Comment>) -> Option<Line> {
        let mut blank: Option<Range<usize>> = None;
        while let Some(line) = self.lines.next_line() {
            let content = self.lines.text(line);
            if is_blank(content) {
                blank.get_or_insert(line.span());
            } else if is_comment(content) {
                comments.push(comment(content, line));
            } else {
                if let Some(span) = blank {
                    let warning = ParseError::new("empty continuation line", span).of_kind(Issue::EmptyContinuation);
                    self.warnings.push(warning.with_help("remove the empty line (NoEmptyContinuation)"));
                }
                return Some(line);
            }
        }
        None
    }

    /// Parses the instruction starting at logical offset `start`. `top` is false for the
    /// trigger of an ONBUILD, which keeps nesting to one level.
    fn command(&mut self, logical: &Logical, start: usize, top: bool) -> Instruction {
        let text = logical.text.as_str();
        let end = text.trim_end().len();
        let keyword_len = logical.slice(start..end).find(char::is_whitespace);
        let keyword_end = start + keyword_len.unwrap_or(end.saturating_sub(start));
        let keyword = Keyword::parse(logical.slice(start..keyword_end));
        let keyword_span = logical.map(start..keyword_end);
        if keyword == Keyword::Onbuild && top {
            return self.onbuild(logical, keyword_span, keyword_end);
        }
        let (flags, args_start) = match keyword {
            Keyword::Unknown(_) => (Vec::new(), skip_ws(text, keyword_end)),
            _ => self.flags(logical, keyword_end),
        };
        let args_range = args_start..end.max(args_start);
        let args = self.args(&keyword, logical, args_range.clone());
        let heredocs = if keyword.takes_heredocs() { self.heredocs(logical, args_range) } else { Vec::new() };
        let last = heredocs.last().map_or_else(|| logical.map(start..end).end, |h| h.body_span.end);
        Instruction {
            keyword,
            span: keyword_span.start..last,
            keyword_span,
            flags,
            args,
            heredocs,
            comments_before: Vec::new(),
            comments_inside: Vec::new(),
            onbuild: None,
        }
    }

    fn onbuild(&mut self, logical: &Logical, keyword_span: Range<usize>, keyword_end: usize) -> Instruction {
        let end = logical.text.trim_end().len();
        let inner_start = skip_ws(&logical.text, keyword_end);
        let (args, trigger) = if inner_start < end {
            let trigger = self.command(logical, inner_start, false);
            (Args::Text(word(logical, inner_start..end)), Some(Box::new(trigger)))
        } else {
            (Args::None, None)
        };
        let last = trigger.as_ref().map_or(keyword_span.end, |t| t.span.end);
        Instruction {
            keyword: Keyword::Onbuild,
            span: keyword_span.start..last,
            keyword_span,
            flags: Vec::new(),
            args,
            heredocs: Vec::new(),
            comments_before: Vec::new(),
            comments_inside: Vec::new(),
            onbuild: trigger,
        }
    }

    /// Reads leading `--name[=value]` flags. A bare `--` ends them.
    fn flags(&mut self, logical: &Logical, from: usize) -> (Vec<super::ast::Flag>, usize) {
        let text = logical.text.as_str();
        let mut flags = Vec::new();
        let mut pos = skip_ws(text, from);
        while logical.slice(pos..text.len()).starts_with("--") {
            let rest = logical.slice(pos..text.len());
            let len = first_word_len(rest, self.escape);
            if len == 2 {
                pos = skip_ws(text, pos + 2);
                break;
            }
            let token = logical.slice(pos + 2..pos + len);
            let (name, value) = match token.find('=') {
                Some(eq) => (token.get(..eq).unwrap_or(""), Some(pos + 2 + eq + 1..pos + len)),
                None => (token, None),
            };
            flags.push(super::ast::Flag {
                name: name.to_string(),
                value: value.clone().map(|r| strip_quotes(logical.slice(r), self.escape)),
                span: logical.map(pos..pos + len),
                value_span: value.map(|r| logical.map(r)),
            });
            pos = skip_ws(text, pos + len);
        }
        (flags, pos)
    }

    fn args(&mut self, keyword: &Keyword, logical: &Logical, range: Range<usize>) -> Args {
        if range.is_empty() {
            return Args::None;
        }
        match keyword {
            Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => self.command_form(logical, range),
            Keyword::Copy | Keyword::Add | Keyword::Volume => self.json_or_words(logical, range),
            Keyword::From | Keyword::Expose => {
                Args::Words(words(logical, split_plain(logical.slice(range.clone()), range.start)))
            }
            Keyword::Env | Keyword::Label => self.pairs(logical, range),
            Keyword::Arg => {
                let ranges = self.quoted_words(logical, range);
                Args::Words(words(logical, ranges))
            }
            Keyword::Healthcheck => self.healthcheck(logical, range),
            Keyword::User
            | Keyword::Workdir
            | Keyword::Stopsignal
            | Keyword::Maintainer
            | Keyword::Onbuild
            | Keyword::Unknown(_) => Args::Text(word(logical, range)),
        }
    }

    /// Exec form when the text is a JSON string array, otherwise shell form (as Docker does).
    fn command_form(&mut self, logical: &Logical, range: Range<usize>) -> Args {
        let text = logical.slice(range.clone());
        if !text.starts_with('[') {
            return Args::Shell(word(logical, range));
        }
        match parse_json_array(text, range.start) {
            Json::Strings(items) => Args::Json(json_words(logical, items)),
            Json::NotStrings => {
                let error = ParseError::new("JSON array must contain only strings", logical.map(range.clone()));
                self.errors.push(error.with_help("quote every element, e.g. [\"sleep\", \"10\"]"));
                Args::Shell(word(logical, range))
            }
            Json::Invalid => {
                let warning = ParseError::new("not valid JSON: this runs in shell form", logical.map(range.clone()))
                    .of_kind(Issue::InvalidJson);
                self.warnings.push(warning.with_help("exec form needs double quotes, e.g. [\"npm\", \"start\"]"));
                Args::Shell(word(logical, range))
            }
        }
    }

    fn json_or_words(&mut self, logical: &Logical, range: Range<usize>) -> Args {
        let text = logical.slice(range.clone());
        if text.starts_with('[') {
            match parse_json_array(text, range.start) {
                Json::Strings(items) => return Args::Json(json_words(logical, items)),
                Json::NotStrings => {
                    let error = ParseError::new("JSON array must contain only strings", logical.map(range.clone()));
                    self.errors.push(error);
                }
                Json::Invalid => {}
            }
        }
        Args::Words(words(logical, split_plain(text, range.start)))
    }

    fn quoted_words(&mut self, logical: &Logical, range: Range<usize>) -> Vec<Range<usize>> {
        let split = split_quoted(logical.slice(range.clone()), range.start, self.escape);
        if let Some(at) = split.unclosed_quote {
            let span = logical.map(at..range.end);
            self.errors.push(ParseError::new("unterminated quote", span).with_help("close the quote"));
        }
        split.words
    }

    /// ENV and LABEL: `k=v k2=v2`, or the legacy `k value with spaces`, which is kept as two
    /// words: the key and the raw rest of the line.
    fn pairs(&mut self, logical: &Logical, range: Range<usize>) -> Args {
        let ranges = self.quoted_words(logical, range.clone());
        let legacy_key = ranges.first().filter(|r| !logical.slice((*r).clone()).contains('='));
        match (legacy_key, ranges.get(1)) {
            (Some(key), Some(value)) => {
                Args::Words(vec![word(logical, key.clone()), word(logical, value.start..range.end)])
            }
            _ => Args::Words(words(logical, ranges)),
        }
    }

    /// `HEALTHCHECK NONE` or `HEALTHCHECK [flags] CMD <command>`.
    fn healthcheck(&mut self, logical: &Logical, range: Range<usize>) -> Args {
        let text = logical.slice(range.clone());
        let mode_len = text.find(char::is_whitespace).unwrap_or(text.len());
        let mode = word(logical, range.start..range.start + mode_len);
        let rest = skip_ws(&logical.text, range.start + mode_len)..range.end;
        // Anything after NONE is kept too, so validation can point out that NONE takes nothing.
        let command = if !rest.is_empty() { Some(Box::new(self.command_form(logical, rest))) } else { None };
        Args::Healthcheck { mode, command }
    }

    /// Finds every `<<WORD` marker in the line and reads the bodies that follow, in order.
    fn heredocs(&mut self, logical: &Logical, range: Range<usize>) -> Vec<Heredoc> {
        let split = split_heredoc_words(logical.slice(range.clone()), range.start, self.escape);
        let mut heredocs = Vec::new();
        for marker_range in split.words {
            if let Some(marker) = parse_marker(logical.slice(marker_range.clone()), self.escape) {
                heredocs.push(self.heredoc_body(marker, logical.map(marker_range)));
            }
        }
        heredocs
    }

    fn heredoc_body(&mut self, marker: Marker, span: Range<usize>) -> Heredoc {
        let body_start = self.lines.peek().map_or(self.text.len(), |l| l.start);
        let mut body = String::new();
        let mut body_end = self.text.len();
        let mut terminated = false;
        while let Some(line) = self.lines.next_line() {
            let content = self.lines.text(line);
            let content = if marker.strip_tabs { content.trim_start_matches('\t') } else { content };
            if content == marker.delimiter {
                body_end = line.end;
                terminated = true;
                break;
            }
            body.push_str(content);
            body.push('\n');
        }
        if !terminated {
            let message = format!("unterminated heredoc `{}`", marker.delimiter);
            let help = format!("end the heredoc with a line containing only `{}`", marker.delimiter);
            self.errors.push(ParseError::new(message, span.clone()).with_help(help));
        }
        Heredoc {
            delimiter: marker.delimiter,
            strip_tabs: marker.strip_tabs,
            quoted: marker.quoted,
            fd: marker.fd,
            body,
            span,
            body_span: body_start..body_end,
        }
    }
}

struct Marker {
    fd: Option<u32>,
    strip_tabs: bool,
    delimiter: String,
    quoted: bool,
}

/// Matches `[n]<<[-]WORD` as BuildKit does (`^(\d*)<<(-?)\s*([^<]*)$`): blanks may follow
/// `<<` or `<<-`, WORD is non-empty and has no `<` (so `<<<` here-strings are not heredocs),
/// and it must unquote to something (`<<''` is not a heredoc). Quoted blanks are part of the
/// delimiter: `<<'one two'` ends at a line `one two`.
fn parse_marker(word: &str, escape: char) -> Option<Marker> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let after_fd = word.get(digits..)?.strip_prefix("<<")?;
    let (strip_tabs, raw) = match after_fd.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after_fd),
    };
    // Go's `\s`: space, tab, newline, form feed, carriage return.
    let raw = raw.trim_start_matches([' ', '\t', '\n', '\x0c', '\r']);
    if raw.is_empty() || raw.contains('<') {
        return None;
    }
    let delimiter = strip_quotes(raw, escape);
    if delimiter.is_empty() {
        return None;
    }
    let fd = if digits > 0 { word.get(..digits).and_then(|d| d.parse().ok()) } else { None };
    Some(Marker { fd, strip_tabs, delimiter, quoted: raw.contains(['"', '\'']) })
}

/// Removes quotes and escape characters (outside single quotes), like the shell would.
pub(crate) fn strip_quotes(text: &str, escape: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('\'') => out.push(c),
            _ if c == escape => out.extend(chars.next()),
            None if c == '"' || c == '\'' => quote = Some(c),
            _ => out.push(c),
        }
    }
    out
}

fn skip_ws(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or("");
    from + (rest.len() - rest.trim_start().len())
}

fn word(logical: &Logical, range: Range<usize>) -> Word {
    Word { text: logical.slice(range.clone()).to_string(), span: logical.map(range) }
}

fn words(logical: &Logical, ranges: Vec<Range<usize>>) -> Vec<Word> {
    ranges.into_iter().map(|r| word(logical, r)).collect()
}

fn json_words(logical: &Logical, items: Vec<(String, Range<usize>)>) -> Vec<Word> {
    items.into_iter().map(|(text, range)| Word { text, span: logical.map(range) }).collect()
}
