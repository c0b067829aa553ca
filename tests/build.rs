//! `kompile build` on every fixture: snapshots of the manifests and of the diagnostics, and
//! structural checks a Kubernetes API server would make.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, PodTemplateSpec, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kompile::emit::Object;
use kompile::render;

use crate::support;

fn compiled_fixtures() -> Vec<(String, support::Compiled)> {
    let mut all = Vec::new();
    for group in ["projects", "features", "conformance"] {
        for dir in support::fixtures(group) {
            let name = format!("{group}-{}", support::name(&dir));
            all.push((name, support::compile(&support::options(&dir))));
        }
    }
    assert!(all.len() >= 4, "fixtures are missing");
    all
}

#[test]
fn manifests_match_snapshots() {
    for (name, compiled) in compiled_fixtures() {
        let output = match &compiled.objects {
            Some(objects) => render::yaml(objects),
            None => String::from("# no output: the input has errors\n"),
        };
        let text = format!("# diagnostics\n{}\n# manifests\n{output}", compiled.diagnostics);
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("build-{name}"), text);
        });
    }
}

#[test]
fn projects_compile_without_errors() {
    for dir in support::fixtures("projects") {
        let compiled = support::compile(&support::options(&dir));
        assert!(compiled.objects.is_some(), "{}: {}", dir.display(), compiled.diagnostics);
    }
}

/// Each object survives a trip through its k8s-openapi type unchanged: nothing we emit is
/// a field the API does not know.
#[test]
fn objects_round_trip_through_typed_api() {
    for (name, compiled) in compiled_fixtures() {
        for object in compiled.objects.unwrap_or_default() {
            let value = object.to_value();
            let again = match object.kind() {
                "Deployment" => retyped::<Deployment>(&value),
                "StatefulSet" => retyped::<k8s_openapi::api::apps::v1::StatefulSet>(&value),
                "DaemonSet" => retyped::<k8s_openapi::api::apps::v1::DaemonSet>(&value),
                "Job" => retyped::<k8s_openapi::api::batch::v1::Job>(&value),
                "CronJob" => retyped::<k8s_openapi::api::batch::v1::CronJob>(&value),
                "Service" => retyped::<Service>(&value),
                "Ingress" => retyped::<k8s_openapi::api::networking::v1::Ingress>(&value),
                "ConfigMap" => retyped::<ConfigMap>(&value),
                "Secret" => retyped::<Secret>(&value),
                "PersistentVolumeClaim" => retyped::<PersistentVolumeClaim>(&value),
                "NetworkPolicy" => retyped::<NetworkPolicy>(&value),
                "PodDisruptionBudget" => retyped::<k8s_openapi::api::policy::v1::PodDisruptionBudget>(&value),
                "HorizontalPodAutoscaler" => {
                    retyped::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>(&value)
                }
                "ServiceAccount" => retyped::<k8s_openapi::api::core::v1::ServiceAccount>(&value),
                "Role" => retyped::<k8s_openapi::api::rbac::v1::Role>(&value),
                "RoleBinding" => retyped::<k8s_openapi::api::rbac::v1::RoleBinding>(&value),
                kind => panic!("{name}: unexpected kind {kind}"),
            };
            assert_eq!(again, value, "{name}: {} {} changed", object.kind(), object.name());
        }
    }
}

fn retyped<T: serde::de::DeserializeOwned + serde::Serialize>(value: &serde_json::Value) -> serde_json::Value {
    let typed: T = serde_json::from_value(value.clone()).expect("valid object");
    serde_json::to_value(typed).expect("serializable")
}

/// The YAML we print parses back to the same objects.
#[test]
fn yaml_output_parses_back() {
    for (name, compiled) in compiled_fixtures() {
        let Some(objects) = compiled.objects else { continue };
        let yaml = render::yaml(&objects);
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).expect("parsable YAML");
        let expected: Vec<serde_json::Value> = objects.iter().map(Object::to_value).collect();
        assert_eq!(docs, expected, "{name}");
    }
}

#[test]
fn selectors_ports_and_probes_line_up() {
    for (name, compiled) in compiled_fixtures() {
        let objects = compiled.objects.unwrap_or_default();
        // Every kind of workload's pods, by the name label Services select them by.
        let pods: BTreeMap<&str, &PodTemplateSpec> = objects
            .iter()
            .filter_map(Object::pod_template)
            .map(|t| (pod_label(t).unwrap_or_else(|| panic!("{name}: pods without a name label")), t))
            .collect();
        for object in &objects {
            let Some(template) = object.pod_template() else { continue };
            check_pods(&name, object.kind(), template);
            if let Object::Deployment(deployment) = object {
                check_deployment(&name, deployment);
            }
            if let Some(selector) = workload_selector(object) {
                let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref()).expect("template labels");
                for (key, value) in selector {
                    assert_eq!(
                        labels.get(key),
                        Some(value),
                        "{name}: selector label {key} missing from the pod template"
                    );
                }
            }
        }
        for object in &objects {
            if let Object::Service(service) = object {
                // A Service of an extra name (`container_name`, an alias), `<service>-published`
                // or `<service>-headless` selects the pods its selector names.
                let selected = service
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| s.get("app.kubernetes.io/name"));
                let template = selected
                    .and_then(|n| pods.get(n.as_str()))
                    .unwrap_or_else(|| panic!("{name}: service {} without pods", object.name()));
                check_service(&name, service, template);
            }
        }
    }
}

fn pod_label(template: &PodTemplateSpec) -> Option<&str> {
    template.metadata.as_ref()?.labels.as_ref()?.get("app.kubernetes.io/name").map(String::as_str)
}

/// The selector a workload states (a Job's is generated by Kubernetes).
fn workload_selector(object: &Object) -> Option<&BTreeMap<String, String>> {
    let selector = match object {
        Object::Deployment(o) => &o.spec.as_ref()?.selector,
        Object::StatefulSet(o) => &o.spec.as_ref()?.selector,
        Object::DaemonSet(o) => &o.spec.as_ref()?.selector,
        _ => return None,
    };
    selector.match_labels.as_ref()
}

fn check_deployment(fixture: &str, deployment: &Deployment) {
    let spec = deployment.spec.as_ref().expect("spec");
    let strategy = spec.strategy.as_ref().expect("strategy");
    if let Some(rolling) = &strategy.rolling_update {
        let unavailable = rolling.max_unavailable.as_ref().map(int_or_string);
        let surge = rolling.max_surge.as_ref().map(int_or_string);
        assert!(unavailable != Some(0) || surge != Some(0), "{fixture}: a rollout that can never progress");
    }
}

fn check_pods(fixture: &str, kind: &str, template: &PodTemplateSpec) {
    let pod = template.spec.as_ref().expect("pod spec");
    let runs_to_completion = matches!(kind, "Job" | "CronJob");
    assert_eq!(
        runs_to_completion,
        pod.restart_policy.is_some(),
        "{fixture}: a {kind}'s pods restart {:?}",
        pod.restart_policy
    );
    for container in &pod.containers {
        let names: Vec<&str> = container.ports.iter().flatten().filter_map(|p| p.name.as_deref()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{fixture}: duplicate port names");
        for port in &names {
            assert!(
                port.len() <= 15 && port.chars().any(|c| c.is_ascii_lowercase()),
                "{fixture}: bad port name {port}"
            );
        }
        if runs_to_completion {
            assert!(
                container.readiness_probe.is_none() && container.startup_probe.is_none(),
                "{fixture}: a task is probed for traffic"
            );
        }
        for probe in
            [&container.readiness_probe, &container.liveness_probe, &container.startup_probe].into_iter().flatten()
        {
            let command = probe.exec.as_ref().and_then(|e| e.command.as_ref()).expect("exec probe");
            assert!(!command.is_empty() && !command[0].starts_with("CMD"), "{fixture}: probe command {command:?}");
        }
    }
}

fn check_service(fixture: &str, service: &Service, template: &PodTemplateSpec) {
    let spec = service.spec.as_ref().expect("spec");
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref()).expect("labels");
    for (key, value) in spec.selector.as_ref().expect("selector") {
        assert_eq!(labels.get(key), Some(value), "{fixture}: service selector does not match its pods");
    }
    let container_ports: Vec<String> = template
        .spec
        .iter()
        .flat_map(|p| &p.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| p.name.clone())
        .collect();
    for port in spec.ports.iter().flatten() {
        match &port.target_port {
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name)) => {
                assert!(container_ports.contains(name), "{fixture}: targetPort {name} names no container port")
            }
            other => panic!("{fixture}: targetPort should be a port name, got {other:?}"),
        }
    }
}

fn int_or_string(value: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString) -> i32 {
    match value {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => *n,
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => {
            s.trim_end_matches('%').parse().unwrap_or(-1)
        }
    }
}

/// The same input gives byte-identical output.
#[test]
fn output_is_deterministic() {
    for dir in support::fixtures("projects") {
        let first = support::compile(&support::options(&dir)).objects.map(|o| render::yaml(&o));
        let second = support::compile(&support::options(&dir)).objects.map(|o| render::yaml(&o));
        assert_eq!(first, second, "{}", dir.display());
    }
}

/// What the API server validates beyond the schema, written out here independently of
/// kompile's own helpers: names, label and annotation keys, label values, environment
/// names, ConfigMap keys, unique and clean mount paths.
#[test]
fn objects_pass_api_server_validation() {
    for (name, compiled) in compiled_fixtures() {
        for object in compiled.objects.unwrap_or_default() {
            let value = object.to_value();
            let at = format!("{name}: {} {}", object.kind(), object.name());
            check_metadata(&at, &value["metadata"], object.kind() == "Service");
            if let Some(template) = object.pod_template() {
                let metadata = serde_json::to_value(&template.metadata).unwrap_or_default();
                check_metadata(&at, &metadata, false);
                check_pod(&at, template.spec.as_ref().expect("pod spec"));
            }
            if let Object::ConfigMap(map) = &object {
                let keys = map.data.iter().flat_map(|d| d.keys()).chain(map.binary_data.iter().flat_map(|d| d.keys()));
                for key in keys {
                    let ok = !key.is_empty()
                        && key.len() <= 253
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
                    assert!(ok, "{at}: ConfigMap key {key:?}");
                }
            }
        }
    }
}

fn is_dns_label(text: &str) -> bool {
    (1..=63).contains(&text.len())
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn is_name_part(text: &str) -> bool {
    (1..=63).contains(&text.len())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_qualified_name(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => prefix.len() <= 253 && prefix.split('.').all(is_dns_label) && is_name_part(name),
        None => is_name_part(key),
    }
}

fn check_metadata(at: &str, metadata: &serde_json::Value, dns_1035: bool) {
    if let Some(name) = metadata["name"].as_str() {
        assert!(name.len() <= 253 && name.split('.').all(is_dns_label), "{at}: name {name:?}");
        if dns_1035 {
            assert!(is_dns_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()), "{at}: Service name");
        }
    }
    for (key, value) in metadata["labels"].as_object().into_iter().flatten() {
        assert!(is_qualified_name(key), "{at}: label key {key:?}");
        let value = value.as_str().unwrap_or_default();
        assert!(value.is_empty() || is_name_part(value), "{at}: label value {value:?}");
    }
    for key in metadata["annotations"].as_object().into_iter().flatten().map(|(k, _)| k) {
        assert!(is_qualified_name(key), "{at}: annotation key {key:?}");
    }
}

fn check_pod(at: &str, pod: &k8s_openapi::api::core::v1::PodSpec) {
    let clean = |path: &str| path.starts_with('/') && !path.split('/').any(|part| part == ".." || part == ".");
    for container in &pod.containers {
        for env in container.env.iter().flatten() {
            let mut chars = env.name.chars();
            let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || "-._".contains(c))
                && chars.all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
            assert!(ok, "{at}: env name {:?}", env.name);
        }
        let mut paths = std::collections::BTreeSet::new();
        for mount in container.volume_mounts.iter().flatten() {
            assert!(clean(&mount.mount_path), "{at}: mountPath {}", mount.mount_path);
            assert!(paths.insert(mount.mount_path.as_str()), "{at}: two mounts at {}", mount.mount_path);
        }
    }
    for volume in pod.volumes.iter().flatten() {
        if let Some(host) = &volume.host_path {
            assert!(clean(&host.path) || host.path == "/", "{at}: hostPath {}", host.path);
        }
    }
}

/// The config checksum on each pod template changes when a file the pods use changes, and
/// for no other workload: changing a file rolls exactly the workloads that use it.
#[test]
fn a_changed_file_rolls_exactly_the_workloads_that_use_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes: [./nginx.conf:/etc/nginx/nginx.conf:ro]\n  api:\n    image: api:1\n    env_file: api.env\n    configs: [app]\n  worker:\n    image: worker:1\nconfigs:\n  app:\n    file: ./app.toml\n";
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("written");
    write("compose.yaml", compose);
    write("nginx.conf", "events {}\n");
    write("api.env", "LEVEL=info\n");
    write("app.toml", "a = 1\n");
    let checksums = || -> BTreeMap<String, Option<String>> {
        let compiled = support::compile(&support::options(dir.path()));
        let objects = compiled.objects.unwrap_or_else(|| panic!("{}", compiled.diagnostics));
        let sum = |o: &Object| {
            let value = o.to_value();
            value["spec"]["template"]["metadata"]["annotations"]["kompile.dev/config-checksum"]
                .as_str()
                .map(String::from)
        };
        objects.iter().filter(|o| o.kind() == "Deployment").map(|o| (o.name().to_string(), sum(o))).collect()
    };
    let before = checksums();
    assert!(before["web"].is_some() && before["api"].is_some(), "{before:?}");
    assert_eq!(before["worker"], None, "uses no ConfigMap");
    let changed = |name: &str, text: &str| {
        write(name, text);
        let after = checksums();
        after.keys().filter(|k| after[*k] != before[*k]).cloned().collect::<Vec<_>>()
    };
    assert_eq!(changed("nginx.conf", "events { worker_connections 64; }\n"), ["web"]);
    write("nginx.conf", "events {}\n");
    assert_eq!(changed("api.env", "LEVEL=debug\n"), ["api"]);
    write("api.env", "LEVEL=info\n");
    assert_eq!(changed("app.toml", "a = 2\n"), ["api"]);
    write("app.toml", "a = 1\n");
    assert_eq!(checksums(), before, "the same files give the same checksums");
}
