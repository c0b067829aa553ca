//! The pod's names and resolver: compose `hostname`/`domainname` → the pod's `hostname` and
//! `subdomain`, `dns`/`dns_search`/`dns_opt` → its `dnsConfig`. Kubernetes refuses values
//! Docker takes (a name that is not a DNS label, a nameserver that is not an address); those
//! are reported and left out, so the rest of the pod still deploys.

use crate::compose::{Service, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::DnsConfig;
use crate::names::{is_dns_label, is_dns_subdomain};

/// Kubernetes takes at most three nameservers (as glibc reads at most three).
const MAX_NAMESERVERS: usize = 3;
/// And at most 32 search domains.
const MAX_SEARCHES: usize = 32;

/// `hostname` and `subdomain`. A dotted `hostname: db.internal` is a host and its domain in
/// Docker; the pod gets the first label as `hostname` and the rest as `subdomain`, unless
/// `domainname` says the domain.
pub fn hostname(service: &Service, diags: &mut Diagnostics) -> (Option<String>, Option<String>) {
    let name = service.name.as_str();
    let Some(written) = &service.hostname else {
        let domain = service.domainname.as_ref().and_then(|d| subdomain(d, d, "domainname", name, diags));
        return (None, domain);
    };
    let (host, rest) = written.split_once('.').map_or((written.as_str(), None), |(host, rest)| (host, Some(rest)));
    let host = valid(host, written, "hostname", name, "the pod keeps its generated name", diags);
    let domain = match &service.domainname {
        Some(d) => subdomain(d, d, "domainname", name, diags),
        None => rest.and_then(|r| subdomain(r, written, "domain of hostname", name, diags)),
    };
    (host, domain)
}

fn subdomain(text: &str, at: &Spanned<String>, what: &str, service: &str, diags: &mut Diagnostics) -> Option<String> {
    valid(text, at, what, service, "the pod gets no subdomain", diags)
}

/// `text` when it is a DNS label; otherwise reported at `at` and left out.
fn valid(
    text: &str,
    at: &Spanned<String>,
    what: &str,
    service: &str,
    instead: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    if is_dns_label(text) {
        return Some(text.to_string());
    }
    diags.push(
        Diagnostic::new(
            Code::InvalidHostname,
            format!("{what} `{text}` of service `{service}` is not a DNS label; {instead}"),
        )
        .at(at.span, "left out of the pod")
        .help(
            "a DNS label is at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
        ),
    );
    None
}

/// `dnsConfig`, or `None` when the service sets none of the three keys.
pub fn dns_config(service: &Service, diags: &mut Diagnostics) -> Option<DnsConfig> {
    if service.dns.is_empty() && service.dns_search.is_empty() && service.dns_opt.is_empty() {
        return None;
    }
    let name = service.name.as_str();
    let mut config = DnsConfig::default();
    for server in &service.dns {
        let address = server.trim_start_matches('[').trim_end_matches(']');
        if address.parse::<std::net::IpAddr>().is_err() {
            diags.push(invalid(
                server,
                format!("`dns` server `{}` of service `{name}` is not an IP address", server.value),
                "Kubernetes needs the nameserver's address",
            ));
        } else if config.nameservers.len() == MAX_NAMESERVERS {
            diags.push(invalid(
                server,
                format!("service `{name}` lists more than {MAX_NAMESERVERS} `dns` servers"),
                "a pod has at most three nameservers; keep the three that matter",
            ));
        } else {
            config.nameservers.push(address.to_string());
        }
    }
    for domain in &service.dns_search {
        let trimmed = domain.strip_suffix('.').unwrap_or(domain);
        if !is_dns_subdomain(trimmed) {
            diags.push(invalid(
                domain,
                format!("`dns_search` domain `{}` of service `{name}` is not a lowercase DNS name", domain.value),
                "write the domain in lowercase letters, digits, `-` and `.`",
            ));
        } else if config.searches.len() == MAX_SEARCHES {
            diags.push(invalid(
                domain,
                format!("service `{name}` lists more than {MAX_SEARCHES} `dns_search` domains"),
                "a pod has at most 32 search domains",
            ));
        } else {
            config.searches.push(domain.value.clone());
        }
    }
    for option in &service.dns_opt {
        match option.split_once(':') {
            Some(("", _)) => diags.push(invalid(
                option,
                format!("`dns_opt` `{}` of service `{name}` has no option name", option.value),
                "write options as `name` or `name:value`, e.g. `ndots:2`",
            )),
            Some((key, value)) => config.options.push((key.to_string(), Some(value.to_string()))),
            None if option.is_empty() => diags.push(invalid(
                option,
                format!("service `{name}` has an empty `dns_opt`"),
                "write options as `name` or `name:value`, e.g. `ndots:2`",
            )),
            None => config.options.push((option.value.clone(), None)),
        }
    }
    Some(config)
}

/// Docker answers service names from its embedded DNS even when `dns` names other servers;
/// with `dnsPolicy: None` a pod asks only those servers, so the names of the project stop
/// resolving. Said for each service with `dns` that connects to another service.
pub fn hidden_names(project: &crate::compose::Project, diags: &mut Diagnostics) {
    for service in project.services.iter().filter(|s| !s.dns.is_empty()) {
        let Some((used, span)) = crate::compose::addresses::first_service_used(project, service) else { continue };
        let name = service.name.as_str();
        diags.push(
            Diagnostic::new(
                Code::DnsHidesServices,
                format!("service `{name}` sets `dns`, so its pod asks only those servers: `{used}` will not resolve"),
            )
            .at(service.dns[0].span, "the pod's only nameservers")
            .also(span, format!("`{name}` connects to `{used}`"))
            .help("under Compose, Docker's own DNS still answered service names; remove `dns` for the cluster (in an override file), or make these servers forward the cluster's names"),
        );
    }
}

/// Docker's embedded DNS server answers only on a Compose network: a configuration that asks
/// it (nginx `resolver 127.0.0.11`, needed there for `proxy_pass $variable`) resolves nothing
/// on the cluster.
pub fn docker_dns(project: &crate::compose::Project, diags: &mut Diagnostics) {
    use crate::compose::addresses::{DOCKER_DNS, docker_dns_uses};
    for (user, path, line) in docker_dns_uses(project) {
        let at = project.service(user).map_or(crate::source::Span::NONE, |s| s.key_span("volumes"));
        diags.push(
            Diagnostic::new(
                Code::DockerDns,
                format!("{path}:{line}, read by service `{user}`, asks Docker's DNS server {DOCKER_DNS}, which the cluster does not have"),
            )
            .at(at, format!("mounts {path}"))
            .help("ask the cluster DNS instead (`kube-dns.kube-system.svc.cluster.local`, the nameserver in the pod's /etc/resolv.conf), with full names such as `api.<namespace>.svc.cluster.local`: nginx's `resolver` does not use search domains"),
        );
    }
}

fn invalid(at: &Spanned<String>, message: String, help: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidDns, message).at(at.span, "left out of dnsConfig").help(help.to_string())
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text, only_service};

    #[test]
    fn dns_keys_become_the_dns_config() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: x:1\n    dns: [8.8.8.8, 'dns.example', '::1', 1.1.1.1, 9.9.9.9]\n    dns_search: example.com\n    dns_opt: ['ndots:2', use-vc, 'timeout:']\n",
        );
        let dns = only_service(&app).dns.clone().unwrap();
        assert_eq!(dns.nameservers, ["8.8.8.8", "::1", "1.1.1.1"]);
        assert_eq!(dns.searches, ["example.com"]);
        let options: Vec<_> = dns.options.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        assert_eq!(options, [("ndots", Some("2")), ("use-vc", None), ("timeout", Some(""))]);
        assert_eq!(codes(&diags), [Code::InvalidDns, Code::InvalidDns], "a name and a fourth server");
    }

    #[test]
    fn hostname_and_domainname_become_hostname_and_subdomain() {
        let host = |compose: &str| {
            let (app, diags) = lower_text(&format!("services:\n  a:\n    image: x:1\n{compose}"));
            let a = only_service(&app);
            (a.hostname.clone(), a.subdomain.clone(), codes(&diags))
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(host("    hostname: db\n"), (some("db"), None, vec![]));
        assert_eq!(host("    hostname: db.internal\n"), (some("db"), some("internal"), vec![]));
        assert_eq!(host("    hostname: db.x\n    domainname: corp\n"), (some("db"), some("corp"), vec![]));
        assert_eq!(host("    hostname: Db_1\n"), (None, None, vec![Code::InvalidHostname]));
        assert_eq!(host("    hostname: db.a.b\n"), (some("db"), None, vec![Code::InvalidHostname]));
        assert_eq!(host("    domainname: Corp.Example\n"), (None, None, vec![Code::InvalidHostname]));
        assert_eq!(host("    domainname: corp\n"), (None, some("corp"), vec![]));
    }
}
