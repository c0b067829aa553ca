//! Kubernetes names: DNS-1123 labels derived from compose names, collisions refused.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

/// The closest DNS-1123 label: lowercase alphanumerics and `-`, starting and ending with an
/// alphanumeric, at most 63 characters.
pub fn dns_label(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(63).collect();
    trimmed.trim_end_matches('-').to_string()
}

/// Hands out Kubernetes names for one kind of object, reporting changed names and
/// collisions at the compose name's span.
pub struct Namer<'a> {
    what: &'static str,
    taken: BTreeMap<String, (String, Span)>,
    diags: &'a mut Diagnostics,
}

impl<'a> Namer<'a> {
    pub fn new(what: &'static str, diags: &'a mut Diagnostics) -> Namer<'a> {
        Namer { what, taken: BTreeMap::new(), diags }
    }

    /// The Kubernetes name for compose name `name`, or `None` when it cannot have one.
    pub fn name(&mut self, name: &str, span: Span) -> Option<String> {
        self.name_as(name, name, span)
    }

    /// Like [`Namer::name`], for an object whose Kubernetes name derives from `wanted`.
    pub fn name_as(&mut self, name: &str, wanted: &str, span: Span) -> Option<String> {
        let label = dns_label(wanted);
        if label.is_empty() {
            self.diags.push(
                Diagnostic::new(Code::NameCollision, format!("{} `{name}` has no valid Kubernetes name", self.what))
                    .at(span, "needs at least one letter or digit")
                    .help("rename it using letters, digits and `-`"),
            );
            return None;
        }
        if let Some((first, first_span)) = self.taken.get(&label) {
            self.diags.push(
                Diagnostic::new(
                    Code::NameCollision,
                    format!("{} `{name}` and `{first}` both become `{label}` in Kubernetes", self.what),
                )
                .at(span, format!("becomes `{label}`"))
                .also(
                    *first_span,
                    if *first == label {
                        format!("already `{label}`")
                    } else {
                        format!("`{first}` also becomes `{label}`")
                    },
                )
                .help("rename one of them so their names differ in more than case and punctuation"),
            );
            return None;
        }
        if label != wanted && name == wanted {
            self.diags.push(
                Diagnostic::new(Code::NameChanged, format!("{} `{name}` is named `{label}` in Kubernetes", self.what))
                    .at(span, format!("becomes `{label}`"))
                    .help("Kubernetes names are lowercase letters, digits and `-`; rename it to silence this"),
            );
        }
        self.taken.insert(label.clone(), (name.to_string(), span));
        Some(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_dns_1123() {
        assert_eq!(dns_label("web"), "web");
        assert_eq!(dns_label("My_Service"), "my-service");
        assert_eq!(dns_label("__a..b__"), "a-b");
        assert_eq!(dns_label("ß"), "");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
    }

    #[test]
    fn collisions_are_errors() {
        let mut diags = Diagnostics::default();
        let mut namer = Namer::new("service", &mut diags);
        assert_eq!(namer.name("web_app", Span::NONE).as_deref(), Some("web-app"));
        assert_eq!(namer.name("web-app", Span::NONE), None);
        let codes: Vec<Code> = diags.items().iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::NameChanged, Code::NameCollision]);
    }
}
