//! What of a live object is compared: both `plan` (is an answer unchanged?) and `diff` (what
//! to show) need it, so it lives apart from either.

use serde_json::Value;

/// Metadata the server keeps for itself; it differs on every write and says nothing about
/// what the user changed.
const BOOKKEEPING: &[&str] =
    &["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/// The object without status and bookkeeping metadata.
pub fn normalize(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in BOOKKEEPING {
                meta.remove(*key);
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalize_drops_status_and_bookkeeping_only() {
        let v = json!({"kind": "ConfigMap", "metadata": {"name": "a", "uid": "u", "resourceVersion": "3",
            "generation": 2, "creationTimestamp": "t", "managedFields": [], "labels": {"x": "y"}},
            "data": {"k": "v"}, "status": {"phase": "Bound"}});
        assert_eq!(
            normalize(&v),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "v"}})
        );
    }
}
