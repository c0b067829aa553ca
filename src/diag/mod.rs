//! Diagnostics: every problem kompile reports, with a stable code, a place and help.

mod codes;
pub mod explain;
pub mod levels;
pub mod render;

pub use codes::{Code, Silence, Silences};

use std::collections::BTreeMap;

use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// What kompile decided that the user should know (a port learned from a config file,
    /// a port kept internal): printed, never fails a run, not raised by `--deny warnings`.
    Note,
}

impl Severity {
    /// As diagnostics print it: `error`, `warning`, `note`.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` for problems with no place (e.g. no compose file found).
    pub primary: Option<Label>,
    /// Other places that explain it (the first definition of a duplicate, an override file).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// The hadolint rule this diagnostic is the twin of, where its code stands for several
    /// (K309: DL3008 for apt, DL3013 for pip, DL3018 for apk), so that ignoring one rule
    /// silences only its part of the code. `None`: any rule of the code; `Some(0)`: none, a
    /// part of the code hadolint lacks. Kept as the rule's number (3008 for DL3008) so that a
    /// diagnostic stays small.
    pub rule: Option<u16>,
}

impl Diagnostic {
    /// A diagnostic at the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            rule: None,
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        if !span.is_none() {
            self.primary = Some(Label { span, text: label.into() });
        }
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        if !span.is_none() {
            self.secondary.push(Label { span, text: label.into() });
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Marks a part of a code that no hadolint rule checks (K317's casing), so that ignoring
    /// the code's hadolint rules leaves it.
    pub fn no_hadolint_twin(mut self) -> Diagnostic {
        self.rule = Some(0);
        self
    }

    /// Names the hadolint rule (`DL3008`) this diagnostic is the twin of ([`Diagnostic::rule`]).
    pub fn rule(mut self, rule: &str) -> Diagnostic {
        self.rule = rule_number(rule);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `DL3008` → 3008, in any case; `None` for anything else.
pub fn rule_number(rule: &str) -> Option<u16> {
    let digits = rule.get(..2).filter(|p| p.eq_ignore_ascii_case("DL")).and(rule.get(2..))?;
    digits.parse().ok()
}

/// At most this many diagnostics of one code are kept; past it they are only counted.
pub const MAX_PER_CODE: usize = 1_000;
/// At most this many diagnostics are kept in all.
pub const MAX_TOTAL: usize = 10_000;

/// Collects diagnostics from every stage; stages keep going after a problem where they can,
/// so one run reports everything. Hostile input can hold millions of problems, so past
/// [`MAX_PER_CODE`] of a code or [`MAX_TOTAL`] in all they are counted, not kept, and
/// [`Diagnostics::sorted`] ends with one placeless diagnostic per code saying how many were
/// left out. That summary has the code it counts, so `--allow`, `--deny` and the exit code
/// treat it as they treat the diagnostics it stands for.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// How many of each code `items` holds, so the cap needs no scan.
    kept: BTreeMap<Code, usize>,
    /// Per code, the diagnostics past the caps: how many, and the highest severity among them.
    left_out: BTreeMap<Code, (usize, Severity)>,
    /// Set for collections that are filtered before they are merged (comments that silence a
    /// Dockerfile warning): a diagnostic counted before the filter could not be taken back.
    uncapped: bool,
}

impl Diagnostics {
    /// A collection without the caps, for diagnostics that are filtered before they are
    /// merged into a capped one. Its size is bounded by the input it was made from.
    pub fn uncapped() -> Diagnostics {
        Diagnostics { uncapped: true, ..Diagnostics::default() }
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        let kept = self.kept.entry(diagnostic.code).or_default();
        if !self.uncapped && (*kept >= MAX_PER_CODE || self.items.len() >= MAX_TOTAL) {
            self.leave_out(diagnostic.code, diagnostic.severity, 1);
            return;
        }
        *kept += 1;
        self.items.push(diagnostic);
    }

    /// Whether the next diagnostic of `code` would be kept rather than only counted: work on
    /// its text (a "did you mean" search) is wasted otherwise.
    pub fn would_keep(&self, code: Code) -> bool {
        self.uncapped
            || (self.kept.get(&code).copied().unwrap_or_default() < MAX_PER_CODE && self.items.len() < MAX_TOTAL)
    }

    fn leave_out(&mut self, code: Code, severity: Severity, count: usize) {
        let entry = self.left_out.entry(code).or_insert((0, severity));
        entry.0 += count;
        // `Error` sorts first: the minimum is the highest severity.
        entry.1 = entry.1.min(severity);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error) || self.left_out.values().any(|(_, s)| *s == Severity::Error)
    }

    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// The kept diagnostics, then one summary per code that had some left out.
    pub fn into_items(self) -> Vec<Diagnostic> {
        let summaries =
            self.left_out.iter().map(|(code, (count, severity))| left_out_summary(*code, *count, *severity));
        let summaries: Vec<Diagnostic> = summaries.collect();
        let mut items = self.items;
        items.extend(summaries);
        items
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for diagnostic in other.items {
            self.push(diagnostic);
        }
        for (code, (count, severity)) in other.left_out {
            self.leave_out(code, severity, count);
        }
    }

    /// Passes every diagnostic through `change` (which drops it with `None`, or returns it,
    /// maybe altered). Left-out counts go through as a placeless stand-in of their code and
    /// severity, so they are dropped or raised like the diagnostics they count.
    pub fn filter_map(self, mut change: impl FnMut(Diagnostic) -> Option<Diagnostic>) -> Diagnostics {
        let mut out = Diagnostics { uncapped: self.uncapped, ..Diagnostics::default() };
        for diagnostic in self.items {
            if let Some(diagnostic) = change(diagnostic) {
                out.push(diagnostic);
            }
        }
        for (code, (count, severity)) in self.left_out {
            let stand_in = Diagnostic { severity, ..Diagnostic::new(code, "") };
            if let Some(changed) = change(stand_in) {
                out.leave_out(changed.code, changed.severity, count);
            }
        }
        out
    }

    /// Sorted by file, then position, then code, placeless ones last; duplicates (same code, place and message)
    /// removed, since merged files can surface one problem twice. The summaries of what the
    /// caps left out come last.
    pub fn sorted(self) -> Vec<Diagnostic> {
        let mut items = self.items;
        items.sort_by(|a, b| {
            // Problems with no place come last: they usually sum up the ones above them.
            let key = |d: &Diagnostic| {
                (d.primary.is_none(), d.primary.as_ref().map(|l| (l.span.file, l.span.start, l.span.end)))
            };
            key(a).cmp(&key(b)).then(a.code.cmp(&b.code)).then(a.message.cmp(&b.message))
        });
        items.dedup_by(|a, b| a.code == b.code && a.primary == b.primary && a.message == b.message);
        items.extend(self.left_out.iter().map(|(code, (count, severity))| left_out_summary(*code, *count, *severity)));
        items
    }
}

/// The diagnostic that stands for `count` diagnostics of `code` the caps left out.
fn left_out_summary(code: Code, count: usize, severity: Severity) -> Diagnostic {
    let message = format!(
        "{} more {} ({}) diagnostics are not shown: kompile keeps at most {} of one code and {} in all",
        thousands(count),
        code.id(),
        code.name(),
        thousands(MAX_PER_CODE),
        thousands(MAX_TOTAL),
    );
    Diagnostic { severity, ..Diagnostic::new(code, message) }
        .help("fix the ones shown and run again, or `--allow` the code if it does not apply to this project")
}

/// `1234567` → `1,234,567`, for counts in messages.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hadolint_rule_silences_only_its_part_of_a_code() {
        assert_eq!((rule_number("DL3008"), rule_number("dl3013"), rule_number("K309")), (Some(3008), Some(3013), None));
        let pip = Diagnostic::new(Code::UnpinnedPackage, "x").rule("DL3013");
        let apt = Silence::named("DL3008");
        assert!(!apt.iter().any(|s| s.covers(&pip)));
        assert!(Silence::named("DL3013").iter().any(|s| s.covers(&pip)));
        assert!(Silence::named("K309").iter().any(|s| s.covers(&pip)), "the code silences every rule");
        // The limit clippy's result_large_err sets for errors returned by value.
        assert!(std::mem::size_of::<Diagnostic>() < 128);
    }

    fn warnings(code: Code, n: usize) -> Diagnostics {
        let mut diags = Diagnostics::default();
        for i in 0..n {
            diags.push(Diagnostic::new(code, format!("problem {i}")));
        }
        diags
    }

    #[test]
    fn thousands_separators() {
        let shown: Vec<String> = [0, 7, 999, 1_000, 99_997, 1_234_567].into_iter().map(thousands).collect();
        assert_eq!(shown, ["0", "7", "999", "1,000", "99,997", "1,234,567"]);
    }

    #[test]
    fn one_code_is_capped_with_a_summary() {
        let sorted = warnings(Code::UnpinnedPackage, MAX_PER_CODE + 250).sorted();
        assert_eq!(sorted.len(), MAX_PER_CODE + 1);
        let Some(summary) = sorted.last() else { panic!("no diagnostics") };
        assert_eq!(
            (summary.code, summary.severity, summary.primary.is_none()),
            (Code::UnpinnedPackage, Severity::Warning, true)
        );
        assert_eq!(
            summary.message,
            "250 more K309 (unpinned-package) diagnostics are not shown: kompile keeps at most 1,000 of one code and 10,000 in all"
        );
    }

    #[test]
    fn would_keep_until_the_cap() {
        let mut diags = warnings(Code::UnknownKey, MAX_PER_CODE - 1);
        assert!(diags.would_keep(Code::UnknownKey));
        diags.push(Diagnostic::new(Code::UnknownKey, "the last one kept"));
        assert!(!diags.would_keep(Code::UnknownKey));
        assert!(diags.would_keep(Code::UnpinnedImage), "other codes are still kept");
        assert!(Diagnostics::uncapped().would_keep(Code::UnknownKey));
    }

    #[test]
    fn at_the_cap_nothing_is_left_out() {
        let sorted = warnings(Code::UnsetVariable, MAX_PER_CODE).sorted();
        assert_eq!(sorted.len(), MAX_PER_CODE);
        assert!(sorted.iter().all(|d| !d.message.contains("not shown")));
    }

    #[test]
    fn the_total_is_capped_across_codes_and_merges() {
        let mut all = Diagnostics::default();
        // 12 codes × 1,000 = 12,000 pushed through `extend`: 10,000 kept, 2,000 counted.
        for code in Code::ALL.iter().take(12) {
            all.extend(warnings(*code, MAX_PER_CODE));
        }
        let sorted = all.sorted();
        let summaries: Vec<&Diagnostic> = sorted.iter().filter(|d| d.message.contains("not shown")).collect();
        assert_eq!(sorted.len() - summaries.len(), MAX_TOTAL);
        assert_eq!(summaries.len(), 2);
        assert!(summaries.iter().all(|d| d.message.starts_with("1,000 more")), "{summaries:?}");
    }

    #[test]
    fn left_out_errors_still_fail_the_run() {
        let mut diags = warnings(Code::UnknownKey, MAX_PER_CODE);
        let mut error = Diagnostic::new(Code::UnknownKey, "denied");
        error.severity = Severity::Error;
        diags.push(error);
        assert!(!diags.items().iter().any(Diagnostic::is_error));
        assert!(diags.has_errors());
        let dropped = diags.filter_map(|d| (d.code != Code::UnknownKey).then_some(d));
        assert!(!dropped.has_errors());
        assert!(dropped.sorted().is_empty());
    }

    #[test]
    fn uncapped_keeps_everything() {
        let mut diags = Diagnostics::uncapped();
        for _ in 0..MAX_PER_CODE + 1 {
            diags.push(Diagnostic::new(Code::UnpinnedPackage, "x"));
        }
        assert_eq!(diags.items().len(), MAX_PER_CODE + 1);
    }
}
