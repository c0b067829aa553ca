//! Typed views of the instructions kompile reads. Each view borrows from the instruction;
//! `Instruction::as_*` returns `None` for another keyword or a malformed instruction (the
//! parser has already reported why in `Dockerfile::errors`).

use std::time::Duration;

use super::ast::{Args, Flag, Heredoc, Instruction, Keyword, ParseError, Word};
use crate::ports::{self, Spec};
use crate::units::{self, DurationError};

/// Exec form (JSON array) or shell form of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    Exec(&'a [Word]),
    Shell(&'a Word),
}

impl Args {
    pub fn command(&self) -> Option<Command<'_>> {
        match self {
            Args::Json(words) => Some(Command::Exec(words)),
            Args::Shell(word) => Some(Command::Shell(word)),
            _ => None,
        }
    }

    /// The words of a Words or Json form (empty otherwise).
    pub fn words(&self) -> &[Word] {
        match self {
            Args::Words(words) | Args::Json(words) => words,
            _ => &[],
        }
    }

    /// The single string of a Text or Shell form.
    pub fn text(&self) -> Option<&Word> {
        match self {
            Args::Text(word) | Args::Shell(word) => Some(word),
            _ => None,
        }
    }
}

/// `FROM [--platform=p] image [AS name]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromView<'a> {
    pub image: &'a Word,
    /// The stage name as written; Docker compares it lowercased.
    pub stage_name: Option<&'a Word>,
    pub platform: Option<&'a Flag>,
}

/// One `name[=default]` of an ARG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: Word,
    /// Raw (quotes kept); run it through `substitute` for the value.
    pub default: Option<Word>,
}

/// One `key=value` of ENV or LABEL. Both raw (quotes kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: Word,
    pub value: Word,
}

/// ENV or LABEL. `legacy` is the `ENV key value` form (LegacyKeyValueFormat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairs {
    pub pairs: Vec<Pair>,
    pub legacy: bool,
}

/// `USER user[:group]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user: Word,
    pub group: Option<Word>,
}

/// HEALTHCHECK. `command` is `None` for `HEALTHCHECK NONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck<'a> {
    pub command: Option<Command<'a>>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

/// COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyView<'a> {
    pub sources: &'a [Word],
    pub destination: &'a Word,
    pub from: Option<&'a Flag>,
    pub chown: Option<&'a Flag>,
    pub chmod: Option<&'a Flag>,
    pub link: bool,
    pub heredocs: &'a [Heredoc],
}

/// RUN with its build-time flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView<'a> {
    pub command: Command<'a>,
    pub mounts: Vec<&'a Flag>,
    pub network: Option<&'a Flag>,
    pub security: Option<&'a Flag>,
    pub heredocs: &'a [Heredoc],
}

impl Instruction {
    pub fn as_from(&self) -> Option<FromView<'_>> {
        from_view(self).ok()
    }

    /// ARG declarations (an ARG may declare several).
    pub fn as_arg(&self) -> Option<Vec<ArgDecl>> {
        (self.keyword == Keyword::Arg).then(|| self.args.words().iter().map(arg_decl).collect())
    }

    /// ENV pairs.
    pub fn as_env(&self) -> Option<Pairs> {
        if self.keyword != Keyword::Env {
            return None;
        }
        pairs_view(self).ok()
    }

    pub fn as_label(&self) -> Option<Pairs> {
        if self.keyword != Keyword::Label {
            return None;
        }
        pairs_view(self).ok()
    }

    /// EXPOSE entries, raw: expand variables, then use [`parse_port_spec`].
    pub fn as_expose(&self) -> Option<&[Word]> {
        (self.keyword == Keyword::Expose).then(|| self.args.words())
    }

    pub fn as_user(&self) -> Option<User> {
        let word = self.text_of(Keyword::User)?;
        Some(match word.text.find(':') {
            Some(colon) => User { user: word.sub(0..colon), group: Some(word.sub(colon + 1..word.text.len())) },
            None => User { user: word.clone(), group: None },
        })
    }

    pub fn as_workdir(&self) -> Option<&Word> {
        self.text_of(Keyword::Workdir)
    }

    pub fn as_stopsignal(&self) -> Option<&Word> {
        self.text_of(Keyword::Stopsignal)
    }

    pub fn as_maintainer(&self) -> Option<&Word> {
        self.text_of(Keyword::Maintainer)
    }

    /// VOLUME paths (JSON or whitespace form).
    pub fn as_volume(&self) -> Option<&[Word]> {
        (self.keyword == Keyword::Volume).then(|| self.args.words())
    }

    /// CMD or ENTRYPOINT. `Exec(&[])` for `CMD []`; `None` when empty.
    pub fn as_command(&self) -> Option<Command<'_>> {
        matches!(self.keyword, Keyword::Cmd | Keyword::Entrypoint).then(|| self.args.command()).flatten()
    }

    /// SHELL's argv (JSON form is required).
    pub fn as_shell(&self) -> Option<&[Word]> {
        match (&self.keyword, &self.args) {
            (Keyword::Shell, Args::Json(words)) => Some(words),
            _ => None,
        }
    }

    pub fn as_healthcheck(&self) -> Option<Healthcheck<'_>> {
        healthcheck_view(self).ok()
    }

    pub fn as_copy(&self) -> Option<CopyView<'_>> {
        copy_view(self).ok()
    }

    pub fn as_run(&self) -> Option<RunView<'_>> {
        if self.keyword != Keyword::Run {
            return None;
        }
        Some(RunView {
            command: self.args.command()?,
            mounts: self.flags_named("mount").collect(),
            network: self.flag("network"),
            security: self.flag("security"),
            heredocs: &self.heredocs,
        })
    }

    /// The trigger of an ONBUILD.
    pub fn as_onbuild(&self) -> Option<&Instruction> {
        self.onbuild.as_deref()
    }

    fn text_of(&self, keyword: Keyword) -> Option<&Word> {
        if self.keyword != keyword {
            return None;
        }
        self.args.text()
    }

    /// A "requires arguments" style error over the whole instruction.
    pub(crate) fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(message, self.span.clone())
    }
}

pub(crate) fn from_view(ins: &Instruction) -> Result<FromView<'_>, ParseError> {
    if ins.keyword != Keyword::From {
        return Err(ins.error("not a FROM instruction"));
    }
    let platform = ins.flag("platform");
    match ins.args.words() {
        [image] => Ok(FromView { image, stage_name: None, platform }),
        [image, as_word, name] if as_word.text.eq_ignore_ascii_case("AS") => {
            Ok(FromView { image, stage_name: Some(name), platform })
        }
        [_, other, _] => Err(ParseError::new("expected `AS` before the stage name", other.span.clone())),
        _ => Err(ins.error("FROM requires either one or three arguments").with_help("FROM image[:tag] [AS name]")),
    }
}

fn arg_decl(word: &Word) -> ArgDecl {
    match word.text.find('=') {
        Some(eq) => ArgDecl { name: word.sub(0..eq), default: Some(word.sub(eq + 1..word.text.len())) },
        None => ArgDecl { name: word.clone(), default: None },
    }
}

pub(crate) fn pairs_view(ins: &Instruction) -> Result<Pairs, ParseError> {
    let words = ins.args.words();
    let name = ins.keyword.as_str();
    let Some(first) = words.first() else {
        return Err(ins.error(format!("{name} requires at least one argument")));
    };
    if !first.text.contains('=') {
        let [key, value] = words else {
            return Err(ins.error(format!("{name} must have two arguments")).with_help(format!("{name} key=value")));
        };
        return Ok(Pairs { pairs: vec![Pair { key: key.clone(), value: value.clone() }], legacy: true });
    }
    let mut pairs = Vec::with_capacity(words.len());
    for word in words {
        let Some(eq) = word.text.find('=') else {
            let message = format!("can't find `=` in `{}`", word.text);
            return Err(ParseError::new(message, word.span.clone()).with_help("use the form name=value"));
        };
        if eq == 0 {
            return Err(ParseError::new(format!("{name} names can not be blank"), word.span.clone()));
        }
        pairs.push(Pair { key: word.sub(0..eq), value: word.sub(eq + 1..word.text.len()) });
    }
    Ok(Pairs { pairs, legacy: false })
}

pub(crate) fn healthcheck_view(ins: &Instruction) -> Result<Healthcheck<'_>, ParseError> {
    let Args::Healthcheck { mode, command } = &ins.args else {
        return Err(ins.error("HEALTHCHECK requires an argument").with_help("HEALTHCHECK [options] CMD command"));
    };
    let command = if mode.text.eq_ignore_ascii_case("NONE") {
        None
    } else if mode.text.eq_ignore_ascii_case("CMD") {
        let missing = || ins.error("missing command after HEALTHCHECK CMD");
        Some(command.as_deref().and_then(Args::command).ok_or_else(missing)?)
    } else {
        let message = format!("unknown type `{}` in HEALTHCHECK", mode.text);
        return Err(ParseError::new(message, mode.span.clone()).with_help("try CMD or NONE"));
    };
    Ok(Healthcheck {
        command,
        interval: duration_flag(ins, "interval")?,
        timeout: duration_flag(ins, "timeout")?,
        start_period: duration_flag(ins, "start-period")?,
        start_interval: duration_flag(ins, "start-interval")?,
        retries: retries_flag(ins)?,
    })
}

fn duration_flag(ins: &Instruction, name: &str) -> Result<Option<Duration>, ParseError> {
    let Some(flag) = ins.flag(name) else { return Ok(None) };
    let value = flag.value.as_deref().unwrap_or("");
    let span = flag.value_span.clone().unwrap_or_else(|| flag.span.clone());
    let duration = parse_duration(value).map_err(|message| ParseError::new(message, span.clone()))?;
    if !duration.is_zero() && duration < Duration::from_millis(1) {
        return Err(ParseError::new(format!("--{name} cannot be less than 1ms"), span));
    }
    Ok(Some(duration))
}

fn retries_flag(ins: &Instruction) -> Result<Option<u32>, ParseError> {
    let Some(flag) = ins.flag("retries") else { return Ok(None) };
    let span = flag.value_span.clone().unwrap_or_else(|| flag.span.clone());
    let value = flag.value.as_deref().unwrap_or("");
    value.parse().map(Some).map_err(|_| ParseError::new(format!("invalid --retries value `{value}`"), span))
}

pub(crate) fn copy_view(ins: &Instruction) -> Result<CopyView<'_>, ParseError> {
    if !matches!(ins.keyword, Keyword::Copy | Keyword::Add) {
        return Err(ins.error("not a COPY or ADD instruction"));
    }
    let words = ins.args.words();
    let Some((destination, sources)) = words.split_last().filter(|(_, sources)| !sources.is_empty()) else {
        let message = format!("{} requires at least two arguments", ins.keyword.as_str());
        return Err(ins.error(message).with_help("<source>... <destination>"));
    };
    Ok(CopyView {
        sources,
        destination,
        from: ins.flag("from"),
        chown: ins.flag("chown"),
        chmod: ins.flag("chmod"),
        link: ins.flag("link").is_some_and(|f| f.value.as_deref() != Some("false")),
        heredocs: &ins.heredocs,
    })
}

/// Parses an EXPOSE entry, `port[-port][/protocol]` with ports from 0 ([`crate::ports`], the
/// parser compose `expose` uses too), in the words of the Dockerfile diagnostics. Use it after
/// variable substitution.
pub fn parse_port_spec(text: &str) -> Result<Spec<'_>, String> {
    ports::spec(text, 0).map_err(|error| match error {
        ports::Error::Backwards(range) => format!("invalid port range `{range}`: the end is before the start"),
        other => format!("invalid port `{}` in `{text}`", other.part()),
    })
}

/// Parses a HEALTHCHECK timing, a Go duration such as `30s`, `1m30s`, `1.5h`, `250ms`
/// ([`crate::units::parse_go_duration`]), in the words of the Dockerfile diagnostics.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    units::parse_go_duration(text).map_err(|error| match error {
        DurationError::Invalid => format!("invalid duration `{text}`"),
        DurationError::Unit => format!("invalid duration `{text}`: unit must be one of ns, us, ms, s, m, h"),
    })
}
