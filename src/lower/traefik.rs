//! Traefik's Docker-provider labels (`traefik.http.routers.<r>.rule`, ...). Traefik reads them
//! through the Docker socket, which a cluster does not have, so the routes they make do not
//! exist there. Said once per service, with the `x-kompile` that makes the route an Ingress.

use crate::compose::Service;
use crate::diag::{Code, Diagnostic, Diagnostics};

const PREFIX: &str = "traefik.";

pub fn report(service: &Service, diags: &mut Diagnostics) {
    let labels = || service.labels.iter().filter(|(key, _)| key.starts_with(PREFIX));
    let Some((first, _)) = labels().next() else { return };
    // `traefik.enable: false` turns the service's routes off under Compose too.
    if labels().any(|(key, value)| key.value == "traefik.enable" && value.trim() == "false") {
        return;
    }
    let host = labels().filter(|(key, _)| key.ends_with(".rule")).find_map(|(_, rule)| host_in(rule));
    let port = labels().find(|(key, _)| key.ends_with(".loadbalancer.server.port")).map(|(_, port)| port.trim());
    let name = service.name.as_str();
    let mut fix = Vec::new();
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        fix.push(format!("`expose: [\"{port}\"]` and "));
    }
    fix.push(format!("`x-kompile: {{ingress: {{host: {}}}}}`", host.unwrap_or("HOST")));
    diags.push(
        Diagnostic::new(
            Code::TraefikLabels,
            format!("the `traefik.*` labels of service `{name}` configure Traefik's Docker provider, which the cluster does not run: their routes are not made"),
        )
        .at(first.span, "read from the Docker socket, not on the cluster")
        .help(format!("route the service with an Ingress instead: {}; see docs/x-kompile.md", fix.concat())),
    );
}

/// The first host of a rule: ``Host(`shop.example.com`) && PathPrefix(`/api`)``.
fn host_in(rule: &str) -> Option<&str> {
    let start = rule.find("Host(`")? + "Host(`".len();
    let length = rule[start..].find('`')?;
    Some(&rule[start..start + length]).filter(|host| !host.is_empty())
}

#[cfg(test)]
mod tests {
    use super::host_in;
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text};

    #[test]
    fn traefik_labels_are_reported_once_with_the_ingress_to_write() {
        let compose = "services:\n  web:\n    image: w:1\n    labels:\n      traefik.enable: 'true'\n      traefik.http.routers.web.rule: Host(`shop.example.com`) && PathPrefix(`/`)\n      traefik.http.services.web.loadbalancer.server.port: '3000'\n";
        let (_, diags) = lower_text(compose);
        assert_eq!(codes(&diags).iter().filter(|c| **c == Code::TraefikLabels).count(), 1, "{diags:?}");
        let help = diags.items().iter().find(|d| d.code == Code::TraefikLabels).and_then(|d| d.help.clone());
        let help = help.unwrap_or_default();
        assert!(help.contains("expose: [\"3000\"]") && help.contains("host: shop.example.com"), "{help}");
    }

    #[test]
    fn disabled_or_absent_traefik_labels_are_quiet() {
        for labels in ["{traefik.enable: 'false', traefik.http.routers.a.rule: 'Host(`a.b`)'}", "{com.example.team: x}"]
        {
            let (_, diags) = lower_text(&format!("services:\n  web:\n    image: w:1\n    labels: {labels}\n"));
            assert!(!codes(&diags).contains(&Code::TraefikLabels), "{labels}: {diags:?}");
        }
        assert_eq!(host_in("PathPrefix(`/x`)"), None);
        assert_eq!(host_in("Host(`a.example`) || Host(`b.example`)"), Some("a.example"));
    }
}
