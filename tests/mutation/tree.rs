//! Structure-aware mutants: each fixture's compose files are parsed into a tree, and values
//! that have broken kompile before (numbers past every integer type, `${`, Unicode controls,
//! very long strings, values of the wrong type, names Kubernetes cannot use) are put at
//! random places and under the keys that matter. Unlike the byte corruptions in the parent
//! module these mutants are valid YAML, so they reach lowering, emitting and rendering.
//!
//! Each mutant runs through the real binary, `kompile build`, with a bound on time: it must
//! exit 0, 1 or 2 (never a panic's 101 or a signal), and when it exits 0 what it printed must
//! parse as YAML and pass the API server's checks (tests/support/validate.rs).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{Rng, save_failure, support, validate};

/// Mutants per compose file in `cargo test`; `KOMPILE_MUTANTS=N` runs more (40 per file, about
/// 4,400 mutants, took 90 s on two cores and found nothing the default run does not).
const PER_FILE: usize = 8;

fn per_file() -> usize {
    std::env::var("KOMPILE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(PER_FILE)
}
/// A run still going after this is a hang: real runs of these small projects take
/// milliseconds, so this bound only ever trips on a loop that does not end.
const HANG: Duration = Duration::from_secs(60);

/// Long strings: past miette's 65,535 columns, past a label's 63 characters.
fn long(n: usize) -> String {
    "x".repeat(n)
}

/// Values that have broken compilers of this kind before.
fn nasty(rng: &mut Rng) -> Value {
    let strings: &[&str] = &[
        "",
        " ",
        "${",
        "${A",
        "${A:-${B:-",
        "$$(CACHE_URL)",
        "$(HOME)",
        "\u{7f}\u{85}\u{9f}",
        "\u{2028}\u{2029}\u{feff}\u{fffe}\u{ffff}",
        "a\nb",
        "a\r\nb: c",
        "key: value",
        "- item",
        "#comment",
        "1web",
        "Web_Server",
        "E[",
        "a b",
        "/a/../../etc/passwd",
        "../outside",
        "/",
        "1-65535:1-65535",
        "8080:80",
        "127.0.0.1:80:80/udp",
        "0",
        "-1",
        "65536",
        "1e20",
        "1e20s",
        "-1s",
        "99999999999h",
        "0.5",
        "644",
        "0o777",
        "0x10",
        "null",
        "true",
        "*alias",
        "!reset",
        "ÄÖü日本",
        "\u{202e}evil",
    ];
    match rng.below(6) {
        0 => Value::String(strings[rng.below(strings.len())].to_string()),
        1 => Value::String(long([64, 70, 254, 70_000][rng.below(4)])),
        2 => {
            let numbers = [json!(0), json!(-1), json!(1e20), json!(18446744073709551615u64), json!(2147483648i64)];
            numbers[rng.below(numbers.len())].clone()
        }
        3 => {
            let numbers = [json!(i64::MIN), json!(0.5), json!(1e-9), json!(4294967296i64), json!(644)];
            numbers[rng.below(numbers.len())].clone()
        }
        4 => [json!(null), json!(true), json!([]), json!({}), json!([null]), json!({"": ""})][rng.below(6)].clone(),
        _ => match rng.below(3) {
            0 => Value::Array((0..1_000).map(|i| json!(format!("{i}"))).collect()),
            1 => (0..40).fold(json!("deep"), |inner, _| json!({"k": inner})),
            _ => Value::Array(vec![json!("${"); 3]),
        },
    }
}

/// Service keys whose values travel furthest: into names, ports, probes, mounts, labels.
const SERVICE_KEYS: &[&str] = &[
    "image",
    "ports",
    "expose",
    "environment",
    "labels",
    "volumes",
    "command",
    "entrypoint",
    "user",
    "container_name",
    "hostname",
    "stop_grace_period",
    "healthcheck",
    "deploy",
    "restart",
    "working_dir",
    "secrets",
    "configs",
    "env_file",
    "depends_on",
    "tmpfs",
    "x-kompile",
    "profiles",
    "build",
];

/// Nested keys under those: where durations, counts and modes live.
const NESTED: &[(&str, &str)] = &[
    ("healthcheck", "interval"),
    ("healthcheck", "timeout"),
    ("healthcheck", "retries"),
    ("healthcheck", "start_period"),
    ("healthcheck", "test"),
    ("deploy", "replicas"),
    ("deploy", "resources"),
    ("deploy", "update_config"),
    ("deploy", "mode"),
    ("x-kompile", "size"),
];

/// Every node's path from the root, so one can be picked at random.
fn paths(value: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                here.push(key.clone());
                paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(i.to_string());
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, step| match node {
        Value::Object(map) => map.get_mut(step),
        Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn services(tree: &mut Value) -> Option<&mut Map<String, Value>> {
    tree.get_mut("services").and_then(Value::as_object_mut).filter(|s| !s.is_empty())
}

/// One random edit of the tree, described.
fn mutate(tree: &mut Value, rng: &mut Rng) -> String {
    match rng.below(5) {
        // A service key set to a nasty value.
        0 | 1 => {
            let key = SERVICE_KEYS[rng.below(SERVICE_KEYS.len())];
            let value = nasty(rng);
            let what = format!("services.*.{key} = {}", short(&value));
            if let Some(services) = services(tree) {
                let name = services.keys().nth(rng.below(services.len())).cloned().unwrap_or_default();
                if let Some(service) = services.get_mut(&name).and_then(Value::as_object_mut) {
                    service.insert(key.to_string(), value);
                }
            }
            what
        }
        // A nested setting (a duration, a count) set to a nasty value.
        2 => {
            let (outer, inner) = NESTED[rng.below(NESTED.len())];
            let value = nasty(rng);
            let what = format!("services.*.{outer}.{inner} = {}", short(&value));
            if let Some(services) = services(tree) {
                let name = services.keys().nth(rng.below(services.len())).cloned().unwrap_or_default();
                if let Some(service) = services.get_mut(&name).and_then(Value::as_object_mut) {
                    let block = service.entry(outer).or_insert_with(|| json!({}));
                    if let Some(block) = block.as_object_mut() {
                        block.insert(inner.to_string(), value);
                    }
                }
            }
            what
        }
        // A mapping key renamed to a nasty one (a service, a label, a variable).
        3 => {
            let mut all = Vec::new();
            paths(tree, &mut Vec::new(), &mut all);
            let keyed: Vec<&Vec<String>> = all.iter().filter(|p| !p.is_empty()).collect();
            let Some(path) = keyed.get(rng.below(keyed.len())).map(|p| (*p).clone()) else {
                return "nothing to rename".to_string();
            };
            let new = match nasty(rng) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let what = format!("rename {} to {}", path.join("."), short(&json!(new)));
            let (last, parent) = path.split_last().expect("non-empty");
            if let Some(map) = at(tree, parent).and_then(Value::as_object_mut)
                && let Some(value) = map.remove(last)
            {
                map.insert(new, value);
            }
            what
        }
        // Any node replaced.
        _ => {
            let mut all = Vec::new();
            paths(tree, &mut Vec::new(), &mut all);
            let path = all[rng.below(all.len())].clone();
            let value = nasty(rng);
            let what = format!("{} = {}", path.join("."), short(&value));
            if let Some(node) = at(tree, &path) {
                *node = value;
            }
            what
        }
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        format!("{}… ({} bytes)", text.chars().take(40).collect::<String>(), text.len())
    } else {
        text
    }
}

/// The compose files of every fixture project that parse as a plain tree (files using
/// `!reset`-style tags or non-string keys are left to the byte mutants).
fn targets() -> Vec<(PathBuf, PathBuf, Value)> {
    let mut out = Vec::new();
    for group in ["projects", "features", "conformance", "diagnostics"] {
        for dir in support::fixtures(group) {
            for name in ["compose.yaml", "compose.override.yaml"] {
                let Ok(text) = std::fs::read_to_string(dir.join(name)) else { continue };
                if let Ok(tree @ Value::Object(_)) = serde_saphyr::from_str::<Value>(&text) {
                    out.push((dir.clone(), PathBuf::from(name), tree));
                }
            }
        }
    }
    out
}

enum Outcome {
    Exited { code: i32, stdout: Vec<u8>, stderr: Vec<u8> },
    Hung,
    Killed(String),
}

/// `kompile build` in `dir`, killed after [`HANG`].
fn build(dir: &Path) -> Outcome {
    let Some(output) = support::kompile(dir).arg("build").output_within(HANG) else { return Outcome::Hung };
    match output.status.code() {
        Some(code) => Outcome::Exited { code, stdout: output.stdout, stderr: output.stderr },
        None => Outcome::Killed(format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr))),
    }
}

/// What is wrong with one run, if anything.
fn judge(outcome: Outcome) -> Option<String> {
    match outcome {
        Outcome::Hung => Some(format!("still running after {HANG:?}")),
        Outcome::Killed(why) => Some(format!("killed: {why}")),
        Outcome::Exited { code: 0, stdout, .. } => {
            let text = String::from_utf8_lossy(&stdout);
            match serde_saphyr::from_multiple::<Value>(&text) {
                Err(error) => Some(format!("exit 0 with output that is not YAML: {error}")),
                Ok(docs) => {
                    let problems = validate::objects(&docs);
                    (!problems.is_empty())
                        .then(|| format!("exit 0 with invalid objects:\n      {}", problems.join("\n      ")))
                }
            }
        }
        Outcome::Exited { code: 1 | 2, .. } => None,
        Outcome::Exited { code, stderr, .. } => {
            let tail: String = String::from_utf8_lossy(&stderr).chars().take(600).collect();
            Some(format!("exit {code}: {tail}"))
        }
    }
}

struct Case {
    label: String,
    dir: PathBuf,
    file: PathBuf,
    bytes: Vec<u8>,
}

/// Every mutant, written out when it runs: (fixture, file, mutant bytes).
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (dir, file, tree) in targets() {
        let label = format!("{}/{}", dir.strip_prefix(support::root()).unwrap_or(&dir).display(), file.display());
        let mut rng = Rng::new(&format!("tree:{label}"));
        for m in 0..per_file() {
            let mut mutant = tree.clone();
            let edits: Vec<String> = (0..1 + rng.below(2)).map(|_| mutate(&mut mutant, &mut rng)).collect();
            let bytes = serde_json::to_vec_pretty(&mutant).unwrap_or_default();
            out.push(Case {
                label: format!("{label} #{m}: {}", edits.join("; ")),
                dir: dir.clone(),
                file: file.clone(),
                bytes,
            });
        }
    }
    out
}

/// Runs the cases on `workers` threads, each in its own copy of the fixture.
fn run_all(cases: &[Case], workers: usize) -> Vec<String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let scratch = tempfile::tempdir().expect("temp dir");
                    let project = scratch.path().join("project");
                    super::copy_dir(&case.dir, &project);
                    std::fs::write(project.join(&case.file), &case.bytes).expect("write mutant");
                    if let Some(problem) = judge(build(&project)) {
                        let saved = save_failure(
                            &format!("tree-{}", case.label.chars().take(60).collect::<String>()),
                            &case.bytes,
                        );
                        failures.lock().expect("not poisoned").push(format!(
                            "{}: {problem}\n    (saved as {})",
                            case.label,
                            saved.display()
                        ));
                    }
                }
            });
        }
    });
    failures.into_inner().expect("not poisoned")
}

#[test]
fn structured_mutants_exit_cleanly_and_build_valid_objects() {
    let started = Instant::now();
    let cases = cases();
    assert!(cases.len() > 300, "only {} mutants: are the fixtures there?", cases.len());
    let failures = run_all(&cases, 2);
    println!("{} structured mutants through `kompile build` in {:.1?}", cases.len(), started.elapsed());
    assert!(failures.is_empty(), "{} of {} mutants failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn the_mutator_makes_what_it_says() {
    let mut rng = Rng::new("check");
    let mut tree = json!({"services": {"web": {"image": "nginx:1"}}});
    let descriptions: Vec<String> = (0..50).map(|_| mutate(&mut tree, &mut rng)).collect();
    assert!(descriptions.iter().any(|d| d.starts_with("services.*.")), "{descriptions:?}");
    assert!(descriptions.iter().any(|d| d.starts_with("rename ")), "{descriptions:?}");
    assert_ne!(tree, json!({"services": {"web": {"image": "nginx:1"}}}));
}
