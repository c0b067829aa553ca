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

/// A valid label value (at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends, or
/// empty): `text` itself when it is one, else [`hashed_label`] of it.
pub fn label_value(text: &str) -> String {
    if is_label_value(text) { text.to_string() } else { hashed_label(text, 63) }
}

pub fn is_label_value(text: &str) -> bool {
    text.is_empty() || is_name_part(text)
}

/// `text` when it is a DNS-1123 label of at most `max` characters; otherwise its
/// [`dns_label`] cut short and followed by `-` and 8 hex digits of its SHA-256, so two
/// texts that differ anywhere stay different, and the same text always gives the same name.
pub fn hashed_label(text: &str, max: usize) -> String {
    let label = dns_label(text);
    if label == text && label.len() <= max {
        return label;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let kept: String = label.chars().take(max.saturating_sub(hash.len() + 1)).collect();
    match kept.trim_end_matches('-') {
        "" => hash,
        kept => format!("{kept}-{hash}"),
    }
}

/// A Kubernetes label or annotation key: an optional DNS-1123 subdomain prefix of at most
/// 253 characters and `/`, then a name part.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    is_name_part(name) && prefix.is_none_or(is_dns_subdomain)
}

/// 1–63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn is_name_part(text: &str) -> bool {
    let edges_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.len() <= 63
        && edges_ok(text.chars().next())
        && edges_ok(text.chars().last())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(|label| !label.is_empty() && dns_label(label) == label)
}

/// An environment variable name Kubernetes accepts on every version: `[-._a-zA-Z]` then
/// `[-._a-zA-Z0-9]*` (1.30+ can relax this; older API servers refuse the pod).
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

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
    fn labels_are_dns_1123() {
        assert_eq!(dns_label("web"), "web");
        assert_eq!(dns_label("My_Service"), "my-service");
        assert_eq!(dns_label("__a..b__"), "a-b");
        assert_eq!(dns_label("ß"), "");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
    }

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
    fn label_values_are_valid_and_stable() {
        assert_eq!(label_value("shop_2"), "shop_2");
        let long = "a".repeat(100);
        let value = label_value(&long);
        assert!(value.len() <= 63 && is_label_value(&value) && value.starts_with("aaaa"), "{value}");
        assert_eq!(value, label_value(&long), "deterministic");
        assert_ne!(value, label_value(&format!("{long}b")), "distinct texts stay distinct");
        assert!(is_label_value(&label_value("app-")));
        assert!(is_label_value(&label_value("___")));
        assert_eq!(hashed_label("my_app", 63).len(), "my-app-".len() + 8);
    }

    #[test]
    fn qualified_names_follow_kubernetes() {
        for good in ["a", "com.example/team", "example.com/a_b.c-d", "A1", &"x".repeat(63)] {
            assert!(is_qualified_name(good), "{good}");
        }
        for bad in ["", "a b", "a\nb", "-a", "a-", "/a", "a/", "a/b/c", "Ex.com/a", &"x".repeat(64), "é"] {
            assert!(!is_qualified_name(bad), "{bad:?}");
        }
        assert!(!is_qualified_name(&format!("{}/a", "x".repeat(254))));
    }

    #[test]
    fn env_names_follow_kubernetes() {
        for good in ["A", "_x", "a.b-c", "-x", "PATH2"] {
            assert!(is_env_name(good), "{good}");
        }
        for bad in ["", "1A", "E[", "a b", "a=b", "é"] {
            assert!(!is_env_name(bad), "{bad}");
        }
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
