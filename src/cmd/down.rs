//! `kompile down`: delete the project's ApplySet members in reverse dependency order, wait
//! until they are gone, then the parent. Asks first on a terminal; refuses without `--yes`
//! anywhere else. Exit codes: 0 deleted (or listed, in a dry run), 1 input errors, 2 not
//! confirmed, 3 cluster errors, a project never applied there, or objects that did not go.

use std::io::{BufRead, IsTerminal, Write};

use super::session::{self, Session, Stop};
use super::{CLUSTER_ERRORS, INPUT_ERRORS, SUCCESS, USAGE_ERROR, print};
use crate::cli::DownArgs;
use crate::cluster::down::{self, Options, Plan};
use crate::cluster::plan::{self, ApplySet, Change};
use crate::cluster::target::Target;
use crate::cluster::wait::{Display, Waiting};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Sources;
use crate::terminal::Stream;

pub fn run(args: &DownArgs) -> i32 {
    session::run(async |sources, diags| down(args, sources, diags).await)
}

async fn down(args: &DownArgs, sources: &mut Sources, diags: &mut Diagnostics) -> i32 {
    let dry_run = args.dry_run.is_some();
    let (Session { cluster, set, settings, .. }, applied) =
        match session::connect_applied(&args.project, &args.target, dry_run, sources, diags).await {
            Ok(found) => found,
            Err(Stop::Input) => return INPUT_ERRORS,
            Err(Stop::Cluster) => return CLUSTER_ERRORS,
        };
    let mut plan = down::order(&applied.current.live, &set.id, args.volumes);
    // The project's name as emit labels its objects finds the StatefulSets' claims.
    if let Err(d) = down::find_claims(&cluster, &applied.current.namespaces, &set.project, &mut plan).await {
        diags.push(d);
        return CLUSTER_ERRORS;
    }
    // A dry run deletes nothing, so there is nothing to confirm.
    if !dry_run
        && !args.yes
        && let Err(d) = confirm(&plan, &set, &cluster.target)
    {
        diags.push(d);
        return USAGE_ERROR;
    }
    let waiting = Waiting {
        timeout: args.timeout,
        interval: args.poll_interval,
        display: Display { live: Stream::Stderr.is_capable_terminal() },
        start: std::time::Instant::now(),
        concurrency: settings.concurrency,
    };
    let options = Options { dry_run, concurrency: settings.concurrency, waiting: &waiting };
    let mut print_line = |line: String| print(&format!("{line}\n"));
    let report = down::down(&cluster, &applied, &set.id, &plan, &options, &mut print_line).await;
    for d in report.diagnostics {
        diags.push(d);
    }
    let changes: Vec<(String, Change)> = report.deleted.iter().map(|kind| (kind.clone(), Change::Pruned)).collect();
    print(&format!("{}\n", summary(&changes, dry_run)));
    if report.failed || diags.has_errors() { CLUSTER_ERRORS } else { SUCCESS }
}

/// `deleted 5 (Deployment 2, Service 2, ConfigMap 1)`, from the prune counts of
/// [`plan::summary`].
fn summary(changes: &[(String, Change)], dry_run: bool) -> String {
    let text = plan::summary(changes, false);
    let pruned = text.split(", ").skip_while(|part| !part.starts_with("pruned")).collect::<Vec<_>>().join(", ");
    let counts = pruned.trim_start_matches("pruned ");
    if dry_run { format!("would delete {counts} (dry run: nothing was deleted)") } else { format!("deleted {counts}") }
}

/// Asks on the terminal, listing what goes; refuses when standard input is no terminal, since
/// no one can be asked there.
fn confirm(plan: &Plan<'_>, set: &ApplySet, target: &Target) -> Result<(), Diagnostic> {
    let mut doomed: Vec<String> = plan
        .doomed()
        .iter()
        .map(|live| plan::describe(&live.kind, live.key.namespace.as_deref(), &live.key.name))
        .collect();
    // The parent goes too, unless kept claims still need it.
    if plan.kept_volumes.is_empty() {
        doomed.push(format!("ConfigMap {}/{} (the ApplySet parent)", set.namespace, set.name));
    }
    let count = doomed.len();
    let objects = if count == 1 { "object" } else { "objects" };
    let place = format!("namespace `{}` (context `{}`)", set.namespace, target.context);
    if count == 0 {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let message = format!(
            "`down` would delete {count} {objects} from {place}, but standard input is not a terminal to ask on: nothing was deleted"
        );
        return Err(Diagnostic::new(Code::NotConfirmed, message)
            .help("pass `--yes` to delete without asking, or `--dry-run=server` to see what would be deleted"));
    }
    if ask(&doomed, &format!("Delete {count} {objects} from {place}?")) {
        return Ok(());
    }
    Err(Diagnostic::new(Code::NotConfirmed, format!("`down` was not confirmed: nothing was deleted from {place}"))
        .help("answer `y` to delete, or pass `--yes`"))
}

/// Lists `items` and asks `question` on standard error; reads the answer from standard input.
fn ask(items: &[String], question: &str) -> bool {
    let mut err = std::io::stderr().lock();
    for item in items {
        let _ = writeln!(err, "  {item}");
    }
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    // End of input (Ctrl-D) ends no line: end it, so what follows starts on its own.
    if !answer.ends_with('\n') {
        let _ = writeln!(err);
    }
    yes(&answer)
}

/// `y` or `yes`, any case; anything else (an empty line too) is no.
fn yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_is_yes() {
        assert!(yes("y\n") && yes(" YES ") && yes("Yes"));
        assert!(!yes("") && !yes("\n") && !yes("n") && !yes("yep"));
    }

    #[test]
    fn the_summary_counts_per_kind() {
        let changes = vec![("Service".to_string(), Change::Pruned), ("Deployment".to_string(), Change::Pruned)];
        assert_eq!(summary(&changes, false), "deleted 2 (Deployment 1, Service 1)");
        assert_eq!(summary(&[], true), "would delete 0 (dry run: nothing was deleted)");
    }
}
