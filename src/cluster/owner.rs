//! Who a live object belongs to. kompile changes and prunes only objects of its own ApplySet:
//! an object with the same kind, namespace and name that another project (another ApplySet) or
//! another tool created is refused unless `--adopt` is given. Pure, so every rule is tested.

use serde_json::Value;

use super::plan::{Manifest, PART_OF};
use crate::diag::{Code, Diagnostic};

/// The label emit puts on every object with the compose project's name.
use crate::emit::PART_OF as PROJECT_LABEL;

/// Who owns a live object that is not a member of this project's ApplySet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A member of another ApplySet: its id, and its compose project when kompile made it.
    OtherSet { id: String, project: Option<String> },
    /// Not a member of any ApplySet: the field managers that wrote it.
    Managers(Vec<String>),
}

/// `None` when `live` is a member of the set `set_id`; otherwise who owns it.
pub fn foreign(live: &Value, set_id: &str) -> Option<Owner> {
    let labels = &live["metadata"]["labels"];
    match labels[PART_OF].as_str() {
        Some(id) if id == set_id => None,
        Some(id) => {
            Some(Owner::OtherSet { id: id.to_string(), project: labels[PROJECT_LABEL].as_str().map(str::to_string) })
        }
        None => Some(Owner::Managers(managers(live))),
    }
}

/// The distinct managers in `metadata.managedFields`, sorted.
pub fn managers(live: &Value) -> Vec<String> {
    let mut names: Vec<String> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["manager"].as_str())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Owner {
    pub fn describe(&self) -> String {
        match self {
            Owner::OtherSet { id, project: Some(project) } => {
                format!("it belongs to compose project `{project}` (ApplySet {id})")
            }
            Owner::OtherSet { id, project: None } => format!("it belongs to ApplySet {id}"),
            Owner::Managers(managers) if managers.is_empty() => {
                "it exists but was not created by this project (it records no field manager)".to_string()
            }
            Owner::Managers(managers) => {
                let names: Vec<String> = managers.iter().map(|m| format!("`{m}`")).collect();
                format!("it exists but was not created by this project; its fields are managed by {}", names.join(", "))
            }
        }
    }
}

/// The refusal to apply `manifest` over an object `owner` owns.
pub fn refusal(manifest: &Manifest, owner: &Owner) -> Diagnostic {
    let what = match &manifest.service {
        Some(service) => format!("{} (from compose service `{service}`)", manifest.describe()),
        None => manifest.describe(),
    };
    let d = Diagnostic::new(Code::NotOwned, format!("kompile will not take over {what}: {}", owner.describe())).help(
        "kompile changes and prunes only objects this project created; rename the service or use another \
         namespace, or pass `--adopt` to make the object this project's (a later `--prune` may then delete it)",
    );
    if manifest.origin.service.is_none() {
        d
    } else {
        d.at(manifest.origin.service, "the object is made from this service")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_of_this_set_are_not_foreign() {
        let live = json!({"metadata": {"labels": {PART_OF: "mine"}}});
        assert_eq!(foreign(&live, "mine"), None);
    }

    #[test]
    fn another_set_is_named_with_its_project() {
        let live = json!({"metadata": {"labels": {PART_OF: "theirs", PROJECT_LABEL: "alpha"}}});
        let owner = foreign(&live, "mine").expect("foreign");
        assert_eq!(owner, Owner::OtherSet { id: "theirs".into(), project: Some("alpha".into()) });
        assert!(owner.describe().contains("compose project `alpha` (ApplySet theirs)"));
    }

    #[test]
    fn objects_of_no_set_name_their_managers() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Apply"}, {"manager": "kube-controller-manager"},
            {"manager": "kubectl", "operation": "Update"}]}});
        let owner = foreign(&live, "mine").expect("foreign");
        assert_eq!(owner, Owner::Managers(vec!["kube-controller-manager".into(), "kubectl".into()]));
        assert!(owner.describe().contains("managed by `kube-controller-manager`, `kubectl`"));
        assert!(foreign(&json!({"metadata": {}}), "mine").expect("foreign").describe().contains("no field manager"));
    }

    #[test]
    fn the_refusal_names_the_object_and_points_to_adopt() {
        let manifest = super::super::plan::manifest(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}),
        );
        let d = refusal(&manifest, &Owner::Managers(vec!["kubectl".into()]));
        assert_eq!(d.code, Code::NotOwned);
        assert!(d.message.contains("Service shop/web"), "{}", d.message);
        assert!(d.help.unwrap_or_default().contains("--adopt"));
    }
}
