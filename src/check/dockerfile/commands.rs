//! Rules about what RUN executes: `sudo`, unpinned packages and pipes without `pipefail`.
//! Scripts are split into simple commands by a small shell tokenizer: good enough to find
//! command names and their arguments, not a shell.

use std::ops::Range;

use super::File;
use crate::diag::{Code, Diagnostic, Diagnostics, thousands};
use crate::dockerfile::{Base, Command, Heredoc, Instruction, Keyword, Stage};

pub fn check(file: &File<'_>, diags: &mut Diagnostics) {
    for stage in &file.stages.stages {
        for (index, ins) in file.stage_instructions(stage) {
            if ins.keyword != Keyword::Run {
                continue;
            }
            let pipefail = shell_has_pipefail(file, stage, index);
            for script in scripts(ins) {
                let commands = split(script.text);
                for command in &commands {
                    sudo(file, &script, command, diags);
                    unpinned(file, &script, command, diags);
                }
                if !pipefail && !script.text.contains("pipefail") && !windows_shell(file, stage, script.text) {
                    pipe(file, &script, diags);
                }
            }
        }
    }
}

/// A shell script inside a RUN: its shell form, or a heredoc body run as a script.
struct Script<'a> {
    text: &'a str,
    /// Where `text` starts in the Dockerfile, when offsets map one to one.
    start: Option<usize>,
    /// The span to fall back on when they do not.
    whole: Range<usize>,
}

impl Script<'_> {
    fn span(&self, file: &File<'_>, range: &Range<usize>) -> crate::source::Span {
        match self.start {
            Some(start) => file.span(&(start + range.start..start + range.end)),
            None => file.span(&self.whole),
        }
    }
}

/// The scripts a RUN executes. A heredoc is a script when RUN starts with it or hands it to a
/// shell (`RUN bash <<EOF`); otherwise it is some other program's input.
fn scripts(ins: &Instruction) -> Vec<Script<'_>> {
    let Some(run) = ins.as_run() else { return Vec::new() };
    let Command::Shell(word) = run.command else { return Vec::new() };
    let exact = word.span.len() == word.text.len();
    let mut found =
        vec![Script { text: &word.text, start: exact.then_some(word.span.start), whole: word.span.clone() }];
    let first = word.text.split_whitespace().next().unwrap_or_default();
    let shell = ["sh", "bash", "ash", "dash", "/bin/sh", "/bin/bash", "/bin/ash"].contains(&first);
    if first.starts_with("<<") || first.chars().next().is_some_and(|c| c.is_ascii_digit()) || shell {
        found.extend(run.heredocs.iter().map(heredoc_script));
    }
    found
}

fn heredoc_script(heredoc: &Heredoc) -> Script<'_> {
    let exact = !heredoc.strip_tabs && heredoc.body_span.len() > heredoc.body.len();
    Script { text: &heredoc.body, start: exact.then_some(heredoc.body_span.start), whole: heredoc.body_span.clone() }
}

/// A word of a shell command: unquoted text, and where it is in the script.
#[derive(Debug, Clone)]
struct Token {
    text: String,
    range: Range<usize>,
}

/// Splits a script into simple commands at `;`, `&`, `|`, newlines and parentheses, and each
/// command into words (quotes removed, `#` comments dropped).
fn split(script: &str) -> Vec<Vec<Token>> {
    let mut commands = vec![Vec::new()];
    let mut current: Option<Token> = None;
    let mut quote: Option<char> = None;
    let mut chars = script.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let end = at + c.len_utf8();
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), '\\') if quote == Some('"') => {
                if let Some((_, next)) = chars.next() {
                    push_char(&mut current, next, at);
                }
            }
            (Some(_), _) => push_char(&mut current, c, at),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.get_or_insert(Token { text: String::new(), range: at..at });
            }
            (None, '\\') => match chars.next() {
                Some((_, '\n')) | None => end_word(&mut commands, &mut current),
                Some((_, next)) => push_char(&mut current, next, at),
            },
            (None, '#') if current.is_none() => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            (None, ';' | '&' | '|' | '\n' | '(' | ')') => {
                end_word(&mut commands, &mut current);
                if commands.last().is_some_and(|c| !c.is_empty()) {
                    commands.push(Vec::new());
                }
            }
            (None, _) if c.is_whitespace() => end_word(&mut commands, &mut current),
            (None, _) => push_char(&mut current, c, at),
        }
        if let Some(token) = current.as_mut() {
            token.range.end = end;
        }
    }
    end_word(&mut commands, &mut current);
    commands.retain(|c| !c.is_empty());
    commands
}

fn push_char(current: &mut Option<Token>, c: char, at: usize) {
    current.get_or_insert(Token { text: String::new(), range: at..at }).text.push(c);
}

fn end_word(commands: &mut [Vec<Token>], current: &mut Option<Token>) {
    if let (Some(token), Some(command)) = (current.take(), commands.last_mut()) {
        command.push(token);
    }
}

/// The command without leading `VAR=value` assignments.
fn program(command: &[Token]) -> &[Token] {
    let skip = command.iter().take_while(|t| is_assignment(&t.text)).count();
    command.get(skip..).unwrap_or_default()
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn sudo(file: &File<'_>, script: &Script<'_>, command: &[Token], diags: &mut Diagnostics) {
    let Some(first) = program(command).first().filter(|t| t.text == "sudo") else { return };
    diags.push(
        Diagnostic::new(Code::Sudo, "RUN uses `sudo`")
            .at(script.span(file, &first.range), "sudo")
            .help("RUN already runs as the current USER; switch with `USER root` before and back after, and leave sudo out of the image"),
    );
}

/// Flags of the package managers that take a value, so the value is not read as a package.
const APT_VALUE_FLAGS: &[&str] =
    &["-o", "-t", "-c", "--option", "--target-release", "--default-release", "--config-file"];
const APK_VALUE_FLAGS: &[&str] = &[
    "-t",
    "--virtual",
    "-X",
    "--repository",
    "--arch",
    "-p",
    "--root",
    "--keys-dir",
    "--cache-dir",
    "--repositories-file",
];
const PIP_VALUE_FLAGS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--trusted-host",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "-C",
    "--config-settings",
    "--only-binary",
    "--no-binary",
    "--report",
    "--python",
    "--root-user-action",
];

/// Which package manager a command runs, the words after its install verb, and its value flags.
fn install_arguments(command: &[Token]) -> Option<(&'static str, &[Token], &'static [&'static str])> {
    let command = program(command);
    let command = if command.first().is_some_and(|t| t.text == "sudo") { command.get(1..)? } else { command };
    let name = command.first()?.text.rsplit('/').next()?.to_string();
    let (manager, verb, flags) = match name.as_str() {
        "apt-get" | "apt" => ("apt", "install", APT_VALUE_FLAGS),
        "apk" => ("apk", "add", APK_VALUE_FLAGS),
        n if is_pip(n) => ("pip", "install", PIP_VALUE_FLAGS),
        n if n.starts_with("python") && command.get(1..3).is_some_and(|w| w[0].text == "-m" && is_pip(&w[1].text)) => {
            ("pip", "install", PIP_VALUE_FLAGS)
        }
        _ => return None,
    };
    let at = command.iter().position(|t| t.text == verb)?;
    Some((manager, command.get(at + 1..)?, flags))
}

fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip").is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The package words of an install command.
fn packages<'a>(arguments: &'a [Token], value_flags: &[&str]) -> Vec<&'a Token> {
    let mut found = Vec::new();
    let mut skip_next = false;
    for token in arguments {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if token.text.starts_with('-') {
            skip_next = value_flags.contains(&token.text.as_str());
            continue;
        }
        found.push(token);
    }
    found
}

fn is_pinned(manager: &str, package: &str) -> bool {
    if package.contains('$') || package.is_empty() {
        return true;
    }
    match manager {
        "apt" => package.contains('=') || package.ends_with(".deb") || package.contains('/'),
        "apk" => package.contains(['=', '<', '>', '~']) || package.ends_with(".apk"),
        // A VCS URL is pinned only by a ref after `@`.
        _ if package.starts_with("git+") => package.rsplit('/').next().is_some_and(|last| last.contains('@')),
        _ => {
            let file = package.starts_with('.') || package.contains('/') || package.ends_with(".whl");
            file || package.contains(['=', '<', '>', '!', '~', '@'])
        }
    }
}

/// Tools that upgrading to the newest version is the point of.
fn pip_self_upgrade(arguments: &[Token], package: &str) -> bool {
    let upgrade = arguments.iter().any(|t| t.text == "-U" || t.text == "--upgrade");
    upgrade && ["pip", "setuptools", "wheel"].contains(&package)
}

/// One diagnostic per install command: `apt-get install p1 … p100000` is one problem.
fn unpinned(file: &File<'_>, script: &Script<'_>, command: &[Token], diags: &mut Diagnostics) {
    let Some((manager, arguments, flags)) = install_arguments(command) else { return };
    let found: Vec<&Token> = packages(arguments, flags)
        .into_iter()
        .filter(|p| !(is_pinned(manager, &p.text) || (manager == "pip" && pip_self_upgrade(arguments, &p.text))))
        .collect();
    let (Some(first), Some(last)) = (found.first(), found.last()) else { return };
    let example = match manager {
        "pip" => format!("{}==<version>", first.text),
        _ => format!("{}=<version>", first.text),
    };
    let diagnostic = if found.len() == 1 {
        Diagnostic::new(Code::UnpinnedPackage, format!("{manager} package `{}` has no version", first.text))
            .at(script.span(file, &first.range), "unpinned")
            .help(format!("pin it (`{example}`), so a rebuild installs what you tested"))
    } else {
        let message = format!(
            "{} {manager} packages are installed without a version: {}",
            thousands(found.len()),
            listed(&found)
        );
        Diagnostic::new(Code::UnpinnedPackage, message)
            .at(script.span(file, &(first.range.start..last.range.end)), "unpinned")
            .help(format!("pin each (`{example}`), so a rebuild installs what you tested"))
    };
    // hadolint has one rule per manager; K309 is all of them, so say which this is.
    let rule = match manager {
        "apt" => Some("DL3008"),
        "pip" => Some("DL3013"),
        "apk" => Some("DL3018"),
        _ => None,
    };
    diags.push(match rule {
        Some(rule) => diagnostic.rule(rule),
        None => diagnostic,
    });
}

/// `` `a`, `b` and `c` `` or `` `a`, `b`, `c` and 99,997 more ``: a few names, then a count.
fn listed(packages: &[&Token]) -> String {
    const SHOWN: usize = 3;
    let names: Vec<String> = packages.iter().take(SHOWN).map(|p| format!("`{}`", p.text)).collect();
    match packages.len() {
        n if n > SHOWN => format!("{} and {} more", names.join(", "), thousands(n - SHOWN)),
        _ => match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        },
    }
}

/// The stage's SHELL (or its base stage's) already sets `-o pipefail`, or is not a POSIX shell.
fn shell_has_pipefail(file: &File<'_>, stage: &Stage, index: usize) -> bool {
    let shells = file.chain(stage).into_iter().find_map(|s| {
        let before = file.stage_instructions(s).filter(|(at, _)| s.index != stage.index || *at < index);
        before.filter_map(|(_, i)| i.as_shell()).last()
    });
    let Some(shell) = shells else { return false };
    let program = shell.first().map(|w| w.text.to_ascii_lowercase()).unwrap_or_default();
    let posix = ["sh", "bash", "ash", "dash", "zsh", "ksh"].iter().any(|s| program.ends_with(s));
    !posix || shell.iter().any(|w| w.text.contains("pipefail"))
}

/// Windows images run RUN with cmd or PowerShell, where `pipefail` does not exist.
fn windows_shell(file: &File<'_>, stage: &Stage, script: &str) -> bool {
    let first = script.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
    let windows_program = ["powershell", "pwsh", "cmd", "cmd.exe", "powershell.exe"].contains(&first.as_str());
    let root = file.chain(stage).last().map(|s| &s.base);
    let windows_base = matches!(root, Some(Base::Image(image)) if image.to_ascii_lowercase().contains("windows"));
    windows_program || windows_base
}

/// `a | b` in `/bin/sh -c`: the RUN succeeds when `a` fails, as long as `b` succeeds.
fn pipe(file: &File<'_>, script: &Script<'_>, diags: &mut Diagnostics) {
    let Some(at) = pipe_position(script.text) else { return };
    diags.push(
        Diagnostic::new(Code::PipeWithoutPipefail, "RUN pipes commands without `pipefail`: a failure on the left is ignored")
            .at(script.span(file, &(at..at + 1)), "only the last command's status counts")
            .help("add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN, or start the script with `set -o pipefail &&` where the shell has it"),
    );
}

/// The byte offset of the first pipe (`|`, not `||`) outside quotes and comments.
fn pipe_position(script: &str) -> Option<usize> {
    let bytes = script.as_bytes();
    let mut quote: Option<u8> = None;
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(b'"'), b'\\') => index += 1,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'\\') => index += 1,
            (None, b'#') if index == 0 || bytes.get(index - 1).is_some_and(u8::is_ascii_whitespace) => {
                while bytes.get(index).is_some_and(|c| *c != b'\n') {
                    index += 1;
                }
            }
            (None, b'|') if bytes.get(index + 1) == Some(&b'|') => index += 1,
            (None, b'|') => return Some(index),
            _ => {}
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<Vec<String>> {
        split(script).into_iter().map(|c| c.into_iter().map(|t| t.text).collect()).collect()
    }

    #[test]
    fn splits_commands_and_words() {
        let got = words("apt-get update && apt-get install -y 'curl' \"git\" # tools\nFOO=1 pip install x|y");
        assert_eq!(
            got,
            [
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl", "git"],
                vec!["FOO=1", "pip", "install", "x"],
                vec!["y"],
            ]
        );
    }

    #[test]
    fn token_ranges_point_at_the_source() {
        let script = "apk add  --no-cache 'bash'";
        let commands = split(script);
        let last = commands.first().and_then(|c| c.last()).map(|t| t.range.clone());
        assert_eq!(last.and_then(|r| script.get(r)), Some("'bash'"));
    }

    #[test]
    fn finds_pipes_but_not_or() {
        assert_eq!(pipe_position("a || b"), None);
        assert_eq!(pipe_position("echo 'a|b' # x | y"), None);
        assert_eq!(pipe_position("curl x | sh"), Some(7));
    }

    #[test]
    fn pinning() {
        assert!(is_pinned("apt", "curl=7.88.1-10"));
        assert!(!is_pinned("apt", "curl"));
        assert!(is_pinned("apk", "bash~=5.2"));
        assert!(is_pinned("pip", "django>=4,<5"));
        assert!(is_pinned("pip", "."));
        assert!(!is_pinned("pip", "django"));
        assert!(!is_pinned("pip", "git+https://github.com/example/lib.git"));
        assert!(is_pinned("pip", "git+https://github.com/example/lib.git@v1.2"));
    }

    #[test]
    fn requirements_files_are_not_packages() {
        let commands = split("pip install --no-cache-dir -r requirements.txt");
        let Some((manager, arguments, flags)) = commands.first().and_then(|c| install_arguments(c)) else {
            panic!("not an install")
        };
        assert_eq!(manager, "pip");
        assert!(packages(arguments, flags).is_empty());
    }
}
