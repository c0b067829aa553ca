//! The `kompile` binary as a user runs it: file discovery, stdin, exit codes, output files.

use std::path::Path;
use std::process::{Command, Output};

use crate::support;

fn kompile(dir: &Path, args: &[&str]) -> Output {
    kompile_with(dir, args, &[], None)
}

fn kompile_with(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let command = support::kompile(dir).args(args).envs(env.iter().copied());
    match stdin {
        Some(text) => command.stdin(text).output(),
        None => command.output(),
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("written");
    }
    dir
}

const WEB: &str = "services:\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n";

#[test]
fn finds_compose_yaml_and_its_override() {
    let dir = project(&[
        ("compose.yaml", WEB),
        ("compose.override.yaml", "services:\n  web:\n    environment: {MODE: dev}\n"),
    ]);
    let output = kompile(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let yaml = stdout(&output);
    assert!(yaml.contains("kind: Deployment") && yaml.contains("name: MODE"), "{yaml}");
}

#[test]
fn finds_the_compose_file_in_a_parent_directory() {
    let dir = project(&[("compose.yaml", WEB), ("sub/dir/.keep", "")]);
    let output = kompile(&dir.path().join("sub/dir"), &["build"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn reads_standard_input() {
    let dir = project(&[]);
    let output = kompile_with(dir.path(), &["build", "-f", "-", "-p", "piped"], &[], Some(WEB));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("app.kubernetes.io/part-of: piped"));
}

#[test]
fn compose_file_variable_names_the_files() {
    let dir = project(&[("a.yaml", WEB), ("b.yaml", "services:\n  web:\n    deploy: {replicas: 3}\n")]);
    let output = kompile_with(dir.path(), &["build"], &[("COMPOSE_FILE", "a.yaml:b.yaml")], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("replicas: 3"));
}

#[test]
fn profiles_enable_services() {
    let text = "services:\n  web:\n    image: nginx:1.25\n  debug:\n    image: busybox:1.36\n    profiles: [debug]\n";
    let dir = project(&[("compose.yaml", text)]);
    let without = stdout(&kompile(dir.path(), &["build"]));
    let with = stdout(&kompile(dir.path(), &["build", "--profile", "debug"]));
    let from_env = stdout(&kompile_with(dir.path(), &["build"], &[("COMPOSE_PROFILES", "debug")], None));
    assert!(!without.contains("name: debug"));
    assert!(with.contains("name: debug"));
    assert_eq!(with, from_env);
}

#[test]
fn env_file_and_shell_interpolate() {
    let text = "services:\n  web:\n    image: nginx:${TAG:?set TAG}\n";
    let dir = project(&[("compose.yaml", text), (".env", "TAG=1.25\n")]);
    assert!(stdout(&kompile(dir.path(), &["build"])).contains("image: nginx:1.25"));
    let shell = kompile_with(dir.path(), &["build"], &[("TAG", "1.27")], None);
    assert!(stdout(&shell).contains("image: nginx:1.27"), "the shell wins over .env");
    let alternative = kompile(dir.path(), &["build", "--env-file", "missing.env"]);
    assert_eq!(alternative.status.code(), Some(1));
}

#[test]
fn errors_exit_1_with_nothing_on_stdout() {
    let dir = project(&[("compose.yaml", "services:\n  web:\n    image: nginx:${TAG:?TAG must be set}\n")]);
    let output = kompile(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let text = stderr(&output);
    assert!(text.contains("TAG must be set") && text.contains("K010"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = project(&[("compose.yaml", WEB)]);
    assert_eq!(kompile(dir.path(), &["build", "--no-such-flag"]).status.code(), Some(2));
    assert_eq!(kompile(dir.path(), &["build", "-o", "xml"]).status.code(), Some(2));
}

#[test]
fn json_output_is_a_list() {
    let dir = project(&[("compose.yaml", WEB)]);
    let output = kompile(dir.path(), &["build", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["kind"], "List");
    // The ClusterIP Service, the `-published` LoadBalancer and the Deployment.
    assert_eq!(value["items"].as_array().map(Vec::len), Some(3));
}

#[test]
fn namespace_is_set_on_every_object() {
    let dir = project(&[("compose.yaml", WEB)]);
    let output = kompile(dir.path(), &["build", "-o", "json", "-n", "shop"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for item in value["items"].as_array().expect("items") {
        assert_eq!(item["metadata"]["namespace"], "shop");
    }
    assert_eq!(kompile(dir.path(), &["build", "-n", "Not Valid"]).status.code(), Some(1));
}

#[test]
fn out_dir_is_written_whole_or_not_at_all() {
    let dir = project(&[("compose.yaml", WEB)]);
    let output = kompile(dir.path(), &["build", "--out-dir", "k8s"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let kustomization = std::fs::read_to_string(dir.path().join("k8s/kustomization.yaml")).expect("kustomization");
    assert!(kustomization.contains("deployment-web"), "{kustomization}");

    // A broken project must not touch the existing output.
    let before = std::fs::read_to_string(dir.path().join("k8s/kustomization.yaml")).expect("kustomization");
    std::fs::write(dir.path().join("compose.yaml"), "services:\n  web:\n    image: [oops\n").expect("written");
    assert_eq!(kompile(dir.path(), &["build", "--out-dir", "k8s"]).status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.path().join("k8s/kustomization.yaml")).expect("still there"), before);
}

#[test]
fn out_dir_refuses_a_directory_it_did_not_write() {
    let dir = project(&[("compose.yaml", WEB), ("mine/notes.txt", "keep me")]);
    let output = kompile(dir.path(), &["build", "--out-dir", "mine"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.path().join("mine/notes.txt")).expect("kept"), "keep me");
}

#[test]
fn out_dir_that_is_a_file_or_a_dangling_link_says_so() {
    let dir = project(&[("compose.yaml", WEB), ("k8s.yaml", "mine")]);
    let output = kompile(dir.path(), &["build", "--out-dir", "k8s.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("K007") && stderr(&output).contains("it is not a directory"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("k8s.yaml")).expect("kept"), "mine");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("out")).expect("symlink");
        let output = kompile(dir.path(), &["build", "--out-dir", "out"]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("dangling symbolic link"), "{}", stderr(&output));
        assert!(!dir.path().join("nowhere").exists(), "nothing is written through the link");
    }
}

/// Inputs that would make an invalid or enormous manifest are errors: exit 1, nothing printed.
#[test]
fn unsafe_inputs_are_errors_not_manifests() {
    let cases = [
        ("services:\n  web:\n    image: ''\n", "K110"),
        ("services:\n  web:\n    image: ''\n    build: .\n", "K110"),
        ("services:\n  web:\n    image: nginx:1.27\n    ports: ['1-65535:1-65535']\n", "K102"),
        ("services:\n  web:\n    image: nginx:1.27\n    expose: ['1000-1100']\n", "K102"),
    ];
    for (compose, code) in cases {
        let dir = project(&[("compose.yaml", compose), ("Dockerfile", "FROM nginx:1.27\n")]);
        let output = kompile(dir.path(), &["build", "--registry", "r.example.com"]);
        assert_eq!(output.status.code(), Some(1), "{compose}");
        assert!(stderr(&output).contains(code), "{compose}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{compose}: printed {} bytes", output.stdout.len());
    }
    let near_miss = "services:\n  web:\n    image: nginx:1.27\n    ports: ['8000-8099:8000-8099']\n";
    let dir = project(&[("compose.yaml", near_miss)]);
    let output = kompile(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn no_compose_file_is_a_diagnostic() {
    let dir = project(&[]);
    let output = kompile(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("K006"));
}

#[test]
fn hostile_inputs_get_diagnostics_not_panics() {
    let bomb = {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
        }
        text
    };
    let deep = "[".repeat(100_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("binary", vec![0, 159, 146, 150, 255, 0]),
        ("bomb", bomb.into_bytes()),
        ("deep", deep.into_bytes()),
        ("scalar", b"just a string\n".to_vec()),
        ("tabs", b"services:\n\tweb:\n\t\timage: x\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let dir = project(&[]);
        std::fs::write(dir.path().join("compose.yaml"), &bytes).expect("written");
        let output = kompile(dir.path(), &["build"]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains("error"), "{name}");
    }
    let dir = project(&[("compose.yaml/.keep", "")]);
    assert_eq!(kompile(dir.path(), &["build", "-f", "compose.yaml"]).status.code(), Some(1));
}

#[test]
fn project_levels_apply_to_build_as_to_check() {
    let text = "x-kompile:\n  deny: [unpinned-image]\nservices:\n  web:\n    image: nginx\n";
    let dir = project(&[("compose.yaml", text)]);
    let build = kompile(dir.path(), &["build"]);
    assert_eq!(build.status.code(), Some(1), "denied warnings fail the build");
    assert!(stdout(&build).is_empty());
    let check = kompile(dir.path(), &["check", "--format", "short"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("error[K115]"), "{}", stdout(&check));

    let allowed = "x-kompile:\n  allow: [unpinned-image]\nservices:\n  web:\n    image: nginx\n";
    std::fs::write(dir.path().join("compose.yaml"), allowed).expect("written");
    let build = kompile(dir.path(), &["build"]);
    assert_eq!(build.status.code(), Some(0));
    assert!(!stderr(&build).contains("K115"));
    let check = kompile(dir.path(), &["check", "--format", "short", "--deny", "K115"]);
    assert_eq!(check.status.code(), Some(1), "the command line wins over the file");
}

#[test]
fn check_exit_codes_and_formats() {
    let dir = project(&[("compose.yaml", WEB)]);
    let clean = kompile(dir.path(), &["check", "--format", "short"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    let warnings = kompile(dir.path(), &["check", "--deny", "warnings"]);
    assert_eq!(warnings.status.code(), Some(1), "the project has a missing-healthcheck warning");
    let json = kompile(dir.path(), &["check", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["version"], 1);
    assert_eq!(value["summary"]["warnings"], 1);
    let sarif = kompile(dir.path(), &["check", "--format", "sarif"]);
    let value: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    assert_eq!(value["version"], "2.1.0");
    assert_eq!(value["runs"][0]["results"][0]["ruleId"], "K116");
    let github = stdout(&kompile(dir.path(), &["check", "--format", "github"]));
    assert!(github.starts_with("::warning file=compose.yaml,line=2,endLine=2,col=3,"), "{github}");
    assert_eq!(kompile(dir.path(), &["check", "--deny", "no-such-code"]).status.code(), Some(2));
    assert_eq!(kompile(dir.path(), &["check", "missing.yaml"]).status.code(), Some(2));
}

#[test]
fn a_dockerfile_is_checked_with_the_project_that_builds_it() {
    let compose = "services:\n  api:\n    build: ./api\n    image: registry.example.com/api\n";
    let dockerfile = "FROM alpine:3.20\nMAINTAINER me\nCMD [\"true\"]\n";
    let dir = project(&[("compose.yaml", compose), ("api/Dockerfile", dockerfile), ("lone/Dockerfile", dockerfile)]);
    let with_project = stdout(&kompile(dir.path(), &["check", "--format", "short", "api/Dockerfile"]));
    assert!(with_project.contains("[K303]"), "{with_project}");
    assert!(with_project.contains("[K115]"), "the compose file's problems come too: {with_project}");
    let alone = stdout(&kompile(dir.path(), &["check", "--format", "short", "lone/Dockerfile"]));
    assert!(alone.contains("[K303]") && !alone.contains("[K115]"), "{alone}");
    let both = stdout(&kompile(dir.path(), &["check", "--format", "short", "api/Dockerfile", "compose.yaml"]));
    assert_eq!(both.matches("[K303]").count(), 1, "one project, checked once: {both}");
    // pre-commit passes a per-Dockerfile ignore file when it changes: its Dockerfile is checked.
    std::fs::write(dir.path().join("api/Dockerfile.dockerignore"), "node_modules\n*.log\n!keep.log\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let ignore = kompile(dir.path(), &["check", "--format", "short", "api/Dockerfile.dockerignore", "api/Dockerfile"]);
    let ignore = stdout(&ignore);
    assert_eq!(ignore.matches("[K303]").count(), 1, "{ignore}");
    assert!(!ignore.contains("[K300]"), "not read as a Dockerfile: {ignore}");
    std::fs::write(dir.path().join("api/.dockerignore"), "node_modules\n").unwrap_or_else(|e| panic!("{e}"));
    let context = stdout(&kompile(dir.path(), &["check", "--format", "short", "api/.dockerignore"]));
    assert_eq!(context.matches("[K303]").count(), 1, "the Dockerfile beside it: {context}");
}

/// [`kompile`] for inputs that once hung: a run still going after a minute is killed and
/// fails the test instead of hanging the suite (the fixed runs take well under a second).
fn kompile_bounded(dir: &Path, args: &[&str]) -> Output {
    support::kompile(dir).args(args).limit(std::time::Duration::from_secs(60)).output()
}

#[test]
fn files_outside_the_project_warn_and_strict_paths_refuses_them() {
    let root = project(&[
        ("outside.txt", "from outside"),
        ("outside.env", "A=1\n"),
        (
            "app/compose.yaml",
            "services:\n  web:\n    image: nginx:1.27\n    env_file: ../outside.env\n    configs: [c]\nconfigs:\n  c:\n    file: ../outside.txt\n",
        ),
    ]);
    let dir = root.path().join("app");
    let output = kompile(&dir, &["build"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output).matches("K014(outside-project)").count(), 2, "{}", stderr(&output));
    assert!(stdout(&output).contains("from outside"), "Compose reads them too");
    let strict = kompile(&dir, &["build", "--strict-paths"]);
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(stderr(&strict).matches("K014(outside-project)").count(), 2, "{}", stderr(&strict));
    assert!(stdout(&strict).is_empty());
    let check = kompile(&dir, &["check", "--format", "short"]);
    assert_eq!(stdout(&check).matches("warning[K014]").count(), 2, "{}", stdout(&check));
    let check = kompile(&dir, &["check", "--strict-paths", "--format", "short"]);
    assert_eq!(stdout(&check).matches("error[K014]").count(), 2, "{}", stdout(&check));
}

#[test]
fn files_inside_the_project_raise_no_outside_warning() {
    let dir = project(&[
        ("conf/c.txt", "inside"),
        ("app.env", "A=1\n"),
        (
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1.27\n    env_file: ./app.env\n    configs: [c]\nconfigs:\n  c:\n    file: ./conf/../conf/c.txt\n",
        ),
    ]);
    let output = kompile(dir.path(), &["build", "--strict-paths"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("K014"), "{}", stderr(&output));
}

#[test]
fn a_malformed_env_line_shows_no_neighbouring_secret() {
    let dir = project(&[(".env", "DB_PASSWORD=hunter2\nNOT VALID=1\nAPI_TOKEN=\"abc\"\n"), ("compose.yaml", WEB)]);
    for args in [&["check"][..], &["build"][..]] {
        let output = kompile(dir.path(), args);
        let shown = format!("{}{}", stdout(&output), stderr(&output));
        assert!(shown.contains("K013"), "{shown}");
        assert!(shown.contains("DB_PASSWORD"), "keys stay readable: {shown}");
        assert!(!shown.contains("hunter2") && !shown.contains("abc"), "{shown}");
    }
}

#[test]
fn hostile_projects_end_with_diagnostics() {
    let doubling = {
        let mut text = String::from("A0=xxxxxxxxxxxxxxxx\n");
        for i in 1..41 {
            text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        text
    };
    let chain = |n: usize| {
        let mut text = String::from("services:\n  s0:\n    image: nginx:1.27\n");
        for i in 1..n {
            text.push_str(&format!("  s{i}:\n    extends: s{}\n", i - 1));
        }
        text
    };
    // (case, files of the project, the code it must raise)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        ("self-include", vec![("compose.yaml", format!("include: [compose.yaml, compose.yaml]\n{WEB}"))], "K022"),
        (
            "huge durations",
            vec![(
                "compose.yaml",
                "services:\n  web:\n    image: nginx:1.27\n    stop_grace_period: 1e20\n    healthcheck:\n      test: [CMD, x]\n      interval: 1e20\n".into(),
            )],
            "K103",
        ),
        (
            "empty service name",
            vec![("compose.yaml", "services:\n  \"\":\n    image: a:1\n  b:\n    image: b:1\n    environment:\n      X: y\n".into())],
            "K110",
        ),
        ("doubling .env", vec![(".env", doubling), ("compose.yaml", WEB.into())], "K016"),
        ("long extends chain", vec![("compose.yaml", chain(200))], "K017"),
    ];
    for (name, files, code) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let dir = project(&files);
        let output = kompile_bounded(dir.path(), &["check", "--format", "short"]);
        let shown = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {shown}{}", stderr(&output));
        assert!(shown.contains(&format!("error[{code}]")), "{name}: {shown}");
        assert!(shown.lines().count() < 10, "{name}: one error, not thousands: {shown}");
    }
    let dir = project(&[("compose.yaml", &chain(60))]);
    let output = kompile(dir.path(), &["check", "--format", "short"]);
    assert!(!stdout(&output).contains("K017"), "a chain under the limit resolves: {}", stdout(&output));
}

#[test]
fn a_pipe_named_in_a_compose_file_is_refused_unopened() {
    let dir = project(&[(
        "compose.yaml",
        "include: [pipe.yaml]\nservices:\n  web:\n    image: nginx:1.27\n    build: {context: ., dockerfile: Dockerfile.pipe}\n",
    )]);
    for name in ["pipe.yaml", "Dockerfile.pipe"] {
        let made = Command::new("mkfifo").arg(dir.path().join(name)).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    }
    let output = kompile_bounded(dir.path(), &["check", "--format", "short"]);
    let shown = stdout(&output);
    assert!(shown.contains("cannot read pipe.yaml: it is not a regular file"), "{shown}");
    assert!(shown.contains("Dockerfile.pipe, which is not a regular file"), "{shown}");

    // `build` hashes the Dockerfile for the image tag and reads `.dockerignore` for a
    // project bind mount: neither may open a pipe.
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web:\n    build: {context: ., dockerfile: Dockerfile.pipe}\n    volumes: [./:/app]\n",
    )]);
    for name in [".dockerignore", "Dockerfile.pipe"] {
        let made = Command::new("mkfifo").arg(dir.path().join(name)).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    }
    let output = kompile_bounded(dir.path(), &["build", "--registry", "registry.example"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// `-f ../compose.yaml` from a subdirectory is the same project as `build` in the project
/// directory: same name, project files shipped as ConfigMaps, no hostPath of this machine.
#[test]
fn building_from_a_subdirectory_gives_the_same_manifests() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes: [\"./conf:/etc/web:ro\", \"./data:/data\"]\n";
    let dir =
        project(&[("compose.yaml", compose), ("conf/web.conf", "listen 80;\n"), ("data/.keep", ""), ("sub/.keep", "")]);
    let here = kompile(dir.path(), &["build"]);
    assert_eq!(here.status.code(), Some(0), "{}", stderr(&here));
    for (cwd, file) in
        [(dir.path().join("sub"), "../compose.yaml"), (dir.path().join("conf"), "../sub/../compose.yaml")]
    {
        let there = kompile(&cwd, &["build", "-f", file]);
        assert_eq!(there.status.code(), Some(0), "{file}: {}", stderr(&there));
        assert_eq!(stdout(&there), stdout(&here), "-f {file} from {}", cwd.display());
    }
    assert!(!stdout(&here).contains("hostPath"), "{}", stdout(&here));
}

/// `check -f base -f override` merges the files as `build` does: the override alone has no
/// image, which is no error once merged. `-` reads standard input.
#[test]
fn check_merges_files_like_build_and_reads_stdin() {
    let dir = project(&[("compose.yaml", WEB), ("compose.prod.yaml", "services:\n  web:\n    environment: {A: b}\n")]);
    let merged = kompile(dir.path(), &["check", "--format", "short", "-f", "compose.yaml", "-f", "compose.prod.yaml"]);
    assert_eq!(merged.status.code(), Some(0), "{}", stdout(&merged));
    assert!(!stdout(&merged).contains("K107"), "{}", stdout(&merged));
    let piped = kompile_with(dir.path(), &["check", "--format", "short", "-"], &[], Some("services:\n  web: {}\n"));
    assert_eq!(piped.status.code(), Some(1), "{}", stdout(&piped));
    assert!(stdout(&piped).contains("K107"), "{}", stdout(&piped));
}

/// A build context that does not exist is the same error in `check` and `build`, naming it.
#[test]
fn check_and_build_agree_on_a_missing_build_context() {
    let dir = project(&[("compose.yaml", "services:\n  app:\n    build: ./missing\n")]);
    let env = [("KOMPILE_REGISTRY", "registry.example.com")];
    let check = kompile_with(dir.path(), &["check", "--format", "short"], &env, None);
    let build = kompile_with(dir.path(), &["build"], &env, None);
    assert_eq!((check.status.code(), build.status.code()), (Some(1), Some(1)), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("error[K108]") && stdout(&check).contains("builds from missing"),
        "{}",
        stdout(&check)
    );
    assert!(stderr(&build).contains("builds from missing, which is not a directory"), "{}", stderr(&build));
}

/// An empty project (every service behind an inactive profile) is a warning, as Compose
/// accepts it: build, check and config exit 0.
#[test]
fn an_empty_project_is_a_warning() {
    let dir = project(&[("compose.yaml", "services:\n  debug:\n    image: busybox:1.36\n    profiles: [debug]\n")]);
    for command in ["build", "check", "config"] {
        let output = kompile(dir.path(), &[command]);
        assert_eq!(output.status.code(), Some(0), "{command}: {}{}", stdout(&output), stderr(&output));
    }
}

#[test]
fn build_ends_with_what_is_exposed_on_stderr() {
    let dir = project(&[("compose.yaml", WEB)]);
    let output = kompile(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(0));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        stderr.ends_with("exposed outside the cluster:\n  web  LoadBalancer  <lb-address>:8080 → 80/tcp\n"),
        "{stderr}"
    );
    assert!(!stdout.contains("exposed outside"), "standard output is only the manifests");
    let internal =
        "services:\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n    x-kompile: {expose: none}\n";
    let dir = project(&[("compose.yaml", internal)]);
    let stderr = String::from_utf8(kompile(dir.path(), &["build"]).stderr).unwrap();
    assert!(!stderr.contains("exposed outside"), "{stderr}");
}

/// A secret written in a compose file is shown by no diagnostic, in no format: K117 points at
/// its name, and code frames of other problems on nearby lines mask it.
#[test]
fn no_output_format_prints_a_secret_value() {
    let valid = "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: hunter2\n  api:\n    image: api:1\n    environment: [API_TOKEN=s3cr3t-t0ken, \"LEVEL=1\"]\n    ports: [\"99999:1\"]\n";
    // A file that does not parse: the error's frame quotes the lines around line 6.
    let broken = valid.replace("hunter2\n", "hunter2\n      - x\n");
    for compose in [valid, &broken] {
        let dir = project(&[("compose.yaml", compose)]);
        for format in ["human", "short", "json", "github", "sarif"] {
            let output = kompile(dir.path(), &["check", "--format", format]);
            let all = stdout(&output) + &stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{format}: {all}");
            assert!(all.contains("POSTGRES_PASSWORD") || format != "human", "{format}: {all}");
            assert!(!all.contains("hunter2") && !all.contains("s3cr3t"), "{format}: {all}");
        }
    }
}

/// A password inside another service's URL, written or interpolated from `.env`, and one a
/// URL carries whatever its variable is called: no diagnostic format and no manifest shows
/// it (the Secret holds it base64-encoded), while K214's code frame keeps `db:5432`.
#[test]
fn no_output_prints_a_password_inside_a_url() {
    let compose = "services:\n  db:  {image: postgres:16.4, environment: {POSTGRES_PASSWORD: s3cr3tpw}}\n  web: {image: app:1, environment: {DATABASE_URL: postgres://app:s3cr3tpw@db:5432/app}}\n  api: {image: app:1, environment: [\"DB=postgres://app:${PW}@db:5432/app\", \"JDBC=jdbc:pg://db:5432/app?password=s3cr3tpw\"]}\n  worker: {image: w:1, environment: {CACHE: 'redis://:r3d1s-pw@cache:6379/0'}}\n  cache: {image: redis:7.4}\n";
    let dir = project(&[("compose.yaml", compose), (".env", "PW=fr0m-dotenv\n")]);
    let hidden = ["s3cr3tpw", "r3d1s-pw", "fr0m-dotenv"];
    let shows = |all: &str| hidden.iter().find(|h| all.contains(*h)).copied();
    for format in ["human", "short", "json", "github", "sarif"] {
        let output = kompile(dir.path(), &["check", "--format", format]);
        let all = stdout(&output) + &stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{format}: {all}");
        assert_eq!(shows(&all), None, "{format}: {all}");
        assert!(all.contains("K214"), "{format}: {all}");
    }
    let checked = kompile(dir.path(), &["check"]);
    let human = stdout(&checked) + &stderr(&checked);
    assert!(human.contains("postgres://app:********@db:5432/app"), "the host stays readable: {human}");
    for output in ["yaml", "json"] {
        let built = kompile(dir.path(), &["build", "-o", output]);
        let all = stdout(&built) + &stderr(&built);
        assert_eq!(built.status.code(), Some(0), "{all}");
        assert_eq!(shows(&all), None, "{output}: {all}");
        assert!(all.contains("web-secret-env") && all.contains("secretKeyRef"), "{all}");
    }
}
