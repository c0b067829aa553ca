//! Rules about single instructions and the instructions of one stage.

use super::File;
use super::variables::Scope;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dockerfile::{Command, Instruction, Keyword, Stage, Word, parse_port_spec};

pub fn check(file: &File<'_>, diags: &mut Diagnostics) {
    for ins in file.instructions() {
        secrets(file, ins, diags);
        legacy_key_value(file, ins, diags);
    }
    for stage in &file.stages.stages {
        repeated(file, stage, diags);
        for (index, ins) in file.stage_instructions(stage) {
            match ins.keyword {
                Keyword::Workdir => relative_workdir(file, stage, index, ins, diags),
                Keyword::Expose => expose(file, stage, index, ins, diags),
                Keyword::Cmd | Keyword::Entrypoint => shell_form(file, ins, diags),
                Keyword::Add | Keyword::Copy => {
                    add_for_copy(file, ins, diags);
                    copy_destination(file, stage, index, ins, diags);
                }
                _ => {}
            }
        }
    }
}

/// Whether a path is absolute on Linux or Windows, or starts with a variable (unknown).
fn absolute_or_unknown(path: &str) -> bool {
    let bytes = path.as_bytes();
    let windows = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    path.starts_with('/') || path.starts_with('$') || path.starts_with('\\') || windows
}

/// Whether a WORKDIR before `index` in the stage or the stages it builds on sets an absolute path.
fn has_absolute_workdir(file: &File<'_>, stage: &Stage, index: usize) -> bool {
    file.chain(stage).iter().any(|s| {
        file.stage_instructions(s)
            .filter(|(at, _)| s.index != stage.index || *at < index)
            .filter_map(|(_, i)| i.as_workdir())
            .any(|w| absolute_or_unknown(&w.text))
    })
}

/// A relative WORKDIR depends on the base image's working directory (BuildKit only warns when
/// no absolute WORKDIR came before, since then the result is known).
fn relative_workdir(file: &File<'_>, stage: &Stage, index: usize, ins: &Instruction, diags: &mut Diagnostics) {
    let Some(path) = ins.as_workdir() else { return };
    if absolute_or_unknown(&path.text) || has_absolute_workdir(file, stage, index) {
        return;
    }
    diags.push(
        Diagnostic::new(Code::RelativeWorkdir, format!("WORKDIR `{}` is relative", path.text))
            .at(file.span(&path.span), "relative to the base image's directory")
            .help(format!("write the absolute path, e.g. `WORKDIR /{}`", path.text.trim_start_matches("./"))),
    );
}

fn expose(file: &File<'_>, stage: &Stage, index: usize, ins: &Instruction, diags: &mut Diagnostics) {
    let Some(words) = ins.as_expose() else { return };
    let scope = Scope::before(file, stage, index);
    for word in words {
        let Some(text) = scope.resolve(file, &word.text) else { continue };
        if let Some(problem) = expose_entry(&text) {
            diags.push(problem.at(file.span(&word.span), "here"));
        }
    }
}

/// What is wrong with one EXPOSE entry, after substitution.
fn expose_entry(text: &str) -> Option<Diagnostic> {
    if text.contains(':') {
        let port = text.rsplit(':').next().unwrap_or(text);
        return Some(
            Diagnostic::new(Code::ExposeFormat, format!("EXPOSE `{text}` names an address or a host port")).help(
                format!(
                    "EXPOSE only declares the container's port: write `{port}`, and publish it with compose `ports:`"
                ),
            ),
        );
    }
    if let Err(message) = parse_port_spec(&text.to_ascii_lowercase()) {
        return Some(Diagnostic::new(Code::InvalidExpose, format!("EXPOSE `{text}`: {message}")).help(
            "write a port from 0 to 65535 or a range, with an optional protocol: `8080`, `9000-9002`, `53/udp`",
        ));
    }
    let protocol = text.split_once('/').map(|(_, p)| p).unwrap_or("tcp");
    if !crate::ports::is_protocol(&protocol.to_ascii_lowercase()) {
        return Some(
            Diagnostic::new(Code::InvalidExpose, format!("EXPOSE `{text}` has an unknown protocol"))
                .help("the protocol is `tcp`, `udp` or `sctp`"),
        );
    }
    if protocol != protocol.to_ascii_lowercase() {
        let fixed = text.to_ascii_lowercase();
        return Some(
            Diagnostic::new(Code::ExposeFormat, format!("EXPOSE `{text}` writes the protocol in uppercase"))
                .help(format!("write `{fixed}`")),
        );
    }
    None
}

/// Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage counts; earlier ones are dead code.
fn repeated(file: &File<'_>, stage: &Stage, diags: &mut Diagnostics) {
    // Each keyword is its own hadolint rule, so ignoring one leaves the others.
    for (keyword, rule) in [(Keyword::Cmd, "DL4003"), (Keyword::Entrypoint, "DL4004"), (Keyword::Healthcheck, "DL3012")]
    {
        let all: Vec<&Instruction> =
            file.stage_instructions(stage).map(|(_, i)| i).filter(|i| i.keyword == keyword).collect();
        let Some((last, earlier)) = all.split_last() else { continue };
        for ins in earlier {
            let name = keyword.as_str();
            diags.push(
                Diagnostic::new(
                    Code::RepeatedInstruction,
                    format!("this {name} has no effect: a later {name} replaces it"),
                )
                .at(file.span(&ins.keyword_span), "replaced")
                .also(file.span(&last.keyword_span), "by this one")
                .help(format!("remove the earlier {name}; a stage keeps only its last one"))
                .rule(rule),
            );
        }
    }
}

/// Shell form runs the command under `/bin/sh -c`, which does not pass SIGTERM on; the pod then
/// takes its whole grace period to stop and is killed. `exec` in front hands the shell's place
/// to the program, so that form is fine.
fn shell_form(file: &File<'_>, ins: &Instruction, diags: &mut Diagnostics) {
    let Some(Command::Shell(word)) = ins.as_command() else { return };
    if word.text.trim_start().starts_with("exec ") {
        return;
    }
    let name = ins.keyword.as_str();
    let argv = shell_words_as_json(word);
    diags.push(
        Diagnostic::new(Code::ShellFormCommand, format!("{name} in shell form: the program will not receive SIGTERM"))
            .at(file.span(&word.span), "runs under /bin/sh -c")
            .help(format!(
                "use the exec form, `{name} {argv}`, or start the command with `exec`, so Kubernetes can stop the pod gracefully"
            )),
    );
}

/// A plain command as a JSON array, for the suggestion; quotes and variables are left to the user.
fn shell_words_as_json(word: &Word) -> String {
    let plain = !word.text.contains(['"', '\'', '$', '&', '|', ';', '<', '>', '\\', '`', '*']);
    if !plain {
        return "[\"...\"]".to_string();
    }
    let parts: Vec<String> = word.text.split_whitespace().map(|w| format!("\"{w}\"")).collect();
    format!("[{}]", parts.join(", "))
}

/// ADD does more than COPY (URLs, unpacking archives); for plain local files that magic only
/// surprises. Archives, URLs, git sources and ADD-only flags are ADD's real uses.
fn add_for_copy(file: &File<'_>, ins: &Instruction, diags: &mut Diagnostics) {
    if ins.keyword != Keyword::Add || !ins.heredocs.is_empty() {
        return;
    }
    let Some(view) = ins.as_copy() else { return };
    let special = ["checksum", "keep-git-dir", "unpack"].iter().any(|f| ins.flag(f).is_some());
    if special || view.sources.iter().any(|s| add_only_source(&s.text)) {
        return;
    }
    diags.push(
        Diagnostic::new(Code::AddInsteadOfCopy, "ADD copies local files here, which is what COPY is for")
            .at(file.span(&ins.keyword_span), "use COPY")
            .help("write COPY; keep ADD for URLs, git repositories and archives to unpack"),
    );
}

fn add_only_source(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2", ".xz"];
    lower.contains("://")
        || lower.starts_with("git@")
        || lower.contains('$')
        || archive.iter().any(|a| lower.ends_with(a))
}

/// COPY/ADD destinations: several sources need a directory, and a relative destination
/// depends on a working directory the base image chose.
fn copy_destination(file: &File<'_>, stage: &Stage, index: usize, ins: &Instruction, diags: &mut Diagnostics) {
    let Some(view) = ins.as_copy() else { return };
    let destination = &view.destination.text;
    let name = ins.keyword.as_str();
    if view.sources.len() > 1 && !destination.ends_with('/') && !destination.contains('$') {
        diags.push(
            Diagnostic::new(
                Code::CopyToNonDirectory,
                format!("{name} of several sources to `{destination}`, which does not end in `/`"),
            )
            .at(file.span(&view.destination.span), "must be a directory")
            .help(format!("end the destination with a slash: `{destination}/`")),
        );
    }
    if !absolute_or_unknown(destination) && !has_absolute_workdir(file, stage, index) {
        diags.push(
            Diagnostic::new(
                Code::RelativeCopyDestination,
                format!("{name} to the relative path `{destination}` with no WORKDIR set"),
            )
            .at(file.span(&view.destination.span), "relative to the base image's directory")
            .help("set `WORKDIR /app` (or another absolute path) before it, or write an absolute destination"),
        );
    }
}

/// Name parts that mean a credential. `key` alone is too wide (`GPG_KEY` holds a public key
/// id in official images), so it counts only after a word that makes it secret.
const SECRET_WORDS: &[&str] =
    &["password", "passwd", "pword", "secret", "token", "apikey", "credential", "credentials"];
const SECRET_KEY_PREFIXES: &[&str] = &["api", "private", "access", "secret", "signing", "encryption", "client"];
/// Name parts that say the variable holds something else: a file, a setting, a public value.
const NOT_SECRET_WORDS: &[&str] =
    &["file", "path", "dir", "url", "public", "version", "length", "enabled", "name", "id"];

/// Whether an ARG or ENV name looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(['_', '-', '.']).filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| NOT_SECRET_WORDS.contains(p)) {
        return false;
    }
    let secret_word = parts.iter().any(|p| SECRET_WORDS.contains(p));
    let secret_key = parts.windows(2).any(|w| SECRET_KEY_PREFIXES.contains(&w[0]) && w[1] == "key");
    secret_word || secret_key || parts.first().is_some_and(|p| p.ends_with("apikey"))
}

/// Build args are recorded in the image history and ENV values in the image config: anyone who
/// can pull the image can read them.
fn secrets(file: &File<'_>, ins: &Instruction, diags: &mut Diagnostics) {
    let mut found: Vec<(String, std::ops::Range<usize>)> = match ins.as_arg() {
        Some(decls) => decls.into_iter().map(|d| (d.name.text, d.name.span)).collect(),
        None => Vec::new(),
    };
    if let Some(env) = ins.as_env() {
        // An empty ENV value is a placeholder for the runtime to fill; nothing is baked in.
        let set = env.pairs.iter().filter(|p| !p.value.text.is_empty() && p.value.text != "\"\"");
        found.extend(set.map(|p| (p.key.text.clone(), p.key.span.clone())));
    }
    let keyword = ins.keyword.as_str();
    for (name, range) in found {
        if !looks_secret(&name) {
            continue;
        }
        diags.push(
            Diagnostic::new(Code::SecretInBuild, format!("{keyword} `{name}` looks like a secret, and stays readable in the image"))
                .at(file.span(&range), "secret-looking name")
                .help("pass secrets with `RUN --mount=type=secret` (compose `build.secrets`) and at run time through a Kubernetes Secret"),
        );
    }
}

/// `ENV key value` sets one variable to the rest of the line, which is easy to misread.
fn legacy_key_value(file: &File<'_>, ins: &Instruction, diags: &mut Diagnostics) {
    let pairs = match ins.keyword {
        Keyword::Env => ins.as_env(),
        Keyword::Label => ins.as_label(),
        _ => return,
    };
    let Some(pairs) = pairs.filter(|p| p.legacy) else { return };
    let Some(pair) = pairs.pairs.first() else { return };
    let keyword = ins.keyword.as_str();
    let start = pair.key.span.start;
    let end = pair.value.span.end.max(start);
    diags.push(
        Diagnostic::new(Code::LegacyKeyValue, format!("{keyword} in the legacy `key value` form"))
            .at(file.span(&(start..end)), "write key=value")
            .help(format!("write `{keyword} {}={}`", pair.key.text, quote_if_needed(&pair.value.text))),
    );
}

fn quote_if_needed(value: &str) -> String {
    if value.contains(char::is_whitespace) && !value.starts_with('"') {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}
