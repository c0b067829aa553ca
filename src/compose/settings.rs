//! The `x-kompile` blocks: Kubernetes-only settings, at the top of the file, on a service and
//! on a top-level volume. `load::decode` validates them like compose keys (unknown keys and bad
//! values are errors with "did you mean"); docs/x-kompile.md documents each key.

use super::Spanned;
use crate::model::AccessMode;

/// The project-level `x-kompile` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectSettings {
    /// `registry`: where images of built services without `image` are pushed.
    pub registry: Option<Spanned<String>>,
    /// `deny`, `warn`, `allow`: diagnostic codes (id or name) and the level they get.
    pub deny: Vec<Spanned<String>>,
    pub warn: Vec<Spanned<String>>,
    pub allow: Vec<Spanned<String>>,
    /// `network_policies`: `false` turns off the NetworkPolicies that isolate compose
    /// networks (on by default).
    pub network_policies: Option<Spanned<bool>>,
}

impl ProjectSettings {
    pub const KEYS: &'static [&'static str] = &["registry", "deny", "warn", "allow", "network_policies"];
}

/// A service's `x-kompile` block. The issues that add Kubernetes-only service settings add
/// their keys here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceSettings {}

impl ServiceSettings {
    pub const KEYS: &'static [&'static str] = &[];
}

/// A top-level volume's `x-kompile` block: how its claim is made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeSettings {
    /// `size`, bytes (`10Gi`).
    pub size: Option<Spanned<u64>>,
    pub storage_class: Option<Spanned<String>>,
    pub access_mode: Option<Spanned<AccessMode>>,
}

impl VolumeSettings {
    pub const KEYS: &'static [&'static str] = &["size", "storage_class", "access_mode"];
}
