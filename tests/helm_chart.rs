//! Charts from `kompile build --helm`, rendered by the real Helm v4 engine (PyPI
//! `helm-python-sdk`, run by `tests/support/helm_render.py` under `KOMPILE_HELM_PYTHON`,
//! else `python3`): with the default values (and the Secrets' values given at install) a
//! chart renders exactly what `kompile build` prints, object by object; a changed value
//! changes exactly the fields it sets; `lint --strict` is clean; the schema refuses values of
//! the wrong type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use kompile::render::helm::{Parameter, template};
use serde_json::{Value, json};

use crate::support;

/// Runs helm_render.py on `chart` with `values` over its defaults; `None` when the engine is
/// not installed (skipped here, a failure under CI).
fn engine(chart: &Path, values: &Value, extra: &[&str]) -> Option<Output> {
    let python = std::env::var("KOMPILE_HELM_PYTHON").unwrap_or_else(|_| "python3".into());
    let overrides = chart.with_extension("values.json");
    std::fs::write(&overrides, values.to_string()).expect("written");
    let script = support::root().join("tests/support/helm_render.py");
    let output = Command::new(&python).arg(script).arg(chart).arg(&overrides).args(extra).output().ok();
    let found = output.filter(|o| o.status.code() != Some(3));
    let install = "python3 -m venv V && V/bin/pip install helm-python-sdk, then KOMPILE_HELM_PYTHON=V/bin/python";
    support::tool("the Helm engine (helm-python-sdk)", install, found)
}

/// The rendered objects, by kind and name, and the rendered NOTES.txt.
fn render(chart: &Path, values: &Value, extra: &[&str]) -> Option<(BTreeMap<String, Value>, String)> {
    let output = engine(chart, values, extra)?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rendered: Value = serde_json::from_slice(&output.stdout).expect("JSON from helm_render.py");
    let mut objects = BTreeMap::new();
    for text in rendered["manifests"].as_object().expect("manifests").values() {
        let documents: Vec<Value> = serde_saphyr::from_str_multiple(text.as_str().unwrap_or_default()).expect("YAML");
        for object in documents.into_iter().filter(|d| !d.is_null()) {
            objects.insert(key(&object), object);
        }
    }
    Some((objects, rendered["notes"].as_str().unwrap_or_default().to_string()))
}

fn key(object: &Value) -> String {
    format!(
        "{}/{}",
        object["kind"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// What `kompile build` prints for `files`, by kind and name.
fn built(files: &[PathBuf], extra: &[&str]) -> BTreeMap<String, Value> {
    let run = support::kompile(support::root()).arg("build").args(files).args(["-o", "json"]).args(extra).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
    list["items"].as_array().expect("items").iter().map(|o| (key(o), o.clone())).collect()
}

/// Writes the chart of `files` into `dir/<name>` and returns its path.
fn chart(files: &[PathBuf], dir: &Path, extra: &[&str]) -> PathBuf {
    let chart = dir.join("chart");
    let run = support::kompile(support::root()).arg("build").args(files).arg("--helm").arg(&chart).args(extra).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    chart
}

/// The values that give each of kompile's Secrets the bytes `build` put in it, as an
/// install gives them with `--set-file`; `None` when one is not text.
fn secret_values(objects: &BTreeMap<String, Value>) -> Option<Value> {
    let mut secrets = serde_json::Map::new();
    for object in objects.values().filter(|o| o["kind"] == "Secret") {
        let mut data = serde_json::Map::new();
        for (key, value) in object["data"].as_object().into_iter().flatten() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(value.as_str()?).ok()?;
            data.insert(key.clone(), json!(String::from_utf8(bytes).ok()?));
        }
        let name = object["metadata"]["name"].as_str()?.to_string();
        secrets.insert(name, json!({"data": data}));
    }
    Some(if secrets.is_empty() { json!({}) } else { json!({"secrets": secrets}) })
}

/// The compose files of a fixture directory, as the other fixture tests read it.
fn files_of(dir: &Path) -> Vec<PathBuf> {
    support::options(dir).files
}

/// Every fixture project and feature: the chart renders what `build` prints, and lints clean.
#[test]
fn every_fixture_chart_renders_what_build_prints() {
    let mut dirs = support::fixtures("projects");
    dirs.extend(support::fixtures("features"));
    let mut compared = 0;
    for dir in dirs {
        let files = files_of(&dir);
        let run = support::kompile(support::root()).arg("build").args(&files).args(["-o", "json"]).run();
        if run.code != 0 {
            continue; // A feature fixture that shows an error has nothing to chart.
        }
        let expected = built(&files, &[]);
        let Some(values) = secret_values(&expected) else { continue };
        let temp = tempfile::tempdir().expect("temp dir");
        let chart = chart(&files, temp.path(), &[]);
        let Some((rendered, _)) = render(&chart, &values, &["--lint"]) else { return };
        assert_eq!(rendered.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{}", dir.display());
        for (key, object) in &expected {
            assert_eq!(&rendered[key], object, "{}: {key}", dir.display());
        }
        compared += 1;
    }
    assert!(compared >= 30, "only {compared} fixtures compared");
}

/// The release namespace is the namespace `-n` would have written.
#[test]
fn a_namespace_comes_from_the_release() {
    let files = files_of(&support::root().join("fixtures/projects/voting"));
    let expected = built(&files, &["-n", "shop"]);
    let temp = tempfile::tempdir().expect("temp dir");
    let voting = chart(&files, temp.path(), &["-n", "shop"]);
    let values = secret_values(&expected).expect("text secrets");
    let Some((rendered, _)) = render(&voting, &values, &["--namespace", "shop"]) else { return };
    assert_eq!(rendered, expected);
    // Installed elsewhere, nothing names the namespace it was built for: the wait Role's
    // binding (webapp's API waits for its migration Job) names the release's.
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let expected = built(&files, &["-n", "shop"]);
    let webapp = chart(&files, &temp.path().join("webapp"), &["-n", "shop"]);
    let values = secret_values(&expected).expect("text secrets");
    let Some((rendered, _)) = render(&webapp, &values, &["--namespace", "other"]) else { return };
    let text = serde_json::to_string(&rendered).expect("JSON");
    assert!(!text.contains("\"shop\""), "{text}");
    let subjects = &rendered["RoleBinding/api-wait"]["subjects"][0];
    assert_eq!(subjects["namespace"], "other", "{subjects}");
}

/// Changed values move exactly the fields they set, and nothing else.
#[test]
fn changed_values_change_exactly_their_fields() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let base = built(&files, &[]);
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    let mut values = secret_values(&base).expect("text secrets");
    values["services"] = json!({
        "api": {"replicas": 3, "image": {"tag": "1.5.0"}, "env": {"LOG_LEVEL": "info", "WORKERS": 8}},
        "frontend": {"expose": {"type": "NodePort"}},
        "db": {"persistence": {"pgdata": {"size": "20Gi", "storageClass": "fast"}}},
    });
    let Some((rendered, _)) = render(&chart, &values, &[]) else { return };
    let mut expected = base.clone();
    let api = expected.get_mut("Deployment/api").expect("api");
    api["spec"]["replicas"] = json!(3);
    let container = &mut api["spec"]["template"]["spec"]["containers"][0];
    container["image"] = json!("webapp-api:1.5.0");
    let env = container["env"].as_array_mut().expect("env");
    let level = env.iter_mut().find(|e| e["name"] == "LOG_LEVEL").expect("LOG_LEVEL");
    level["value"] = json!("info");
    // WORKERS is in the env file's ConfigMap: it changes there, and the pods' checksum with it.
    expected.get_mut("ConfigMap/api-env").expect("api-env")["data"]["WORKERS"] = json!("8");
    let annotations = &rendered["Deployment/api"]["spec"]["template"]["metadata"]["annotations"];
    let checksum = &annotations["kompile.dev/config-checksum"];
    assert_ne!(
        checksum,
        &base["Deployment/api"]["spec"]["template"]["metadata"]["annotations"]["kompile.dev/config-checksum"]
    );
    expected.get_mut("Deployment/api").expect("api")["spec"]["template"]["metadata"]["annotations"]["kompile.dev/config-checksum"] =
        checksum.clone();
    expected.get_mut("Service/frontend-published").expect("published")["spec"]["type"] = json!("NodePort");
    let claim = &mut expected.get_mut("StatefulSet/db").expect("db")["spec"]["volumeClaimTemplates"][0]["spec"];
    claim["resources"]["requests"]["storage"] = json!("20Gi");
    claim["storageClassName"] = json!("fast");
    assert_eq!(rendered, expected);
}

/// An env-file value given as a number renders the same string, and the pods keep `build`'s
/// checksum: nothing they see changed.
#[test]
fn a_value_given_as_a_number_keeps_the_checksum() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let base = built(&files, &[]);
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    let mut values = secret_values(&base).expect("text secrets");
    values["services"] = json!({"api": {"env": {"WORKERS": 4}}});
    let Some((rendered, _)) = render(&chart, &values, &[]) else { return };
    assert_eq!(rendered, base);
}

/// `existingSecret`: the chart writes no Secret and every reference names the user's.
#[test]
fn an_existing_secret_replaces_the_charts_own() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let base = built(&files, &[]);
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    let values = json!({"secrets": {"db-password": {"existingSecret": "prod-db"}}});
    let Some((rendered, notes)) = render(&chart, &values, &[]) else { return };
    let mut expected = base.clone();
    expected.remove("Secret/db-password");
    for object in expected.values_mut() {
        let text = serde_json::to_string(object).expect("JSON");
        let text = text.replace("\"secretName\":\"db-password\"", "\"secretName\":\"prod-db\"");
        *object = serde_json::from_str(&text).expect("JSON");
    }
    assert_eq!(rendered, expected, "no Secret of the chart's, and the user's named where it was");
    assert!(notes.contains("--set-file secrets.db-password.data.db_password=<file>"), "{notes}");
    let text = std::fs::read_to_string(chart.join("templates/03-secret-db-password.yaml")).expect("template");
    assert!(!text.contains("czNjcjN0"), "no secret value is in the chart:\n{text}");
    let mut names = Vec::new();
    collect(&chart, &chart, &mut names);
    let everything: String = names.iter().map(|n| std::fs::read_to_string(chart.join(n)).unwrap_or_default()).collect();
    assert!(!everything.contains("s3cr3t") && !everything.contains("czNjcjN0"), "a secret value in the chart");
}

/// A Secret not given at install stops the install with the command that gives it.
#[test]
fn a_missing_secret_value_stops_the_install_with_a_hint() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    let Some(output) = engine(&chart, &json!({}), &[]) else { return };
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--set-file secrets.db-password.data.db_password=<file>"), "{stderr}");
}

/// The schema refuses a value of the wrong type and a key the chart does not read.
#[test]
fn the_schema_refuses_wrong_values() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let base = built(&files, &[]);
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    for (wrong, named) in [
        (json!({"api": {"replicas": "many"}}), "replicas"),
        (json!({"api": {"replica": 3}}), "replica"),
        (json!({"frontend": {"expose": {"type": "Public"}}}), "type"),
    ] {
        let mut values = secret_values(&base).expect("text secrets");
        values["services"] = wrong;
        let Some(output) = engine(&chart, &values, &[]) else { return };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
}

#[test]
fn a_template_renders_back_to_its_object_and_follows_its_values() {
    let object = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{
            "name": "web",
            "image": "nginx:1.27",
            "env": [{"name": "PORT", "value": "8080"}, {"name": "FLAG", "value": "true"}],
        }]}}},
    });
    let parameters = [
        Parameter::new("/spec/replicas", ".Values.replicas"),
        Parameter::new("/spec/template/spec/containers/0/env/0/value", "(index .Values.env \"PORT\")"),
        Parameter::optional("/spec/template/spec/containers/0/resources", ".Values.resources"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).expect("dirs");
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.1.0\n").expect("written");
    let defaults = json!({"replicas": 2, "env": {"PORT": "8080"}, "resources": {}});
    std::fs::write(chart.join("values.yaml"), defaults.to_string()).expect("written");
    std::fs::write(chart.join("templates/web.yaml"), template(&object, &parameters, None)).expect("written");
    let Some((rendered, _)) = render(&chart, &json!({}), &[]) else { return };
    assert_eq!(rendered["Deployment/web"], object, "strings that look like numbers stay strings; no empty key");
    let changed = json!({"replicas": 5, "env": {"PORT": "9090"}, "resources": {"limits": {"cpu": "1"}}});
    let Some((rendered, _)) = render(&chart, &changed, &[]) else { return };
    let mut expected = object.clone();
    expected["spec"]["replicas"] = json!(5);
    let container = &mut expected["spec"]["template"]["spec"]["containers"][0];
    container["env"][0]["value"] = json!("9090");
    container["resources"] = json!({"limits": {"cpu": "1"}});
    assert_eq!(rendered["Deployment/web"], expected, "exactly the changed values move");
}

/// The whole chart of one project, file by file: what a reviewer sees change.
#[test]
fn the_webapp_chart_snapshot() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &[]);
    let mut names = Vec::new();
    collect(&chart, &chart, &mut names);
    names.sort();
    let text: String = names
        .iter()
        .map(|name| format!("=== {name}\n{}", std::fs::read_to_string(chart.join(name)).expect("a file")))
        .collect();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("helm-chart-webapp", text);
    });
}

/// The paths of every file under `dir`, relative to `root`.
fn collect(root: &Path, dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, names);
        } else if let Ok(relative) = path.strip_prefix(root) {
            names.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// `--helm-release-prefix`: every name starts with the release's and every reference
/// follows; taken back out, the objects are `build`'s.
#[test]
fn release_names_rename_every_object_and_reference() {
    let files = files_of(&support::root().join("fixtures/projects/webapp"));
    let base = built(&files, &[]);
    let temp = tempfile::tempdir().expect("temp dir");
    let chart = chart(&files, temp.path(), &["--helm-release-prefix"]);
    let values = secret_values(&base).expect("text secrets");
    let Some((rendered, notes)) = render(&chart, &values, &["--release", "shop", "--lint"]) else { return };
    assert!(rendered.values().all(|o| o["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("shop-"))));
    let back: BTreeMap<String, Value> = rendered
        .values()
        .map(|object| {
            let text = serde_json::to_string(object).expect("JSON").replace("\"shop-", "\"");
            let text =
                text.replace("\"app.kubernetes.io/instance\":\"shop\"", "\"app.kubernetes.io/instance\":\"webapp\"");
            let object: Value = serde_json::from_str(&text).expect("JSON");
            (key(&object), object)
        })
        .collect();
    assert_eq!(back, base, "names, references, wait arguments and instance labels, and nothing else");
    assert!(notes.contains("Services are named shop-<service>"), "{notes}");
    // The compose service a wait container names in its messages keeps its compose name.
    let waits = &rendered["Deployment/shop-api"]["spec"]["template"]["spec"]["initContainers"];
    let last: Vec<&str> =
        waits.as_array().into_iter().flatten().filter_map(|c| c["command"].as_array()?.last()?.as_str()).collect();
    assert_eq!(last, ["migrate", "cache"], "{waits}");
    // A release name as long as Helm allows keeps names distinct and within their limits.
    let long = "acme-webapp-production-eu-west-1-blue-2024q4-xyz";
    let Some((rendered, _)) = render(&chart, &values, &["--release", long]) else { return };
    let names: Vec<(&str, &str)> =
        rendered.values().filter_map(|o| Some((o["kind"].as_str()?, o["metadata"]["name"].as_str()?))).collect();
    let distinct: std::collections::BTreeSet<(&str, &str)> = names.iter().copied().collect();
    assert_eq!(distinct.len(), base.len(), "{names:?}");
    for (kind, name) in names {
        let limit = if matches!(kind, "StatefulSet" | "CronJob") { 52 } else { 63 };
        assert!(name.len() <= limit && name.starts_with("acme-webapp"), "{kind} {name}");
    }
}
