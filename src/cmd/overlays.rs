//! `kompile build --out-dir DIR --overlay NAME=FILE`: the project compiled once more per
//! overlay (with FILE merged over its compose files, or a profile activated), then written as
//! a kustomize base and overlays (`render::write_kustomize`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::build::{choices, pipeline, write_failed};
use super::{INPUT_ERRORS, SUCCESS};
use crate::cli::BuildArgs;
use crate::diag::{Code, Diagnostic, Diagnostics, render as diag_render};
use crate::emit::Object;
use crate::load::{self, Options};
use crate::render;
use crate::source::Sources;

/// What an overlay adds to the base project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A compose file merged over the base files, as a last `-f`.
    File(PathBuf),
    /// A profile activated besides the `--profile`s.
    Profile(String),
}

/// Compiles every `--overlay` and writes `dir` (base and overlays) in one go; nothing is
/// written when an overlay is malformed or its project has errors.
pub fn write(args: &BuildArgs, base: &[Object], dir: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> i32 {
    let Some(specs) = parse_all(&args.overlay, diags) else { return INPUT_ERRORS };
    let options = args.project.options();
    let Some(base_files) = base_files(&options, diags) else { return INPUT_ERRORS };
    let mut overlays = Vec::new();
    for (name, change) in specs {
        let options = overlay_options(&options, &base_files, change);
        match compile(args, &options, sources, diags) {
            Some(objects) => overlays.push((name, objects)),
            None => return INPUT_ERRORS,
        }
    }
    match render::write_kustomize(base, &overlays, dir) {
        Ok(_) => SUCCESS,
        Err(error) => {
            diags.push(write_failed(dir, &error));
            INPUT_ERRORS
        }
    }
}

/// Every `NAME=FILE` parsed; `None` (with a diagnostic for each bad one) when any is wrong or
/// a name comes twice.
fn parse_all(texts: &[String], diags: &mut Diagnostics) -> Option<Vec<(String, Change)>> {
    let mut specs = Vec::new();
    let mut names = BTreeSet::new();
    let mut ok = true;
    for text in texts {
        match parse(text) {
            Ok((name, _)) if !names.insert(name.clone()) => {
                ok = false;
                diags.push(
                    Diagnostic::new(Code::InvalidValue, format!("overlay `{name}` is given twice"))
                        .help("give each `--overlay` its own NAME"),
                );
            }
            Ok(spec) => specs.push(spec),
            Err(diagnostic) => {
                ok = false;
                diags.push(*diagnostic);
            }
        }
    }
    ok.then_some(specs)
}

/// `NAME=FILE` or `NAME=profile:P`.
pub fn parse(text: &str) -> Result<(String, Change), Box<Diagnostic>> {
    let invalid = |message: String| {
        Box::new(Diagnostic::new(Code::InvalidValue, message).help(
            "write `--overlay NAME=FILE` or `--overlay NAME=profile:PROFILE`, e.g. `--overlay prod=compose.prod.yaml`",
        ))
    };
    let Some((name, value)) = text.split_once('=') else {
        return Err(invalid(format!("`--overlay {text}` has no `=`")));
    };
    if !is_plain_name(name) {
        return Err(invalid(format!(
            "`{name}` is not an overlay name: it becomes a directory, so start with a lowercase letter or digit, then use lowercase letters, digits, `-`, `_` and `.`"
        )));
    }
    let change = match value.strip_prefix("profile:") {
        Some(profile) if !profile.is_empty() => Change::Profile(profile.to_string()),
        None if !value.is_empty() => Change::File(PathBuf::from(value)),
        _ => return Err(invalid(format!("`--overlay {text}` names no file or profile"))),
    };
    Ok((name.to_string(), change))
}

/// A name that is one plain directory: a lowercase letter or digit first (so neither `..`, a
/// hidden directory, nor a name a command would take for an option), then lowercase letters,
/// digits, `-`, `_` and `.`.
fn is_plain_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// The compose files the base was compiled from, which every overlay compiles again; standard
/// input cannot be read a second time.
fn base_files(options: &Options, diags: &mut Diagnostics) -> Option<Vec<PathBuf>> {
    let files = load::resolved_files(options)?;
    if files.iter().any(|f| f == Path::new("-")) {
        diags.push(
            Diagnostic::new(Code::InvalidValue, "`--overlay` cannot compile a project read from standard input")
                .help("name the compose files with `-f FILE`"),
        );
        return None;
    }
    Some(files)
}

fn overlay_options(base: &Options, base_files: &[PathBuf], change: Change) -> Options {
    let mut options = base.clone();
    options.files = base_files.to_vec();
    match change {
        Change::File(file) => options.files.push(file),
        Change::Profile(profile) => options.profiles.push(profile),
    }
    options
}

/// The overlay's objects. Its diagnostics join the base's, except those the base compile
/// already reported (both read the same files), so each problem is told once.
fn compile(args: &BuildArgs, options: &Options, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Vec<Object>> {
    let mut own = Diagnostics::default();
    let objects = pipeline(options, &choices(args), sources, &mut own);
    let mut seen = BTreeSet::new();
    *diags = std::mem::take(diags).filter_map(|d| {
        seen.insert(diag_render::short(&d, sources));
        Some(d)
    });
    let failed = own.has_errors();
    diags.extend(own.filter_map(|d| (!seen.contains(&diag_render::short(&d, sources))).then_some(d)));
    if failed {
        return None;
    }
    objects.map(|(objects, _)| objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_directories() {
        assert_eq!(parse("prod=compose.prod.yaml").unwrap(), ("prod".into(), Change::File("compose.prod.yaml".into())));
        assert_eq!(parse("debug=profile:debug").unwrap(), ("debug".into(), Change::Profile("debug".into())));
        assert_eq!(parse("v1.2_x-y=a=b.yaml").unwrap().1, Change::File("a=b.yaml".into()));
        for bad in [
            "Prod=a.yaml",
            "../x=a.yaml",
            ".hidden=a.yaml",
            "-prod=a.yaml",
            "_x=a.yaml",
            "a/b=a.yaml",
            "=a.yaml",
            "prod",
            "prod=",
            "p=profile:",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_given_twice_is_an_error() {
        let mut diags = Diagnostics::default();
        let texts = ["a=x.yaml".to_string(), "a=y.yaml".to_string()];
        assert!(parse_all(&texts, &mut diags).is_none());
        assert!(diags.has_errors());
    }
}
