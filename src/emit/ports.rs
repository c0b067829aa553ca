//! The container's ports, shared by the Deployment and the Service so both agree on names.

use std::collections::BTreeSet;

use crate::model::{Port, Protocol, Service};

/// A container port after deduplication, with the name the Service targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamedPort {
    pub target: u16,
    pub protocol: Protocol,
    pub name: String,
    pub app_protocol: Option<String>,
}

/// `ports` then `expose`, one entry per (target, protocol); the first mention wins, because
/// published ports are the ones the user most likely named.
pub(super) fn container_ports(svc: &Service) -> Vec<NamedPort> {
    let mut seen = BTreeSet::new();
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for port in svc.ports.iter().chain(&svc.expose) {
        if !seen.insert((port.target, port.protocol)) {
            continue;
        }
        let name = unique_name(port, &mut taken);
        out.push(NamedPort {
            target: port.target,
            protocol: port.protocol,
            name,
            app_protocol: port.app_protocol.clone(),
        });
    }
    out
}

/// The Kubernetes spelling of a protocol.
pub(super) fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Sctp => "SCTP",
    }
}

/// `tcp-8080`: the name kompile gives a port, container or Service, that the user did not name.
pub(super) fn generated_name(protocol: Protocol, port: u16) -> String {
    format!("{}-{port}", protocol.compose_name())
}

/// The user's name, else `<proto>-<target>` (at most `sctp-65535`, 10 chars, a valid
/// IANA_SVC_NAME). Port names must be unique in a pod; if a user-chosen name already claimed
/// the generated one, fall back to `port-<n>`.
fn unique_name(port: &Port, taken: &mut BTreeSet<String>) -> String {
    let generated = generated_name(port.protocol, port.target);
    let mut candidates = port.name.iter().cloned().chain([generated]);
    let name = candidates
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| (0..).map(|n| format!("port-{n}")).find(|c| !taken.contains(c)).unwrap_or_default());
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{port, service};
    use crate::model::is_port_name as valid_port_name;

    #[test]
    fn dedupes_by_target_and_protocol() {
        let mut s = service("web");
        let mut udp = port(53);
        udp.protocol = Protocol::Udp;
        s.ports = vec![port(80), port(53), udp];
        s.expose = vec![port(80), port(9090)];
        let got: Vec<_> = container_ports(&s).into_iter().map(|p| p.name).collect();
        assert_eq!(got, ["tcp-80", "tcp-53", "udp-53", "tcp-9090"]);
    }

    #[test]
    fn names_are_valid_and_unique() {
        let mut s = service("web");
        let mut named = port(80);
        named.name = Some("tcp-8080".into());
        let mut sctp = port(65535);
        sctp.protocol = Protocol::Sctp;
        s.ports = vec![named, port(8080), sctp];
        let names: Vec<_> = container_ports(&s).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["tcp-8080", "port-0", "sctp-65535"]);
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| valid_port_name(n)), "{names:?}");
    }
}
