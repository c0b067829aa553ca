//! `kompile config`: the resolved compose project, as `docker compose config` prints it;
//! `--services` and `--volumes` list names instead, `-q` only validates.

use std::collections::{BTreeMap, BTreeSet};

use super::{INPUT_ERRORS, SUCCESS, load_and_check, print, report};
use crate::cli::{ConfigArgs, OutputFormat};
use crate::diag::Diagnostics;
use crate::load::Options;
use crate::render::compose::{compose_json, compose_yaml};
use crate::source::Sources;

pub fn run(args: &ConfigArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let options = Options { keep_tree: true, ..args.project.options() };
    let project = load_and_check(&options, &mut sources, &mut diags);
    let code = match project.and_then(|p| Some((p.root?, p.typed.name))) {
        Some((tree, name)) if !diags.has_errors() => {
            if args.services || args.volumes {
                let project = compose_json(&tree, &name);
                let names = if args.services { services_in_order(&project) } else { keys(&project["volumes"]) };
                print(&names.iter().map(|n| format!("{n}\n")).collect::<String>());
            } else if !args.quiet {
                print(&match args.format {
                    OutputFormat::Json => {
                        serde_json::to_string_pretty(&compose_json(&tree, &name)).unwrap_or_default() + "\n"
                    }
                    OutputFormat::Yaml => compose_yaml(&tree, &name),
                });
            }
            SUCCESS
        }
        _ => INPUT_ERRORS,
    };
    // `-q`, `--services` and `--volumes` are for scripts: like `docker compose`, they say
    // nothing unless the project is invalid, so only errors are reported.
    if args.quiet || args.services || args.volumes {
        diags = diags.filter_map(|d| d.is_error().then_some(d));
    }
    report(diags, &sources);
    code
}

/// The keys of a mapping in the resolved project (the volumes services use, as `config`
/// prints them), in name order.
fn keys(mapping: &serde_json::Value) -> Vec<String> {
    mapping.as_object().map(|m| m.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect()).unwrap_or_default()
}

/// The enabled services, each after those it `depends_on`, as `docker compose config
/// --services` orders them; services neither depends on come in name order (Compose's order
/// there varies from run to run).
fn services_in_order(project: &serde_json::Value) -> Vec<String> {
    let services = keys(&project["services"]);
    let mut waiting: BTreeMap<&str, BTreeSet<&str>> = services
        .iter()
        .map(|name| {
            let needs = project["services"][name]["depends_on"].as_object();
            let needs = needs.map(|n| n.keys().map(String::as_str).filter(|d| services.contains(&d.to_string())));
            (name.as_str(), needs.into_iter().flatten().collect())
        })
        .collect();
    let mut order = Vec::new();
    while !waiting.is_empty() {
        let ready: Vec<&str> = waiting.iter().filter(|(_, needs)| needs.is_empty()).map(|(n, _)| *n).collect();
        // A cycle is an error before this runs (K109); were one left, it is listed by name.
        let next = ready.first().copied().or_else(|| waiting.keys().next().copied());
        let Some(next) = next else { break };
        waiting.remove(next);
        for needs in waiting.values_mut() {
            needs.remove(next);
        }
        order.push(next.to_string());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_come_after_their_dependencies_then_by_name() {
        let project = serde_json::json!({"services": {
            "zeta": {}, "beta": {}, "alpha": {"depends_on": {"zeta": {}}}, "mid": {"depends_on": {"alpha": {}}},
        }});
        assert_eq!(services_in_order(&project), ["beta", "zeta", "alpha", "mid"]);
    }
}
