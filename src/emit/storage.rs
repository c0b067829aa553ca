//! PersistentVolumeClaims for named volumes, and each pod's volumes and mounts.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ConfigMapProjection, ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource, KeyToPath, NFSVolumeSource,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, ProjectedVolumeSource,
    SecretVolumeSource, Volume, VolumeMount, VolumeProjection, VolumeResourceRequirements,
};

use super::labels::app_labels;
use super::{metadata, quantity};
use crate::model::{AccessMode, App, FileItem, Mount, MountSource, Service};

/// Compose volumes have no size; 1Gi is small enough for any provisioner to accept.
const DEFAULT_SIZE: u64 = 1 << 30;
/// Volume names are DNS-1123 labels.
const MAX_NAME: usize = 63;

/// The claim backing a top-level named volume; also a StatefulSet's claim template, named
/// `volume.k8s_name`.
pub(super) fn claim(app: &App, volume: &crate::model::Volume) -> PersistentVolumeClaim {
    let access_mode = match volume.access_mode {
        AccessMode::ReadWriteOnce => "ReadWriteOnce",
        AccessMode::ReadWriteMany => "ReadWriteMany",
    };
    let size = quantity::bytes(volume.size.unwrap_or(DEFAULT_SIZE));
    PersistentVolumeClaim {
        metadata: metadata(app, &volume.k8s_name, app_labels(app), BTreeMap::new()),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access_mode.to_string()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_string(), size)])),
                ..VolumeResourceRequirements::default()
            }),
            storage_class_name: volume.storage_class.clone(),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

/// The pod's volumes and the container's mounts, in mount order. Mounts of the very same
/// named source share one volume (some CSI drivers dislike one claim listed twice in a pod);
/// anonymous volumes never do, since each is its own scratch space in Compose.
/// Mounts of another container's volume (`MountSource::Shared`) are left to
/// `sidecars::with_sidecars`, which sees the whole pod.
pub(super) fn volumes_and_mounts(svc: &Service) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes: Vec<Volume> = Vec::new();
    let mut mounts = Vec::new();
    // A StatefulSet's own claims are no pod volumes: their mounts name the claim templates,
    // whose names no pod volume may take.
    let mut taken: BTreeSet<String> = svc.mounts.iter().filter_map(|m| template(&m.source)).cloned().collect();
    for mount in svc.mounts.iter().filter(|m| !matches!(m.source, MountSource::Shared { .. })) {
        if let Some(template) = template(&mount.source) {
            mounts.push(volume_mount(mount, template.clone()));
            continue;
        }
        let shared = volumes.iter().find(|v| is_named(&mount.source) && volume(mount, v.name.clone()) == **v);
        let name = match shared {
            Some(v) => v.name.clone(),
            None => {
                let name = unique_name(&base_name(&mount.source), &mut taken);
                volumes.push(volume(mount, name.clone()));
                name
            }
        };
        mounts.push(volume_mount(mount, name));
    }
    (volumes, mounts)
}

/// The claim template a mount names, if it is one.
fn template(source: &MountSource) -> Option<&String> {
    match source {
        MountSource::ClaimTemplate { name } => Some(name),
        _ => None,
    }
}

/// Sources that refer to an object or path; two mounts of one are the same data.
fn is_named(source: &MountSource) -> bool {
    !matches!(source, MountSource::EmptyDir | MountSource::Tmpfs { .. } | MountSource::Shared { .. })
}

/// The pod volume for one mount's source.
fn volume(mount: &Mount, name: String) -> Volume {
    let mut volume = Volume { name, ..Volume::default() };
    match &mount.source {
        MountSource::Volume { k8s_name } => {
            volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: k8s_name.clone(),
                ..PersistentVolumeClaimVolumeSource::default()
            });
        }
        // Never a pod volume (see `volumes_and_mounts`).
        MountSource::ClaimTemplate { .. } => {}
        // A shared mount has no volume of its own (`volumes_and_mounts` skips it).
        MountSource::EmptyDir | MountSource::Shared { .. } => {
            volume.empty_dir = Some(EmptyDirVolumeSource::default());
        }
        MountSource::Tmpfs { size } => {
            volume.empty_dir = Some(EmptyDirVolumeSource {
                medium: Some("Memory".to_string()),
                size_limit: size.map(quantity::bytes),
            });
        }
        MountSource::ConfigMap { maps, .. } => match maps.as_slice() {
            [one] => {
                volume.config_map = Some(ConfigMapVolumeSource {
                    name: one.k8s_name.clone(),
                    items: Some(items(&one.items)),
                    ..ConfigMapVolumeSource::default()
                });
            }
            // More files than one ConfigMap holds: one volume of them all, at one target.
            _ => {
                let sources = maps
                    .iter()
                    .map(|map| VolumeProjection {
                        config_map: Some(ConfigMapProjection {
                            name: map.k8s_name.clone(),
                            items: Some(items(&map.items)),
                            ..ConfigMapProjection::default()
                        }),
                        ..VolumeProjection::default()
                    })
                    .collect();
                volume.projected =
                    Some(ProjectedVolumeSource { sources: Some(sources), ..ProjectedVolumeSource::default() });
            }
        },
        MountSource::Nfs { server, path, .. } => {
            volume.nfs = Some(NFSVolumeSource {
                server: server.clone(),
                path: path.clone(),
                read_only: mount.read_only.then_some(true),
            });
        }
        MountSource::HostPath { path } => {
            volume.host_path = Some(HostPathVolumeSource { path: path.clone(), ..HostPathVolumeSource::default() });
        }
        MountSource::Secret { k8s_name, key, mode } => {
            volume.secret = Some(SecretVolumeSource {
                secret_name: Some(k8s_name.clone()),
                items: Some(vec![key_to_path(key, *mode)]),
                ..SecretVolumeSource::default()
            });
        }
        MountSource::Config { k8s_name, key, mode } => {
            volume.config_map = Some(ConfigMapVolumeSource {
                name: k8s_name.clone(),
                items: Some(vec![key_to_path(key, *mode)]),
                ..ConfigMapVolumeSource::default()
            });
        }
    }
    volume
}

/// Each file of a ConfigMap at its path, with its mode.
fn items(items: &[FileItem]) -> Vec<KeyToPath> {
    let item = |i: &FileItem| KeyToPath {
        key: i.key.clone(),
        path: i.path.clone(),
        mode: i.mode.and_then(|m| i32::try_from(m).ok()),
    };
    items.iter().map(item).collect()
}

/// Projects one key under its own name, so the mount can pick it with `subPath: <key>`.
fn key_to_path(key: &str, mode: Option<u32>) -> KeyToPath {
    KeyToPath { key: key.to_string(), path: key.to_string(), mode: mode.and_then(|m| i32::try_from(m).ok()) }
}

/// Secrets and configs mount as a single file at `target` via `subPath`, so the rest of the
/// target's directory stays visible, as with Compose.
fn volume_mount(mount: &Mount, name: String) -> VolumeMount {
    let (sub_path, always_read_only) = match &mount.source {
        MountSource::Secret { key, .. } | MountSource::Config { key, .. } => (Some(key.clone()), true),
        _ => (mount.sub_path.clone(), false),
    };
    let read_only = mount.read_only || always_read_only;
    VolumeMount {
        name,
        mount_path: mount.target.clone(),
        read_only: read_only.then_some(true),
        sub_path,
        mount_propagation: mount.propagation.map(|p| p.k8s_name().to_string()),
        ..VolumeMount::default()
    }
}

/// A readable volume name derived from what is mounted.
fn base_name(source: &MountSource) -> String {
    match source {
        MountSource::ConfigMap { maps, .. } => volume_label(maps.first().map_or("files", |m| m.k8s_name.as_str())),
        MountSource::Volume { k8s_name }
        | MountSource::ClaimTemplate { name: k8s_name }
        | MountSource::Secret { k8s_name, .. }
        | MountSource::Config { k8s_name, .. } => volume_label(k8s_name),
        MountSource::EmptyDir | MountSource::Shared { .. } => "scratch".to_string(),
        MountSource::Tmpfs { .. } => "tmpfs".to_string(),
        MountSource::HostPath { .. } => "host".to_string(),
        MountSource::Nfs { .. } => "nfs".to_string(),
    }
}

/// `base`, or `base-1`, `base-2`, ... when taken; always a DNS-1123 label.
pub(super) fn unique_name(base: &str, taken: &mut BTreeSet<String>) -> String {
    let name = (0..)
        .map(|n| if n == 0 { base.to_string() } else { with_suffix(base, &format!("-{n}")) })
        .find(|c| !taken.contains(c))
        .unwrap_or_default();
    taken.insert(name.clone());
    name
}

/// `base` + `suffix`, cutting `base` so the result still fits in a label.
fn with_suffix(base: &str, suffix: &str) -> String {
    let keep = MAX_NAME.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", base[..keep].trim_end_matches('-'))
}

/// Object names may be DNS-1123 subdomains (dots, 253 chars); volume names must be labels.
fn volume_label(name: &str) -> String {
    let label = crate::names::dns_label(name);
    if label.is_empty() { "volume".to_string() } else { label }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, mount, service};
    use crate::model::{ConfigMapFiles, Volume as ModelVolume};

    /// Project files in one ConfigMap `name`: the file `app.ini` and, for a directory, the
    /// executable `bin/run`.
    fn files(name: &str, single: bool) -> MountSource {
        let item = |key: &str, path: &str, mode| FileItem { key: key.into(), path: path.into(), mode };
        let mut items = vec![item("app.ini", "app.ini", None)];
        if !single {
            items.push(item("bin_run", "bin/run", Some(0o755)));
        }
        MountSource::ConfigMap { maps: vec![ConfigMapFiles { k8s_name: name.into(), items }] }
    }

    fn secret(key: &str) -> MountSource {
        MountSource::Secret { k8s_name: "creds".into(), key: key.into(), mode: Some(0o440) }
    }

    #[test]
    fn claim_defaults_to_1gi() {
        let v = ModelVolume {
            name: "data".into(),
            k8s_name: "data".into(),
            access_mode: AccessMode::ReadWriteOnce,
            size: None,
            storage_class: Some("fast".into()),
        };
        let spec = claim(&app(), &v).spec.unwrap();
        assert_eq!(spec.access_modes, Some(vec!["ReadWriteOnce".to_string()]));
        assert_eq!(spec.resources.unwrap().requests.unwrap()["storage"].0, "1Gi");
        assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    }

    #[test]
    fn volume_names_are_unique_labels() {
        let mut s = service("web");
        s.mounts = vec![
            mount("/a", MountSource::EmptyDir),
            mount("/b", MountSource::EmptyDir),
            mount("/c", MountSource::Tmpfs { size: Some(64 << 20) }),
            mount("/d", MountSource::Volume { k8s_name: "data".into() }),
            mount("/e", files("web.files", false)),
            mount("/f", MountSource::HostPath { path: "/var/run/docker.sock".into() }),
        ];
        let (volumes, mounts) = volumes_and_mounts(&s);
        let names: Vec<_> = volumes.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["scratch", "scratch-1", "tmpfs", "data", "web-files", "host"]);
        assert_eq!(mounts.len(), 6);
        let tmpfs = volumes[2].empty_dir.clone().unwrap();
        assert_eq!(tmpfs.medium.as_deref(), Some("Memory"));
        assert_eq!(tmpfs.size_limit.unwrap().0, "64Mi");
    }

    #[test]
    fn same_claim_shares_one_volume() {
        let mut s = service("web");
        let data = || MountSource::Volume { k8s_name: "data".into() };
        s.mounts = vec![mount("/a", data()), mount("/b", data())];
        let (volumes, mounts) = volumes_and_mounts(&s);
        assert_eq!(volumes.len(), 1);
        assert!(mounts.iter().all(|m| m.name == "data"));
    }

    #[test]
    fn claim_templates_are_mounted_by_name_without_a_pod_volume() {
        let mut s = service("db");
        s.mounts = vec![
            mount("/var/lib/data", MountSource::ClaimTemplate { name: "data".into() }),
            mount("/etc/data", files("data", false)),
        ];
        let (volumes, mounts) = volumes_and_mounts(&s);
        assert_eq!(
            volumes.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            ["data-1"],
            "the template keeps its name"
        );
        assert_eq!(mounts.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["data", "data-1"]);
    }

    #[test]
    fn secrets_mount_one_file_read_only() {
        let mut s = service("web");
        s.mounts = vec![mount("/run/secrets/user", secret("user")), mount("/run/secrets/pass", secret("pass"))];
        let (volumes, mounts) = volumes_and_mounts(&s);
        assert_eq!(volumes.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["creds", "creds-1"]);
        let items = volumes[1].secret.clone().unwrap().items.unwrap();
        assert_eq!(items, [KeyToPath { key: "pass".into(), path: "pass".into(), mode: Some(0o440) }]);
        assert_eq!(mounts[1].mount_path, "/run/secrets/pass");
        assert_eq!(mounts[1].sub_path.as_deref(), Some("pass"));
        assert!(mounts.iter().all(|m| m.read_only == Some(true)));
    }

    #[test]
    fn config_and_project_files_use_sub_path() {
        let mut s = service("web");
        let config = MountSource::Config { k8s_name: "nginx-conf".into(), key: "nginx.conf".into(), mode: None };
        let mut file = mount("/app/app.ini", files("web-files", true));
        file.sub_path = Some("app.ini".into());
        s.mounts = vec![mount("/etc/nginx/nginx.conf", config), file];
        let (volumes, mounts) = volumes_and_mounts(&s);
        assert_eq!(volumes[0].config_map.clone().unwrap().items.unwrap()[0].path, "nginx.conf");
        assert_eq!(mounts[0].sub_path.as_deref(), Some("nginx.conf"));
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(mounts[1].sub_path.as_deref(), Some("app.ini"));
        assert_eq!(mounts[1].read_only, None);
    }

    /// Every file at its path with its mode; files over several ConfigMaps are one
    /// projected volume at one target.
    #[test]
    fn project_files_are_projected_at_their_paths() {
        let mut s = service("web");
        let MountSource::ConfigMap { maps } = files("web-conf", false) else { unreachable!() };
        let mut second = maps[0].clone();
        second.k8s_name = "web-conf-2".into();
        let split = MountSource::ConfigMap { maps: vec![maps[0].clone(), second] };
        s.mounts = vec![mount("/etc/app", files("web-conf", false)), mount("/srv", split)];
        let (volumes, mounts) = volumes_and_mounts(&s);
        let one = volumes[0].config_map.clone().unwrap();
        let run = KeyToPath { key: "bin_run".into(), path: "bin/run".into(), mode: Some(0o755) };
        assert_eq!(one.items.unwrap()[1], run);
        assert_eq!(one.default_mode, None);
        let sources = volumes[1].projected.clone().unwrap().sources.unwrap();
        let names: Vec<_> = sources.iter().map(|p| p.config_map.clone().unwrap().name).collect();
        assert_eq!(names, ["web-conf", "web-conf-2"]);
        assert_eq!(mounts.len(), 2);
        assert!(mounts.iter().all(|m| m.sub_path.is_none()));
    }

    #[test]
    fn long_names_stay_labels() {
        let long = "a".repeat(70);
        let mut taken = BTreeSet::new();
        let first = unique_name(&volume_label(&long), &mut taken);
        let second = unique_name(&volume_label(&long), &mut taken);
        assert_eq!(first.len(), 63);
        assert_eq!(second.len(), 63);
        assert!(second.ends_with("-1"));
        assert_eq!(volume_label("--"), "volume");
    }
}
