//! `kompile status`: where each workload of the project's ApplySet stands, judged as the
//! rollout wait judges it ([`wait::status`]), with the pods' reasons when it is not ready and
//! the addresses its Services and Ingresses expose it on. The members come from the ApplySet
//! ([`applyset::existing`]), never from the compose files.

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use super::applyset::Applied;
use super::client::Cluster;
use super::get_named;
use super::plan::{self, Live};
use super::wait::{self, Rollout};

/// One workload, as `status` prints it (and, field for field, as `-o json` writes it; see
/// docs/cluster.md#status).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The compose service it was made from, when kompile recorded it.
    pub service: Option<String>,
    /// Done as the rollout wait decides it (a Job: complete; a CronJob: always).
    pub ready: bool,
    /// `ready`, `waiting` or `failed`.
    pub state: &'static str,
    /// What the rollout judgement says, e.g. `0 of 1 updated replicas available`.
    pub reason: String,
    /// Ready pods (a Job: succeeded ones) and how many are wanted; `None` for a CronJob.
    pub ready_replicas: Option<i64>,
    pub desired_replicas: Option<i64>,
    /// The first container's image, and its tag (or digest), empty when it has none.
    pub image: String,
    pub tag: String,
    /// `metadata.creationTimestamp`, and seconds since then.
    pub created: Option<String>,
    pub age_seconds: Option<i64>,
    /// Where it is reachable from outside the cluster, when known: a LoadBalancer's
    /// `ip:port` or `hostname:port`, `node:<nodePort>`, an Ingress's `http(s)://host/path`.
    pub addresses: Vec<String>,
    /// The pods' problems when it is not ready (`pod NAME: container C: CrashLoopBackOff: …`).
    pub pods: Vec<String>,
}

/// The kinds `status` reports on: those the rollout wait follows, and CronJobs.
pub fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob")
}

/// A row per workload member of `applied`, in the members' order. Each workload is read
/// afresh, as each poll of the rollout wait reads it; its pods only when it is not ready.
pub async fn rows(cluster: &Cluster, applied: &Applied, concurrency: usize, now: jiff::Timestamp) -> Vec<Row> {
    let live = &applied.current.live;
    let workloads: Vec<&Live> = live.iter().filter(|l| is_workload(&l.kind)).collect();
    futures::stream::iter(workloads.into_iter().map(|member| async move {
        let body = fresh(cluster, member).await;
        let rollout = wait::status(&body);
        let pods = match rollout {
            Rollout::Done(_) => Vec::new(),
            _ => wait::pod_reasons(cluster, &plan::manifest(body.clone())).await,
        };
        row(&body, rollout, pods, live, now)
    }))
    .buffered(concurrency)
    .collect()
    .await
}

/// The workload as the server has it now; as listed when it cannot be read again.
async fn fresh(cluster: &Cluster, member: &Live) -> Value {
    let Ok(Some(found)) = cluster.discover(&member.key.group_kind).await else { return member.body.clone() };
    match get_named(cluster, &found, member.key.namespace.as_deref(), &member.key.name).await {
        Ok(Some(mut body)) => {
            // A GET answer carries its kind; keep the listed one should a server leave it out.
            if body["kind"].is_null() {
                body["kind"] = member.body["kind"].clone();
            }
            body
        }
        _ => member.body.clone(),
    }
}

/// A row from a workload's body, its judgement, its pods' problems and the set's members.
pub fn row(body: &Value, rollout: Rollout, pods: Vec<String>, members: &[Live], now: jiff::Timestamp) -> Row {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let (ready, state, reason) = match rollout {
        Rollout::Done(reason) => (true, "ready", reason),
        Rollout::Waiting(reason) => (false, "waiting", reason),
        Rollout::Failed(reason) => (false, "failed", reason),
    };
    let (ready_replicas, desired_replicas) = counts(body).unzip();
    let image = image(body);
    let created = text(&body["metadata"]["creationTimestamp"]);
    Row {
        kind: text(&body["kind"]).unwrap_or_default(),
        namespace: text(&body["metadata"]["namespace"]),
        name: text(&body["metadata"]["name"]).unwrap_or_default(),
        service: text(&body["metadata"]["annotations"][plan::SERVICE_ANNOTATION]),
        ready,
        state,
        reason,
        ready_replicas,
        desired_replicas,
        tag: tag(&image).to_string(),
        image,
        age_seconds: created.as_deref().and_then(|c| age(c, now)),
        created,
        addresses: addresses(body, members),
        pods,
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// `(ready, desired)` as `kubectl get` shows them: ready pods of the replicas asked for, a
/// DaemonSet's ready pods of those it should schedule, a Job's succeeded pods of its
/// completions. A CronJob has none.
pub fn counts(workload: &Value) -> Option<(i64, i64)> {
    let (spec, status) = (&workload["spec"], &workload["status"]);
    match workload["kind"].as_str().unwrap_or_default() {
        "DaemonSet" => Some((int(&status["numberReady"]), int(&status["desiredNumberScheduled"]))),
        "Job" => Some((int(&status["succeeded"]), spec["completions"].as_i64().unwrap_or(1))),
        "CronJob" => None,
        _ => Some((int(&status["readyReplicas"]), spec["replicas"].as_i64().unwrap_or(1))),
    }
}

/// The pod template of a workload (a CronJob's is inside its Job template).
fn template(workload: &Value) -> &Value {
    let spec = &workload["spec"];
    if workload["kind"] == "CronJob" { &spec["jobTemplate"]["spec"]["template"] } else { &spec["template"] }
}

/// The first container's image.
pub fn image(workload: &Value) -> String {
    template(workload)["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string()
}

/// The tag of `image` (`nginx:1.27` → `1.27`), or its digest; empty without either. A colon
/// before the last `/` is a registry's port, not a tag.
pub fn tag(image: &str) -> &str {
    if let Some((_, digest)) = image.split_once('@') {
        return digest;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag).unwrap_or_default()
}

/// Seconds from `created` (RFC 3339) to `now`.
pub fn age(created: &str, now: jiff::Timestamp) -> Option<i64> {
    let created: jiff::Timestamp = created.parse().ok()?;
    Some(now.as_second().saturating_sub(created.as_second()).max(0))
}

/// `45s`, `12m`, `5h`, `3d`, as `kubectl get` abbreviates ages.
pub fn short_age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Where the workload is reachable from outside: the set's Services that select its pods
/// (LoadBalancer ingress addresses, node ports) and the set's Ingresses that route to one
/// of those Services.
pub fn addresses(workload: &Value, members: &[Live]) -> Vec<String> {
    let labels = &template(workload)["metadata"]["labels"];
    let same_namespace = |m: &&Live| m.body["metadata"]["namespace"] == workload["metadata"]["namespace"];
    let services: Vec<&Live> = members
        .iter()
        .filter(|m| m.kind == "Service")
        .filter(same_namespace)
        .filter(|s| selects(&s.body["spec"]["selector"], labels))
        .collect();
    let mut out: Vec<String> = services.iter().flat_map(|s| service_addresses(&s.body)).collect();
    let names: Vec<&str> = services.iter().map(|s| s.key.name.as_str()).collect();
    for ingress in members.iter().filter(|m| m.kind == "Ingress").filter(same_namespace) {
        out.extend(ingress_addresses(&ingress.body, &names));
    }
    out.dedup();
    out
}

/// A non-empty selector whose every label the pod labels have.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// `ip:port` / `hostname:port` for each LoadBalancer ingress and port; `node:<nodePort>` for
/// node ports. A ClusterIP Service is inside the cluster only.
fn service_addresses(service: &Value) -> Vec<String> {
    let ports: Vec<&Value> = service["spec"]["ports"].as_array().into_iter().flatten().collect();
    match service["spec"]["type"].as_str().unwrap_or_default() {
        "LoadBalancer" => {
            let ingresses = service["status"]["loadBalancer"]["ingress"].as_array().into_iter().flatten();
            let hosts: Vec<&str> = ingresses.filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str())).collect();
            hosts.iter().flat_map(|host| ports.iter().map(move |p| format!("{host}:{}", int(&p["port"])))).collect()
        }
        "NodePort" => ports.iter().filter_map(|p| p["nodePort"].as_i64()).map(|n| format!("node:{n}")).collect(),
        _ => Vec::new(),
    }
}

/// `http(s)://host/path` for each rule path whose backend is one of `services`; a rule
/// without a host is `http://*/path` (every host). `https` when the host is in `tls`.
fn ingress_addresses(ingress: &Value, services: &[&str]) -> Vec<String> {
    let spec = &ingress["spec"];
    let tls: Vec<&str> = spec["tls"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["hosts"].as_array().into_iter().flatten().filter_map(Value::as_str))
        .collect();
    let mut out = Vec::new();
    for rule in spec["rules"].as_array().into_iter().flatten() {
        let host = rule["host"].as_str().unwrap_or("*");
        let scheme = if tls.contains(&host) { "https" } else { "http" };
        for path in rule["http"]["paths"].as_array().into_iter().flatten() {
            let backend = path["backend"]["service"]["name"].as_str().unwrap_or_default();
            if services.contains(&backend) {
                out.push(format!("{scheme}://{host}{}", path["path"].as_str().unwrap_or("/")));
            }
        }
    }
    out
}

/// The rows as an aligned table with a header: one line per workload; a sentence when there
/// are none.
pub fn table(rows: &[Row]) -> String {
    // A header over nothing would look like output cut short.
    if rows.is_empty() {
        return "no workloads in this project's ApplySet\n".to_string();
    }
    let header = ["KIND", "NAME", "READY", "IMAGE", "AGE", "ADDRESS", "STATUS"].map(str::to_string);
    let mut lines = vec![header.to_vec()];
    for row in rows {
        let ready = match (row.ready_replicas, row.desired_replicas) {
            (Some(r), Some(d)) => format!("{r}/{d}"),
            _ => "-".to_string(),
        };
        let status = match row.state {
            "ready" => format!("ready ({})", row.reason),
            state => {
                let pods = row.pods.first().map(|p| format!("; {p}")).unwrap_or_default();
                format!("{state}: {}{pods}", row.reason)
            }
        };
        lines.push(vec![
            row.kind.clone(),
            row.name.clone(),
            ready,
            if row.image.is_empty() { "-".into() } else { row.image.clone() },
            row.age_seconds.map(short_age).unwrap_or_else(|| "-".into()),
            if row.addresses.is_empty() { "-".into() } else { row.addresses.join(",") },
            status,
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_workloads_is_said_not_left_as_a_bare_header() {
        assert_eq!(table(&[]), "no workloads in this project's ApplySet\n");
    }

    fn live(body: Value) -> Live {
        let manifest = plan::manifest(body.clone());
        Live { key: manifest.key(), kind: manifest.kind, body }
    }

    #[test]
    fn tags_and_digests() {
        assert_eq!(tag("nginx:1.27"), "1.27");
        assert_eq!(tag("registry:5000/team/app"), "");
        assert_eq!(tag("registry:5000/team/app:v2"), "v2");
        assert_eq!(tag("app@sha256:abc"), "sha256:abc");
    }

    #[test]
    fn ages_read_like_kubectl() {
        let now: jiff::Timestamp = "2026-11-26T12:10:00Z".parse().expect("time");
        assert_eq!(age("2026-11-26T12:00:00Z", now), Some(600));
        assert_eq!(age("yesterday", now), None);
        assert_eq!(short_age(45), "45s");
        assert_eq!(short_age(600), "10m");
        assert_eq!(short_age(3 * 3600), "3h");
        assert_eq!(short_age(3 * 86400), "3d");
    }

    #[test]
    fn counts_per_kind() {
        let d = json!({"kind": "Deployment", "spec": {"replicas": 3}, "status": {"readyReplicas": 2}});
        assert_eq!(counts(&d), Some((2, 3)));
        let ds = json!({"kind": "DaemonSet", "status": {"numberReady": 1, "desiredNumberScheduled": 4}});
        assert_eq!(counts(&ds), Some((1, 4)));
        assert_eq!(counts(&json!({"kind": "Job", "status": {"succeeded": 1}})), Some((1, 1)));
        assert_eq!(counts(&json!({"kind": "CronJob"})), None);
    }

    #[test]
    fn addresses_come_from_the_services_and_ingresses_that_reach_the_pods() {
        let web = json!({"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "web", "tier": "front"}}}}});
        let members = vec![
            live(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-published", "namespace": "shop"},
                "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 8080}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}}),
            ),
            live(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-np", "namespace": "shop"},
                "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]}})),
            live(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})),
            live(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"type": "NodePort", "selector": {"app": "api"}, "ports": [{"port": 80, "nodePort": 30081}]}})),
            live(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"tls": [{"hosts": ["shop.example.com"]}], "rules": [{"host": "shop.example.com",
                    "http": {"paths": [{"path": "/", "backend": {"service": {"name": "web"}}}]}}]}}),
            ),
        ];
        assert_eq!(
            addresses(&web, &members),
            ["192.0.2.10:8080", "node:30080", "https://shop.example.com/"].map(String::from)
        );
    }

    #[test]
    fn the_table_has_a_line_per_workload() {
        let now: jiff::Timestamp = "2026-11-26T12:05:00Z".parse().expect("time");
        let body = json!({"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop",
            "creationTimestamp": "2026-11-26T12:00:00Z"}, "spec": {"replicas": 2,
            "template": {"spec": {"containers": [{"image": "nginx:1.27"}]}}}, "status": {"readyReplicas": 1}});
        let pods = vec!["pod web-1: container web: CrashLoopBackOff".to_string()];
        let row = row(&body, Rollout::Waiting("1 of 2 updated replicas available".into()), pods, &[], now);
        assert_eq!((row.tag.as_str(), row.age_seconds), ("1.27", Some(300)));
        let text = table(&[row]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("KIND"));
        assert!(lines[1].starts_with("Deployment  web   1/2    nginx:1.27  5m"), "{text}");
        assert!(
            lines[1]
                .ends_with("waiting: 1 of 2 updated replicas available; pod web-1: container web: CrashLoopBackOff")
        );
    }
}
