//! An in-process stand-in for the Kubernetes API server, on 127.0.0.1 over plain HTTP, for
//! testing the real `kompile` binary end to end through a generated kubeconfig.
//!
//! It serves discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`), GET, LIST with label
//! and simple field selectors, server-side apply (PATCH `application/apply-patch+yaml`) with
//! per-manager field ownership, conflicts and dry runs, DELETE with its options in the body,
//! and `Status` error bodies. Deletes can be held by a finalizer for a number of GETs
//! ([`StandIn::hold_deletes`]) or for ever ([`StandIn::hold_forever`]). [`controller`] plays the
//! workload controllers (and makes a StatefulSet's claims from its claim templates). Limits are
//! listed in docs/testing-cluster.md.

#![allow(dead_code)]

mod controller;
mod fields;
mod store;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use store::Store;

/// One resource the stand-in serves.
pub struct KindInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl KindInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }
}

const fn kind(group: &'static str, kind: &'static str, plural: &'static str, namespaced: bool) -> KindInfo {
    KindInfo { group, version: "v1", kind, plural, namespaced }
}

pub const KINDS: &[KindInfo] = &[
    kind("", "Namespace", "namespaces", false),
    kind("", "ConfigMap", "configmaps", true),
    kind("", "Secret", "secrets", true),
    kind("", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    kind("", "Service", "services", true),
    kind("", "Pod", "pods", true),
    kind("", "Event", "events", true),
    kind("", "ServiceAccount", "serviceaccounts", true),
    kind("apps", "Deployment", "deployments", true),
    kind("apps", "StatefulSet", "statefulsets", true),
    kind("apps", "DaemonSet", "daemonsets", true),
    kind("batch", "Job", "jobs", true),
    kind("batch", "CronJob", "cronjobs", true),
    kind("rbac.authorization.k8s.io", "Role", "roles", true),
    kind("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true),
    kind("networking.k8s.io", "NetworkPolicy", "networkpolicies", true),
    kind("networking.k8s.io", "Ingress", "ingresses", true),
    kind("policy", "PodDisruptionBudget", "poddisruptionbudgets", true),
    KindInfo {
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        namespaced: true,
    },
];

/// What tests can change about how the stand-in answers.
#[derive(Default)]
struct Controls {
    /// Answer the next N requests with this status (429 or 5xx).
    failures: Vec<u16>,
    /// When set, requests must carry `Authorization: Bearer <token>`.
    token: Option<String>,
    /// Verbs answered with 403.
    forbidden: BTreeSet<String>,
    /// `(kind, name)` → `(field, message)`: applies answered with 422.
    rejected: Vec<(String, String, String, String)>,
    latency: Duration,
    /// `(method, body)`: every such request is answered 200 with this body, as a proxy or a
    /// wrong server would, and changes nothing.
    garbled: Option<(String, String)>,
    /// `(plural, namespace, name, labels)`: the next GET of that object first replaces its
    /// labels, as another tool taking it over just then would.
    relabel_on_get: Option<(String, String, String, Value)>,
    /// `(plural, namespace, name)`: right after the next GET of that object is answered, it is
    /// changed (a new resourceVersion), as a write racing with kompile would.
    touch_after_get: Option<(String, String, String)>,
    /// `(plural, code, message)`: GETs of single objects of that resource fail so.
    failing_gets: Option<(String, u16, String)>,
    /// A deleted object stays (with a `deletionTimestamp` and a finalizer, as one a
    /// controller still has to release) for this many GETs of it, then is gone: deletion that
    /// takes a while, counted in requests rather than time.
    hold_deletes: u32,
    /// `(plural, namespace, name)` of objects whose deletion never completes.
    held_forever: BTreeSet<(String, String, String)>,
}

#[derive(Default)]
struct State {
    store: Store,
    controls: Controls,
    /// `METHOD path?query` of every request, in arrival order; a DELETE sent as a dry run ends
    /// in ` (body: dryRun=All)`.
    log: Vec<String>,
    /// Deleted objects still held by a finalizer: how many more GETs each stays for.
    terminating: std::collections::BTreeMap<(String, String, String), u32>,
    in_flight: usize,
    max_in_flight: usize,
}

pub struct StandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StandIn {
    /// Starts serving on a free port, with the `default` namespace present.
    pub fn start() -> StandIn {
        let state = Arc::new(Mutex::new(State::default()));
        lock(&state).store.insert(
            "namespaces",
            "",
            "default",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(serve(listener, shared));
        });
        StandIn { addr, state }
    }

    /// Writes a kubeconfig pointing at the stand-in, context `standin`, user `tester`.
    pub fn kubeconfig(&self, dir: &Path, token: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: standin\nclusters:\n- name: standin\n  cluster:\n    server: http://{}\n\
             contexts:\n- name: standin\n  context:\n    cluster: standin\n    user: tester\nusers:\n- name: tester\n  user:\n    token: {token}\n",
            self.addr
        );
        std::fs::write(&path, text).expect("kubeconfig written");
        path
    }

    /// Server-side apply as another field manager (as `kubectl apply --server-side` would).
    pub fn apply_as(&self, manager: &str, object: Value, force: bool) -> Result<Value, Value> {
        let (group, _) = split_api_version(object["apiVersion"].as_str().unwrap_or_default());
        let info = KINDS.iter().find(|k| k.kind == object["kind"] && k.group == group).expect("known kind");
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or(if info.namespaced { "default" } else { "" })
            .to_string();
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let mut state = lock(&self.state);
        state.store.apply(info, &namespace, &name, manager, &object, force, false).map(|(_, v)| v).map_err(|(_, v)| v)
    }

    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        lock(&self.state).store.get(plural, namespace, name).map(|o| o.body.clone())
    }

    pub fn names(&self, plural: &str) -> Vec<String> {
        let state = lock(&self.state);
        state
            .store
            .list(plural, None)
            .iter()
            .map(|o| o.body["metadata"]["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn fail_next(&self, codes: &[u16]) {
        lock(&self.state).controls.failures = codes.to_vec();
    }

    pub fn require_token(&self, token: &str) {
        lock(&self.state).controls.token = Some(token.to_string());
    }

    pub fn forbid(&self, verb: &str) {
        lock(&self.state).controls.forbidden.insert(verb.to_string());
    }

    /// Makes applies of `kind`/`name` fail validation on `field`.
    pub fn reject(&self, kind: &str, name: &str, field: &str, message: &str) {
        lock(&self.state).controls.rejected.push((kind.into(), name.into(), field.into(), message.into()));
    }

    /// Answers every `method` request with 200 and `body` (e.g. an HTML page, or `{}`).
    pub fn garble(&self, method: &str, body: &str) {
        lock(&self.state).controls.garbled = Some((method.to_string(), body.to_string()));
    }

    /// Replaces the labels of an object on its next GET, before answering.
    pub fn relabel_on_get(&self, plural: &str, namespace: &str, name: &str, labels: Value) {
        lock(&self.state).controls.relabel_on_get = Some((plural.into(), namespace.into(), name.into(), labels));
    }

    /// Changes an object (new resourceVersion) right after its next GET is answered.
    pub fn touch_after_get(&self, plural: &str, namespace: &str, name: &str) {
        lock(&self.state).controls.touch_after_get = Some((plural.into(), namespace.into(), name.into()));
    }

    /// Makes GETs of single objects of `plural` fail with `code` and `message` (until changed).
    pub fn fail_gets(&self, plural: &str, code: u16, message: &str) {
        lock(&self.state).controls.failing_gets = Some((plural.into(), code, message.into()));
    }

    /// Deleted objects stay, terminating, for `gets` GETs of each before they are gone.
    pub fn hold_deletes(&self, gets: u32) {
        lock(&self.state).controls.hold_deletes = gets;
    }

    /// The deletion of this object never completes.
    pub fn hold_forever(&self, plural: &str, namespace: &str, name: &str) {
        lock(&self.state).controls.held_forever.insert((plural.into(), namespace.into(), name.into()));
    }

    /// Sets an object's `status`, as its controller would (a LoadBalancer's address).
    pub fn set_status(&self, plural: &str, namespace: &str, name: &str, status: Value) {
        if let Some(stored) = lock(&self.state).store.get_mut(plural, namespace, name) {
            stored.body["status"] = status;
        }
    }

    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).controls.latency = latency;
    }

    pub fn log(&self) -> Vec<String> {
        lock(&self.state).log.clone()
    }

    pub fn clear_log(&self) {
        let mut state = lock(&self.state);
        state.log.clear();
        state.max_in_flight = 0;
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.state).max_in_flight
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<Mutex<State>>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // As Go's net/http does: without it, small answers wait on delayed ACKs.
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

type Answer = Response<Full<Bytes>>;

fn respond(code: u16, body: &Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    response
}

/// A `Status` failure body, as the API server sends it.
pub fn status(code: u16, reason: &str, message: &str, details: Value) -> (u16, Value) {
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    if !details.is_null() {
        body["details"] = details;
    }
    (code, body)
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    let latency = {
        let mut s = lock(&state);
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        s.controls.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let (code, value, retry_after) = {
        let mut s = lock(&state);
        s.in_flight -= 1;
        let mut line = format!("{} {}", parts.method, parts.uri);
        // A delete carries its dry run in the body's DeleteOptions, not in the URL.
        if parts.method == Method::DELETE && delete_dry_run(&bytes) {
            line.push_str(" (body: dryRun=All)");
        }
        s.log.push(line);
        if let Some((_, body)) = s.controls.garbled.clone().filter(|(m, _)| *m == parts.method.as_str()) {
            return Ok(Response::new(Full::new(Bytes::from(body))));
        }
        answer(&mut s, &parts, &bytes)
    };
    let mut response = respond(code, &value);
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", hyper::header::HeaderValue::from(seconds));
    }
    Ok(response)
}

fn answer(state: &mut State, parts: &hyper::http::request::Parts, body: &[u8]) -> (u16, Value, Option<u64>) {
    if let Some(expected) = &state.controls.token {
        let sent = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if sent != format!("Bearer {expected}") {
            let (code, body) = status(401, "Unauthorized", "Unauthorized", Value::Null);
            return (code, body, None);
        }
    }
    if !state.controls.failures.is_empty() {
        let code = state.controls.failures.remove(0);
        let reason = if code == 429 { "TooManyRequests" } else { "ServiceUnavailable" };
        let (code, body) = status(code, reason, "the server is currently unable to handle the request", Value::Null);
        return (code, body, (code == 429).then_some(0));
    }
    let (code, body) = route(state, parts, body);
    (code, body, None)
}

/// `/api/v1/...` or `/apis/{group}/{version}/...`, split into what the request is about.
struct Target<'a> {
    info: &'a KindInfo,
    namespace: Option<String>,
    name: Option<String>,
}

fn route(state: &mut State, parts: &hyper::http::request::Parts, body: &[u8]) -> (u16, Value) {
    let path = parts.uri.path();
    let query = parse_query(parts.uri.query().unwrap_or_default());
    if let Some(document) = discovery(path) {
        return (200, document);
    }
    let Some(target) = parse_path(path) else {
        return status(404, "NotFound", "the server could not find the requested resource", Value::Null);
    };
    let verb = match (&parts.method, &target.name) {
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => {
            return status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Value::Null,
            );
        }
    };
    if state.controls.forbidden.contains(verb) {
        let message = format!(
            "{}{} is forbidden: User \"tester\" cannot {verb} resource \"{}\" in API group \"{}\"",
            target.info.plural,
            if target.info.group.is_empty() { String::new() } else { format!(".{}", target.info.group) },
            target.info.plural,
            target.info.group
        );
        return status(403, "Forbidden", &message, Value::Null);
    }
    let namespace = target.namespace.clone().unwrap_or_default();
    match verb {
        "list" => list(state, &target, &query),
        "get" => get(state, &target, &namespace),
        "patch" => patch(state, &target, &namespace, parts, &query, body),
        _ => delete(state, &target, &namespace, body),
    }
}

fn get(state: &mut State, target: &Target, namespace: &str) -> (u16, Value) {
    let name = target.name.as_deref().unwrap_or_default();
    if let Some((_, code, message)) = state.controls.failing_gets.clone().filter(|(p, _, _)| p == target.info.plural) {
        return status(code, "InternalError", &message, Value::Null);
    }
    let wanted = (target.info.plural.to_string(), namespace.to_string(), name.to_string());
    if let Some((plural, ns, object, labels)) = state.controls.relabel_on_get.take() {
        if (plural.clone(), ns.clone(), object.clone()) == wanted {
            if let Some(stored) = state.store.get_mut(&plural, &ns, &object) {
                stored.body["metadata"]["labels"] = labels;
            }
        } else {
            state.controls.relabel_on_get = Some((plural, ns, object, labels));
        }
    }
    finish_deleting(state, target.info, namespace, name);
    controller::tick(&mut state.store, target.info.kind, namespace, name);
    let answer = match state.store.get(target.info.plural, namespace, name) {
        Some(object) => (200, object.body.clone()),
        None => not_found(target.info, name),
    };
    if state.controls.touch_after_get.as_ref() == Some(&wanted) {
        state.controls.touch_after_get = None;
        state.store.touch(target.info.plural, namespace, name);
    }
    answer
}

fn not_found(info: &KindInfo, name: &str) -> (u16, Value) {
    let resource =
        if info.group.is_empty() { info.plural.to_string() } else { format!("{}.{}", info.plural, info.group) };
    status(
        404,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        json!({"name": name, "group": info.group, "kind": info.plural}),
    )
}

fn list(state: &mut State, target: &Target, query: &[(String, String)]) -> (u16, Value) {
    let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default();
    let Ok(labels) = parse_selector(param("labelSelector")) else {
        return status(
            400,
            "BadRequest",
            &format!("unable to parse requirement: {}", param("labelSelector")),
            Value::Null,
        );
    };
    let fields_selector = param("fieldSelector").to_string();
    let items: Vec<Value> = state
        .store
        .list(target.info.plural, target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels.iter().all(|r| r.matches(&o.body["metadata"]["labels"])))
        .filter(|o| field_matches(&fields_selector, &o.body))
        .map(|o| {
            // Items of a list carry no apiVersion and kind; the list does.
            let mut item = o.body.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    (
        200,
        json!({"kind": format!("{}List", target.info.kind), "apiVersion": target.info.api_version(),
        "metadata": {"resourceVersion": state.store.resource_version()}, "items": items}),
    )
}

/// `metadata.name=x` and `involvedObject.name=x`, comma-joined: the field selectors kompile uses.
fn field_matches(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let Some((path, value)) = term.split_once('=') else { return false };
        let path: Vec<String> = path.split('.').map(str::to_string).collect();
        fields::at(object, &path).and_then(Value::as_str) == Some(value.trim_start_matches('='))
    })
}

fn patch(
    state: &mut State,
    target: &Target,
    namespace: &str,
    parts: &hyper::http::request::Parts,
    query: &[(String, String)],
    body: &[u8],
) -> (u16, Value) {
    let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type != "application/apply-patch+yaml" {
        return status(
            415,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml; got {content_type}"
            ),
            Value::Null,
        );
    }
    let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let Some(manager) = param("fieldManager").filter(|m| !m.is_empty()) else {
        return status(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            Value::Null,
        );
    };
    let Ok(config) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "error decoding YAML: the body is not an object", Value::Null);
    };
    let name = target.name.clone().unwrap_or_default();
    let rejection = state.controls.rejected.iter().find(|(k, n, _, _)| *k == target.info.kind && *n == name).cloned();
    if let Some((kind, name, field, message)) = rejection {
        // The core group is empty: the API server writes `Service "web"`, not `Service. "web"`.
        let qualified =
            if target.info.group.is_empty() { kind.to_string() } else { format!("{kind}.{}", target.info.group) };
        let text = format!("{qualified} \"{name}\" is invalid: {field}: {message}");
        let causes = json!([{"reason": "FieldValueInvalid", "message": message, "field": field}]);
        return status(
            422,
            "Invalid",
            &text,
            json!({"name": name, "group": target.info.group, "kind": target.info.kind, "causes": causes}),
        );
    }
    let force = param("force") == Some("true");
    let dry_run = param("dryRun") == Some("All");
    match state.store.apply(target.info, namespace, &name, manager, &config, force, dry_run) {
        Ok(answer) => answer,
        Err(refusal) => refusal,
    }
}

/// Whether a DELETE's body asks for a dry run (`"dryRun": ["All"]`).
fn delete_dry_run(body: &[u8]) -> bool {
    let options: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    options["dryRun"].as_array().is_some_and(|a| a.iter().any(|v| v == "All"))
}

fn delete(state: &mut State, target: &Target, namespace: &str, body: &[u8]) -> (u16, Value) {
    let name = target.name.clone().unwrap_or_default();
    let options: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let dry_run = delete_dry_run(body);
    let Some(object) = state.store.get(target.info.plural, namespace, &name) else {
        return not_found(target.info, &name);
    };
    let uid = object.body["metadata"]["uid"].clone();
    let preconditions = &options["preconditions"];
    for (field, live) in [("uid", &uid), ("resourceVersion", &object.body["metadata"]["resourceVersion"])] {
        if let Some(wanted) = preconditions[field].as_str().filter(|w| Some(*w) != live.as_str()) {
            let label = if field == "uid" { "UID" } else { "ResourceVersion" };
            let message = format!(
                "Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {}",
                live.as_str().unwrap_or_default()
            );
            return status(409, "Conflict", &message, json!({"name": name, "kind": target.info.plural}));
        }
    }
    let key = (target.info.plural.to_string(), namespace.to_string(), name.clone());
    let held = state.controls.held_forever.contains(&key);
    if !dry_run && (held || state.controls.hold_deletes > 0) {
        // As the API server answers a delete that finalizers hold: the object, terminating.
        let gets = if held { u32::MAX } else { state.controls.hold_deletes };
        let version = state.store.next_version();
        let Some(stored) = state.store.get_mut(target.info.plural, namespace, &name) else {
            return not_found(target.info, &name);
        };
        if stored.body["metadata"].get("deletionTimestamp").is_none() {
            stored.body["metadata"]["deletionTimestamp"] = json!(store::now());
            stored.body["metadata"]["finalizers"] = json!(["standin.kompile.dev/hold"]);
            stored.body["metadata"]["resourceVersion"] = json!(version);
            state.terminating.insert(key, gets);
        }
        return (200, stored.body.clone());
    }
    if !dry_run {
        remove(state, target.info, namespace, &name);
    }
    (
        200,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": target.info.group, "kind": target.info.plural, "uid": uid}}),
    )
}

/// Removes an object, and a workload's pods with it.
fn remove(state: &mut State, info: &KindInfo, namespace: &str, name: &str) {
    state.store.remove(info.plural, namespace, name);
    if controller::WORKLOADS.contains(&info.kind) {
        let prefix = format!("{name}-");
        state.store.remove_where("pods", namespace, |p| {
            p["metadata"]["name"].as_str().is_some_and(|n| n.starts_with(&prefix))
        });
    }
}

/// One GET of a terminating object: one step closer to its finalizer being released; on the
/// last, it is gone (and this GET already finds nothing).
fn finish_deleting(state: &mut State, info: &KindInfo, namespace: &str, name: &str) {
    let key = (info.plural.to_string(), namespace.to_string(), name.to_string());
    let Some(left) = state.terminating.get_mut(&key) else { return };
    *left = left.saturating_sub(1);
    if *left == 0 {
        state.terminating.remove(&key);
        remove(state, info, namespace, name);
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn parse_path(path: &str) -> Option<Target<'static>> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 1 => (Some(ns.to_string()), *plural, tail.first()),
        [plural, tail @ ..] if tail.len() <= 1 => (None, *plural, tail.first()),
        _ => return None,
    };
    let info = KINDS.iter().find(|k| k.group == group && k.version == version && k.plural == plural)?;
    Some(Target { info, namespace: if info.namespaced { namespace } else { None }, name: name.map(|n| n.to_string()) })
}

fn discovery(path: &str) -> Option<Value> {
    let resources = |group: &str| -> Vec<Value> {
        let mut out = Vec::new();
        for k in KINDS.iter().filter(|k| k.group == group) {
            out.push(json!({"name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced, "kind": k.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}));
            out.push(json!({"name": format!("{}/status", k.plural), "singularName": "", "namespaced": k.namespaced,
                "kind": k.kind, "verbs": ["get", "patch", "update"]}));
        }
        out
    };
    match path.trim_end_matches('/') {
        "/api" => Some(json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})),
        "/api/v1" => Some(json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources("")})),
        "/apis" => {
            let mut groups: Vec<&str> = KINDS.iter().map(|k| k.group).filter(|g| !g.is_empty()).collect();
            groups.dedup();
            let groups: Vec<Value> = groups
                .iter()
                .map(|g| {
                    let v = KINDS.iter().find(|k| k.group == *g).map_or("v1", |k| k.version);
                    let version = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                    json!({"name": g, "versions": [version.clone()], "preferredVersion": version})
                })
                .collect();
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        other => {
            let (group, version) = other.strip_prefix("/apis/")?.split_once('/')?;
            KINDS.iter().any(|k| k.group == group && k.version == version).then(|| {
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources(group)})
            })
        }
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.unwrap_or(b'%'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One label selector requirement.
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        match self {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        }
    }
}

/// `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
fn parse_selector(text: &str) -> Result<Vec<Requirement>, ()> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    let set = |s: &str| -> Vec<String> {
        s.trim().trim_start_matches('(').trim_end_matches(')').split(',').map(|v| v.trim().to_string()).collect()
    };
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if let Some((k, v)) = t.split_once("!=") {
                Ok(Requirement::NotEquals(k.trim().into(), v.trim().into()))
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                Ok(Requirement::Equals(k.trim().into(), v.trim().into()))
            } else if let Some((k, v)) = t.split_once(" notin ") {
                Ok(Requirement::NotIn(k.trim().into(), set(v)))
            } else if let Some((k, v)) = t.split_once(" in ") {
                Ok(Requirement::In(k.trim().into(), set(v)))
            } else if let Some(k) = t.strip_prefix('!') {
                Ok(Requirement::NotExists(k.trim().into()))
            } else if t.contains(' ') {
                Err(())
            } else {
                Ok(Requirement::Exists(t.into()))
            }
        })
        .collect()
}

#[test]
fn selectors_parse_and_match() {
    let labels = json!({"app": "web", "tier": "front"});
    let ok = |s: &str| parse_selector(s).expect("parses").iter().all(|r| r.matches(&labels));
    assert!(ok("app=web,tier in (front,back)"));
    assert!(ok("app==web,!missing,tier,env notin (prod)"));
    assert!(!ok("app!=web"));
    assert!(!ok("tier notin (front)"));
    assert_eq!(decode("a%3Db%2Cc"), "a=b,c");
}
