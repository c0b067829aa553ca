//! Restarting the pods whose Secrets changed. `kompile build` leaves Secrets out of the pod
//! template's config checksum (a digest of a short password lets anyone who can read the
//! workload test guesses against it), so a changed Secret alone would change no template and
//! restart nothing. `kompile apply` knows better: once the Secrets are applied, each workload's
//! pod template gets the `resourceVersion` of every applied Secret it uses. The versions change
//! exactly when the Secrets' contents do, so the workloads that use a changed Secret roll, and
//! no others; applying again with nothing changed changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::plan::Manifest;

/// The pod template annotation: `name=resourceVersion` of each Secret, by name.
pub const SECRET_VERSIONS: &str = "kompile.dev/secret-versions";

/// The version `diff` shows for a Secret that applying would change: its new
/// `resourceVersion` is only known once it is written.
pub const PENDING: &str = "(changes)";

/// Versions of the Secrets applied in this run, by namespace and name.
pub type Versions = BTreeMap<(Option<String>, String), String>;

/// `manifest` with the versions of the applied Secrets its pods use on their template; `None`
/// when it is no workload or uses none of them.
pub fn stamped(manifest: &Manifest, versions: &Versions) -> Option<Manifest> {
    let template = template_pointer(&manifest.kind)?;
    let used = secrets_used(manifest.body.pointer(template)?);
    let stamp: Vec<String> = used
        .iter()
        .filter_map(|name| Some(format!("{name}={}", versions.get(&(manifest.namespace.clone(), name.clone()))?)))
        .collect();
    if stamp.is_empty() {
        return None;
    }
    let mut out = manifest.clone();
    let metadata = out
        .body
        .pointer_mut(template)?
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let annotations =
        metadata.as_object_mut()?.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
    annotations.as_object_mut()?.insert(SECRET_VERSIONS.to_string(), Value::String(stamp.join(",")));
    Some(out)
}

/// Where a kind keeps its pod template.
fn template_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => Some("/spec/template"),
        "CronJob" => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// The Secrets a pod template reads: environment values and `envFrom` of every container and
/// init container, and secret volumes (plain and projected).
fn secrets_used(template: &Value) -> BTreeSet<String> {
    let spec = &template["spec"];
    let mut names = BTreeSet::new();
    let mut add = |name: &Value| {
        if let Some(name) = name.as_str() {
            names.insert(name.to_string());
        }
    };
    let containers = ["containers", "initContainers"].into_iter().filter_map(|k| spec[k].as_array()).flatten();
    for container in containers {
        for env in container["env"].as_array().into_iter().flatten() {
            add(&env["valueFrom"]["secretKeyRef"]["name"]);
        }
        for from in container["envFrom"].as_array().into_iter().flatten() {
            add(&from["secretRef"]["name"]);
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        add(&volume["secret"]["secretName"]);
        for source in volume["projected"]["sources"].as_array().into_iter().flatten() {
            add(&source["secret"]["name"]);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn workload(kind: &str, spec: Value) -> Manifest {
        let body = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web", "namespace": "shop"}, "spec": spec});
        super::super::plan::manifest(body)
    }

    fn versions(pairs: &[(&str, &str)]) -> Versions {
        pairs.iter().map(|(n, v)| ((Some("shop".to_string()), n.to_string()), v.to_string())).collect()
    }

    #[test]
    fn a_workload_gets_the_versions_of_exactly_the_secrets_it_uses() {
        let pod = json!({"spec": {
            "containers": [{"name": "web", "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "web-secret-env", "key": "PW"}}}]}],
            "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "volumes": [{"name": "tls", "secret": {"secretName": "tls"}}, {"name": "p", "projected": {"sources": [{"secret": {"name": "proj"}}]}}]}});
        let deployment = workload("Deployment", json!({"template": pod}));
        let applied =
            versions(&[("web-secret-env", "17"), ("init-env", "3"), ("tls", "9"), ("proj", "4"), ("other", "1")]);
        let out = stamped(&deployment, &applied).expect("uses applied Secrets");
        let stamp = &out.body["spec"]["template"]["metadata"]["annotations"][SECRET_VERSIONS];
        assert_eq!(stamp, "init-env=3,proj=4,tls=9,web-secret-env=17");
        assert_eq!(stamped(&deployment, &versions(&[("other", "1")])), None, "none of its Secrets was applied");
    }

    #[test]
    fn cron_jobs_are_stamped_in_their_job_template_and_other_kinds_never() {
        let pod = json!({"spec": {"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}]}});
        let cron = workload("CronJob", json!({"jobTemplate": {"spec": {"template": pod}}}));
        let out = stamped(&cron, &versions(&[("s", "5")])).expect("a CronJob's pods use it");
        assert_eq!(
            out.body["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"][SECRET_VERSIONS],
            "s=5"
        );
        let service = workload("Service", json!({"template": pod}));
        assert_eq!(stamped(&service, &versions(&[("s", "5")])), None);
    }
}
