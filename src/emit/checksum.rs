//! The checksum that rolls a workload when the ConfigMaps it uses change. Kubernetes restarts
//! pods only when their template changes; a changed ConfigMap alone changes none, so the
//! pods would keep the old files (subPath mounts and environment values never update). A
//! digest of exactly the ConfigMaps a pod uses, on its template, changes with them and only
//! with them.
//!
//! Secrets are left out on purpose: a digest of a short password is a way to check guesses
//! against it, readable by anyone who can read the workload. `kompile apply` restarts the
//! workloads whose Secrets it changed instead.

use sha2::{Digest, Sha256};

use crate::model::{App, ConfigData, MountSource, Service};

/// The pod template annotation holding the digest.
pub const CONFIG_CHECKSUM: &str = "kompile.dev/config-checksum";

/// Hex digits kept: 64 bits tell any two versions of a project's files apart.
const DIGITS: usize = 16;

/// The digest of the ConfigMaps kompile generated that `svc`'s pod uses (the env files, the
/// compose configs and project files of its containers, sidecars included); `None` when it
/// uses none.
pub(super) fn config_checksum(app: &App, svc: &Service) -> Option<String> {
    let sidecars = app.sidecars_of(svc);
    let containers: Vec<&Service> = std::iter::once(svc).chain(sidecars).collect();
    let mut used: Vec<&str> = containers.iter().flat_map(|c| &c.mounts).flat_map(|m| config_maps(&m.source)).collect();
    used.sort_unstable();
    used.dedup();
    let env_files: Vec<_> = containers.iter().filter_map(|c| c.env_from.as_ref()).collect();
    if used.is_empty() && env_files.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    for env in env_files {
        add(&mut hasher, &env.k8s_name);
        for (key, value) in &env.data {
            add(&mut hasher, key);
            add(&mut hasher, value);
        }
    }
    for name in used {
        add(&mut hasher, name);
        let Ok(at) = app.configs.binary_search_by(|c| c.k8s_name.as_str().cmp(name)) else { continue };
        for (key, data) in &app.configs[at].data {
            add(&mut hasher, key);
            match data {
                ConfigData::Text(text) => add(&mut hasher, text),
                ConfigData::Binary(bytes) => add(&mut hasher, bytes),
            }
        }
    }
    let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(hex[..DIGITS].to_string())
}

/// The ConfigMaps a mount reads that kompile generates: every one of a projected volume.
fn config_maps(source: &MountSource) -> Vec<&str> {
    match source {
        MountSource::ConfigMap { maps, .. } => maps.iter().map(|m| m.k8s_name.as_str()).collect(),
        MountSource::Config { k8s_name, .. } => vec![k8s_name],
        _ => Vec::new(),
    }
}

/// Length-prefixed, so `("ab", "c")` and `("a", "bc")` differ.
fn add(hasher: &mut Sha256, bytes: impl AsRef<[u8]>) {
    let bytes = bytes.as_ref();
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::emit::fixtures::{app, service};
    use crate::model::{Config, ConfigMapFiles, EnvFromConfigMap, Mount};

    fn mount(name: &str) -> Mount {
        Mount::new(format!("/etc/{name}"), true, MountSource::ConfigMap { maps: vec![files(name)] })
    }

    fn files(name: &str) -> ConfigMapFiles {
        ConfigMapFiles { k8s_name: name.into(), items: Vec::new() }
    }

    fn config(name: &str, text: &str) -> Config {
        let data = BTreeMap::from([("file".to_string(), ConfigData::Text(text.into()))]);
        Config { name: name.into(), k8s_name: name.into(), data }
    }

    /// Changing a file changes the digest of the services that mount it, and of no other.
    #[test]
    fn follows_exactly_the_config_maps_a_pod_uses() {
        let mut a = app();
        a.configs = vec![config("nginx", "listen 80;"), config("other", "x")];
        let mut web = service("web");
        web.mounts = vec![mount("nginx")];
        let plain = service("worker");
        let before = config_checksum(&a, &web).expect("web mounts a ConfigMap");
        assert_eq!(config_checksum(&a, &plain), None);
        a.configs[1] = config("other", "y");
        assert_eq!(config_checksum(&a, &web).as_deref(), Some(before.as_str()), "not web's file");
        a.configs[0] = config("nginx", "listen 8080;");
        let after = config_checksum(&a, &web).expect("still mounted");
        assert_ne!(after, before);
        assert_eq!(after.len(), DIGITS);
    }

    /// Files split over several ConfigMaps: a change in any of them rolls the pod.
    #[test]
    fn covers_every_config_map_of_a_projected_volume() {
        let mut a = app();
        a.configs = vec![config("web-conf", "a"), config("web-conf-2", "b")];
        let mut web = service("web");
        let maps = vec![files("web-conf"), files("web-conf-2")];
        web.mounts = vec![Mount::new("/etc/conf".into(), true, MountSource::ConfigMap { maps })];
        let before = config_checksum(&a, &web);
        a.configs[1] = config("web-conf-2", "c");
        assert_ne!(config_checksum(&a, &web), before);
    }

    #[test]
    fn env_files_count_and_keys_are_told_apart_from_values() {
        let a = app();
        let mut web = service("web");
        let env = |pairs: &[(&str, &str)]| EnvFromConfigMap {
            k8s_name: "web-env".into(),
            data: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        web.env_from = Some(env(&[("ab", "c")]));
        let one = config_checksum(&a, &web);
        web.env_from = Some(env(&[("a", "bc")]));
        assert_ne!(config_checksum(&a, &web), one);
        assert!(one.is_some());
    }

    /// A sidecar's files are the pod's files: changing them rolls the pod it runs in.
    #[test]
    fn a_sidecars_files_roll_its_pod() {
        let mut a = app();
        a.configs = vec![config("fluent", "[INPUT]")];
        let mut shipper = service("shipper");
        shipper.pod_of = Some("web".into());
        shipper.mounts = vec![mount("fluent")];
        let mut web = service("web");
        web.sidecars = vec!["shipper".into()];
        a.services = vec![shipper, web];
        let before = config_checksum(&a, &a.services[1]).expect("the sidecar mounts a ConfigMap");
        a.configs[0] = config("fluent", "[OUTPUT]");
        assert_ne!(config_checksum(&a, &a.services[1]), Some(before));
    }
}
