//! Turning diagnostics into text: `human` (miette's graphical report), `short` and `json`.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode,
    SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Diagnostic, Label, Severity};
use crate::source::Sources;

/// One diagnostic seen through miette: the source file, its labels, help and code.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    /// Labels in the primary file; labels in other files become related reports.
    labels: Vec<&'a Label>,
    source: Option<NamedSource<Text>>,
    related: Vec<Related<'a>>,
}

/// A secondary place in another file, shown under the main report.
struct Related<'a> {
    label: &'a Label,
    source: NamedSource<Text>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, sources: &Sources) -> Report<'a> {
        let file = diagnostic.primary.as_ref().map(|l| l.span.file);
        let all = diagnostic.primary.iter().chain(&diagnostic.secondary);
        let (labels, others): (Vec<&Label>, Vec<&Label>) = all.partition(|l| Some(l.span.file) == file);
        let related = others
            .into_iter()
            .filter_map(|label| Some(Related { label, source: named_source(sources, label)? }))
            .collect();
        let source = diagnostic.primary.as_ref().and_then(|l| named_source(sources, l));
        Report { diagnostic, labels, source, related }
    }
}

fn named_source(sources: &Sources, label: &Label) -> Option<NamedSource<Text>> {
    let file = sources.get(label.span.file)?;
    let text = Text { text: file.text.clone(), line_starts: file.line_starts().cloned() };
    Some(NamedSource::new(file.display.clone(), text).with_language("yaml"))
}

/// A file's text for miette, shared rather than copied per diagnostic.
///
/// miette's own `SourceCode for str` scans from the start of the file on every call, which
/// made reports on large projects quadratic (hundreds of warnings × megabytes of YAML). With
/// the line index this hands miette only the text from a few lines above the span onwards
/// and shifts the result back: miette's scan is the same from any line start, except that
/// offsets and line numbers are relative to where it began.
#[derive(Debug)]
struct Text {
    text: Arc<str>,
    /// `None` when miette's notion of lines differs from the index (lone `\r`): scan it all.
    line_starts: Option<Arc<[u32]>>,
}

impl SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let whole = self.text.as_bytes();
        let Some(starts) = &self.line_starts else {
            return whole.read_span(span, context_lines_before, context_lines_after);
        };
        // Lines that start at or before the span (the first always starts at 0): begin
        // `context_lines_before` lines above the span's line, so miette sees every context
        // line it would have seen from the top of the file.
        let above = starts.partition_point(|&s| s as usize <= span.offset()) - 1;
        let first = above.saturating_sub(context_lines_before);
        let base = starts[first] as usize;
        if base == 0 {
            return whole.read_span(span, context_lines_before, context_lines_after);
        }
        let local = SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = whole[base..].read_span(&local, context_lines_before, context_lines_after)?;
        let shifted = SourceSpan::new((inner.span().offset() + base).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            shifted,
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
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
        f.write_str(&self.diagnostic.message)
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
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let mut out = String::new();
    let report = Report::new(diagnostic, sources);
    if handler.render_report(&mut out, &report).is_err() {
        return short(diagnostic, sources);
    }
    out
}

/// `file:line:col: severity[CODE]: message`, one line, for editors and grep.
pub fn short(diagnostic: &Diagnostic, sources: &Sources) -> String {
    let place = diagnostic
        .primary
        .as_ref()
        .and_then(|l| {
            let file = sources.get(l.span.file)?;
            let (line, col) = file.line_col(l.span.start as usize);
            Some(format!("{}:{line}:{col}: ", file.display))
        })
        .unwrap_or_default();
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!("{place}{severity}[{}]: {}", diagnostic.code.id(), diagnostic.message)
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

/// "2 errors, 1 warning" style summary.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}
