//! Where the compose service an object was made from is written, so that a complaint about
//! the object (a cluster rejecting a field) can point at the compose line that made it. The
//! caller that has the compose tree fills it in; emit only names which compose key makes
//! which Kubernetes field.

use std::collections::BTreeMap;

use crate::source::Span;

/// Where a compose service is written: its key, and the keys inside it (`image`, `ports`,
/// `deploy`, …), so a server's complaint about a field can point at the line that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub service: Span,
    pub keys: BTreeMap<String, Span>,
}

impl Default for Origin {
    fn default() -> Origin {
        Origin { service: Span::NONE, keys: BTreeMap::new() }
    }
}

impl Origin {
    /// The span of the compose key that produced the Kubernetes `field` (as a 422 cause names
    /// it), else the service's.
    pub fn of_field(&self, field: &str) -> (Span, Option<&'static str>) {
        match compose_key(field).and_then(|key| Some((*self.keys.get(key)?, key))) {
            Some((span, key)) => (span, Some(key)),
            None => (self.service, None),
        }
    }
}

/// The compose key a field of a Deployment or Service comes from, by the field's last
/// recognisable part.
pub fn compose_key(field: &str) -> Option<&'static str> {
    const KEYS: &[(&str, &str)] = &[
        ("image", "image"),
        ("Probe", "healthcheck"),
        ("env", "environment"),
        ("containerPort", "ports"),
        ("ports", "ports"),
        ("resources", "deploy"),
        ("replicas", "deploy"),
        ("strategy", "deploy"),
        ("command", "entrypoint"),
        ("args", "command"),
        ("volumeMounts", "volumes"),
        ("volumes", "volumes"),
        ("workingDir", "working_dir"),
        ("hostname", "hostname"),
        ("securityContext", "user"),
    ];
    KEYS.iter().find(|(part, _)| field.contains(part)).map(|(_, key)| *key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_back_to_compose_keys() {
        assert_eq!(compose_key("spec.template.spec.containers[0].image"), Some("image"));
        assert_eq!(compose_key("spec.template.spec.containers[0].readinessProbe.exec"), Some("healthcheck"));
        assert_eq!(compose_key("spec.ports[0].port"), Some("ports"));
        assert_eq!(compose_key("metadata.name"), None);
    }
}
