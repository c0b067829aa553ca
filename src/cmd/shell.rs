//! `kompile completions SHELL` and `kompile man [SUBCOMMAND]`: generated from the clap
//! definitions, so they never fall behind the command line.

use clap::CommandFactory;

use super::{SUCCESS, USAGE_ERROR, print, report};
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Sources;

pub fn completions(args: &CompletionsArgs) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "kompile", &mut script);
    print(&String::from_utf8_lossy(&script));
    SUCCESS
}

pub fn man(args: &ManArgs) -> i32 {
    let mut command = Cli::command();
    // Building gives each subcommand its page name (`kompile-build`) and usage (`kompile build`).
    command.build();
    let page = match &args.subcommand {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) if name != "help" => sub.clone(),
            _ => {
                let mut diags = Diagnostics::default();
                diags.push(unknown_subcommand(name, &command));
                report(diags, &Sources::default());
                return USAGE_ERROR;
            }
        },
    };
    let mut roff = Vec::new();
    if let Err(error) = clap_mangen::Man::new(page).render(&mut roff) {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::new(Code::WriteFailed, format!("cannot render the man page: {error}")));
        report(diags, &Sources::default());
        return USAGE_ERROR;
    }
    print(&String::from_utf8_lossy(&roff));
    SUCCESS
}

fn unknown_subcommand(name: &str, command: &clap::Command) -> Diagnostic {
    let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).filter(|n| *n != "help").collect();
    let mut help = format!("the subcommands are {}", names.join(", "));
    if let Some(close) = crate::suggest::closest(name, names.iter().copied()) {
        help = format!("did you mean `{close}`? {help}");
    }
    Diagnostic::new(Code::InvalidValue, format!("`{name}` is not a kompile subcommand")).help(help)
}
