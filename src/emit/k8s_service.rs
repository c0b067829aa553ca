//! A ClusterIP Service per compose service with ports, so other services reach it by name as
//! they did on the Compose network.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{selector, service_annotations, service_labels};
use super::metadata;
use super::ports::{container_ports, generated_name, protocol_name};
use crate::model::{self, App};

/// `None` when the service neither publishes nor exposes a port: nothing could connect.
pub(super) fn service(app: &App, svc: &model::Service) -> Option<Service> {
    let ports: Vec<ServicePort> = container_ports(svc)
        .into_iter()
        .map(|p| ServicePort {
            // The container port, not the published one: in Compose, `http://api:8000` means
            // the container's 8000, and in-cluster clients keep using the same URL.
            port: i32::from(p.target),
            target_port: Some(IntOrString::String(p.name.clone())),
            name: Some(p.name),
            protocol: Some(protocol_name(p.protocol).to_string()),
            app_protocol: p.app_protocol,
            ..ServicePort::default()
        })
        .collect();
    if ports.is_empty() {
        return None;
    }
    Some(Service {
        metadata: metadata(app, &svc.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(selector(app, svc)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// The Service of another name of the same compose service (`container_name`, an alias):
/// the same pods, the same ports.
pub(super) fn alias(service: &Service, name: &str) -> Service {
    let mut alias = service.clone();
    alias.metadata.name = Some(name.to_string());
    alias
}

/// The `<service>-published` Service of type LoadBalancer or NodePort: what was
/// `localhost:8080` under Compose is `<address>:8080`. Ports target the container ports by name,
/// like the ClusterIP Service.
pub(super) fn published(app: &App, svc: &model::Service) -> Option<Service> {
    let published = svc.exposure.published.as_ref()?;
    let named = container_ports(svc);
    let target_name = |p: &model::PublishedPort| {
        named.iter().find(|n| n.target == p.target && n.protocol == p.protocol).map(|n| n.name.clone())
    };
    let ports = published
        .ports
        .iter()
        .map(|p| ServicePort {
            // Unique in the Service: lower keeps one port per published port and protocol.
            name: Some(generated_name(p.protocol, p.port)),
            port: i32::from(p.port),
            node_port: p.node_port.map(i32::from),
            target_port: target_name(p).map(IntOrString::String),
            protocol: Some(protocol_name(p.protocol).to_string()),
            ..ServicePort::default()
        })
        .collect();
    let type_ = match published.kind {
        model::ExposeKind::NodePort => "NodePort",
        _ => "LoadBalancer",
    };
    Some(Service {
        metadata: metadata(app, &published.k8s_name, service_labels(app, svc), service_annotations(svc)),
        spec: Some(ServiceSpec {
            type_: Some(type_.to_string()),
            selector: Some(selector(app, svc)),
            ports: Some(ports),
            external_traffic_policy: published.external_traffic_policy.map(|t| t.k8s_name().to_string()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, port, service as model_service};
    use crate::emit::workload::deployment;
    use crate::model::Protocol;
    use crate::model::is_port_name as valid_port_name;

    #[test]
    fn no_ports_no_service() {
        assert!(service(&app(), &model_service("worker")).is_none());
    }

    #[test]
    fn selector_matches_deployment_and_ports_target_names() {
        let mut s = model_service("api");
        let mut grpc = port(9000);
        grpc.app_protocol = Some("kubernetes.io/h2c".into());
        let mut udp = port(8000);
        udp.protocol = Protocol::Udp;
        s.ports = vec![port(8000), grpc];
        s.expose = vec![udp, port(8000)];
        let a = app();
        let out = service(&a, &s).unwrap();
        let spec = out.spec.unwrap();
        let d = deployment(&a, &s).spec.unwrap();
        assert_eq!(spec.selector, d.selector.match_labels);
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        let ports = spec.ports.unwrap();
        let container = &d.template.spec.unwrap().containers[0];
        let container_names: Vec<_> = container.ports.iter().flatten().filter_map(|p| p.name.clone()).collect();
        let names: Vec<_> = ports.iter().filter_map(|p| p.name.clone()).collect();
        assert_eq!(names, container_names);
        assert_eq!(names, ["tcp-8000", "tcp-9000", "udp-8000"]);
        assert!(names.iter().all(|n| valid_port_name(n)));
        for p in &ports {
            assert_eq!(p.target_port, p.name.clone().map(IntOrString::String));
        }
        assert_eq!((ports[0].port, ports[2].protocol.as_deref()), (8000, Some("UDP")));
        assert_eq!(ports[1].app_protocol.as_deref(), Some("kubernetes.io/h2c"));
        assert_eq!(out.metadata.annotations.unwrap()["kompile.dev/service"], "api");
    }

    #[test]
    fn an_alias_is_the_same_service_under_another_name() {
        let mut s = model_service("db");
        s.expose = vec![port(5432)];
        s.aliases = vec!["database".into()];
        let a = app();
        let main = service(&a, &s).unwrap();
        let alias = alias(&main, "database");
        assert_eq!(alias.metadata.name.as_deref(), Some("database"));
        assert_eq!(alias.spec, main.spec, "same selector, ports and type");
        let mut app_with = app();
        app_with.services = vec![s.clone()];
        let names: Vec<String> = crate::emit::emit(&app_with)
            .iter()
            .filter(|o| o.kind() == "Service")
            .map(|o| o.name().to_string())
            .collect();
        assert_eq!(names, ["database", "db"]);
        s.expose.clear();
        app_with.services = vec![s];
        assert!(crate::emit::emit(&app_with).iter().all(|o| o.kind() != "Service"), "no ports, no Service at all");
    }

    fn published_web(kind: model::ExposeKind) -> model::Service {
        let mut s = model_service("web");
        let mut published = port(80);
        published.published = Some(8080);
        s.ports = vec![published];
        s.exposure.published = Some(model::PublishedService {
            k8s_name: "web-published".into(),
            kind,
            ports: vec![model::PublishedPort {
                port: 8080,
                node_port: Some(30080),
                target: 80,
                protocol: Protocol::Tcp,
            }],
            external_traffic_policy: Some(model::TrafficPolicy::Local),
        });
        s
    }

    #[test]
    fn published_service_maps_the_published_port_to_the_container_port() {
        let a = app();
        let s = published_web(model::ExposeKind::LoadBalancer);
        let out = published(&a, &s).expect("a published Service");
        assert_eq!(out.metadata.name.as_deref(), Some("web-published"));
        let spec = out.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("LoadBalancer"));
        assert_eq!(spec.external_traffic_policy.as_deref(), Some("Local"));
        assert_eq!(spec.selector, service(&a, &s).unwrap().spec.unwrap().selector, "the same pods");
        let ports = spec.ports.unwrap();
        assert_eq!((ports[0].port, ports[0].name.as_deref()), (8080, Some("tcp-8080")));
        assert_eq!(ports[0].target_port, Some(IntOrString::String("tcp-80".into())), "the container port's name");
        let node = published(&a, &published_web(model::ExposeKind::NodePort)).unwrap().spec.unwrap();
        assert_eq!(node.type_.as_deref(), Some("NodePort"));
        assert_eq!(node.ports.unwrap()[0].node_port, Some(30080));
    }

    #[test]
    fn nothing_published_no_published_service() {
        let mut s = model_service("web");
        s.ports = vec![port(80)];
        assert!(published(&app(), &s).is_none());
    }
}
