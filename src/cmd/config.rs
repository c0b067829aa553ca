//! `kompile config`: the resolved compose project, as `docker compose config` prints it.

use super::{INPUT_ERRORS, SUCCESS, load_and_check, print, report};
use crate::cli::{ConfigArgs, OutputFormat};
use crate::diag::Diagnostics;
use crate::source::Sources;

pub fn run(args: &ConfigArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let project = load_and_check(&args.project.options(), &mut sources, &mut diags);
    let code = match project {
        Some(project) if !diags.has_errors() => {
            let value = project.root.to_json();
            let text = match args.format {
                OutputFormat::Json => serde_json::to_string_pretty(&value).unwrap_or_default() + "\n",
                OutputFormat::Yaml => serde_saphyr::to_string(&value).unwrap_or_default(),
            };
            print(&text);
            SUCCESS
        }
        _ => INPUT_ERRORS,
    };
    report(diags, &sources);
    code
}
