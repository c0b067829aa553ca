//! `kompile explain CODE`: prints the code's page from docs/codes/ (a hadolint rule: the pages
//! of the codes that implement it); `--list` lists codes.

use super::{SUCCESS, USAGE_ERROR, print};
use crate::cli::ExplainArgs;
use crate::diag::{Code, explain};
use crate::terminal::{self, Stream, markdown};

pub fn run(args: &ExplainArgs) -> i32 {
    if args.list {
        print(&explain::list());
        return SUCCESS;
    }
    let query = args.code.as_deref().unwrap_or_default();
    // A hadolint rule may be several codes: each page, in the order of the hadolint table.
    let codes = Code::matching(query);
    if codes.is_empty() {
        eprintln!("{}", unknown(query));
        return USAGE_ERROR;
    }
    let pages = codes.iter().map(|c| c.page()).collect::<Vec<_>>().join("\n");
    // Piped, the page stays Markdown, for files and other tools; a terminal gets it laid out.
    if Stream::Stdout.is_terminal() {
        print(&markdown::render(&pages, terminal::width(Stream::Stdout), terminal::color(Stream::Stdout)));
    } else {
        print(&pages);
    }
    SUCCESS
}

/// The message for a code that does not exist, with the closest one if any.
pub fn unknown(query: &str) -> String {
    let mut message = format!("error: `{query}` is not a kompile diagnostic code");
    if let Some((close, _)) = explain::suggest(query) {
        message.push_str(&format!("\n  help: did you mean `{}` ({})?", close.id(), close.name()));
    }
    message.push_str("\n  help: run `kompile explain --list` to see every code");
    message
}
