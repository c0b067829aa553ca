//! `kompile config`: the resolved compose project, as `docker compose config` prints it.

use super::{INPUT_ERRORS, SUCCESS, load_and_check, print, report};
use crate::cli::{ConfigArgs, OutputFormat};
use crate::diag::Diagnostics;
use crate::render::compose::{compose_json, compose_yaml};
use crate::source::Sources;

pub fn run(args: &ConfigArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let project = load_and_check(&args.project.options(), &mut sources, &mut diags);
    let code = match project {
        Some(project) if !diags.has_errors() => {
            print(&match args.format {
                OutputFormat::Json => serde_json::to_string_pretty(&compose_json(&project)).unwrap_or_default() + "\n",
                OutputFormat::Yaml => compose_yaml(&project),
            });
            SUCCESS
        }
        _ => INPUT_ERRORS,
    };
    report(diags, &sources);
    code
}
