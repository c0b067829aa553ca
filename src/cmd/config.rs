//! `kompile config`: the resolved compose project, as `docker compose config` prints it.

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
            print(&match args.format {
                OutputFormat::Json => {
                    serde_json::to_string_pretty(&compose_json(&tree, &name)).unwrap_or_default() + "\n"
                }
                OutputFormat::Yaml => compose_yaml(&tree, &name),
            });
            SUCCESS
        }
        _ => INPUT_ERRORS,
    };
    report(diags, &sources);
    code
}
