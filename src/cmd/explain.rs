//! `kompile explain CODE`: prints the code's page from docs/codes/; `--list` lists codes.

use super::{SUCCESS, USAGE_ERROR, print};
use crate::cli::ExplainArgs;
use crate::diag::explain;

pub fn run(args: &ExplainArgs) -> i32 {
    if args.list {
        print(&explain::list());
        return SUCCESS;
    }
    let query = args.code.as_deref().unwrap_or_default();
    match explain::lookup(query) {
        Some(code) => {
            print(code.page());
            SUCCESS
        }
        None => {
            eprintln!("{}", unknown(query));
            USAGE_ERROR
        }
    }
}

/// The message for a code that does not exist, with the closest one if any.
pub fn unknown(query: &str) -> String {
    let mut message = format!("error: `{query}` is not a kompile diagnostic code");
    if let Some(close) = explain::suggest(query) {
        message.push_str(&format!("\n  help: did you mean `{}` ({})?", close.id(), close.name()));
    }
    message.push_str("\n  help: run `kompile explain --list` to see every code");
    message
}
