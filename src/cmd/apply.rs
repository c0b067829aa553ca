//! `kompile apply`: compile, apply to the cluster, prune, wait, summarise.

use super::session::{self, Session, Stop};
use super::{CLUSTER_ERRORS, INPUT_ERRORS, SUCCESS, print};
use crate::cli::{ApplyArgs, DryRun};
use crate::cluster::apply::{self, PruneOptions};
use crate::cluster::plan;
use crate::cluster::wait::{self, Display, Waiting};
use crate::diag::Diagnostics;
use crate::source::Sources;
use crate::terminal::Stream;

pub fn run(args: &ApplyArgs) -> i32 {
    if args.dry_run == Some(DryRun::Client) {
        return super::client_dry_run::run(args);
    }
    session::run(async |sources, diags| apply(args, sources, diags).await)
}

async fn apply(args: &ApplyArgs, sources: &mut Sources, diags: &mut Diagnostics) -> i32 {
    let dry_run = args.dry_run.is_some();
    let session = match session::prepare(&args.project, &args.cluster, dry_run, sources, diags).await {
        Ok(session) => session,
        Err(Stop::Input) => return INPUT_ERRORS,
        Err(Stop::Cluster) => return CLUSTER_ERRORS,
    };
    let Session { cluster, set, manifests, settings } = session;
    let prune = PruneOptions { prune: args.cluster.prune, prune_volumes: args.cluster.prune_volumes };
    let mut print_line = |line: String| print(&format!("{line}\n"));
    let display = Display { live: Stream::Stderr.is_capable_terminal() };
    let waiting = Waiting {
        timeout: args.timeout,
        interval: args.poll_interval,
        display,
        start: std::time::Instant::now(),
        concurrency: settings.concurrency,
    };
    // Dependents wait for what they depend on only when the run waits at all: a dry run
    // starts nothing, and `--no-wait` leaves the waiting to the pods' init containers.
    let ordered = (!dry_run && !args.no_wait).then_some(&waiting);
    let report = apply::apply(&cluster, &set, &manifests, &settings, prune, ordered, &mut print_line).await;
    let mut failed = report.failed;
    for d in report.diagnostics {
        diags.push(d);
    }
    if !failed && !dry_run && !args.no_wait {
        let workloads = wait::workloads(&manifests);
        let problems = wait::wait(&cluster, &workloads, &waiting).await;
        failed |= !problems.is_empty();
        for d in problems {
            diags.push(d);
        }
    }
    if !report.changes.is_empty() || !report.failed {
        print(&format!("{}\n", plan::summary(&report.changes, dry_run)));
    }
    if failed || diags.has_errors() { CLUSTER_ERRORS } else { SUCCESS }
}
