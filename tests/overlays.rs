//! `kompile build --out-dir DIR --overlay NAME=FILE`: `kubectl kustomize DIR/base` gives back
//! what `kompile build` prints for the base files, and `kubectl kustomize DIR/overlays/NAME`
//! what it prints with FILE merged over them, object by object, for every fixture that has an
//! override file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{self, kompile};

/// Objects by apiVersion, kind, namespace and name.
type Objects = BTreeMap<(String, String, String, String), Value>;

fn objects(stream: &str) -> Objects {
    let documents: Vec<Value> = serde_saphyr::from_str_multiple(stream).expect("a YAML stream");
    let key = |v: &Value, pointer: &str| v.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut out = Objects::new();
    for document in documents.into_iter().filter(|d| !d.is_null()) {
        let id = (
            key(&document, "/apiVersion"),
            key(&document, "/kind"),
            key(&document, "/metadata/namespace"),
            key(&document, "/metadata/name"),
        );
        assert!(out.insert(id.clone(), document).is_none(), "{id:?} twice");
    }
    out
}

/// `kubectl kustomize DIR`; `None` when kubectl is not installed (a failure under CI).
fn kustomize(dir: &Path) -> Option<String> {
    let found = support::runs("kubectl", &["version", "--client"]).then_some(());
    support::tool("kubectl", "install kubectl 1.32 or later (kustomize v5)", found)?;
    let output = Command::new("kubectl").arg("kustomize").arg(dir).output().expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("UTF-8"))
}

/// `kompile ARGS` from the repository root, which must succeed; its standard output.
fn build(args: &[&str]) -> String {
    build_in(&support::root(), args)
}

fn build_in(dir: &Path, args: &[&str]) -> String {
    let run = kompile(dir).args(args).run();
    assert_eq!(run.code, 0, "kompile {}: {}", args.join(" "), run.stderr);
    run.stdout
}

/// Every object of `expected` is in `actual`, exactly, and nothing else is.
fn assert_same(actual: &Objects, expected: &Objects, what: &str) {
    let names = |o: &Objects| o.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(actual), names(expected), "{what}: the same objects");
    for (id, object) in expected {
        assert_eq!(&actual[id], object, "{what}: {id:?}");
    }
}

/// The override files of the fixtures: `*override*.yaml` beside a compose.yaml.
fn override_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for group in ["projects", "features", "conformance"] {
        for dir in support::fixtures(group) {
            let entries = std::fs::read_dir(&dir).expect("fixture dir").flatten();
            found.extend(entries.map(|e| e.path()).filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.contains("override") && name.ends_with(".yaml")
            }));
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(support::root()).expect("in the repository").to_string_lossy().into_owned()
}

/// kustomize renders the base and the overlay as kompile builds them, in a fresh `out`.
fn check_overlay(base_args: &[&str], overlay_args: &[&str], overlay: &str, what: &str) -> Option<()> {
    check_overlay_in(&support::root(), base_args, overlay_args, overlay, what)
}

/// [`check_overlay`] with kompile run in `cwd`.
fn check_overlay_in(cwd: &Path, base_args: &[&str], overlay_args: &[&str], overlay: &str, what: &str) -> Option<()> {
    let build = |args: &[&str]| build_in(cwd, args);
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("k8s");
    let dir_arg = dir.to_string_lossy().into_owned();
    let mut args = vec!["build"];
    args.extend(base_args);
    args.extend(["--out-dir", &dir_arg, "--overlay", overlay]);
    build(&args);
    let base = objects(&kustomize(&dir.join("base"))?);
    let expected_base = objects(&build(&[&["build"], base_args].concat()));
    assert_same(&base, &expected_base, &format!("{what}: base"));
    let name = overlay.split_once('=').expect("NAME=").0;
    let overlaid = objects(&kustomize(&dir.join("overlays").join(name))?);
    let expected = objects(&build(&[&["build"], base_args, overlay_args].concat()));
    assert_same(&overlaid, &expected, &format!("{what}: overlay"));
    Some(())
}

#[test]
fn every_fixture_override_is_an_exact_overlay() {
    let files = override_files();
    assert!(files.len() >= 3, "override fixtures: {files:?}");
    for file in files {
        let base = relative(&file.with_file_name("compose.yaml"));
        let over = relative(&file);
        let overlay = format!("o={over}");
        let Some(()) = check_overlay(&["-f", &base], &["-f", &over], &overlay, &over) else { return };
    }
}

#[test]
fn a_profile_is_an_overlay_too() {
    for fixture in ["fixtures/features/profiles/compose.yaml", "fixtures/projects/voting/compose.yaml"] {
        let base = ["-f", fixture];
        let Some(()) = check_overlay(&base, &["--profile", "debug"], "debug=profile:debug", fixture) else { return };
    }
}

/// Without `-f`, the base is what `build` finds (compose.yaml and its override), and an
/// overlay file is merged after both; `--profile` applies to the base and every overlay.
#[test]
fn discovered_files_and_profiles_are_the_base() {
    let merge = support::root().join("fixtures/features/merge");
    let Some(()) = check_overlay_in(
        &merge,
        &[],
        &["-f", "compose.yaml", "-f", "compose.override.yaml", "--profile", "x"],
        "p=profile:x",
        "merge",
    ) else {
        return;
    };
    let multi = support::root().join("fixtures/projects/multi-file");
    let extra = tempfile::tempdir().expect("temp dir");
    let file = extra.path().join("replicas.yaml");
    std::fs::write(
        &file,
        "services:\n  web:\n    deploy:\n      replicas: 3\n    environment:\n      ROLE: !reset null\n",
    )
    .expect("written");
    let file = file.to_string_lossy().into_owned();
    let discovered = ["-f", "compose.yaml", "-f", "compose.override.yaml", "-f", &file];
    let overlay = format!("three={file}");
    check_overlay_in(&multi, &["--profile", "debug"], &discovered, &overlay, "multi-file");
}

#[test]
fn the_base_keeps_kompiles_order() {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("k8s").to_string_lossy().into_owned();
    let base = "fixtures/projects/multi-file/compose.yaml";
    build(&["build", "-f", base, "--out-dir", &dir, "--overlay", "debug=profile:debug"]);
    let Some(rendered) = kustomize(&out.path().join("k8s/base")) else { return };
    let ids = |text: &str| -> Vec<(String, String)> {
        let documents: Vec<Value> = serde_saphyr::from_str_multiple(text).expect("YAML");
        documents.iter().map(|d| (d["kind"].to_string(), d["metadata"]["name"].to_string())).collect()
    };
    assert_eq!(ids(&rendered), ids(&build(&["build", "-f", base])));
}

/// The overlay directory of the multi-file project, every file under a header.
#[test]
fn multi_file_overlay_tree() {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("k8s");
    let dir_arg = dir.to_string_lossy().into_owned();
    let project = "fixtures/projects/multi-file";
    let overlay = format!("prod={project}/compose.override.yaml");
    build(&["build", "-f", &format!("{project}/compose.yaml"), "--out-dir", &dir_arg, "--overlay", &overlay]);
    let mut text = String::new();
    for entry in walkdir::WalkDir::new(dir.join("overlays")).sort_by_file_name() {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let name = entry.path().strip_prefix(&dir).expect("inside").to_string_lossy().into_owned();
            let contents = std::fs::read_to_string(entry.path()).expect("read");
            text.push_str(&format!("=== {name}\n{contents}"));
        }
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("overlay-multi-file", text);
    });
}

#[test]
fn a_second_run_replaces_the_tree_and_a_foreign_file_stops_it() {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("k8s");
    let dir_arg = dir.to_string_lossy().into_owned();
    let project = "fixtures/projects/multi-file";
    let base = format!("{project}/compose.yaml");
    let overlay = format!("prod={project}/compose.override.yaml");
    build(&["build", "-f", &base, "--out-dir", &dir_arg, "--overlay", &overlay, "--overlay", "debug=profile:debug"]);
    assert!(dir.join("overlays/debug/kustomization.yaml").is_file());
    build(&["build", "-f", &base, "--out-dir", &dir_arg, "--overlay", &overlay]);
    assert!(dir.join("overlays/prod/kustomization.yaml").is_file());
    assert!(!dir.join("overlays/debug").exists(), "the overlay no longer asked for is gone");

    std::fs::write(dir.join("overlays/prod/mine.yaml"), "kind: Thing\n").expect("written");
    let before = tree(&dir);
    let args = ["build", "-f", &base, "--out-dir", &dir_arg, "--overlay", "debug=profile:debug"];
    let run = kompile(support::root()).args(args).run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("K007") && run.stderr.contains("overlays/prod/mine.yaml"), "{}", run.stderr);
    assert_eq!(tree(&dir), before, "nothing changed");
}

/// Every file under `dir` with its contents.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let files = walkdir::WalkDir::new(dir).into_iter().flatten().filter(|e| e.file_type().is_file());
    files.map(|e| (e.path().to_path_buf(), std::fs::read_to_string(e.path()).expect("read"))).collect()
}

#[test]
fn overlay_names_and_arguments_are_checked() {
    let base = "fixtures/projects/multi-file/compose.yaml";
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("k8s").to_string_lossy().into_owned();
    for bad in ["../prod=x.yaml", "Prod=x.yaml", ".x=x.yaml", "prod"] {
        let run = kompile(support::root()).args(["build", "-f", base, "--out-dir", &dir, "--overlay", bad]).run();
        assert_eq!(run.code, 1, "{bad}");
        assert!(run.stderr.contains("--overlay") || run.stderr.contains("overlay name"), "{}", run.stderr);
    }
    assert!(!out.path().join("k8s").exists(), "nothing written");
    // `--overlay` needs `--out-dir`: a usage error from the command line parser.
    let run = kompile(support::root()).args(["build", "-f", base, "--overlay", "prod=x.yaml"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    // An overlay whose project has errors writes nothing and names the file.
    let broken = out.path().join("broken.yaml");
    std::fs::write(&broken, "services:\n  web:\n    image: [oops\n").expect("written");
    let overlay = format!("bad={}", broken.display());
    let run = kompile(support::root()).args(["build", "-f", base, "--out-dir", &dir, "--overlay", &overlay]).run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("broken.yaml"), "{}", run.stderr);
    assert!(!out.path().join("k8s").exists(), "nothing written");
}
