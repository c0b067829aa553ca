//! Published ports → what reaches a service from outside the cluster, as `x-kompile.expose`
//! chooses (the service's setting, else its Kompose labels, else the project's, else
//! `loadbalancer`): a `<service>-published` Service of type LoadBalancer or NodePort, an
//! Ingress, or nothing. The ClusterIP Service on the container ports is made either way.

use std::collections::BTreeMap;

use crate::compose::{self, IngressSettings, ProjectSettings, ServiceSettings, Spanned, Tls};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{
    ExposeKind, Exposure, Ingress, IngressRule, Port, Protocol, PublishedPort, PublishedService, Service, TrafficPolicy,
};
use crate::names::hashed_label;
use crate::source::Span;

pub struct Exposing<'a, 'b> {
    pub service: &'a compose::Service,
    pub k8s_name: &'a str,
    pub project: &'a ProjectSettings,
    /// The settings the service's Kompose labels stand for (`kompose::settings`).
    pub labels: &'a ServiceSettings,
    /// The lowered published ports, and the `expose`d (or EXPOSEd) ones.
    pub ports: &'a [Port],
    pub expose: &'a [Port],
    pub diags: &'b mut Diagnostics,
}

/// The settings in force for one service, each from the service's `x-kompile`, else its
/// Kompose labels, else the project.
struct Chosen {
    kind: ExposeKind,
    /// Where the kind was chosen, if anywhere.
    kind_span: Span,
    ingress: Option<Spanned<IngressSettings>>,
    node_port: Option<u16>,
    traffic: Option<TrafficPolicy>,
}

impl<'a> Exposing<'a, '_> {
    fn name(&self) -> &str {
        &self.service.name.value
    }

    pub fn exposure(mut self) -> Exposure {
        let chosen = self.choose();
        let outside = self.outside_ports(&chosen);
        let mut exposure = Exposure::default();
        match chosen.kind {
            ExposeKind::LoadBalancer | ExposeKind::NodePort if !outside.is_empty() => {
                exposure.published = Some(self.published(&chosen, &outside));
            }
            ExposeKind::Ingress if chosen.ingress.is_none() && !outside.is_empty() => {
                let implied = IngressSettings {
                    routes: vec![compose::IngressRoute { host: None, path: None }],
                    ..IngressSettings::default()
                };
                exposure.ingress = self.ingress(&Spanned::new(implied, chosen.kind_span), &outside, true);
            }
            _ => {}
        }
        if let Some(settings) = &chosen.ingress {
            exposure.ingress = self.ingress(settings, &outside, chosen.kind == ExposeKind::Ingress);
        }
        exposure
    }

    fn choose(&mut self) -> Chosen {
        let own: &ServiceSettings = &self.service.settings;
        let labels = self.labels;
        let ingress = own.ingress.clone().or(labels.ingress.clone());
        let service_kind = own.expose.or(labels.expose);
        // An `ingress` block asks for an Ingress unless the service says otherwise.
        let implied = ingress.as_ref().map(|i| Spanned::new(ExposeKind::Ingress, i.span));
        let kind = service_kind.or(implied).or(self.project.expose);
        Chosen {
            kind: kind.map_or(ExposeKind::LoadBalancer, |k| k.value),
            kind_span: kind.map_or(self.service.name.span, |k| k.span),
            ingress,
            node_port: own.node_port.or(labels.node_port).map(|p| p.value),
            traffic: own
                .external_traffic_policy
                .or(labels.external_traffic_policy)
                .or(self.project.external_traffic_policy)
                .map(|t| t.value),
        }
    }

    /// The published ports that may be reached from outside: not those on a loopback address,
    /// which only the Docker host could reach (a note each). Written entries keep their span
    /// for the notes; a range's ports share one.
    fn outside_ports(&mut self, chosen: &Chosen) -> Vec<(&'a Port, Span)> {
        let items = self.service.ports.as_ref().map(|p| p.value.as_slice()).unwrap_or_default();
        let lowered = |p: &Port| self.ports.iter().any(|l| l.target == p.target && l.protocol == p.protocol);
        let mut out = Vec::new();
        let mut noted = Span::NONE;
        for item in items.iter().filter(|i| lowered(&i.value)) {
            let port = &item.value;
            if !port.on_loopback() {
                out.push((port, item.span));
            } else if chosen.kind != ExposeKind::None && item.span != noted {
                noted = item.span;
                let ip = port.host_ip.as_deref().unwrap_or_default();
                self.diags.push(
                    Diagnostic::new(
                        Code::PublishedPort,
                        format!("service `{}` publishes container port {} on loopback address {ip}: it stays inside the cluster", self.name(), port.target),
                    )
                    .at(item.span, "not exposed outside the cluster")
                    .help("only the Docker host could reach it; in the cluster, other pods reach it through the ClusterIP Service and you through `kubectl port-forward`. Publish on all addresses to expose it"),
                );
            }
        }
        out
    }

    fn published(&mut self, chosen: &Chosen, outside: &[(&Port, Span)]) -> PublishedService {
        let mut ports: Vec<PublishedPort> = Vec::with_capacity(outside.len());
        let mut noted = Span::NONE;
        for (port, span) in outside {
            let published = match port.published {
                Some(published) => published,
                None => {
                    if *span != noted {
                        noted = *span;
                        self.random_port_note(port, *span, chosen.kind);
                    }
                    port.target
                }
            };
            if ports.iter().any(|p| p.port == published && p.protocol == port.protocol) {
                continue;
            }
            let node_port = match chosen.kind {
                ExposeKind::NodePort => self.node_port(published, port, *span, chosen, ports.is_empty()),
                _ => None,
            };
            ports.push(PublishedPort { port: published, node_port, target: port.target, protocol: port.protocol });
        }
        PublishedService {
            k8s_name: published_name(self.k8s_name),
            kind: chosen.kind,
            ports,
            external_traffic_policy: chosen.traffic,
        }
    }

    /// The published port is the nodePort when the cluster can give it; `node_port` names the
    /// first port's.
    fn node_port(&mut self, published: u16, port: &Port, span: Span, chosen: &Chosen, first: bool) -> Option<u16> {
        if let Some(fixed) = chosen.node_port.filter(|_| first) {
            return Some(fixed);
        }
        // A published port inside the range can be the nodePort itself.
        if crate::ports::NODE_PORTS.contains(&published) {
            return Some(published);
        }
        if port.published.is_some() {
            self.diags.push(
                Diagnostic::new(
                    Code::PublishedPort,
                    format!("port {published} of service `{}` is outside the nodePort range 30000–32767: the cluster allocates one", self.name()),
                )
                .at(span, "reached at <node>:<allocated nodePort>")
                .help("the build-end table and `kubectl get service` show the allocated port; `x-kompile.node_port` fixes it, or use `expose: loadbalancer`"),
            );
        }
        None
    }

    fn random_port_note(&mut self, port: &Port, span: Span, kind: ExposeKind) {
        let (outside, label) = match kind {
            ExposeKind::NodePort => {
                ("a nodePort the cluster allocates".to_string(), "reached at <node>:<allocated nodePort>".to_string())
            }
            _ => (format!("port {}", port.target), format!("published on {}", port.target)),
        };
        self.diags.push(
            Diagnostic::new(
                Code::PublishedPort,
                format!(
                    "service `{}` publishes container port {} on a random host port; on the cluster it is {outside}",
                    self.name(),
                    port.target
                ),
            )
            .at(span, label)
            .help("write the host port (`8080:80`) to choose it"),
        );
    }

    /// The Ingress of `settings`, routed to the ClusterIP Service port `port`, else the first
    /// published port's container port, else the service's first container port.
    /// `only` when the Ingress is all that is exposed: the other published ports are noted.
    fn ingress(
        &mut self,
        settings: &Spanned<IngressSettings>,
        outside: &[(&Port, Span)],
        only: bool,
    ) -> Option<Ingress> {
        let port = self.ingress_port(settings)?;
        for (other, span) in outside.iter().filter(|(p, _)| only && p.target != port) {
            self.diags.push(
                Diagnostic::new(
                    Code::PublishedPort,
                    format!("container port {} of service `{}` is published, but its Ingress routes port {port}: it stays inside the cluster", other.target, self.name()),
                )
                .at(*span, "not exposed outside the cluster")
                .help("an Ingress routes HTTP to one port; set `x-kompile.expose: loadbalancer` to expose every published port"),
            );
        }
        let tls_secret = settings.tls.as_ref().map(|t| match &t.value {
            Tls::Default => format!("{}-tls", self.k8s_name),
            Tls::Secret(name) => name.clone(),
        });
        let rule = |route: &compose::IngressRoute| IngressRule {
            host: route.host.as_ref().map(|h| h.value.clone()),
            path: route.path.as_ref().map_or_else(|| "/".to_string(), |p| p.value.clone()),
            span: route.host.as_ref().map_or(settings.span, |h| h.span),
        };
        Some(Ingress {
            k8s_name: self.k8s_name.to_string(),
            rules: settings.value.routes.iter().map(rule).collect(),
            port,
            tls_secret,
            class: settings.class.as_ref().map(|c| c.value.clone()),
            annotations: compose::to_map(&settings.annotations),
        })
    }

    fn ingress_port(&mut self, settings: &Spanned<IngressSettings>) -> Option<u16> {
        let serves =
            |port: u16| self.ports.iter().chain(self.expose).any(|p| p.target == port && p.protocol == Protocol::Tcp);
        if let Some(port) = &settings.port {
            if serves(port.value) {
                return Some(port.value);
            }
            self.diags.push(
                Diagnostic::new(
                    Code::IngressPort,
                    format!(
                        "the Ingress of service `{}` routes port {}, which the service does not serve",
                        self.name(),
                        port.value
                    ),
                )
                .at(port.span, "not a TCP port of `ports` or `expose`")
                .help("add the port to the service's `expose`, or route one of its ports"),
            );
            return None;
        }
        let published = self.ports.iter().find(|p| p.protocol == Protocol::Tcp && !p.on_loopback());
        let port = published.or_else(|| self.ports.iter().chain(self.expose).find(|p| p.protocol == Protocol::Tcp));
        if port.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::IngressPort,
                    format!("service `{}` has an Ingress but no TCP port to route it to", self.name()),
                )
                .at(settings.span, "routes to no port")
                .help("publish the port the service serves HTTP on (`ports: [\"8080:80\"]`) or list it under `expose`"),
            );
        }
        Some(port?.target)
    }
}

/// `<service>-published`, shortened with a hash when longer than a Service name may be.
pub fn published_name(k8s_name: &str) -> String {
    const SUFFIX: &str = "-published";
    let mut name = String::with_capacity(k8s_name.len() + SUFFIX.len());
    name.push_str(k8s_name);
    name.push_str(SUFFIX);
    if name.len() <= 63 { name } else { hashed_label(&name, 63) }
}

/// Two services whose Ingresses route the same host and path: the controller would send the
/// traffic to one of them, which one depending on the controller.
pub fn ingress_conflicts(services: &[Service], diags: &mut Diagnostics) {
    let mut routed: BTreeMap<(Option<&str>, &str), (&str, Span)> = BTreeMap::new();
    for service in services {
        let rules = service.exposure.ingress.iter().flat_map(|i| &i.rules);
        for rule in rules {
            let key = (rule.host.as_deref(), rule.path.as_str());
            let Some((first, first_span)) = routed.get(&key).copied() else {
                routed.insert(key, (&service.name, rule.span));
                continue;
            };
            if first == service.name {
                continue;
            }
            let route = match &rule.host {
                Some(host) => format!("`{host}{}`", rule.path),
                None => format!("`{}` of every host", rule.path),
            };
            diags.push(
                Diagnostic::new(
                    Code::IngressConflict,
                    format!("services `{first}` and `{}` both route {route} through an Ingress", service.name),
                )
                .at(rule.span, format!("`{}` routes it here", service.name))
                .also(first_span, format!("`{first}` routes it here"))
                .help("give each service its own `x-kompile.ingress.host` or `path`"),
            );
        }
    }
}

/// A nodePort belongs to one Service port in the whole cluster: when two ports would take the
/// same one (two services publishing one host port, or `node_port` equal to another published
/// port), the later gets one allocated, with a note naming both services.
pub fn shared_node_ports(services: &mut [Service], diags: &mut Diagnostics) {
    let mut taken: BTreeMap<u16, (String, Span)> = BTreeMap::new();
    for service in services.iter_mut() {
        let Some(published) = &mut service.exposure.published else { continue };
        for port in &mut published.ports {
            let Some(node_port) = port.node_port else { continue };
            let Some((first, first_span)) = taken.get(&node_port) else {
                taken.insert(node_port, (service.name.clone(), service.span));
                continue;
            };
            port.node_port = None;
            diags.push(
                Diagnostic::new(
                    Code::PublishedPort,
                    format!(
                        "nodePort {node_port} is taken by `{first}`: port {} of service `{}` gets one the cluster allocates",
                        port.port, service.name
                    ),
                )
                .at(service.span, "reached at <node>:<allocated nodePort>")
                .also(*first_span, format!("`{first}` has nodePort {node_port}"))
                .help("a nodePort is open on every node for one Service; publish another host port, or set `x-kompile.node_port`"),
            );
        }
    }
}

/// A Service a service adds under a name of its own, named like another Service: its
/// `<service>-published` one, or a StatefulSet's `<service>-headless` one (K202). Two objects
/// of one name would be one, the second replacing the first.
pub fn service_name_conflicts(services: &[Service], diags: &mut Diagnostics) {
    // Every other Service name: each service's own, and its extra names (`container_name`,
    // aliases), which are Services too.
    let mut names: BTreeMap<&str, (&Service, &str)> = BTreeMap::new();
    for service in services {
        names.insert(&service.k8s_name, (service, "the Service"));
        for alias in &service.aliases {
            names.entry(alias).or_insert((service, "an extra name"));
        }
    }
    for service in services {
        for added in added_services(service) {
            let Some((other, what)) = names.get(added.name) else {
                names.insert(added.name, (service, added.what));
                continue;
            };
            diags.push(
                Diagnostic::new(
                    Code::NameCollision,
                    format!(
                        "{} of `{}` and {what} of `{}` are both named `{}`",
                        added.what, service.name, other.name, added.name
                    ),
                )
                .at(service.span, added.label)
                .also(other.span, "has the same name")
                .help(added.help),
            );
        }
    }
}

/// A Service named after a service, beside its own.
struct Added<'a> {
    name: &'a str,
    what: &'static str,
    /// Why the service has it.
    label: &'static str,
    /// How to do without it.
    help: &'static str,
}

fn added_services(service: &Service) -> Vec<Added<'_>> {
    let mut added = Vec::new();
    if let Some(published) = &service.exposure.published {
        added.push(Added {
            name: &published.k8s_name,
            what: "the published Service",
            label: "publishes ports",
            help: "rename one of them, or set `x-kompile.expose: none` on the first",
        });
    }
    if let crate::model::Workload::StatefulSet(set) = &service.workload {
        added.push(Added {
            name: &set.service_name,
            what: "the headless Service",
            label: "is a StatefulSet, whose pods it names",
            help: "rename one of them, or set `x-kompile: {kind: deployment}` on the first",
        });
    }
    added
}

#[cfg(test)]
mod tests {
    use super::published_name;
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text, only_service};
    use crate::model::{ExposeKind, Protocol, PublishedPort, TrafficPolicy};

    fn service(ports: &str, settings: &str) -> String {
        format!(
            "services:\n  web:\n    image: x:1\n    healthcheck: {{test: [CMD, ok]}}\n    ports: {ports}\n    x-kompile: {settings}\n"
        )
    }

    fn port(port: u16, node_port: Option<u16>, target: u16) -> PublishedPort {
        PublishedPort { port, node_port, target, protocol: Protocol::Tcp }
    }

    /// An extra name is a Service too: one named like another's published Service would be
    /// a second object of the same name.
    #[test]
    fn an_extra_name_taking_a_published_name_is_an_error() {
        let (_, diags) = lower_text(
            "services:\n  web:\n    image: x:1\n    ports: ['80:80']\n  app:\n    image: x:1\n    expose: ['3000']\n    container_name: web-published\n",
        );
        assert!(codes(&diags).contains(&Code::NameCollision), "{diags:?}");
        assert!(diags.has_errors());
    }

    #[test]
    fn published_ports_get_a_load_balancer_by_default() {
        let (app, diags) = lower_text(&service("['8080:80', '53:53/udp']", "{}"));
        let published = only_service(&app).exposure.published.as_ref().expect("a published Service");
        assert_eq!((published.k8s_name.as_str(), published.kind), ("web-published", ExposeKind::LoadBalancer));
        let udp = PublishedPort { protocol: Protocol::Udp, ..port(53, None, 53) };
        assert_eq!(published.ports, [port(8080, None, 80), udp]);
        assert!(codes(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn node_ports_are_the_published_ports_in_range_else_allocated() {
        let (app, diags) = lower_text(&service("['30080:80', '8080:8080', '9000']", "{expose: nodeport}"));
        let published = only_service(&app).exposure.published.clone().unwrap();
        assert_eq!(published.kind, ExposeKind::NodePort);
        assert_eq!(published.ports, [port(30080, Some(30080), 80), port(8080, None, 8080), port(9000, None, 9000)]);
        assert_eq!(codes(&diags), [Code::PublishedPort, Code::PublishedPort], "8080 allocated, 9000 random");
        let (app, _) = lower_text(&service("['8080:80']", "{expose: nodeport, node_port: 31000}"));
        assert_eq!(only_service(&app).exposure.published.clone().unwrap().ports, [port(8080, Some(31000), 80)]);
    }

    #[test]
    fn loopback_ports_stay_inside_with_a_note() {
        let (app, diags) = lower_text(&service("['127.0.0.1:8081:8080', '[::1]:9000:9000', '8082:80']", "{}"));
        let published = only_service(&app).exposure.published.clone().unwrap();
        assert_eq!(published.ports, [port(8082, None, 80)]);
        assert_eq!(codes(&diags), [Code::PublishedPort, Code::PublishedPort]);
        let (app, diags) = lower_text(&service("['127.0.0.1:8081:8080']", "{}"));
        assert_eq!(only_service(&app).exposure.published, None);
        assert_eq!(codes(&diags), [Code::PublishedPort]);
    }

    #[test]
    fn none_keeps_every_port_inside_and_the_project_default_applies() {
        let compose =
            format!("x-kompile: {{expose: none, external_traffic_policy: Local}}\n{}", service("['80:80']", "{}"));
        let (app, diags) = lower_text(&compose);
        assert_eq!(only_service(&app).exposure, Default::default());
        assert!(codes(&diags).is_empty(), "{diags:?}");
        let compose = compose.replace("x-kompile: {}", "x-kompile: {expose: loadbalancer}");
        let (app, _) = lower_text(&compose);
        let published = only_service(&app).exposure.published.clone().unwrap();
        assert_eq!(published.external_traffic_policy, Some(TrafficPolicy::Local));
    }

    #[test]
    fn an_ingress_routes_the_first_published_port() {
        let settings = "{ingress: {host: shop.example.com, path: /shop, tls: true, class: nginx}}";
        let (app, diags) = lower_text(&service("['8443:443/udp', '8080:80', '9090:9090']", settings));
        let web = only_service(&app);
        let ingress = web.exposure.ingress.as_ref().expect("an Ingress");
        assert_eq!(ingress.port, 80, "the first TCP port");
        assert_eq!(ingress.tls_secret.as_deref(), Some("web-tls"));
        assert_eq!(
            (ingress.rules[0].host.as_deref(), ingress.rules[0].path.as_str()),
            (Some("shop.example.com"), "/shop")
        );
        assert_eq!(web.exposure.published, None, "the ingress block makes `expose: ingress`");
        assert_eq!(codes(&diags), [Code::PublishedPort, Code::PublishedPort], "443/udp and 9090 are not routed");
    }

    #[test]
    fn an_ingress_needs_a_port_the_service_serves() {
        let (app, diags) = lower_text(&service("['8080:80']", "{ingress: {port: 81, tls: cert}}"));
        assert_eq!(only_service(&app).exposure.ingress, None);
        assert_eq!(codes(&diags), [Code::IngressPort]);
        let compose =
            "services:\n  web:\n    image: x:1\n    x-kompile: {expose: ingress, ingress: {host: a.example}}\n";
        let (_, diags) = lower_text(compose);
        assert_eq!(codes(&diags), [Code::IngressPort]);
    }

    #[test]
    fn two_services_on_one_host_and_path_conflict() {
        let compose = "services:\n  a:\n    image: x:1\n    healthcheck: {test: [CMD, ok]}\n    expose: [80]\n    x-kompile: {ingress: {host: shop.example.com}}\n  b:\n    image: x:1\n    healthcheck: {test: [CMD, ok]}\n    expose: [80]\n    x-kompile: {ingress: {host: shop.example.com, path: /}}\n";
        let (_, diags) = lower_text(compose);
        assert_eq!(codes(&diags), [Code::IngressConflict]);
        let conflict = &diags.items()[0];
        assert_eq!(conflict.secondary.len(), 1, "both places are shown");
        let (_, diags) = lower_text(&compose.replace("path: /}", "path: /b}"));
        assert!(codes(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn bad_settings_are_errors_at_the_value() {
        for (settings, code) in [
            ("{expose: loadbalancers}", Code::InvalidValue),
            ("{ingress: {host: 'https://shop.example.com'}}", Code::InvalidValue),
            ("{ingress: {host: Shop.example.com}}", Code::InvalidValue),
            ("{ingress: {path: shop}}", Code::InvalidValue),
            ("{ingress: {tls: 'Not A Secret'}}", Code::InvalidValue),
            ("{node_port: 8080}", Code::InvalidValue),
            ("{external_traffic_policy: nearest}", Code::InvalidValue),
            ("{ingress: {hots: a.example}}", Code::UnknownSetting),
            ("{ingress: {port: 0}}", Code::InvalidPort),
        ] {
            let text = service("['8080:80']", settings);
            let (_, diags) = lower_text(&text);
            let found =
                diags.items().iter().find(|d| d.code == code).unwrap_or_else(|| panic!("{settings}: {diags:?}"));
            assert!(found.primary.is_some() && found.is_error(), "{settings}: {found:?}");
        }
        let (_, diags) = lower_text(&service("['8080:80']", "{expose: LoadBalancer}"));
        assert!(
            diags.items()[0].help.as_deref().unwrap_or_default().contains("did you mean `loadbalancer`"),
            "{diags:?}"
        );
    }

    #[test]
    fn kompose_labels_are_read_and_x_kompile_wins() {
        let compose = "services:\n  web:\n    image: x:1\n    healthcheck: {test: [CMD, ok]}\n    ports: ['80:80']\n    labels:\n      kompose.service.type: NodePort\n      kompose.service.nodeport.port: '30081'\n      kompose.volume.type: hostPath\n      team: web\n";
        let (app, diags) = lower_text(compose);
        let web = only_service(&app);
        assert_eq!(web.exposure.published.clone().unwrap().ports, [port(80, Some(30081), 80)]);
        assert_eq!(web.labels.keys().collect::<Vec<_>>(), ["team"], "kompose labels are not annotations");
        assert_eq!(codes(&diags), [Code::KomposeLabel, Code::KomposeLabel, Code::KomposeUntranslated]);
        let (app, diags) =
            lower_text(&compose.replace("    labels:", "    x-kompile: {expose: loadbalancer}\n    labels:"));
        assert_eq!(only_service(&app).exposure.published.clone().unwrap().kind, ExposeKind::LoadBalancer);
        assert!(diags.items()[0].message.contains("is ignored"), "{diags:?}");
    }

    #[test]
    fn kompose_expose_lists_hosts_and_paths() {
        let compose = "services:\n  web:\n    image: x:1\n    healthcheck: {test: [CMD, ok]}\n    ports: ['8080:80']\n    labels:\n      kompose.service.expose: 'a.example.com, b.example.com/blog'\n      kompose.service.expose.tls-secret: cert\n";
        let (app, _) = lower_text(compose);
        let ingress = only_service(&app).exposure.ingress.clone().expect("an Ingress");
        let rules: Vec<_> = ingress.rules.iter().map(|r| (r.host.as_deref(), r.path.as_str())).collect();
        assert_eq!(rules, [(Some("a.example.com"), "/"), (Some("b.example.com"), "/blog")]);
        assert_eq!((ingress.port, ingress.tls_secret.as_deref()), (80, Some("cert")));
        let (app, _) = lower_text(&compose.replace("'a.example.com, b.example.com/blog'", "'true'"));
        assert_eq!(only_service(&app).exposure.ingress.clone().unwrap().rules[0].host, None);
        let (app, _) = lower_text(&compose.replace("'a.example.com, b.example.com/blog'", "Shop.Example.com"));
        let rules = only_service(&app).exposure.ingress.clone().unwrap().rules;
        assert_eq!(rules[0].host.as_deref(), Some("shop.example.com"), "lowercased, as Kompose does");
        let (app, diags) = lower_text(&compose.replace("'a.example.com, b.example.com/blog'", "'false'"));
        assert_eq!(only_service(&app).exposure.ingress, None);
        assert!(!diags.has_errors(), "{diags:?}");
    }

    #[test]
    fn a_node_port_is_given_once() {
        let service = |name: &str, ports: &str, settings: &str| {
            format!(
                "  {name}:\n    image: x:1\n    healthcheck: {{test: [CMD, ok]}}\n    ports: {ports}\n    x-kompile: {settings}\n"
            )
        };
        let compose = format!(
            "x-kompile: {{expose: nodeport}}\nservices:\n{}{}{}",
            service("a", "['30080:80']", "{}"),
            service("b", "['30080:80']", "{}"),
            service("c", "['8080:80', '30081:81']", "{node_port: 30081}"),
        );
        let (app, diags) = lower_text(&compose);
        let node_ports = |i: usize| -> Vec<_> {
            app.services[i].exposure.published.as_ref().unwrap().ports.iter().map(|p| p.node_port).collect()
        };
        assert_eq!((node_ports(0), node_ports(1)), (vec![Some(30080)], vec![None]), "30080 is a's");
        assert_eq!(node_ports(2), [Some(30081), None], "node_port took 30081 for the first port");
        let notes = diags.items().iter().filter(|d| d.code == Code::PublishedPort && d.message.contains("is taken"));
        assert_eq!(notes.count(), 2, "{diags:?}");
    }

    #[test]
    fn published_names_fit_a_service_name() {
        assert_eq!(published_name("web"), "web-published");
        let long = published_name(&"a".repeat(63));
        assert!(long.len() <= 63 && crate::names::dns_label(&long) == long, "{long}");
    }
}
