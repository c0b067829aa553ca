//! `kompile apply --dry-run=client`: the objects `apply` would send, printed as YAML with the
//! ApplySet labels and the parent ConfigMap, without contacting a cluster.

use super::session;
use super::{INPUT_ERRORS, SUCCESS, USAGE_ERROR, print, report};
use crate::cli::ApplyArgs;
use crate::cluster::kubeconfig;
use crate::cluster::plan::{self, Manifest, Step};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Sources;

pub fn run(args: &ApplyArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    if args.cluster.prune {
        // What `--prune` deletes is in the cluster, which this mode never asks.
        let refused = Diagnostic::new(Code::InvalidValue, "`--prune` cannot be shown by `--dry-run=client`")
            .help("`kompile diff --prune` or `apply --prune --dry-run=server` shows what would be deleted");
        diags.push(refused);
        report(diags, &sources);
        return USAGE_ERROR;
    }
    let namespace = namespace(args);
    let build = session::build_args(&args.project, namespace.clone());
    let code = match super::build::compile_with_origins(&build, &mut sources, &mut diags) {
        Some((objects, origins)) => {
            let (set, manifests) = session::members(&objects, &origins, &namespace);
            let kinds = manifests.iter().map(Manifest::group_kind).collect();
            let namespaces = manifests.iter().filter_map(|m| m.namespace.clone()).collect();
            let parent = set.parent(&kinds, &namespaces);
            print(&documents(in_apply_order(&parent, &manifests).into_iter()));
            SUCCESS
        }
        None => INPUT_ERRORS,
    };
    report(diags, &sources);
    code
}

/// [`session::namespace`], with the context's namespace read from the kubeconfig when one
/// can be read (reading it contacts nothing).
fn namespace(args: &ApplyArgs) -> String {
    let cluster = &args.cluster.target;
    session::namespace(cluster, || {
        let config = kubeconfig::load(cluster.kubeconfig.as_deref()).ok()?;
        kubeconfig::select(&config, cluster.context.as_deref()).ok()?.namespace
    })
}

/// The order `apply` sends objects in (`cluster::apply`): namespaces, the ApplySet parent,
/// then step by step ([`plan::steps`]), workloads wave by wave in `depends_on` order
/// ([`plan::waves`]).
fn in_apply_order<'a>(parent: &'a Manifest, manifests: &'a [Manifest]) -> Vec<&'a Manifest> {
    let mut order = Vec::new();
    let steps = plan::steps(manifests);
    if let Some(namespaces) = steps.get(&Step::Namespaces) {
        order.extend(namespaces.iter().copied());
    }
    order.push(parent);
    for (step, items) in &steps {
        match step {
            Step::Namespaces => {}
            Step::Workloads => order.extend(plan::waves(items).into_iter().flat_map(|w| w.apply)),
            _ => order.extend(items.iter().copied()),
        }
    }
    order
}

/// A YAML stream, one document per object, in the order `apply` sends them.
fn documents<'a>(manifests: impl Iterator<Item = &'a Manifest>) -> String {
    manifests.map(|m| format!("---\n{}", crate::render::value_yaml(&m.body))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_separated() {
        let manifest = crate::cluster::plan::manifest(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"}));
        assert_eq!(documents([&manifest, &manifest].into_iter()), "---\napiVersion: v1\nkind: ConfigMap\n".repeat(2));
    }
}
