//! The other containers of a pod: services `lower/sidecars.rs` put in another service's pod
//! (`pod_of`), with their volumes, and the mounts of another container's volume
//! (`volumes_from` inside one pod).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, PodSpec, Volume, VolumeMount};

use super::{non_empty_vec, storage, workload};
use crate::model::{App, MountSource, Service};

/// `spec`, the pod of `svc`, with the containers of its sidecars and their volumes. Sidecars
/// of a pod that runs to completion (a Job) are native sidecars: init containers with
/// `restartPolicy: Always`, which start before the main container and do not keep the Job
/// from completing.
pub(super) fn with_sidecars(app: &App, svc: &Service, mut spec: PodSpec) -> PodSpec {
    let members: Vec<&Service> = app.sidecars_of(svc).collect();
    let shares = |s: &Service| s.mounts.iter().any(|m| matches!(m.source, MountSource::Shared { .. }));
    if members.is_empty() && !shares(svc) {
        return spec;
    }
    let mut volumes = spec.volumes.take().unwrap_or_default();
    let native = svc.workload.runs_to_completion();
    for member in &members {
        let (own, mut mounts) = storage::volumes_and_mounts(member);
        let renamed = merge_volumes(&mut volumes, own);
        for mount in &mut mounts {
            if let Some(name) = renamed.get(&mount.name) {
                mount.name = name.clone();
            }
        }
        let mut container = Container { volume_mounts: non_empty_vec(mounts), ..workload::container(member) };
        if native {
            container.restart_policy = Some("Always".to_string());
            spec.init_containers.get_or_insert_with(Vec::new).push(container);
        } else {
            spec.containers.push(container);
        }
    }
    let pod: Vec<&Service> = std::iter::once(svc).chain(members).collect();
    share_mounts(&pod, &mut spec);
    spec.volumes = non_empty_vec(volumes);
    spec
}

/// Adds `theirs` to the pod's volumes. The same claim, ConfigMap, Secret or host path
/// mounted by two containers is one pod volume; anonymous volumes stay each their own. A
/// name already taken is changed; returns the changed names (old → new).
fn merge_volumes(pod: &mut Vec<Volume>, theirs: Vec<Volume>) -> BTreeMap<String, String> {
    let mut renamed = BTreeMap::new();
    let mut taken: BTreeSet<String> = pod.iter().map(|v| v.name.clone()).collect();
    let unnamed = |v: &Volume| Volume { name: String::new(), ..v.clone() };
    for volume in theirs {
        let same = pod.iter().find(|p| volume.empty_dir.is_none() && unnamed(p) == unnamed(&volume));
        if let Some(same) = same {
            renamed.insert(volume.name.clone(), same.name.clone());
            continue;
        }
        let name = storage::unique_name(&volume.name, &mut taken);
        if name != volume.name {
            renamed.insert(volume.name.clone(), name.clone());
        }
        pod.push(Volume { name, ..volume });
    }
    renamed
}

/// Each `MountSource::Shared` mount becomes a mount of the volume the named container mounts
/// at that target, with its sub path: Docker's `volumes_from` mounts the same thing again.
fn share_mounts(pod: &[&Service], spec: &mut PodSpec) {
    let mut added: Vec<(String, VolumeMount)> = Vec::new();
    for service in pod {
        for mount in &service.mounts {
            let MountSource::Shared { container, target } = &mount.source else { continue };
            let Some(theirs) = mount_of(spec, container, target) else { continue };
            let read_only = mount.read_only || theirs.read_only == Some(true);
            let shared = VolumeMount {
                mount_path: mount.target.clone(),
                read_only: read_only.then_some(true),
                ..theirs.clone()
            };
            added.push((service.k8s_name.clone(), shared));
        }
    }
    for (name, mount) in added {
        let containers = spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten());
        if let Some(container) = containers.into_iter().find(|c| c.name == name) {
            container.volume_mounts.get_or_insert_with(Vec::new).push(mount);
        }
    }
}

/// The mount of container `name` at `target`, in the pod's containers or init containers.
fn mount_of<'a>(spec: &'a PodSpec, name: &str, target: &str) -> Option<&'a VolumeMount> {
    let mut containers = spec.containers.iter().chain(spec.init_containers.iter().flatten());
    let container = containers.find(|c| c.name == name)?;
    container.volume_mounts.iter().flatten().find(|m| m.mount_path == target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, mount, service};
    use crate::model::Workload;

    fn pod_spec(a: &App, name: &str) -> PodSpec {
        let svc = a.services.iter().find(|s| s.name == name).unwrap();
        super::super::workload::deployment(a, svc).spec.unwrap().template.spec.unwrap()
    }

    #[test]
    fn a_sidecar_is_a_second_container_sharing_claims_and_scratch_space() {
        let mut a = app();
        let mut web = service("web");
        web.sidecars = vec!["shipper".into()];
        web.mounts = vec![
            mount("/data", MountSource::Volume { k8s_name: "data".into() }),
            mount("/tmp/cache", MountSource::EmptyDir),
        ];
        let mut shipper = service("shipper");
        shipper.pod_of = Some("web".into());
        shipper.mounts = vec![
            mount("/data", MountSource::Volume { k8s_name: "data".into() }),
            mount("/logs", MountSource::EmptyDir),
            mount("/cache", MountSource::Shared { container: "web".into(), target: "/tmp/cache".into() }),
        ];
        shipper.mounts[2].read_only = true;
        a.services = vec![shipper, web];
        let spec = pod_spec(&a, "web");
        let names: Vec<_> = spec.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["web", "shipper"]);
        let volumes: Vec<_> = spec.volumes.unwrap().iter().map(|v| v.name.clone()).collect();
        assert_eq!(volumes, ["data", "scratch", "scratch-1"], "one claim volume; the sidecar's own scratch renamed");
        let mounts = spec.containers[1].volume_mounts.clone().unwrap();
        let got: Vec<_> = mounts.iter().map(|m| (m.mount_path.as_str(), m.name.as_str(), m.read_only)).collect();
        assert_eq!(got, [("/data", "data", None), ("/logs", "scratch-1", None), ("/cache", "scratch", Some(true))]);
    }

    /// A sidecar's objects are its pod's; its environment ConfigMap and Secret stay its own.
    #[test]
    fn a_sidecar_has_no_objects_but_its_environment() {
        let mut a = app();
        let mut web = service("web");
        web.sidecars = vec!["shipper".into()];
        let mut shipper = service("shipper");
        shipper.pod_of = Some("web".into());
        shipper.expose = vec![crate::emit::fixtures::port(2020)];
        let data = BTreeMap::from([("TOKEN".to_string(), "t".to_string())]);
        shipper.secret_env = Some(crate::model::SecretEnv { k8s_name: "shipper-secret-env".into(), data });
        a.services = vec![shipper, web];
        let objects = crate::emit::emit(&a);
        let got: Vec<_> = objects.iter().map(|o| (o.kind(), o.name())).collect();
        assert_eq!(got, [("Secret", "shipper-secret-env"), ("Deployment", "web")]);
    }

    #[test]
    fn sidecars_of_a_job_are_native_sidecars() {
        let mut a = app();
        let mut task = service("task");
        task.workload = Workload::Job(Default::default());
        task.sidecars = vec!["proxy".into()];
        let mut proxy = service("proxy");
        proxy.pod_of = Some("task".into());
        a.services = vec![proxy, task.clone()];
        let spec =
            with_sidecars(&a, &task, PodSpec { containers: vec![workload::container(&task)], ..PodSpec::default() });
        let init = spec.init_containers.unwrap();
        assert_eq!((init[0].name.as_str(), init[0].restart_policy.as_deref()), ("proxy", Some("Always")));
        assert_eq!(spec.containers.len(), 1);
    }
}
