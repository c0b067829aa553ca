//! A `networking.k8s.io/v1` Ingress to a service's ClusterIP Service, from `x-kompile.ingress`
//! or `expose: ingress`.

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};

use super::labels::{service_annotations, service_labels};
use super::{metadata, non_empty_vec};
use crate::model::{self, App};

pub(super) fn ingress(app: &App, svc: &model::Service) -> Option<Ingress> {
    let ingress = svc.exposure.ingress.as_ref()?;
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            // The ClusterIP Service, whose ports are the container ports.
            name: svc.k8s_name.clone(),
            port: Some(ServiceBackendPort { number: Some(i32::from(ingress.port)), name: None }),
        }),
        resource: None,
    };
    let rule = |rule: &model::IngressRule| IngressRule {
        host: rule.host.clone(),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some(rule.path.clone()),
                path_type: "Prefix".to_string(),
                backend: backend.clone(),
            }],
        }),
    };
    let tls = ingress.tls_secret.as_ref().map(|secret| {
        let hosts: Vec<String> = ingress.rules.iter().filter_map(|r| r.host.clone()).collect();
        vec![IngressTLS { hosts: non_empty_vec(hosts), secret_name: Some(secret.clone()) }]
    });
    let mut annotations = service_annotations(svc);
    annotations.extend(ingress.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
    Some(Ingress {
        metadata: metadata(app, &ingress.k8s_name, service_labels(app, svc), annotations),
        spec: Some(IngressSpec {
            ingress_class_name: ingress.class.clone(),
            rules: Some(ingress.rules.iter().map(rule).collect()),
            tls,
            default_backend: None,
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::fixtures::{app, port, service};

    fn web() -> model::Service {
        let mut s = service("web");
        s.expose = vec![port(80)];
        s.exposure.ingress = Some(model::Ingress {
            k8s_name: "web".into(),
            rules: vec![
                model::IngressRule {
                    host: Some("shop.example.com".into()),
                    path: "/".into(),
                    span: crate::source::Span::NONE,
                },
                model::IngressRule { host: None, path: "/web".into(), span: crate::source::Span::NONE },
            ],
            port: 80,
            tls_secret: Some("web-tls".into()),
            class: Some("nginx".into()),
            annotations: [("a.example/b".to_string(), "c".to_string())].into(),
        });
        s
    }

    #[test]
    fn routes_each_rule_to_the_cluster_ip_service_port() {
        let out = ingress(&app(), &web()).expect("an Ingress");
        let spec = out.spec.unwrap();
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        let rules = spec.rules.unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].host, None, "every host");
        let path = &rules[0].http.as_ref().unwrap().paths[0];
        assert_eq!((path.path.as_deref(), path.path_type.as_str()), (Some("/"), "Prefix"));
        let backend = path.backend.service.as_ref().unwrap();
        assert_eq!((backend.name.as_str(), backend.port.as_ref().unwrap().number), ("web", Some(80)));
        let tls = &spec.tls.unwrap()[0];
        assert_eq!(
            (tls.hosts.clone(), tls.secret_name.as_deref()),
            (Some(vec!["shop.example.com".into()]), Some("web-tls"))
        );
        assert_eq!(out.metadata.annotations.unwrap()["a.example/b"], "c");
    }

    #[test]
    fn no_ingress_without_one_in_the_model() {
        assert!(ingress(&app(), &service("web")).is_none());
    }
}
