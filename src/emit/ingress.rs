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
