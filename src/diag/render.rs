//! Turning diagnostics into text: `human` (miette's graphical report), `short` and `json`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceFile, Sources};

/// One diagnostic seen through miette: the source file, its labels, help and code.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    /// Labels in the primary file; labels in other files become related reports.
    labels: Vec<&'a Label>,
    source: Option<FileSource<'a>>,
    related: Vec<Related<'a>>,
    /// Where the problem is, when its lines are too long to quote and `source` is left out.
    unquoted_at: Option<String>,
}

/// Lines longer than this (in bytes) are not quoted: miette pads its underlines with
/// `{:width$}`, which panics past 65,535 columns, and a huge line helps nobody anyway.
const MAX_QUOTED_LINE: usize = 4096;

/// A secondary place in another file, shown under the main report.
struct Related<'a> {
    label: &'a Label,
    source: FileSource<'a>,
}

/// A source file as miette reads it. miette's own implementations scan the text from the
/// start for every report; this one uses the file's line table, so reporting many problems
/// in a large file stays linear.
struct FileSource<'a> {
    file: &'a SourceFile,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let text = self.file.text.as_bytes();
        let end = (span.offset() + span.len()).min(text.len());
        let first_line = self.file.line_index(span.offset()).saturating_sub(context_lines_before);
        let last_line = self.file.line_index(end) + context_lines_after + 1;
        let base = self.file.line_start(first_line);
        let window = text.get(base..self.file.line_start(last_line)).ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset().saturating_sub(base)).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let data: &'b [u8] = inner.data();
        let shifted = SourceSpan::new((inner.span().offset() + base).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.display.clone(),
            data,
            shifted,
            inner.line() + first_line,
            inner.column(),
            inner.line_count() + first_line,
        )))
    }
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, sources: &'a Sources) -> Report<'a> {
        let file = diagnostic.primary.as_ref().map(|l| l.span.file);
        let all = diagnostic.primary.iter().chain(&diagnostic.secondary);
        let (labels, others): (Vec<&Label>, Vec<&Label>) = all.partition(|l| Some(l.span.file) == file);
        let related = others
            .into_iter()
            .filter_map(|label| Some(Related { label, source: named_source(sources, label)? }))
            .collect();
        let source = diagnostic.primary.as_ref().and_then(|l| named_source(sources, l));
        Report { diagnostic, labels, source, related, unquoted_at: None }
    }

    /// Drops the quoted source when some label's lines (with the line of context miette
    /// shows around them) are too long, and names the place in the message instead.
    fn without_long_lines(mut self, sources: &Sources) -> Report<'a> {
        let all = self.diagnostic.primary.iter().chain(&self.diagnostic.secondary);
        if all.filter_map(|l| Some((sources.get(l.span.file)?, l))).all(|(f, l)| quotable(f, l)) {
            return self;
        }
        self.source = None;
        self.related.clear();
        self.unquoted_at = self.diagnostic.primary.as_ref().and_then(|l| place(l, sources));
        self
    }
}

fn quotable(file: &SourceFile, label: &Label) -> bool {
    let first = file.line_index(label.span.start as usize).saturating_sub(1);
    let last = file.line_index(label.span.end as usize) + 1;
    (first..=last).all(|line| file.line_start(line + 1) - file.line_start(line) <= MAX_QUOTED_LINE)
}

fn named_source<'a>(sources: &'a Sources, label: &Label) -> Option<FileSource<'a>> {
    Some(FileSource { file: sources.get(label.span.file)? })
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from(label.span.range());
    let text = (!label.text.is_empty()).then(|| label.text.clone());
    if primary { LabeledSpan::new_primary_with_span(text, span) } else { LabeledSpan::new_with_span(text, span) }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)?;
        match &self.unquoted_at {
            Some(place) => write!(f, "\nat {place} (the line is too long to show)"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let code = self.diagnostic.code;
        Some(Box::new(format!("{}({})", code.id(), code.name())))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let primary = self.diagnostic.primary.as_ref();
        Some(Box::new(self.labels.iter().map(move |l| labeled(l, Some(*l) == primary))))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

impl fmt::Debug for Related<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.text)
    }
}

impl fmt::Display for Related<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.text)
    }
}

impl std::error::Error for Related<'_> {}

impl miette::Diagnostic for Related<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(labeled(self.label, false))))
    }
}

/// miette's graphical report. `color` only on a terminal without `NO_COLOR`; `width` fixed in
/// tests so snapshots do not depend on the terminal.
pub fn human(diagnostic: &Diagnostic, sources: &Sources, color: bool, width: usize) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // Names hold hyphens and slashes (`pgdata-db-0`, `kompile.dev/network-x`): split there,
    // or inside a word longer than the line, they cannot be copied; so lines break at spaces
    // only, and a long word runs over.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
        .with_links(false);
    let mut out = String::new();
    let report = Report::new(diagnostic, sources).without_long_lines(sources);
    if handler.render_report(&mut out, &report).is_err() {
        return short(diagnostic, sources);
    }
    out
}

/// `file:line:col: severity[CODE]: message`, one line, for editors and grep.
pub fn short(diagnostic: &Diagnostic, sources: &Sources) -> String {
    let place = diagnostic.primary.as_ref().and_then(|l| place(l, sources)).map(|p| p + ": ").unwrap_or_default();
    let severity = diagnostic.severity.word();
    format!("{place}{severity}[{}]: {}", diagnostic.code.id(), diagnostic.message)
}

/// `file:line:col` of a label's start.
fn place(label: &Label, sources: &Sources) -> Option<String> {
    let file = sources.get(label.span.file)?;
    let (line, col) = file.line_col(label.span.start as usize);
    Some(format!("{}:{line}:{col}", file.display))
}

#[derive(Serialize)]
struct JsonLocation {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    byte_start: u32,
    byte_end: u32,
    label: String,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: String,
    location: Option<JsonLocation>,
    related: Vec<JsonLocation>,
    help: Option<String>,
}

fn json_location(label: &Label, sources: &Sources) -> Option<JsonLocation> {
    let file = sources.get(label.span.file)?;
    let (line, column) = file.line_col(label.span.start as usize);
    let (end_line, end_column) = file.line_col(label.span.end as usize);
    Some(JsonLocation {
        file: file.display.clone(),
        line,
        column,
        end_line,
        end_column,
        byte_start: label.span.start,
        byte_end: label.span.end,
        label: label.text.clone(),
    })
}

/// The stable JSON form of one diagnostic (documented in docs/diagnostics-json.md).
pub fn json_value(diagnostic: &Diagnostic, sources: &Sources) -> serde_json::Value {
    let value = JsonDiagnostic {
        code: diagnostic.code.id(),
        name: diagnostic.code.name(),
        severity: diagnostic.severity,
        message: diagnostic.message.clone(),
        location: diagnostic.primary.as_ref().and_then(|l| json_location(l, sources)),
        related: diagnostic.secondary.iter().filter_map(|l| json_location(l, sources)).collect(),
        help: diagnostic.help.clone(),
    };
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// "2 errors, 1 warning" style summary; notes are counted only when there are some.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let count = |severity: Severity| diagnostics.iter().filter(|d| d.severity == severity).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text =
        format!("{}, {}", plural(count(Severity::Error), "error"), plural(count(Severity::Warning), "warning"));
    let notes = count(Severity::Note);
    if notes > 0 {
        text.push_str(&format!(", {}", plural(notes, "note")));
    }
    text
}

/// A GitHub Actions workflow command, so the problem shows on the pull request's diff. A
/// place outside the repository cannot be annotated there; it leads the message instead.
pub fn github(diagnostic: &Diagnostic, sources: &Sources, paths: Option<&RepositoryPaths>) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut properties =
        vec![format!("title={}", escape_property(&format!("{} {}", diagnostic.code.id(), diagnostic.code.name())))];
    let mut message = diagnostic.message.clone();
    match diagnostic.primary.as_ref().and_then(|l| repository_location(l, sources, paths)) {
        Some(RepositoryPlace::Inside(location)) => {
            properties.insert(0, format!("file={}", escape_property(&location.file)));
            properties.insert(1, format!("line={},endLine={}", location.line, location.end_line));
            properties.insert(2, format!("col={},endColumn={}", location.column, location.end_column));
        }
        Some(RepositoryPlace::Outside(l)) => message = format!("{}:{}:{}: {message}", l.file, l.line, l.column),
        None => {}
    }
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!("::{command} {}::{}", properties.join(","), escape_data(&message))
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A SARIF 2.1.0 log of all diagnostics, for code-scanning uploads; `paths` as for [`github`].
pub fn sarif(diagnostics: &[Diagnostic], sources: &Sources, paths: Option<&RepositoryPaths>) -> serde_json::Value {
    let mut codes: Vec<_> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|code| {
            serde_json::json!({
                "id": code.id(),
                "name": code.name(),
                "shortDescription": { "text": code.summary() },
                "help": { "text": format!("Run `kompile explain {}` for details.", code.id()) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics.iter().map(|d| sarif_result(d, sources, paths)).collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "kompile", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}

fn sarif_result(diagnostic: &Diagnostic, sources: &Sources, paths: Option<&RepositoryPaths>) -> serde_json::Value {
    let level = diagnostic.severity.word();
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let place = |l: &Label| repository_location(l, sources, paths);
    let locations: Vec<serde_json::Value> =
        diagnostic.primary.iter().filter_map(place).map(|p| sarif_location(&p)).collect();
    let related: Vec<serde_json::Value> = diagnostic
        .secondary
        .iter()
        .filter_map(place)
        .enumerate()
        .map(|(id, p)| {
            let mut location = sarif_location(&p);
            location["id"] = serde_json::json!(id);
            location
        })
        .collect();
    let mut result = serde_json::json!({
        "ruleId": diagnostic.code.id(),
        "level": level,
        "message": { "text": text },
        "locations": locations,
    });
    if !related.is_empty() {
        result["relatedLocations"] = serde_json::Value::Array(related);
    }
    result
}

/// A SARIF `location`; the label's text, when it has one, is its message.
fn sarif_location(place: &RepositoryPlace) -> serde_json::Value {
    let (uri, l) = sarif_uri(place);
    let mut location = serde_json::json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri },
            "region": {
                "startLine": l.line, "startColumn": l.column,
                "endLine": l.end_line, "endColumn": l.end_column,
            },
        },
    });
    if !l.label.is_empty() {
        location["message"] = serde_json::json!({ "text": l.label });
    }
    location
}

/// Where a label's file is for GitHub: relative to the repository root (`/`-separated), or
/// outside it.
enum RepositoryPlace {
    Inside(JsonLocation),
    Outside(JsonLocation),
}

/// How `check --format github|sarif` names each source file: relative to `root`, the git
/// repository `check` runs in (else the directory it runs in), as GitHub annotations and code
/// scanning want it whatever subdirectory that is; or, outside it, by its canonical path.
/// `check` builds it, reading the file system once per file; rendering reads nothing. A file
/// missing here (standard input) has no place to point at.
#[derive(Debug, Default)]
pub struct RepositoryPaths {
    paths: HashMap<FileId, (String, bool)>,
}

impl RepositoryPaths {
    /// From each file's canonical path.
    pub fn new<'a>(root: &Path, canonical: impl IntoIterator<Item = (FileId, &'a Path)>) -> RepositoryPaths {
        let place = |path: &Path| match path.strip_prefix(root) {
            Ok(relative) => (slashed(relative), true),
            Err(_) => (slashed(path), false),
        };
        RepositoryPaths { paths: canonical.into_iter().map(|(id, path)| (id, place(path))).collect() }
    }
}

/// [`json_location`] with its file as `paths` names it. Without `paths` (library use) the file
/// stays as diagnostics show it.
fn repository_location(label: &Label, sources: &Sources, paths: Option<&RepositoryPaths>) -> Option<RepositoryPlace> {
    let mut location = json_location(label, sources)?;
    let Some(paths) = paths else { return Some(RepositoryPlace::Inside(location)) };
    let (file, inside) = paths.paths.get(&label.span.file)?;
    location.file = file.clone();
    Some(if *inside { RepositoryPlace::Inside(location) } else { RepositoryPlace::Outside(location) })
}

/// `path` with `/` between its parts on every platform; an absolute path keeps its root.
fn slashed(path: &Path) -> String {
    let mut text = String::new();
    for part in path.components() {
        if !text.is_empty() && !text.ends_with('/') {
            text.push('/');
        }
        match part {
            Component::RootDir => text.push('/'),
            other => text.push_str(&other.as_os_str().to_string_lossy()),
        }
    }
    text
}

/// What a URI may not hold raw (RFC 3986): controls, space and the delimiters that are not
/// path characters; `/` stays, so the path keeps its shape. Non-ASCII is encoded as UTF-8.
const URI_ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// In a relative reference a `:` in the first segment would read as a scheme (`a:b/x.yaml`).
const RELATIVE_ESCAPED: &AsciiSet = &URI_ESCAPED.add(b':');

/// A SARIF `artifactLocation.uri`: a relative reference inside the repository, a `file://`
/// URI outside it.
fn sarif_uri(place: &RepositoryPlace) -> (String, &JsonLocation) {
    match place {
        RepositoryPlace::Inside(l) => (utf8_percent_encode(&l.file, RELATIVE_ESCAPED).to_string(), l),
        RepositoryPlace::Outside(l) => {
            let path = utf8_percent_encode(l.file.trim_start_matches('/'), URI_ESCAPED);
            (format!("file:///{path}"), l)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::source::Span;

    #[test]
    fn labels_on_huge_lines_are_not_quoted() {
        let mut sources = Sources::default();
        let text = format!("services:\n  a:\n    environment:\n      {}: 1\n", "x".repeat(70_000));
        let file = sources.add(Path::new("compose.yaml"), text);
        let diagnostic = Diagnostic::new(Code::InvalidValue, "bad key").at(Span::new(file, 38, 70_038), "this key");
        // miette would panic padding a 70,000-column underline.
        let out = human(&diagnostic, &sources, false, 80);
        assert!(out.contains("bad key\n  │ at compose.yaml:4:7 (the line is too long to show)"), "{out}");
        assert!(out.len() < 1000, "the line was quoted:\n{out}");
        let next_line = Diagnostic::new(Code::InvalidValue, "near").at(Span::new(file, 10, 11), "here");
        assert!(human(&next_line, &sources, false, 80).contains("╭─[compose.yaml:2:1]"));
    }

    /// Names are not split at their hyphens, nor a word longer than the line.
    #[test]
    fn wrapping_keeps_names_whole() {
        let sources = Sources::default();
        let message = "the claim `pgdata-db-0-of-the-primary` is kept when the volume goes";
        let diagnostic =
            Diagnostic::new(Code::InvalidValue, message).help("delete `pgdata-db-0-of-the-primary` by hand");
        let out = human(&diagnostic, &sources, false, 44);
        assert_eq!(out.matches("`pgdata-db-0-of-the-primary`").count(), 2, "{out}");
        let narrow = human(&diagnostic, &sources, false, 20);
        assert_eq!(narrow.matches("`pgdata-db-0-of-the-primary`").count(), 2, "{narrow}");
    }
}
