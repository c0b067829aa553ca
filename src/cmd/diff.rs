//! `kompile diff`: what `apply` with the same flags would change. Exit codes as `kubectl
//! diff`: 0 nothing, 1 changes, above 1 an error.

use std::path::Path;
use std::process::Command;

use super::session::{self, Session, Stop};
use super::{CLUSTER_ERRORS, print};
use crate::cli::{DiffArgs, DiffFormat};
use crate::cluster::applyset;
use crate::cluster::diff::{self, Entry, Kind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Sources;
use crate::terminal::{self, Stream};

pub const NO_CHANGES: i32 = 0;
pub const CHANGES: i32 = 1;
/// Compose errors: above 1, so scripts never mistake them for "changes".
pub const DIFF_INPUT_ERRORS: i32 = 2;

pub fn run(args: &DiffArgs) -> i32 {
    session::run(async |sources, diags| match collect(args, sources, diags).await {
        Ok(entries) => show(args, &entries, diags),
        Err(code) => code,
    })
}

async fn collect(args: &DiffArgs, sources: &mut Sources, diags: &mut Diagnostics) -> Result<Vec<Entry>, i32> {
    let session = match session::prepare(&args.project, &args.cluster, true, sources, diags).await {
        Ok(session) => session,
        Err(Stop::Input) => return Err(DIFF_INPUT_ERRORS),
        Err(Stop::Cluster) => return Err(CLUSTER_ERRORS),
    };
    let Session { cluster, set, manifests, settings } = session;
    // Deletions are shown only with `--prune`, as `apply` only prunes with it.
    let current = if args.cluster.prune {
        match applyset::read(&cluster, &set, &manifests, &settings).await {
            Ok(current) => Some(current),
            Err(d) => {
                diags.push(d);
                return Err(CLUSTER_ERRORS);
            }
        }
    } else {
        None
    };
    let entries = diff::collect(
        &cluster,
        &manifests,
        current.as_ref(),
        &set.id,
        &settings,
        args.cluster.prune_volumes,
        args.show_secrets,
    )
    .await;
    entries.map_err(|errors| {
        for d in errors {
            diags.push(d);
        }
        CLUSTER_ERRORS
    })
}

fn show(args: &DiffArgs, entries: &[Entry], diags: &mut Diagnostics) -> i32 {
    let changed = entries.iter().any(|e| e.change != Kind::Unchanged);
    if let Some((variable, command)) = external_command() {
        if let Err(d) = external(variable, &command, entries) {
            diags.push(d);
            return CLUSTER_ERRORS;
        }
    } else if args.format == DiffFormat::Json {
        let counts = |k: Kind| entries.iter().filter(|e| e.change == k).count();
        let doc = serde_json::json!({
            "objects": entries.iter().filter(|e| e.change != Kind::Unchanged).collect::<Vec<_>>(),
            "created": counts(Kind::Created),
            "changed": counts(Kind::Changed),
            "deleted": counts(Kind::Deleted),
            "unchanged": counts(Kind::Unchanged),
        });
        print(&format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default()));
    } else {
        let color = terminal::color(Stream::Stdout);
        let text: String =
            entries.iter().filter(|e| e.change != Kind::Unchanged).map(|e| diff::render(e, color)).collect();
        print(&text);
        print(&format!("{}\n", diff::count(entries)));
    }
    if changed { CHANGES } else { NO_CHANGES }
}

/// The external diff program: `KOMPILE_EXTERNAL_DIFF`, else `KUBECTL_EXTERNAL_DIFF` (so a
/// setting made for `kubectl diff` carries over), with the variable it came from. Empty is
/// unset.
fn external_command() -> Option<(&'static str, String)> {
    ["KOMPILE_EXTERNAL_DIFF", "KUBECTL_EXTERNAL_DIFF"]
        .into_iter()
        .find_map(|variable| Some((variable, std::env::var(variable).ok().filter(|c| !c.trim().is_empty())?)))
}

/// Writes the live and merged objects into two directories, one YAML file each (named as
/// kubectl names them), and runs `command LIVE MERGED`, as `KUBECTL_EXTERNAL_DIFF` does.
fn external(variable: &str, command: &str, entries: &[Entry]) -> Result<(), Diagnostic> {
    let fail = |what: String| {
        Diagnostic::new(Code::ExternalDiff, what)
            .help(format!("{variable} holds a program and its arguments, e.g. `colordiff -N -u`"))
    };
    let words = shell_words::split(command).map_err(|e| fail(format!("cannot read {variable}: {e}")))?;
    let Some((program, arguments)) = words.split_first() else {
        return Err(fail(format!("{variable} is empty")));
    };
    let dir = tempfile::tempdir().map_err(|e| fail(format!("cannot create a temporary directory: {e}")))?;
    let (live_dir, merged_dir) = (dir.path().join("LIVE"), dir.path().join("MERGED"));
    for entry in entries.iter().filter(|e| e.change != Kind::Unchanged) {
        write_side(&live_dir, entry, entry.live.as_ref())
            .map_err(|e| fail(format!("cannot write the live objects: {e}")))?;
        write_side(&merged_dir, entry, entry.merged.as_ref())
            .map_err(|e| fail(format!("cannot write the merged objects: {e}")))?;
    }
    let status = Command::new(program)
        .args(arguments)
        .arg(&live_dir)
        .arg(&merged_dir)
        .status()
        .map_err(|e| fail(format!("cannot run `{program}`: {e}")))?;
    // diff programs exit 1 for "differences"; only above that is a failure.
    match status.code() {
        Some(0 | 1) => Ok(()),
        other => {
            Err(fail(format!("`{program}` failed (exit status {})", other.map_or("none".into(), |c| c.to_string()))))
        }
    }
}

fn write_side(dir: &Path, entry: &Entry, object: Option<&serde_json::Value>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    match object {
        Some(object) => std::fs::write(dir.join(entry.file_name()), crate::render::value_yaml(object)),
        None => Ok(()),
    }
}
