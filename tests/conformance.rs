//! `kompile config` against the reference `docker compose config --format json`: for every
//! fixture project both run in the same directory with the same environment, and the parsed
//! JSON must be equal.
//!
//! A fixture directory may hold `conformance.args`: global flags for both sides, one per
//! line — `--profile NAME`, `-f FILE`, `-p NAME`, `--env-file FILE`, or `--env KEY=VALUE`
//! (a shell variable). A directory holding `conformance.reject` is a file Compose refuses:
//! both sides must fail (the reference exits non-zero, kompile reports an error), and the
//! marker's text says why. The reference is `$KOMPILE_COMPOSE_REF`, the packaged plugin, or
//! `docker-compose` / `docker compose` on PATH; without one the test is skipped, and fails
//! under CI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support;

const PACKAGED_REFERENCE: &str = "/opt/compose-ref/usr/libexec/docker/cli-plugins/docker-compose";

/// How to start the reference: the program and the arguments before the global flags.
pub(crate) struct Reference {
    pub(crate) program: PathBuf,
    pub(crate) prefix: Vec<String>,
}

#[test]
fn config_matches_reference() {
    let install = "set KOMPILE_COMPOSE_REF, or run .ci/install-compose-reference.sh";
    let Some(reference) = support::tool("the reference docker-compose", install, find_reference()) else { return };
    let fixtures = fixture_dirs();
    assert!(!fixtures.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    for dir in &fixtures {
        if let Err(report) = check_fixture(&reference, dir) {
            failures.push(format!("--- {}\n{report}", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures differ:\n{}", failures.len(), fixtures.len(), failures.join("\n"));
}

pub(crate) fn find_reference() -> Option<Reference> {
    if let Some(path) = std::env::var_os("KOMPILE_COMPOSE_REF").filter(|p| !p.is_empty()) {
        return Some(Reference { program: path.into(), prefix: vec![] });
    }
    if Path::new(PACKAGED_REFERENCE).is_file() {
        return Some(Reference { program: PACKAGED_REFERENCE.into(), prefix: vec![] });
    }
    if support::runs("docker-compose", &["version"]) {
        return Some(Reference { program: "docker-compose".into(), prefix: vec![] });
    }
    if support::runs("docker", &["compose", "version"]) {
        return Some(Reference { program: "docker".into(), prefix: vec!["compose".into()] });
    }
    None
}

/// `fixtures/projects/*`, `fixtures/features/*` and `fixtures/conformance/*`, sorted.
fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs = Vec::new();
    for group in ["projects", "features", "conformance"] {
        let Ok(entries) = std::fs::read_dir(root.join(group)) else { continue };
        dirs.extend(entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()));
    }
    dirs.sort();
    dirs
}

/// The flags of a fixture's `conformance.args`, and the shell variables it sets.
#[derive(Default)]
struct FixtureArgs {
    flags: Vec<String>,
    env: BTreeMap<String, String>,
}

fn fixture_args(dir: &Path) -> FixtureArgs {
    let mut args = FixtureArgs::default();
    let text = std::fs::read_to_string(dir.join("conformance.args")).unwrap_or_default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (flag, value) = line.split_once(' ').unwrap_or((line, ""));
        if flag == "--env" {
            let (key, value) = value.split_once('=').unwrap_or((value, ""));
            args.env.insert(key.to_string(), value.to_string());
        } else {
            args.flags.extend([flag.to_string(), value.to_string()]);
        }
    }
    args
}

/// The variables both sides see: the tests' fixed environment for kompile, PATH from this
/// process, and the fixture's.
fn clean_environment(args: &FixtureArgs) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> =
        support::run::ENVIRONMENT.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.extend(std::env::var("PATH").ok().map(|path| ("PATH".to_string(), path)));
    env.extend(args.env.clone());
    env
}

fn check_fixture(reference: &Reference, dir: &Path) -> Result<(), String> {
    let args = fixture_args(dir);
    let env = clean_environment(&args);
    if dir.join("conformance.reject").is_file() {
        return both_reject(reference, dir, &args, &env);
    }
    let expected = run_reference(reference, dir, &args, &env)?;
    let actual = run_kompile(dir, &args, &env)?;
    let mut differences = Vec::new();
    diff("$", &expected, &actual, &mut differences);
    if differences.is_empty() { Ok(()) } else { Err(differences.join("\n")) }
}

/// A fixture Compose refuses: kompile must refuse it too, with an error diagnostic.
fn both_reject(
    reference: &Reference,
    dir: &Path,
    args: &FixtureArgs,
    env: &BTreeMap<String, String>,
) -> Result<(), String> {
    if let Ok(value) = run_reference(reference, dir, args, env) {
        return Err(format!("marked conformance.reject, but the reference accepts it: {value}"));
    }
    match run_kompile(dir, args, env) {
        Err(report) if report.starts_with("kompile failed") => Ok(()),
        Err(report) => Err(report),
        Ok(value) => Err(format!("the reference refuses it, kompile accepts it: {value}")),
    }
}

fn run_reference(
    reference: &Reference,
    dir: &Path,
    args: &FixtureArgs,
    env: &BTreeMap<String, String>,
) -> Result<Value, String> {
    let output = Command::new(&reference.program)
        .args(&reference.prefix)
        .args(&args.flags)
        .args(["config", "--format", "json"])
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", reference.program.display()))?;
    if !output.status.success() {
        return Err(format!("reference failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("reference printed invalid JSON: {e}"))
}

/// `kompile config` in `dir`, as JSON and as YAML, which must be the same value.
fn run_kompile(dir: &Path, args: &FixtureArgs, env: &BTreeMap<String, String>) -> Result<Value, String> {
    let config = |format: &str| {
        let output =
            support::kompile(dir).envs(env).arg("config").args(&args.flags).args(["--format", format]).output();
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("kompile failed:\n{}", String::from_utf8_lossy(&output.stderr)))
        }
    };
    let json: Value = serde_json::from_str(&config("json")?).map_err(|e| format!("invalid JSON: {e}"))?;
    let yaml: Value = serde_saphyr::from_str(&config("yaml")?).map_err(|e| format!("invalid YAML: {e}"))?;
    if yaml != json {
        return Err("`config --format yaml` and `--format json` disagree".to_string());
    }
    Ok(json)
}

/// Every JSON path where the two values differ, with both sides.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let child = format!("{path}.{key}");
                match a.get(key) {
                    Some(other) => diff(&child, value, other, out),
                    None => out.push(format!("  {child}: missing in kompile (reference: {value})")),
                }
            }
            for (key, value) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                out.push(format!("  {path}.{key}: only in kompile: {value}"));
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if expected == actual => {}
        _ => out.push(format!("  {path}: reference {expected}, kompile {actual}")),
    }
}

/// What the process receives: for every conformance fixture Compose accepts, each service's
/// environment values, entrypoint and command as Compose resolves them must come out of the
/// kubelet's `$(VAR)`/`$$` expansion of kompile's Deployment unchanged.
#[test]
fn values_reach_the_process_as_compose_resolves_them() {
    let install = "set KOMPILE_COMPOSE_REF, or run .ci/install-compose-reference.sh";
    let Some(reference) = support::tool("the reference docker-compose", install, find_reference()) else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance");
    let mut checked = 0;
    for dir in fixture_dirs().iter().filter(|d| d.starts_with(&root) && !d.join("conformance.reject").is_file()) {
        let args = fixture_args(dir);
        let env = clean_environment(&args);
        let Ok(expected) = run_reference(&reference, dir, &args, &env) else { continue };
        let output = support::kompile(dir).envs(&env).args(&args.flags).args(["build", "-o", "json"]).output();
        if !output.status.success() {
            continue;
        }
        let objects: Value = serde_json::from_slice(&output.stdout).expect("build prints JSON");
        for (name, service) in expected["services"].as_object().into_iter().flatten() {
            let Some(container) = container_of(&objects, name) else { continue };
            check_process_values(dir, name, service, container);
            checked += 1;
        }
    }
    assert!(checked > 0, "no service was compared");
}

/// The first container of the Deployment named after `service`.
fn container_of<'a>(objects: &'a Value, service: &str) -> Option<&'a Value> {
    let items = objects["items"].as_array().or(objects.as_array())?;
    let deployment = items.iter().find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == service)?;
    deployment["spec"]["template"]["spec"]["containers"].get(0)
}

fn check_process_values(dir: &Path, name: &str, service: &Value, container: &Value) {
    // `config` prints values as Compose writes them, with `$` escaped as `$$`.
    let resolved = |v: &Value| v.as_str().map(|s| s.replace("$$", "$"));
    let mut defined: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let (Some(key), Some(value)) = (var["name"].as_str(), var["value"].as_str()) else { continue };
        // The kubelet resolves a variable from those defined before it.
        let got =
            support::kubelet_expand(value, |n| defined.iter().rev().find(|(k, _)| k == n).map(|(_, v)| v.clone()));
        let want = resolved(&service["environment"][key]);
        assert_eq!(Some(&got), want.as_ref(), "{}: `{name}` env {key}", dir.display());
        defined.push((key.to_string(), got));
    }
    let lookup = |n: &str| defined.iter().rev().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let words = |v: &Value| -> Vec<String> { v.as_array().into_iter().flatten().filter_map(resolved).collect() };
    let expand = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|w| support::kubelet_expand(w, lookup))
            .collect()
    };
    let (entrypoint, command) = (words(&service["entrypoint"]), words(&service["command"]));
    let (got_command, got_args) = (expand(&container["command"]), expand(&container["args"]));
    // An empty entrypoint runs the command as the whole container command (see emit).
    let want: Vec<String> = entrypoint.iter().chain(&command).cloned().collect();
    let got: Vec<String> = got_command.into_iter().chain(got_args).collect();
    if !entrypoint.is_empty() || !command.is_empty() {
        assert_eq!(got, want, "{}: `{name}` command line", dir.display());
    }
}
