//! Severity settings: `--deny`, `--warn`, `--allow` on the command line and the same lists
//! in a top-level `x-kompile:` block of the compose file. The command line wins. The compose
//! file is read by the caller, which hands over [`ProjectLevel`]s: diagnostics come before
//! loading and know nothing of compose trees.

use std::collections::BTreeMap;

use super::{Code, Diagnostic, Diagnostics, Severity};
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Deny,
    Warn,
    Allow,
}

impl Level {
    /// Every level, in the order the `x-kompile` lists are read.
    pub const ALL: [Level; 3] = [Level::Deny, Level::Warn, Level::Allow];

    /// The `x-kompile` list of this level: `deny`, `warn` or `allow`.
    pub fn list(self) -> &'static str {
        match self {
            Level::Deny => "deny",
            Level::Warn => "warn",
            Level::Allow => "allow",
        }
    }
}

/// One entry of a project's `x-kompile` lists: the list it is in, the code as written (an id
/// or a name) and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectLevel {
    pub level: Level,
    pub code: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Levels {
    codes: BTreeMap<Code, Level>,
    /// `--deny warnings`: every warning that is not allowed counts as an error.
    deny_warnings: bool,
}

impl Levels {
    /// Parses one `--deny/--warn/--allow` value: what [`Code::matching`] reads (an id, a
    /// name, a hadolint rule), or `warnings` (only with deny). Errors explain what was wrong, for a usage error.
    pub fn set(&mut self, value: &str, level: Level) -> Result<(), String> {
        if value == "warnings" && level == Level::Deny {
            self.deny_warnings = true;
            return Ok(());
        }
        let codes = Code::matching(value);
        if codes.is_empty() {
            return Err(unknown_code(value));
        }
        if let Some(code) = codes.iter().find(|c| c.default_severity() == Severity::Error && level != Level::Deny) {
            return Err(format!("{} ({}) is an error and cannot be lowered", code.id(), code.name()));
        }
        self.codes.extend(codes.into_iter().map(|code| (code, level)));
        Ok(())
    }

    /// Settings from the project's `x-kompile: {deny: [...], warn: [...], allow: [...]}`
    /// entries, in the order they are given; entries the command line already set are kept as
    /// the command line has them.
    pub fn with_project(&self, listed: &[ProjectLevel], diags: &mut Diagnostics) -> Levels {
        let mut merged = Levels { codes: BTreeMap::new(), deny_warnings: self.deny_warnings };
        for entry in listed {
            if let Err(message) = merged.set(&entry.code, entry.level) {
                diags.push(
                    Diagnostic::new(Code::InvalidValue, format!("`x-kompile.{}`: {message}", entry.level.list()))
                        .at(entry.span, "not applied")
                        .help("list codes by id (`K101`) or name (`unknown-key`); see `kompile explain --list`"),
                );
            }
        }
        merged.codes.extend(self.codes.iter().map(|(c, l)| (*c, *l)));
        merged
    }

    /// Applies the settings: allowed diagnostics go, denied ones become errors.
    pub fn apply(&self, diags: Diagnostics) -> Diagnostics {
        diags.filter_map(|mut diagnostic| {
            match self.codes.get(&diagnostic.code) {
                Some(Level::Allow) => return None,
                Some(Level::Deny) => diagnostic.severity = Severity::Error,
                Some(Level::Warn) => diagnostic.severity = Severity::Warning,
                None if self.deny_warnings && diagnostic.severity == Severity::Warning => {
                    diagnostic.severity = Severity::Error
                }
                None => {}
            }
            Some(diagnostic)
        })
    }
}

fn unknown_code(value: &str) -> String {
    match super::explain::suggest(value) {
        Some((_, spelling)) => format!("unknown code `{value}`; did you mean `{spelling}`?"),
        None => format!("unknown code `{value}`; `kompile explain --list` lists them"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_by_id_or_name() {
        let mut levels = Levels::default();
        assert!(levels.set("K101", Level::Allow).is_ok());
        assert!(levels.set("k101", Level::Allow).is_ok());
        assert!(levels.set("unknown-key", Level::Deny).is_ok());
        assert!(levels.set("unknown-kye", Level::Deny).unwrap_err().contains("unknown-key"));
        assert!(levels.set("yaml-syntax", Level::Allow).unwrap_err().contains("cannot be lowered"));
        assert!(levels.set("warnings", Level::Allow).is_err());
        assert!(levels.set("Unknown_Key", Level::Warn).is_ok());
        assert!(levels.set("DL3022", Level::Allow).unwrap_err().contains("K315"), "one of its codes is an error");
        assert!(levels.set("dl3022", Level::Deny).is_ok());
        assert_eq!(levels.codes.get(&Code::CopyFromLaterStage), Some(&Level::Deny));
    }

    #[test]
    fn allow_drops_and_deny_raises() {
        let mut levels = Levels::default();
        levels.set("unknown-key", Level::Allow).unwrap();
        levels.set("unset-variable", Level::Deny).unwrap();
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::new(Code::UnknownKey, "a"));
        diags.push(Diagnostic::new(Code::UnsetVariable, "b"));
        diags.push(Diagnostic::new(Code::NameChanged, "c"));
        let out = levels.apply(diags);
        let seen: Vec<(Code, Severity)> = out.items().iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(seen, vec![(Code::UnsetVariable, Severity::Error), (Code::NameChanged, Severity::Warning)]);
    }

    /// What the caps left out is allowed or denied like the diagnostics it counts.
    #[test]
    fn levels_apply_to_what_the_caps_left_out() {
        let capped = || {
            let mut diags = Diagnostics::default();
            for i in 0..crate::diag::MAX_PER_CODE + 5 {
                diags.push(Diagnostic::new(Code::UnknownKey, format!("key {i}")));
            }
            diags
        };
        let mut deny = Levels::default();
        deny.set("K101", Level::Deny).unwrap();
        let denied = deny.apply(capped()).sorted();
        let summary = denied.last().map(|d| (d.severity, d.message.starts_with("5 more K101")));
        assert_eq!(summary, Some((Severity::Error, true)));
        let mut allow = Levels::default();
        allow.set("K101", Level::Allow).unwrap();
        assert!(allow.apply(capped()).sorted().is_empty());
    }

    #[test]
    fn deny_warnings_raises_everything_not_allowed() {
        let mut levels = Levels::default();
        levels.set("warnings", Level::Deny).unwrap();
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::new(Code::UnknownKey, "a"));
        assert!(levels.apply(diags).has_errors());
    }

    #[test]
    fn deny_warnings_leaves_notes_alone() {
        let mut levels = Levels::default();
        levels.set("warnings", Level::Deny).unwrap();
        let mut diags = Diagnostics::default();
        let mut note = Diagnostic::new(Code::NameChanged, "a");
        note.severity = Severity::Note;
        diags.push(note);
        let out = levels.apply(diags);
        assert!(!out.has_errors());
        assert_eq!(out.items()[0].severity, Severity::Note);
    }
}
