//! Shell integration: `kompile completions SHELL` scripts that each shell accepts, and
//! `kompile man` pages that man renders. The shells and man-db come from Debian (.ci/run
//! installs them); where one is missing the test skips, or fails under CI.

use std::path::Path;
use std::process::Command;

use crate::support::{self, Run};

fn kompile(args: &[&str]) -> Run {
    support::kompile(support::root()).args(args).run()
}

/// The subcommands every script and page must know.
const SUBCOMMANDS: &[&str] =
    &["build", "config", "check", "explain", "images", "apply", "diff", "status", "down", "completions", "man"];

/// `shell -n FILE`: parses without running; `None` when the shell is not installed.
fn parses(shell: &str, script: &Path) -> Option<std::process::Output> {
    let found = support::runs(shell, &["-c", "true"]).then_some(());
    support::tool(shell, &format!("apt-get install -y {shell}"), found)?;
    Some(Command::new(shell).arg("-n").arg(script).output().unwrap_or_else(|e| panic!("{shell}: {e}")))
}

fn script(shell: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let run = kompile(&["completions", shell]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["build", "explain", "out-dir", "color"] {
        assert!(run.stdout.contains(name), "the {shell} script does not mention {name}");
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join(format!("kompile.{shell}"));
    std::fs::write(&path, &run.stdout).unwrap_or_else(|e| panic!("{e}"));
    (dir, path)
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let (_dir, path) = script(shell);
        let Some(output) = parses(shell, &path) else { continue };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{shell} -n rejects the script:\n{stderr}");
    }
}

/// What `shell` offers for the command line `line` (the last word is being completed), from
/// the generated script; `None` when the shell is not installed.
fn offered(shell: &str, script: &Path, line: &str) -> Option<Vec<String>> {
    parses(shell, script)?;
    let code = match shell {
        // bash splits words at `=` (COMP_WORDBREAKS), as an interactive shell would.
        "bash" => {
            let words: Vec<String> = line.replace('=', " = ").split(' ').map(|w| format!("'{w}'")).collect();
            format!(
                "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _kompile_equals kompile \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display(),
                words.join(" "),
                words.len() - 1
            )
        }
        _ => format!("source '{}'; complete -C '{line}'", script.display()),
    };
    let output = Command::new(shell).arg("-c").arg(code).output().unwrap_or_else(|e| panic!("{shell}: {e}"));
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect())
}

/// Values complete where clap's scripts alone offered files: positional ones in fish
/// (`completions SHELL`, `man SUBCOMMAND`) and `--option=value` in bash.
#[test]
fn values_complete_in_bash_and_fish() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("fish", "kompile completions ", &["bash", "elvish", "fish", "powershell", "zsh"]),
        ("fish", "kompile man st", &["status"]),
        ("fish", "kompile apply --dry-run=", &["--dry-run=client", "--dry-run=server"]),
        // Values that are not paths: no files offered.
        ("fish", "kompile apply -n ", &[]),
        ("fish", "kompile check --deny ", &[]),
        ("bash", "kompile apply --dry-run=se", &["server"]),
        ("bash", "kompile down --dry-run=", &["server"]),
        ("bash", "kompile man st", &["status"]),
        ("bash", "kompile completions f", &["fish"]),
    ];
    for (shell, line, expected) in cases {
        let (_dir, path) = script(shell);
        let Some(mut offered) = offered(shell, &path, line) else { continue };
        offered.sort();
        assert_eq!(&offered, expected, "{shell}: `{line}<TAB>`");
    }
    let (_dir, zsh) = script("zsh");
    let text = std::fs::read_to_string(zsh).unwrap_or_default();
    assert!(text.contains("(build config check explain images apply diff status down completions man)"), "zsh");
}

/// PowerShell and Elvish are not on Debian's shelves: their scripts are only generated.
#[test]
fn completion_scripts_for_powershell_and_elvish() {
    for shell in ["powershell", "elvish"] {
        let (_dir, path) = script(shell);
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for sub in SUBCOMMANDS {
            assert!(text.contains(sub), "the {shell} script does not complete {sub}");
        }
    }
}

#[test]
fn completions_need_a_known_shell() {
    let run = kompile(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("[possible values: bash, elvish, fish, powershell, zsh]"), "{}", run.stderr);
}

/// The page as `man -l` renders it at 80 columns; `None` when man-db is missing.
fn rendered(roff: &str) -> Option<String> {
    let found = support::runs("man", &["--version"]).then_some(());
    support::tool("man (man-db)", "apt-get install -y man-db", found)?;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let page = dir.path().join("kompile.1");
    std::fs::write(&page, roff).unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap_or_else(|e| panic!("man: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "man -l fails:\n{stderr}");
    assert!(!stderr.contains("warning"), "man warns:\n{stderr}");
    // Piped, man-db leaves out its bold and underline overstrikes: plain text.
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_man_page_renders_and_lists_the_subcommands() {
    let run = kompile(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(".ie"), "not roff: {}", &run.stdout[..run.stdout.len().min(200)]);
    let Some(page) = rendered(&run.stdout) else { return };
    assert!(page.contains("kompile - Compile compose projects"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(&format!("kompile-{sub}(1)")), "the page does not list {sub}:\n{page}");
    }
}

#[test]
fn each_subcommand_has_a_man_page() {
    for sub in SUBCOMMANDS {
        let run = kompile(&["man", sub]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let Some(page) = rendered(&run.stdout) else { return };
        // man justifies lines with extra spaces.
        let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(page.contains(&format!("kompile-{sub} - ")), "{page}");
        assert!(page.contains(&format!("kompile {sub}")), "no usage line:\n{page}");
    }
    let Some(build) = rendered(&kompile(&["man", "build"]).stdout) else { return };
    assert!(build.contains("--out-dir"), "{build}");
}

/// Every page kompile(1) lists exists and the README installs it, each footer names kompile
/// and its version, kompile(1) says what the exit codes and environment variables mean, and
/// clap's `help` subcommand has no page (it would list pages that do not exist).
#[test]
fn man_pages_are_complete() {
    use clap::CommandFactory;
    let top = kompile(&["man"]);
    assert!(top.stdout.contains(".SH \"EXIT STATUS\"") && top.stdout.contains(".SH ENVIRONMENT"), "{}", top.stdout);
    assert!(!top.stdout.contains("kompile\\-help") && top.stdout.contains("kompile\\-down(1)"), "{}", top.stdout);
    assert_eq!(kompile(&["man", "help"]).code, 2);
    let footer = format!("\"kompile {}\"", env!("CARGO_PKG_VERSION"));
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap_or_default();
    let loop_line = readme.lines().find(|l| l.starts_with("for sub in ")).unwrap_or_default();
    for sub in kompile::cli::Cli::command().get_subcommands().map(|s| s.get_name().to_string()) {
        let run = kompile(&["man", &sub]);
        assert_eq!(run.code, 0, "man {sub}: {}", run.stderr);
        let title = run.stdout.lines().find(|l| l.starts_with(".TH")).unwrap_or_default();
        assert!(title.contains(&footer), "man {sub}: {title}");
        let listed = loop_line.split_whitespace().any(|w| w.trim_end_matches(';') == sub);
        assert!(listed, "README's man loop lacks {sub}: {loop_line}");
    }
}

/// Each subcommand that exits other than 0 says how, in `--help` and on its page.
#[test]
fn exit_statuses_in_help_and_man_pages() {
    for sub in ["build", "config", "check", "images", "apply", "diff", "status", "down"] {
        let help = kompile(&[sub, "--help"]);
        assert!(help.stdout.contains("Exit status:\n  0  "), "{sub} --help:\n{}", help.stdout);
        let page = kompile(&["man", sub]);
        assert!(page.stdout.contains(".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\n"), "kompile-{sub}(1):\n{}", page.stdout);
    }
    let down = kompile(&["down", "--help"]);
    assert!(down.stdout.contains("  2  not confirmed (K420)"), "{}", down.stdout);
    let Some(page) = rendered(&kompile(&["man", "status"]).stdout) else { return };
    assert!(page.contains("EXIT STATUS") && page.contains("never applied there (K419)"), "{page}");
}

#[test]
fn man_for_an_unknown_subcommand_is_a_usage_error() {
    let run = kompile(&["man", "bild"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("tip: a similar value exists: 'build'"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}
