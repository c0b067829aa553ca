//! The syntax tree. Every span is a byte range into the original text (BOM included), so
//! diagnostics can point at the exact instruction, flag or argument.

use std::ops::Range;

/// A parsed Dockerfile. Parsing never fails: problems are collected in `errors` (Docker
/// would refuse the file) and `warnings` (Docker builds it but its checks would complain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Vec<Directive>,
    pub instructions: Vec<Instruction>,
    /// The escape character: `\` unless `# escape=`` ` changed it.
    pub escape: char,
    /// Comments after the last instruction (nothing follows them to attach to).
    pub trailing_comments: Vec<Comment>,
    pub errors: Vec<ParseError>,
    pub warnings: Vec<ParseError>,
}

impl Dockerfile {
    /// The value of a parser directive (`syntax`, `escape`, `check`), by lowercase name.
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.name == name)
    }
}

/// A parser directive such as `# syntax=docker/dockerfile:1`. `name` is lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub value: String,
    /// The whole comment line.
    pub span: Range<usize>,
    pub value_span: Range<usize>,
}

/// A `#` comment line. `text` is what follows the `#`, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    /// Anything else, as written. Reported as an error with a suggestion.
    Unknown(String),
}

/// Every known keyword with its canonical spelling, for lookups and suggestions.
pub(crate) const KEYWORDS: [(&str, Keyword); 18] = [
    ("ADD", Keyword::Add),
    ("ARG", Keyword::Arg),
    ("CMD", Keyword::Cmd),
    ("COPY", Keyword::Copy),
    ("ENTRYPOINT", Keyword::Entrypoint),
    ("ENV", Keyword::Env),
    ("EXPOSE", Keyword::Expose),
    ("FROM", Keyword::From),
    ("HEALTHCHECK", Keyword::Healthcheck),
    ("LABEL", Keyword::Label),
    ("MAINTAINER", Keyword::Maintainer),
    ("ONBUILD", Keyword::Onbuild),
    ("RUN", Keyword::Run),
    ("SHELL", Keyword::Shell),
    ("STOPSIGNAL", Keyword::Stopsignal),
    ("USER", Keyword::User),
    ("VOLUME", Keyword::Volume),
    ("WORKDIR", Keyword::Workdir),
];

impl Keyword {
    /// Keywords are case-insensitive.
    pub fn parse(word: &str) -> Keyword {
        KEYWORDS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, keyword)| keyword.clone())
            .unwrap_or_else(|| Keyword::Unknown(word.to_string()))
    }

    /// The canonical uppercase spelling (unknown keywords as written).
    pub fn as_str(&self) -> &str {
        match self {
            Keyword::Unknown(word) => word,
            known => KEYWORDS.iter().find(|(_, k)| k == known).map_or("", |(name, _)| name),
        }
    }

    /// Only these instructions read heredoc bodies (per the Dockerfile reference).
    pub fn takes_heredocs(&self) -> bool {
        matches!(self, Keyword::Run | Keyword::Copy | Keyword::Add)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: Keyword,
    pub keyword_span: Range<usize>,
    /// The whole instruction: keyword through the last continuation line or heredoc terminator.
    pub span: Range<usize>,
    pub flags: Vec<Flag>,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
    /// Comments since the previous instruction (for `# hadolint ignore=` style pragmas).
    pub comments_before: Vec<Comment>,
    /// Comment lines dropped from inside a continuation.
    pub comments_inside: Vec<Comment>,
    /// For `ONBUILD <instruction>`: the trigger instruction.
    pub onbuild: Option<Box<Instruction>>,
}

impl Instruction {
    /// The first flag with this name (without the leading `--`).
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// All flags with this name, for repeatable ones like `--mount`.
    pub fn flags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags.iter().filter(move |f| f.name == name)
    }
}

/// `--name` or `--name=value`. The value has its quotes removed, as Docker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub span: Range<usize>,
    pub value_span: Option<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// No arguments at all.
    None,
    /// A JSON string array: exec form of RUN/CMD/ENTRYPOINT/SHELL, JSON form of COPY/ADD/VOLUME.
    /// Each word is the decoded string; its span covers the JSON literal with its quotes.
    Json(Vec<Word>),
    /// Shell form of RUN/CMD/ENTRYPOINT: the raw text, continuations removed.
    Shell(Word),
    /// Whitespace-separated words, raw (quotes kept, variables unexpanded).
    Words(Vec<Word>),
    /// One raw string: USER, WORKDIR, STOPSIGNAL, MAINTAINER, ONBUILD and unknown instructions.
    Text(Word),
    /// HEALTHCHECK: `mode` is `NONE` or `CMD`; `command` is the CMD's exec or shell form.
    Healthcheck { mode: Word, command: Option<Box<Args>> },
}

/// A piece of source text. `text` has continuations removed; `span` covers it in the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Range<usize>,
}

impl Word {
    /// A sub-word from a byte range of `text`. The span is exact when the word has no
    /// continuation inside it (text and source have the same length); otherwise it falls back
    /// to the whole word's span, which still points at the right place.
    pub fn sub(&self, range: Range<usize>) -> Word {
        let text = self.text.get(range.clone()).unwrap_or("").to_string();
        let exact = self.span.len() == self.text.len();
        let span = if exact { self.span.start + range.start..self.span.start + range.end } else { self.span.clone() };
        Word { text, span }
    }
}

/// A heredoc: `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub delimiter: String,
    /// `<<-`: leading tabs are stripped from body lines and from the terminator.
    pub strip_tabs: bool,
    /// Any part of the delimiter was quoted: the body is not expanded.
    pub quoted: bool,
    /// The file descriptor in `3<<EOF`, if given.
    pub fd: Option<u32>,
    /// Body lines, each ending in `\n` (CRLF normalised), tabs stripped for `<<-`.
    pub body: String,
    /// The `<<EOF` marker in the instruction line.
    pub span: Range<usize>,
    /// The body lines and the terminator line.
    pub body_span: Range<usize>,
}

/// A syntax problem with the span it concerns and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
    pub kind: Issue,
}

/// What a parse problem is, so callers can give each its own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    /// Docker refuses the file.
    Syntax,
    /// An empty line inside a continuation (BuildKit's NoEmptyContinuation).
    EmptyContinuation,
    /// `[...]` that is not valid JSON, so it runs in shell form.
    InvalidJson,
    /// The deprecated MAINTAINER instruction (BuildKit's MaintainerDeprecated).
    Maintainer,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> ParseError {
        ParseError { message: message.into(), span, help: None, kind: Issue::Syntax }
    }

    pub fn of_kind(mut self, kind: Issue) -> ParseError {
        self.kind = kind;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ParseError {
        self.help = Some(help.into());
        self
    }
}
