//! Hostile-input harness, shared by tests/mutation.rs and the fuzz targets in fuzz/ (which
//! include this file by path): run a stage on arbitrary input, render what it reports, and
//! return an error when a diagnostic or syntax-tree span does not lie inside its text.
//! Panics propagate: the mutation test catches them, libFuzzer reports them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use kompile::diag::{Diagnostic, Diagnostics, render};
use kompile::dockerfile::{self, Args, Instruction, Word};
use kompile::load::interpolate::{self, InterpolationError};
use kompile::load::{self, Environment, Options, Project};
use kompile::lower::{self, Settings};
use kompile::source::{Sources, Span};

/// The pipeline on files on disk, every stage a command runs: load and check, lower (as
/// `check` does, errors or not), emit and render (as `build` and `config` do when there are
/// no errors), then every diagnostic rendered every way. Returns how many diagnostics.
pub fn compose_files(options: &Options) -> Result<usize, String> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let options = Options { keep_tree: true, ..options.clone() };
    if let Some(project) = kompile::cmd::load_and_check(&options, &mut sources, &mut diags) {
        finish(&project, &mut diags);
    }
    diagnostics(diags, &sources)
}

/// [`compose_files`] for one compose file given as bytes, loaded from memory: not UTF-8 is
/// lossily converted (the file reader's own handling is covered by the mutation test).
pub fn compose_bytes(bytes: &[u8], directory: &Path) -> Result<usize, String> {
    let text = String::from_utf8_lossy(bytes);
    let environment = Environment::new(BTreeMap::from([
        ("HOME".to_string(), "/home/user".to_string()),
        ("TAG".to_string(), "1.0".to_string()),
        ("EMPTY".to_string(), String::new()),
    ]));
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    if let Some(project) = load::load_str(&text, directory, &environment, &mut sources, &mut diags) {
        kompile::check::check(&project.typed, &mut diags);
        finish(&project, &mut diags);
    }
    diagnostics(diags, &sources)
}

/// The objects `kompile build` would print for one compose file given as bytes (loaded like
/// [`compose_bytes`]), or `None` when it reports errors and prints nothing.
pub fn build_bytes(bytes: &[u8], directory: &Path) -> Option<Vec<kompile::emit::Object>> {
    let text = String::from_utf8_lossy(bytes);
    let environment = Environment::new(BTreeMap::from([("HOME".to_string(), "/home/user".to_string())]));
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let project = load::load_str(&text, directory, &environment, &mut sources, &mut diags)?;
    kompile::check::check(&project.typed, &mut diags);
    if diags.has_errors() {
        return None;
    }
    let settings = lower_settings(&project, &mut diags);
    let app = lower::lower(project.typed, &settings, &mut diags);
    (!diags.has_errors()).then(|| kompile::emit::emit(&app))
}

/// Settings as `kompile build` makes them without flags: the image names of built services.
fn lower_settings(project: &Project, diags: &mut Diagnostics) -> Settings {
    let built_images = kompile::images::names(&project.typed, kompile::images::Naming::default(), diags);
    Settings { built_images, ..Settings::default() }
}

fn finish(project: &Project, diags: &mut Diagnostics) {
    let settings = lower_settings(project, diags);
    let app = lower::lower(project.typed.clone(), &settings, diags);
    if diags.has_errors() {
        return;
    }
    let objects = kompile::emit::emit(&app);
    let _ = kompile::render::yaml(&objects);
    let _ = kompile::render::json(&objects);
    if let Some(tree) = &project.root {
        let _ = kompile::render::compose::compose_yaml(tree, &project.typed.name);
        let _ = kompile::render::compose::compose_json(tree, &project.typed.name);
    }
}

/// Checks every label of every diagnostic, then renders them all.
fn diagnostics(diags: Diagnostics, sources: &Sources) -> Result<usize, String> {
    let items = diags.sorted();
    for diagnostic in &items {
        for label in diagnostic.primary.iter().chain(&diagnostic.secondary) {
            check_span(label.span, sources).map_err(|e| format!("{e} in {}", describe(diagnostic)))?;
        }
    }
    for diagnostic in &items {
        let _ = render::human(diagnostic, sources, false, 80);
        let _ = render::short(diagnostic, sources);
        let _ = render::json_value(diagnostic, sources);
        let _ = render::github(diagnostic, sources, None);
    }
    let _ = render::sarif(&items, sources, None);
    let _ = render::summary(&items);
    Ok(items.len())
}

fn describe(diagnostic: &Diagnostic) -> String {
    format!("{} `{}`", diagnostic.code.id(), diagnostic.message.chars().take(200).collect::<String>())
}

/// A span must name a registered file and lie inside its text, on character boundaries.
pub fn check_span(span: Span, sources: &Sources) -> Result<(), String> {
    let Some(file) = sources.get(span.file) else {
        return Err(format!("span {span:?} names no registered file"));
    };
    within(&file.text, span.range()).map_err(|e| format!("{e} of {}", file.display))
}

/// `range` lies inside `text` (start <= end <= len) on character boundaries.
pub fn within(text: &str, range: Range<usize>) -> Result<(), String> {
    let ok = range.start <= range.end
        && range.end <= text.len()
        && text.is_char_boundary(range.start)
        && text.is_char_boundary(range.end);
    if ok { Ok(()) } else { Err(format!("span {range:?} is not a character range of the {} bytes", text.len())) }
}

/// Compose interpolation on one string: every offset it reports lies inside the input.
pub fn interpolation(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let lookup = |name: &str| match name {
        "SET" => Some("value".to_string()),
        "EMPTY" => Some(String::new()),
        "LONG" => Some("x".repeat(64)),
        _ => None,
    };
    match interpolate::interpolate(&text, &lookup) {
        Ok(done) => done.unset.into_iter().try_for_each(|(_, at)| within(&text, at)),
        Err(
            InterpolationError::Required { at, .. }
            | InterpolationError::Syntax { at, .. }
            | InterpolationError::TooLarge { at },
        ) => within(&text, at),
    }
}

/// The Dockerfile parser and stage resolution: every span in the tree lies inside the text,
/// and every typed view can be built.
pub fn dockerfile(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let parsed = dockerfile::parse(&text);
    let mut spans: Vec<Range<usize>> = Vec::new();
    for problem in parsed.errors.iter().chain(&parsed.warnings) {
        spans.push(problem.span.clone());
    }
    for directive in &parsed.directives {
        spans.extend([directive.span.clone(), directive.value_span.clone()]);
    }
    spans.extend(parsed.trailing_comments.iter().map(|c| c.span.clone()));
    for instruction in &parsed.instructions {
        instruction_spans(instruction, parsed.escape, &mut spans);
    }
    let stages = dockerfile::stages(&parsed);
    for stage in &stages.stages {
        spans.extend([stage.span.clone(), stage.base_span.clone()]);
        spans.extend(stage.name_span.clone());
        if stage.instructions.end > parsed.instructions.len() {
            return Err(format!("stage {} has instructions {:?}", stage.index, stage.instructions));
        }
    }
    let _ = stages.target(None);
    for range in spans {
        within(&text, range)?;
    }
    Ok(())
}

fn instruction_spans(instruction: &Instruction, escape: char, spans: &mut Vec<Range<usize>>) {
    spans.extend([instruction.span.clone(), instruction.keyword_span.clone()]);
    for flag in &instruction.flags {
        spans.push(flag.span.clone());
        spans.extend(flag.value_span.clone());
    }
    for heredoc in &instruction.heredocs {
        spans.extend([heredoc.span.clone(), heredoc.body_span.clone()]);
    }
    for comment in instruction.comments_before.iter().chain(&instruction.comments_inside) {
        spans.push(comment.span.clone());
    }
    args_spans(&instruction.args, escape, spans);
    if let Some(trigger) = &instruction.onbuild {
        instruction_spans(trigger, escape, spans);
    }
    // The typed views are what later stages use; building them must not panic either.
    let _ = instruction.as_from();
    let _ = instruction.as_arg();
    let _ = instruction.as_env();
    let _ = instruction.as_label();
    for port in instruction.as_expose().unwrap_or_default() {
        let _ = dockerfile::parse_port_spec(&port.text);
    }
    let _ = instruction.as_user();
    let _ = instruction.as_workdir();
    let _ = instruction.as_stopsignal();
    let _ = instruction.as_maintainer();
    let _ = instruction.as_volume();
    let _ = instruction.as_command();
    let _ = instruction.as_shell();
    let _ = instruction.as_healthcheck();
    let _ = instruction.as_copy();
    let _ = instruction.as_run();
    let _ = instruction.as_onbuild();
}

fn args_spans(args: &Args, escape: char, spans: &mut Vec<Range<usize>>) {
    let mut word = |w: &Word| {
        spans.push(w.span.clone());
        let _ = dockerfile::references(&w.text, escape);
        let _ = dockerfile::unquote(&w.text, escape);
        let _ = dockerfile::substitute(&w.text, escape, &|name| (name == "SET").then(|| "value".to_string()));
    };
    match args {
        Args::None => {}
        Args::Json(words) | Args::Words(words) => words.iter().for_each(word),
        Args::Shell(w) | Args::Text(w) => word(w),
        Args::Healthcheck { mode, command } => {
            word(mode);
            if let Some(command) = command {
                args_spans(command, escape, spans);
            }
        }
    }
}
