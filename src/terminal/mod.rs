//! Terminal manners: whether to colour, how wide to wrap, and parsing the command line with
//! both applied to clap's own help and errors.

pub mod markdown;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::{CommandFactory, FromArgMatches, ValueEnum};

use crate::cli::{Cli, ColorWhen};

/// Where the coloured or wrapped text goes: each has its own terminal, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }

    /// A terminal that acts on escape codes: not a `dumb` one (Emacs' shell, some CI logs),
    /// which shows them as text. Colour and redrawn progress lines need one.
    pub fn is_capable_terminal(self) -> bool {
        self.is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
    }

    fn terminal_width(self) -> Option<usize> {
        match self {
            Stream::Stdout => columns_of(std::io::stdout()),
            Stream::Stderr => columns_of(std::io::stderr()),
        }
    }
}

/// The columns of the terminal `stream` is, if it is one that knows them. Only the columns
/// are asked for: a pty may report 0 rows (`script`, some CI runners) and still its width.
#[cfg(unix)]
fn columns_of(stream: impl std::os::fd::AsFd) -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(stream).ok()?;
    Some(usize::from(size.ws_col)).filter(|&w| w > 0)
}

#[cfg(not(unix))]
fn columns_of(stream: impl std::os::windows::io::AsHandle) -> Option<usize> {
    let (terminal_size::Width(w), _) = terminal_size::terminal_size_of(stream)?;
    Some(usize::from(w)).filter(|&w| w > 0)
}

/// Width when neither `COLUMNS` nor a terminal says otherwise.
pub const DEFAULT_WIDTH: usize = 80;

/// The `--color` flag, set once by [`parse_cli`]; `auto` until then (library use, tests).
static COLOR_FLAG: OnceLock<ColorWhen> = OnceLock::new();

/// Records the `--color` flag for [`color`]; the first call wins.
pub fn set_color_flag(flag: ColorWhen) {
    let _ = COLOR_FLAG.set(flag);
}

/// Whether to colour what goes to `stream`: `--color always|never`, else `NO_COLOR` (any
/// non-empty value) turns colour off, else `FORCE_COLOR` (any non-empty value) turns it on,
/// else colour exactly when `stream` is a terminal.
pub fn color(stream: Stream) -> bool {
    let flag = COLOR_FLAG.get().copied().unwrap_or(ColorWhen::Auto);
    decided(flag, env_set("NO_COLOR"), env_set("FORCE_COLOR")).unwrap_or_else(|| stream.is_capable_terminal())
}

/// The choice the flag and environment make without looking at the terminal, if any.
fn decided(flag: ColorWhen, no_color: bool, force_color: bool) -> Option<bool> {
    match flag {
        ColorWhen::Always => Some(true),
        ColorWhen::Never => Some(false),
        ColorWhen::Auto if no_color => Some(false),
        ColorWhen::Auto if force_color => Some(true),
        ColorWhen::Auto => None,
    }
}

/// Whether a variable is set to something non-empty (no-color.org, force-color.org).
fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Columns to wrap text for `stream` to: `COLUMNS` when set (tests fix it so output does not
/// depend on the machine), else the terminal's width, else [`DEFAULT_WIDTH`]; never fewer
/// than [`MIN_WIDTH`].
pub fn width(stream: Stream) -> usize {
    columns_variable().or_else(|| stream.terminal_width()).unwrap_or(DEFAULT_WIDTH).max(MIN_WIDTH)
}

/// Below this the diagnostics' frames no longer fit and help wraps a word a line: past it
/// lines run over the edge instead.
pub const MIN_WIDTH: usize = 40;

fn columns_variable() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.trim().parse().ok().filter(|&w: &usize| w > 0)
}

/// The command line, parsed with clap's help and errors coloured as [`color`] decides and
/// wrapped to the terminal. clap prints help and errors before `Cli` exists, so the
/// `--color` flag is read from the raw arguments for it.
pub fn parse_cli() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    let flag = color_flag_in(&args).unwrap_or(ColorWhen::Auto);
    let choice = match decided(flag, env_set("NO_COLOR"), env_set("FORCE_COLOR")) {
        Some(true) => clap::ColorChoice::Always,
        Some(false) => clap::ColorChoice::Never,
        None => clap::ColorChoice::Auto,
    };
    let width = width(Stream::Stdout);
    let command = crate::cli::with_exit_statuses(Cli::command(), width).color(choice).term_width(width);
    let matches = command.get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    set_color_flag(cli.color);
    cli
}

/// The last `--color WHEN` or `--color=WHEN` before a `--`; an invalid value is left for
/// clap to report.
fn color_flag_in(args: &[OsString]) -> Option<ColorWhen> {
    let mut found = None;
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(word) = words.next() {
        let value = match word.as_ref() {
            "--" => break,
            "--color" => words.next().map(|v| v.into_owned()),
            other => other.strip_prefix("--color=").map(str::to_string),
        };
        if let Some(when) = value.and_then(|v| ColorWhen::from_str(&v, false).ok()) {
            found = Some(when);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_no_color_then_force_color() {
        assert_eq!(decided(ColorWhen::Always, true, false), Some(true));
        assert_eq!(decided(ColorWhen::Never, false, true), Some(false));
        assert_eq!(decided(ColorWhen::Auto, true, true), Some(false));
        assert_eq!(decided(ColorWhen::Auto, false, true), Some(true));
        assert_eq!(decided(ColorWhen::Auto, false, false), None);
    }

    #[test]
    fn the_color_flag_is_found_before_parsing() {
        let args = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(color_flag_in(&args(&["kompile", "--color", "never", "check"])), Some(ColorWhen::Never));
        assert_eq!(color_flag_in(&args(&["kompile", "check", "--color=always"])), Some(ColorWhen::Always));
        assert_eq!(color_flag_in(&args(&["kompile", "--color=always", "--color", "auto"])), Some(ColorWhen::Auto));
        assert_eq!(color_flag_in(&args(&["kompile", "--", "--color=always"])), None);
        assert_eq!(color_flag_in(&args(&["kompile", "--color=purple"])), None);
    }
}
