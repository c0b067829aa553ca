//! Docker's copy-up on the cluster: the volumes `lower/copy_up.rs` seeds (`Service::seeds`)
//! are filled by an init container of the same image, which copies what the image has at the
//! mount path into the volume while the volume is empty, and leaves data it finds alone.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Capabilities, Container, PodSpec, SeccompProfile, SecurityContext, VolumeMount};

use super::storage::unique_name;
use crate::model::{App, Service};
use crate::names::hashed_label;

/// Arguments: pairs of the image's path and where the volume to fill from it is mounted. The
/// paths are never part of the script. A volume is empty when it holds nothing but the
/// `lost+found` a fresh ext4 file system has; `cp -a` keeps owners, modes and times, as
/// Docker's copy does. Only `sh` builtins and `cp` are used.
const SEED_SCRIPT: &str = r#"while [ "$#" -ge 2 ]; do
  from=$1 to=$2
  shift 2
  if [ ! -d "$from" ]; then
    echo "$from: not a directory in the image, nothing to copy"
    continue
  fi
  full=
  for f in "$to"/* "$to"/.[!.]* "$to"/..?*; do
    if [ "$f" != "$to/lost+found" ] && { [ -e "$f" ] || [ -L "$f" ]; }; then full=1; break; fi
  done
  if [ -n "$full" ]; then
    echo "$from: the volume already holds data, left as it is"
    continue
  fi
  cp -a "$from/." "$to/" || exit 1
  echo "$from: copied from the image into the empty volume"
done"#;

/// Where the seeding container mounts the `i`-th volume it fills: `/kompile-seed/<i>`, away
/// from the image's own paths, which it reads.
const SEED_DIR: &str = "/kompile-seed";

/// `spec`, the whole pod of `svc` (its sidecars joined), with one init container per
/// container that has seeds, first of all init containers: the volumes are full before
/// anything else in the pod starts, native sidecars included.
pub(super) fn with_seeds(app: &App, svc: &Service, mut spec: PodSpec) -> PodSpec {
    let pod: Vec<&Service> = std::iter::once(svc).chain(app.sidecars_of(svc)).collect();
    if pod.iter().all(|s| s.seeds.is_empty()) {
        return spec;
    }
    let mut taken: BTreeSet<String> =
        spec.containers.iter().chain(spec.init_containers.iter().flatten()).map(|c| c.name.clone()).collect();
    let mut seeders = Vec::new();
    for member in pod.into_iter().filter(|s| !s.seeds.is_empty()) {
        let mut containers = spec.containers.iter().chain(spec.init_containers.iter().flatten());
        let Some(container) = containers.find(|c| c.name == member.k8s_name) else { continue };
        let mut mounts = Vec::new();
        let mut args = Vec::new();
        for seed in &member.seeds {
            let mounted = container.volume_mounts.iter().flatten().find(|m| m.mount_path == seed.target);
            let Some(mounted) = mounted else { continue };
            let at = format!("{SEED_DIR}/{}", mounts.len());
            // The same part of the volume the container sees (a database's `subPath`).
            let sub_path = mounted.sub_path.clone();
            mounts.push(VolumeMount {
                name: mounted.name.clone(),
                mount_path: at.clone(),
                sub_path,
                ..Default::default()
            });
            args.extend([seed.target.clone(), at]);
        }
        if mounts.is_empty() {
            continue;
        }
        let mut command = vec!["sh".to_string(), "-c".to_string(), SEED_SCRIPT.to_string(), "seed".to_string()];
        command.extend(args);
        seeders.push(Container {
            name: unique_name(&hashed_label(&format!("seed-{}", member.k8s_name), 63), &mut taken),
            image: Some(member.image.clone()),
            image_pull_policy: member.pull_policy.clone(),
            command: Some(command),
            volume_mounts: Some(mounts),
            resources: super::workload::resources(&member.resources),
            security_context: Some(copier()),
            ..Container::default()
        });
    }
    if !seeders.is_empty() {
        seeders.extend(spec.init_containers.take().unwrap_or_default());
        spec.init_containers = Some(seeders);
    }
    spec
}

/// Root, to write into a volume owned by anyone and keep the image's owners, with only the
/// capabilities a copy needs (all within the `baseline` Pod Security profile).
fn copier() -> SecurityContext {
    let add = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"].map(String::from).to_vec();
    SecurityContext {
        run_as_user: Some(0),
        run_as_group: Some(0),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".to_string()]), add: Some(add) }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".to_string(), localhost_profile: None }),
        ..SecurityContext::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, mount, service};
    use crate::model::{MountSource, Seed, StatefulSet, Workload};

    fn pod(a: &App, name: &str) -> PodSpec {
        let svc = a.services.iter().find(|s| s.name == name).unwrap();
        super::super::workload::pod_template(a, svc).spec.unwrap()
    }

    #[test]
    fn one_init_container_fills_the_seeded_volumes_first() {
        let mut a = app();
        let mut web = service("web");
        web.image = "registry.example.com/web:1".into();
        web.pull_policy = Some("Always".into());
        web.mounts = vec![
            mount("/var/www/static", MountSource::Volume { k8s_name: "static".into() }),
            mount("/var/cache/web", MountSource::EmptyDir),
            mount("/var/lib/web", MountSource::Volume { k8s_name: "data".into() }),
        ];
        // A database's data directory: the seeder fills the same sub-directory.
        web.mounts[0].sub_path = Some("www".into());
        web.seeds = vec![Seed { target: "/var/www/static".into() }, Seed { target: "/var/cache/web".into() }];
        web.waits = vec![crate::model::Wait {
            service: "db".into(),
            k8s_name: "db".into(),
            condition: crate::model::WaitCondition::Started,
            check: Some(crate::model::WaitCheck::Connect { port: 5432, image: "busybox:1.36".into() }),
        }];
        a.services = vec![web];
        let spec = pod(&a, "web");
        let init = spec.init_containers.unwrap();
        let names: Vec<&str> = init.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["seed-web", "wait-for-db"]);
        let seeder = &init[0];
        assert_eq!(seeder.image.as_deref(), Some("registry.example.com/web:1"));
        assert_eq!(seeder.image_pull_policy.as_deref(), Some("Always"));
        let command = seeder.command.clone().unwrap();
        assert_eq!(command[..2], ["sh", "-c"]);
        assert!(!command[2].contains("/var/www"), "paths are arguments, not script");
        assert_eq!(command[3..], ["seed", "/var/www/static", "/kompile-seed/0", "/var/cache/web", "/kompile-seed/1"]);
        let mounts: Vec<_> = seeder
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.name.as_str(), m.mount_path.as_str(), m.sub_path.as_deref()))
            .collect();
        assert_eq!(mounts, [("static", "/kompile-seed/0", Some("www")), ("scratch", "/kompile-seed/1", None)]);
        assert!(seeder.volume_mounts.iter().flatten().all(|m| m.read_only.is_none()), "it writes");
        let context = seeder.security_context.clone().unwrap();
        assert_eq!((context.run_as_user, context.allow_privilege_escalation), (Some(0), Some(false)));
    }

    #[test]
    fn a_claim_template_and_a_sidecars_volume_are_seeded_too() {
        let mut a = app();
        let mut db = service("db");
        db.mounts = vec![mount("/data", MountSource::ClaimTemplate { name: "data".into() })];
        db.seeds = vec![Seed { target: "/data".into() }];
        db.workload = Workload::StatefulSet(StatefulSet {
            k8s_name: "db".into(),
            service_name: "db-headless".into(),
            claim_templates: Vec::new(),
        });
        db.sidecars = vec!["seed-db".into()];
        // A sidecar whose name is the seeding container's: the seeder takes another.
        let mut sidecar = service("seed-db");
        sidecar.pod_of = Some("db".into());
        sidecar.image = "exporter:2".into();
        sidecar.mounts = vec![mount("/plugins", MountSource::EmptyDir)];
        sidecar.seeds = vec![Seed { target: "/plugins".into() }];
        a.services = vec![db, sidecar];
        let spec = pod(&a, "db");
        let init = spec.init_containers.unwrap();
        let summary: Vec<_> = init
            .iter()
            .map(|c| {
                let mounts = c.volume_mounts.iter().flatten().map(|m| m.name.clone()).collect::<Vec<_>>();
                (c.name.as_str(), c.image.as_deref().unwrap_or_default(), mounts)
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("seed-db-1", "nginx:1.27", vec!["data".to_string()]),
                ("seed-seed-db", "exporter:2", vec!["scratch".into()])
            ]
        );
    }

    #[test]
    fn no_seeds_no_init_container() {
        let mut a = app();
        let mut web = service("web");
        web.mounts = vec![mount("/data", MountSource::EmptyDir)];
        a.services = vec![web];
        assert!(pod(&a, "web").init_containers.is_none());
    }
}
