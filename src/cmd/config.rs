//! `kompile config`: load the project and print it as Compose would.

use std::collections::BTreeMap;
use std::io::Write;

use kompile::diag::{Diagnostics, render};
use kompile::load::{self, Options};
use kompile::render::config::{compose_json, compose_yaml};
use kompile::source::Sources;

use crate::cli::{ConfigArgs, Format, ProjectArgs};

/// Prints the project to stdout; diagnostics go to stderr. 1 when loading failed.
pub fn run(args: &ConfigArgs) -> i32 {
    let options = match options(&args.project) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: cannot read the current directory: {error}");
            return 1;
        }
    };
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let project = load::load(&options, &mut sources, &mut diags);
    let failed = diags.has_errors();
    for diagnostic in diags.sorted() {
        eprintln!("{}", render::short(&diagnostic, &sources));
    }
    let Some(project) = project.filter(|_| !failed) else { return 1 };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&compose_json(&project)).unwrap_or_default() + "\n",
        Format::Yaml => compose_yaml(&project),
    };
    // A closed pipe (`kompile config | head`) is not worth an error message.
    let _ = std::io::stdout().write_all(text.as_bytes());
    0
}

fn options(args: &ProjectArgs) -> std::io::Result<Options> {
    Ok(Options {
        files: args.files.iter().chain(&args.file).cloned().collect(),
        project_name: args.project_name.clone(),
        project_directory: args.project_directory.clone(),
        env_files: args.env_file.clone(),
        profiles: args.profile.clone(),
        shell: shell_environment(),
        working_dir: std::env::current_dir()?,
    })
}

/// The process environment; variables that are not UTF-8 cannot appear in a compose file's
/// interpolation, so they are skipped instead of failing the run.
fn shell_environment() -> BTreeMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}
