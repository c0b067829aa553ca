//! Compose networks against the NetworkPolicies kompile emits, evaluated as a cluster would:
//! who may reach whom, on which port. The evaluator below reads only what Kubernetes reads
//! (pod template labels, policy selectors, rules), and the expectation is Compose's rule,
//! written out by hand for fixtures/features/networks: a container reaches another when they
//! share a network, and anyone reaches a published port.

use std::collections::BTreeMap;

use kompile::emit::Object;
use serde_json::Value;

use crate::support;

type Labels = BTreeMap<String, String>;

/// A pod as the policies see it: its labels and the ports its container declares.
struct Pod {
    labels: Labels,
    ports: Vec<(i64, String)>,
}

/// Each service's compose networks (`default` when it names none; a `network_mode:
/// service:` shares the named service's) and published container ports, read off
/// fixtures/features/networks/compose.yaml, where `back` is `internal`.
const COMPOSE: &[(&str, &[&str], &[i64])] = &[
    ("proxy", &["front"], &[80]), // 8443:443 is published on 127.0.0.1 only
    ("api", &["front", "back"], &[]),
    ("db", &["back"], &[]),
    ("cache", &["default"], &[]),
    ("worker", &["default", "back"], &[]),
    ("metrics", &["front", "back"], &[]), // network_mode: service:api
    ("batch", &[], &[]),                  // network_mode: none
];

/// Services whose container runs in another service's pod (`network_mode: service:`).
const SIDECARS: &[(&str, &str)] = &[("metrics", "api")];

/// The Deployment whose pod runs `service`'s container.
fn pod_of(service: &str) -> &str {
    SIDECARS.iter().find(|(s, _)| *s == service).map_or(service, |(_, pod)| pod)
}

/// A port no container declares: members of a network reach any port, as in Compose.
const UNDECLARED: i64 = 12345;

/// Compose's internal networks: a container only on those has no way out, not even to a
/// published port on the host.
const INTERNAL: &[&str] = &["back"];

#[test]
fn pods_reach_each_other_exactly_when_compose_networks_let_them() {
    let objects = objects("fixtures/features/networks");
    let pods = pods(&objects);
    let policies: Vec<Value> = objects.iter().filter(|o| o.kind() == "NetworkPolicy").map(Object::to_value).collect();
    assert_eq!(pods.len(), COMPOSE.len() - SIDECARS.len(), "one Deployment per pod");
    let mut wrong = Vec::new();
    for (target, target_networks, published) in COMPOSE {
        let pod = &pods[pod_of(target)];
        let mut ports: Vec<(i64, String)> = pod.ports.clone();
        ports.push((UNDECLARED, "TCP".into()));
        for (port, protocol) in &ports {
            let is_published = published.contains(port);
            for (source, source_networks, _) in COMPOSE {
                // Containers of one pod reach each other on localhost.
                if pod_of(source) == pod_of(target) {
                    continue;
                }
                let shared = source_networks.iter().any(|n| target_networks.contains(n));
                let leads_out = source_networks.iter().any(|n| !INTERNAL.contains(n));
                let expected = shared || (is_published && leads_out);
                let got = reaches(&policies, Some(&pods[pod_of(source)].labels), &pod.labels, *port, protocol);
                if got != expected {
                    wrong.push(format!("{source} → {target}:{port}: Compose {expected}, cluster {got}"));
                }
            }
            let from_outside = reaches(&policies, None, &pod.labels, *port, protocol);
            if from_outside != is_published {
                wrong.push(format!("outside → {target}:{port}: Compose {is_published}, cluster {from_outside}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The table above is what Compose itself makes of the fixture: each service's networks
/// (`network_mode: service:` following the named service, `none` joining nothing), its ports
/// not bound to a loopback address, and the internal networks, from `docker compose config`.
#[test]
fn the_expected_networks_are_composes() {
    let install = "set KOMPILE_COMPOSE_REF, or run .ci/install-compose-reference.sh";
    let found = crate::conformance::find_reference();
    let Some(reference) = support::tool("the reference docker-compose", install, found) else { return };
    let dir = support::root().join("fixtures/features/networks");
    let output = std::process::Command::new(&reference.program)
        .args(&reference.prefix)
        .args(["config", "--format", "json"])
        .current_dir(&dir)
        .env_clear()
        .output()
        .expect("the reference runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let config: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let networks_of = |name: &str| -> Vec<String> {
        let mut service = &config["services"][name];
        if let Some(shared) = service["network_mode"].as_str().and_then(|m| m.strip_prefix("service:")) {
            service = &config["services"][shared];
        }
        service["networks"].as_object().map(|n| n.keys().cloned().collect()).unwrap_or_default()
    };
    let published_of = |name: &str| -> Vec<i64> {
        let ports = config["services"][name]["ports"].as_array().cloned().unwrap_or_default();
        let outside = |p: &&Value| p["host_ip"].as_str().is_none_or(|ip| !ip.starts_with("127.") && ip != "::1");
        ports.iter().filter(outside).filter_map(|p| p["target"].as_i64()).collect()
    };
    assert_eq!(config["services"].as_object().map(|s| s.len()), Some(COMPOSE.len()));
    for (name, networks, published) in COMPOSE {
        let mut expected: Vec<&str> = networks.to_vec();
        expected.sort();
        assert_eq!(networks_of(name), expected, "networks of {name}");
        assert_eq!(published_of(name), published.to_vec(), "published ports of {name}");
    }
    let internal: Vec<&String> = config["networks"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, n)| n["internal"] == true)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(internal, INTERNAL);
}

#[test]
fn no_policies_without_networks_or_when_turned_off() {
    for dir in ["fixtures/features/ports", "fixtures/features/dns"] {
        let objects = objects(dir);
        assert!(objects.iter().all(|o| o.kind() != "NetworkPolicy"), "{dir}");
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let compose = std::fs::read_to_string(support::root().join("fixtures/features/networks/compose.yaml")).unwrap();
    let off = compose.replace("x-kompile:\n", "x-kompile:\n  network_policies: false\n");
    assert_ne!(off, compose, "the fixture has a project x-kompile block");
    std::fs::write(dir.path().join("compose.yaml"), off).unwrap();
    let compiled = support::compile(&support::options(dir.path()));
    let objects = compiled.objects.unwrap_or_else(|| panic!("{}", compiled.diagnostics));
    assert!(objects.iter().all(|o| o.kind() != "NetworkPolicy"));
    let pods = pods(&objects);
    assert!(pods.values().all(|p| !p.labels.keys().any(|k| k.starts_with("kompile.dev/network-"))));
}

fn objects(dir: &str) -> Vec<Object> {
    let compiled = support::compile(&support::options(&support::root().join(dir)));
    compiled.objects.unwrap_or_else(|| panic!("{dir}: {}", compiled.diagnostics))
}

fn pods(objects: &[Object]) -> BTreeMap<String, Pod> {
    let mut pods = BTreeMap::new();
    for deployment in objects.iter().filter(|o| o.kind() == "Deployment").map(Object::to_value) {
        let template = &deployment["spec"]["template"];
        let ports = template["spec"]["containers"][0]["ports"].as_array().cloned().unwrap_or_default();
        let ports = ports
            .iter()
            .map(|p| (p["containerPort"].as_i64().unwrap(), p["protocol"].as_str().unwrap_or("TCP").to_string()))
            .collect();
        let name = deployment["metadata"]["name"].as_str().unwrap().to_string();
        pods.insert(name, Pod { labels: labels(&template["metadata"]["labels"]), ports });
    }
    pods
}

fn labels(value: &Value) -> Labels {
    let map = value.as_object().cloned().unwrap_or_default();
    map.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect()
}

/// A label selector with `matchLabels` only (kompile writes no expressions).
fn selects(selector: &Value, pod: &Labels) -> bool {
    assert!(selector.get("matchExpressions").is_none(), "the evaluator reads matchLabels only");
    labels(&selector["matchLabels"]).iter().all(|(k, v)| pod.get(k) == Some(v))
}

fn has_type(policy: &Value, kind: &str) -> bool {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types.iter().any(|t| t == kind),
        // Without policyTypes, a policy is about ingress, and about egress when it has rules.
        None => kind == "Ingress" || policy["spec"].get("egress").is_some(),
    }
}

/// Whether a peer list admits `pod` (`None`: a client outside the cluster).
fn peers_admit(peers: &Value, pod: Option<&Labels>) -> bool {
    let Some(peers) = peers.as_array().filter(|p| !p.is_empty()) else { return true };
    peers.iter().any(|peer| {
        assert!(peer.get("namespaceSelector").is_none() && peer.get("ipBlock").is_none(), "unexpected peer {peer}");
        pod.is_some_and(|pod| selects(&peer["podSelector"], pod))
    })
}

fn ports_admit(ports: &Value, port: i64, protocol: &str) -> bool {
    let Some(ports) = ports.as_array().filter(|p| !p.is_empty()) else { return true };
    ports.iter().any(|p| p["port"].as_i64() == Some(port) && p["protocol"].as_str().unwrap_or("TCP") == protocol)
}

/// Whether the direction `kind` (`Ingress` with rules under `ingress` and peers under `from`,
/// or `Egress`, `egress`, `to`) lets `peer` through at `pod`: allowed when no policy of that
/// type selects `pod`, else when one of their rules admits it.
fn allowed(policies: &[Value], kind: &str, pod: &Labels, peer: Option<&Labels>, port: i64, protocol: &str) -> bool {
    let (rules, peers) = if kind == "Ingress" { ("ingress", "from") } else { ("egress", "to") };
    let selecting: Vec<&Value> =
        policies.iter().filter(|p| has_type(p, kind) && selects(&p["spec"]["podSelector"], pod)).collect();
    selecting.is_empty()
        || selecting.iter().any(|p| {
            let rules = p["spec"][rules].as_array().cloned().unwrap_or_default();
            rules.iter().any(|r| peers_admit(&r[peers], peer) && ports_admit(&r["ports"], port, protocol))
        })
}

/// A connection is made when the source's egress and the target's ingress both allow it.
fn reaches(policies: &[Value], source: Option<&Labels>, target: &Labels, port: i64, protocol: &str) -> bool {
    let out = source.is_none_or(|s| allowed(policies, "Egress", s, Some(target), port, protocol));
    out && allowed(policies, "Ingress", target, source, port, protocol)
}
