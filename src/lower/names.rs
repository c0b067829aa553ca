//! Kubernetes names: DNS-1123 labels derived from compose names, collisions refused.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
pub(crate) use crate::names::dns_label;
use crate::source::Span;

/// Hands out Kubernetes names for one kind of object, reporting changed names and
/// collisions at the compose name's span.
pub struct Namer<'a> {
    what: &'static str,
    /// Names Kubernetes Services too, which must be DNS-1035 labels (start with a letter).
    services: bool,
    taken: BTreeMap<String, (String, Span)>,
    diags: &'a mut Diagnostics,
}

impl<'a> Namer<'a> {
    pub fn new(what: &'static str, diags: &'a mut Diagnostics) -> Namer<'a> {
        Namer { what, services: false, taken: BTreeMap::new(), diags }
    }

    /// For compose services: their names also name Kubernetes Services, so a name that
    /// starts with a digit gets the prefix `svc-`.
    pub fn for_services(diags: &'a mut Diagnostics) -> Namer<'a> {
        Namer { what: "service", services: true, taken: BTreeMap::new(), diags }
    }

    /// The Kubernetes name for compose name `name`, or `None` when it cannot have one.
    pub fn name(&mut self, name: &str, span: Span) -> Option<String> {
        self.name_as(name, name, span)
    }

    /// Like [`Namer::name`], for an object whose Kubernetes name derives from `wanted`.
    pub fn name_as(&mut self, name: &str, wanted: &str, span: Span) -> Option<String> {
        let mut label = dns_label(wanted);
        if self.services && label.starts_with(|c: char| c.is_ascii_digit()) {
            label = dns_label(&format!("svc-{label}"));
        }
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
            let help = if self.services {
                format!(
                    "Kubernetes names are lowercase letters, digits and `-`, and Service names start with a letter; \
                     other services must connect to `{label}`, not `{name}`: rename the service to silence this"
                )
            } else {
                "Kubernetes names are lowercase letters, digits and `-`; rename it to silence this".to_string()
            };
            self.diags.push(
                Diagnostic::new(Code::NameChanged, format!("{} `{name}` is named `{label}` in Kubernetes", self.what))
                    .at(span, format!("becomes `{label}`"))
                    .help(help),
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
    fn service_names_start_with_a_letter() {
        let mut diags = Diagnostics::default();
        let mut namer = Namer::for_services(&mut diags);
        assert_eq!(namer.name("1web", Span::NONE).as_deref(), Some("svc-1web"));
        assert_eq!(namer.name("web1", Span::NONE).as_deref(), Some("web1"));
        assert_eq!(namer.name(&"9".repeat(80), Span::NONE).map(|n| n.len()), Some(63));
        assert_eq!(diags.items().iter().map(|d| d.code).collect::<Vec<_>>(), [Code::NameChanged, Code::NameChanged]);
        assert!(diags.items()[0].help.as_deref().is_some_and(|h| h.contains("connect to `svc-1web`")));
        let mut diags = Diagnostics::default();
        assert_eq!(Namer::new("volume", &mut diags).name("1data", Span::NONE).as_deref(), Some("1data"));
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
