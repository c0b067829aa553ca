//! Terminal manners: `--color` against `NO_COLOR` and `FORCE_COLOR`, wrapping to `COLUMNS`,
//! `explain` laid out on a terminal, and usage mistakes that get a tip.

use crate::support::run::Kompile;
use crate::support::{self, Run};

const K101: &str = "fixtures/diagnostics/K101/compose.yaml";

fn kompile() -> Kompile {
    support::kompile(support::root())
}

fn coloured(text: &str) -> bool {
    text.contains("\x1b[")
}

/// The test environment sets `NO_COLOR=1` and runs without a terminal: no colour at all.
#[test]
fn colour_follows_the_flag_then_no_color_then_force_color() {
    let check = |k: Kompile| k.args(["check", K101]).run();
    assert!(!coloured(&check(kompile()).stdout));
    assert!(coloured(&check(kompile().arg("--color=always")).stdout), "--color always beats NO_COLOR");
    assert!(!coloured(&check(kompile().env("FORCE_COLOR", "1")).stdout), "NO_COLOR beats FORCE_COLOR");
    // An empty NO_COLOR is no NO_COLOR (no-color.org).
    let forced = check(kompile().env("NO_COLOR", "").env("FORCE_COLOR", "1"));
    assert!(coloured(&forced.stdout), "FORCE_COLOR colours without a terminal");
    let never = check(kompile().env("NO_COLOR", "").env("FORCE_COLOR", "1").args(["--color", "never"]));
    assert!(!coloured(&never.stdout), "--color never beats FORCE_COLOR");
    // Diagnostics on standard error (from `build`) follow the same rules.
    let build = kompile().args(["--color", "always", "build", "fixtures/diagnostics/K101/compose.yaml"]).run();
    assert!(coloured(&build.stderr), "{}", build.stderr);
    // On a terminal colour is the default, except on a `dumb` one.
    if support::script_found() {
        let on_terminal = |term: &str| {
            kompile().env("NO_COLOR", "").args(["check", K101]).on_terminal().env("TERM", term).run().stdout
        };
        assert!(coloured(&on_terminal("xterm")));
        assert!(!coloured(&on_terminal("dumb")), "TERM=dumb");
    }
}

#[test]
fn clap_help_and_errors_follow_the_color_flag() {
    let help = kompile().args(["build", "--help", "--color", "always"]).run();
    assert!(coloured(&help.stdout), "{}", help.stdout);
    let plain = kompile().args(["build", "--help"]).run();
    assert!(!coloured(&plain.stdout), "{}", plain.stdout);
    let error = kompile().args(["--color=always", "build", "--bogus"]).run();
    assert_eq!(error.code, 2);
    assert!(coloured(&error.stderr), "{}", error.stderr);
}

#[test]
fn an_invalid_color_value_is_a_usage_error() {
    let run = kompile().args(["--color", "purple", "check"]).run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("[possible values: auto, always, never]"), "{}", run.stderr);
}

/// Help wraps to `COLUMNS` (a terminal's width otherwise), wider than clap's 100-column cap.
#[test]
fn help_wraps_to_the_width() {
    let widest = |run: &Run| run.stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let narrow = kompile().columns(60).args(["build", "--help"]).run();
    assert!(widest(&narrow) <= 60, "{}", narrow.stdout);
    let wide = kompile().columns(200).args(["build", "--help"]).run();
    assert!(widest(&wide) > 100, "{}", wide.stdout);
    // Below 40 columns help would wrap a word a line: it stays 40 wide.
    let tiny = kompile().columns(5).args(["build", "--help"]).run();
    assert_eq!(tiny.stdout, kompile().columns(40).args(["build", "--help"]).run().stdout);
    // Exit statuses wrap under their text, not back to the margin.
    let apply = kompile().columns(60).args(["apply", "--help"]).run();
    let statuses = apply.stdout.split("Exit status:\n").nth(1).unwrap_or_default();
    assert!(statuses.lines().all(|l| l.starts_with("  ") && l.len() <= 60), "{statuses}");
    assert!(statuses.lines().any(|l| l.starts_with("     ")), "{statuses}");
}

#[test]
fn diagnostics_wrap_to_the_width() {
    let run = kompile().columns(50).args(["check", K101]).run();
    // miette wraps messages and help, not the labels under the source.
    let widest = run.stdout.lines().filter(|l| !l.contains("╰──")).map(|l| l.chars().count()).max();
    assert!(widest.unwrap_or(0) <= 50, "{}", run.stdout);
    let wide = kompile().columns(400).args(["check", K101]).run();
    assert!(wide.stdout.lines().count() < run.stdout.lines().count(), "{}", wide.stdout);
}

/// A pty that reports its columns but 0 rows, as `script` and some CI runners make, is still
/// as wide as it says.
#[test]
fn a_terminal_with_no_rows_keeps_its_width() {
    if !support::script_found() {
        return;
    }
    let line = format!("stty rows 0 cols 150; {} build --help", env!("CARGO_BIN_EXE_kompile"));
    let output = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("COLUMNS")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("script: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!((101..=150).contains(&widest), "widest line {widest}:\n{text}");
}

/// On a terminal `explain` lays the Markdown out: headings bold and underlined, inline code
/// coloured, no `#` or backquotes; piped it stays Markdown (tests/cli.rs).
#[test]
fn explain_on_a_terminal_is_laid_out() {
    if !support::script_found() {
        return;
    }
    let output = kompile().env("NO_COLOR", "").columns(80).args(["explain", "K101"]).on_terminal().output();
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(output.status.success(), "{text}");
    assert!(text.starts_with("\x1b[1m\x1b[4mK101 unknown-key"), "{text:?}");
    assert!(!text.contains("## "), "{text}");
    assert!(text.contains("\x1b[36mversion\x1b[39m"), "{text:?}");
    assert!(
        text.contains("\n    services:\n      web:\n        imgae: nginx:1.27\n"),
        "code blocks are indented: {text}"
    );
    let plain = kompile().columns(80).args(["explain", "K101"]).on_terminal().output();
    let plain = String::from_utf8_lossy(&plain.stdout).replace("\r\n", "\n");
    assert!(plain.starts_with("K101 unknown-key\n════════════════\n"), "NO_COLOR: {plain}");
    assert!(plain.contains("`version`"), "{plain}");
}

#[test]
fn a_directory_given_to_output_gets_a_tip() {
    let run = kompile().args(["build", K101, "-o", "k8s/"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("tip: to write one file per object into a directory, use `--out-dir k8s/`"),
        "{}",
        run.stderr
    );
    let dir = kompile().args(["build", K101, "--output", "fixtures"]).run();
    assert!(dir.stderr.contains("use `--out-dir fixtures`"), "{}", dir.stderr);
    let path = kompile().args(["build", K101, "-o", "./no-such-out"]).run();
    assert!(path.stderr.contains("use `--out-dir ./no-such-out`"), "{}", path.stderr);
    let other = kompile().args(["build", K101, "-o", "yml"]).run();
    assert!(!other.stderr.contains("--out-dir"), "{}", other.stderr);
}
