//! Which kind of workload runs a service, as far as its compose keys and settings say: the
//! one home of these rules. `check` reads them (K118 asks no port of a service that runs to
//! completion) and so does `lower`, which builds the workload, reports what the choice
//! means, and makes a Deployment that mounts a ReadWriteOnce volume of its own a StatefulSet
//! (that needs every service's mounts, so it is not decided here).
//!
//! Most decisive first: `x-kompile.kind`, Kompose's `kompose.controller.type`, a schedule
//! (`x-kompile.schedule`, Kompose's `kompose.cronjob.schedule`), `deploy.mode`, a restart
//! policy that lets the container end (`restart: "no"`, `on-failure`, or
//! `deploy.restart_policy.condition` `none`/`on-failure`) on a service that declares no ports,
//! or another service waiting for it to complete (`service_completed_successfully`), else a
//! Deployment (a server, whatever its restart policy, when it declares ports).

use std::collections::BTreeMap;

use super::{Condition, Project, Service, Spanned};
use crate::diag::{Code, Diagnostic};
use crate::model::WorkloadKind;
use crate::source::Span;

/// Kompose's label for the kind of controller.
pub const KOMPOSE_KIND: &str = "kompose.controller.type";
/// Kompose's label that makes a CronJob.
pub const KOMPOSE_SCHEDULE: &str = "kompose.cronjob.schedule";

/// The rule that chose a service's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `x-kompile.kind`.
    Setting,
    /// Kompose's `kompose.controller.type` label.
    KomposeKind,
    /// `x-kompile.schedule`, else Kompose's `kompose.cronjob.schedule`.
    Schedule,
    /// `deploy.mode`: `global`, `replicated-job` or `global-job`.
    Mode,
    /// `deploy.restart_policy.condition`: `none` or `on-failure`.
    RestartPolicy,
    /// `restart`: `"no"` or `on-failure[:N]`.
    Restart,
    /// Another service waits for this one to complete (`service_completed_successfully`):
    /// the first that does, in file order.
    Completion { waiter: String },
    /// A restart policy that lets the container end (`restart`, or the condition when
    /// `condition` is true), on a service that declares ports: a server, so a Deployment.
    Serves { condition: bool },
    /// Nothing says otherwise.
    Default,
}

/// A service's kind, the rule that chose it, and where that rule's key is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub kind: WorkloadKind,
    pub rule: Rule,
    /// The key or value that decided; the service's name for [`Rule::Default`].
    pub span: Span,
}

impl Choice {
    /// Written for kompile (a setting, a Kompose label or a schedule), rather than implied by
    /// how Compose runs the service.
    pub fn is_written(&self) -> bool {
        matches!(self.rule, Rule::Setting | Rule::KomposeKind | Rule::Schedule)
    }

    /// What decided, for messages: ``restart: "no"``, `` `x-kompile.kind` ``, ...
    pub fn reason(&self, service: &Service) -> String {
        match &self.rule {
            Rule::Setting => "`x-kompile.kind`".to_string(),
            Rule::KomposeKind => format!("label `{KOMPOSE_KIND}`"),
            Rule::Schedule => "a schedule".to_string(),
            Rule::Mode => {
                format!("`deploy.mode: {}`", service.deploy.mode.as_ref().map_or("", |m| m.as_str()))
            }
            Rule::RestartPolicy | Rule::Serves { condition: true } => {
                let condition = service.deploy.restart_policy.as_ref().and_then(|p| p.condition.as_ref());
                format!("`deploy.restart_policy.condition: {}`", condition.map_or("", |c| c.as_str()))
            }
            Rule::Restart | Rule::Serves { condition: false } => {
                format!("`restart: {}`", quoted(service.restart.as_ref().map_or("", |r| r.as_str())))
            }
            Rule::Completion { waiter } => format!("`{waiter}` waiting for it to complete"),
            Rule::Default => "nothing else".to_string(),
        }
    }
}

/// `"no"` as Compose files must write it (a bare `no` is YAML's false).
fn quoted(restart: &str) -> String {
    if restart == "no" { "\"no\"".to_string() } else { restart.to_string() }
}

/// The services some other service waits for to complete (`depends_on` with condition
/// `service_completed_successfully`): by name, the first service that does (in file order) and
/// where it names it.
pub fn completion_waiters(project: &Project) -> BTreeMap<&str, (&str, Span)> {
    let mut waiters = BTreeMap::new();
    for service in &project.services {
        let waits = service.depends_on.iter().filter(|d| d.condition == Condition::CompletedSuccessfully);
        for dependency in waits.filter(|d| d.service.value != service.name.value) {
            waiters.entry(dependency.service.as_str()).or_insert((service.name.as_str(), dependency.service.span));
        }
    }
    waiters
}

/// The kind `service` runs as, but for the StatefulSet `lower` makes of a Deployment that
/// mounts a ReadWriteOnce volume of its own. `waiter`: the first service that waits for it to
/// complete (see [`completion_waiters`]).
pub fn choose(service: &Service, waiter: Option<(&str, Span)>) -> Choice {
    let choice = |kind, rule, span| Choice { kind, rule, span };
    if let Some(kind) = &service.settings.kind {
        return choice(kind.value, Rule::Setting, kind.span);
    }
    if let Some(kind) = kompose_kind_label(service) {
        return choice(kind.value, Rule::KomposeKind, kind.span);
    }
    if let Some(span) = service.settings.schedule.as_ref().map(|s| s.span).or(kompose_schedule_label(service)) {
        return choice(WorkloadKind::CronJob, Rule::Schedule, span);
    }
    if let Some((kind, span)) = mode(service) {
        return choice(kind, Rule::Mode, span);
    }
    let ends = ends(service);
    match (ends, waiter) {
        (Some((rule, span)), _) if !service.declares_ports() => choice(WorkloadKind::Job, rule, span),
        (_, Some((waiter, span))) => choice(WorkloadKind::Job, Rule::Completion { waiter: waiter.to_string() }, span),
        // Tasks rarely serve ports; servers often restart only `on-failure`.
        (Some((rule, span)), None) => {
            choice(WorkloadKind::Deployment, Rule::Serves { condition: rule == Rule::RestartPolicy }, span)
        }
        (None, None) => choice(WorkloadKind::Deployment, Rule::Default, service.name.span),
    }
}

/// Whether the service runs to completion (a Job or CronJob) rather than until stopped.
pub fn runs_to_completion(service: &Service, waiter: Option<(&str, Span)>) -> bool {
    choose(service, waiter).kind.runs_to_completion()
}

/// `deploy.mode`: `global` is one task per node, `*-job` a task that ends.
fn mode(service: &Service) -> Option<(WorkloadKind, Span)> {
    let mode = service.deploy.mode.as_ref()?;
    let kind = match mode.as_str() {
        "global" => WorkloadKind::DaemonSet,
        "replicated-job" | "global-job" => WorkloadKind::Job,
        _ => return None,
    };
    Some((kind, mode.span))
}

/// A restart policy that lets the container end: the rule and where it is written. Docker
/// Compose takes `deploy.restart_policy` over `restart` when it sets a condition.
fn ends(service: &Service) -> Option<(Rule, Span)> {
    let condition = service.deploy.restart_policy.as_ref().and_then(|p| p.condition.as_ref());
    if let Some(condition) = condition {
        let ends = matches!(condition.as_str(), "none" | "on-failure");
        return ends.then_some((Rule::RestartPolicy, condition.span));
    }
    let restart = service.restart.as_ref()?;
    let ends = restart.value == "no" || is_on_failure(restart);
    ends.then_some((Rule::Restart, restart.span))
}

/// `on-failure` or `on-failure:N`.
pub fn is_on_failure(restart: &str) -> bool {
    restart == "on-failure" || restart.starts_with("on-failure:")
}

/// The value of the service's label `key` (the last, as later labels win), with its key's span.
pub fn label<'a>(service: &'a Service, key: &str) -> Option<(&'a str, Span)> {
    service.labels.iter().rev().find(|(k, _)| k.value == key).map(|(k, v)| (v.as_str(), k.span))
}

/// `kompose.controller.type`, when it names a kind.
fn kompose_kind_label(service: &Service) -> Option<Spanned<WorkloadKind>> {
    let (value, span) = label(service, KOMPOSE_KIND)?;
    kompose_kind(value).map(|kind| Spanned::new(kind, span))
}

/// Where `kompose.cronjob.schedule` is written, when it is a valid schedule.
fn kompose_schedule_label(service: &Service) -> Option<Span> {
    let (value, span) = label(service, KOMPOSE_SCHEDULE)?;
    schedule_problem(value.trim()).is_none().then_some(span)
}

/// A kind as Kompose's `kompose.controller.type` names it, in any case. Kompose lists
/// `replicationcontroller`, whose successor is the Deployment, and makes no Jobs this way.
pub fn kompose_kind(value: &str) -> Option<WorkloadKind> {
    match value.trim().to_ascii_lowercase().as_str() {
        "deployment" | "replicationcontroller" => Some(WorkloadKind::Deployment),
        "daemonset" => Some(WorkloadKind::DaemonSet),
        "statefulset" => Some(WorkloadKind::StatefulSet),
        _ => None,
    }
}

/// The macros a CronJob's schedule may be.
pub const SCHEDULE_MACROS: &[&str] = &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// The fields of a cron schedule: name, lowest and highest value, and the names its values may
/// have (months and weekdays, counted from the lowest value).
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    ("month", 1, 12, &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    ("day of week", 0, 6, &["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
];

/// What is wrong with a CronJob schedule, as the controller's parser (robfig/cron's standard
/// one) would refuse it; `None` for five valid fields or one of [`SCHEDULE_MACROS`].
pub fn schedule_problem(schedule: &str) -> Option<String> {
    if let Some(every) = schedule.strip_prefix("@every ") {
        return (!is_go_duration(every.trim())).then(|| format!("`{every}` is not a duration such as `1h30m`"));
    }
    if schedule.starts_with('@') {
        return (!SCHEDULE_MACROS.contains(&schedule)).then(|| format!("`{schedule}` is not a schedule macro"));
    }
    if schedule.starts_with("TZ=") || schedule.starts_with("CRON_TZ=") {
        return Some("a time zone in the schedule is refused; use `x-kompile.time_zone`".to_string());
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("a schedule has 5 fields, this one {}", fields.len()));
    }
    FIELDS.iter().zip(fields).find_map(|(field, text)| field_problem(*field, text))
}

/// A duration as Go's `time.ParseDuration` reads it, which `@every` takes: numbers (with an
/// optional fraction) each followed by a unit, `ns`, `us`, `µs`, `ms`, `s`, `m` or `h`
/// (`90s`, `1h30m`, `1.5h`).
fn is_go_duration(text: &str) -> bool {
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    !text.is_empty()
}

/// A schedule the CronJob controller would refuse (K110); `what` names where it is written.
pub fn schedule_error(what: &str, schedule: &str, problem: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::InvalidValue, format!("{what} `{schedule}` is not a cron schedule: {problem}"))
        .at(span, "not a schedule")
        .help(format!(
            "write five fields, minute hour day-of-month month day-of-week (`*/15 * * * *`, `0 3 * * 1-5`), `@every 1h30m`, or one of `{}`",
            SCHEDULE_MACROS.join("`, `")
        ))
}

fn field_problem((name, low, high, names): (&str, u32, u32, &[&str]), text: &str) -> Option<String> {
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        if step.is_some_and(|s| s.parse::<u32>().map_or(true, |s| s == 0)) {
            return Some(format!("the {name} field `{text}` has a step that is not a positive number"));
        }
        if range == "*" || range == "?" {
            continue;
        }
        let value = |v: &str| {
            let named = names.iter().position(|n| n.eq_ignore_ascii_case(v)).map(|i| low + i as u32);
            named.or_else(|| v.parse::<u32>().ok()).filter(|n| (low..=high).contains(n))
        };
        let ends: Option<Vec<u32>> = range.split('-').map(value).collect();
        match ends.as_deref() {
            Some([_]) => {}
            Some([first, last]) if first <= last => {}
            _ => return Some(format!("the {name} field `{text}` is not within {low} to {high}")),
        }
    }
    None
}

/// An IANA time zone name as a CronJob's `timeZone` takes it (`UTC`, `Europe/Berlin`,
/// `America/Argentina/Buenos_Aires`), spelled exactly as the database spells it: the API
/// server loads it from its database, case-sensitively, and refuses `Local`. The database is
/// the one bundled into kompile (jiff's), never the machine's, so every machine agrees.
pub fn is_time_zone(zone: &str) -> bool {
    let found = jiff::tz::db().get(zone).ok();
    found.is_some_and(|tz| tz.iana_name() == Some(zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_five_fields_or_a_macro() {
        for good in [
            "*/5 * * * *",
            "0 3 * * 1-5",
            "15,45 0-23/2 1 jan,JUL sun",
            "0 0 ? * MON",
            "@daily",
            "@annually",
            "@every 1h30m",
            "@every 90s",
            "@every 1.5h",
        ] {
            assert_eq!(schedule_problem(good), None, "{good}");
        }
        let bad = [
            ("* * * *", "5 fields, this one 4"),
            ("60 * * * *", "minute field"),
            ("* * 0 * *", "day of month field"),
            ("* * * 13 *", "month field"),
            ("* * * * 7", "day of week field"),
            ("5-1 * * * *", "minute field"),
            ("*/0 * * * *", "step"),
            ("@every 5x", "duration"),
            ("@every", "not a schedule macro"),
            ("@every 1h30", "duration"),
            ("TZ=UTC 0 * * * *", "time zone"),
            ("a * * * *", "minute field"),
        ];
        for (schedule, problem) in bad {
            let found = schedule_problem(schedule).unwrap_or_default();
            assert!(found.contains(problem), "{schedule}: {found}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        for good in ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+2"] {
            assert!(is_time_zone(good), "{good}");
        }
        for bad in
            ["", "/UTC", "Europe//Berlin", "../etc/passwd", "UTC ", "+01:00", "Mars/Olympus", "Local", "europe/berlin"]
        {
            assert!(!is_time_zone(bad), "{bad}");
        }
    }

    #[test]
    fn kompose_kinds_in_any_case() {
        assert_eq!(kompose_kind(" DaemonSet "), Some(WorkloadKind::DaemonSet));
        assert_eq!(kompose_kind("replicationcontroller"), Some(WorkloadKind::Deployment));
        assert_eq!(kompose_kind("job"), None, "Kompose makes no Jobs from this label");
    }
}
