//! `depends_on` on `kompile apply`: workloads go out in dependency order, each wave only once
//! what it needs is ready (a Job: complete), against the stand-in API server. The binary is
//! run on compose projects; Jobs and StatefulSets, which compose projects do not yet become,
//! are applied from hand-written manifests through the library, as the binary would.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use kompile::cluster::apply::{self, PruneOptions, Report};
use kompile::cluster::plan::{self, ApplySet, Manifest};
use kompile::cluster::wait::{Display, Waiting};
use kompile::cluster::{Settings, kubeconfig};
use kompile::diag::Code;
use kompile::source::Sources;

use crate::cluster::snapshot;
use crate::support::standin::StandIn;
use crate::support::{self, Run};

const TOKEN: &str = "order-token";

fn kompile_apply(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    support::kompile(dir).args(["apply", "--poll-interval", "10ms"]).args(args).env("KUBECONFIG", kubeconfig).run()
}

/// Where in the stand-in's request log the first line starting with `prefix` is.
fn first(log: &[String], prefix: &str) -> usize {
    log.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {log:#?}"))
}

fn count_between(log: &[String], from: usize, to: usize, prefix: &str) -> usize {
    log[from..to].iter().filter(|l| l.starts_with(prefix)).count()
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

const SHOP: &str = "name: shop
services:
  db:
    image: postgres:16.4
    expose: ['5432']
    healthcheck: {test: [CMD, pg_isready]}
  cache:
    image: redis:7.4
    expose: ['6379']
  web:
    image: nginx:1.27
    ports: ['8080:80']
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
";

#[test]
fn dependents_are_applied_once_their_dependencies_are_ready() {
    let server = StandIn::start();
    server.require_token(TOKEN);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = server.kubeconfig(dir.path(), TOKEN);
    std::fs::write(dir.path().join("compose.yaml"), SHOP).expect("compose written");
    let run = kompile_apply(dir.path(), &kubeconfig, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = server.log();
    let (db, cache, web) = (
        first(&log, &format!("PATCH {DEPLOYMENTS}/db?")),
        first(&log, &format!("PATCH {DEPLOYMENTS}/cache?")),
        first(&log, &format!("PATCH {DEPLOYMENTS}/web?")),
    );
    assert!(db < web && cache < web, "{log:#?}");
    // The stand-in's Deployments are ready on the second look: web went out after both.
    assert!(count_between(&log, db, web, &format!("GET {DEPLOYMENTS}/db")) >= 2, "{log:#?}");
    assert!(count_between(&log, cache, web, &format!("GET {DEPLOYMENTS}/cache")) >= 2, "{log:#?}");
    // The pods wait too (init containers), for plain `kubectl apply` and Argo CD.
    let web = server.get("deployments", "default", "web").expect("web exists");
    assert_eq!(web["metadata"]["annotations"]["kompile.dev/depends-on"], "db=healthy,cache=started");
    let init = &web["spec"]["template"]["spec"]["initContainers"];
    let names: Vec<&str> = init.as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["wait-for-db", "wait-for-cache"]);
    assert_eq!(
        init[0]["command"].as_array().map(|c| c[4..].to_vec()),
        Some(vec![json!("db"), json!("5432"), json!("db")])
    );

    // Without waiting, the order holds but nothing is waited for.
    server.clear_log();
    let again = kompile_apply(dir.path(), &kubeconfig, &["--no-wait"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let log = server.log();
    assert!(first(&log, &format!("PATCH {DEPLOYMENTS}/db?")) < first(&log, &format!("PATCH {DEPLOYMENTS}/web?")));
    assert!(!log.iter().any(|l| l.starts_with(&format!("GET {DEPLOYMENTS}/"))), "{log:#?}");
}

#[test]
fn a_dependency_that_fails_holds_its_dependents_back() {
    let server = StandIn::start();
    server.require_token(TOKEN);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = server.kubeconfig(dir.path(), TOKEN);
    std::fs::write(dir.path().join("compose.yaml"), SHOP.replace("postgres:16.4", "example/crashloop:1")).unwrap();
    let run = kompile_apply(dir.path(), &kubeconfig, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(server.get("deployments", "default", "web").is_none(), "web waited for db, which never got ready");
    assert!(server.get("deployments", "default", "cache").is_some());
    assert!(run.stderr.contains("CrashLoopBackOff"), "{}", run.stderr);
    assert!(run.stderr.contains("K418"), "{}", run.stderr);
    assert!(run.stderr.contains("Deployment default/web"), "{}", run.stderr);
    let diagnostics: String = run.stderr.lines().skip_while(|l| !l.starts_with("K4")).collect::<Vec<_>>().join("\n");
    snapshot("K418", &diagnostics);
}

/// The library's `apply` on hand-written manifests, as `kompile apply` runs it.
struct InProcess {
    server: StandIn,
    _dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    set: ApplySet,
}

impl InProcess {
    fn new() -> InProcess {
        let server = StandIn::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.kubeconfig(dir.path(), TOKEN);
        InProcess { server, _dir: dir, kubeconfig, set: ApplySet::new("shop", "default") }
    }

    fn apply(&self, bodies: &[Value], wait: bool) -> Report {
        let manifests: Vec<Manifest> = bodies
            .iter()
            .map(|body| {
                let mut body = body.clone();
                body["metadata"]["labels"][plan::PART_OF] = json!(self.set.id);
                plan::manifest(body)
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let config = kubeconfig::load(Some(&self.kubeconfig)).expect("kubeconfig");
            let selection = kubeconfig::select(&config, None).expect("context");
            let cluster = kubeconfig::connect(config, &selection, Some("default")).await.expect("connected");
            let settings = Settings {
                field_manager: "kompile".into(),
                force_conflicts: false,
                adopt: false,
                dry_run: false,
                concurrency: 4,
            };
            let waiting = Waiting {
                timeout: Duration::from_secs(20),
                interval: Duration::from_millis(10),
                display: Display { live: false },
                start: Instant::now(),
                concurrency: 4,
            };
            let mut lines = Vec::new();
            let mut print = |line: String| lines.push(line);
            let ordered = wait.then_some(&waiting);
            apply::apply(&cluster, &self.set, &manifests, &settings, PruneOptions::default(), ordered, &mut print).await
        })
    }
}

fn pod_template(name: &str, image: &str, restart: &str) -> Value {
    json!({"metadata": {"labels": {"app.kubernetes.io/name": name}},
        "spec": {"restartPolicy": restart, "containers": [{"name": name, "image": image}]}})
}

fn stateful_set(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default", "annotations": {"kompile.dev/service": name}},
        "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": pod_template(name, image, "Always")}})
}

fn job(name: &str, image: &str, depends_on: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "default",
            "annotations": {"kompile.dev/service": name, "kompile.dev/depends-on": depends_on}},
        "spec": {"backoffLimit": 6, "template": pod_template(name, image, "Never")}})
}

fn deployment(name: &str, image: &str, depends_on: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default",
            "annotations": {"kompile.dev/service": name, "kompile.dev/depends-on": depends_on}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": pod_template(name, image, "Always")}})
}

fn project(migrate_image: &str) -> Vec<Value> {
    vec![
        stateful_set("db", "postgres:16.4"),
        job("migrate", migrate_image, "db=healthy"),
        deployment("web", "nginx:1.27", "db=healthy,migrate=completed"),
    ]
}

fn rendered(report: &Report) -> String {
    let sources = Sources::default();
    report.diagnostics.iter().map(|d| kompile::diag::render::short(d, &sources)).collect::<Vec<_>>().join("\n")
}

/// db (a StatefulSet) ready, then the migration Job complete, then web.
#[test]
fn a_migration_job_completes_before_the_web_server_starts() {
    let p = InProcess::new();
    let report = p.apply(&project("example/migrate:1"), true);
    assert!(!report.failed, "{}", rendered(&report));
    let log = p.server.log();
    let db = first(&log, "PATCH /apis/apps/v1/namespaces/default/statefulsets/db?");
    let migrate = first(&log, "PATCH /apis/batch/v1/namespaces/default/jobs/migrate?");
    let web = first(&log, &format!("PATCH {DEPLOYMENTS}/web?"));
    assert!(db < migrate && migrate < web, "{log:#?}");
    assert!(count_between(&log, db, migrate, "GET /apis/apps/v1/namespaces/default/statefulsets/db") >= 2, "{log:#?}");
    assert!(count_between(&log, migrate, web, "GET /apis/batch/v1/namespaces/default/jobs/migrate") >= 2, "{log:#?}");
    let job = p.server.get("jobs", "default", "migrate").expect("migrate exists");
    assert_eq!(job["status"]["conditions"][1]["type"], "Complete");
}

#[test]
fn a_failed_job_holds_back_what_depends_on_it_with_the_reason() {
    let p = InProcess::new();
    let report = p.apply(&project("example/failjob:1"), true);
    assert!(report.failed);
    assert!(p.server.get("deployments", "default", "web").is_none(), "web was not applied");
    let text = rendered(&report);
    assert!(text.contains("K410") && text.contains("did not complete"), "{text}");
    assert!(text.contains("BackoffLimitExceeded: Job has reached the specified backoff limit"), "{text}");
    assert!(text.contains("exited with code 1"), "{text}");
    assert!(text.contains("K418") && text.contains("Deployment default/web"), "{text}");
}

/// A Job's template cannot change: a finished one is replaced, a running one refused.
#[test]
fn changed_jobs_are_replaced_when_finished_and_refused_while_running() {
    let p = InProcess::new();
    assert!(!p.apply(&project("example/migrate:1"), true).failed);
    p.server.clear_log();
    let report = p.apply(&project("example/migrate:2"), true);
    assert!(!report.failed, "{}", rendered(&report));
    let log = p.server.log();
    let deleted = first(&log, "DELETE /apis/batch/v1/namespaces/default/jobs/migrate");
    let created = log.iter().rposition(|l| l.starts_with("PATCH /apis/batch/v1/namespaces/default/jobs/migrate?"));
    assert!(created.is_some_and(|c| c > deleted), "{log:#?}");
    let job = p.server.get("jobs", "default", "migrate").expect("migrate exists");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["image"], "example/migrate:2");
    assert!(report.diagnostics.iter().any(|d| d.code == Code::JobReplaced));
    snapshot("K417", &rendered(&report));

    // A Job still running is left alone.
    assert!(!p.apply(&project("example/stall:1"), false).failed);
    let report = p.apply(&project("example/stall:2"), false);
    assert!(report.failed);
    let text = rendered(&report);
    assert!(text.contains("K416") && text.contains("still running"), "{text}");
    let job = p.server.get("jobs", "default", "migrate").expect("migrate exists");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["image"], "example/stall:1");
    snapshot("K416", &text);
}
