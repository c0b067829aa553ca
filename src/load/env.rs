//! The variables a project is interpolated with: the project's `.env` (or `--env-file`s),
//! overridden by the shell environment, as in Compose.

use std::collections::BTreeMap;
use std::path::Path;

use super::interpolate::{self, InterpolationError, MAX_VALUE_BYTES};
use super::node::{Node, Value};
use super::{Options, dotenv};
use crate::diag::{Code, Diagnostic, Diagnostics, thousands};
use crate::source::{FileId, Sources, Span};

/// How much interpolation may grow one compose file's values in all: each value is
/// bounded, but a file can repeat a large variable many times.
const MAX_TREE_BYTES: usize = 64 << 20;

fn too_large(at: Span, message: String) -> Diagnostic {
    Diagnostic::new(Code::ExpansionLimit, message)
        .at(at, "expanded here")
        .help("variables that repeat each other grow without bound; use each large value once")
}

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

    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// Interpolates every string value (never keys) in place. Spans stay those of the
    /// original scalars, so later problems still point at what the user wrote. `source`
    /// is the text of the file the tree was parsed from.
    pub fn interpolate_tree(&self, node: &mut Node, source: &str, diags: &mut Diagnostics) {
        let mut budget = MAX_TREE_BYTES;
        self.interpolate_within(node, source, &mut budget, diags);
    }

    /// [`Self::interpolate_tree`] with what is left of the file's `budget`: once the values
    /// grown by interpolation exceed it, the rest stay as written and one K016 is reported.
    fn interpolate_within(&self, node: &mut Node, source: &str, budget: &mut usize, diags: &mut Diagnostics) {
        match &mut node.value {
            Value::Str(text) if interpolate::has_variables(text) && *budget > 0 => {
                let written = source.get(node.span.range()).unwrap_or_default();
                let Some(value) = self.interpolate(text, node.span, written, diags) else { return };
                let grown = value.len().saturating_sub(text.len());
                if grown > *budget {
                    *budget = 0;
                    diags.push(too_large(
                        node.span,
                        format!("variables in this file expand to more than {} MiB in all", MAX_TREE_BYTES >> 20),
                    ));
                    return;
                }
                *budget -= grown;
                // Judged on the text as written, before it is replaced.
                node.interpolated = interpolate::is_one_expression(text)
                    || text.split_once('=').is_some_and(|(_, v)| interpolate::is_one_expression(v));
                *text = value;
            }
            Value::Seq(items) => items.iter_mut().for_each(|item| self.interpolate_within(item, source, budget, diags)),
            Value::Map(map) => {
                map.entries.iter_mut().for_each(|e| self.interpolate_within(&mut e.value, source, budget, diags))
            }
            _ => {}
        }
    }

    /// "did you mean" when a defined variable is spelt almost the same.
    fn unset_help(&self, name: &str) -> String {
        match crate::suggest::closest(name, self.vars.keys().map(String::as_str)) {
            Some(known) => format!("did you mean `{known}`? It is set; `{name}` is not"),
            None => format!("set {name} in the environment or .env, or write ${{{name}:-default}}"),
        }
    }

    /// One string; reports problems at `span`, whose source text is `written` ("" when
    /// unknown), and returns `None` on errors.
    pub fn interpolate(&self, text: &str, span: Span, written: &str, diags: &mut Diagnostics) -> Option<String> {
        let lookup = |name: &str| self.vars.get(name).cloned();
        match interpolate::interpolate(text, &lookup) {
            Ok(done) => {
                for (name, at, uses) in first_uses(done.unset) {
                    let times = if uses > 1 {
                        format!(" (used {} times in this value)", thousands(uses))
                    } else {
                        String::new()
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::UnsetVariable,
                            format!("variable `{name}` is not set; using \"\"{times}"),
                        )
                        .at(inner_span(span, written, text, at), "unset")
                        .help(self.unset_help(&name)),
                    );
                }
                Some(done.value)
            }
            Err(InterpolationError::Required { name, message, at }) => {
                let shown = if message.is_empty() { format!("required variable `{name}` is not set") } else { message };
                diags.push(
                    Diagnostic::new(Code::InterpolationRequired, shown)
                        .at(inner_span(span, written, text, at), format!("`{name}` is required here"))
                        .help(format!("set {name} in the environment or in .env")),
                );
                None
            }
            Err(InterpolationError::TooLarge { at }) => {
                let at = inner_span(span, written, text, at);
                diags.push(too_large(at, format!("this value expands to more than {} MiB", MAX_VALUE_BYTES >> 20)));
                None
            }
            Err(InterpolationError::Syntax { message, at }) => {
                diags.push(
                    Diagnostic::new(Code::InterpolationSyntax, format!("invalid interpolation: {message}"))
                        .at(inner_span(span, written, text, at), "in this expression")
                        .help("write `$$` for a literal `$`"),
                );
                None
            }
        }
    }
}

/// Each unset variable once, in order of first use: its first place and how often the
/// value uses it. `$a$a$a…` is one problem, not one per `$a`.
fn first_uses(unset: Vec<(String, std::ops::Range<usize>)>) -> Vec<(String, std::ops::Range<usize>, usize)> {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut found: Vec<(String, std::ops::Range<usize>, usize)> = Vec::new();
    for (name, at) in unset {
        match index.get(&name) {
            Some(&i) => found.get_mut(i).into_iter().for_each(|entry| entry.2 += 1),
            None => {
                index.insert(name.clone(), found.len());
                found.push((name, at, 1));
            }
        }
    }
    found
}

/// Narrows a scalar's span to the part of its text at `at`, when the scalar is written
/// verbatim in the file (plain, or quoted without escapes); otherwise the whole scalar is
/// the best place.
fn inner_span(span: Span, written: &str, text: &str, at: std::ops::Range<usize>) -> Span {
    if written == text {
        return span.sub(at);
    }
    let quoted = ['"', '\''].into_iter().any(|q| {
        written.len() == text.len() + 2
            && written.starts_with(q)
            && written.ends_with(q)
            && written[1..written.len() - 1] == *text
    });
    if quoted { span.sub(at.start + 1..at.end + 1) } else { span }
}

/// Reads a `.env`-format file into `(key, value)` pairs; bare keys take the environment's
/// value or are skipped.
pub fn read_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, String)>> {
    let (file, text) = read_env_source(path, Span::NONE, sources, diags)?;
    parse_env_text(file, &text, lookup, diags)
}

/// Reads an env file and registers it with its values masked (`KEY=*****`): diagnostics
/// show lines around the one they point at, and those lines may hold passwords. Offsets
/// are unchanged, so spans into the file stay right.
pub(super) fn read_env_source(
    path: &Path,
    from: Span,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(FileId, String)> {
    super::read_source_shown(path, from, sources, diags, dotenv::redact)
}

/// The diagnostic for a malformed env file line; its message holds no value.
pub(super) fn env_error(file: FileId, error: dotenv::DotenvError) -> Diagnostic {
    let span = Span::new(file, error.span.start, error.span.end);
    if error.too_large {
        return too_large(span, error.message);
    }
    Diagnostic::new(Code::DotenvSyntax, error.message)
        .at(span, "this line")
        .help("write KEY=VALUE; quote values that contain spaces or `#`")
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
            diags.push(env_error(file, error));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unset_messages(text: &str) -> Vec<String> {
        let mut diags = Diagnostics::default();
        Environment::default().interpolate(text, Span::NONE, "", &mut diags);
        diags.into_items().into_iter().filter(|d| d.code == Code::UnsetVariable).map(|d| d.message).collect()
    }

    /// `$a` used 1,500 times in one value is one problem with a count, not 1,500 problems.
    #[test]
    fn each_unset_variable_once_per_value_with_a_count() {
        let text = format!("{}${{b}}$a", "$a".repeat(1_499));
        assert_eq!(
            unset_messages(&text),
            [
                "variable `a` is not set; using \"\" (used 1,500 times in this value)",
                "variable `b` is not set; using \"\""
            ]
        );
    }

    /// The codes interpolating `values` (one scalar each) reports, with `BIG` set to
    /// `big` bytes.
    fn codes(big: usize, values: &[&str]) -> Vec<Code> {
        let environment = Environment::new(BTreeMap::from([("BIG".to_string(), "x".repeat(big))]));
        let items = values.iter().map(|v| Node::str(v.to_string(), Span::NONE)).collect();
        let mut tree = Node::new(Value::Seq(items), Span::NONE);
        let mut diags = Diagnostics::default();
        environment.interpolate_tree(&mut tree, "", &mut diags);
        diags.into_items().iter().map(|d| d.code).collect()
    }

    #[test]
    fn one_value_is_bounded() {
        assert_eq!(codes(600 << 10, &["${BIG}${BIG}"]), [Code::ExpansionLimit]);
        assert_eq!(codes(600 << 10, &["${BIG}"]), [], "under the limit");
    }

    #[test]
    fn a_file_is_bounded_in_all_and_reported_once() {
        assert_eq!(codes(1 << 20, &["$BIG"; 100]), [Code::ExpansionLimit]);
        assert_eq!(codes(1 << 20, &["$BIG"; 60]), [], "under the limit");
    }
}
