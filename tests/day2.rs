//! `kompile status` and `kompile down` end to end: the real binary against the stand-in API
//! server, on projects `kompile apply` put there. Waits are driven by the stand-in's request
//! counts (a workload is ready on its second GET, a deleted object held for N GETs), never by
//! time.

use std::path::Path;

use serde_json::{Value, json};

use crate::cluster::{Fixture, snapshot};
use crate::support::standin::StandIn;
use crate::support::{self, Run};

/// `day2`'s own steps on [`Fixture`].
impl Fixture {
    fn run(&self, args: &[&str]) -> Run {
        kompile(self.dir.path(), &self.kubeconfig, args)
    }

    /// `kompile apply ARGS`, which must succeed.
    fn applied(&self, args: &[&str]) {
        let run = self.run(&[&["apply", "--poll-interval", "10ms"], args].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    fn down(&self, args: &[&str]) -> Run {
        self.run(&[&["down", "--poll-interval", "10ms"], args].concat())
    }

    fn exists(&self, plural: &str, name: &str) -> bool {
        self.server.get(plural, "default", name).is_some()
    }
}

fn kompile(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    support::kompile(dir).args(args).env("KUBECONFIG", kubeconfig).run()
}

/// Where in the stand-in's request log the first line starting with `prefix` is.
fn first(log: &[String], prefix: &str) -> usize {
    log.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {log:#?}"))
}

fn last(log: &[String], prefix: &str) -> usize {
    log.iter().rposition(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in {log:#?}"))
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const STATEFULSETS: &str = "/apis/apps/v1/namespaces/default/statefulsets";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const CLAIMS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";

const SIMPLE: &str = "name: shop
services:
  web:
    image: nginx:1.27
    ports: ['8080:80']
  api:
    image: example/api:2.1
    expose: ['8000']
";

#[test]
fn status_of_a_healthy_project_is_one_ready_line_per_workload() {
    let f = Fixture::new(SIMPLE);
    f.applied(&[]);
    // The cloud's load balancer controller gives the published Service an address.
    f.server.set_status(
        "services",
        "default",
        "web-published",
        json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}),
    );
    let run = f.run(&["status"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line per workload:\n{}", run.stdout);
    assert!(lines[0].starts_with("KIND") && lines[0].contains("READY") && lines[0].contains("IMAGE"));
    let line = |name: &str| lines.iter().find(|l| l.split_whitespace().nth(1) == Some(name)).copied().unwrap_or("");
    let web: Vec<&str> = line("web").split_whitespace().collect();
    assert_eq!(web[..4], ["Deployment", "web", "1/1", "nginx:1.27"], "{}", run.stdout);
    assert!(line("web").contains("192.0.2.10:8080"), "{}", run.stdout);
    assert!(line("web").contains("ready"), "{}", run.stdout);
    assert!(line("api").contains("1/1") && line("api").contains("example/api:2.1"), "{}", run.stdout);

    let json = f.run(&["status", "-o", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).expect("status -o json is JSON");
    assert_eq!(doc["ready"], true);
    assert_eq!(doc["namespace"], "default");
    assert_eq!(doc["applyset"]["parent"], "kompile-applyset-shop");
    let workloads = doc["workloads"].as_array().expect("workloads");
    assert_eq!(workloads.len(), 2);
    let web = workloads.iter().find(|w| w["name"] == "web").expect("web");
    for field in [
        "kind",
        "namespace",
        "service",
        "ready",
        "state",
        "reason",
        "ready_replicas",
        "desired_replicas",
        "image",
        "tag",
        "created",
        "age_seconds",
        "addresses",
        "pods",
    ] {
        assert!(web.get(field).is_some(), "no `{field}` in {web}");
    }
    assert_eq!((web["ready_replicas"].as_i64(), web["desired_replicas"].as_i64()), (Some(1), Some(1)));
    assert_eq!(web["tag"], "1.27");
    assert_eq!(web["state"], "ready");
    assert_eq!(web["addresses"], json!(["192.0.2.10:8080"]));
    assert_eq!(web["service"], "web");
}

#[test]
fn status_of_a_crashing_workload_exits_1_with_the_reason() {
    let f = Fixture::new(&SIMPLE.replace("example/api:2.1", "example/crashloop:1"));
    f.applied(&["--no-wait"]);
    let run = f.run(&["status"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let api = run.stdout.lines().find(|l| l.contains(" api ")).unwrap_or_default();
    assert!(api.contains("0/1") && api.contains("example/crashloop:1"), "{}", run.stdout);
    assert!(api.contains("CrashLoopBackOff"), "{}", run.stdout);
    let web = run.stdout.lines().find(|l| l.contains(" web ")).unwrap_or_default();
    assert!(web.contains("1/1") || web.contains("waiting"), "{}", run.stdout);

    let json = f.run(&["status", "-o", "json"]);
    assert_eq!(json.code, 1, "{}", json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["ready"], false);
    let api = doc["workloads"].as_array().into_iter().flatten().find(|w| w["name"] == "api").expect("api");
    assert_eq!(api["ready"], false);
    assert_ne!(api["state"], "ready");
    assert!(api["pods"].to_string().contains("CrashLoopBackOff"), "{api}");
}

#[test]
fn status_names_pull_and_scheduling_failures() {
    let compose =
        SIMPLE.replace("nginx:1.27", "example/pullfail:1").replace("example/api:2.1", "example/unschedulable:1");
    let f = Fixture::new(&compose);
    f.applied(&["--no-wait"]);
    let run = f.run(&["status"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line =
        |name: &str| run.stdout.lines().find(|l| l.contains(&format!(" {name} "))).unwrap_or_default().to_string();
    assert!(line("web").contains("ImagePullBackOff"), "{}", run.stdout);
    assert!(line("api").contains("cannot be scheduled (Unschedulable)"), "{}", run.stdout);
}

#[test]
fn status_and_down_of_a_project_never_applied_say_so() {
    let f = Fixture::new(SIMPLE);
    let run = f.run(&["status"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("never applied to namespace `default`"), "{}", run.stderr);
    let diagnostics: String = run.stderr.lines().skip_while(|l| !l.starts_with("K4")).collect::<Vec<_>>().join("\n");
    snapshot("K419", &diagnostics);
    let down = f.down(&["--yes"]);
    assert_eq!(down.code, 3, "{}", down.stderr);
    assert!(down.stderr.contains("K419"), "{}", down.stderr);
    assert!(!f.server.log().iter().any(|l| l.starts_with("DELETE")));
}

/// A database (a StatefulSet with a claim template), a cache and a web server that depends on
/// both, sharing a volume claim with the cache; a config.
const SHOP: &str = "name: shop
services:
  db:
    image: postgres:16.4
    expose: ['5432']
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck: {test: [CMD, pg_isready]}
  cache:
    image: redis:7.4
    expose: ['6379']
    volumes: [shared:/data]
  web:
    image: nginx:1.27
    ports: ['8080:80']
    configs: [site]
    volumes: [shared:/srv]
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
configs:
  site:
    content: hello
volumes:
  pgdata:
  shared:
";

/// Objects in the same namespace that are not the project's: one with a name the project
/// uses (a ConfigMap `web`), one of another ApplySet, one of no set, and a claim named like
/// the database's claim but not the StatefulSet's.
fn add_foreign(server: &StandIn) {
    let objects = [
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "default"},
            "data": {"owner": "someone else"}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "legacy", "namespace": "default",
            "labels": {"applyset.kubernetes.io/part-of": "applyset-other-v1"}}, "spec": {"ports": [{"port": 80}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "other"}}, "template": {"metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "other", "image": "nginx:1.27"}]}}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "pgdata-db-7", "namespace": "default",
            "labels": {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "kubectl"}},
            "spec": {"accessModes": ["ReadWriteOnce"]}}),
    ];
    for object in objects {
        server.apply_as("kubectl", object, false).expect("foreign object applied");
    }
}

fn assert_foreign_survive(f: &Fixture) {
    for (plural, name) in [
        ("configmaps", "web"),
        ("services", "legacy"),
        ("deployments", "other"),
        ("persistentvolumeclaims", "pgdata-db-7"),
    ] {
        assert!(f.exists(plural, name), "{plural}/{name} is not the project's and must survive");
    }
    let log = f.server.log();
    for doomed in
        [format!("DELETE {CONFIGMAPS}/web"), format!("DELETE {SERVICES}/legacy"), format!("DELETE {DEPLOYMENTS}/other")]
    {
        assert!(!log.iter().any(|l| l.starts_with(&doomed)), "{doomed} sent: {log:#?}");
    }
}

#[test]
fn down_deletes_in_reverse_dependency_order_and_only_the_project() {
    let f = Fixture::new(SHOP);
    f.applied(&[]);
    assert!(f.exists("persistentvolumeclaims", "pgdata-db-0"), "the StatefulSet made its claim");
    let status = f.run(&["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let db = status.stdout.lines().find(|l| l.starts_with("StatefulSet")).unwrap_or_default();
    assert_eq!(db.split_whitespace().take(4).collect::<Vec<_>>(), ["StatefulSet", "db", "1/1", "postgres:16.4"]);
    assert_eq!(status.stdout.lines().count(), 4, "db, cache, web and a header: {}", status.stdout);
    add_foreign(&f.server);
    // Every deleted object is held by a finalizer for 3 GETs: `down` must wait for each batch.
    f.server.hold_deletes(3);
    f.server.clear_log();

    let run = f.down(&["--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = f.server.log();
    let deletes: Vec<&String> = log.iter().filter(|l| l.starts_with("DELETE")).collect();
    let (web, db, cache) = (
        first(&log, &format!("DELETE {DEPLOYMENTS}/web")),
        first(&log, &format!("DELETE {STATEFULSETS}/db")),
        first(&log, &format!("DELETE {DEPLOYMENTS}/cache")),
    );
    // web depends on db and cache: it goes first, and is gone before they are deleted.
    assert!(web < db && web < cache, "{deletes:#?}");
    let web_gone = log[web..db.min(cache)].iter().filter(|l| l.starts_with(&format!("GET {DEPLOYMENTS}/web"))).count();
    assert!(web_gone >= 3, "web was waited for until gone: {log:#?}");
    // Then the Services, then the config, each after every workload is gone.
    let last_workload = db.max(cache);
    let services = first(&log, &format!("DELETE {SERVICES}/"));
    assert!(last_workload < services, "{deletes:#?}");
    assert!(
        last(&log, &format!("DELETE {SERVICES}/")) < first(&log, &format!("DELETE {CONFIGMAPS}/site")),
        "{deletes:#?}"
    );
    for name in ["web", "cache", "db", "db-headless", "web-published"] {
        assert!(log.iter().any(|l| l.starts_with(&format!("DELETE {SERVICES}/{name}"))), "{name}: {deletes:#?}");
    }
    assert!(!f.exists("deployments", "web") && !f.exists("statefulsets", "db") && !f.exists("services", "db"));
    assert!(!f.exists("configmaps", "site"));
    assert!(run.stdout.contains("Deployment default/web deleted"), "{}", run.stdout);
    assert!(run.stdout.contains("deleted 9 (ConfigMap 1, Deployment 2, Service 5, StatefulSet 1)"), "{}", run.stdout);

    // Claims (the project's and the StatefulSet's) survive without --volumes, and so does the
    // parent that still knows the project's claim.
    assert!(!deletes.iter().any(|l| l.starts_with(&format!("DELETE {CLAIMS}"))), "{deletes:#?}");
    assert!(f.exists("persistentvolumeclaims", "shared") && f.exists("persistentvolumeclaims", "pgdata-db-0"));
    assert!(f.exists("configmaps", "kompile-applyset-shop"));
    assert!(
        run.stderr.contains("K411") && run.stderr.contains("kept 2 volume claims: shared, pgdata-db-0"),
        "{}",
        run.stderr
    );
    assert_foreign_survive(&f);

    // With --volumes the claims go, then the parent, last.
    f.server.clear_log();
    let run = f.down(&["--yes", "--volumes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = f.server.log();
    assert!(!f.exists("persistentvolumeclaims", "shared") && !f.exists("persistentvolumeclaims", "pgdata-db-0"));
    assert!(!f.exists("configmaps", "kompile-applyset-shop"), "the parent is gone at the end");
    let parent = first(&log, &format!("DELETE {CONFIGMAPS}/kompile-applyset-shop"));
    assert_eq!(parent, last(&log, "DELETE"), "{log:#?}");
    assert!(first(&log, &format!("DELETE {CLAIMS}/pgdata-db-0")) < parent);
    assert_foreign_survive(&f);

    // Nothing is left to take down.
    let again = f.down(&["--yes"]);
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(again.stderr.contains("K419"), "{}", again.stderr);
}

#[test]
fn a_member_that_changed_hands_before_its_delete_survives() {
    let f = Fixture::new(SIMPLE);
    f.applied(&[]);
    // Another tool takes the Service over right as `down` reads it before deleting it.
    f.server.relabel_on_get("services", "default", "api", json!({"app": "api"}));
    let run = f.down(&["--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(f.exists("services", "api"), "no longer the project's: kept");
    assert!(!f.exists("deployments", "api") && !f.exists("services", "web"));
    assert!(run.stderr.contains("K411") && run.stderr.contains("Service default/api"), "{}", run.stderr);
    // The parent stays, so a later `down` looks at what is left.
    assert!(f.exists("configmaps", "kompile-applyset-shop"));
    let again = f.down(&["--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(f.exists("services", "api"));
    assert!(!f.exists("configmaps", "kompile-applyset-shop"));
}

#[test]
fn down_without_yes_and_without_a_terminal_deletes_nothing() {
    let f = Fixture::new(SIMPLE);
    f.applied(&[]);
    f.server.clear_log();
    let run = f.down(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("standard input is not a terminal"), "{}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(!f.server.log().iter().any(|l| l.starts_with("DELETE")), "{:#?}", f.server.log());
    assert!(f.exists("deployments", "web") && f.exists("configmaps", "kompile-applyset-shop"));
    let diagnostics: String = run.stderr.lines().skip_while(|l| !l.starts_with("K4")).collect::<Vec<_>>().join("\n");
    snapshot("K420", &diagnostics);
}

#[test]
fn down_asks_on_a_terminal() {
    if !support::script_found() {
        return;
    }
    let f = Fixture::new(SIMPLE);
    f.applied(&[]);
    // Through `script`, kompile's standard input, output and error are all the terminal.
    let ask = |answer: &str| {
        let output = support::kompile(f.dir.path())
            .args(["down", "--poll-interval", "10ms"])
            .env("KUBECONFIG", &f.kubeconfig)
            .on_terminal()
            .stdin(answer)
            .output();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (code, text) = ask("n\n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("Delete 6 objects from namespace `default` (context `standin`)? [y/N]"), "{text}");
    assert!(text.contains("K420") && text.contains("was not confirmed"), "{text}");
    assert!(f.exists("deployments", "web"), "answered no: nothing deleted");
    f.server.hold_deletes(2);
    let (code, text) = ask("y\n");
    assert_eq!(code, Some(0), "{text}");
    // Waiting for the deletions is shown as apply's waits are: lines redrawn in place.
    assert!(text.contains("✓ Deployment default/web: deleted"), "{text}");
    assert!(text.contains("being deleted, held by finalizers"), "{text}");
    assert!(!f.exists("deployments", "web") && !f.exists("configmaps", "kompile-applyset-shop"));
}

#[test]
fn down_dry_run_lists_what_would_go_and_deletes_nothing() {
    let f = Fixture::new(SHOP);
    f.applied(&[]);
    f.server.clear_log();
    let run = f.down(&["--dry-run=server", "--volumes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for what in [
        "Deployment default/web",
        "StatefulSet default/db",
        "Service default/web-published",
        "ConfigMap default/site",
        "PersistentVolumeClaim default/shared",
        "PersistentVolumeClaim default/pgdata-db-0",
        "ConfigMap default/kompile-applyset-shop",
    ] {
        assert!(run.stdout.contains(&format!("{what} would be deleted")), "{what}: {}", run.stdout);
    }
    assert!(run.stdout.contains("(dry run: nothing was deleted)"), "{}", run.stdout);
    let log = f.server.log();
    let deletes: Vec<&String> = log.iter().filter(|l| l.starts_with("DELETE")).collect();
    assert!(!deletes.is_empty(), "the server was asked: {log:#?}");
    assert!(deletes.iter().all(|l| l.ends_with("(body: dryRun=All)")), "{deletes:#?}");
    for (plural, name) in [
        ("deployments", "web"),
        ("statefulsets", "db"),
        ("services", "web"),
        ("configmaps", "site"),
        ("persistentvolumeclaims", "shared"),
        ("persistentvolumeclaims", "pgdata-db-0"),
        ("configmaps", "kompile-applyset-shop"),
    ] {
        assert!(f.exists(plural, name), "{plural}/{name} survived the dry run");
    }
}

#[test]
fn an_object_that_does_not_go_stops_down_before_what_it_depends_on() {
    let f = Fixture::new(SHOP);
    f.applied(&[]);
    f.server.hold_forever("deployments", "default", "web");
    let run = f.down(&["--yes", "--volumes", "--timeout", "1s"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("K421"), "{}", run.stderr);
    // web never went, so what it depends on stays.
    assert!(
        f.exists("statefulsets", "db")
            && f.exists("deployments", "cache")
            && f.exists("configmaps", "kompile-applyset-shop")
    );
    let diagnostics: String = run.stderr.lines().skip_while(|l| !l.starts_with("K4")).collect::<Vec<_>>().join("\n");
    snapshot("K421", &diagnostics);
}

/// Every kind kompile makes goes, the PodDisruptionBudget and HorizontalPodAutoscaler too,
/// after the workload they are about.
#[test]
fn down_deletes_every_kind_kompile_makes() {
    let f = Fixture::new(
        "name: shop
services:
  web:
    image: nginx:1.27
    ports: ['8080:80']
    deploy:
      replicas: 2
      resources: {reservations: {cpus: '0.1'}}
    x-kompile:
      autoscale: {max: 4}
",
    );
    f.applied(&[]);
    assert!(f.exists("poddisruptionbudgets", "web") && f.exists("horizontalpodautoscalers", "web"));
    f.server.clear_log();
    let run = f.down(&["--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!f.exists("poddisruptionbudgets", "web") && !f.exists("horizontalpodautoscalers", "web"));
    assert!(!f.exists("deployments", "web") && !f.exists("configmaps", "kompile-applyset-shop"));
    let log = f.server.log();
    let workload = first(&log, &format!("DELETE {DEPLOYMENTS}/web"));
    assert!(workload < first(&log, "DELETE /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web"));
    assert!(workload < first(&log, "DELETE /apis/policy/v1/namespaces/default/poddisruptionbudgets/web"));
}
