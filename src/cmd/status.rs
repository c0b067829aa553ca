//! `kompile status`: one line per workload of the project's ApplySet, as the rollout wait
//! judges it. Exit codes: 0 all ready, 1 some not, 2 input errors, 3 cluster errors or a
//! project never applied there (as `diff`, whose 1 also means "look at this").

use serde_json::json;

use super::session::{self, Session, Stop};
use super::{CLUSTER_ERRORS, SUCCESS, print};
use crate::cli::{StatusArgs, StatusFormat};
use crate::cluster::status::{self, Row};
use crate::diag::Diagnostics;
use crate::source::Sources;

/// Some workload is not ready.
pub const NOT_READY: i32 = 1;
/// Compose errors: above 1, so scripts never mistake them for "not ready".
pub const STATUS_INPUT_ERRORS: i32 = 2;

pub fn run(args: &StatusArgs) -> i32 {
    session::run(async |sources, diags| status(args, sources, diags).await)
}

async fn status(args: &StatusArgs, sources: &mut Sources, diags: &mut Diagnostics) -> i32 {
    let (Session { cluster, set, settings, .. }, applied) =
        match session::connect_applied(&args.project, &args.target, false, sources, diags).await {
            Ok(found) => found,
            Err(Stop::Input) => return STATUS_INPUT_ERRORS,
            Err(Stop::Cluster) => return CLUSTER_ERRORS,
        };
    let rows = status::rows(&cluster, &applied, settings.concurrency, jiff::Timestamp::now()).await;
    let all_ready = rows.iter().all(|r| r.ready);
    match args.output {
        StatusFormat::Text => print(&status::table(&rows)),
        StatusFormat::Json => print(&format!("{}\n", document(&set, &rows, all_ready))),
    }
    if all_ready { SUCCESS } else { NOT_READY }
}

/// The `-o json` document (docs/cluster.md#status).
fn document(set: &crate::cluster::plan::ApplySet, rows: &[Row], ready: bool) -> String {
    let value = json!({
        "namespace": set.namespace,
        "applyset": {"id": set.id, "parent": set.name},
        "ready": ready,
        "workloads": rows,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
