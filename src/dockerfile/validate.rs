//! Checks Docker itself performs when reading a Dockerfile: known keywords and flags,
//! argument counts and shapes, ONBUILD triggers, and what may precede the first FROM.

use super::ast::{Args, Instruction, Issue, KEYWORDS, Keyword, ParseError};
use super::views::{copy_view, from_view, healthcheck_view, pairs_view};
use crate::suggest::closest;

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagKind {
    /// `--name=value`, at most once.
    Value,
    /// `--name`, `--name=true` or `--name=false`.
    Bool,
    /// `--name=value`, any number of times.
    Repeated,
}

use FlagKind::{Bool, Repeated, Value};

/// The flags each instruction accepts, per the Dockerfile reference.
fn known_flags(keyword: &Keyword) -> &'static [(&'static str, FlagKind)] {
    match keyword {
        Keyword::From => &[("platform", Value)],
        Keyword::Copy => &[
            ("from", Value),
            ("chown", Value),
            ("chmod", Value),
            ("link", Bool),
            ("parents", Bool),
            ("exclude", Repeated),
        ],
        Keyword::Add => &[
            ("chown", Value),
            ("chmod", Value),
            ("link", Bool),
            ("keep-git-dir", Bool),
            ("checksum", Value),
            ("unpack", Bool),
            ("exclude", Repeated),
        ],
        Keyword::Run => &[("mount", Repeated), ("network", Value), ("security", Value), ("device", Repeated)],
        Keyword::Healthcheck => &[
            ("interval", Value),
            ("timeout", Value),
            ("start-period", Value),
            ("start-interval", Value),
            ("retries", Value),
        ],
        _ => &[],
    }
}

/// Checks one instruction and, for ONBUILD, its trigger.
pub(crate) fn instruction(ins: &Instruction, errors: &mut Vec<ParseError>, warnings: &mut Vec<ParseError>) {
    check_one(ins, errors, warnings);
    if let Some(trigger) = &ins.onbuild {
        check_trigger(trigger, errors);
        check_one(trigger, errors, warnings);
    }
}

fn check_trigger(trigger: &Instruction, errors: &mut Vec<ParseError>) {
    if matches!(trigger.keyword, Keyword::Onbuild | Keyword::From | Keyword::Maintainer) {
        let message = format!("ONBUILD cannot trigger {}", trigger.keyword.as_str());
        errors.push(ParseError::new(message, trigger.keyword_span.clone()));
    }
}

fn check_one(ins: &Instruction, errors: &mut Vec<ParseError>, warnings: &mut Vec<ParseError>) {
    if let Keyword::Unknown(word) = &ins.keyword {
        errors.push(unknown_instruction(ins, word));
        return;
    }
    check_flags(ins, errors);
    if let Err(error) = check_args(ins) {
        errors.push(error);
    }
    if matches!(ins.keyword, Keyword::Maintainer) {
        let warning = ParseError::new("MAINTAINER is deprecated", ins.keyword_span.clone()).of_kind(Issue::Maintainer);
        warnings.push(warning.with_help("use LABEL org.opencontainers.image.authors=... (MaintainerDeprecated)"));
    }
}

fn unknown_instruction(ins: &Instruction, word: &str) -> ParseError {
    let error = ParseError::new(format!("unknown instruction `{word}`"), ins.keyword_span.clone());
    match closest(word, KEYWORDS.iter().map(|(name, _)| *name)) {
        Some(suggestion) => error.with_help(format!("did you mean `{suggestion}`?")),
        None => error,
    }
}

fn check_flags(ins: &Instruction, errors: &mut Vec<ParseError>) {
    let known = known_flags(&ins.keyword);
    for (index, flag) in ins.flags.iter().enumerate() {
        let Some((_, kind)) = known.iter().find(|(name, _)| *name == flag.name) else {
            let message = format!("unknown flag `--{}` for {}", flag.name, ins.keyword.as_str());
            let error = ParseError::new(message, flag.span.clone());
            errors.push(match closest(&flag.name, known.iter().map(|(name, _)| *name)) {
                Some(suggestion) => error.with_help(format!("did you mean `--{suggestion}`?")),
                None => error,
            });
            continue;
        };
        let value = flag.value.as_deref();
        let problem = match kind {
            Value | Repeated if value.is_none() => Some(format!("flag `--{}` needs a value", flag.name)),
            Bool if value.is_some_and(|v| v != "true" && v != "false") => {
                Some(format!("flag `--{}` takes true or false", flag.name))
            }
            Value | Bool if ins.flags.iter().take(index).any(|f| f.name == flag.name) => {
                Some(format!("duplicate flag `--{}`", flag.name))
            }
            _ => None,
        };
        if let Some(message) = problem {
            errors.push(ParseError::new(message, flag.span.clone()));
        }
    }
}

/// Argument counts and shapes; the typed views know the rules, so ask them.
fn check_args(ins: &Instruction) -> Result<(), ParseError> {
    let name = ins.keyword.as_str();
    match ins.keyword {
        Keyword::From => check_stage_name(ins),
        Keyword::Env | Keyword::Label => pairs_view(ins).map(drop),
        Keyword::Copy | Keyword::Add => copy_view(ins).map(drop),
        Keyword::Healthcheck => check_healthcheck(ins),
        Keyword::Shell => match &ins.args {
            Args::Json(words) if !words.is_empty() => Ok(()),
            _ => Err(ins.error("SHELL requires the arguments in JSON form").with_help(r#"SHELL ["/bin/sh", "-c"]"#)),
        },
        Keyword::Arg => check_arg_names(ins),
        Keyword::Cmd | Keyword::Entrypoint => Ok(()),
        _ if ins.args == Args::None => Err(ins.error(format!("{name} requires at least one argument"))),
        _ => Ok(()),
    }
}

fn check_stage_name(ins: &Instruction) -> Result<(), ParseError> {
    let Some(name) = from_view(ins)?.stage_name else { return Ok(()) };
    let lower = name.text.to_ascii_lowercase();
    let mut chars = lower.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if first_ok && rest_ok {
        return Ok(());
    }
    let message = format!("invalid stage name `{}`", name.text);
    Err(ParseError::new(message, name.span.clone()).with_help("start with a letter; use letters, digits, -, _ and ."))
}

fn check_healthcheck(ins: &Instruction) -> Result<(), ParseError> {
    let check = healthcheck_view(ins)?;
    let extra = matches!(&ins.args, Args::Healthcheck { command: Some(_), .. });
    if check.command.is_none() && (!ins.flags.is_empty() || extra) {
        return Err(ins.error("HEALTHCHECK NONE takes no options or arguments"));
    }
    Ok(())
}

fn check_arg_names(ins: &Instruction) -> Result<(), ParseError> {
    let Some(decls) = ins.as_arg() else { return Ok(()) };
    if decls.is_empty() {
        return Err(ins.error("ARG requires at least one argument"));
    }
    match decls.iter().find(|d| d.name.text.is_empty()) {
        Some(decl) => Err(ParseError::new("ARG names can not be blank", decl.name.span.clone())),
        None => Ok(()),
    }
}

/// Only ARG may come before the first FROM, and a file needs at least one instruction.
pub(crate) fn structure(instructions: &[Instruction], text: &str, errors: &mut Vec<ParseError>) {
    if instructions.is_empty() {
        errors.push(ParseError::new("the Dockerfile has no instructions", 0..text.len()).with_help("start with FROM"));
        return;
    }
    let before_from = instructions.iter().take_while(|i| i.keyword != Keyword::From);
    if let Some(first) = before_from.into_iter().find(|i| !matches!(i.keyword, Keyword::Arg | Keyword::Unknown(_))) {
        let message = format!("{} before the first FROM", first.keyword.as_str());
        errors.push(ParseError::new(message, first.keyword_span.clone()).with_help("only ARG may come before FROM"));
    }
}
