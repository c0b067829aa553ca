//! The variables a project is interpolated with: the project's `.env` (or `--env-file`s),
//! overridden by the shell environment, as in Compose.

use std::collections::BTreeMap;
use std::path::Path;

use super::interpolate::{self, InterpolationError};
use super::node::{Node, Value};
use super::{Options, dotenv};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Sources, Span};

#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn new(vars: BTreeMap<String, String>) -> Environment {
        Environment { vars }
    }

    pub fn load(options: &Options, directory: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Environment {
        let mut vars = BTreeMap::new();
        let explicit = !options.env_files.is_empty();
        let files: Vec<_> = if explicit {
            options.env_files.iter().map(|f| options.working_dir.join(f)).collect()
        } else {
            vec![directory.join(".env")]
        };
        for path in files {
            if !explicit && !path.is_file() {
                continue;
            }
            let shell = &options.shell;
            let lookup = |name: &str| shell.get(name).cloned();
            for (key, value) in read_env_file(&path, &lookup, sources, diags).unwrap_or_default() {
                vars.insert(key, value);
            }
        }
        vars.extend(options.shell.iter().map(|(k, v)| (k.clone(), v.clone())));
        Environment { vars }
    }

    /// The environment with `name` set to `value`.
    pub fn with(mut self, name: &str, value: String) -> Environment {
        self.vars.insert(name.to_string(), value);
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// Interpolates every string value (never keys) in place. Spans stay those of the
    /// original scalars, so later problems still point at what the user wrote.
    pub fn interpolate_tree(&self, node: &mut Node, diags: &mut Diagnostics) {
        match &mut node.value {
            Value::Str(text) if interpolate::has_variables(text) => {
                if let Some(value) = self.interpolate(text, node.span, diags) {
                    *text = value;
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|item| self.interpolate_tree(item, diags)),
            Value::Map(map) => map.entries.iter_mut().for_each(|e| self.interpolate_tree(&mut e.value, diags)),
            _ => {}
        }
    }

    /// One string; reports problems at `span` and returns `None` on errors.
    pub fn interpolate(&self, text: &str, span: Span, diags: &mut Diagnostics) -> Option<String> {
        let lookup = |name: &str| self.vars.get(name).cloned();
        match interpolate::interpolate(text, &lookup) {
            Ok(done) => {
                for (name, at) in done.unset {
                    diags.push(
                        Diagnostic::new(Code::UnsetVariable, format!("variable `{name}` is not set; using \"\""))
                            .at(inner_span(span, text, at), "unset")
                            .help(format!("set {name} in the environment or .env, or write ${{{name}:-default}}")),
                    );
                }
                Some(done.value)
            }
            Err(InterpolationError::Required { name, message, at }) => {
                let shown = if message.is_empty() { format!("required variable `{name}` is not set") } else { message };
                diags.push(
                    Diagnostic::new(Code::InterpolationRequired, shown)
                        .at(inner_span(span, text, at), format!("`{name}` is required here"))
                        .help(format!("set {name} in the environment or in .env")),
                );
                None
            }
            Err(InterpolationError::Syntax { message, at }) => {
                diags.push(
                    Diagnostic::new(Code::InterpolationSyntax, format!("invalid interpolation: {message}"))
                        .at(inner_span(span, text, at), "here")
                        .help("write `$$` for a literal `$`"),
                );
                None
            }
        }
    }
}

/// Narrows a scalar's span to the part of its text at `at`, when the scalar is written
/// verbatim in the file (plain, one line); otherwise the whole scalar is the best place.
fn inner_span(span: Span, text: &str, at: std::ops::Range<usize>) -> Span {
    let len = (span.end - span.start) as usize;
    if len == text.len() { span.sub(at) } else { span }
}

/// Reads a `.env`-format file into `(key, value)` pairs; bare keys take the environment's
/// value or are skipped.
pub fn read_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, String)>> {
    let (file, text) = super::read_source(path, sources, diags)?;
    parse_env_text(file, &text, lookup, diags)
}

pub fn parse_env_text(
    file: FileId,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, String)>> {
    match dotenv::parse(text, lookup) {
        Ok(entries) => Some(
            entries
                .into_iter()
                .filter_map(|e| {
                    let value = e.value.or_else(|| lookup(&e.key))?;
                    Some((e.key, value))
                })
                .collect(),
        ),
        Err(error) => {
            diags.push(
                Diagnostic::new(Code::DotenvSyntax, error.message)
                    .at(Span::new(file, error.span.start, error.span.end), "this line")
                    .help("write KEY=VALUE; quote values that contain spaces or `#`"),
            );
            None
        }
    }
}
