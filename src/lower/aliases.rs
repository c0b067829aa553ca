//! The other names of a service: `container_name`, `hostname`, network aliases and `links`
//! aliases. Clients connect to them as they do to the service name, so each becomes one more
//! ClusterIP Service on the same pods and ports (`model::Service::aliases`), when it can be a
//! Service name and no other service has it.

use std::collections::{BTreeMap, HashMap};

use crate::compose::Project;
use crate::compose::addresses::{ExtraName, extra_names};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model;
use crate::names::dns_label;
use crate::source::Span;

/// Who has a Kubernetes Service name: a compose service, by its own name or an alias.
struct Holder<'a> {
    service: &'a str,
    span: Span,
    alias: bool,
}

/// Sets `aliases` of every service that has ports (one without has no Service to copy).
/// Service names are taken first, then aliases in service name order, so the outcome does not
/// depend on the order of the file.
pub fn assign(project: &Project, services: &mut [model::Service], diags: &mut Diagnostics) {
    let extra = extra_names(project);
    if extra.is_empty() {
        return;
    }
    let mut taken: BTreeMap<String, Holder<'_>> = BTreeMap::new();
    for (service, model) in project.services.iter().zip(names_in_file_order(project, services)) {
        if let Some(k8s_name) = model {
            taken.insert(k8s_name, Holder { service: service.name.as_str(), span: service.name.span, alias: false });
        }
    }
    let index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let mut by_service: Vec<Vec<ExtraName<'_>>> = vec![Vec::new(); services.len()];
    for name in extra {
        if let Some(&i) = index.get(project.services[name.service].name.as_str()) {
            by_service[i].push(name);
        }
    }
    for (service, names) in services.iter_mut().zip(by_service) {
        if service.ports.is_empty() && service.expose.is_empty() {
            continue;
        }
        for name in names {
            if let Some(label) = service_name(service, &name, &mut taken, diags) {
                taken.insert(
                    label.clone(),
                    Holder { service: &project.services[name.service].name, span: name.span, alias: true },
                );
                service.aliases.push(label);
            }
        }
    }
}

/// The Kubernetes name of each compose service, in the project's order (`None` for a service
/// lower could not name).
fn names_in_file_order(project: &Project, services: &[model::Service]) -> Vec<Option<String>> {
    let by_name: HashMap<&str, &str> = services.iter().map(|s| (s.name.as_str(), s.k8s_name.as_str())).collect();
    project.services.iter().map(|s| by_name.get(s.name.as_str()).map(|k| k.to_string())).collect()
}

/// The Service name for an extra name of `service`, or `None` (reported unless the name is
/// the service's own or one it already has).
fn service_name(
    service: &model::Service,
    extra: &ExtraName<'_>,
    taken: &mut BTreeMap<String, Holder<'_>>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let (name, owner) = (extra.name, service.name.as_str());
    if name == owner {
        return None;
    }
    let what = format!("{} `{name}` of service `{owner}`", extra.kind);
    if name.contains('.') {
        diags.push(invalid(
            &what,
            extra.span,
            "it has a `.`",
            "on the cluster `a.b` means Service `a` in namespace `b`",
        ));
        return None;
    }
    let mut label = dns_label(name);
    if label.starts_with(|c: char| c.is_ascii_digit()) {
        label = dns_label(&format!("svc-{label}"));
    }
    if label.is_empty() {
        diags.push(invalid(&what, extra.span, "it has no letter or digit", "name it with letters, digits and `-`"));
        return None;
    }
    if label == service.k8s_name {
        return None;
    }
    if let Some(holder) = taken.get(&label) {
        if holder.service != owner {
            diags.push(alias_taken(&what, &label, extra.span, holder));
        }
        return None;
    }
    // DNS ignores case: `MyDB` reaches `mydb`, and nothing needs saying.
    if label != name.to_ascii_lowercase() {
        diags.push(
            Diagnostic::new(Code::NameChanged, format!("{what} is named `{label}` in Kubernetes"))
                .at(extra.span, format!("becomes `{label}`"))
                .help(format!(
                    "Service names are lowercase letters, digits and `-`, starting with a letter; \
                     clients must connect to `{label}`, not `{name}`: rename it to silence this"
                )),
        );
    }
    Some(label)
}

fn invalid(what: &str, at: Span, why: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidAlias, format!("{what} cannot name a Kubernetes Service: {why}"))
        .at(at, "gets no Service")
        .help(format!("{help}; clients that use this name will not resolve it on the cluster"))
}

fn alias_taken(what: &str, label: &str, at: Span, holder: &Holder<'_>) -> Diagnostic {
    let other = holder.service;
    let (is, there) = if holder.alias {
        (format!("also an extra name of service `{other}`"), format!("`{other}` has `{label}` here"))
    } else {
        (format!("also the name of service `{other}`"), format!("service `{other}`"))
    };
    Diagnostic::new(Code::AliasTaken, format!("{what} is {is}: the name reaches `{other}` only"))
        .at(at, "gets no Service")
        .also(holder.span, there)
        .help("in Compose DNS answers with either service; give each name to one service")
}
