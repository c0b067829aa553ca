//! `kompile completions SHELL` and `kompile man [SUBCOMMAND]`: generated from the clap
//! definitions, so they never fall behind the command line.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{SUCCESS, USAGE_ERROR, print, report};
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Sources;

pub fn completions(args: &CompletionsArgs) -> i32 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "kompile", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    match args.shell {
        Shell::Bash => script.push_str(BASH_EQUALS),
        Shell::Fish => script.push_str(&fish_positionals(&command)),
        _ => {}
    }
    print(&script);
    SUCCESS
}

/// `--dry-run=se<TAB>`: bash splits the word at `=`, so clap's function would see `=` as the
/// option the value belongs to and offer files; this gives it the option instead.
const BASH_EQUALS: &str = r#"
_kompile_equals() {
    if [[ "$3" == "=" && ${COMP_CWORD} -ge 2 ]]; then
        _kompile "$1" "$2" "${COMP_WORDS[COMP_CWORD-2]}"
    else
        _kompile "$@"
    fi
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _kompile_equals -o nosort -o bashdefault -o default kompile
else
    complete -F _kompile_equals -o bashdefault -o default kompile
fi
"#;

/// clap's fish script completes options' values but not positional ones (`kompile
/// completions <TAB>` offered files): a line for each subcommand positional with possible
/// values, offered where that positional is (`kompile man <TAB>` is the second word).
fn fish_positionals(command: &clap::Command) -> String {
    let mut lines = String::new();
    for sub in command.get_subcommands() {
        for (n, arg) in sub.get_positionals().enumerate() {
            let possible = arg.get_possible_values();
            let values: Vec<&str> = possible.iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name()).collect();
            if !values.is_empty() {
                lines.push_str(&format!(
                    "complete -c kompile -n \"__fish_kompile_using_subcommand {}; and __fish_is_nth_token {}\" -f -a \"{}\"\n",
                    sub.get_name(),
                    n + 2,
                    values.join(" ")
                ));
            }
        }
    }
    lines
}

pub fn man(args: &ManArgs) -> i32 {
    let mut command = Cli::command();
    // Building gives each subcommand its page name (`kompile-build`) and usage (`kompile build`).
    command.build();
    // clap's `help` subcommand gets no page: it would list pages (`kompile-help-build`) that
    // do not exist, and `--help` and these pages say the same.
    let command = command.mut_subcommand("help", |help| help.hide(true));
    let page = match &args.subcommand {
        None => command,
        // clap accepts only `MAN_PAGES`, which a test holds equal to the subcommands.
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let mut diags = Diagnostics::default();
                diags.push(Diagnostic::new(Code::InvalidValue, format!("`{name}` has no man page")));
                report(diags, &Sources::default());
                return USAGE_ERROR;
            }
        },
    };
    let top = args.subcommand.is_none();
    let mut roff = Vec::new();
    // Every page's footer names kompile and its version (clap_mangen's default is the
    // subcommand's own name and version, which subcommands do not have).
    let man =
        clap_mangen::Man::new(page).source(format!("kompile {}", env!("CARGO_PKG_VERSION"))).manual("kompile manual");
    if let Err(error) = man.render(&mut roff) {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::new(Code::WriteFailed, format!("cannot render the man page: {error}")));
        report(diags, &Sources::default());
        return USAGE_ERROR;
    }
    if top {
        roff.extend_from_slice(SECTIONS.as_bytes());
    } else if let Some(name) = &args.subcommand {
        roff.extend_from_slice(exit_status_section(name).as_bytes());
    }
    print(&String::from_utf8_lossy(&roff));
    SUCCESS
}

/// A subcommand page's EXIT STATUS, from [`crate::cli::EXIT_STATUSES`].
fn exit_status_section(name: &str) -> String {
    let Some((_, statuses)) = crate::cli::EXIT_STATUSES.iter().find(|(n, _)| *n == name) else { return String::new() };
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, text) in *statuses {
        let text = text.replace('\\', "\\e").replace('-', "\\-");
        roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{text}\n"));
    }
    roff
}

/// kompile(1)'s sections beyond what clap_mangen renders from the command line.
const SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success (\fBdiff\fR: no differences; \fBstatus\fR: all workloads ready).
.TP
\fB1\fR
The input has errors (\fBcheck\fR: or warnings with \fB\-\-deny warnings\fR; \fBdiff\fR: there are differences; \fBstatus\fR: some workloads are not ready).
.TP
\fB2\fR
A usage error (\fBcheck\fR: or a file that cannot be read; \fBdiff\fR and \fBstatus\fR: or the input has errors; \fBdown\fR: or not confirmed).
.TP
\fB3\fR
\fBapply\fR, \fBdiff\fR, \fBstatus\fR, \fBdown\fR: the cluster refused, failed or could not be reached (\fBapply\fR: or a workload did not become ready; \fBstatus\fR and \fBdown\fR: or the project was never applied there; \fBdown\fR: or an object was not gone by \fB\-\-timeout\fR). Each subcommand's page lists its own.
.SH ENVIRONMENT
.TP
\fBNO_COLOR\fR, \fBFORCE_COLOR\fR
Turn colour off or on when \fB\-\-color\fR is \fBauto\fR.
.TP
\fBCOLUMNS\fR
The width to wrap human output at, instead of the terminal's.
.TP
\fBKUBECONFIG\fR
The kubeconfig files \fBapply\fR, \fBdiff\fR, \fBstatus\fR and \fBdown\fR read, unless \fB\-\-kubeconfig\fR names one.
.TP
\fBKOMPILE_EXTERNAL_DIFF\fR, \fBKUBECTL_EXTERNAL_DIFF\fR
A program \fBdiff\fR runs on two directories instead of printing its own diff.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_man_page_value() {
        let mut command = Cli::command();
        command.build();
        let mut names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).filter(|n| *n != "help").collect();
        let mut pages = crate::cli::MAN_PAGES.to_vec();
        names.sort_unstable();
        pages.sort_unstable();
        assert_eq!(names, pages);
    }
}
