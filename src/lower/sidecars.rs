//! Services that share a pod, and `volumes_from`.
//!
//! `network_mode: service:X` runs a container in X's network namespace: it reaches X on
//! localhost, and the ports published on X reach it (VPN clients, proxies, exporters). In
//! Kubernetes the containers of one pod share that namespace, so the service becomes a
//! container of X's pod (`model::Service::pod_of`): X's workload runs it, X's Services carry
//! its ports, and its own name is one more Service onto the pod. `x-kompile.pod: X` asks for
//! the same, and so does Kompose's `kompose.service.group` label (services with one group
//! value share a pod). `volumes_from: [X]` mounts X's volumes at the same targets: in one
//! pod the very same pod volumes, across pods the same claims and ConfigMaps (anonymous
//! volumes cannot be shared there, and that is said).

use std::collections::{BTreeMap, BTreeSet};

use super::expose::Exposing;
use super::network::{Networks, admit_ingress};
use super::storage::Storage;
use crate::compose::{self, Project, ProjectSettings, ServiceSettings};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Isolation, Mount, MountSource, Port, Service, Workload};
use crate::source::Span;

/// Kompose's label: services with the same value are one pod (`--service-group-mode=label`).
pub const GROUP_LABEL: &str = "kompose.service.group";

/// The first Kubernetes version with native sidecars on by default (beta in 1.29).
const NATIVE_SIDECARS_SINCE: (u32, u32) = (1, 29);

/// How far a chain of sidecars (or of `volumes_from`) is followed.
const MAX_DEPTH: usize = 16;

/// Why a service joins another's pod.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    NetworkMode,
    Setting,
    /// A Kompose service group, by its value.
    Group(String),
}

/// A service's request to run in `target`'s pod, written at `span`.
struct Link<'a> {
    target: &'a str,
    via: Via,
    span: Span,
}

/// Which services run in another's pod, as written. Read before the services are lowered:
/// a sidecar has no exposure or autoscaler of its own, its pod's service has them.
pub struct Pods<'a> {
    links: BTreeMap<&'a str, Link<'a>>,
}

impl<'a> Pods<'a> {
    /// Reads every service's request; a name that is not a service is an error.
    pub fn read(project: &'a Project, diags: &mut Diagnostics) -> Pods<'a> {
        Pods { links: links(project, diags) }
    }

    /// The service whose pod runs `service`, when it is another's: the end of its chain of
    /// links. `None` in a loop, which `join` reports.
    pub fn pod_of(&self, service: &str) -> Option<&'a str> {
        self.chain(service)?.ok()
    }

    /// The end of the chain of links from `member`, or the path that loops (or is longer
    /// than [`MAX_DEPTH`]); `None` when `member` asks for no other pod.
    fn chain(&self, member: &str) -> Option<Result<&'a str, Vec<&'a str>>> {
        let (&first, link) = self.links.get_key_value(member)?;
        let mut path = vec![first];
        let mut root = link.target;
        while let Some(next) = self.links.get(root) {
            if path.contains(&root) || path.len() > MAX_DEPTH {
                return Some(Err(path));
            }
            path.push(root);
            root = next.target;
        }
        Some(Ok(root))
    }

    /// Every member with the root of its pod (a sidecar of a sidecar is in the first one's
    /// pod) and its own link. Services in a loop stay in pods of their own, with an error.
    fn roots(&self, index: &BTreeMap<String, usize>, diags: &mut Diagnostics) -> Vec<(usize, usize, &Link<'a>)> {
        let mut out = Vec::new();
        let mut looped = BTreeSet::new();
        for (member, link) in &self.links {
            match self.chain(member) {
                Some(Ok(root)) => {
                    if let (Some(&m), Some(&r)) = (index.get(*member), index.get(root)) {
                        out.push((m, r, link));
                    }
                }
                Some(Err(path)) if looped.insert(path.iter().min().copied().unwrap_or(*member)) => {
                    diags.push(loop_error(&path, link.span));
                }
                _ => {}
            }
        }
        out
    }
}

/// Puts sidecars in their pods and mounts `volumes_from`; `services` are the lowered
/// services, sorted by name.
pub fn join(
    project: &Project,
    pods: &Pods<'_>,
    labels: &BTreeMap<&str, ServiceSettings>,
    services: &mut [Service],
    networks: &Networks<'_>,
    store: &mut Storage<'_>,
    diags: &mut Diagnostics,
) {
    let index: BTreeMap<String, usize> = services.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
    let mut gained = BTreeSet::new();
    for (member, root, link) in pods.roots(&index, diags) {
        let Some(compose) = project.service(&services[member].name) else { continue };
        let Some((sidecar, pod)) = pair(services, member, root) else { continue };
        let place = Placing { sidecar, pod, compose, link, project: &project.settings, store: &*store, diags };
        if place.place() {
            gained.insert(root);
        }
    }
    record_sidecars(services, &index);
    refresh(project, labels, services, &index, networks, &gained);
    volumes_from(project, services, &index, store, diags);
}

/// Each pod's service learns its sidecars, in name order (`services` is sorted by name), so
/// later steps and emit find them without a scan of every service for every pod.
fn record_sidecars(services: &mut [Service], index: &BTreeMap<String, usize>) {
    let pairs: Vec<(usize, String)> =
        services.iter().filter_map(|s| Some((*index.get(s.pod_of.as_ref()?)?, s.name.clone()))).collect();
    for (pod, sidecar) in pairs {
        services[pod].sidecars.push(sidecar);
    }
}

/// A sidecar's own name reaches its pod: one more Service of the pod's service (run after
/// `aliases::assign`, which left the name free, as it is the name of a service). In Compose
/// the name does not resolve; clients that use it anyway connect.
pub fn own_names(services: &mut [Service]) {
    let sidecars: Vec<(String, String)> =
        services.iter().filter_map(|s| Some((s.pod_of.clone()?, s.k8s_name.clone()))).collect();
    for (pod, name) in sidecars {
        let Some(pod) = services.iter_mut().find(|s| s.name == pod) else { continue };
        if (!pod.ports.is_empty() || !pod.expose.is_empty()) && !pod.aliases.contains(&name) {
            pod.aliases.push(name);
        }
    }
}

/// Each service's own request: `network_mode: service:`, else `x-kompile.pod`, else its
/// Kompose group. A name that is not a service is an error.
fn links<'a>(project: &'a Project, diags: &mut Diagnostics) -> BTreeMap<&'a str, Link<'a>> {
    let mut links = BTreeMap::new();
    for service in &project.services {
        let mode = service.network_mode.as_ref();
        let written = match (mode.and_then(|m| m.strip_prefix("service:")), &service.settings.pod) {
            (Some(target), _) => mode.map(|m| (target, Via::NetworkMode, m.span)),
            (None, Some(pod)) => Some((pod.as_str(), Via::Setting, pod.span)),
            _ => None,
        };
        let Some((target, via, span)) = written else { continue };
        if project.service(target).is_none() || target == service.name.value {
            diags.push(unknown(project, &service.name.value, target, span));
            continue;
        }
        links.insert(service.name.as_str(), Link { target, via, span });
    }
    groups(project, &mut links, diags);
    links
}

/// Kompose groups: every service with the label and no request of its own joins the pod of
/// the one named like the group, else of the first by name (Kompose names the workload
/// after the group; kompile's workloads are named after services).
fn groups<'a>(project: &'a Project, links: &mut BTreeMap<&'a str, Link<'a>>, diags: &mut Diagnostics) {
    let mut groups: BTreeMap<&str, Vec<(&'a compose::Service, Span)>> = BTreeMap::new();
    for service in &project.services {
        let Some((key, value)) = service.labels.iter().find(|(k, _)| k.value == GROUP_LABEL) else { continue };
        if links.contains_key(service.name.as_str()) {
            diags.push(group_ignored(&service.name.value, value, key.span, service.network_mode.is_some()));
            continue;
        }
        groups.entry(value.as_str()).or_default().push((service, key.span));
    }
    for (group, mut members) in groups {
        members.sort_by(|a, b| a.0.name.value.cmp(&b.0.name.value));
        let root = members.iter().find(|(s, _)| s.name.value == group).unwrap_or(&members[0]).0.name.as_str();
        if members.len() == 1 {
            diags.push(lone_group(root, group, members[0].1));
        }
        for (service, span) in members.iter().filter(|(s, _)| s.name.value != root) {
            diags.push(group_note(&service.name.value, group, root, *span));
            links.insert(service.name.as_str(), Link { target: root, via: Via::Group(group.to_string()), span: *span });
        }
    }
}

/// Two distinct elements of `services`, mutably.
fn pair(services: &mut [Service], a: usize, b: usize) -> Option<(&mut Service, &mut Service)> {
    if a == b || a.max(b) >= services.len() {
        return None;
    }
    if a < b {
        let (left, right) = services.split_at_mut(b);
        Some((&mut left[a], &mut right[0]))
    } else {
        let (left, right) = services.split_at_mut(a);
        Some((&mut right[0], &mut left[b]))
    }
}

struct Placing<'s, 'a, 'b> {
    sidecar: &'s mut Service,
    pod: &'s mut Service,
    compose: &'a compose::Service,
    link: &'s Link<'a>,
    project: &'a ProjectSettings,
    store: &'s Storage<'b>,
    diags: &'s mut Diagnostics,
}

impl Placing<'_, '_, '_> {
    /// Moves the sidecar into the pod; true when the pod's service gained ports.
    fn place(mut self) -> bool {
        self.sidecar.pod_of = Some(self.pod.name.clone());
        let note = self.note();
        self.diags.push(note);
        self.pod_settings();
        self.dropped_settings();
        self.workloads();
        self.native_sidecar_version();
        if !self.store.read_write_once_volumes(&self.sidecar.mounts).is_empty() {
            // The claim attaches to one node: an update must stop the old pod first.
            self.pod.update.recreate = true;
        }
        self.pod.stop_grace_period = self.pod.stop_grace_period.max(self.sidecar.stop_grace_period);
        self.sidecar.aliases.clear();
        self.sidecar.exposure = Default::default();
        self.ports()
    }

    fn note(&self) -> Diagnostic {
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        let why = match &self.link.via {
            Via::NetworkMode => format!("`network_mode: service:{}`", self.link.target),
            Via::Setting => format!("`x-kompile.pod: {}`", self.link.target),
            Via::Group(group) => format!("Kompose service group `{group}`"),
        };
        let through =
            if self.link.target == pod.as_str() { String::new() } else { format!(", as `{}` does", self.link.target) };
        let note = Diagnostic::new(
            Code::SharedPod,
            format!("service `{sidecar}` runs as a container of the pod of `{pod}` ({why}{through})"),
        );
        if self.pod.workload.runs_to_completion() {
            let kind = self.pod.workload.kind();
            return note.at(self.link.span, "a native sidecar").help(format!(
                "`{pod}` is a {kind}: `{sidecar}` is an init container with `restartPolicy: Always`, which runs beside the task and stops when it is done, so the {kind} completes (Kubernetes 1.29 or later)"
            ));
        }
        note.at(self.link.span, format!("in the pod of `{pod}`")).help(format!(
            "the containers reach each other on localhost; the pod runs `{pod}`'s replicas, and `{pod}`'s Services (and `{sidecar}` as another name of them) carry the ports of both"
        ))
    }

    /// Settings of the pod as a whole come from the pod's service.
    fn pod_settings(&mut self) {
        const POD_KEYS: [&str; 6] = ["hostname", "domainname", "dns", "dns_search", "dns_opt", "extra_hosts"];
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        let replicas_set = self.compose.deploy.replicas.is_some() || self.compose.scale.is_some();
        if replicas_set && self.sidecar.replicas != self.pod.replicas {
            let at = self
                .compose
                .deploy
                .replicas
                .as_ref()
                .or(self.compose.scale.as_ref())
                .map_or(self.link.span, |r| r.span);
            self.diags.push(
                Diagnostic::new(
                    Code::SidecarSetting,
                    format!(
                        "service `{sidecar}` asks for {} replicas, but the pod of `{pod}` runs {}",
                        self.sidecar.replicas, self.pod.replicas
                    ),
                )
                .at(at, "not the pod's replica count")
                .help(format!("a sidecar runs once in every pod of `{pod}`; set the replicas on `{pod}`")),
            );
        }
        for key in POD_KEYS.iter().filter(|k| self.compose.has(k)) {
            self.diags.push(
                Diagnostic::new(
                    Code::SidecarSetting,
                    format!("`{key}` of service `{sidecar}` is a setting of the pod, which takes `{pod}`'s"),
                )
                .at(self.compose.key_span(key), "ignored")
                .help(format!("set it on `{pod}`; Docker refuses it with `network_mode: service:` too")),
            );
        }
    }

    /// What exposes the pod's ports and what scales the pod are its service's settings: a
    /// sidecar's own are dropped, each with a warning, so an Ingress host or an autoscaler
    /// asked for on the sidecar does not vanish unseen.
    fn dropped_settings(&mut self) {
        let own = &self.compose.settings;
        // (key, where it is written, whether it exposes rather than scales)
        let written = [
            ("ingress", own.ingress.as_ref().map(|s| s.span), true),
            ("expose", own.expose.as_ref().map(|s| s.span), true),
            ("node_port", own.node_port.as_ref().map(|s| s.span), true),
            ("external_traffic_policy", own.external_traffic_policy.as_ref().map(|s| s.span), true),
            ("autoscale", own.autoscale.as_ref().map(|s| s.span), false),
            ("disruption", own.disruption.as_ref().map(|s| s.span), false),
        ];
        let mut found: Vec<(String, Span, bool)> = written
            .into_iter()
            .filter_map(|(key, span, exposes)| Some((format!("`x-kompile.{key}`"), span?, exposes)))
            .collect();
        for (key, _) in &self.compose.labels {
            let exposes = super::kompose::EXPOSURE_LABELS.contains(&key.as_str());
            if exposes || super::kompose::HPA_LABELS.contains(&key.as_str()) {
                found.push((format!("label `{}`", key.value), key.span, exposes));
            }
        }
        for (what, at, exposes) in found {
            let dropped = self.dropped(&what, at, exposes);
            self.diags.push(dropped);
        }
    }

    fn dropped(&self, what: &str, at: Span, exposes: bool) -> Diagnostic {
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        let (why, help) = if exposes {
            (
                format!("how the pod of `{pod}` is reached from outside is `{pod}`'s setting"),
                format!("set it on `{pod}`: its Services and Ingress carry the ports of the pod, `{sidecar}`'s too"),
            )
        } else {
            (
                format!("the pod of `{pod}` is scaled and protected from drains as `{pod}` says"),
                format!("set it on `{pod}`: `{sidecar}` runs once in each of `{pod}`'s pods"),
            )
        };
        Diagnostic::new(Code::SidecarSetting, format!("{what} of service `{sidecar}` is dropped: {why}"))
            .at(at, "dropped")
            .help(help)
    }

    /// A task in a serving pod would be restarted forever (a Job's sidecars are native
    /// sidecars, which `note` says).
    fn workloads(&mut self) {
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        // A container has no schedule of its own: the schedule would be lost, and the task
        // run at once and then again and again.
        if matches!(self.sidecar.workload, crate::model::Workload::CronJob(_)) {
            self.diags.push(
                Diagnostic::new(
                    Code::PodConflict,
                    format!("service `{sidecar}` runs on a schedule, so its container cannot join `{pod}`'s pod"),
                )
                .at(self.link.span, "a container in another pod has no schedule")
                .help(format!("let `{sidecar}` run in a pod of its own (its CronJob), and share data through a volume rather than `{pod}`'s pod")),
            );
            return;
        }
        if self.sidecar.workload.runs_to_completion() && !self.pod.workload.runs_to_completion() {
            self.diags.push(
                Diagnostic::new(
                    Code::SidecarSetting,
                    format!("service `{sidecar}` runs to completion, but its container joins `{pod}`'s pod, which restarts it"),
                )
                .at(self.link.span, format!("restarted with `{pod}`'s pod"))
                .help(format!("run the task in a pod of its own, or make `{pod}` the task")),
            );
        }
    }

    /// A native sidecar needs Kubernetes 1.29 (`note` says when one is made): older clusters
    /// drop or refuse `restartPolicy` on an init container, and an init container that never
    /// ends keeps the task from ever starting.
    fn native_sidecar_version(&mut self) {
        let version = self.project.kubernetes_version();
        if !self.pod.workload.runs_to_completion() || version >= NATIVE_SIDECARS_SINCE {
            return;
        }
        let (sidecar, pod, kind) = (&self.sidecar.name, &self.pod.name, self.pod.workload.kind());
        let (major, minor) = NATIVE_SIDECARS_SINCE;
        let written = self.project.kubernetes_version.as_ref().map_or(Span::NONE, |v| v.span);
        self.diags.push(
            Diagnostic::new(
                Code::SidecarSetting,
                format!(
                    "service `{sidecar}` is a native sidecar of the {kind} `{pod}`, which needs Kubernetes {major}.{minor}; kompile targets {}.{}",
                    version.0, version.1
                ),
            )
            .at(self.link.span, "an init container with `restartPolicy: Always`")
            .also(written, "the target Kubernetes version")
            .help(format!(
                "an older cluster drops or refuses the sidecar's `restartPolicy`, and the init container it becomes never ends, so `{pod}` never starts: target Kubernetes {major}.{minor} or later (`x-kompile: {{kubernetes_version: \"{major}.{minor}\"}}`), or run `{sidecar}` in a pod of its own"
            )),
        );
    }

    /// The sidecar's ports become the pod's: one network namespace, one set of Services.
    fn ports(&mut self) -> bool {
        let network_mode = self.link.via == Via::NetworkMode;
        if network_mode && self.compose.declares_ports() {
            let moved = self.declared_ports();
            self.diags.push(moved);
        }
        let published = std::mem::take(&mut self.sidecar.ports);
        let exposed = std::mem::take(&mut self.sidecar.expose);
        let mut gained = false;
        for (port, is_published) in
            published.into_iter().map(|p| (p, true)).chain(exposed.into_iter().map(|p| (p, false)))
        {
            let same = |p: &Port| p.target == port.target && p.protocol == port.protocol;
            let served = self.pod.ports.iter().chain(&self.pod.expose).any(same);
            if served && !network_mode {
                let clash = self.clash(&port);
                self.diags.push(clash);
                continue;
            }
            // With a shared network, the pod's service declares the ports its sidecars serve;
            // only another host port for one of them is new.
            let published_again = self.pod.ports.iter().any(|p| same(p) && p.published == port.published);
            if served && (!is_published || port.published.is_none() || published_again) {
                continue;
            }
            let list = if is_published { &mut self.pod.ports } else { &mut self.pod.expose };
            list.push(port);
            gained = true;
        }
        gained
    }

    fn declared_ports(&self) -> Diagnostic {
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        let key = if self.compose.has("ports") { "ports" } else { "expose" };
        Diagnostic::new(
            Code::SidecarSetting,
            format!("service `{sidecar}` shares the network of `{pod}` and declares ports, which Docker refuses"),
        )
        .at(self.compose.key_span(key), format!("moved to `{pod}`"))
        .help(format!("declare them on `{pod}`: its Services carry the ports of the pod"))
    }

    fn clash(&self, port: &Port) -> Diagnostic {
        let (sidecar, pod) = (&self.sidecar.name, &self.pod.name);
        let text = format!("{}/{}", port.target, port.protocol.compose_name());
        Diagnostic::new(
            Code::PodConflict,
            format!("services `{sidecar}` and `{pod}` both use port {text}, and one pod has one network"),
        )
        .at(self.link.span, format!("joins the pod of `{pod}`"))
        .help("containers of one pod share their ports: change one service's port, or keep them in pods of their own")
    }
}

/// Recomputes, for pods that gained their sidecars' ports, what reaches them from outside;
/// and for every pod with sidecars, who may connect: the networks of every container.
fn refresh(
    project: &Project,
    labels: &BTreeMap<&str, ServiceSettings>,
    services: &mut [Service],
    index: &BTreeMap<String, usize>,
    networks: &Networks<'_>,
    gained: &BTreeSet<usize>,
) {
    for root in 0..services.len() {
        if services[root].sidecars.is_empty() {
            continue;
        }
        let members: Vec<usize> = services[root].sidecars.iter().filter_map(|n| index.get(n).copied()).collect();
        let Some(compose) = project.service(&services[root].name) else { continue };
        if gained.contains(&root) {
            // Reported when the service was lowered: the same settings again.
            let mut again = Diagnostics::default();
            let with_ports = with_ports_of(project, compose, members.iter().map(|&m| services[m].name.as_str()));
            let svc = &services[root];
            let no_labels = ServiceSettings::default();
            let exposing = Exposing {
                service: &with_ports,
                labels: labels.get(compose.name.as_str()).unwrap_or(&no_labels),
                k8s_name: &svc.k8s_name,
                project: &project.settings,
                ports: &svc.ports,
                expose: &svc.expose,
                diags: &mut again,
            };
            let exposure = exposing.exposure();
            services[root].exposure = exposure;
        }
        let (mut labels, mut isolation) = networks.of(compose, &services[root].ports);
        for member in members.iter().filter_map(|&m| project.service(&services[m].name)) {
            let (more, theirs) = networks.of(member, &services[root].ports);
            for label in more {
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            isolation = both(isolation, theirs);
        }
        admit_ingress(&mut isolation, &services[root].exposure);
        services[root].networks = labels;
        services[root].isolation = isolation;
    }
}

/// `pod` as if it declared the `ports` of its members too: exposure reads the published
/// ports as written (their host addresses and places).
fn with_ports_of<'a>(
    project: &Project,
    pod: &compose::Service,
    members: impl Iterator<Item = &'a str>,
) -> compose::Service {
    let mut merged = pod.clone();
    let theirs = members.filter_map(|m| project.service(m)?.ports.as_ref());
    let items: Vec<_> = pod.ports.iter().chain(theirs).flat_map(|p| p.value.iter().cloned()).collect();
    let span = pod.ports.as_ref().map_or(pod.name.span, |p| p.span);
    merged.ports = Some(compose::Spanned::new(items, span));
    merged
}

/// What admits what each of two containers of one pod needs.
fn both(a: Isolation, b: Isolation) -> Isolation {
    match (a, b) {
        (Isolation::Open, _) | (_, Isolation::Open) => Isolation::Open,
        (Isolation::Offline, other) | (other, Isolation::Offline) => other,
        (Isolation::Networks { published, internal }, Isolation::Networks { internal: theirs, .. }) => {
            Isolation::Networks { published, internal: internal && theirs }
        }
    }
}

/// `volumes_from` of every service, the services it names first (Docker copies what they
/// mount, their own `volumes_from` included).
fn volumes_from(
    project: &Project,
    services: &mut [Service],
    index: &BTreeMap<String, usize>,
    store: &mut Storage<'_>,
    diags: &mut Diagnostics,
) {
    let mut done = BTreeSet::new();
    for service in 0..services.len() {
        let mut copying = Copying { project, services, index, store, diags, done: &mut done };
        copying.resolve(service, 0);
    }
}

struct Copying<'c, 'a, 'b> {
    project: &'a Project,
    services: &'c mut [Service],
    index: &'c BTreeMap<String, usize>,
    store: &'c mut Storage<'b>,
    diags: &'c mut Diagnostics,
    done: &'c mut BTreeSet<usize>,
}

impl Copying<'_, '_, '_> {
    fn resolve(&mut self, service: usize, depth: usize) {
        // Marked before the sources: a loop stops here instead of going round.
        if depth > MAX_DEPTH || !self.done.insert(service) {
            return;
        }
        let project = self.project;
        let Some(compose) = project.service(&self.services[service].name) else { return };
        for entry in &compose.volumes_from {
            let (source, read_only) = parse(entry);
            if let Some(container) = source.strip_prefix("container:") {
                self.diags.push(outside_container(&compose.name.value, container, entry.span));
                continue;
            }
            let Some(&owner) = self.index.get(source).filter(|&&o| o != service) else {
                if self.project.service(source).is_none() {
                    self.diags.push(unknown(self.project, &compose.name.value, source, entry.span));
                }
                continue;
            };
            self.resolve(owner, depth + 1);
            let mounts = self.copy(service, owner, read_only, entry.span);
            if !self.store.read_write_once_volumes(&mounts).is_empty() {
                let pod = self.pod_index(service);
                self.services[pod].update.recreate = true;
            }
            self.services[service].mounts.extend(mounts);
        }
    }

    /// The index of the service whose workload runs `service`'s pod.
    fn pod_index(&self, service: usize) -> usize {
        let pod = self.services[service].pod_of.as_ref();
        pod.and_then(|p| self.index.get(p)).copied().unwrap_or(service)
    }

    /// `owner`'s mounts for `service`, at targets it does not mount itself (its own win, as
    /// in Docker).
    fn copy(&mut self, service: usize, owner: usize, read_only: bool, at: Span) -> Vec<Mount> {
        let same_pod = self.pod_index(service) == self.pod_index(owner);
        let owned: BTreeSet<String> = self.services[service].mounts.iter().map(|m| m.target.clone()).collect();
        let mut out = Vec::new();
        let (mut unshared, mut per_pod) = (Vec::new(), Vec::new());
        let per_pod_claims = matches!(self.services[self.pod_index(owner)].workload, Workload::StatefulSet(_));
        for mount in self.services[owner].mounts.iter().filter(|m| !owned.contains(&m.target)) {
            let source = match (&mount.source, same_pod) {
                (MountSource::Shared { .. }, true) => mount.source.clone(),
                (_, true) => MountSource::Shared {
                    container: self.services[owner].k8s_name.clone(),
                    target: mount.target.clone(),
                },
                (_, false) => real_source(self.services, mount),
            };
            match &source {
                MountSource::EmptyDir | MountSource::Tmpfs { .. } => unshared.push(mount.target.clone()),
                MountSource::Volume { .. } if per_pod_claims => per_pod.push(mount.target.clone()),
                _ => {}
            }
            // The same directory of the same volume, mounted the same way.
            let copy = Mount {
                sub_path: mount.sub_path.clone(),
                propagation: mount.propagation,
                ..Mount::new(mount.target.clone(), read_only || mount.read_only, source)
            };
            out.push(copy);
        }
        let (name, owner_name) = (self.services[service].name.clone(), self.services[owner].name.clone());
        for mount in &out {
            if let MountSource::Volume { k8s_name } = &mount.source {
                self.store.add_user(k8s_name, &name);
            }
        }
        if !unshared.is_empty() {
            self.diags.push(unshared_note(&name, &owner_name, &unshared, at));
        }
        if !per_pod.is_empty() {
            let pod = self.services[self.pod_index(owner)].name.clone();
            self.diags.push(per_pod_note(&name, &owner_name, &pod, &per_pod, at));
        }
        out
    }
}

/// The source a mount stands for, following mounts of another container's volume.
fn real_source(services: &[Service], mount: &Mount) -> MountSource {
    let mut source = &mount.source;
    for _ in 0..MAX_DEPTH {
        let MountSource::Shared { container, target } = source else { return source.clone() };
        let owner = services.iter().find(|s| &s.k8s_name == container);
        match owner.and_then(|o| o.mounts.iter().find(|m| &m.target == target)) {
            Some(theirs) => source = &theirs.source,
            None => break,
        }
    }
    MountSource::EmptyDir
}

/// `name`, `name:ro`, `name:rw`, `container:name[:mode]`: the source and whether read-only.
fn parse(entry: &str) -> (&str, bool) {
    match entry.rsplit_once(':') {
        Some((source, "ro")) => (source, true),
        Some((source, "rw")) => (source, false),
        _ => (entry, false),
    }
}

fn unknown(project: &Project, service: &str, name: &str, at: Span) -> Diagnostic {
    let names = project.services.iter().map(|s| s.name.as_str()).filter(|n| *n != service);
    let diagnostic = Diagnostic::new(
        Code::UndefinedReference,
        format!("service `{service}` shares with `{name}`, which is not another service of the project"),
    )
    .at(at, "not a service");
    match crate::suggest::closest(name, names) {
        Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
        None => diagnostic.help("name a service defined under `services:`"),
    }
}

fn loop_error(path: &[&str], at: Span) -> Diagnostic {
    let mut names: Vec<&str> = path.to_vec();
    names.push(path[0]);
    Diagnostic::new(Code::PodConflict, format!("services ask to run in each other's pods: {}", names.join(" → ")))
        .at(at, "closes the loop")
        .help("one service of them runs the pod; the others name it (`network_mode: service:NAME`, `x-kompile.pod: NAME`)")
}

fn group_note(service: &str, group: &str, root: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::KomposeLabel,
        format!("label `{GROUP_LABEL}: {group}` of service `{service}` is read as `x-kompile.pod: {root}`"),
    )
    .at(at, "read as `x-kompile.pod`")
    .help(format!(
        "the group's pod is `{root}`'s (the service named like the group, else the first by name); write `x-kompile: {{pod: {root}}}` on the service instead"
    ))
}

fn group_ignored(service: &str, group: &str, at: Span, network_mode: bool) -> Diagnostic {
    let wins = if network_mode { "`network_mode: service:`" } else { "`x-kompile.pod`" };
    Diagnostic::new(
        Code::KomposeLabel,
        format!("label `{GROUP_LABEL}: {group}` of service `{service}` is ignored: its {wins} wins"),
    )
    .at(at, "ignored")
    .help("remove the label, or the setting if the label says what you want")
}

fn lone_group(service: &str, group: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::KomposeLabel,
        format!("label `{GROUP_LABEL}: {group}` of service `{service}` names a group no other service is in"),
    )
    .at(at, "a pod of its own")
    .help("give the services that share a pod the same group, or remove the label")
}

fn outside_container(service: &str, container: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::VolumesFromUnshared,
        format!("service `{service}` mounts the volumes of container `{container}`, which is not part of the project"),
    )
    .at(at, "not translated")
    .help("containers outside the project are not on the cluster; mount a named volume in both instead")
}

fn unshared_note(service: &str, owner: &str, targets: &[String], at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::VolumesFromUnshared,
        format!(
            "service `{service}` mounts pod-local volumes of `{owner}` ({}) from another pod: it gets empty ones of its own",
            targets.join(", ")
        ),
    )
    .at(at, "the data is not shared")
    .help(format!(
        "pods share only claims: declare a named volume for the data, or run `{service}` in `{owner}`'s pod (`x-kompile: {{pod: {owner}}}`)"
    ))
}

fn per_pod_note(service: &str, owner: &str, pod: &str, targets: &[String], at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::VolumesFromUnshared,
        format!(
            "service `{service}` mounts the volumes of `{owner}` ({}), but `{pod}` runs as a StatefulSet, whose claims belong to its pods",
            targets.join(", ")
        ),
    )
    .at(at, "another pod cannot mount them")
    .help(format!("run `{service}` in `{pod}`'s pod (`x-kompile: {{pod: {pod}}}`), or share a ReadWriteMany volume"))
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::lower::testing::{codes, lower_text};
    use crate::model::{App, Isolation, MountSource, Service};

    fn service<'a>(app: &'a App, name: &str) -> &'a Service {
        app.services.iter().find(|s| s.name == name).unwrap()
    }

    const VPN: &str = "services:\n  vpn:\n    image: vpn:1\n    ports: ['8080:8080']\n    networks: [front]\n  torrent:\n    image: torrent:1\n    network_mode: service:vpn\n    expose: ['8080', '6881']\n  web:\n    image: web:1\n    networks: [front]\nnetworks:\n  front: {}\n";

    /// A scheduled task in another's pod would lose its schedule: refused.
    #[test]
    fn a_scheduled_service_cannot_join_another_pod() {
        let (_, diags) = lower_text(
            "services:\n  php:\n    image: p:1\n  cron:\n    image: c:1\n    x-kompile: {schedule: '*/15 * * * *', pod: php}\n",
        );
        let found: Vec<_> = diags.items().iter().filter(|d| d.code == Code::PodConflict).collect();
        assert_eq!(found.len(), 1, "{diags:?}");
        assert!(found[0].message.contains("runs on a schedule"), "{found:?}");
    }

    #[test]
    fn a_service_on_another_network_stack_joins_its_pod_with_its_ports() {
        let (app, diags) = lower_text(VPN);
        let torrent = service(&app, "torrent");
        assert_eq!(torrent.pod_of.as_deref(), Some("vpn"));
        assert!(torrent.ports.is_empty() && torrent.expose.is_empty());
        let vpn = service(&app, "vpn");
        let ports: Vec<u16> = vpn.ports.iter().chain(&vpn.expose).map(|p| p.target).collect();
        assert_eq!(ports, [8080, 6881], "8080 once: vpn declares what torrent serves");
        assert_eq!(vpn.aliases, ["torrent"]);
        assert!(matches!(&vpn.isolation, Isolation::Networks { published, .. } if published.len() == 1));
        let found = codes(&diags);
        assert!(found.contains(&Code::SharedPod) && found.contains(&Code::SidecarSetting), "{diags:?}");
        assert!(!found.contains(&Code::UnsupportedKey), "{diags:?}");
    }

    /// Docker refuses ports on a service that shares another's network; they are published
    /// on the pod's service, as if declared there.
    #[test]
    fn ports_declared_on_a_sidecar_are_published_by_its_pod() {
        let (app, diags) = lower_text(
            "services:\n  vpn:\n    image: vpn:1\n  torrent:\n    image: t:1\n    network_mode: service:vpn\n    ports: ['8080:8080']\n",
        );
        let vpn = service(&app, "vpn");
        let published = vpn.exposure.published.as_ref().expect("a published Service");
        assert_eq!((published.k8s_name.as_str(), published.ports[0].port), ("vpn-published", 8080));
        assert!(codes(&diags).contains(&Code::SidecarSetting), "{diags:?}");
    }

    fn messages(diags: &crate::diag::Diagnostics, code: Code) -> Vec<String> {
        diags.items().iter().filter(|d| d.code == code).map(|d| d.message.clone()).collect()
    }

    /// The pod's Services and Ingress are its service's: a sidecar's own exposure settings
    /// are dropped with a warning each, and none is said to be read.
    #[test]
    fn a_sidecars_exposure_settings_are_reported_as_dropped() {
        let (app, diags) = lower_text(
            "services:\n  vpn:\n    image: vpn:1\n    ports: ['8080:8080']\n  torrent:\n    image: t:1\n    network_mode: service:vpn\n    labels: {kompose.service.expose: torrent.example.com, kompose.service.type: nodeport}\n    x-kompile: {ingress: {host: t.example.com}, node_port: 30080, external_traffic_policy: local}\n",
        );
        let dropped = messages(&diags, Code::SidecarSetting);
        assert_eq!(dropped.len(), 5, "{diags:?}");
        assert!(dropped.iter().all(|m| m.contains("is dropped") && m.contains("`vpn`")), "{dropped:?}");
        assert!(messages(&diags, Code::KomposeLabel).is_empty(), "no label is read: {diags:?}");
        assert!(!codes(&diags).contains(&Code::IngressPort), "{diags:?}");
        let vpn = service(&app, "vpn");
        assert!(vpn.exposure.ingress.is_none() && vpn.exposure.published.is_some());
    }

    #[test]
    fn a_sidecars_scaling_settings_are_reported_as_dropped() {
        let (app, diags) = lower_text(
            "services:\n  web:\n    image: w:1\n    cpus: 1\n  side:\n    image: s:1\n    x-kompile: {pod: web, autoscale: {max: 4}, disruption: {max_unavailable: 1}}\n    labels: {kompose.hpa.cpu: '50'}\n",
        );
        assert_eq!(messages(&diags, Code::SidecarSetting).len(), 3, "{diags:?}");
        let found = codes(&diags);
        assert!(!found.contains(&Code::AutoscaleWithoutRequests) && !found.contains(&Code::KomposeLabel), "{diags:?}");
        assert!(app.services.iter().all(|s| s.availability.autoscale.is_none()));
    }

    #[test]
    fn native_sidecars_below_kubernetes_1_29_are_reported() {
        let compose = |version: &str| {
            format!(
                "x-kompile: {{kubernetes_version: '{version}'}}\nservices:\n  task:\n    image: t:1\n    x-kompile: {{kind: job}}\n  proxy:\n    image: p:1\n    x-kompile: {{pod: task}}\n"
            )
        };
        let (_, diags) = lower_text(&compose("1.28"));
        let found = messages(&diags, Code::SidecarSetting);
        assert!(found.len() == 1 && found[0].contains("needs Kubernetes 1.29"), "{diags:?}");
        let (_, diags) = lower_text(&compose("1.29"));
        assert!(messages(&diags, Code::SidecarSetting).is_empty(), "{diags:?}");
    }

    /// Docker refuses ports on a service on another's network: the learned port's help names
    /// the pod's service, and a port declared there is not learned again.
    #[test]
    fn learned_ports_of_a_sidecar_are_declared_on_its_pods_service() {
        let (_, diags) = lower_text(
            "services:\n  vpn:\n    image: vpn:1\n  torrent:\n    image: t:1\n    network_mode: service:vpn\n  web:\n    image: w:1\n    environment: {URL: 'http://torrent:8080'}\n",
        );
        let learned = diags.items().iter().find(|d| d.code == Code::LearnedPort && d.message.contains("`torrent`"));
        let help = learned.and_then(|d| d.help.clone()).unwrap_or_default();
        assert!(help.contains("on `vpn`"), "{diags:?}");
        let (_, diags) = lower_text(
            "services:\n  vpn:\n    image: vpn:1\n    expose: ['8080']\n  torrent:\n    image: t:1\n    network_mode: service:vpn\n  web:\n    image: w:1\n    environment: {URL: 'http://torrent:8080'}\n",
        );
        assert!(!codes(&diags).contains(&Code::LearnedPort), "{diags:?}");
    }

    #[test]
    fn grouped_services_that_use_one_port_clash() {
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: a:1\n    expose: ['80']\n    labels: {kompose.service.group: a}\n  b:\n    image: b:1\n    expose: ['80']\n    labels: {kompose.service.group: a}\n",
        );
        assert_eq!(service(&app, "b").pod_of.as_deref(), Some("a"));
        let found = codes(&diags);
        assert!(found.contains(&Code::PodConflict) && found.contains(&Code::KomposeLabel), "{diags:?}");
    }

    #[test]
    fn a_sidecar_of_a_sidecar_is_in_the_first_pod_and_loops_are_errors() {
        let (app, _) = lower_text(
            "services:\n  a:\n    image: a:1\n  b:\n    image: b:1\n    network_mode: service:a\n  c:\n    image: c:1\n    x-kompile: {pod: b}\n",
        );
        assert_eq!(service(&app, "c").pod_of.as_deref(), Some("a"));
        let (app, diags) = lower_text(
            "services:\n  a:\n    image: a:1\n    x-kompile: {pod: b}\n  b:\n    image: b:1\n    x-kompile: {pod: a}\n",
        );
        assert!(app.services.iter().all(|s| s.pod_of.is_none()));
        assert_eq!(codes(&diags).iter().filter(|c| **c == Code::PodConflict).count(), 1, "{diags:?}");
    }

    #[test]
    fn volumes_from_shares_in_one_pod_and_copies_claims_across_pods() {
        let (app, diags) = lower_text(
            "services:\n  app:\n    image: a:1\n    volumes: ['data:/data', '/cache']\n  side:\n    image: s:1\n    network_mode: service:app\n    volumes_from: ['app:ro']\n  backup:\n    image: b:1\n    volumes_from: [app, 'container:legacy']\nvolumes:\n  data: {}\n",
        );
        let side = &service(&app, "side").mounts;
        assert!(
            side.iter().all(
                |m| m.read_only && matches!(&m.source, MountSource::Shared { container, .. } if container == "app")
            )
        );
        let backup = &service(&app, "backup").mounts;
        assert_eq!(backup[0].source, MountSource::Volume { k8s_name: "data".into() });
        assert_eq!(backup[1].source, MountSource::EmptyDir);
        let found = codes(&diags);
        let unshared = found.iter().filter(|c| **c == Code::VolumesFromUnshared).count();
        assert_eq!(unshared, 2, "the anonymous volume, and the container outside: {diags:?}");
        assert!(found.contains(&Code::SharedVolume), "two pods on one ReadWriteOnce claim: {diags:?}");
        assert!(service(&app, "app").update.recreate && service(&app, "backup").update.recreate);
    }
}
