//! What the API server would reject, checked offline on the objects `build` prints: the
//! checks its validation makes that a schema cannot (names, label and annotation syntax,
//! selectors against template labels, port names and ranges, volume references, key names,
//! file modes, quantities, sizes). Shared by the mutation test and the `build` fuzz target
//! (which include this file by path), so it needs nothing but serde_json.
//!
//! Returns every problem found, each naming the object and the field.

#![allow(dead_code)]

use serde_json::{Map, Value};

/// Kubernetes rejects a ConfigMap or Secret whose data exceeds 1 MiB, and objects whose
/// annotations exceed 256 KiB.
const MAX_DATA: usize = 1024 * 1024;
const MAX_ANNOTATIONS: usize = 256 * 1024;

/// Problems in one list of objects (the documents `build` prints).
pub fn objects(docs: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    for doc in docs {
        let mut object = Object { problems: &mut problems, at: describe(doc) };
        object.check(doc);
    }
    problems
}

fn describe(doc: &Value) -> String {
    let kind = doc["kind"].as_str().unwrap_or("?");
    let name = doc["metadata"]["name"].as_str().unwrap_or("?");
    format!("{kind}/{name}")
}

struct Object<'a> {
    problems: &'a mut Vec<String>,
    at: String,
}

impl Object<'_> {
    fn fail(&mut self, field: &str, why: impl std::fmt::Display) {
        self.problems.push(format!("{}: {field}: {why}", self.at));
    }

    fn check(&mut self, doc: &Value) {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if doc["apiVersion"].as_str().is_none_or(str::is_empty) || kind.is_empty() {
            self.fail("apiVersion/kind", "missing");
        }
        self.metadata(&doc["metadata"], kind);
        match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" => self.workload(&doc["spec"]),
            "Job" => self.pod_template(&doc["spec"]["template"], &Value::Null),
            "CronJob" => self.pod_template(&doc["spec"]["jobTemplate"]["spec"]["template"], &Value::Null),
            "Service" => self.service(&doc["spec"]),
            "ConfigMap" | "Secret" => self.data(doc),
            "PersistentVolumeClaim" => self.claim(&doc["spec"]),
            _ => {}
        }
    }

    fn metadata(&mut self, meta: &Value, kind: &str) {
        let name = meta["name"].as_str().unwrap_or_default();
        let valid = match kind {
            // Service names become DNS labels; the API server requires DNS-1035 for them.
            "Service" => dns_1035_label(name),
            "Namespace" => dns_label(name),
            _ => dns_subdomain(name),
        };
        if !valid {
            self.fail("metadata.name", format!("{name:?} is not a valid {kind} name"));
        }
        if let Some(namespace) = meta["namespace"].as_str()
            && !dns_label(namespace)
        {
            self.fail("metadata.namespace", format!("{namespace:?} is not a DNS label"));
        }
        self.labels("metadata.labels", &meta["labels"]);
        let mut size = 0;
        for (key, value) in meta["annotations"].as_object().into_iter().flatten() {
            if !qualified_name(key) {
                self.fail("metadata.annotations", format!("key {key:?} is not a qualified name"));
            }
            size += key.len() + value.as_str().map_or(0, str::len);
        }
        if size > MAX_ANNOTATIONS {
            self.fail("metadata.annotations", format!("{size} bytes, more than {MAX_ANNOTATIONS}"));
        }
    }

    fn labels(&mut self, field: &str, labels: &Value) {
        for (key, value) in labels.as_object().into_iter().flatten() {
            if !qualified_name(key) {
                self.fail(field, format!("key {key:?} is not a qualified name"));
            }
            match value.as_str() {
                Some(value) if label_value(value) => {}
                _ => self.fail(field, format!("value {value} of {key:?} is not a label value")),
            }
        }
    }

    fn workload(&mut self, spec: &Value) {
        if let Some(replicas) = spec.get("replicas")
            && !at_least(int32(replicas), 0)
        {
            self.fail("spec.replicas", format!("{replicas} is not a count"));
        }
        let selector = &spec["selector"]["matchLabels"];
        self.labels("spec.selector.matchLabels", selector);
        let labels = &spec["template"]["metadata"]["labels"];
        match selector.as_object() {
            Some(selector) if !selector.is_empty() => {
                for (key, value) in selector {
                    if labels.get(key) != Some(value) {
                        self.fail("spec.selector", format!("{key} does not match the template's labels"));
                    }
                }
            }
            _ => self.fail("spec.selector", "empty"),
        }
        self.pod_template(&spec["template"], &spec["volumeClaimTemplates"]);
        for claim in spec["volumeClaimTemplates"].as_array().into_iter().flatten() {
            self.metadata(&claim["metadata"], "PersistentVolumeClaim");
            self.claim(&claim["spec"]);
        }
    }

    /// `claims`: a StatefulSet's `volumeClaimTemplates`, which containers mount by name too.
    fn pod_template(&mut self, template: &Value, claims: &Value) {
        self.labels("spec.template.metadata.labels", &template["metadata"]["labels"]);
        let pod = &template["spec"];
        let mut volumes = self.volumes(pod);
        let templates = claims.as_array().into_iter().flatten();
        volumes.extend(templates.filter_map(|c| c["metadata"]["name"].as_str()).map(str::to_string));
        if let Some(seconds) = pod.get("terminationGracePeriodSeconds")
            && !at_least(seconds.as_i64(), 0)
        {
            self.fail("terminationGracePeriodSeconds", format!("{seconds} is not a number of seconds"));
        }
        let containers = pod["containers"].as_array().map_or(&[][..], Vec::as_slice);
        if containers.is_empty() {
            self.fail("spec.containers", "no containers");
        }
        let init = pod["initContainers"].as_array().map_or(&[][..], Vec::as_slice);
        let mut names = Vec::new();
        for container in containers.iter().chain(init) {
            let name = container["name"].as_str().unwrap_or_default();
            if !dns_label(name) {
                self.fail("containers[].name", format!("{name:?} is not a DNS label"));
            }
            if names.contains(&name) {
                self.fail("containers[].name", format!("{name:?} twice"));
            }
            names.push(name);
            self.container(name, container, &volumes);
        }
    }

    /// The pod's volume names, after checking each volume.
    fn volumes(&mut self, pod: &Value) -> Vec<String> {
        let mut names = Vec::new();
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            let name = volume["name"].as_str().unwrap_or_default().to_string();
            if !dns_label(&name) {
                self.fail("volumes[].name", format!("{name:?} is not a DNS label"));
            }
            if names.contains(&name) {
                self.fail("volumes[].name", format!("{name:?} twice"));
            }
            if let Some(path) = volume["hostPath"]["path"].as_str()
                && (path.is_empty() || path.split('/').any(|part| part == ".."))
            {
                self.fail("volumes[].hostPath.path", format!("{path:?} is empty or has '..'"));
            }
            for source in ["configMap", "secret"] {
                self.projection(&format!("volumes[{name}].{source}"), &volume[source]);
            }
            if let Some(name) = volume["persistentVolumeClaim"]["claimName"].as_str()
                && !dns_subdomain(name)
            {
                self.fail("volumes[].persistentVolumeClaim.claimName", format!("{name:?}"));
            }
            if let Some(size) = volume["emptyDir"].get("sizeLimit")
                && !size.as_str().is_some_and(quantity)
            {
                self.fail("volumes[].emptyDir.sizeLimit", format!("{size} is not a quantity"));
            }
            names.push(name);
        }
        names
    }

    fn projection(&mut self, field: &str, source: &Value) {
        if source.is_null() {
            return;
        }
        for key in ["defaultMode"] {
            if let Some(mode) = source.get(key) {
                self.mode(&format!("{field}.{key}"), mode);
            }
        }
        for item in source["items"].as_array().into_iter().flatten() {
            let key = item["key"].as_str().unwrap_or_default();
            if !data_key(key) {
                self.fail(field, format!("item key {key:?} is not a valid key"));
            }
            let path = item["path"].as_str().unwrap_or_default();
            if path.is_empty() || path.starts_with('/') || path.split('/').any(|part| part == "..") {
                self.fail(field, format!("item path {path:?} must be relative without '..'"));
            }
            if let Some(mode) = item.get("mode") {
                self.mode(&format!("{field}.items[].mode"), mode);
            }
        }
    }

    fn mode(&mut self, field: &str, mode: &Value) {
        if !mode.as_i64().is_some_and(|m| (0..=0o777).contains(&m)) {
            self.fail(field, format!("{mode} is not a file mode (0 to 0777)"));
        }
    }

    fn container(&mut self, name: &str, container: &Value, volumes: &[String]) {
        let at = format!("containers[{name}]");
        if container["image"].as_str().is_none_or(|image| image.trim().is_empty()) {
            self.fail(&format!("{at}.image"), "empty");
        }
        let mut port_names = Vec::new();
        for port in container["ports"].as_array().into_iter().flatten() {
            if !port_number(&port["containerPort"]) {
                self.fail(&format!("{at}.ports"), format!("containerPort {} out of range", port["containerPort"]));
            }
            if let Some(host) = port.get("hostPort")
                && !port_number(host)
            {
                self.fail(&format!("{at}.ports"), format!("hostPort {host} out of range"));
            }
            self.protocol(&at, &port["protocol"]);
            if let Some(port_name) = port["name"].as_str() {
                if !port_name_valid(port_name) {
                    self.fail(&format!("{at}.ports"), format!("name {port_name:?} is not an IANA service name"));
                }
                if port_names.contains(&port_name) {
                    self.fail(&format!("{at}.ports"), format!("name {port_name:?} twice"));
                }
                port_names.push(port_name);
            }
        }
        for env in container["env"].as_array().into_iter().flatten() {
            let var = env["name"].as_str().unwrap_or_default();
            if !env_name(var) {
                self.fail(&format!("{at}.env"), format!("{var:?} is not a valid variable name"));
            }
        }
        let mut paths = Vec::new();
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            let volume = mount["name"].as_str().unwrap_or_default();
            if !volumes.iter().any(|v| v == volume) {
                self.fail(&format!("{at}.volumeMounts"), format!("{volume:?} names no volume"));
            }
            let path = mount["mountPath"].as_str().unwrap_or_default();
            if path.is_empty() || paths.contains(&path) {
                self.fail(&format!("{at}.volumeMounts"), format!("mountPath {path:?} empty or twice"));
            }
            paths.push(path);
            if let Some(sub) = mount["subPath"].as_str()
                && (sub.starts_with('/') || sub.split('/').any(|part| part == ".."))
            {
                self.fail(&format!("{at}.volumeMounts"), format!("subPath {sub:?}"));
            }
        }
        self.resources(&at, &container["resources"]);
        for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
            self.probe(&format!("{at}.{probe}"), &container[probe], &port_names);
        }
    }

    fn protocol(&mut self, at: &str, protocol: &Value) {
        if !(protocol.is_null() || ["TCP", "UDP", "SCTP"].contains(&protocol.as_str().unwrap_or_default())) {
            self.fail(at, format!("protocol {protocol}"));
        }
    }

    fn resources(&mut self, at: &str, resources: &Value) {
        for side in ["requests", "limits"] {
            for (name, value) in resources[side].as_object().into_iter().flatten() {
                if !value.as_str().is_some_and(quantity) {
                    self.fail(&format!("{at}.resources.{side}.{name}"), format!("{value} is not a quantity"));
                }
            }
        }
        for (name, request) in resources["requests"].as_object().into_iter().flatten() {
            let limit = resources["limits"][name].as_str().and_then(quantity_value);
            if let (Some(request), Some(limit)) = (request.as_str().and_then(quantity_value), limit)
                && request > limit
            {
                self.fail(&format!("{at}.resources.requests.{name}"), "greater than its limit");
            }
        }
    }

    fn probe(&mut self, at: &str, probe: &Value, port_names: &[&str]) {
        let Some(probe) = probe.as_object() else { return };
        for (field, least) in [
            ("initialDelaySeconds", 0),
            ("periodSeconds", 1),
            ("timeoutSeconds", 1),
            ("successThreshold", 1),
            ("failureThreshold", 1),
        ] {
            if let Some(value) = probe.get(field)
                && !at_least(int32(value), least)
            {
                self.fail(&format!("{at}.{field}"), format!("{value} is not an int32 of at least {least}"));
            }
        }
        if let Some(seconds) = probe.get("terminationGracePeriodSeconds")
            && !at_least(seconds.as_i64(), 1)
        {
            self.fail(&format!("{at}.terminationGracePeriodSeconds"), format!("{seconds}"));
        }
        let handlers = ["exec", "httpGet", "tcpSocket", "grpc"].iter().filter(|h| probe.contains_key(**h)).count();
        if handlers != 1 {
            self.fail(at, format!("{handlers} handlers"));
        }
        if let Some(command) = probe.get("exec").map(|exec| &exec["command"])
            && command.as_array().is_none_or(Vec::is_empty)
        {
            self.fail(&format!("{at}.exec.command"), "empty");
        }
        for handler in ["httpGet", "tcpSocket"] {
            if let Some(port) = probe.get(handler).map(|h| &h["port"]) {
                let named = port.as_str().is_some_and(|name| port_names.contains(&name));
                if !(named || port_number(port)) {
                    self.fail(&format!("{at}.{handler}.port"), format!("{port}"));
                }
            }
        }
    }

    fn service(&mut self, spec: &Value) {
        let ports = spec["ports"].as_array().map_or(&[][..], Vec::as_slice);
        let headless = spec["clusterIP"].as_str() == Some("None");
        if ports.is_empty() && !headless && spec["type"].as_str() != Some("ExternalName") {
            self.fail("spec.ports", "a Service needs at least one port");
        }
        let mut names = Vec::new();
        for port in ports {
            if !port_number(&port["port"]) {
                self.fail("spec.ports[].port", format!("{} out of range", port["port"]));
            }
            let target = &port["targetPort"];
            if !(target.is_null() || port_number(target) || target.as_str().is_some_and(port_name_valid)) {
                self.fail("spec.ports[].targetPort", format!("{target}"));
            }
            if let Some(node_port) = port.get("nodePort")
                && !int32(node_port).is_some_and(|n| (1..=65535).contains(&n))
            {
                self.fail("spec.ports[].nodePort", format!("{node_port}"));
            }
            self.protocol("spec.ports[]", &port["protocol"]);
            let name = port["name"].as_str().unwrap_or_default();
            if ports.len() > 1 && name.is_empty() {
                self.fail("spec.ports[].name", "required when there are several ports");
            }
            if !name.is_empty() && !dns_label(name) {
                self.fail("spec.ports[].name", format!("{name:?} is not a DNS label"));
            }
            if !name.is_empty() && names.contains(&name) {
                self.fail("spec.ports[].name", format!("{name:?} twice"));
            }
            names.push(name);
        }
        self.labels("spec.selector", &spec["selector"]);
    }

    fn data(&mut self, doc: &Value) {
        let mut size = 0;
        let mut keys: Vec<&str> = Vec::new();
        let empty = Map::new();
        for field in ["data", "stringData", "binaryData"] {
            for (key, value) in doc[field].as_object().unwrap_or(&empty) {
                if !data_key(key) {
                    self.fail(field, format!("key {key:?} is not a valid key"));
                }
                if field != "stringData" && keys.contains(&key.as_str()) {
                    self.fail(field, format!("key {key:?} twice"));
                }
                keys.push(key);
                size += value.as_str().map_or(0, str::len);
            }
        }
        if size > MAX_DATA {
            self.fail("data", format!("{size} bytes, more than {MAX_DATA}"));
        }
    }

    fn claim(&mut self, spec: &Value) {
        let storage = &spec["resources"]["requests"]["storage"];
        if !storage.as_str().is_some_and(quantity) {
            self.fail("spec.resources.requests.storage", format!("{storage} is not a quantity"));
        }
        for mode in spec["accessModes"].as_array().into_iter().flatten() {
            let known = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];
            if !known.contains(&mode.as_str().unwrap_or_default()) {
                self.fail("spec.accessModes", format!("{mode}"));
            }
        }
    }
}

/// A number that is there and at least `least`.
fn at_least(number: Option<i64>, least: i64) -> bool {
    number.is_some_and(|n| n >= least)
}

fn int32(value: &Value) -> Option<i64> {
    value.as_i64().filter(|n| i32::try_from(*n).is_ok())
}

fn port_number(value: &Value) -> bool {
    int32(value).is_some_and(|n| (1..=65535).contains(&n))
}

/// RFC 1123 label: what Kubernetes calls a DNS label.
pub fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1035 label: a DNS label that starts with a letter (Service names).
pub fn dns_1035_label(s: &str) -> bool {
    dns_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// RFC 1123 subdomain: dot-separated DNS labels, at most 253 characters.
pub fn dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(dns_label)
}

/// `[prefix/]name`: a prefix that is a DNS subdomain, a name of at most 63 alphanumerics,
/// `-`, `_` and `.`, starting and ending alphanumeric.
pub fn qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix.is_none_or(dns_subdomain) && !name.is_empty() && label_value(name)
}

/// Empty, or at most 63 alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
pub fn label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// IANA service name: at most 15 lowercase alphanumerics and `-`, with a letter, no `--`,
/// not starting or ending with `-`.
pub fn port_name_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A ConfigMap or Secret key: alphanumerics, `-`, `_` and `.`, not `.` or `..`.
pub fn data_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The environment variable names every supported Kubernetes version accepts: letters,
/// digits, `_`, `-` and `.`, not starting with a digit.
pub fn env_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A resource quantity: a decimal number with an optional SI, binary or exponent suffix.
pub fn quantity(s: &str) -> bool {
    quantity_value(s).is_some()
}

/// The quantity as a number, for comparing requests with limits.
fn quantity_value(s: &str) -> Option<f64> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let digits = number.trim_start_matches(['+', '-']);
    if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 || number.len() - digits.len() > 1 {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let power: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            10f64.powi(power)
        }
    };
    Some(value * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert!(dns_1035_label("web") && !dns_1035_label("1web") && dns_label("1web"));
        assert!(qualified_name("app.kubernetes.io/name") && !qualified_name("a\nb") && !qualified_name("a b"));
        assert!(label_value("") && !label_value(&"x".repeat(64)) && !label_value("-a"));
        assert!(port_name_valid("http") && !port_name_valid("80") && !port_name_valid("a--b"));
        assert!(env_name("A_B.c-d") && !env_name("E[") && !env_name("1A"));
        assert!(quantity("500m") && quantity("1Gi") && quantity("1e3") && !quantity("1x") && !quantity(""));
    }
}
