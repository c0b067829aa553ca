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
        // `help` too: kompile(1) lists kompile-help(1).
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub.clone(),
            _ => {
                let mut diags = Diagnostics::default();
                diags.push(unknown_subcommand(name, &command));
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
    }
    print(&String::from_utf8_lossy(&roff));
    SUCCESS
}

/// kompile(1)'s sections beyond what clap_mangen renders from the command line.
const SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success (\fBdiff\fR: no differences; \fBstatus\fR: all workloads ready).
.TP
\fB1\fR
The input has errors (\fBdiff\fR: there are differences; \fBstatus\fR: some workloads are not ready).
.TP
\fB2\fR
A usage error (\fBdiff\fR and \fBstatus\fR: the input has errors; \fBdown\fR: not confirmed).
.TP
\fB3\fR
\fBapply\fR, \fBdiff\fR, \fBstatus\fR, \fBdown\fR: the cluster refused, failed or could not be reached, or the project was never applied there.
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

fn unknown_subcommand(name: &str, command: &clap::Command) -> Diagnostic {
    let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).filter(|n| *n != "help").collect();
    let mut help = format!("the subcommands are {}", names.join(", "));
    if let Some(close) = crate::suggest::closest(name, names.iter().copied()) {
        help = format!("did you mean `{close}`? {help}");
    }
    Diagnostic::new(Code::InvalidValue, format!("`{name}` is not a kompile subcommand")).help(help)
}
