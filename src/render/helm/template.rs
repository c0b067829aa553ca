//! An object as a Helm template: written as `build` writes it, with the values a chart user
//! may change replaced by template expressions. Each such value is first replaced by a
//! sentinel string, the object rendered as YAML, and the sentinel then replaced by
//! `{{ toJson <expression> }}`: JSON is YAML's flow style, so any value (a number, a string,
//! a map) renders back exactly, and the chart's default values give the object `build`
//! prints.

use serde_json::Value;

/// A value of an object that the chart's values set: where it is (a JSON pointer,
/// `/spec/replicas`) and the Helm expression for it (`(index $.Values "services" ...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub pointer: String,
    pub expression: String,
    /// The key is written only when the value is not empty (`resources`, `storageClassName`):
    /// an object without it means something else than one with an empty value.
    pub optional: bool,
    /// Any text (an environment value): written through the `kompile.text` helper, which
    /// escapes the characters Helm's JSON leaves raw but YAML readers refuse or fold.
    pub text: bool,
}

impl Parameter {
    /// A value that is always written.
    pub fn new(pointer: impl Into<String>, expression: impl Into<String>) -> Parameter {
        Parameter { pointer: pointer.into(), expression: expression.into(), optional: false, text: false }
    }

    /// A string value that may hold any text.
    pub fn text(pointer: impl Into<String>, expression: impl Into<String>) -> Parameter {
        Parameter { text: true, ..Parameter::new(pointer, expression) }
    }

    /// A key written only when its value is not empty; the object may lack it.
    pub fn optional(pointer: impl Into<String>, expression: impl Into<String>) -> Parameter {
        Parameter { optional: true, ..Parameter::new(pointer, expression) }
    }
}

/// The sentinel that stands for parameter `index` while the object is rendered: a string
/// no object holds, which YAML writes without quotes.
fn sentinel(index: usize) -> String {
    format!("kompile-parameter-{index}-7f3c")
}

/// `object` as a template: YAML, with each parameter's value replaced by its expression, and
/// wrapped in `{{- if <guard> }}` when a guard is given. A pointer that names nothing in the
/// object is left out, unless the parameter is optional and its parent map exists.
pub fn template(object: &Value, parameters: &[Parameter], guard: Option<&str>) -> String {
    let mut object = object.clone();
    let mut used = Vec::new();
    for (index, parameter) in parameters.iter().enumerate() {
        if let Some(slot) = slot(&mut object, parameter) {
            *slot = Value::String(sentinel(index));
            used.push(index);
        }
    }
    // Text in the object that looks like a template (a Go template in a config file) must
    // reach the cluster as written, not be run by Helm.
    let mut text = super::super::yaml::document(&object).replace("{{", "{{ \"{{\" }}");
    for index in used {
        let parameter = &parameters[index];
        text = if parameter.optional {
            with_line(&text, &sentinel(index), &parameter.expression)
        } else if parameter.text {
            text.replace(&sentinel(index), &format!("{{{{ include \"kompile.text\" {} }}}}", parameter.expression))
        } else {
            text.replace(&sentinel(index), &format!("{{{{ toJson {} }}}}", parameter.expression))
        };
    }
    match guard {
        Some(condition) => format!("{{{{- if {condition} }}}}\n{text}{{{{- end }}}}\n"),
        None => text,
    }
}

/// Where the parameter's value goes: the value itself, or for an optional parameter a new
/// key of an existing map.
fn slot<'a>(object: &'a mut Value, parameter: &Parameter) -> Option<&'a mut Value> {
    if object.pointer(&parameter.pointer).is_some() || !parameter.optional {
        return object.pointer_mut(&parameter.pointer);
    }
    let (parent, key) = parameter.pointer.rsplit_once('/')?;
    let map = object.pointer_mut(parent)?.as_object_mut()?;
    let key = key.replace("~1", "/").replace("~0", "~");
    Some(map.entry(key).or_insert(Value::Null))
}

/// The line `<indent>key: <sentinel>` as a block that writes the key only when the value is
/// not empty. A key that begins a list item (`- key:`) never holds an optional value in
/// kompile's objects (their first keys are names), so it is written unconditionally.
fn with_line(text: &str, sentinel: &str, expression: &str) -> String {
    let Some(at) = text.find(sentinel) else { return text.to_string() };
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..at];
    let indent = line.len() - line.trim_start().len();
    if line.trim_start().starts_with("- ") {
        return text.replacen(sentinel, &format!("{{{{ toJson {expression} }}}}"), 1);
    }
    let key = line.trim();
    let block = format!(
        "{pad}{{{{- with {expression} }}}}\n{pad}{key} {{{{ toJson . }}}}\n{{{{- end }}}}",
        pad = " ".repeat(indent)
    );
    format!("{}{}{}", &text[..start], block, &text[at + sentinel.len()..])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What Helm makes of `text` when each expression's value is the one in `values`: the
    /// expression replaced by the value's JSON, an optional key dropped when empty, then
    /// read as YAML.
    fn rendered(text: &str, values: &[(&str, Value)]) -> Value {
        let mut text = text.replace("{{ \"{{\" }}", "{{");
        for (expression, value) in values {
            let with = format!("{{{{- with {expression} }}}}\n");
            while let Some(at) = text.find(&with) {
                let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let body_start = at + with.len();
                let end = body_start + text[body_start..].find("\n{{- end }}").expect("an end");
                let body = text[body_start..end].replace("{{ toJson . }}", &value.to_string());
                let empty = matches!(value, Value::Null) || value == &json!("") || value == &json!({});
                let kept = if empty { String::new() } else { format!("\n{body}") };
                text = format!("{}{}{}", &text[..start.saturating_sub(1)], kept, &text[end + "\n{{- end }}".len()..]);
            }
            text = text.replace(&format!("{{{{ toJson {expression} }}}}"), &value.to_string());
        }
        serde_saphyr::from_str(&text).expect("valid YAML")
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
            Parameter::new("/spec/replicas", ".Values.services.web.replicas"),
            Parameter::new("/spec/template/spec/containers/0/image", ".Values.services.web.image"),
            Parameter::new("/spec/template/spec/containers/0/env/0/value", "(index .Values.services.web.env \"MODE\")"),
            Parameter::new(
                "/spec/template/spec/containers/0/env/1/value",
                "(index .Values.services.web.env \"EMPTY\")",
            ),
            Parameter::new("/spec/template/spec/containers/0/resources", ".Values.services.web.resources"),
            Parameter::new("/spec/missing", ".Values.nothing"),
        ];
        let text = template(&object, &parameters, None);
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

    #[test]
    fn an_optional_key_is_written_only_when_set() {
        let object = json!({"kind": "PersistentVolumeClaim", "spec": {"accessModes": ["ReadWriteOnce"]}});
        let parameters = [Parameter::optional("/spec/storageClassName", ".Values.class")];
        let text = template(&object, &parameters, None);
        assert!(text.contains("  {{- with .Values.class }}\n  storageClassName: {{ toJson . }}\n{{- end }}"), "{text}");
        assert_eq!(rendered(&text, &[(".Values.class", json!(""))]), object);
        let fast = rendered(&text, &[(".Values.class", json!("fast"))]);
        assert_eq!(fast["spec"]["storageClassName"], "fast");
        assert_eq!(fast["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    }

    #[test]
    fn template_text_in_a_value_is_kept_and_a_guard_wraps_the_file() {
        let object = json!({"kind": "ConfigMap", "data": {"alert.tmpl": "{{ .Labels.alertname }}\n"}});
        let text = template(&object, &[], Some("not .Values.off"));
        assert!(text.starts_with("{{- if not .Values.off }}\n---\n"), "{text}");
        assert!(text.ends_with("{{- end }}\n"), "{text}");
        assert!(text.contains("{{ \"{{\" }} .Labels.alertname }}"), "{text}");
    }
}
