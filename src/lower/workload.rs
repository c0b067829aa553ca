//! The workload that runs each service, by the rules of `compose::workload`, with what its
//! kind needs; and what the choice means, said where it matters: a kind its settings
//! contradict (K110), a restart policy it cannot honour (K206), settings it ignores (K233), a
//! server whose restart policy would make it a Job (K234). After every service is lowered,
//! [`claims`] makes a Deployment that mounts a ReadWriteOnce volume of its own a StatefulSet
//! owning that claim (K231), keeps one whose volume other services or its replicas share a
//! Deployment (K232), and says what a single pod's update costs (K203).

use std::collections::BTreeMap;

use super::storage::{RwoVolume, Storage};
use crate::compose::workload::{self as rules, Choice, Rule, is_on_failure};
use crate::compose::{self, ServiceSettings, Spanned};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Concurrency, CronJob, Job, JobRestart, MountSource, Service, StatefulSet, Workload, WorkloadKind};
use crate::names::hashed_label;
use crate::source::Span;

/// StatefulSet and CronJob names longer than this make names or labels the API server refuses
/// (the pods' `controller-revision-hash` label, the Jobs' names).
const MAX_CONTROLLER_NAME: usize = 52;

/// The services others wait for to complete: by name, the first that does and where.
pub type Waiters<'a> = BTreeMap<&'a str, (&'a str, Span)>;

/// The kind of `service` (its Kompose labels read into `labels`), reported when its settings
/// contradict it.
pub fn choose(
    service: &compose::Service,
    labels: &ServiceSettings,
    waiter: Option<(&str, Span)>,
    diags: &mut Diagnostics,
) -> Choice {
    let choice = rules::choose(service, waiter);
    let schedule = service.settings.schedule.as_ref().or(labels.schedule.as_ref()).map(|s| s.span);
    let name = service.name.as_str();
    match schedule {
        None if choice.kind == WorkloadKind::CronJob => diags.push(
            Diagnostic::new(Code::InvalidValue, format!("service `{name}` is a CronJob without a schedule"))
                .at(choice.span, "needs `x-kompile.schedule`")
                .help("add `x-kompile: {schedule: \"0 3 * * *\"}` (five cron fields or a macro such as `@daily`), or choose another kind"),
        ),
        Some(at) if choice.kind != WorkloadKind::CronJob => diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!(
                    "service `{name}` has a schedule, but {} makes it a {}",
                    choice.reason(service),
                    choice.kind.k8s_name()
                ),
            )
            .at(at, "only a CronJob runs on a schedule")
            .also(choice.span, format!("makes it a {}", choice.kind.k8s_name()))
            .help("remove the schedule, or the kind, to run it as a CronJob"),
        ),
        _ => {}
    }
    choice
}

/// The model's workload for a service of kind `choice.kind`, named `k8s_name`, with what the
/// kind ignores or cannot honour reported. A StatefulSet's claims are decided by [`claims`].
pub fn workload(
    service: &compose::Service,
    labels: &ServiceSettings,
    choice: &Choice,
    k8s_name: &str,
    diags: &mut Diagnostics,
) -> Workload {
    restart_policy(service, choice, diags);
    ignored(service, labels, choice.kind, diags);
    serves_ports(service, choice, diags);
    match choice.kind {
        WorkloadKind::Deployment => Workload::Deployment,
        WorkloadKind::StatefulSet => Workload::StatefulSet(stateful_set(service, k8s_name, diags)),
        WorkloadKind::DaemonSet => Workload::DaemonSet,
        WorkloadKind::Job => Workload::Job(job(service, labels)),
        WorkloadKind::CronJob => Workload::CronJob(cron_job(service, labels, k8s_name, diags)),
    }
}

/// A Job on the service's schedule (`choose` reported a CronJob without one); Forbid unless
/// `concurrency` says otherwise.
fn cron_job(service: &compose::Service, labels: &ServiceSettings, k8s_name: &str, diags: &mut Diagnostics) -> CronJob {
    let own = &service.settings;
    CronJob {
        k8s_name: controller_name(WorkloadKind::CronJob, service, k8s_name, diags),
        schedule: own.schedule.as_ref().or(labels.schedule.as_ref()).map(|s| s.value.clone()).unwrap_or_default(),
        concurrency: own.concurrency.or(labels.concurrency).map_or(Concurrency::Forbid, |c| c.value),
        time_zone: own.time_zone.as_ref().map(|z| z.value.clone()),
        job: scheduled_job(job(service, labels)),
    }
}

/// Kubernetes' own default retries for a run that fails.
const SCHEDULED_RETRIES: u32 = 6;

/// A scheduled run retried without limit never ends while it fails (the database is down),
/// and with `concurrency: forbid` every later run is skipped: the nightly backup silently
/// stops. A run gets Kubernetes' default retries instead, and the next run tries again.
fn scheduled_job(job: Job) -> Job {
    let backoff_limit = if job.backoff_limit == Job::NO_LIMIT { SCHEDULED_RETRIES } else { job.backoff_limit };
    Job { backoff_limit, ..job }
}

/// A StatefulSet with its governing Service; its claim templates come later ([`claims`]).
fn stateful_set(service: &compose::Service, k8s_name: &str, diags: &mut Diagnostics) -> StatefulSet {
    StatefulSet {
        k8s_name: controller_name(WorkloadKind::StatefulSet, service, k8s_name, diags),
        service_name: headless_name(k8s_name),
        claim_templates: Vec::new(),
    }
}

/// `<service>-headless`: the governing Service of a StatefulSet, beside the ClusterIP Service
/// clients use; shortened with a hash to stay a Service name.
pub fn headless_name(k8s_name: &str) -> String {
    let name = format!("{k8s_name}-headless");
    if name.len() <= 63 { name } else { hashed_label(&name, 63) }
}

/// The name of a StatefulSet or CronJob: the service's, cut to 52 characters with a hash
/// when longer (K201).
fn controller_name(kind: WorkloadKind, service: &compose::Service, k8s_name: &str, diags: &mut Diagnostics) -> String {
    if k8s_name.len() <= MAX_CONTROLLER_NAME {
        return k8s_name.to_string();
    }
    let name = hashed_label(k8s_name, MAX_CONTROLLER_NAME);
    let kind = kind.k8s_name();
    diags.push(
        Diagnostic::new(
            Code::NameChanged,
            format!("the {kind} of service `{}` is named `{name}` in Kubernetes", service.name.value),
        )
        .at(service.name.span, format!("a {kind} name is at most {MAX_CONTROLLER_NAME} characters"))
        .help(
            "its pods and Service keep the service's name; rename the service to at most 52 characters to silence this",
        ),
    );
    name
}

/// A Job that runs as Compose would run the service: `replicas` containers at once, each once,
/// restarted as its restart policy says.
fn job(service: &compose::Service, labels: &ServiceSettings) -> Job {
    let (restart, retries) = job_restart(service);
    let written = service.settings.backoff_limit.or(labels.backoff_limit).map(|b| b.value);
    Job { restart, backoff_limit: written.unwrap_or(retries), completions: service.replicas() }
}

/// The pod's restart policy and the Job's retries from Compose's: `no` (the default) and
/// `none` run once, never retried; `on-failure[:N]` (or `max_attempts: N`) restarts the
/// container up to N times, and as long as it fails when N is absent or 0 (Docker's "no
/// limit"). `deploy.restart_policy.condition` wins over `restart`, as in Docker Compose.
fn job_restart(service: &compose::Service) -> (JobRestart, u32) {
    let limit = |count: Option<u32>| count.filter(|n| *n > 0).map_or(Job::NO_LIMIT, |n| n.min(Job::NO_LIMIT));
    let policy = service.deploy.restart_policy.as_ref().map(|p| &p.value);
    if let Some(condition) = policy.and_then(|p| p.condition.as_ref()) {
        return match condition.as_str() {
            "none" => (JobRestart::Never, 0),
            _ => (JobRestart::OnFailure, limit(policy.and_then(|p| p.max_attempts))),
        };
    }
    match service.restart.as_ref().map(|r| r.as_str()) {
        Some(restart) if is_on_failure(restart) => {
            let count = restart.strip_prefix("on-failure:").and_then(|n| n.trim().parse::<u32>().ok());
            (JobRestart::OnFailure, limit(count))
        }
        Some("always" | "unless-stopped") => (JobRestart::OnFailure, Job::NO_LIMIT),
        _ => (JobRestart::Never, 0),
    }
}

/// K206: a restart policy the kind cannot honour. Long-running kinds always restart their
/// containers; a Job's pods stop restarting once they succeed.
fn restart_policy(service: &compose::Service, choice: &Choice, diags: &mut Diagnostics) {
    let condition = service.deploy.restart_policy.as_ref().and_then(|r| r.condition.as_ref());
    // Docker Compose takes the condition over `restart` when both are written.
    let Some(policy) = condition.or(service.restart.as_ref()) else { return };
    // K234 says it for a server.
    if matches!(choice.rule, Rule::Serves { .. }) {
        return;
    }
    let ends = matches!(policy.as_str(), "no" | "none") || is_on_failure(policy);
    let kind = choice.kind.k8s_name();
    let name = service.name.as_str();
    let (message, label, help) = match (choice.kind.runs_to_completion(), ends) {
        (false, true) => (
            format!("service `{name}` asks for restart `{}`, but a {kind} always restarts", policy.value),
            "becomes `restartPolicy: Always`",
            format!(
                "it is a {kind} because of {}; without that it would run as a Job. For a long-running service, write `restart: always`",
                choice.reason(service)
            ),
        ),
        (true, false) => (
            format!("service `{name}` asks for restart `{}`, but a {kind}'s pods run to completion", policy.value),
            "becomes `restartPolicy: OnFailure`",
            format!(
                "it is a {kind} because of {}: it is restarted until it succeeds, then not again. Remove `{}` to say so",
                choice.reason(service),
                if condition.is_some() { "deploy.restart_policy" } else { "restart" }
            ),
        ),
        _ => return,
    };
    diags.push(Diagnostic::new(Code::RestartPolicy, message).at(policy.span, label).help(help));
}

/// K233: settings the kind does not use.
fn ignored(service: &compose::Service, labels: &ServiceSettings, kind: WorkloadKind, diags: &mut Diagnostics) {
    let name = service.name.as_str();
    let k8s = kind.k8s_name();
    let mut report = |span: Span, what: String, why: String| {
        diags.push(
            Diagnostic::new(Code::IgnoredSetting, format!("{what} of service `{name}` has no effect: {why}"))
                .at(span, "ignored")
                .help("remove it, or choose the kind it is for with `x-kompile.kind`; see docs/x-kompile.md"),
        );
    };
    if kind == WorkloadKind::DaemonSet {
        let replicas = service.deploy.replicas.as_ref().map(|r| ("deploy.replicas", r.span));
        if let Some((key, span)) = replicas.or(service.scale.as_ref().map(|s| ("scale", s.span))) {
            report(span, format!("`{key}`"), "a DaemonSet runs one pod on every node".to_string());
        }
    }
    if kind != WorkloadKind::CronJob {
        let concurrency = setting_span(&service.settings.concurrency, &labels.concurrency);
        let cron_only =
            [("concurrency", concurrency), ("time_zone", service.settings.time_zone.as_ref().map(|z| z.span))];
        for (key, span) in cron_only.into_iter().filter_map(|(k, s)| Some((k, s?))) {
            report(span, format!("`x-kompile.{key}`"), format!("it is a {k8s}, not a CronJob"));
        }
    }
    if !kind.runs_to_completion() {
        if let Some(span) = setting_span(&service.settings.backoff_limit, &labels.backoff_limit) {
            report(span, "`x-kompile.backoff_limit`".to_string(), format!("a {k8s} restarts its pods without limit"));
        }
    } else if let Some(update) = &service.deploy.update_config {
        report(update.span, "`deploy.update_config`".to_string(), format!("a {k8s} has no rolling update"));
    }
}

/// Where a setting is written: the service's `x-kompile`, else its Kompose label.
fn setting_span<T>(own: &Option<Spanned<T>>, label: &Option<Spanned<T>>) -> Option<Span> {
    own.as_ref().or(label.as_ref()).map(|s| s.span)
}

/// K234: a service whose restart policy lets it end (which makes a Job) but that declares
/// ports: most likely a server that restarts only `on-failure`, so it stays a Deployment.
fn serves_ports(service: &compose::Service, choice: &Choice, diags: &mut Diagnostics) {
    if !matches!(choice.rule, Rule::Serves { .. }) {
        return;
    }
    let name = service.name.as_str();
    let at = service.ports.as_ref().filter(|p| !p.is_empty()).map_or(service.key_span("expose"), |p| p.span);
    diags.push(
        Diagnostic::new(
            Code::RestartWithPorts,
            format!(
                "service `{name}` declares ports, so it runs as a Deployment, though {} lets it end like a Job",
                choice.reason(service)
            ),
        )
        .at(choice.span, "would make a Job")
        .also(at, "serves ports")
        .help(format!(
            "a Deployment restarts `{name}` whenever it exits, also after it succeeds; write `restart: always` to say it runs until stopped, or `x-kompile: {{kind: job}}` if it is a task that ends"
        )),
    );
}

/// After every service is lowered: the claims of StatefulSets, and the StatefulSet a
/// Deployment becomes when it mounts a ReadWriteOnce volume no other service mounts, with one
/// replica (a database). A volume other services or several replicas share cannot be one
/// StatefulSet's own, one per pod: those stay Deployments that update with Recreate (K203,
/// K232).
pub fn claims(
    project: &compose::Project,
    services: &mut [Service],
    store: &mut Storage<'_>,
    waiters: &Waiters<'_>,
    diags: &mut Diagnostics,
) {
    // A sidecar runs in its pod's workload, whose kind its pod's service decides.
    for service in services.iter_mut().filter(|s| s.pod_of.is_none()) {
        let Some(written) = project.service(&service.name) else { continue };
        let volumes = store.read_write_once_volumes(&service.mounts);
        let choice = rules::choose(written, waiters.get(written.name.as_str()).copied());
        match &service.workload {
            // A claim kompile makes could be the StatefulSet's own.
            Workload::Deployment
                if matches!(choice.rule, Rule::Default | Rule::Serves { .. })
                    && volumes.iter().any(|v| !v.external) =>
            {
                let shared = volumes.iter().find(|v| v.users.len() > 1);
                let by_replicas = volumes.iter().find(|v| !v.external).filter(|_| service.replicas > 1);
                match shared.or(by_replicas) {
                    Some(shared) => {
                        shared_note(written, shared, service.replicas, diags);
                        recreate(service, written, &volumes, diags);
                    }
                    None => {
                        let set = stateful_set(written, &service.k8s_name, diags);
                        stateful(service, written, set, &volumes, store, diags);
                    }
                }
            }
            Workload::Deployment if !volumes.is_empty() => recreate(service, written, &volumes, diags),
            Workload::StatefulSet(set) => {
                let set = set.clone();
                stateful(service, written, set, &volumes, store, diags);
            }
            _ => {}
        }
    }
}

/// A Deployment whose ReadWriteOnce claim must be released by the old pod before the new one
/// can mount it: the Recreate strategy, and its downtime (K203).
fn recreate(service: &mut Service, written: &compose::Service, volumes: &[RwoVolume], diags: &mut Diagnostics) {
    let Some(volume) = volumes.first() else { return };
    service.update.recreate = true;
    diags.push(
        Diagnostic::new(
            Code::RolloutDowntime,
            format!(
                "service `{}` mounts ReadWriteOnce volume `{}`: updates stop the old pod first",
                service.name, volume.name
            ),
        )
        .at(mount_span(written, &volume.name), "has downtime on every update")
        .help(
            "a ReadWriteOnce claim attaches to one node at a time, so kompile uses the Recreate strategy; \
               set `x-kompile: {access_mode: ReadWriteMany}` on the volume if your storage supports it",
        ),
    );
}

/// K232: why a service with a ReadWriteOnce volume stays a Deployment: other services mount
/// it too, or its replicas share it, as they do in Compose.
fn shared_note(written: &compose::Service, shared: &RwoVolume, replicas: u32, diags: &mut Diagnostics) {
    let (name, volume) = (written.name.as_str(), &shared.name);
    let others: Vec<String> = shared.users.iter().filter(|u| *u != name).map(|u| format!("`{u}`")).collect();
    let (message, label, help) = if others.is_empty() {
        (
            format!(
                "service `{name}` stays a Deployment: its {replicas} replicas share ReadWriteOnce volume `{volume}`, as in Compose"
            ),
            "shared by the replicas",
            format!(
                "a StatefulSet would give each pod a claim of its own, with its own data; if that is what `{name}` needs, write `x-kompile: {{kind: statefulset}}`"
            ),
        )
    } else {
        (
            format!(
                "service `{name}` stays a Deployment: its ReadWriteOnce volume `{volume}` is also mounted by {}",
                others.join(", ")
            ),
            "shared with other services",
            format!(
                "a StatefulSet's claims are its own, one per pod; `{volume}` stays one PersistentVolumeClaim that the services share. Give `{name}` a volume of its own to make it a StatefulSet"
            ),
        )
    };
    diags.push(Diagnostic::new(Code::SharedClaim, message).at(mount_span(written, volume), label).help(help));
}

/// Makes `service` the StatefulSet `set`: each ReadWriteOnce volume only it mounts becomes
/// one of its claim templates (K231 says the claim's name changes); one pod means downtime on
/// every update (K203).
fn stateful(
    service: &mut Service,
    written: &compose::Service,
    mut set: StatefulSet,
    volumes: &[RwoVolume],
    store: &mut Storage<'_>,
    diags: &mut Diagnostics,
) {
    for volume in volumes.iter().filter(|v| !v.external && v.users.len() == 1) {
        let Some(template) = store.claim_template(&volume.name) else { continue };
        for mount in &mut service.mounts {
            if mount.source == (MountSource::Volume { k8s_name: template.k8s_name.clone() }) {
                mount.source = MountSource::ClaimTemplate { name: template.k8s_name.clone() };
            }
        }
        diags.push(renamed_claim(written, &set.k8s_name, &template.k8s_name, &volume.name, service.replicas));
        set.claim_templates.push(template);
    }
    if service.replicas == 1 {
        let at = volumes.first().map_or(service.span, |v| mount_span(written, &v.name));
        diags.push(
            Diagnostic::new(
                Code::RolloutDowntime,
                format!(
                    "service `{}` runs one pod of StatefulSet `{}`: each update stops `{}-0` before its replacement starts",
                    service.name, set.k8s_name, set.k8s_name
                ),
            )
            .at(at, "has downtime on every update")
            .help(
                "a StatefulSet replaces a pod by stopping it first, so that one pod at a time owns its claims: \
                 one replica is a short outage on every update. Keep it short (`stop_grace_period`), or run \
                 replicas if the app replicates its data across them",
            ),
        );
    }
    pod_names(service, written, &set, diags);
    service.update.recreate = false;
    service.workload = Workload::StatefulSet(set);
}

/// A StatefulSet names its pods' hosts itself (`db-0`, in the domain of its headless Service),
/// whatever the template says: `hostname` and `domainname` do not reach the pods (K233). The
/// Service of a `hostname` stays, so other services still reach the pods by that name.
fn pod_names(service: &mut Service, written: &compose::Service, set: &StatefulSet, diags: &mut Diagnostics) {
    service.hostname = None;
    service.subdomain = None;
    let keys = [("hostname", &written.hostname), ("domainname", &written.domainname)];
    for (what, key) in keys.into_iter().filter_map(|(what, key)| Some((what, key.as_ref()?))) {
        diags.push(
            Diagnostic::new(
                Code::IgnoredSetting,
                format!(
                    "`{what}` of service `{}` has no effect on its pods: a StatefulSet names them `{}-0`, ... in the domain of `{}`",
                    written.name.value, set.k8s_name, set.service_name
                ),
            )
            .at(key.span, "not the pods' host name")
            .help("other services still reach the pods by a `hostname`, through a Service of that name; remove it, or keep a Deployment with `x-kompile: {kind: deployment}` if the process needs its own host name"),
        );
    }
}

/// K231: the claim of `volume` is now the StatefulSet's, under another name.
fn renamed_claim(written: &compose::Service, set: &str, template: &str, volume: &str, replicas: u32) -> Diagnostic {
    let service = written.name.as_str();
    let claims = match replicas {
        0 | 1 => format!("`{template}-{set}-0`"),
        n => format!(
            "`{template}-{set}-0` to `{template}-{set}-{}`, one per pod (the replicas shared it in Compose)",
            n - 1
        ),
    };
    Diagnostic::new(
        Code::StatefulSetClaim,
        format!(
            "volume `{volume}` of service `{service}` becomes StatefulSet `{set}`'s claim {claims}, no longer the claim `{template}`"
        ),
    )
    .at(mount_span(written, volume), "a claim per pod")
    .help(format!(
        "a cluster where kompile made the claim `{template}` keeps it, unused, and `{set}-0` starts with an empty volume: copy the data across (a pod that mounts both), or keep the claim `{template}` with `x-kompile: {{kind: deployment}}` on `{service}`"
    ))
}

/// Where `service` mounts named volume `volume`, else its name.
fn mount_span(service: &compose::Service, volume: &str) -> Span {
    let mounts = &service.volumes;
    mounts.iter().find(|m| m.source.as_deref() == Some(volume)).map_or(service.name.span, |m| m.span)
}

#[cfg(test)]
mod tests {
    use crate::diag::{Code, Diagnostics};
    use crate::lower::testing::{codes, lower_text, only_service};
    use crate::model::{App, Concurrency, Job, JobRestart, MountSource, Service, Workload, WorkloadKind};

    fn service<'a>(app: &'a App, name: &str) -> &'a Service {
        app.services.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no service {name}"))
    }

    fn kind(app: &App, name: &str) -> WorkloadKind {
        service(app, name).workload.workload_kind()
    }

    fn messages(diags: &Diagnostics, code: Code) -> Vec<String> {
        diags.items().iter().filter(|d| d.code == code).map(|d| d.message.clone()).collect()
    }

    /// Which compose input gives which kind, each row also showing that the rule before it in
    /// the precedence wins over the one after: `x-kompile.kind` > Kompose label > schedule >
    /// `deploy.mode` > restart policy and `service_completed_successfully` > a ReadWriteOnce
    /// volume of its own > Deployment.
    #[test]
    fn the_rules_choose_in_order() {
        use WorkloadKind::*;
        let cases = [
            ("{}", Deployment),
            ("{volumes: ['data:/d']}", StatefulSet),
            ("{restart: 'no', volumes: ['data:/d']}", Job),
            ("{restart: on-failure}", Job),
            ("{restart: unless-stopped}", Deployment),
            ("{deploy: {restart_policy: {condition: none}}}", Job),
            ("{deploy: {restart_policy: {condition: any}}, restart: 'no'}", Deployment),
            ("{deploy: {mode: replicated-job}}", Job),
            ("{deploy: {mode: global}, restart: 'no'}", DaemonSet),
            ("{deploy: {mode: global}, x-kompile: {schedule: '@daily'}}", CronJob),
            ("{labels: {kompose.cronjob.schedule: '@daily'}, deploy: {mode: global}}", CronJob),
            ("{labels: {kompose.controller.type: statefulset}, x-kompile: {schedule: '@daily'}}", StatefulSet),
            ("{labels: {kompose.controller.type: daemonset}, x-kompile: {kind: job}}", Job),
            ("{restart: 'no', volumes: ['data:/d'], x-kompile: {kind: deployment}}", Deployment),
        ];
        for (settings, want) in cases {
            let text = format!("services:\n  a:\n    image: x:1\n    <<: {settings}\nvolumes:\n  data: {{}}\n");
            let (app, _) = lower_text(&text);
            assert_eq!(kind(&app, "a"), want, "{settings}");
        }
    }

    #[test]
    fn a_service_others_wait_to_complete_is_a_job() {
        let (app, diags) = lower_text(
            "services:\n  migrate: {image: m:1}\n  app:\n    image: a:1\n    depends_on: {migrate: {condition: service_completed_successfully}}\n",
        );
        let Workload::Job(job) = &service(&app, "migrate").workload else { panic!("{:?}", app.services) };
        assert_eq!((job.restart, job.backoff_limit, job.completions), (JobRestart::Never, 0, 1));
        assert_eq!(kind(&app, "app"), WorkloadKind::Deployment);
        assert!(codes(&diags).is_empty(), "{diags:?}");
    }

    #[test]
    fn jobs_restart_as_compose_restarts() {
        let job = |settings: &str| {
            let (app, _) = lower_text(&format!("services:\n  a:\n    image: x:1\n    <<: {settings}\n"));
            match &only_service(&app).workload {
                Workload::Job(job) => (job.restart, job.backoff_limit, job.completions),
                other => panic!("{settings}: {other:?}"),
            }
        };
        assert_eq!(job("{restart: 'no', scale: 3}"), (JobRestart::Never, 0, 3));
        assert_eq!(job("{restart: 'on-failure:4'}"), (JobRestart::OnFailure, 4, 1));
        let no_limit = (JobRestart::OnFailure, Job::NO_LIMIT, 1);
        assert_eq!(job("{restart: on-failure}"), no_limit, "Docker: no limit");
        assert_eq!(job("{restart: 'on-failure:0'}"), no_limit, "Docker: no limit");
        let policy = "{deploy: {restart_policy: {condition: on-failure, max_attempts: 2}}, restart: 'no'}";
        assert_eq!(job(policy), (JobRestart::OnFailure, 2, 1), "the condition wins over `restart`");
        assert_eq!(job("{restart: 'no', x-kompile: {backoff_limit: 5}}"), (JobRestart::Never, 5, 1));
        assert_eq!(job("{restart: always, x-kompile: {kind: job}}"), no_limit);
    }

    #[test]
    fn restart_policies_a_kind_cannot_honour_are_reported() {
        let (_, diags) = lower_text("services:\n  a: {image: x:1, restart: 'no', x-kompile: {kind: deployment}}\n");
        assert_eq!(
            messages(&diags, Code::RestartPolicy),
            ["service `a` asks for restart `no`, but a Deployment always restarts"]
        );
        let (_, diags) = lower_text("services:\n  a: {image: x:1, restart: on-failure, deploy: {mode: global}}\n");
        assert_eq!(
            messages(&diags, Code::RestartPolicy),
            ["service `a` asks for restart `on-failure`, but a DaemonSet always restarts"]
        );
        let (_, diags) =
            lower_text("services:\n  a: {image: x:1, restart: always, x-kompile: {schedule: '@hourly'}}\n");
        assert_eq!(
            messages(&diags, Code::RestartPolicy),
            ["service `a` asks for restart `always`, but a CronJob's pods run to completion"]
        );
        let (_, diags) = lower_text("services:\n  a: {image: x:1, restart: 'no'}\n");
        assert!(codes(&diags).is_empty(), "a Job honours it: {diags:?}");
    }

    #[test]
    fn a_cron_job_takes_its_settings() {
        let (app, diags) = lower_text(
            "services:\n  backup:\n    image: x:1\n    x-kompile: {schedule: '0 3 * * *', time_zone: Europe/Berlin}\n",
        );
        let Workload::CronJob(cron) = &only_service(&app).workload else { panic!() };
        assert_eq!((cron.schedule.as_str(), cron.concurrency), ("0 3 * * *", Concurrency::Forbid));
        assert_eq!(cron.time_zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!((cron.job.restart, cron.job.backoff_limit), (JobRestart::Never, 0));
        assert!(codes(&diags).is_empty(), "{diags:?}");
        // Retried without limit, a failing run would keep every later one from starting.
        let (app, _) = lower_text(
            "services:\n  backup:\n    image: x:1\n    restart: on-failure\n    x-kompile: {schedule: '@daily'}\n",
        );
        let Workload::CronJob(cron) = &only_service(&app).workload else { panic!() };
        assert_eq!((cron.job.restart, cron.job.backoff_limit), (JobRestart::OnFailure, 6));
        let (app, diags) = lower_text(
            "services:\n  backup:\n    image: x:1\n    labels: {kompose.cronjob.schedule: '*/5 * * * *', kompose.cronjob.concurrency_policy: Replace, kompose.cronjob.backoff_limit: '2'}\n",
        );
        let Workload::CronJob(cron) = &only_service(&app).workload else { panic!() };
        assert_eq!((cron.concurrency, cron.job.backoff_limit), (Concurrency::Replace, 2));
        assert_eq!(codes(&diags), [Code::KomposeLabel; 3]);
    }

    #[test]
    fn a_schedule_and_the_cron_job_kind_go_together() {
        let (_, diags) = lower_text("services:\n  a: {image: x:1, x-kompile: {kind: cronjob}}\n");
        assert_eq!(messages(&diags, Code::InvalidValue), ["service `a` is a CronJob without a schedule"]);
        let (_, diags) = lower_text("services:\n  a: {image: x:1, x-kompile: {kind: job, schedule: '@daily'}}\n");
        assert_eq!(
            messages(&diags, Code::InvalidValue),
            ["service `a` has a schedule, but `x-kompile.kind` makes it a Job"]
        );
        let (_, diags) = lower_text("services:\n  a: {image: x:1, x-kompile: {schedule: '61 * * * *'}}\n");
        assert!(diags.has_errors() && codes(&diags) == [Code::InvalidValue], "{diags:?}");
    }

    #[test]
    fn settings_a_kind_ignores_are_reported() {
        let (_, diags) = lower_text(
            "services:\n  a: {image: x:1, deploy: {mode: global, replicas: 2}, x-kompile: {concurrency: allow, backoff_limit: 1}}\n",
        );
        assert_eq!(
            messages(&diags, Code::IgnoredSetting),
            [
                "`deploy.replicas` of service `a` has no effect: a DaemonSet runs one pod on every node",
                "`x-kompile.concurrency` of service `a` has no effect: it is a DaemonSet, not a CronJob",
                "`x-kompile.backoff_limit` of service `a` has no effect: a DaemonSet restarts its pods without limit",
            ]
        );
        let (_, diags) =
            lower_text("services:\n  a: {image: x:1, restart: 'no', deploy: {update_config: {order: stop-first}}}\n");
        assert_eq!(
            messages(&diags, Code::IgnoredSetting),
            ["`deploy.update_config` of service `a` has no effect: a Job has no rolling update"]
        );
        assert!(messages(&diags, Code::RolloutDowntime).is_empty(), "a Job has no rollout to take down");
    }

    /// A server often restarts only `on-failure`: one that declares ports stays a Deployment.
    #[test]
    fn a_service_with_ports_and_a_restart_policy_that_ends_is_a_deployment() {
        let (app, diags) = lower_text("services:\n  web: {image: x:1, restart: on-failure, ports: ['8080:80']}\n");
        assert_eq!(kind(&app, "web"), WorkloadKind::Deployment);
        assert_eq!(
            messages(&diags, Code::RestartWithPorts),
            [
                "service `web` declares ports, so it runs as a Deployment, though `restart: on-failure` lets it end like a Job"
            ]
        );
        assert!(messages(&diags, Code::RestartPolicy).is_empty(), "said once: {diags:?}");
        let (app, diags) = lower_text(
            "services:\n  web: {image: x:1, restart: 'no', expose: ['80'], x-kompile: {kind: job}}\n  db: {image: x:1, restart: 'no', expose: ['5432'], volumes: ['data:/d']}\nvolumes:\n  data: {}\n",
        );
        assert_eq!(kind(&app, "web"), WorkloadKind::Job, "asked for");
        assert_eq!(kind(&app, "db"), WorkloadKind::StatefulSet, "a server with a volume of its own");
        assert_eq!(messages(&diags, Code::RestartWithPorts).len(), 1, "{diags:?}");
    }

    #[test]
    fn a_job_learns_no_ports() {
        let (app, diags) = lower_text(
            "services:\n  seed: {image: s:1, restart: 'no'}\n  app: {image: a:1, environment: {SEED: 'seed:9000'}}\n",
        );
        assert_eq!(kind(&app, "seed"), WorkloadKind::Job);
        assert!(service(&app, "seed").expose.is_empty() && !codes(&diags).contains(&Code::LearnedPort), "{diags:?}");
    }

    #[test]
    fn a_database_becomes_a_stateful_set_owning_its_claim() {
        let (app, diags) = lower_text(
            "services:\n  db:\n    image: postgres:16\n    expose: ['5432']\n    volumes: ['pgdata:/var/lib/postgresql/data']\nvolumes:\n  pgdata:\n    x-kompile: {size: 5Gi}\n",
        );
        let db = only_service(&app);
        let Workload::StatefulSet(set) = &db.workload else { panic!("{:?}", db.workload) };
        assert_eq!((set.k8s_name.as_str(), set.service_name.as_str()), ("db", "db-headless"));
        let template = &set.claim_templates[0];
        assert_eq!((template.k8s_name.as_str(), template.size), ("pgdata", Some(5 << 30)));
        assert_eq!(db.mounts[0].source, MountSource::ClaimTemplate { name: "pgdata".into() });
        assert!(app.volumes.is_empty(), "no claim of its own");
        assert!(!db.update.recreate);
        assert_eq!(
            messages(&diags, Code::StatefulSetClaim),
            [
                "volume `pgdata` of service `db` becomes StatefulSet `db`'s claim `pgdata-db-0`, no longer the claim `pgdata`"
            ]
        );
        assert_eq!(
            messages(&diags, Code::RolloutDowntime),
            ["service `db` runs one pod of StatefulSet `db`: each update stops `db-0` before its replacement starts"]
        );
        assert!(!diags.has_errors());
    }

    #[test]
    fn replicas_of_a_stateful_set_each_get_a_claim() {
        let (_, diags) = lower_text(
            "services:\n  db: {image: x:1, scale: 3, volumes: ['data:/d'], x-kompile: {kind: statefulset}}\nvolumes:\n  data: {}\n",
        );
        assert_eq!(
            messages(&diags, Code::StatefulSetClaim),
            [
                "volume `data` of service `db` becomes StatefulSet `db`'s claim `data-db-0` to `data-db-2`, one per pod (the replicas shared it in Compose), no longer the claim `data`"
            ]
        );
        assert!(messages(&diags, Code::SharedVolume).is_empty(), "no pod shares a claim");
        assert!(messages(&diags, Code::RolloutDowntime).is_empty(), "one pod at a time is replaced");
    }

    #[test]
    fn a_volume_services_share_keeps_them_deployments() {
        let (app, diags) = lower_text(
            "services:\n  a: {image: x:1, volumes: ['data:/d']}\n  b: {image: x:1, volumes: ['data:/d', 'own:/o']}\nvolumes:\n  data: {}\n  own: {}\n",
        );
        for name in ["a", "b"] {
            let s = service(&app, name);
            assert!(s.workload == Workload::Deployment && s.update.recreate, "{name}: {s:?}");
        }
        assert_eq!(app.volumes.iter().map(|v| v.k8s_name.as_str()).collect::<Vec<_>>(), ["data", "own"]);
        assert_eq!(
            messages(&diags, Code::SharedClaim),
            [
                "service `a` stays a Deployment: its ReadWriteOnce volume `data` is also mounted by `b`",
                "service `b` stays a Deployment: its ReadWriteOnce volume `data` is also mounted by `a`",
            ]
        );
        assert_eq!(messages(&diags, Code::RolloutDowntime).len(), 2);
        assert_eq!(messages(&diags, Code::SharedVolume).len(), 1);
    }

    /// In Compose the replicas share the volume: a StatefulSet would give each its own data.
    #[test]
    fn replicas_sharing_a_volume_keep_a_deployment() {
        let (app, diags) =
            lower_text("services:\n  cms: {image: x:1, scale: 2, volumes: ['content:/c']}\nvolumes:\n  content: {}\n");
        let cms = only_service(&app);
        assert!(cms.workload == Workload::Deployment && cms.update.recreate, "{cms:?}");
        assert_eq!(
            messages(&diags, Code::SharedClaim),
            ["service `cms` stays a Deployment: its 2 replicas share ReadWriteOnce volume `content`, as in Compose"]
        );
        assert_eq!(messages(&diags, Code::SharedVolume).len(), 1);
    }

    #[test]
    fn external_and_shared_volumes_are_claims_of_a_forced_stateful_set() {
        let (app, diags) = lower_text(
            "services:\n  a: {image: x:1, volumes: ['ext:/e', 'data:/d', 'many:/m'], x-kompile: {kind: statefulset}}\n  b: {image: x:1, volumes: ['data:/d']}\nvolumes:\n  ext: {external: true}\n  data: {}\n  many: {x-kompile: {access_mode: ReadWriteMany}}\n",
        );
        let Workload::StatefulSet(set) = &service(&app, "a").workload else { panic!() };
        assert!(set.claim_templates.is_empty(), "{set:?}");
        let sources: Vec<_> = service(&app, "a").mounts.iter().map(|m| m.source.clone()).collect();
        assert!(sources.iter().all(|s| matches!(s, MountSource::Volume { .. })), "{sources:?}");
        // `a` asked to be one; `b` would have been one, were `data` its own.
        assert_eq!(
            messages(&diags, Code::SharedClaim),
            ["service `b` stays a Deployment: its ReadWriteOnce volume `data` is also mounted by `a`"]
        );
        assert_eq!(kind(&app, "b"), WorkloadKind::Deployment);
    }

    #[test]
    fn a_stateful_set_names_its_pods_hosts() {
        let (app, diags) = lower_text(
            "services:\n  mq: {image: x:1, hostname: rabbit, expose: ['5672'], volumes: ['data:/d']}\nvolumes:\n  data: {}\n",
        );
        let mq = only_service(&app);
        assert_eq!((mq.hostname.as_deref(), mq.aliases.as_slice()), (None, &["rabbit".to_string()][..]));
        assert_eq!(
            messages(&diags, Code::IgnoredSetting),
            [
                "`hostname` of service `mq` has no effect on its pods: a StatefulSet names them `mq-0`, ... in the domain of `mq-headless`"
            ]
        );
    }

    /// A DaemonSet runs a pod on every node: a ReadWriteOnce claim is on one of them.
    #[test]
    fn a_daemon_set_sharing_a_claim_is_reported() {
        let (app, diags) = lower_text(
            "services:\n  agent: {image: x:1, deploy: {mode: global}, volumes: ['data:/d']}\nvolumes:\n  data: {}\n",
        );
        assert_eq!(kind(&app, "agent"), WorkloadKind::DaemonSet);
        assert_eq!(
            messages(&diags, Code::SharedVolume),
            ["ReadWriteOnce volume `data` is used by a pod on every node (agent)"]
        );
    }

    #[test]
    fn a_headless_name_another_service_has_is_a_collision() {
        let (_, diags) = lower_text(
            "services:\n  db: {image: x:1, volumes: ['data:/d']}\n  db-headless: {image: x:1, expose: ['80']}\nvolumes:\n  data: {}\n",
        );
        assert_eq!(
            messages(&diags, Code::NameCollision),
            ["the headless Service of `db` and the Service of `db-headless` are both named `db-headless`"]
        );
        assert!(diags.has_errors());
    }

    #[test]
    fn long_names_are_cut_for_cron_jobs_and_stateful_sets() {
        let name = "a".repeat(60);
        let (app, diags) =
            lower_text(&format!("services:\n  {name}: {{image: x:1, x-kompile: {{schedule: '@daily'}}}}\n"));
        let Workload::CronJob(cron) = &only_service(&app).workload else { panic!() };
        assert!(cron.k8s_name.len() <= 52 && cron.k8s_name.starts_with("aaaa"), "{}", cron.k8s_name);
        assert_eq!(only_service(&app).k8s_name, name, "pods and Service keep the name");
        assert_eq!(codes(&diags), [Code::NameChanged]);
        assert_eq!(super::headless_name(&name).len(), 63);
    }

    #[test]
    fn kompose_controller_types_are_read_as_the_kind() {
        let (app, diags) = lower_text("services:\n  a: {image: x:1, labels: {kompose.controller.type: daemonset}}\n");
        assert_eq!(kind(&app, "a"), WorkloadKind::DaemonSet);
        assert_eq!(
            messages(&diags, Code::KomposeLabel),
            ["label `kompose.controller.type: daemonset` of service `a` is read as `x-kompile.kind: daemonset`"]
        );
        let (_, diags) = lower_text("services:\n  a: {image: x:1, labels: {kompose.controller.type: pod}}\n");
        assert_eq!(codes(&diags), [Code::InvalidValue]);
    }
}
