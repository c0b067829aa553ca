//! `kompile apply` and `kompile diff` end to end: the real binary against the in-process
//! stand-in API server (tests/support/standin), through a generated kubeconfig.

use std::path::Path;

use serde_json::json;

use crate::support::standin::StandIn;
use crate::support::{self, Run};

const TOKEN: &str = "test-token";

fn run(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    run_with(dir, kubeconfig, args, &[])
}

fn run_with(dir: &Path, kubeconfig: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = support::kompile(dir).args(args);
    if args.first() == Some(&"apply") {
        command = command.args(["--poll-interval", "10ms"]);
    }
    command.env("KUBECONFIG", kubeconfig).envs(env.iter().copied()).run()
}

/// `kompile diff ARGS...` (run_with adds `--poll-interval` only to `apply`, which diff lacks).
fn diff(dir: &Path, kubeconfig: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let args: Vec<&str> = std::iter::once("diff").chain(args.iter().copied()).collect();
    run_with(dir, kubeconfig, &args, env)
}

/// Snapshots a run's stderr as `snapshots/cluster-<ID>.snap`, with what changes from run to
/// run (temp dirs, the stand-in's port, times, durations, generated names) replaced.
pub fn snapshot(id: &str, stderr: &str) {
    assert!(stderr.contains(id), "{id} not raised: {stderr}");
    let filters = vec![
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TEMP]"),
        (r"127\.0\.0\.1:\d{4,5}", "127.0.0.1:[PORT]"),
        (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
    ];
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => filters}, {
        insta::assert_snapshot!(format!("cluster-{id}"), stderr);
    });
}

/// A stand-in API server with a kubeconfig for it and a project directory (also `day2`'s).
pub(crate) struct Fixture {
    pub(crate) server: StandIn,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) kubeconfig: std::path::PathBuf,
}

impl Fixture {
    pub(crate) fn new(compose: &str) -> Fixture {
        let server = StandIn::start();
        server.require_token(TOKEN);
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.kubeconfig(dir.path(), TOKEN);
        let fixture = Fixture { server, dir, kubeconfig };
        fixture.write(compose);
        fixture
    }

    fn write(&self, compose: &str) {
        std::fs::write(self.dir.path().join("compose.yaml"), compose).expect("compose written");
    }

    fn apply(&self, args: &[&str]) -> Run {
        let mut all = vec!["apply"];
        all.extend_from_slice(args);
        run(self.dir.path(), &self.kubeconfig, &all)
    }

    fn diff(&self, args: &[&str]) -> Run {
        diff(self.dir.path(), &self.kubeconfig, args, &[])
    }
}

const SHOP: &str = "name: shop
services:
  web:
    image: nginx:1.27
    ports: ['8080:80']
  api:
    image: example/api:1.0
    environment:
      MODE: production
";

#[test]
fn apply_creates_waits_and_is_idempotent() {
    let f = Fixture::new(SHOP);
    let first = f.apply(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("Deployment default/web created"), "{}", first.stdout);
    assert!(first.stdout.contains("Service default/web created"));
    assert!(first.stdout.contains("created 4 (Deployment 2, Service 2), changed 0"), "{}", first.stdout);
    assert!(first.stderr.contains("Deployment default/web: ready"), "{}", first.stderr);

    // Every member carries the ApplySet label, fields are owned by `kompile`, and the parent
    // records what the set contains.
    let web = f.server.get("deployments", "default", "web").expect("web exists");
    let id = web["metadata"]["labels"]["applyset.kubernetes.io/part-of"].as_str().expect("part-of label").to_string();
    assert!(id.starts_with("applyset-") && id.ends_with("-v1"));
    assert_eq!(web["metadata"]["managedFields"][0]["manager"], "kompile");
    let parent = f.server.get("configmaps", "default", "kompile-applyset-shop").expect("parent exists");
    assert_eq!(parent["metadata"]["labels"]["applyset.kubernetes.io/id"], id.as_str());
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "Deployment.apps,Service"
    );

    let second = f.apply(&["--no-wait"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.stdout.contains("created 0, changed 0, unchanged 4 (Deployment 2, Service 2), pruned 0"),
        "{}",
        second.stdout
    );
    // Discovery, not hard-coded paths; applies are server-side with the field manager.
    let log = f.server.log();
    assert!(log.iter().any(|l| l == "GET /apis"), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("PATCH /apis/apps/v1/namespaces/default/deployments/web?")
        && l.contains("fieldManager=kompile")));
}

#[test]
fn diff_shows_changes_creations_and_exit_codes() {
    let f = Fixture::new(SHOP);
    let before = f.diff(&[]);
    assert_eq!(before.code, 1, "{}", before.stderr);
    assert!(before.stdout.contains("=== created Deployment default/web (apps/v1)"), "{}", before.stdout);
    assert!(before.stdout.ends_with("4 created, 0 changed, 0 deleted, 0 unchanged\n"), "{}", before.stdout);
    assert!(f.server.get("deployments", "default", "web").is_none(), "diff persisted nothing");

    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    let same = f.diff(&[]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    assert_eq!(same.stdout, "0 created, 0 changed, 0 deleted, 4 unchanged\n");

    f.write(&SHOP.replace("nginx:1.27", "nginx:1.28"));
    let changed = f.diff(&[]);
    assert_eq!(changed.code, 1);
    assert!(changed.stdout.contains("=== changed Deployment default/web (apps/v1)"), "{}", changed.stdout);
    assert!(changed.stdout.contains("-      - image: nginx:1.27\n+      - image: nginx:1.28\n"), "{}", changed.stdout);
    assert!(!changed.stdout.contains("resourceVersion") && !changed.stdout.contains("managedFields"));

    let json = f.diff(&["--format", "json"]);
    assert_eq!(json.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(doc["changed"], 1);
    assert_eq!(doc["objects"][0]["kind"], "Deployment");
}

#[test]
fn secrets_are_masked_unless_asked() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    secrets: [token]\nsecrets:\n  token:\n    environment: TOKEN\n",
    );
    let masked = diff(f.dir.path(), &f.kubeconfig, &[], &[("TOKEN", "hunter2")]);
    assert_eq!(masked.code, 1, "{}", masked.stderr);
    assert!(masked.stdout.contains("=== created Secret default/"), "{}", masked.stdout);
    assert!(masked.stdout.contains("***") && !masked.stdout.contains("aHVudGVyMg"), "{}", masked.stdout);
    let shown = diff(f.dir.path(), &f.kubeconfig, &["--show-secrets"], &[("TOKEN", "hunter2")]);
    assert!(shown.stdout.contains("aHVudGVyMg"), "{}", shown.stdout);
}

/// NetworkPolicies are applied through discovery like every kind (another API group), are
/// recorded in the ApplySet, and pruned when the project stops using networks.
#[test]
fn network_policies_are_applied_and_pruned() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    networks: [front]\n  db:\n    image: postgres:16.4\n    networks: [back]\nnetworks:\n  front: {}\n  back: {}\n",
    );
    let applied = f.apply(&["--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(applied.stdout.contains("NetworkPolicy default/web created"), "{}", applied.stdout);
    let policy = f.server.get("networkpolicies", "default", "db").expect("db's policy exists");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "db");
    let parent = f.server.get("configmaps", "default", "kompile-applyset-shop").expect("parent exists");
    let kinds =
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"].as_str().unwrap_or_default();
    assert!(kinds.contains("NetworkPolicy.networking.k8s.io"), "{kinds}");

    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n  db:\n    image: postgres:16.4\n");
    let pruned = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(pruned.stdout.contains("NetworkPolicy default/db pruned"), "{}", pruned.stdout);
    assert!(f.server.names("networkpolicies").is_empty());
}

#[test]
fn ingresses_are_applied_after_services_and_pruned_when_gone() {
    let ingress = "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n    x-kompile: {ingress: {host: shop.example.com}}\n";
    let f = Fixture::new(ingress);
    let applied = f.apply(&["--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let ingress = f.server.get("ingresses", "default", "web").expect("the Ingress exists");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "shop.example.com");
    assert!(f.server.get("services", "default", "web-published").is_none(), "an Ingress instead of a LoadBalancer");
    let log = f.server.log();
    let at =
        |prefix: &str| log.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}: {log:?}"));
    assert!(
        at("PATCH /api/v1/namespaces/default/services/web?")
            < at("PATCH /apis/apps/v1/namespaces/default/deployments/web?")
    );
    assert!(at("PATCH /apis/networking.k8s.io/v1/namespaces/default/ingresses/web?") < at("PATCH /apis/apps/v1/"));

    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n");
    let pruned = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(pruned.stdout.contains("Ingress default/web pruned"), "{}", pruned.stdout);
    assert!(f.server.get("ingresses", "default", "web").is_none());
    assert!(f.server.get("services", "default", "web-published").is_some());
}

/// Every kind of workload is applied, after the Services and Secrets its pods use: a
/// StatefulSet after its headless Service.
#[test]
fn every_kind_of_workload_is_applied() {
    let f = Fixture::new(
        "name: shop\nservices:\n  db: {image: postgres:16.4, expose: ['5432'], volumes: ['data:/d']}\n  migrate: {image: m:1, restart: 'no'}\n  agent: {image: a:1, deploy: {mode: global}}\n  backup: {image: b:1, x-kompile: {schedule: '@daily'}}\nvolumes:\n  data: {}\n",
    );
    let applied = f.apply(&["--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let made = [
        ("services", "db-headless"),
        ("statefulsets", "db"),
        ("jobs", "migrate"),
        ("daemonsets", "agent"),
        ("cronjobs", "backup"),
    ];
    for (plural, name) in made {
        assert!(f.server.get(plural, "default", name).is_some(), "{plural}/{name}: {}", applied.stdout);
    }
    assert!(f.server.get("persistentvolumeclaims", "default", "data").is_none(), "the StatefulSet makes its claim");
    let log = f.server.log();
    let at =
        |prefix: &str| log.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}: {log:?}"));
    assert!(
        at("PATCH /api/v1/namespaces/default/services/db-headless?")
            < at("PATCH /apis/apps/v1/namespaces/default/statefulsets/db?")
    );
}

#[test]
fn prune_deletes_only_this_projects_removed_objects_and_keeps_volumes() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: nginx:1.27\n  worker:\n    image: example/worker:1.0\n    volumes: ['data:/data']\n    x-kompile: {kind: deployment}\nvolumes:\n  data: {}\n",
    );
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    // An object of another ApplySet, and one of no set, that prune must never touch.
    let foreign = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other", "namespace": "default",
        "labels": {"applyset.kubernetes.io/part-of": "applyset-someone-else-v1"}}, "spec": {"replicas": 1}});
    f.server.apply_as("kubectl", foreign, false).expect("foreign object applied");

    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n");
    let preview = f.diff(&["--prune"]);
    assert!(preview.stdout.contains("=== deleted Deployment default/worker"), "{}", preview.stdout);
    assert!(!preview.stdout.contains("PersistentVolumeClaim"), "{}", preview.stdout);

    let dry = f.apply(&["--no-wait", "--prune", "--dry-run=server"]);
    assert!(dry.stdout.contains("Deployment default/worker pruned"), "{}", dry.stdout);
    assert!(f.server.get("deployments", "default", "worker").is_some(), "a dry-run delete deletes nothing");

    let without = f.apply(&["--no-wait"]);
    assert!(without.stdout.contains("pruned 0"), "{}", without.stdout);
    assert!(f.server.get("deployments", "default", "worker").is_some());

    let pruned = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(pruned.stdout.contains("Deployment default/worker pruned"), "{}", pruned.stdout);
    assert!(f.server.get("deployments", "default", "worker").is_none());
    assert!(f.server.get("deployments", "default", "other").is_some(), "another set's object survives");
    assert!(pruned.stderr.contains("K411") && pruned.stderr.contains("kept 1 volume claim that"), "{}", pruned.stderr);
    snapshot("K411", &pruned.stderr);
    assert_eq!(f.server.names("persistentvolumeclaims").len(), 1);

    let volumes = f.apply(&["--no-wait", "--prune", "--prune-volumes"]);
    assert_eq!(volumes.code, 0, "{}", volumes.stderr);
    assert!(volumes.stdout.contains("pruned 1 (PersistentVolumeClaim 1)"), "{}", volumes.stdout);
    assert!(f.server.names("persistentvolumeclaims").is_empty());
}

#[test]
fn nothing_is_pruned_when_an_apply_fails_and_rejections_point_at_the_service() {
    let f = Fixture::new(SHOP);
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    f.write(&SHOP.replace("  api:\n    image: example/api:1.0\n    environment:\n      MODE: production\n", ""));
    f.server.reject(
        "Deployment",
        "web",
        "spec.template.spec.containers[0].image",
        "Invalid value: \"nginx:1.27\": not allowed here",
    );
    let failed = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    assert!(failed.stderr.contains("K407"), "{}", failed.stderr);
    assert!(failed.stderr.contains("from compose service `web`"));
    assert!(failed.stderr.contains("compose.yaml:4:5"), "points at the image line: {}", failed.stderr);
    assert!(
        failed.stderr.contains("`image` here became `spec.template.spec.containers[0].image`"),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("nothing was pruned"), "{}", failed.stderr);
    snapshot("K407", &failed.stderr);
    assert!(f.server.get("deployments", "default", "api").is_some());
}

#[test]
fn conflicts_list_the_other_manager_and_force_takes_over() {
    let f = Fixture::new(SHOP);
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    let scale = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 3}});
    f.server.apply_as("kubectl", scale, true).expect("scaled by kubectl");
    let conflict = f.apply(&["--no-wait"]);
    assert_eq!(conflict.code, 3);
    assert!(conflict.stderr.contains("K406"), "{}", conflict.stderr);
    assert!(conflict.stderr.contains(".spec.replicas is managed by `kubectl`"), "{}", conflict.stderr);
    assert!(conflict.stderr.contains("--force-conflicts"));
    snapshot("K406", &conflict.stderr);
    let preview = f.diff(&[]);
    assert!(preview.stdout.contains("conflict: another manager owns .spec.replicas"), "{}", preview.stdout);
    let forced = f.apply(&["--no-wait", "--force-conflicts"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(f.server.get("deployments", "default", "web").expect("web")["spec"]["replicas"], 1);
}

#[test]
fn dry_run_changes_nothing() {
    let f = Fixture::new(SHOP);
    let dry = f.apply(&["--dry-run=server"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("(dry run: nothing was changed)"), "{}", dry.stdout);
    assert!(f.server.get("deployments", "default", "web").is_none());
    assert!(f.server.get("configmaps", "default", "kompile-applyset-shop").is_none());
    assert!(f.server.log().iter().filter(|l| l.starts_with("PATCH")).all(|l| l.contains("dryRun=All")));
}

#[test]
fn failed_rollouts_explain_themselves() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: example/crashloop:1\n  cache:\n    image: example/pullfail:1\n  big:\n    image: example/unschedulable:1\n",
    );
    let failed = f.apply(&[]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    let err = &failed.stderr;
    assert!(err.contains("K410"), "{err}");
    assert!(err.contains("ProgressDeadlineExceeded"), "{err}");
    assert!(
        err.contains("CrashLoopBackOff")
            && err.contains("last exit code 1")
            && err.contains("Back-off restarting failed container"),
        "{err}"
    );
    assert!(err.contains("kubectl logs -n default web-"), "{err}");
    assert!(err.contains("ImagePullBackOff") && err.contains("Failed to pull image"), "{err}");
    assert!(err.contains("cannot be scheduled") && err.contains("Insufficient memory"), "{err}");
    // The progress lines before the diagnostics come from concurrent waits, in any order.
    let diagnostics = err.find("K410(").map_or(err.as_str(), |at| &err[at..]);
    snapshot("K410", diagnostics);
}

#[test]
fn rollouts_time_out() {
    let f = Fixture::new("name: shop\nservices:\n  web:\n    image: example/stall:1\n");
    let slow = f.apply(&["--timeout", "300ms"]);
    assert_eq!(slow.code, 3);
    assert!(
        slow.stderr.contains("not ready after 0s") || slow.stderr.contains("did not become ready"),
        "{}",
        slow.stderr
    );
}

#[test]
fn transient_failures_are_retried_then_reported() {
    let f = Fixture::new(SHOP);
    f.server.fail_next(&[503, 429]);
    let ok = f.apply(&["--no-wait"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    f.server.fail_next(&[503; 12]);
    let down = f.apply(&["--no-wait"]);
    assert_eq!(down.code, 3);
    assert!(down.stderr.contains("K408"), "{}", down.stderr);
    snapshot("K408", &down.stderr);
}

#[test]
fn credentials_problems_are_named_and_never_printed() {
    let f = Fixture::new(SHOP);
    let wrong = f.server.kubeconfig(f.dir.path(), "wrong-secret-token");
    let denied = run(f.dir.path(), &wrong, &["apply"]);
    assert_eq!(denied.code, 3);
    assert!(denied.stderr.contains("K403") && denied.stderr.contains("user `tester`"), "{}", denied.stderr);
    assert!(!denied.stderr.contains("wrong-secret-token") && !denied.stdout.contains("wrong-secret-token"));
    snapshot("K403", &denied.stderr);

    // An expired JWT is refused before any request.
    f.server.clear_log();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
    let expired = f.server.kubeconfig(f.dir.path(), jwt);
    let refused = run(f.dir.path(), &expired, &["apply"]);
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("K405") && refused.stderr.contains("expired at 2023-11-14T22:13:20Z"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(jwt));
    snapshot("K405", &refused.stderr);
    assert!(f.server.log().is_empty(), "no request was sent");

    let config = f.server.kubeconfig(f.dir.path(), TOKEN);
    f.server.forbid("delete");
    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n");
    assert_eq!(run(f.dir.path(), &config, &["apply", "--no-wait"]).code, 0);
    f.write("name: shop\nservices:\n  api:\n    image: example/api:1.0\n");
    let forbidden = run(f.dir.path(), &config, &["apply", "--no-wait", "--prune"]);
    assert_eq!(forbidden.code, 3);
    assert!(
        forbidden.stderr.contains("K404") && forbidden.stderr.contains("may not delete Deployment"),
        "{}",
        forbidden.stderr
    );
    snapshot("K404", &forbidden.stderr);
}

#[test]
fn kubeconfig_problems() {
    let f = Fixture::new(SHOP);
    let unknown = run(f.dir.path(), &f.kubeconfig, &["apply", "--context", "standinn"]);
    assert_eq!(unknown.code, 3);
    assert!(
        unknown.stderr.contains("K401") && unknown.stderr.contains("did you mean `standin`?"),
        "{}",
        unknown.stderr
    );
    snapshot("K401", &unknown.stderr);
    let missing = run(f.dir.path(), &f.dir.path().join("nope"), &["apply"]);
    assert!(missing.stderr.contains("K400"), "{}", missing.stderr);
    snapshot("K400", &missing.stderr);
    // Without a kubeconfig the project's own errors still come first, as input errors.
    let broken = Fixture::new("services:\n  a: {image: 'nginx:1.27', ports: ['99999:1']}\n");
    for command in ["apply", "diff", "status", "down"] {
        let run = run(broken.dir.path(), &broken.dir.path().join("nope"), &[command]);
        assert!(run.stderr.contains("K102") && !run.stderr.contains("K400"), "{command}: {}", run.stderr);
        assert_eq!(run.code, if matches!(command, "diff" | "status") { 2 } else { 1 }, "{command}: {}", run.stderr);
    }
    let unreachable = f.dir.path().join("down");
    std::fs::write(
        &unreachable,
        std::fs::read_to_string(&f.kubeconfig).expect("read").replace(&f.server.addr.to_string(), "127.0.0.1:9"),
    )
    .expect("write");
    let down = run(f.dir.path(), &unreachable, &["diff"]);
    assert_eq!(down.code, 3);
    assert!(
        down.stderr.contains("K402") && down.stderr.contains("http://127.0.0.1:9") && down.stderr.contains("`standin`"),
        "{}",
        down.stderr
    );
    snapshot("K402", &down.stderr);
}

#[test]
fn namespaces_are_created_first() {
    let f = Fixture::new(SHOP);
    let applied = f.apply(&["--no-wait", "-n", "prod"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(applied.stdout.starts_with("Namespace prod created\n"), "{}", applied.stdout);
    assert!(f.server.get("deployments", "prod", "web").is_some());
}

#[test]
fn new_namespaces_in_dry_runs_and_diffs() {
    let f = Fixture::new(SHOP);
    let preview = f.diff(&["-n", "fresh"]);
    assert_eq!(preview.code, 1, "{}", preview.stderr);
    assert!(preview.stdout.starts_with("=== created Namespace fresh (v1)"), "{}", preview.stdout);
    assert!(preview.stdout.contains("note: namespace `fresh` does not exist yet"), "{}", preview.stdout);
    let dry = f.apply(&["--dry-run=server", "-n", "fresh"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("Deployment fresh/web created"), "{}", dry.stdout);
    assert!(f.server.get("namespaces", "", "fresh").is_none());
}

#[test]
fn fields_dropped_from_the_compose_file_are_removed() {
    let f = Fixture::new(SHOP);
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    let env = |f: &Fixture| {
        f.server.get("deployments", "default", "api").expect("api")["spec"]["template"]["spec"]["containers"][0]["env"]
            .clone()
    };
    assert_eq!(env(&f)[0]["name"], "MODE");
    f.write(&SHOP.replace("    environment:\n      MODE: production\n", ""));
    let changed = f.apply(&["--no-wait"]);
    assert!(changed.stdout.contains("Deployment default/api changed"), "{}", changed.stdout);
    assert!(env(&f).is_null(), "env removed: {}", env(&f));
}

#[test]
fn external_diff_gets_two_directories() {
    let f = Fixture::new(SHOP);
    let out = diff(f.dir.path(), &f.kubeconfig, &[], &[("KOMPILE_EXTERNAL_DIFF", "ls")]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("apps.v1.Deployment.default.web"), "{}", out.stdout);
}

#[test]
fn a_missing_external_diff_program_is_named() {
    let f = Fixture::new(SHOP);
    let out = diff(f.dir.path(), &f.kubeconfig, &[], &[("KOMPILE_EXTERNAL_DIFF", "no-such-diff-program -u")]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("no-such-diff-program"), "{}", out.stderr);
    snapshot("K412", &out.stderr);
}

#[test]
fn objects_after_a_failed_step_are_left_unapplied() {
    let f = Fixture::new(SHOP);
    f.server.reject("Service", "web", "spec.ports[0].port", "Invalid value: 8080: not allowed here");
    let failed = f.apply(&["--no-wait"]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    assert!(failed.stderr.contains("K407"), "{}", failed.stderr);
    assert!(failed.stderr.contains("2 objects were not applied because an earlier step failed"), "{}", failed.stderr);
    assert!(f.server.get("deployments", "default", "web").is_none(), "no workload went out before its service");
    snapshot("K409", &failed.stderr);
}

/// The benchmark in the README: `cargo test --release --test cluster -- --ignored --nocapture
/// benchmark`. 1,000 services (2,000 objects) against the stand-in with 2 ms of latency per
/// request, as a nearby API server would have.
#[test]
#[ignore = "benchmark; run explicitly"]
fn benchmark_thousand_services() {
    let mut compose = String::from("name: big\nservices:\n");
    for i in 0..1000 {
        compose.push_str(&format!("  svc{i:04}:\n    image: example/app:1.0\n    ports: ['{}:80']\n", 10000 + i));
    }
    let f = Fixture::new(&compose);
    f.server.set_latency(std::time::Duration::from_millis(
        std::env::var("BENCH_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2),
    ));
    let measure = |label: &str, args: &[&str], is_diff: bool| {
        f.server.clear_log();
        let (server_before, client_before) = cpu_ticks();
        let start = std::time::Instant::now();
        let out = if is_diff { f.diff(args) } else { f.apply(args) };
        let elapsed = start.elapsed();
        let (server_after, client_after) = cpu_ticks();
        assert!(out.code <= 1, "{}", out.stderr);
        if !args.contains(&"1") {
            assert!(f.server.max_in_flight() > 1, "requests are sent concurrently");
        }
        let requests = f.server.log().len();
        println!(
            "BENCH {label}: {:.2}s, {requests} requests, at most {} in flight; CPU: kompile {:.2}s, stand-in {:.2}s",
            elapsed.as_secs_f64(),
            f.server.max_in_flight(),
            (client_after - client_before) as f64 / 100.0,
            (server_after - server_before) as f64 / 100.0,
        );
    };
    measure("diff (nothing live)", &[], true);
    measure("apply (create + wait)", &[], false);
    measure("apply again (unchanged, no wait)", &["--no-wait"], false);
    measure("diff (no changes)", &[], true);
    measure("apply again, one request at a time", &["--no-wait", "--concurrency", "1"], false);
}

/// `(this process, its waited-for children)` CPU time in clock ticks (1/100 s on Linux), from
/// /proc/self/stat: the stand-in runs in this process, kompile in a child.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> =
        stat.rsplit(')').next().unwrap_or_default().split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // After the command name: state is not numeric, so utime.. are at 10..14 of the rest.
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    (get(10) + get(11), get(12) + get(13))
}

/// One raw HTTP/1.1 request to the stand-in: `(status, body)`.
fn raw(server: &StandIn, method: &str, path: &str, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).expect("connects");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// The stand-in's own contract, as the research notes captured it from a real API server.
#[test]
fn stand_in_answers_like_the_api_server() {
    let server = StandIn::start();
    server.require_token(TOKEN);
    let apply = "application/apply-patch+yaml";
    let path = "/api/v1/namespaces/default/configmaps/c";
    let object = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1","b":"2"}}"#;

    let (code, body) = raw(&server, "PATCH", path, apply, object);
    assert_eq!((code, body["kind"].as_str()), (422, Some("Status")), "no fieldManager: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("fieldManager: Required value"));

    let with = |q: &str| format!("{path}?{q}");
    let (code, created) = raw(&server, "PATCH", &with("fieldManager=a"), apply, object);
    assert_eq!(code, 201);
    assert_eq!(created["metadata"]["resourceVersion"], "2");
    assert_eq!(created["metadata"]["managedFields"][0]["fieldsV1"], json!({"f:data": {"f:a": {}, "f:b": {}}}));
    let (code, same) = raw(&server, "PATCH", &with("fieldManager=a"), apply, object);
    assert_eq!((code, &same["metadata"]["resourceVersion"]), (200, &json!("2")), "a no-op keeps the version");

    let other = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"9"}}"#;
    let (code, conflict) = raw(&server, "PATCH", &with("fieldManager=b"), apply, other);
    assert_eq!(code, 409);
    assert_eq!(conflict["message"], "Apply failed with 1 conflict: conflict with \"a\": .data.a");
    assert_eq!(
        conflict["details"]["causes"][0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"a\"", "field": ".data.a"})
    );
    let (code, dry) = raw(&server, "PATCH", &with("fieldManager=b&force=true&dryRun=All"), apply, other);
    assert_eq!((code, &dry["data"]["a"]), (200, &json!("9")));
    assert_eq!(server.get("configmaps", "default", "c").expect("c")["data"]["a"], "1", "dry run persisted nothing");

    let only_a = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}"#;
    let (_, dropped) = raw(&server, "PATCH", &with("fieldManager=a"), apply, only_a);
    assert_eq!(dropped["data"], json!({"a": "1"}), "b was dropped by its only manager");
    assert_eq!(dropped["metadata"]["resourceVersion"], "3");

    let mut with_fields: serde_json::Value = serde_json::from_str(object).expect("json");
    with_fields["metadata"]["managedFields"] = json!([]);
    let (code, bad) = raw(&server, "PATCH", &with("fieldManager=a"), apply, &with_fields.to_string());
    assert_eq!((code, bad["message"].as_str()), (400, Some("metadata.managedFields must be nil")));

    let (code, list) = raw(&server, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=x%3Dy", "", "");
    assert_eq!(
        (code, list["kind"].as_str(), list["items"].as_array().map(Vec::len)),
        (200, Some("ConfigMapList"), Some(0))
    );

    let (code, _) = raw(&server, "DELETE", path, "application/json", r#"{"dryRun":["All"]}"#);
    assert_eq!(code, 200);
    assert!(server.get("configmaps", "default", "c").is_some(), "dryRun in the body is honoured");
    let stale = r#"{"preconditions":{"uid":"00000000-0000-4000-8000-000000000999"}}"#;
    let (code, refused) = raw(&server, "DELETE", path, "application/json", stale);
    assert_eq!((code, refused["reason"].as_str()), (409, Some("Conflict")), "{refused}");
    assert!(refused["message"].as_str().unwrap_or_default().starts_with("Precondition failed: UID in precondition"));
    assert!(server.get("configmaps", "default", "c").is_some(), "a failed precondition deletes nothing");
    let (code, gone) = raw(&server, "DELETE", path, "application/json", r#"{"propagationPolicy":"Background"}"#);
    assert_eq!((code, gone["status"].as_str()), (200, Some("Success")));
    let (code, missing) = raw(&server, "GET", path, "", "");
    assert_eq!((code, missing["code"].as_u64(), missing["reason"].as_str()), (404, Some(404), Some("NotFound")));
    assert_eq!(missing["message"], "configmaps \"c\" not found");
}

/// On a terminal, waiting redraws one line per workload in place (checked through `script`,
/// which gives kompile a pseudo-terminal; skipped where it is missing).
#[test]
fn live_progress_on_a_terminal() {
    if !support::script_found() {
        return;
    }
    let f = Fixture::new(SHOP);
    let output = support::kompile(f.dir.path())
        .args(["apply", "--poll-interval", "10ms", "--kubeconfig"])
        .arg(&f.kubeconfig)
        .on_terminal()
        .output();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("\x1b[2A"), "moves up over the two workload lines: {text:?}");
    assert!(text.contains("✓ Deployment default/web: ready"), "{text}");
}

const PART_OF: &str = "applyset.kubernetes.io/part-of";

fn project(name: &str) -> String {
    format!(
        "name: {name}\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n    volumes: ['data:/data']\n    x-kompile: {{kind: deployment}}\nvolumes:\n  data: {{}}\n"
    )
}

fn label(f: &Fixture, plural: &str, name: &str) -> serde_json::Value {
    f.server.get(plural, "default", name).unwrap_or_else(|| panic!("{plural}/{name} exists"))["metadata"]["labels"]
        [PART_OF]
        .clone()
}

/// Two projects in one namespace with the same service and volume: the second neither
/// relabels nor prunes the first's objects unless told to `--adopt` them.
#[test]
fn projects_do_not_take_over_each_others_objects() {
    let f = Fixture::new(&project("alpha"));
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    let alpha = label(&f, "deployments", "web");

    f.write(&project("beta"));
    f.server.clear_log();
    let refused = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("K413"), "{}", refused.stderr);
    assert!(refused.stderr.contains("Deployment default/web (from compose service `web`)"), "{}", refused.stderr);
    assert!(refused.stderr.contains("compose project `alpha`"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--adopt"), "{}", refused.stderr);
    snapshot("K413", &refused.stderr);
    assert!(!f.server.log().iter().any(|l| l.starts_with("PATCH") || l.starts_with("DELETE")), "nothing was sent");
    for plural in ["deployments", "services", "persistentvolumeclaims"] {
        let name = if plural == "persistentvolumeclaims" { "data" } else { "web" };
        assert_eq!(label(&f, plural, name), alpha, "{plural} still alpha's");
    }

    let volumes = f.apply(&["--no-wait", "--prune", "--prune-volumes"]);
    assert_eq!(volumes.code, 3, "{}", volumes.stderr);
    assert!(f.server.get("persistentvolumeclaims", "default", "data").is_some(), "alpha's data survives");

    let preview = f.diff(&["--prune"]);
    assert_eq!(preview.code, 3, "{}", preview.stderr);
    assert!(
        preview.stderr.contains("K413") && preview.stderr.contains("compose project `alpha`"),
        "{}",
        preview.stderr
    );

    let adopted = f.apply(&["--no-wait", "--adopt"]);
    assert_eq!(adopted.code, 0, "{}", adopted.stderr);
    assert_ne!(label(&f, "deployments", "web"), alpha, "taken over by beta");
    assert_eq!(f.diff(&[]).code, 0, "beta's own now");
}

#[test]
fn objects_another_tool_created_are_refused() {
    let f = Fixture::new(SHOP);
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"ports": [{"port": 80}]}});
    f.server.apply_as("kubectl", service, false).expect("created by kubectl");
    let refused = f.apply(&["--no-wait"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Service default/web") && refused.stderr.contains("managed by `kubectl`"),
        "{}",
        refused.stderr
    );
    assert!(f.server.get("deployments", "default", "web").is_none(), "nothing was applied");
    let preview = f.diff(&[]);
    assert!(preview.code == 3 && preview.stderr.contains("managed by `kubectl`"), "{}", preview.stderr);
    // A near miss: the same names in another namespace are no one's, and go through.
    assert_eq!(f.apply(&["--no-wait", "-n", "other"]).code, 0);
}

#[test]
fn prune_checks_each_object_again_before_deleting_it() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: nginx:1.27\n  worker:\n    image: example/worker:1.0\n  cron:\n    image: example/cron:1.0\n",
    );
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n");
    // Between the listing and the delete, another project takes `worker` and something
    // writes to `cron`.
    f.server.relabel_on_get("deployments", "default", "worker", json!({PART_OF: "applyset-someone-else-v1"}));
    f.server.touch_after_get("deployments", "default", "cron");
    let pruned = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(pruned.stdout.contains("pruned 0"), "{}", pruned.stdout);
    assert!(pruned.stderr.contains("K411"), "{}", pruned.stderr);
    assert!(pruned.stderr.contains("Deployment default/worker: it belongs to ApplySet applyset-someone-else-v1"));
    assert!(pruned.stderr.contains("Deployment default/cron: it was changed while being pruned"), "{}", pruned.stderr);
    assert!(f.server.get("deployments", "default", "worker").is_some());
    assert!(f.server.get("deployments", "default", "cron").is_some());

    let again = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("Deployment default/cron pruned"), "{}", again.stdout);
    assert!(f.server.get("deployments", "default", "worker").is_some(), "another set's object is never pruned");
}

#[test]
fn answers_that_are_not_the_object_are_failures() {
    let f = Fixture::new(SHOP);
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    f.write(&SHOP.replace("nginx:1.27", "nginx:1.28"));
    f.server.garble("PATCH", "<html><body>Welcome</body></html>");
    let html = f.apply(&["--no-wait"]);
    assert_eq!(html.code, 3, "{}", html.stderr);
    assert!(html.stderr.contains("K414") && html.stderr.contains("not JSON"), "{}", html.stderr);
    assert!(!html.stdout.contains("changed"), "{}", html.stdout);
    snapshot("K414", &html.stderr);

    f.server.garble("PATCH", "{}");
    let empty = f.apply(&["--no-wait"]);
    assert_eq!(empty.code, 3, "{}", empty.stderr);
    assert!(empty.stderr.contains("empty JSON object"), "{}", empty.stderr);

    // Deletes: a removed service whose delete is answered with `{}` is not reported pruned.
    f.server.garble("DELETE", "{}");
    f.write("name: shop\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n");
    let pruned = f.apply(&["--no-wait", "--prune"]);
    assert_eq!(pruned.code, 3, "{}", pruned.stderr);
    assert!(pruned.stderr.contains("K414") && pruned.stderr.contains("was not deleted"), "{}", pruned.stderr);
    assert!(!pruned.stdout.contains("api pruned"), "{}", pruned.stdout);
}

#[test]
fn secret_values_in_last_applied_annotations_are_masked() {
    let f = Fixture::new(
        "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    secrets: [token]\nsecrets:\n  token:\n    environment: TOKEN\n",
    );
    // As `kubectl apply` (client-side) leaves a Secret: the values again in the annotation.
    let last = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"token"},"data":{"token":"b2xkLXNlY3JldA=="}}"#;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "default",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
        "data": {"token": "b2xkLXNlY3JldA=="}});
    f.server.apply_as("kubectl", secret, false).expect("secret created");
    let env = [("TOKEN", "hunter2")];
    let leaks = |text: &str| text.contains("b2xkLXNlY3JldA") || text.contains("aHVudGVyMg");
    let human = diff(f.dir.path(), &f.kubeconfig, &["--adopt"], &env);
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(human.stdout.contains("last-applied-configuration: \"***\""), "{}", human.stdout);
    assert!(!leaks(&human.stdout), "{}", human.stdout);
    let json = diff(f.dir.path(), &f.kubeconfig, &["--adopt", "--format", "json"], &env);
    assert!(json.stdout.contains("\"kubectl.kubernetes.io/last-applied-configuration\": \"***\""), "{}", json.stdout);
    assert!(!leaks(&json.stdout), "{}", json.stdout);
    let external = [("TOKEN", "hunter2"), ("KOMPILE_EXTERNAL_DIFF", "grep -r last-applied")];
    let external = diff(f.dir.path(), &f.kubeconfig, &["--adopt"], &external);
    assert!(external.stdout.contains("last-applied-configuration: \"***\""), "{}", external.stdout);
    assert!(!leaks(&external.stdout), "{}", external.stdout);
    let shown = diff(f.dir.path(), &f.kubeconfig, &["--adopt", "--show-secrets"], &env);
    assert!(shown.stdout.contains("b2xkLXNlY3JldA"), "{}", shown.stdout);
}

/// A kubeconfig for `server` with `cluster` and `user` lines added, in `dir`.
fn custom_kubeconfig(dir: &Path, server: &str, cluster: &str, user: &str) -> std::path::PathBuf {
    let path = dir.join("custom-kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: standin\nclusters:\n- name: standin\n  cluster:\n    server: {server}\n{cluster}\
         contexts:\n- name: standin\n  context:\n    cluster: standin\n    user: tester\nusers:\n- name: tester\n  user:\n{user}"
    );
    std::fs::write(&path, text).expect("kubeconfig written");
    path
}

#[test]
fn credentials_in_urls_and_plugins_are_redacted() {
    let f = Fixture::new(SHOP);
    let token = format!("    token: {TOKEN}\n");
    let password = custom_kubeconfig(f.dir.path(), "http://bob:hunter2@127.0.0.1:9", "", &token);
    let down = run(f.dir.path(), &password, &["diff"]);
    assert!(down.stderr.contains("K402") && down.stderr.contains("http://bob:***@127.0.0.1:9"), "{}", down.stderr);
    assert!(!down.stderr.contains("hunter2"), "{}", down.stderr);

    let server = format!("http://{}", f.server.addr);
    let proxied = custom_kubeconfig(f.dir.path(), &server, "    proxy-url: http://px:hunter2@127.0.0.1:3128\n", &token);
    let proxy = run(f.dir.path(), &proxied, &["diff"]);
    assert_eq!(proxy.code, 3);
    assert!(proxy.stderr.contains("K400") && proxy.stderr.contains("proxy-url: http://px:***@127.0.0.1:3128"));
    assert!(proxy.stderr.contains("does not support proxies") && !proxy.stderr.contains("hunter2"), "{}", proxy.stderr);

    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      \
                args: ['-c', 'exit 3', '--password=hunter2']\n      env: [{name: SECRET, value: hunter3}]\n      \
                interactiveMode: Never\n";
    let plugin = custom_kubeconfig(f.dir.path(), &server, "", exec);
    let failed = run(f.dir.path(), &plugin, &["diff"]);
    assert_eq!(failed.code, 3);
    assert!(failed.stderr.contains("K415") && failed.stderr.contains("credential plugin `sh`"), "{}", failed.stderr);
    assert!(failed.stderr.contains("user `tester`") && failed.stderr.contains("context `standin`"));
    assert!(!failed.stderr.contains("hunter") && !failed.stderr.contains("exit 3"), "{}", failed.stderr);
    snapshot("K415", &failed.stderr);
}

#[test]
fn token_files_with_a_trailing_newline_work() {
    let f = Fixture::new(SHOP);
    let file = f.dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("token written");
    let config = custom_kubeconfig(
        f.dir.path(),
        &format!("http://{}", f.server.addr),
        "",
        &format!("    tokenFile: {}\n", file.display()),
    );
    let applied = run(f.dir.path(), &config, &["apply", "--no-wait"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
}

#[test]
fn server_errors_while_waiting_are_reported_as_such() {
    let f = Fixture::new(SHOP);
    assert_eq!(f.apply(&["--no-wait"]).code, 0);
    f.server.fail_gets("deployments", 500, "etcdserver: request timed out");
    let waited = f.apply(&["--timeout", "1s"]);
    assert_eq!(waited.code, 3, "{}", waited.stderr);
    assert!(waited.stderr.contains("the cluster answered 500: etcdserver: request timed out"), "{}", waited.stderr);
    assert!(!waited.stderr.contains("did not answer"), "{}", waited.stderr);
}

/// A changed Secret restarts exactly the pods that use it: `apply` stamps their templates with
/// the Secrets' versions, which change with the Secrets' contents and only then.
#[test]
fn a_changed_secret_rolls_the_workloads_that_use_it_and_no_others() {
    let compose = "name: shop\nservices:\n  api:\n    image: example/api:1.0\n    environment:\n      DB_PASSWORD: ${PW}\n  web:\n    image: nginx:1.27\n";
    let f = Fixture::new(compose);
    let apply = |password: &str| {
        let run = run_with(f.dir.path(), &f.kubeconfig, &["apply", "--no-wait"], &[("PW", password)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let stamp = |f: &Fixture, name: &str| {
        let deployment = f.server.get("deployments", "default", name).expect("applied");
        deployment["spec"]["template"]["metadata"]["annotations"]["kompile.dev/secret-versions"].clone()
    };
    apply("pw-first");
    let first = stamp(&f, "api");
    assert!(first.as_str().is_some_and(|s| s.starts_with("api-secret-env=")), "{first}");
    assert!(stamp(&f, "web").is_null(), "web uses no Secret");
    let again = apply("pw-first");
    assert!(again.contains("Deployment default/api unchanged"), "{again}");
    let changed = apply("pw-second");
    assert!(changed.contains("Secret default/api-secret-env changed"), "{changed}");
    assert!(changed.contains("Deployment default/api changed"), "{changed}");
    assert!(changed.contains("Deployment default/web unchanged"), "{changed}");
    assert_ne!(stamp(&f, "api"), first);
    assert!(!changed.contains("pw-"), "no secret value printed: {changed}");
    let preview = diff(f.dir.path(), &f.kubeconfig, &[], &[("PW", "pw-second")]);
    assert_eq!(preview.code, 0, "nothing left to change: {}", preview.stdout);
    let preview = diff(f.dir.path(), &f.kubeconfig, &[], &[("PW", "pw-third")]);
    assert_eq!(preview.code, 1, "{}", preview.stdout);
    assert!(preview.stdout.contains("kompile.dev/secret-versions: api-secret-env=(changes)"), "{}", preview.stdout);
    assert!(!preview.stdout.contains("pw-"), "{}", preview.stdout);
}
