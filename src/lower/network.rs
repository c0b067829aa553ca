//! Compose networks → which pods may reach which. In Compose a container reaches only the
//! containers it shares a network with (a service without `networks` is on `default`), plus
//! whatever is published on the host. kompile labels each pod with its networks and gives
//! each service a NetworkPolicy admitting those labels and its published ports; `emit` turns
//! the model into objects. docs/mapping.md ("Networks") explains the choices.

use std::collections::BTreeSet;

use crate::compose::{Project, Service, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Exposure, Isolation, PodNetwork, Port, Protocol};
use crate::names::hashed_label;

/// The network everything joins when it names none.
const DEFAULT: &str = "default";

/// A network label key is `kompile.dev/network-<label>`: its name part holds 63 characters,
/// `network-` takes 8.
const LABEL_MAX: usize = 55;

/// How far `network_mode: service:<name>` is followed; Compose refuses cycles, this only
/// bounds the walk if one slips through.
const MAX_SHARED: usize = 16;

/// The project's networks as they decide isolation.
pub struct Networks<'a> {
    project: &'a Project,
    /// Whether services on networks are isolated: the project joins a network besides
    /// `default`, and `x-kompile.network_policies` is not `false`.
    isolate: bool,
    /// `network_mode: none` keeps its deny-all policy unless policies are turned off.
    policies: bool,
    /// Every network some service joins by name, for `network_mode: host`.
    used: Vec<&'a str>,
}

/// How a service's pods meet the network.
enum Mode {
    /// On its networks: isolated when the project isolates.
    Member,
    /// Reachable by and reaching everything (`host`, or another container's stack).
    Open,
    /// `network_mode: none`.
    Offline,
}

impl<'a> Networks<'a> {
    pub fn new(project: &'a Project, diags: &mut Diagnostics) -> Networks<'a> {
        let policies = project.settings.network_policies.as_ref().is_none_or(|s| s.value);
        let mut used = BTreeSet::new();
        for service in project.services.iter().filter(|s| s.network_mode.is_none()) {
            used.extend(named(service));
        }
        let isolate = policies && used.iter().any(|n| *n != DEFAULT);
        let networks = Networks { project, isolate, policies, used: used.into_iter().collect() };
        networks.notes(diags);
        networks
    }

    /// The networks `service`'s pods carry as labels and who may connect to them, given the
    /// ports it publishes.
    pub fn of(&self, service: &Service, ports: &[Port]) -> (Vec<PodNetwork>, Isolation) {
        let (names, mode) = self.joined(service, 0);
        match mode {
            Mode::Offline if self.policies => (Vec::new(), Isolation::Offline),
            _ if !self.isolate => (Vec::new(), Isolation::Open),
            Mode::Member => {
                let internal = !names.is_empty() && names.iter().all(|n| self.internal(n));
                (self.labels(&names), Isolation::Networks { published: published(ports), internal })
            }
            Mode::Open => (self.labels(&names), Isolation::Open),
            Mode::Offline => (Vec::new(), Isolation::Open),
        }
    }

    /// The network names a service joins, and how.
    fn joined(&self, service: &'a Service, depth: usize) -> (Vec<&'a str>, Mode) {
        let Some(mode) = &service.network_mode else { return (named(service).collect(), Mode::Member) };
        match mode.as_str() {
            // A host-network container reaches every container through the host, and every
            // container reaches it there: its pod carries every network and no policy.
            "host" => (self.used.clone(), Mode::Open),
            "none" => (Vec::new(), Mode::Offline),
            other => match other.strip_prefix("service:").and_then(|name| self.project.service(name)) {
                // Sharing another service's network stack is being on its networks.
                Some(shared) if depth < MAX_SHARED => self.joined(shared, depth + 1),
                // Another container's stack: who reaches it is unknown here, so nothing is closed.
                _ => (Vec::new(), Mode::Open),
            },
        }
    }

    fn internal(&self, name: &str) -> bool {
        self.project.networks.iter().any(|n| n.name.value == name && n.internal)
    }

    fn labels(&self, names: &[&str]) -> Vec<PodNetwork> {
        names.iter().map(|name| self.label(name)).collect()
    }

    /// An external network is the same network in every project that names it: its label
    /// comes from its real name.
    fn label(&self, name: &str) -> PodNetwork {
        let network = self.project.networks.iter().find(|n| n.name.value == name);
        match network.filter(|n| n.external) {
            Some(n) => PodNetwork {
                label: hashed_label(n.explicit_name.as_deref().unwrap_or(name), LABEL_MAX),
                external: true,
            },
            None => PodNetwork { label: hashed_label(name, LABEL_MAX), external: false },
        }
    }

    /// What Kubernetes cannot do as Compose does, said once per network or service.
    fn notes(&self, diags: &mut Diagnostics) {
        for network in self.project.networks.iter().filter(|n| self.used.contains(&n.name.as_str())) {
            if network.internal {
                diags.push(internal_note(&network.name, self.isolate));
            }
            if network.external && self.isolate {
                diags.push(external_note(&network.name, &self.label(&network.name).key()));
            }
        }
        for service in &self.project.services {
            if let Some(mode) = service.network_mode.as_ref().filter(|m| m.value == "host") {
                diags.push(host_note(&service.name.value, mode));
            }
        }
    }
}

/// The networks a service names, or `default`.
fn named(service: &Service) -> impl Iterator<Item = &str> {
    let default = service.networks.is_empty().then_some(DEFAULT);
    service.networks.iter().map(|n| n.name.as_str()).chain(default)
}

/// The port an Ingress routes is reached from the ingress controller's pods, which share no
/// network with the service: admitted from anywhere, like published ports (it is one, unless
/// `x-kompile.ingress.port` names an `expose`d port).
pub fn admit_ingress(isolation: &mut Isolation, exposure: &Exposure) {
    let (Isolation::Networks { published, .. }, Some(ingress)) = (isolation, &exposure.ingress) else { return };
    if !published.contains(&(ingress.port, Protocol::Tcp)) {
        published.push((ingress.port, Protocol::Tcp));
        published.sort();
    }
}

/// Container ports published beyond the host itself (a loopback `host_ip` publishes to the
/// host alone), once each.
fn published(ports: &[Port]) -> Vec<(u16, Protocol)> {
    let mut out: Vec<(u16, Protocol)> =
        ports.iter().filter(|p| !p.on_loopback()).map(|p| (p.target, p.protocol)).collect();
    out.sort();
    out.dedup();
    out
}

fn internal_note(name: &Spanned<String>, isolate: bool) -> Diagnostic {
    let network = &name.value;
    if isolate {
        return Diagnostic::new(
            Code::InternalNetwork,
            format!("network `{network}` is internal: pods only on internal networks connect only to their networks' pods and to DNS"),
        )
        .at(name.span, "internal")
        .help("an egress NetworkPolicy keeps them in the cluster; DNS (port 53) stays open so names resolve");
    }
    Diagnostic::new(
        Code::InternalNetwork,
        format!("network `{network}` is internal, but kompile emits no NetworkPolicies: its pods can reach outside the cluster"),
    )
    .at(name.span, "internal")
    .help("NetworkPolicies are turned off (`x-kompile.network_policies: false`) or the project has only the default network")
}

fn external_note(name: &Spanned<String>, key: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ExternalNetwork,
        format!(
            "network `{}` is external: only pods labelled `{key}: \"true\"` in the namespace reach its services",
            name.value
        ),
    )
    .at(name.span, "external")
    .help(format!("label the pods of other projects on this network `{key}=true` (kompile does so for its own)"))
}

fn host_note(service: &str, mode: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(
        Code::HostNetwork,
        format!("service `{service}` uses the host's network in Compose; in Kubernetes its pod stays on the pod network"),
    )
    .at(mode.span, "not hostNetwork")
    .help("its pod may reach and be reached by every pod of the project; publish or expose the ports it serves so others reach it by name")
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text};
    use crate::model::{Isolation, Protocol};

    fn labels(app: &crate::model::App, service: &str) -> Vec<String> {
        let s = app.services.iter().find(|s| s.name == service).unwrap();
        s.networks.iter().map(|n| n.label.clone()).collect()
    }

    fn isolation(app: &crate::model::App, service: &str) -> Isolation {
        app.services.iter().find(|s| s.name == service).unwrap().isolation.clone()
    }

    const PROJECT: &str = "services:\n  web:\n    image: x:1\n    networks: [front]\n    ports: ['8080:80', '127.0.0.1:9229:9229']\n  db:\n    image: x:1\n  side:\n    image: x:1\n    network_mode: service:web\n  host:\n    image: x:1\n    network_mode: host\n  off:\n    image: x:1\n    network_mode: none\nnetworks:\n  front: {}\n";

    #[test]
    fn services_join_their_networks_or_default() {
        let (app, diags) = lower_text(PROJECT);
        assert_eq!(labels(&app, "web"), ["front"]);
        assert_eq!(labels(&app, "db"), ["default"]);
        assert_eq!(labels(&app, "side"), ["front"], "shares web's network stack");
        assert_eq!(labels(&app, "host"), ["default", "front"], "reaches everything through the host");
        assert!(labels(&app, "off").is_empty());
        let published = vec![(80, Protocol::Tcp)];
        assert_eq!(isolation(&app, "web"), Isolation::Networks { published, internal: false });
        assert_eq!(isolation(&app, "host"), Isolation::Open);
        assert_eq!(isolation(&app, "off"), Isolation::Offline);
        assert!(codes(&diags).contains(&Code::HostNetwork), "{diags:?}");
    }

    #[test]
    fn turned_off_or_only_default_means_no_isolation() {
        let off = format!("x-kompile: {{network_policies: false}}\n{PROJECT}");
        let (app, _) = lower_text(&off);
        assert!(app.services.iter().all(|s| s.networks.is_empty() && s.isolation == Isolation::Open));
        let (app, _) = lower_text("services:\n  a:\n    image: x:1\n  b:\n    image: x:1\n    networks: [default]\n");
        assert!(app.services.iter().all(|s| s.networks.is_empty() && s.isolation == Isolation::Open));
    }

    /// The ingress controller shares no network with the service: the port its Ingress routes
    /// is admitted from anywhere, also when it is an `expose`d port, not a published one.
    #[test]
    fn the_port_an_ingress_routes_is_admitted_from_anywhere() {
        let (app, diags) = lower_text(
            "services:\n  api:\n    image: x:1\n    expose: ['8000']\n    networks: [back]\n    x-kompile: {ingress: {host: api.example.com, port: 8000}}\nnetworks:\n  back: {}\n",
        );
        assert!(!diags.has_errors(), "{diags:?}");
        let published = vec![(8000, Protocol::Tcp)];
        assert_eq!(isolation(&app, "api"), Isolation::Networks { published, internal: false });
    }

    #[test]
    fn network_policies_must_be_true_or_false() {
        let (app, diags) = lower_text(&format!("x-kompile: {{network_policies: 'off'}}\n{PROJECT}"));
        assert!(codes(&diags).contains(&Code::WrongType), "{diags:?}");
        assert!(app.services.iter().any(|s| s.isolation != Isolation::Open), "the default holds");
    }

    #[test]
    fn external_networks_are_labelled_by_their_real_name() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    networks: [shared, Back_Net]\nnetworks:\n  shared: {external: true, name: corp-net}\n  Back_Net: {internal: true}\n",
        );
        let a = &app.services[0];
        assert_eq!(a.networks[0].label, "corp-net");
        assert!(a.networks[0].external && !a.networks[1].external);
        assert!(a.networks[1].label.starts_with("back-net-"), "{:?}", a.networks[1]);
        assert!(codes(&diags).contains(&Code::ExternalNetwork) && codes(&diags).contains(&Code::InternalNetwork));
        assert_eq!(a.isolation, Isolation::Networks { published: vec![], internal: false }, "`shared` leads out");
    }
}
