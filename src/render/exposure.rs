//! The table `kompile build` ends with: what the manifests expose outside the cluster, and
//! where. Read from the emitted objects: the `-published` Services (LoadBalancer, NodePort)
//! and the Ingresses.

use std::collections::BTreeMap;
use std::fmt::Write;

use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::emit::{Object, SERVICE_ANNOTATION};

/// The pod label a Service selects its pods by.
const NAME: &str = "app.kubernetes.io/name";

/// One line per exposed port or Ingress rule; empty when nothing is exposed.
pub fn exposure_table(objects: &[Object]) -> String {
    // Pod templates of every kind of workload, by the pods' name label, which Services select.
    let pods: BTreeMap<&str, &PodTemplateSpec> = objects
        .iter()
        .filter_map(Object::pod_template)
        .filter_map(|t| Some((t.metadata.as_ref()?.labels.as_ref()?.get(NAME)?.as_str(), t)))
        .collect();
    let mut rows: Vec<[String; 3]> = Vec::new();
    for object in objects {
        match object {
            Object::Service(service) => service_rows(service, &pods, &mut rows),
            Object::Ingress(ingress) => ingress_rows(ingress, &mut rows),
            _ => {}
        }
    }
    // By compose service; a stable sort keeps each service's ports in order.
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    table(&rows)
}

fn service_rows(service: &Service, pods: &BTreeMap<&str, &PodTemplateSpec>, rows: &mut Vec<[String; 3]>) {
    let Some(spec) = &service.spec else { return };
    let (kind, host) = match spec.type_.as_deref() {
        Some("LoadBalancer") => ("LoadBalancer", "<lb-address>"),
        Some("NodePort") => ("NodePort", "<node>"),
        _ => return,
    };
    let name = compose_service(&service.metadata);
    let selected = spec.selector.as_ref().and_then(|s| s.get(NAME));
    let pod = selected.and_then(|p| pods.get(p.as_str()));
    for port in spec.ports.iter().flatten() {
        let outside = match (kind, port.node_port) {
            ("NodePort", Some(node_port)) => node_port.to_string(),
            ("NodePort", None) => "<allocated>".to_string(),
            _ => port.port.to_string(),
        };
        let protocol = port.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
        let target = container_port(pod.copied(), port.target_port.as_ref()).unwrap_or_default();
        rows.push([name.clone(), kind.to_string(), format!("{host}:{outside} → {target}/{protocol}")]);
    }
}

fn ingress_rows(ingress: &Ingress, rows: &mut Vec<[String; 3]>) {
    let Some(spec) = &ingress.spec else { return };
    let name = compose_service(&ingress.metadata);
    let tls = spec.tls.iter().flatten().collect::<Vec<_>>();
    for rule in spec.rules.iter().flatten() {
        let secure =
            tls.iter().any(|t| t.hosts.as_ref().is_none_or(|h| rule.host.as_ref().is_some_and(|r| h.contains(r))));
        let scheme = if secure { "https" } else { "http" };
        let host = rule.host.as_deref().unwrap_or("<ingress-address>");
        for path in rule.http.iter().flat_map(|h| &h.paths) {
            let port =
                path.backend.service.as_ref().and_then(|s| s.port.as_ref()).and_then(|p| p.number).unwrap_or_default();
            let route = path.path.as_deref().unwrap_or("/");
            rows.push([name.clone(), "Ingress".to_string(), format!("{scheme}://{host}{route} → {port}")]);
        }
    }
}

/// The container port a Service port's named `targetPort` stands for.
fn container_port(template: Option<&PodTemplateSpec>, target: Option<&IntOrString>) -> Option<i32> {
    let name = match target? {
        IntOrString::Int(port) => return Some(*port),
        IntOrString::String(name) => name,
    };
    let pod = template?.spec.as_ref()?;
    let ports = pod.containers.iter().flat_map(|c| c.ports.iter().flatten());
    ports.into_iter().find(|p| p.name.as_ref() == Some(name)).map(|p| p.container_port)
}

fn compose_service(metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    let annotation = metadata.annotations.as_ref().and_then(|a| a.get(SERVICE_ANNOTATION));
    annotation.or(metadata.name.as_ref()).cloned().unwrap_or_default()
}

/// The table stays short: a project of hundreds of services would otherwise bury the
/// diagnostics above it.
const MAX_ROWS: usize = 20;

/// Aligned columns under a heading; past [`MAX_ROWS`], a count of the rest.
fn table(rows: &[[String; 3]]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let shown = &rows[..rows.len().min(MAX_ROWS)];
    let width = |column: usize| shown.iter().map(|r| r[column].chars().count()).max().unwrap_or(0);
    let (service, kind) = (width(0), width(1));
    let mut out = String::from("exposed outside the cluster:\n");
    for [name, what, route] in shown {
        let _ = writeln!(out, "  {name:service$}  {what:kind$}  {route}");
    }
    if rows.len() > shown.len() {
        let _ = writeln!(out, "  … and {} more (kubectl get services,ingresses)", rows.len() - shown.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_exposed_prints_nothing() {
        assert_eq!(exposure_table(&[]), "");
    }

    #[test]
    fn long_tables_are_cut_short() {
        let row = ["web".to_string(), "LoadBalancer".to_string(), "<lb-address>:80 → 80/tcp".to_string()];
        let text = table(&vec![row; MAX_ROWS + 5]);
        assert_eq!(text.lines().count(), 1 + MAX_ROWS + 1);
        assert!(text.ends_with("  … and 5 more (kubectl get services,ingresses)\n"), "{text}");
    }

    /// The container port is found in the pods of any kind of workload.
    #[test]
    fn published_ports_of_a_stateful_set_name_their_container_port() {
        use crate::emit::fixtures::{app, port, service};
        use crate::model::{ExposeKind, Protocol, PublishedPort, PublishedService, StatefulSet, Workload};
        let mut db = service("db");
        db.ports = vec![port(5432)];
        db.exposure.published = Some(PublishedService {
            k8s_name: "db-published".into(),
            kind: ExposeKind::LoadBalancer,
            ports: vec![PublishedPort { port: 15432, node_port: None, target: 5432, protocol: Protocol::Tcp }],
            external_traffic_policy: None,
        });
        db.workload = Workload::StatefulSet(StatefulSet {
            k8s_name: "db".into(),
            service_name: "db-headless".into(),
            claim_templates: Vec::new(),
        });
        let mut project = app();
        project.services = vec![db];
        let table = exposure_table(&crate::emit::emit(&project));
        assert_eq!(table, "exposed outside the cluster:\n  db  LoadBalancer  <lb-address>:15432 → 5432/tcp\n");
    }

    #[test]
    fn columns_are_aligned() {
        let rows = [
            ["web".to_string(), "LoadBalancer".to_string(), "<lb-address>:8080 → 80/tcp".to_string()],
            ["shop".to_string(), "Ingress".to_string(), "https://shop.example.com/ → 3000".to_string()],
        ];
        assert_eq!(
            table(&rows),
            "exposed outside the cluster:\n  web   LoadBalancer  <lb-address>:8080 → 80/tcp\n  shop  Ingress       https://shop.example.com/ → 3000\n"
        );
    }
}
