//! One ingress NetworkPolicy per isolated service: its pods admit pods that share one of its
//! compose networks, and anyone on its published ports (what Compose publishes on the host
//! is reachable from outside; on a cluster, through the Services that expose it). Egress is
//! left open, as Compose leaves it, except for `network_mode: none`.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{INSTANCE, selector, service_annotations, service_labels};
use super::metadata;
use super::ports::protocol_name;
use crate::model::{App, Isolation, PodNetwork, Protocol, Service};
use crate::names::label_value;

/// `None` for a service whose pods anything may reach.
pub(super) fn network_policy(app: &App, svc: &Service) -> Option<NetworkPolicy> {
    let (ingress, egress) = match &svc.isolation {
        Isolation::Open => return None,
        Isolation::Networks { published, internal } => {
            let egress = internal.then(|| confined(app, &svc.networks));
            (rules(app, &svc.networks, published), egress)
        }
        // No rule: nothing is admitted in either direction.
        Isolation::Offline => (Vec::new(), Some(Vec::new())),
    };
    let policy_types = if egress.is_some() { vec!["Ingress", "Egress"] } else { vec!["Ingress"] };
    Some(NetworkPolicy {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(selector(app, svc)), ..LabelSelector::default() }),
            policy_types: Some(policy_types.into_iter().map(String::from).collect()),
            ingress: Some(ingress),
            egress: egress.filter(|rules| !rules.is_empty()),
        }),
    })
}

/// From the networks' members on any port; from anywhere on the published ports.
fn rules(app: &App, networks: &[PodNetwork], published: &[(u16, Protocol)]) -> Vec<NetworkPolicyIngressRule> {
    let mut rules = Vec::new();
    if !networks.is_empty() {
        let from = networks.iter().map(|n| member(app, n)).collect();
        rules.push(NetworkPolicyIngressRule { from: Some(from), ports: None });
    }
    if !published.is_empty() {
        rules.push(NetworkPolicyIngressRule { from: None, ports: Some(published.iter().map(port).collect()) });
    }
    rules
}

/// Only to the networks' members, and to DNS on any address: the cluster's resolver (or a
/// node-local cache) keeps names resolving, as Docker's embedded DNS does on an internal
/// network.
fn confined(app: &App, networks: &[PodNetwork]) -> Vec<NetworkPolicyEgressRule> {
    let to = networks.iter().map(|n| member(app, n)).collect();
    let dns = [(53, Protocol::Udp), (53, Protocol::Tcp)].iter().map(port).collect();
    vec![NetworkPolicyEgressRule { to: Some(to), ports: None }, NetworkPolicyEgressRule { to: None, ports: Some(dns) }]
}

/// The pods of a network: of this project, or, for an external network, of any project in
/// the namespace.
fn member(app: &App, network: &PodNetwork) -> NetworkPolicyPeer {
    let mut labels = BTreeMap::from([(network.key(), "true".to_string())]);
    if !network.external {
        labels.insert(INSTANCE.to_string(), label_value(&app.name));
    }
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector { match_labels: Some(labels), ..LabelSelector::default() }),
        ..NetworkPolicyPeer::default()
    }
}

fn port(&(target, protocol): &(u16, Protocol)) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(target))),
        protocol: Some(protocol_name(protocol).to_string()),
        end_port: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, service};

    #[test]
    fn open_services_get_no_policy() {
        assert!(network_policy(&app(), &service("web")).is_none());
    }

    #[test]
    fn members_of_each_network_and_anyone_on_published_ports() {
        let mut web = service("web");
        web.networks = vec![
            PodNetwork { label: "front".into(), external: false },
            PodNetwork { label: "corp".into(), external: true },
        ];
        web.isolation = Isolation::Networks { published: vec![(80, Protocol::Tcp)], internal: false };
        let spec = network_policy(&app(), &web).unwrap().spec.unwrap();
        let value = serde_json::to_value(&spec).unwrap();
        assert_eq!(value["policyTypes"], serde_json::json!(["Ingress"]));
        let from = &value["ingress"][0]["from"];
        assert_eq!(
            from[0]["podSelector"]["matchLabels"],
            serde_json::json!({"kompile.dev/network-front": "true", "app.kubernetes.io/instance": "shop"})
        );
        assert_eq!(from[1]["podSelector"]["matchLabels"], serde_json::json!({"kompile.dev/network-corp": "true"}));
        assert_eq!(value["ingress"][1], serde_json::json!({"ports": [{"port": 80, "protocol": "TCP"}]}));
    }

    #[test]
    fn pods_only_on_internal_networks_reach_their_networks_and_dns() {
        let mut db = service("db");
        db.networks = vec![PodNetwork { label: "back".into(), external: false }];
        db.isolation = Isolation::Networks { published: vec![], internal: true };
        let value = serde_json::to_value(network_policy(&app(), &db).unwrap().spec.unwrap()).unwrap();
        assert_eq!(value["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
        let to = &value["egress"][0]["to"][0]["podSelector"]["matchLabels"];
        assert_eq!(to["kompile.dev/network-back"], "true");
        let dns = serde_json::json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]);
        assert_eq!(value["egress"][1], serde_json::json!({"ports": dns}));
    }

    #[test]
    fn offline_services_admit_and_send_nothing() {
        let mut off = service("off");
        off.isolation = Isolation::Offline;
        let value = serde_json::to_value(network_policy(&app(), &off).unwrap().spec.unwrap()).unwrap();
        assert_eq!(value["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
        assert_eq!(value["ingress"], serde_json::json!([]));
        assert!(value.get("egress").is_none());
    }
}
