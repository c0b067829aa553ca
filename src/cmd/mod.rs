//! Commands: each wires the pipeline stages together and turns the outcome into an exit
//! code. No logic of their own beyond that.

pub mod apply;
pub mod build;
pub mod check;
mod client_dry_run;
pub mod config;
pub mod diff;
pub mod down;
pub mod explain;
pub mod images;
pub mod overlays;
mod session;
pub mod shell;
pub mod status;

use std::io::Write;

use crate::cli::{Cli, Command, ProjectArgs};
use crate::diag::levels::{Level, ProjectLevel};
use crate::diag::{Diagnostics, render};
use crate::load::{self, Options, Project};
use crate::source::Sources;
use crate::terminal::{self, Stream};

/// Exit codes, the same for every command.
pub const SUCCESS: i32 = 0;
pub const INPUT_ERRORS: i32 = 1;
pub const USAGE_ERROR: i32 = 2;
/// `apply`, `diff`, `status` and `down`: the cluster refused, failed or could not be reached
/// (or, for `status` and `down`, the project was never applied there).
pub const CLUSTER_ERRORS: i32 = 3;

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Build(args) => build::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Images(args) => images::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Down(args) => down::run(&args),
        Command::Completions(args) => shell::completions(&args),
        Command::Man(args) => shell::man(&args),
    }
}

impl ProjectArgs {
    pub fn options(&self) -> Options {
        let mut files = self.files.clone();
        files.extend(self.file.iter().cloned());
        Options {
            files,
            project_name: self.project_name.clone(),
            project_directory: self.project_directory.clone(),
            env_files: self.env_file.clone(),
            profiles: self.profile.clone(),
            shell: shell_environment(),
            working_dir: std::env::current_dir().unwrap_or_default(),
            strict_paths: self.strict_paths,
            keep_tree: false,
        }
    }
}

/// The codes the project's top-level `x-kompile: {deny: [...], warn: [...], allow: [...]}`
/// lists, read here so that `diag::levels` needs no compose tree. Lists are read deny, warn,
/// allow, each in its order.
pub fn project_levels(settings: &crate::compose::ProjectSettings) -> Vec<ProjectLevel> {
    let lists = [(Level::Deny, &settings.deny), (Level::Warn, &settings.warn), (Level::Allow, &settings.allow)];
    let listed = lists.into_iter().flat_map(|(level, items)| {
        items.iter().map(move |item| ProjectLevel { level, code: item.value.clone(), span: item.span })
    });
    listed.collect()
}

/// The process environment; variables that are not UTF-8 cannot take part in interpolation,
/// so they are skipped instead of failing the run.
fn shell_environment() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// Load and check: what every command starts with.
pub fn load_and_check(options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Project> {
    let project = load::load(options, sources, diags)?;
    crate::check::check(&project.typed, diags);
    Some(project)
}

/// Prints diagnostics to standard error, human-readable, with a summary line.
pub fn report(diags: Diagnostics, sources: &Sources) {
    let items = diags.sorted();
    if items.is_empty() {
        return;
    }
    let color = terminal::color(Stream::Stderr);
    let width = terminal::width(Stream::Stderr);
    let mut out = std::io::stderr().lock();
    for item in &items {
        let _ = write!(out, "{}", render::human(item, sources, color, width));
    }
    let _ = writeln!(out, "{}", render::summary(&items));
}

/// Writes to standard output; a closed pipe (`| head`) is not an error worth a panic.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
