//! Kubernetes naming rules: DNS-1123 labels, label values, qualified (label and annotation)
//! keys, ConfigMap keys and environment variable names; the only sanitizers of them. Pure
//! functions, used by `lower` (which decides and reports names), `images` (repository names),
//! `emit` and `cluster`.

/// The closest DNS-1123 label: lowercase alphanumerics and `-`, starting and ending with an
/// alphanumeric, at most 63 characters.
pub fn dns_label(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        // A written `-` is kept (`a--b` is a valid label); a run of other characters becomes one.
        if c.is_ascii_alphanumeric() || c == '-' {
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

/// A DNS-1123 label: 1–63 lowercase alphanumerics and `-`, alphanumeric at both ends.
pub fn is_dns_label(text: &str) -> bool {
    !text.is_empty() && dns_label(text) == text
}

/// A DNS-1123 subdomain: dot-separated DNS labels, at most 253 characters (Secret names,
/// annotation prefixes).
pub fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(|label| !label.is_empty() && dns_label(label) == label)
}

/// An Ingress rule's host: a DNS-1123 subdomain, optionally a wildcard `*.` then one, and not
/// an IP address (Kubernetes refuses those).
pub fn is_ingress_host(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    is_dns_subdomain(name) && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// A ConfigMap or Secret key: `[-._a-zA-Z0-9]`; other characters become `_`.
pub fn config_key(name: &str) -> String {
    let key: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    // Kubernetes refuses an empty key, `.`, and keys starting `..`, which could climb out of
    // the volume.
    let key = if key.is_empty() || key == "." || key.starts_with("..") { format!("_{key}") } else { key };
    key.chars().take(MAX_KEY).collect()
}

/// The longest ConfigMap (and Secret) key, less room for a `-N` that tells two apart.
const MAX_KEY: usize = 240;

/// An environment variable name Kubernetes accepts on every version: `[-._a-zA-Z]` then
/// `[-._a-zA-Z0-9]*` (1.30+ can relax this; older API servers refuse the pod).
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_dns_1123() {
        assert_eq!(dns_label("web"), "web");
        assert_eq!(dns_label("My_Service"), "my-service");
        assert_eq!(dns_label("__a..b__"), "a-b");
        assert_eq!(dns_label("a--b"), "a--b", "a valid label is kept");
        assert_eq!(dns_label("a-_b"), "a-b");
        assert_eq!(dns_label("ß"), "");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
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
}
