//! What `apply`, `diff`, `status` and `down` share: compile exactly as `build` does, find the cluster, and turn
//! the objects into manifests of the project's ApplySet.

use crate::cli::{BuildArgs, ClusterArgs, OutputFormat, ProjectArgs, TargetArgs};
use crate::cluster::applyset::{self, Applied};
use crate::cluster::client::Cluster;
use crate::cluster::plan::{self, ApplySet, Manifest};
use crate::cluster::{Settings, kubeconfig};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::emit::{Object, Origin};
use crate::source::Sources;

/// Where each compose service is written, by service name.
pub type Origins = std::collections::BTreeMap<String, Origin>;

/// Why a command stopped before talking to the cluster.
pub enum Stop {
    /// The compose project has errors.
    Input,
    /// The kubeconfig or the connection failed.
    Cluster,
}

pub struct Session {
    pub cluster: Cluster,
    pub set: ApplySet,
    pub manifests: Vec<Manifest>,
    pub settings: Settings,
}

/// Runs a cluster command: `work` on a runtime, then its diagnostics reported; its exit code.
pub fn run(work: impl AsyncFnOnce(&mut Sources, &mut Diagnostics) -> i32) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let code = match runtime(&mut diags) {
        Some(rt) => rt.block_on(work(&mut sources, &mut diags)),
        None => super::CLUSTER_ERRORS,
    };
    super::report(diags, &sources);
    code
}

fn runtime(diags: &mut Diagnostics) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(error) => {
            diags.push(Diagnostic::new(Code::RequestFailed, format!("cannot start the network runtime: {error}")));
            None
        }
    }
}

/// Kubeconfig first (it decides the namespace objects are compiled into), then the project,
/// then the connection. Nothing is sent when the project has errors.
pub async fn prepare(
    project: &ProjectArgs,
    args: &ClusterArgs,
    dry_run: bool,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Result<Session, Stop> {
    let settings = Settings {
        field_manager: args.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        adopt: args.adopt,
        dry_run,
        concurrency: usize::from(args.target.concurrency),
    };
    open(project, &args.target, settings, sources, diags).await
}

/// [`prepare`] for `status` and `down`: the same kubeconfig, context, namespace, project and
/// ApplySet as `apply`, so they find exactly what `apply` made. They send no applies, so the
/// apply settings are the defaults (`down` uses `dry_run`).
pub async fn connect(
    project: &ProjectArgs,
    args: &TargetArgs,
    dry_run: bool,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Result<Session, Stop> {
    let settings = Settings {
        field_manager: "kompile".into(),
        force_conflicts: false,
        adopt: false,
        dry_run,
        concurrency: usize::from(args.concurrency),
    };
    // The project is compiled only to name it: its warnings are `build`'s and `check`'s to
    // report, not these commands'.
    let mut compiled = Diagnostics::default();
    let session = open(project, args, settings, sources, &mut compiled).await;
    for d in compiled.into_items().into_iter().filter(Diagnostic::is_error) {
        diags.push(d);
    }
    session
}

/// [`connect`], then the project's ApplySet as the cluster has it: what `status` and `down`
/// start from. A project never applied there is K419, a cluster error.
pub async fn connect_applied(
    project: &ProjectArgs,
    args: &TargetArgs,
    dry_run: bool,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Result<(Session, Applied), Stop> {
    let session = connect(project, args, dry_run, sources, diags).await?;
    match applyset::existing(&session.cluster, &session.set, session.settings.concurrency).await {
        Ok(applied) => Ok((session, applied)),
        Err(d) => Err(push(diags, d)),
    }
}

async fn open(
    project: &ProjectArgs,
    args: &TargetArgs,
    settings: Settings,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Result<Session, Stop> {
    let found = kubeconfig::load(args.kubeconfig.as_deref())
        .and_then(|config| kubeconfig::select(&config, args.context.as_deref()).map(|selection| (config, selection)));
    let (config, selection) = match found {
        Ok(found) => found,
        Err(unusable) => return Err(without_kubeconfig(project, args, unusable, sources, diags)),
    };
    let build = build_args(project, namespace(args, || selection.namespace.clone()));
    let (objects, origins) = super::build::compile_with_origins(&build, sources, diags).ok_or(Stop::Input)?;
    let cluster =
        kubeconfig::connect(config, &selection, build.namespace.as_deref()).await.map_err(|d| push(diags, d))?;
    let (set, manifests) = members(&objects, &origins, &cluster.target.namespace);
    Ok(Session { cluster, set, manifests, settings })
}

/// The namespace the project goes to: `-n`, else the kubeconfig context's (asked only when
/// there is no `-n`), else `default`.
pub fn namespace(args: &TargetArgs, context: impl FnOnce() -> Option<String>) -> String {
    args.namespace.clone().or_else(context).unwrap_or_else(|| "default".to_string())
}

/// `build`'s arguments for compiling `project` into `namespace`.
pub fn build_args(project: &ProjectArgs, namespace: String) -> BuildArgs {
    BuildArgs {
        project: project.clone(),
        output: OutputFormat::Yaml,
        out_dir: None,
        overlay: Vec::new(),
        namespace: Some(namespace),
        chart: Default::default(),
    }
}

/// The project's ApplySet in `namespace` and its objects as members of it, each knowing the
/// compose service it came from.
pub fn members(objects: &[Object], origins: &Origins, namespace: &str) -> (ApplySet, Vec<Manifest>) {
    let project_name = objects
        .iter()
        .find_map(|o| o.metadata().labels.as_ref()?.get(crate::emit::PART_OF).cloned())
        .unwrap_or_else(|| "project".to_string());
    let set = ApplySet::new(&project_name, namespace);
    let mut manifests = plan::manifests(objects, &set);
    for manifest in &mut manifests {
        if let Some(origin) = manifest.service.as_ref().and_then(|s| origins.get(s)) {
            manifest.origin = origin.clone();
        }
    }
    (set, manifests)
}

/// No usable kubeconfig: the project is still compiled (into `-n` or `default`), so that its
/// own errors are reported, and exit as input errors, rather than hidden behind the
/// kubeconfig's until that is fixed.
fn without_kubeconfig(
    project: &ProjectArgs,
    args: &TargetArgs,
    unusable: Diagnostic,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Stop {
    let build = build_args(project, namespace(args, || None));
    let mut compiled = Diagnostics::default();
    match super::build::compile_with_origins(&build, sources, &mut compiled) {
        None => {
            diags.extend(compiled);
            Stop::Input
        }
        // The project is fine: its warnings wait for a run that gets as far as the cluster.
        Some(_) => push(diags, unusable),
    }
}

fn push(diags: &mut Diagnostics, d: Diagnostic) -> Stop {
    diags.push(d);
    Stop::Cluster
}
