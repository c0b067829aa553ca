//! `kompile build`: compose project → Kubernetes manifests.

use std::collections::BTreeMap;
use std::path::Path;

use super::{INPUT_ERRORS, SUCCESS, load_and_check, print, report};
use crate::cli::{BuildArgs, OutputFormat};
use crate::diag::levels::Levels;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::emit::{self, Origin};
use crate::images;
use crate::load::Options;
use crate::lower::{self, Settings};
use crate::render;
use crate::render::helm::{self, ChartInfo};
use crate::source::Sources;

pub fn run(args: &BuildArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let objects = compile(args, &mut sources, &mut diags);
    let code = match &objects {
        Some(objects) if !diags.has_errors() => write(args, objects, &mut sources, &mut diags),
        _ => INPUT_ERRORS,
    };
    let code = if diags.has_errors() { INPUT_ERRORS } else { code };
    report(diags, &sources);
    if code == SUCCESS {
        // On stderr, after the diagnostics: standard output is the manifests.
        eprint!("{}", render::exposure_table(objects.as_deref().unwrap_or_default()));
    }
    code
}

/// The whole pipeline up to Kubernetes objects; `None` when the input has errors.
pub fn compile(args: &BuildArgs, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Vec<emit::Object>> {
    compile_with_origins(args, sources, diags).map(|(objects, _)| objects)
}

/// [`compile`], also returning where each compose service and its keys are written, so that
/// cluster errors about an object can point at the line it came from.
pub fn compile_with_origins(
    args: &BuildArgs,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(Vec<emit::Object>, BTreeMap<String, Origin>)> {
    pipeline(&args.project.options(), &choices(args), sources, diags)
}

/// `--namespace` and `--registry`.
pub fn choices(args: &BuildArgs) -> Choices {
    Choices { namespace: args.namespace.clone(), registry: args.project.registry.clone() }
}

/// What the command line adds to the compose files.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--registry`: where images of built services without `image` are pushed.
    pub registry: Option<String>,
}

/// The pipeline of [`compile_with_origins`] on options and settings already worked out from
/// the command line: what the integration tests call, with an environment of their own.
pub fn pipeline(
    options: &Options,
    choices: &Choices,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(Vec<emit::Object>, BTreeMap<String, Origin>)> {
    let project = load_and_check(options, sources, diags)?;
    // The project's `x-kompile` levels apply to build as to check: one pipeline, one verdict.
    let levels = Levels::default().with_project(&super::project_levels(&project.typed.settings), diags);
    *diags = levels.apply(std::mem::take(diags));
    if diags.has_errors() {
        return None;
    }
    if let Some(namespace) = &choices.namespace
        && crate::names::dns_label(namespace) != *namespace
    {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`{namespace}` is not a valid namespace name"))
                .help("namespaces are lowercase letters, digits and `-`, at most 63 characters"),
        );
        return None;
    }
    let origins = project.typed.services.iter().map(|s| (s.name.value.clone(), origin(s))).collect();
    let naming = images::Naming { registry: choices.registry.as_deref(), skip_hashing: false };
    let built_images = images::names(&project.typed, naming, diags);
    let settings = Settings { namespace: choices.namespace.clone(), built_images };
    let app = lower::lower(project.typed, &settings, diags);
    *diags = levels.apply(std::mem::take(diags));
    if diags.has_errors() {
        return None;
    }
    Some((emit::emit(&app), origins))
}

/// Where a service and each of its keys are written.
fn origin(service: &crate::compose::Service) -> Origin {
    let keys = service.keys.iter().map(|k| (k.value.clone(), k.span)).collect();
    Origin { service: service.name.span, keys }
}

fn write(args: &BuildArgs, objects: &[emit::Object], sources: &mut Sources, diags: &mut Diagnostics) -> i32 {
    if let Some(dir) = &args.chart.helm {
        return write_chart(args, objects, dir, diags);
    }
    let Some(dir) = &args.out_dir else {
        print(&match args.output {
            OutputFormat::Yaml => render::yaml(objects),
            OutputFormat::Json => render::json(objects),
        });
        return SUCCESS;
    };
    if !args.overlay.is_empty() {
        return super::overlays::write(args, objects, dir, sources, diags);
    }
    match render::write_dir(objects, dir) {
        Ok(_) => SUCCESS,
        Err(error) => {
            diags.push(write_failed(dir, &error));
            INPUT_ERRORS
        }
    }
}

/// `--helm DIR`: the chart, written as `--out-dir` writes a directory.
fn write_chart(args: &BuildArgs, objects: &[emit::Object], dir: &Path, diags: &mut Diagnostics) -> i32 {
    let version = args.chart.helm_version.as_deref().unwrap_or("0.1.0");
    if semver::Version::parse(version).is_err() {
        diags.push(
            Diagnostic::new(Code::InvalidValue, format!("`--helm-version {version}` is not a SemVer 2 version"))
                .help("Helm charts are versioned like `1.2.0` or `1.2.0-rc.1`; nothing was written"),
        );
        return INPUT_ERRORS;
    }
    let info = ChartInfo {
        version: version.to_string(),
        app_version: args.chart.helm_app_version.clone(),
        release_names: args.chart.helm_release_prefix,
    };
    match render::write_tree(&helm::chart(objects, &info), dir) {
        Ok(_) => SUCCESS,
        Err(error) => {
            diags.push(write_failed(dir, &error));
            INPUT_ERRORS
        }
    }
}

/// The diagnostic for an `--out-dir` that could not be written.
pub fn write_failed(dir: &Path, error: &std::io::Error) -> Diagnostic {
    // `render::write_dir` says why it refused an existing path (AlreadyExists).
    let reason = format!("{error}; nothing was changed");
    Diagnostic::new(Code::WriteFailed, format!("cannot write {}: {reason}", dir.display()))
        .help("choose an empty or new directory, or one that kompile wrote before")
}
