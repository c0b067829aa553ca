//! `values.schema.json`: Helm checks the values of every install and upgrade against it, so
//! `replicas: many` or a misspelt key (`replica: 3`, silently ignored otherwise) is refused
//! before anything reaches the cluster.

use serde_json::{Value, json};

use super::values::Setting;

/// The schema of the chart's values: each setting's own schema at its path, every map on
/// the way closed to keys the chart does not read.
pub fn schema(settings: &[Setting]) -> String {
    let mut root = object();
    // Helm hands a parent chart's `global` values to its subcharts.
    root["properties"]["global"] = json!({"type": "object"});
    for setting in settings {
        place(&mut root, &setting.path, setting.schema.clone());
    }
    let mut schema = json!({"$schema": "https://json-schema.org/draft-07/schema#"});
    if let (Some(schema), Value::Object(root)) = (schema.as_object_mut(), root) {
        schema.extend(root);
    }
    // Printing a Value cannot fail: its keys are strings and its numbers finite.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn object() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {}, "required": []})
}

/// Puts `leaf` at `path`, making closed objects on the way.
fn place(node: &mut Value, path: &[String], leaf: Value) {
    let Some((first, rest)) = path.split_first() else {
        *node = leaf;
        return;
    };
    // Every value is required: Helm drops a key set to null, which would otherwise render
    // `<nil>` or an object without a field it needs. A value that is null by default (a
    // Secret's, given at install) is not there until given.
    let nullable = rest.is_empty() && leaf["type"].as_array().is_some_and(|t| t.contains(&json!("null")));
    if let Some(required) = node.get_mut("required").and_then(Value::as_array_mut)
        && !nullable
        && !required.contains(&json!(first))
    {
        required.push(json!(first));
    }
    let Some(properties) = node.get_mut("properties").and_then(Value::as_object_mut) else { return };
    let child = properties.entry(first.clone()).or_insert_with(|| if rest.is_empty() { Value::Null } else { object() });
    place(child, rest, leaf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(path: &[&str], schema: Value) -> Setting {
        Setting { path: path.iter().map(|p| p.to_string()).collect(), default: Value::Null, schema, sets: Vec::new() }
    }

    #[test]
    fn values_are_typed_and_maps_are_closed() {
        let settings = [
            setting(&["services", "web", "replicas"], json!({"type": "integer", "minimum": 0})),
            setting(&["services", "web", "env", "MODE"], json!({"type": "string"})),
        ];
        let schema: Value = serde_json::from_str(&schema(&settings)).expect("JSON");
        let web = &schema["properties"]["services"]["properties"]["web"];
        assert_eq!(web["additionalProperties"], json!(false));
        assert_eq!(web["properties"]["replicas"]["type"], "integer");
        assert_eq!(web["properties"]["env"]["properties"]["MODE"]["type"], "string");
        assert_eq!(schema["properties"]["global"]["type"], "object");
        assert_eq!(schema["$schema"], "https://json-schema.org/draft-07/schema#");
    }
}
