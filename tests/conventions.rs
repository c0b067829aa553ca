//! Small conventions other tools set: `config --services/--volumes/-q` as Compose has them,
//! `KUBECTL_EXTERNAL_DIFF`, `apply --dry-run=client`, and repository-relative paths in the
//! GitHub and SARIF formats.

use std::path::Path;

use serde_json::Value;

use crate::support::standin::StandIn;
use crate::support::{self, Run};

fn kompile(dir: &Path, args: &[&str]) -> Run {
    support::kompile(dir).args(args).run()
}

fn project(compose: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// `api` needs `web` needs `db`; `cache` only with its profile; `unused` is used by no service.
const CHAIN: &str = "name: chain
services:
  api: {image: 'api:1', depends_on: [web], expose: [80]}
  web: {image: 'nginx:1.27', depends_on: [db], expose: [80], volumes: ['zdata:/z', 'adata:/a']}
  db: {image: 'postgres:16.4', expose: [5432]}
  cache: {image: 'redis:7.4', profiles: [extra], expose: [6379]}
volumes:
  zdata: {}
  adata: {}
  unused: {}
";

#[test]
fn config_lists_services_and_volumes() {
    let dir = project(CHAIN);
    let services = kompile(dir.path(), &["config", "--services"]);
    assert_eq!((services.code, services.stdout.as_str()), (0, "db\nweb\napi\n"));
    let all = kompile(dir.path(), &["config", "--services", "--profile", "extra"]);
    assert_eq!(all.stdout, "cache\ndb\nweb\napi\n");
    let volumes = kompile(dir.path(), &["config", "--volumes"]);
    assert_eq!((volumes.code, volumes.stdout.as_str()), (0, "adata\nzdata\n"));
    // As in Compose, a list wins over -q.
    assert_eq!(kompile(dir.path(), &["config", "-q", "--services"]).stdout, "db\nweb\napi\n");
}

#[test]
fn config_quiet_only_validates() {
    let dir = project(CHAIN);
    let valid = kompile(dir.path(), &["config", "--quiet"]);
    assert_eq!((valid.code, valid.stdout.as_str()), (0, ""));
    let invalid = project("services:\n  a: {image: 'nginx:1.27', ports: ['99999:1']}\n");
    let run = kompile(invalid.path(), &["config", "-q"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(run.stderr.contains("K102"), "the reason is still given: {}", run.stderr);
}

/// The voting project has warnings (`build` looks at its Dockerfiles); the script-facing modes
/// stay silent about them, as `docker compose config -q` does, and still name errors (above).
#[test]
fn config_script_modes_print_no_warnings() {
    let dir = support::root().join("fixtures/projects/voting");
    let full = kompile(&dir, &["config"]);
    assert_eq!(full.code, 0);
    for args in [&["config", "-q"][..], &["config", "--services"], &["config", "--volumes"]] {
        let run = kompile(&dir, args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
}

/// The same lists as the reference `docker compose config --services/--volumes`: volumes in
/// any order (Compose's varies), services in dependency order (unique for this chain).
#[test]
fn config_lists_match_the_reference() {
    let install = "set KOMPILE_COMPOSE_REF, or run .ci/install-compose-reference.sh";
    let found = crate::conformance::find_reference();
    let Some(reference) = support::tool("the reference docker-compose", install, found) else { return };
    let dir = project(CHAIN);
    for flag in ["--services", "--volumes"] {
        let output = std::process::Command::new(&reference.program)
            .args(&reference.prefix)
            .args(["config", flag])
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap_or_else(|e| panic!("the reference runs: {e}"));
        let expected = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut expected_lines: Vec<&str> = expected.lines().collect();
        let ours = kompile(dir.path(), &["config", flag]).stdout;
        let mut our_lines: Vec<&str> = ours.lines().collect();
        if flag == "--volumes" {
            expected_lines.sort();
            our_lines.sort();
        }
        assert_eq!(our_lines, expected_lines, "config {flag}");
    }
}

const SHOP: &str = "name: shop\nservices:\n  web: {image: 'nginx:1.27', ports: ['8080:80']}\n";

fn diff(server: &StandIn, dir: &Path, env: &[(&str, &str)]) -> Run {
    let kubeconfig = server.kubeconfig(dir, "t");
    support::kompile(dir).args(["diff"]).env("KUBECONFIG", kubeconfig).envs(env.iter().copied()).run()
}

#[test]
fn diff_reads_kubectl_external_diff_when_kompile_external_diff_is_unset() {
    let server = StandIn::start();
    let dir = project(SHOP);
    let kubectl = diff(&server, dir.path(), &[("KUBECTL_EXTERNAL_DIFF", "ls")]);
    assert_eq!(kubectl.code, 1, "{}", kubectl.stderr);
    assert!(kubectl.stdout.contains("apps.v1.Deployment.default.web"), "{}", kubectl.stdout);
    let both = diff(&server, dir.path(), &[("KUBECTL_EXTERNAL_DIFF", "false"), ("KOMPILE_EXTERNAL_DIFF", "ls")]);
    assert_eq!(both.code, 1, "KOMPILE_EXTERNAL_DIFF wins: {}", both.stderr);
    let missing = diff(&server, dir.path(), &[("KUBECTL_EXTERNAL_DIFF", "no-such-diff-program")]);
    assert_eq!(missing.code, 3);
    assert!(missing.stderr.contains("KUBECTL_EXTERNAL_DIFF holds a program"), "{}", missing.stderr);
}

fn documents(stream: &str) -> Vec<Value> {
    serde_saphyr::from_str_multiple(stream).unwrap_or_else(|e| panic!("a YAML stream: {e}\n{stream}"))
}

/// The objects, the ApplySet parent first, each labelled as its member; the stand-in named
/// in the kubeconfig hears nothing.
#[test]
fn apply_client_dry_run_prints_the_objects_and_contacts_no_cluster() {
    let server = StandIn::start();
    let dir = project(SHOP);
    let kubeconfig = server.kubeconfig(dir.path(), "t");
    let run = support::kompile(dir.path())
        .args(["apply", "--dry-run=client", "-n", "shop-test"])
        .env("KUBECONFIG", &kubeconfig)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.log().is_empty(), "the cluster was contacted: {:?}", server.log());
    let objects = documents(&run.stdout);
    let parent = &objects[0];
    assert_eq!(parent["kind"], "ConfigMap");
    assert_eq!(parent["metadata"]["name"], "kompile-applyset-shop");
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"].clone();
    assert!(id.as_str().is_some_and(|id| id.starts_with("applyset-")), "{parent}");
    let kinds = parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"].as_str();
    assert!(kinds.is_some_and(|k| k.contains("Deployment.apps") && k.contains("Service")), "{parent}");
    for object in &objects[1..] {
        assert_eq!(object["metadata"]["labels"]["applyset.kubernetes.io/part-of"], id, "{object}");
        assert_eq!(object["metadata"]["namespace"], "shop-test", "{object}");
    }
    assert!(objects.iter().any(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "web"));
}

/// Workloads come in the order `apply` sends them: `depends_on` waves, not by name.
#[test]
fn apply_client_dry_run_prints_workloads_in_apply_order() {
    let dir = support::root().join("fixtures/projects/webapp");
    let run = support::kompile(&dir)
        .args(["apply", "--dry-run=client", "-n", "web"])
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = documents(&run.stdout);
    let at = |name: &str| {
        let workload = |o: &Value| {
            ["Deployment", "StatefulSet", "Job", "DaemonSet"].contains(&o["kind"].as_str().unwrap_or_default())
                && o["metadata"]["name"] == name
        };
        objects.iter().position(workload).unwrap_or_else(|| panic!("no workload {name}:\n{}", run.stdout))
    };
    assert!(at("db") < at("migrate") && at("cache") < at("api"), "{}", run.stdout);
    assert!(at("migrate") < at("api") && at("api") < at("frontend"), "{}", run.stdout);
    assert_eq!(objects[0]["metadata"]["name"], "kompile-applyset-webapp", "the parent first: {}", run.stdout);
}

#[test]
fn apply_client_dry_run_needs_no_kubeconfig() {
    let dir = project(SHOP);
    let run = kompile(dir.path(), &["apply", "--dry-run", "client"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = documents(&run.stdout);
    assert!(objects.iter().all(|o| o["metadata"]["namespace"] == "default"), "{}", run.stdout);
    let broken = project("services:\n  a: {image: 'nginx:1.27', ports: ['99999:1']}\n");
    let failed = kompile(broken.path(), &["apply", "--dry-run=client"]);
    assert_eq!((failed.code, failed.stdout.as_str()), (1, ""), "{}", failed.stderr);
    // What `--prune` would delete is only in the cluster.
    let prune = kompile(dir.path(), &["apply", "--dry-run=client", "--prune"]);
    assert_eq!((prune.code, prune.stdout.as_str()), (2, ""), "{}", prune.stderr);
    assert!(prune.stderr.contains("K110") && prune.stderr.contains("diff --prune"), "{}", prune.stderr);
}

/// A repository `repo/` (a `.git` directory is all git needs to be found) with the project in
/// `repo/app/`, checked from `repo/app/`.
fn repository(compose: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let app = repo.path().join("app");
    std::fs::create_dir_all(repo.path().join(".git")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(&app).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(app.join("compose.yaml"), compose).unwrap_or_else(|e| panic!("{e}"));
    (repo, app)
}

/// Two services publishing one host port: K113, with a second label on the first service.
const CONFLICT: &str = "services:
  a: {image: 'nginx:1.27', ports: ['8080:80']}
  b: {image: 'nginx:1.27', ports: ['8080:80']}
";

#[test]
fn github_annotations_name_files_from_the_repository_root() {
    let (_repo, app) = repository(CONFLICT);
    let run = kompile(&app, &["check", "--format", "github"]);
    let line = run.stdout.lines().find(|l| l.contains("K113")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.starts_with("::warning file=app/compose.yaml,line=3,"), "{line}");
    // Outside a repository paths are relative to the directory `check` runs in.
    let plain = project(CONFLICT);
    let run = kompile(plain.path(), &["check", "--format", "github"]);
    assert!(run.stdout.contains("::warning file=compose.yaml,line=3,"), "{}", run.stdout);
    std::fs::create_dir(plain.path().join("sub")).unwrap_or_else(|e| panic!("{e}"));
    let above = kompile(&plain.path().join("sub"), &["check", "--format", "github", "-f", "../compose.yaml"]);
    let line = above.stdout.lines().find(|l| l.contains("K113")).unwrap_or_else(|| panic!("{}", above.stdout));
    assert!(line.starts_with("::warning title=K113 "), "above the directory: not annotated: {line}");
}

#[test]
fn sarif_names_files_from_the_repository_root_with_related_locations() {
    let (_repo, app) = repository(CONFLICT);
    let run = kompile(&app, &["check", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("SARIF: {e}\n{}", run.stdout));
    let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    let result = results.iter().find(|r| r["ruleId"] == "K113").unwrap_or_else(|| panic!("{}", run.stdout));
    let place = |location: &Value| {
        let physical = &location["physicalLocation"];
        (physical["artifactLocation"]["uri"].clone(), physical["region"]["startLine"].clone())
    };
    assert_eq!(place(&result["locations"][0]), (Value::from("app/compose.yaml"), Value::from(3)));
    let related = result["relatedLocations"].as_array().cloned().unwrap_or_default();
    assert_eq!(related.len(), 1, "{result}");
    assert_eq!(place(&related[0]), (Value::from("app/compose.yaml"), Value::from(2)));
    assert_eq!(related[0]["id"], 0);
    assert!(related[0]["message"]["text"].as_str().is_some_and(|t| t.contains("`a`")), "{result}");
    let others = results.iter().filter(|r| r["ruleId"] != "K113");
    assert!(others.clone().all(|r| r.get("relatedLocations").is_none()), "single-label results have none");
}

/// A file outside the repository `check` runs in cannot be annotated on GitHub: its place
/// leads the message, and SARIF names it by a `file://` URI. Names are percent-encoded.
#[test]
fn files_outside_the_repository_and_odd_names() {
    let (repo, app) = repository("services: {}\n");
    let elsewhere = project(CONFLICT);
    let outside = std::fs::canonicalize(elsewhere.path().join("compose.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let outside_arg = outside.to_string_lossy().into_owned();
    let run = kompile(&app, &["check", "--format", "github", "-f", &outside_arg]);
    let line = run.stdout.lines().find(|l| l.contains("K113")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.starts_with("::warning title=K113 "), "{line}");
    assert!(line.contains(&format!("::{}:3:", outside.display())), "{line}");
    let run = kompile(&app, &["check", "--format", "sarif", "-f", &outside_arg]);
    let log: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("SARIF: {e}\n{}", run.stdout));
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri.as_str(), Some(format!("file://{}", outside.display()).as_str()), "{log}");

    std::fs::write(app.join("my app#1 %.yaml"), CONFLICT).unwrap_or_else(|e| panic!("{e}"));
    let run = kompile(repo.path(), &["check", "--format", "sarif", "-f", "app/my app#1 %.yaml"]);
    let log: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("SARIF: {e}\n{}", run.stdout));
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "app/my%20app%231%20%25.yaml", "{log}");
    // A `:` in the first segment would read as a URI scheme.
    std::fs::create_dir(repo.path().join("a:b")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(repo.path().join("a:b/compose.yaml"), CONFLICT).unwrap_or_else(|e| panic!("{e}"));
    let run = kompile(repo.path(), &["check", "--format", "sarif", "-f", "a:b/compose.yaml"]);
    let log: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("SARIF: {e}\n{}", run.stdout));
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "a%3Ab/compose.yaml", "{log}");
}

/// A project whose Dockerfile breaks three rules with hadolint twins: DL4000 (K303), DL3004
/// (K307) and DL3008 (K309).
fn hadolint_project(dockerfile_head: &str, config: Option<&str>) -> tempfile::TempDir {
    let dir = project("services:\n  app: {build: ., image: 'app:1', expose: [80]}\n");
    let dockerfile = format!(
        "{dockerfile_head}FROM alpine:3.20\nMAINTAINER me\nRUN sudo true\nRUN apt-get install -y curl\nHEALTHCHECK CMD true\n"
    );
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap_or_else(|e| panic!("{e}"));
    if let Some(config) = config {
        std::fs::write(dir.path().join(".hadolint.yaml"), config).unwrap_or_else(|e| panic!("{e}"));
    }
    dir
}

fn codes(run: &Run) -> Vec<String> {
    let codes = run.stdout.lines().filter_map(|l| Some(l.split_once("[")?.1.split_once(']')?.0.to_string()));
    codes.collect()
}

#[test]
fn hadolint_settings_silence_their_twins() {
    let plain = hadolint_project("", None);
    assert_eq!(codes(&kompile(plain.path(), &["check", "--format", "short"])), ["K303", "K307", "K309"]);
    let configured = hadolint_project("", Some("ignored:\n  - DL3004\n  - DL3008\nfailure-threshold: error\n"));
    assert_eq!(codes(&kompile(configured.path(), &["check", "--format", "short"])), ["K303"]);
    let global = hadolint_project("# hadolint global ignore=DL4000,DL3004\n", None);
    assert_eq!(codes(&kompile(global.path(), &["check", "--format", "short"])), ["K309"]);
    // hadolint's `disable-ignore-pragma` turns its comments off.
    let no_pragmas =
        hadolint_project("# hadolint global ignore=DL4000,DL3004\n", Some("disable-ignore-pragma: true\n"));
    assert_eq!(codes(&kompile(no_pragmas.path(), &["check", "--format", "short"])), ["K303", "K307", "K309"]);
    let broken = hadolint_project("", Some("ignored: [\n"));
    let run = kompile(broken.path(), &["check", "--format", "short"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("error[K003]: cannot read") && run.stdout.contains(".hadolint.yaml"), "{}", run.stdout);
}

/// DL3008 (apt), DL3013 (pip) and DL3018 (apk) are all K309: ignoring one rule, in the
/// settings or on the line, leaves the other managers' K309.
#[test]
fn a_hadolint_rule_silences_only_its_package_manager() {
    let dir = project("services:\n  app: {build: ., image: 'app:1', expose: [80]}\n");
    let dockerfile = "FROM alpine:3.20\nRUN apt-get install -y curl\nRUN pip install flask\nRUN apk add git\n\
        # hadolint ignore=DL3018\nRUN apk add bash\nHEALTHCHECK CMD true\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join(".hadolint.yaml"), "ignored: [DL3008]\n").unwrap_or_else(|e| panic!("{e}"));
    let run = kompile(dir.path(), &["check", "--format", "short"]);
    let k309: Vec<&str> = run.stdout.lines().filter(|l| l.contains("[K309]")).collect();
    assert_eq!(k309.len(), 2, "{}", run.stdout);
    assert!(k309.iter().any(|l| l.contains("pip package `flask`")), "{}", run.stdout);
    assert!(k309.iter().any(|l| l.contains("apk package `git`")), "{}", run.stdout);
}

/// K312 is three hadolint rules: DL4003 (CMD), DL4004 (ENTRYPOINT), DL3012 (HEALTHCHECK).
#[test]
fn a_hadolint_rule_silences_only_its_repeated_instruction() {
    let dir = project("services:\n  app: {build: ., image: 'app:1', expose: [80]}\n");
    let dockerfile = "FROM alpine:3.20\nCMD [\"a\"]\nCMD [\"b\"]\nENTRYPOINT [\"c\"]\nENTRYPOINT [\"d\"]\n\
        HEALTHCHECK CMD true\nHEALTHCHECK CMD false\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap_or_else(|e| panic!("{e}"));
    let k318 = |run: &Run| -> Vec<String> {
        run.stdout
            .lines()
            .filter(|l| l.contains("[K312]"))
            .map(|l| l.split("this ").nth(1).unwrap_or(l).to_string())
            .collect()
    };
    let all = k318(&kompile(dir.path(), &["check", "--format", "short"]));
    assert_eq!(all.len(), 3, "{all:?}");
    std::fs::write(dir.path().join(".hadolint.yaml"), "ignored: [DL4003]\n").unwrap_or_else(|e| panic!("{e}"));
    let left = k318(&kompile(dir.path(), &["check", "--format", "short"]));
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|l| !l.starts_with("CMD ")), "{left:?}");
}

/// K308 is DL3006 (no tag) and DL3007 (`latest`); K317 is DL3024 (twice) and DL3063
/// (reserved), and its casing part is no hadolint rule's.
#[test]
fn a_hadolint_rule_silences_only_its_base_image_and_stage_name_part() {
    let dir = project("services:\n  app: {build: ., image: 'app:1', expose: [80]}\n");
    let dockerfile = "# hadolint global ignore=DL3007,DL3024\nFROM alpine AS Build\nFROM alpine:latest AS b\n\
        FROM alpine:3.20 AS b\nFROM alpine:3.20 AS scratch\nHEALTHCHECK CMD true\n";
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap_or_else(|e| panic!("{e}"));
    let run = kompile(dir.path(), &["check", "--format", "short"]);
    let found: Vec<&str> = run.stdout.lines().filter(|l| l.contains("[K308]") || l.contains("[K317]")).collect();
    assert_eq!(found.len(), 3, "{}", run.stdout);
    assert!(found[0].contains("`alpine` has no tag"), "{found:?}");
    assert!(found[1].contains("`Build` is not lowercase"), "{found:?}");
    assert!(found[2].contains("`scratch` is reserved"), "{found:?}");
}

/// Found in the repository root when the project is below it, as hadolint run there would.
#[test]
fn hadolint_configuration_at_the_repository_root() {
    let (repo, app) = repository("services:\n  app: {build: ., image: 'app:1', expose: [80]}\n");
    let dockerfile = "FROM alpine:3.20\nRUN sudo true\nHEALTHCHECK CMD true\n";
    std::fs::write(app.join("Dockerfile"), dockerfile).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(codes(&kompile(&app, &["check", "--format", "short"])), ["K307"]);
    std::fs::write(repo.path().join(".hadolint.yml"), "ignored: [DL3004]\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(codes(&kompile(&app, &["check", "--format", "short"])), Vec::<String>::new());
}
