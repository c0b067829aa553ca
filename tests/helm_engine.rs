//! Templates kompile writes, rendered by the real Helm engine (PyPI `helm-python-sdk`, run by
//! `tests/support/helm_render.py` under `KOMPILE_HELM_PYTHON`, else `python3`): the chart's
//! default values give back the object, and a changed value changes exactly its field.

use std::path::Path;
use std::process::Command;

use kompile::render::helm::{Parameter, template};
use serde_json::{Value, json};

use crate::support;

/// Renders the chart in `dir` with `values` over its defaults; `None` when the engine is not
/// installed (skipped here, a failure under CI).
fn render(dir: &Path, values: &Value) -> Option<Value> {
    let python = std::env::var("KOMPILE_HELM_PYTHON").unwrap_or_else(|_| "python3".into());
    let overrides = dir.join("overrides.json");
    std::fs::write(&overrides, values.to_string()).expect("written");
    let script = support::root().join("tests/support/helm_render.py");
    let output = Command::new(&python).arg(script).arg(dir.join("chart")).arg(&overrides).output().ok();
    let found = output.filter(|o| o.status.code() != Some(3));
    let install = "python3 -m venv V && V/bin/pip install helm-python-sdk, then KOMPILE_HELM_PYTHON=V/bin/python";
    let output = support::tool("the Helm engine (helm-python-sdk)", install, found)?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("JSON from helm_render.py"))
}

#[test]
fn a_template_renders_back_to_its_object_and_follows_its_values() {
    let object = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "nginx:1.27",
                    "env": [{"name": "PORT", "value": "8080"}, {"name": "FLAG", "value": "true"}],
                }]},
            },
        },
    });
    let parameter =
        |pointer: &str, expression: &str| Parameter { pointer: pointer.into(), expression: expression.into() };
    let parameters = [
        parameter("/spec/replicas", ".Values.replicas"),
        parameter("/spec/template/spec/containers/0/image", ".Values.image"),
        parameter("/spec/template/spec/containers/0/env/0/value", "(index .Values.env \"PORT\")"),
        parameter("/spec/template/spec/containers/0/env/1/value", "(index .Values.env \"FLAG\")"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).expect("dirs");
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.1.0\n").expect("written");
    let defaults = json!({"replicas": 2, "image": "nginx:1.27", "env": {"PORT": "8080", "FLAG": "true"}});
    std::fs::write(chart.join("values.yaml"), defaults.to_string()).expect("written");
    std::fs::write(chart.join("templates/web.yaml"), template(&object, &parameters)).expect("written");

    let Some(rendered) = render(dir.path(), &json!({})) else { return };
    let text = rendered["manifests"]["demo/templates/web.yaml"].as_str().expect("rendered");
    let back: Value = serde_saphyr::from_str(text).expect("YAML");
    assert_eq!(back, object, "strings that look like numbers or booleans stay strings:\n{text}");

    let Some(rendered) = render(dir.path(), &json!({"replicas": 5, "env": {"PORT": "9090"}})) else { return };
    let text = rendered["manifests"]["demo/templates/web.yaml"].as_str().expect("rendered");
    let changed: Value = serde_saphyr::from_str(text).expect("YAML");
    let mut expected = object.clone();
    expected["spec"]["replicas"] = json!(5);
    expected["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = json!("9090");
    assert_eq!(changed, expected, "exactly the changed values move");
}
