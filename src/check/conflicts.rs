//! Two keys that say the same thing must agree: `scale` and `deploy.replicas`, the legacy
//! `cpus`/`mem_limit` and `deploy.resources.limits`. Compose refuses a project where they
//! differ, and so does kompile, showing both places. It also refuses keys that exclude each
//! other: `network_mode` with `networks`, `container_name` with more than one replica.

use crate::compose::{Service, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub fn check(services: &[Service], diags: &mut Diagnostics) {
    for service in services {
        let name = service.name.as_str();
        let limits = &service.deploy.resources.limits;
        agree(name, "scale", service.scale.as_ref(), service.deploy.replicas.as_ref(), "deploy.replicas", diags);
        exclusive(service, diags);
        if limits.present {
            let cpus = (service.cpus.as_ref(), limits.cpus.as_ref());
            agree_or_missing(name, "cpus", cpus, "deploy.resources.limits.cpus", limits.first_key, diags);
            let memory = (service.mem_limit.as_ref(), limits.memory.as_ref());
            agree_or_missing(name, "mem_limit", memory, "deploy.resources.limits.memory", limits.first_key, diags);
        }
    }
}

fn exclusive(service: &Service, diags: &mut Diagnostics) {
    let name = service.name.as_str();
    if service.has("network_mode") && service.has("networks") {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("service `{name}` sets both `network_mode` and `networks`, which exclude each other"),
            )
            .at(service.key_span("network_mode"), "network_mode here")
            .also(service.key_span("networks"), "networks here")
            .help("keep one: `network_mode` shares another network stack, `networks` joins project networks"),
        );
    }
    if !service.has("container_name") {
        return;
    }
    let replicas =
        [service.deploy.replicas.as_ref(), service.scale.as_ref()].into_iter().flatten().find(|r| r.value > 1);
    if let Some(replicas) = replicas {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("service `{name}` has a `container_name` and more than one replica"),
            )
            .at(service.key_span("container_name"), "one name")
            .also(replicas.span, "several containers")
            .help("container names are unique: remove `container_name`, or run one replica"),
        );
    }
}

fn agree<T: PartialEq>(
    service: &str,
    legacy_name: &str,
    legacy: Option<&Spanned<T>>,
    modern: Option<&Spanned<T>>,
    modern_name: &str,
    diags: &mut Diagnostics,
) {
    let (Some(legacy), Some(modern)) = (legacy, modern) else { return };
    if legacy.value == modern.value {
        return;
    }
    diags.push(
        conflict(service, legacy_name, modern_name)
            .at(legacy.span, "this value")
            .also(modern.span, "differs from this one"),
    );
}

/// With `deploy.resources.limits` present, Compose also refuses a legacy key that the limits
/// leave out: the two blocks would disagree about whether there is a limit at all.
fn agree_or_missing<T: PartialEq>(
    service: &str,
    legacy_name: &str,
    (legacy, modern): (Option<&Spanned<T>>, Option<&Spanned<T>>),
    modern_name: &str,
    limits_first_key: Option<crate::source::Span>,
    diags: &mut Diagnostics,
) {
    let Some(legacy_value) = legacy else { return };
    if modern.is_some() {
        return agree(service, legacy_name, legacy, modern, modern_name, diags);
    }
    let limits_span = limits_first_key.unwrap_or(legacy_value.span);
    diags.push(
        conflict(service, legacy_name, modern_name).at(legacy_value.span, "set here").also(
            limits_span,
            format!("these limits have no `{}`", modern_name.rsplit('.').next().unwrap_or_default()),
        ),
    );
}

fn conflict(service: &str, legacy_name: &str, modern_name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidValue,
        format!("service `{service}` sets `{legacy_name}` and `{modern_name}` to different values"),
    )
    .help(format!("keep only `{modern_name}`"))
}
