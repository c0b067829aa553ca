//! Which values of the emitted objects a chart user may change, and the value tree that
//! holds their defaults. Read from the objects alone: a workload's containers are named
//! after their compose services, and every object carries the `kompile.dev/service`
//! annotation of the service it serves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::super::overlay::child;
use super::template::Parameter;
use crate::emit::{Object, SERVICE_ANNOTATION};

/// An Ingress host: a DNS name, `*.` allowed first; or empty.
const HOST: &str = "^((\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$";

/// An object name (a DNS subdomain); or empty.
const NAME: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$";

/// A Kubernetes quantity (`500m`, `1.5Gi`, `1e3`).
const QUANTITY: &str = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$";

/// The pod template annotation whose digest rolls pods when their ConfigMaps change.
const CONFIG_CHECKSUM: &str = "kompile.dev/config-checksum";

/// One chart value: where it is in `values.yaml`, its default, its JSON schema, and the
/// object fields it sets (for the chart's README).
#[derive(Debug, Clone)]
pub struct Setting {
    pub path: Vec<String>,
    pub default: Value,
    pub schema: Value,
    pub sets: Vec<String>,
}

/// An object ready to be a template: its value, its parameters, and the condition under
/// which it is rendered at all.
#[derive(Debug, Clone)]
pub struct Templated {
    pub object: Value,
    pub parameters: Vec<Parameter>,
    pub guard: Option<String>,
}

/// What the chart is made of.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub values: Value,
    pub settings: Vec<Setting>,
    pub templates: Vec<Templated>,
}

/// The chart values and the parameters of every object.
pub fn analyse(objects: &[Object], release_names: bool) -> Analysis {
    let values: Vec<Value> = objects.iter().map(Object::to_value).collect();
    let secrets = values.iter().filter(|v| v["kind"] == "Secret").filter_map(|v| text(v, "/metadata/name")).collect();
    let keys = service_keys(&values);
    let mut chart = Builder { secrets, release_names, keys, ..Builder::default() };
    let mut templates: Vec<Templated> =
        values.into_iter().map(|object| Templated { object, parameters: Vec::new(), guard: None }).collect();
    // Workloads first: they tell which ConfigMap holds whose environment and who mounts
    // which claim, which the other objects' values depend on.
    for t in templates.iter_mut().filter(|t| pod_pointer(&t.object).is_some()) {
        chart.workload(t);
    }
    for t in templates.iter_mut().filter(|t| pod_pointer(&t.object).is_none()) {
        chart.other(t);
    }
    for t in &mut templates {
        chart.checksum(t);
        if let Some(namespace) = text(&t.object, "/metadata/namespace") {
            let mut fields = Vec::new();
            namespace_fields(&t.object, "", &namespace, &mut fields);
            t.parameters.extend(fields.into_iter().map(|at| Parameter::new(at, "$.Release.Namespace")));
        }
    }
    if release_names {
        super::release::prefix(&mut templates);
    }
    Analysis { values: chart.values, settings: chart.settings, templates }
}

#[derive(Default)]
struct Builder {
    values: Value,
    settings: Vec<Setting>,
    /// The names of the Secrets kompile writes (references to others stay as they are).
    secrets: BTreeSet<String>,
    /// ConfigMap holding a service's environment → that service.
    env_maps: BTreeMap<String, String>,
    /// `--helm-release-prefix`: object names start with the release's.
    release_names: bool,
    /// Compose service → the key of its values.
    keys: BTreeMap<String, String>,
    /// Claim → the services whose pods mount it.
    claim_users: BTreeMap<String, BTreeSet<String>>,
}

/// A string at `pointer`.
fn text(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer)?.as_str().map(String::from)
}

/// Where a workload's pod template is; `None` for other objects.
fn pod_pointer(object: &Value) -> Option<&'static str> {
    match object["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => Some("/spec/template"),
        "CronJob" => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// The compose service an object serves (its annotation).
fn annotation(object: &Value) -> Option<&str> {
    object.pointer("/metadata/annotations")?.get(SERVICE_ANNOTATION)?.as_str()
}

/// Each compose service → the name of its container, which keys its values: a DNS label,
/// which `--set` reads without escapes (`node.app` → `node-app`).
fn service_keys(objects: &[Value]) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    for object in objects {
        let Some(pod) = pod_pointer(object) else { continue };
        let main = object.pointer(&format!("{pod}/spec/containers/0/name")).and_then(Value::as_str);
        if let (Some(service), Some(main)) = (annotation(object), main) {
            keys.insert(service.to_string(), main.to_string());
        }
    }
    keys
}

/// A JSON pointer from its parts, escaped.
pub fn pointer(parts: &[&str]) -> String {
    parts.iter().fold(String::new(), |at, part| child(&at, part))
}

/// The Helm expression reading the value at `path`: `(index $.Values "services" "web")`.
/// `index` reads any key, `-` and `.` included, and `$` is the root inside `with` blocks.
pub fn expression(path: &[String]) -> String {
    let keys: Vec<String> = path.iter().map(|k| go_string(k)).collect();
    format!("(index $.Values {})", keys.join(" "))
}

/// A Go string literal: JSON's escapes are Go's.
pub fn go_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

impl Builder {
    /// The key of the values of the service `object` serves: its container's name (a
    /// sidecar without a workload of its own: its compose name as a DNS label).
    fn service_of(&self, object: &Value) -> String {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        match annotation(object) {
            Some(service) => self.keys.get(service).cloned().unwrap_or_else(|| crate::names::dns_label(service)),
            None => name.to_string(),
        }
    }

    /// Records a value with its default (a value already there keeps its first default) and
    /// returns the expression reading it; `None` when the path already holds another default,
    /// so the field keeps the value `build` wrote.
    fn value(&mut self, path: Vec<String>, default: Value, schema: Value, sets: String) -> Option<String> {
        let expression = expression(&path);
        if let Some(setting) = self.settings.iter_mut().find(|s| s.path == path) {
            if setting.default != default {
                return None;
            }
            if !setting.sets.contains(&sets) {
                setting.sets.push(sets);
            }
            return Some(expression);
        }
        insert(&mut self.values, &path, default.clone());
        self.settings.push(Setting { path, default, schema, sets: vec![sets] });
        Some(expression)
    }

    fn workload(&mut self, t: &mut Templated) {
        let Some(pod) = pod_pointer(&t.object) else { return };
        let kind = t.object["kind"].as_str().unwrap_or_default().to_string();
        let name = text(&t.object, "/metadata/name").unwrap_or_default();
        let service = self.service_of(&t.object);
        let what = format!("{kind} `{name}`");
        if let Some(replicas) = t.object.pointer("/spec/replicas").cloned().filter(|_| kind != "DaemonSet") {
            let schema = json!({"type": "integer", "minimum": 0});
            let sets = format!("the replicas of {what}");
            if let Some(e) = self.value(path(&["services", &service, "replicas"]), replicas, schema, sets) {
                t.parameters.push(Parameter::new("/spec/replicas", e));
            }
        }
        self.claim_templates(t, &service, &what);
        let spec = format!("{pod}/spec");
        let mut images = BTreeMap::new();
        for list in ["containers", "initContainers"] {
            let count = t.object.pointer(&format!("{spec}/{list}")).and_then(Value::as_array).map_or(0, Vec::len);
            for i in 0..count {
                let at = format!("{spec}/{list}/{i}");
                let container = t.object.pointer(&at).cloned().unwrap_or_default();
                let runs_beside = list == "containers" || container["restartPolicy"] == "Always";
                if runs_beside {
                    self.container(t, &at, &container, &what, &mut images);
                }
                self.secret_references(t, &at, &container);
            }
        }
        self.seeds(t, &spec, &images);
        self.pod_volumes(t, &spec, &service);
    }

    /// A service's container: its image, resources and environment values.
    fn container(
        &mut self,
        t: &mut Templated,
        at: &str,
        container: &Value,
        what: &str,
        images: &mut BTreeMap<String, String>,
    ) {
        let Some(service) = container["name"].as_str().map(String::from) else { return };
        let place = format!("container `{service}` of {what}");
        if let Some(image) = container["image"].as_str()
            && let Some(expression) = self.image(&service, image, &place)
        {
            images.insert(image.to_string(), expression.clone());
            t.parameters.push(Parameter::new(format!("{at}/image"), expression));
        }
        let resources = container.get("resources").cloned().unwrap_or_else(|| json!({}));
        let amounts =
            json!({"type": "object", "additionalProperties": {"type": ["string", "number"], "pattern": QUANTITY}});
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {"limits": amounts, "requests": amounts, "claims": {"type": "array"}},
        });
        let sets = format!("the resources of {place}");
        if let Some(e) = self.value(path(&["services", &service, "resources"]), resources, schema, sets) {
            t.parameters.push(Parameter::optional(format!("{at}/resources"), e));
        }
        for (j, variable) in container["env"].as_array().into_iter().flatten().enumerate() {
            let (Some(key), Some(value)) = (variable["name"].as_str(), variable.get("value")) else { continue };
            if let Some(e) = self.env(&service, key, value, &place) {
                t.parameters.push(Parameter::text(format!("{at}/env/{j}/value"), e));
            }
        }
        for source in container["envFrom"].as_array().into_iter().flatten() {
            if let Some(map) = source.pointer("/configMapRef/name").and_then(Value::as_str) {
                self.env_maps.insert(map.to_string(), service.clone());
            }
        }
    }

    /// `image.repository`, `image.tag` and `image.digest`; the expression that joins them.
    fn image(&mut self, service: &str, image: &str, place: &str) -> Option<String> {
        let (rest, digest) = image.split_once('@').unwrap_or((image, ""));
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, tag),
            _ => (rest, ""),
        };
        let parts = [("repository", repository, 1), ("tag", tag, 0), ("digest", digest, 0)];
        for (part, default, least) in parts {
            let sets = format!("the image of {place}");
            let schema = json!({"type": "string", "minLength": least});
            self.value(path(&["services", service, "image", part]), json!(default), schema, sets)?;
        }
        let image = expression(&path(&["services", service, "image"]));
        Some(format!("(include \"kompile.image\" {image})"))
    }

    /// An environment value; `None` when another default for the name is already recorded
    /// (the container's own `env` wins over its env file, as in the pod).
    fn env(&mut self, service: &str, key: &str, value: &Value, place: &str) -> Option<String> {
        let schema = json!({"type": ["string", "number", "boolean"]});
        let sets = format!("environment variable `{key}` of {place}");
        self.value(path(&["services", service, "env", key]), value.clone(), schema, sets)
    }

    /// Seed containers start from their service's image, so they follow its value.
    fn seeds(&mut self, t: &mut Templated, spec: &str, images: &BTreeMap<String, String>) {
        let inits = t.object.pointer(&format!("{spec}/initContainers")).and_then(Value::as_array);
        let seeds: Vec<(usize, String)> = inits
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, c)| c["name"].as_str().is_some_and(|n| n.starts_with("seed-")))
            .filter_map(|(i, c)| Some((i, images.get(c["image"].as_str()?)?.clone())))
            .collect();
        for (i, expression) in seeds {
            t.parameters.push(Parameter::new(format!("{spec}/initContainers/{i}/image"), expression));
        }
    }

    /// References to kompile's Secrets from a container's environment.
    fn secret_references(&mut self, t: &mut Templated, at: &str, container: &Value) {
        for (j, _) in container["env"].as_array().into_iter().flatten().enumerate() {
            self.secret_reference(t, &format!("{at}/env/{j}/valueFrom/secretKeyRef/name"));
        }
        for (j, _) in container["envFrom"].as_array().into_iter().flatten().enumerate() {
            self.secret_reference(t, &format!("{at}/envFrom/{j}/secretRef/name"));
        }
    }

    /// The Secret name at `at`, when it is one of kompile's: the existing Secret the user
    /// names instead, if any.
    fn secret_reference(&mut self, t: &mut Templated, at: &str) {
        let Some(name) = text(&t.object, at).filter(|n| self.secrets.contains(n)) else { return };
        let existing = expression(&path(&["secrets", &name, "existingSecret"]));
        let own = if self.release_names { super::release::renamed(&name, 63) } else { go_string(&name) };
        t.parameters.push(Parameter::new(at, format!("(default {own} {existing})")));
    }

    /// The pod's volumes: Secrets it mounts, claims it uses.
    fn pod_volumes(&mut self, t: &mut Templated, spec: &str, service: &str) {
        let volumes = t.object.pointer(&format!("{spec}/volumes")).and_then(Value::as_array).cloned();
        for (v, volume) in volumes.unwrap_or_default().iter().enumerate() {
            let at = format!("{spec}/volumes/{v}");
            self.secret_reference(t, &format!("{at}/secret/secretName"));
            let sources = volume.pointer("/projected/sources").and_then(Value::as_array).map_or(0, Vec::len);
            for s in 0..sources {
                self.secret_reference(t, &format!("{at}/projected/sources/{s}/secret/name"));
            }
            if let Some(claim) = text(volume, "/persistentVolumeClaim/claimName") {
                self.claim_users.entry(claim).or_default().insert(service.to_string());
            }
        }
    }

    /// A StatefulSet's claim templates: size and storage class per volume.
    fn claim_templates(&mut self, t: &mut Templated, service: &str, what: &str) {
        let templates = t.object.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).cloned();
        for (i, template) in templates.unwrap_or_default().iter().enumerate() {
            let Some(volume) = text(template, "/metadata/name") else { continue };
            let place = format!("claim template `{volume}` of {what}");
            let prefix = path(&["services", service, "persistence", &volume]);
            self.persistence(t, prefix, &format!("/spec/volumeClaimTemplates/{i}/spec"), template, &place);
        }
    }

    /// `size` and `storageClass` of a claim (`spec` points at the object's claim spec,
    /// `claim` holds `spec`).
    fn persistence(&mut self, t: &mut Templated, prefix: Vec<String>, spec: &str, claim: &Value, place: &str) {
        let at = |p: &str| [prefix.clone(), vec![p.to_string()]].concat();
        if let Some(size) = claim.pointer("/spec/resources/requests/storage").cloned() {
            let schema = json!({"type": "string", "pattern": QUANTITY});
            if let Some(e) = self.value(at("size"), size, schema, format!("the size of {place}")) {
                t.parameters.push(Parameter::new(format!("{spec}/resources/requests/storage"), e));
            }
        }
        let class = claim.pointer("/spec/storageClassName").cloned().unwrap_or_else(|| json!(""));
        let sets = format!("the storage class of {place} (empty: the cluster's default)");
        if let Some(e) = self.value(at("storageClass"), class, json!({"type": "string"}), sets) {
            t.parameters.push(Parameter::optional(format!("{spec}/storageClassName"), e));
        }
    }

    /// Objects other than workloads.
    fn other(&mut self, t: &mut Templated) {
        let name = text(&t.object, "/metadata/name").unwrap_or_default();
        let service = self.service_of(&t.object);
        match t.object["kind"].as_str().unwrap_or_default() {
            "ConfigMap" => self.env_map(t, &name),
            "Secret" => self.secret(t, &name),
            "PersistentVolumeClaim" => {
                let users = self.claim_users.get(&name).cloned().unwrap_or_default();
                let prefix = match users.iter().collect::<Vec<_>>().as_slice() {
                    [only] => path(&["services", only, "persistence", &name]),
                    _ => path(&["persistence", &name]),
                };
                let claim = t.object.clone();
                self.persistence(t, prefix, "/spec", &claim, &format!("PersistentVolumeClaim `{name}`"));
            }
            "Service" => self.published(t, &service, &name),
            "Ingress" => self.ingress(t, &service, &name),
            "HorizontalPodAutoscaler" => self.autoscale(t, &service, &name),
            _ => {}
        }
    }

    /// The ConfigMap of a service's env file: its keys are environment values too.
    fn env_map(&mut self, t: &mut Templated, name: &str) {
        let Some(service) = self.env_maps.get(name).cloned() else { return };
        let data = t.object["data"].as_object().cloned().unwrap_or_default();
        let place = format!("ConfigMap `{name}` (the env file of `{service}`)");
        for (key, value) in data {
            if let Some(e) = self.env(&service, &key, &value, &place) {
                t.parameters.push(Parameter::text(pointer(&["data", &key]), e));
            }
        }
    }

    /// A Secret: never its value in the chart. Each key is a value required at install, or
    /// the whole Secret is one the user already has.
    fn secret(&mut self, t: &mut Templated, name: &str) {
        let prefix = |p: &[&str]| [path(&["secrets", name]), path(p)].concat();
        let sets = format!("use this existing Secret instead of `{name}` (it must have the same keys)");
        let schema = json!({"type": "string", "pattern": NAME});
        let Some(existing) = self.value(prefix(&["existingSecret"]), json!(""), schema, sets) else { return };
        t.guard = Some(format!("not {existing}"));
        let keys: Vec<String> = t.object["data"].as_object().map(|d| d.keys().cloned().collect()).unwrap_or_default();
        for key in keys {
            let sets = format!("key `{key}` of Secret `{name}`: required at install unless `existingSecret` is set");
            let schema = json!({"type": ["string", "null"]});
            let Some(e) = self.value(prefix(&["data", &key]), Value::Null, schema, sets) else { continue };
            let value = prefix(&["data", &key]);
            let message = format!("{} is required: {}", path_text(&value), set_file_flag(&value));
            let required = format!("(include \"kompile.secret\" (list {e} {}))", go_string(&message));
            t.parameters.push(Parameter::new(pointer(&["data", &key]), required));
        }
    }

    /// The Service that publishes a service outside the cluster: its type.
    fn published(&mut self, t: &mut Templated, service: &str, name: &str) {
        let Some(kind) = t.object.pointer("/spec/type").cloned().filter(|k| k != "ClusterIP") else { return };
        let spec = &t.object["spec"];
        // A ClusterIP Service may not keep a node port or an external traffic policy.
        let pinned = spec.get("externalTrafficPolicy").is_some()
            || spec["ports"].as_array().into_iter().flatten().any(|p| p.get("nodePort").is_some());
        let kinds: &[&str] =
            if pinned { &["LoadBalancer", "NodePort"] } else { &["LoadBalancer", "NodePort", "ClusterIP"] };
        let schema = json!({"type": "string", "enum": kinds});
        let sets = format!("the type of Service `{name}`");
        if let Some(e) = self.value(path(&["services", service, "expose", "type"]), kind, schema, sets) {
            t.parameters.push(Parameter::new("/spec/type", e));
        }
    }

    /// An Ingress: its class, its host (and the TLS entries for that host), its TLS Secret.
    fn ingress(&mut self, t: &mut Templated, service: &str, name: &str) {
        let at = |p: &str| path(&["services", service, "expose", "ingress", p]);
        let class = t.object.pointer("/spec/ingressClassName").cloned().unwrap_or_else(|| json!(""));
        let sets = format!("the class of Ingress `{name}` (empty: the cluster's default)");
        if let Some(e) = self.value(at("className"), class, json!({"type": "string"}), sets) {
            t.parameters.push(Parameter::optional("/spec/ingressClassName", e));
        }
        let rules = t.object.pointer("/spec/rules").and_then(Value::as_array).cloned().unwrap_or_default();
        let hosts: BTreeSet<&str> = rules.iter().map(|r| r["host"].as_str().unwrap_or_default()).collect();
        let [host] = hosts.into_iter().collect::<Vec<_>>()[..] else { return };
        let schema = json!({"type": "string", "pattern": HOST});
        let sets = format!("the host of Ingress `{name}` and of its TLS entry (empty: any host)");
        let Some(e) = self.value(at("host"), json!(host), schema, sets) else { return };
        for i in 0..rules.len() {
            t.parameters.push(Parameter::optional(format!("/spec/rules/{i}/host"), e.clone()));
        }
        let tls = t.object.pointer("/spec/tls").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, entry) in tls.iter().enumerate() {
            for (j, _) in entry["hosts"].as_array().into_iter().flatten().enumerate().filter(|(_, h)| *h == host) {
                t.parameters.push(Parameter::new(format!("/spec/tls/{i}/hosts/{j}"), e.clone()));
            }
            if let Some(secret) = entry.get("secretName").cloned() {
                let sets = format!("the Secret holding the TLS certificate of Ingress `{name}`");
                let schema = json!({"type": "string", "pattern": NAME});
                if let Some(e) = self.value(at("tlsSecret"), secret, schema, sets) {
                    t.parameters.push(Parameter::new(format!("/spec/tls/{i}/secretName"), e));
                }
            }
        }
    }

    /// A HorizontalPodAutoscaler's bounds and targets.
    fn autoscale(&mut self, t: &mut Templated, service: &str, name: &str) {
        let fields = [
            ("minReplicas", json!({"type": "integer", "minimum": 1})),
            ("maxReplicas", json!({"type": "integer", "minimum": 1})),
            ("metrics", json!({"type": "array"})),
        ];
        for (field, schema) in fields {
            let Some(default) = t.object["spec"].get(field).cloned() else { continue };
            let sets = format!("`spec.{field}` of HorizontalPodAutoscaler `{name}`");
            if let Some(e) = self.value(path(&["services", service, "autoscale", field]), default, schema, sets) {
                t.parameters.push(Parameter::new(format!("/spec/{field}"), e));
            }
        }
    }

    /// The config checksum of a pod whose env-file values are chart values: the checksum
    /// `build` wrote while they keep their defaults, else a digest of the values, so that
    /// pods restart when a changed value changes their ConfigMap.
    fn checksum(&self, t: &mut Templated) {
        let Some(pod) = pod_pointer(&t.object) else { return };
        let at = format!("{pod}/metadata/annotations/{}", CONFIG_CHECKSUM.replace('/', "~1"));
        let Some(checksum) = text(&t.object, &at) else { return };
        let containers = t.object.pointer(&format!("{pod}/spec/containers")).and_then(Value::as_array);
        let services: BTreeSet<&str> = containers.into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
        let with_env_files: Vec<&str> =
            services.into_iter().filter(|s| self.env_maps.values().any(|owner| owner == s)).collect();
        let mut defaults = Map::new();
        let mut current = Vec::new();
        for service in with_env_files {
            let Some(env) = self.values.pointer(&pointer(&["services", service, "env"])) else { continue };
            defaults.insert(service.to_string(), env.clone());
            current.push(format!("{} {}", go_string(service), expression(&path(&["services", service, "env"]))));
        }
        if current.is_empty() {
            return;
        }
        let arguments = format!(
            "(list {} (dict {}) {})",
            go_string(&checksum),
            current.join(" "),
            go_string(&Value::Object(defaults).to_string())
        );
        t.parameters.push(Parameter::new(at, format!("(include \"kompile.checksum\" {arguments})")));
    }
}

/// The pointers of every `namespace` field holding `namespace` (the object's own, and a
/// RoleBinding subject's): they follow the release's namespace.
fn namespace_fields(value: &Value, at: &str, namespace: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, field) in map {
                let pointer = child(at, key);
                if key == "namespace" && field.as_str() == Some(namespace) {
                    out.push(pointer);
                } else {
                    namespace_fields(field, &pointer, namespace, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                namespace_fields(item, &format!("{at}/{i}"), namespace, out);
            }
        }
        _ => {}
    }
}

/// Puts `value` at `path` in `tree`, making the maps on the way.
fn insert(tree: &mut Value, path: &[String], value: Value) {
    let mut node = tree;
    for key in path {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        node = map.entry(key.clone()).or_insert(Value::Null);
    }
    *node = value;
}

/// A value's path as the README writes it: `services.web.replicas`.
pub fn path_text(path: &[String]) -> String {
    path.join(".")
}

/// The `--set-file` flag that gives the value at `path`, quoted for a shell when the path
/// holds an escape.
pub fn set_file_flag(path: &[String]) -> String {
    let key = set_key(path);
    if key.contains('\\') { format!("--set-file '{key}=<file>'") } else { format!("--set-file {key}=<file>") }
}

/// A value's path as `helm --set` reads it: dots inside a key escaped.
pub fn set_key(path: &[String]) -> String {
    path.iter().map(|k| k.replace('\\', "\\\\").replace('.', "\\.").replace(',', "\\,")).collect::<Vec<_>>().join(".")
}
