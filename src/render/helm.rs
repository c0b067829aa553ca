//! Helm templates from emitted objects: the object is written as `build` writes it, with the
//! values a chart user may change replaced by template expressions. Each such value is first
//! replaced by a sentinel string, the object rendered as YAML, and the sentinel then replaced
//! by `{{ toJson <expression> }}`: JSON is YAML's flow style, so any value (a number, a
//! string, a map) renders back exactly, and the chart's default values give the object
//! `build` prints.

use serde_json::Value;

/// A value of an object that the chart's values set: where it is (a JSON pointer,
/// `/spec/replicas`) and the Helm expression for it (`.Values.services.web.replicas`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub pointer: String,
    pub expression: String,
}

/// The sentinel that stands for parameter `index` while the object is rendered: a string
/// no object holds, which YAML writes without quotes.
fn sentinel(index: usize) -> String {
    format!("kompile-parameter-{index}-7f3c")
}

/// `object` as a template: YAML, with each parameter's value replaced by its expression. A
/// pointer that names nothing in the object is left out (the object has no such value).
pub fn template(object: &Value, parameters: &[Parameter]) -> String {
    let mut object = object.clone();
    let mut used = Vec::new();
    for (index, parameter) in parameters.iter().enumerate() {
        if let Some(slot) = object.pointer_mut(&parameter.pointer) {
            *slot = Value::String(sentinel(index));
            used.push(index);
        }
    }
    let mut text = super::yaml::document(&object);
    for index in used {
        let expression = format!("{{{{ toJson {} }}}}", parameters[index].expression);
        text = text.replace(&sentinel(index), &expression);
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What Helm makes of `text` when each expression's value is the one in `values`: the
    /// expression replaced by the value's JSON, then read as YAML.
    fn rendered(text: &str, values: &[(&str, Value)]) -> Value {
        let mut text = text.to_string();
        for (expression, value) in values {
            text = text.replace(&format!("{{{{ toJson {expression} }}}}"), &value.to_string());
        }
        serde_saphyr::from_str(&text).expect("valid YAML")
    }

    fn parameter(pointer: &str, expression: &str) -> Parameter {
        Parameter { pointer: pointer.into(), expression: expression.into() }
    }

    #[test]
    fn default_values_give_back_the_object() {
        let object = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [{
                    "name": "web",
                    "image": "nginx:1.27",
                    "env": [{"name": "MODE", "value": "8080"}, {"name": "EMPTY", "value": ""}],
                    "resources": {"limits": {"memory": "256Mi"}},
                }]}},
            },
        });
        let parameters = [
            parameter("/spec/replicas", ".Values.services.web.replicas"),
            parameter("/spec/template/spec/containers/0/image", ".Values.services.web.image"),
            parameter("/spec/template/spec/containers/0/env/0/value", "(index .Values.services.web.env \"MODE\")"),
            parameter("/spec/template/spec/containers/0/env/1/value", "(index .Values.services.web.env \"EMPTY\")"),
            parameter("/spec/template/spec/containers/0/resources", ".Values.services.web.resources"),
            parameter("/spec/missing", ".Values.nothing"),
        ];
        let text = template(&object, &parameters);
        assert!(text.contains("replicas: {{ toJson .Values.services.web.replicas }}"), "{text}");
        assert!(!text.contains(".Values.nothing"), "a value the object lacks is no parameter");
        let defaults = [
            (".Values.services.web.replicas", json!(2)),
            (".Values.services.web.image", json!("nginx:1.27")),
            ("(index .Values.services.web.env \"MODE\")", json!("8080")),
            ("(index .Values.services.web.env \"EMPTY\")", json!("")),
            (".Values.services.web.resources", json!({"limits": {"memory": "256Mi"}})),
        ];
        assert_eq!(rendered(&text, &defaults), object, "a string that looks like a number stays a string");
        let mut changed = defaults.clone();
        changed[0].1 = json!(5);
        assert_eq!(rendered(&text, &changed)["spec"]["replicas"], json!(5));
    }
}
