//! What ships besides the crate (docs/release.md): the Dockerfile passes kompile's own check,
//! every file that pins a kompile release names Cargo.toml's version, and the workflow and hook
//! files are YAML that GitHub and pre-commit can read. The wheel itself is built and installed,
//! and the pre-commit hook run from it, by .ci/run (a release build: too slow for a test).

use std::path::Path;

use serde_json::Value;

use crate::support;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read(path: &str) -> String {
    std::fs::read_to_string(support::root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The one hook of a `.pre-commit-hooks.yaml`.
fn hook(path: &str) -> Value {
    match yaml(path) {
        Value::Array(hooks) if hooks.len() == 1 => hooks.into_iter().next().unwrap_or_default(),
        other => panic!("{path}: expected one hook, found {other}"),
    }
}

#[test]
fn the_dockerfile_passes_its_own_check() {
    let run = support::kompile(support::root())
        .args(["check", "--deny", "warnings", "--format", "short", "Dockerfile"])
        .run();
    let printed = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 0, "kompile check --deny warnings Dockerfile:\n{printed}");
    assert!(printed.contains("0 errors, 0 warnings"), "{printed}");
}

/// The final image runs as a numeric non-root user, the static binary as its entry point, and
/// the build context leaves out what the build does not read.
#[test]
fn the_image_is_static_and_non_root() {
    let dockerfile = read("Dockerfile");
    let last = dockerfile.rsplit("\nFROM ").next().unwrap_or_default();
    assert!(last.starts_with("gcr.io/distroless/static") || last.starts_with("scratch"), "final stage: FROM {last}");
    assert!(last.contains("\nUSER 65532:65532\n"), "final stage runs as a numeric non-root user");
    assert!(last.contains("\nENTRYPOINT [\"/kompile\"]\n"));
    let ignored = read(".dockerignore");
    for path in ["target/", ".git/", "fixtures/", "snapshots/"] {
        assert!(ignored.lines().any(|line| line == path), ".dockerignore should leave out {path}");
    }
    for line in dockerfile.lines().filter_map(|line| line.strip_prefix("COPY ")).filter(|l| !l.starts_with("--from")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[..words.len() - 1] {
            let path = source.trim_end_matches('/');
            assert!(support::root().join(path).exists(), "the Dockerfile copies {source}, which does not exist");
            let top = path.split('/').next().unwrap_or_default();
            assert!(!ignored.lines().any(|l| l.trim_end_matches('/') == top), ".dockerignore leaves out {source}");
        }
    }
}

/// A release bumps Cargo.toml's version; everything that names a release must follow
/// (docs/release.md lists them). pyproject.toml takes the version from Cargo.toml.
#[test]
fn every_pin_names_this_version() {
    let pyproject = read("pyproject.toml");
    assert!(pyproject.contains("\ndynamic = [\"version\"]\n"), "pyproject.toml takes its version from Cargo.toml");
    assert!(pyproject.contains("\nbindings = \"bin\"\n"));

    let pin = format!("kompile=={VERSION}");
    let wheel_hook = hook("pre-commit/.pre-commit-hooks.yaml");
    assert_eq!(wheel_hook["id"], "kompile-check");
    assert_eq!(wheel_hook["language"], "python");
    assert_eq!(wheel_hook["additional_dependencies"], serde_json::json!([pin]));
    let mirror = read("pre-commit/pyproject.toml");
    assert!(mirror.contains(&format!("\nversion = \"{VERSION}\"\n")), "pre-commit/pyproject.toml version");
    assert!(mirror.contains(&format!("\ndependencies = [\"{pin}\"]\n")), "pre-commit/pyproject.toml pins {pin}");

    let action = yaml("action.yml");
    assert_eq!(action["inputs"]["version"]["default"], VERSION, "action.yml's default version");
    assert_eq!(action["runs"]["using"], "composite");

    let readme = read("README.md");
    for snippet in [
        format!("repo: https://github.com/kompile-dev/kompile-pre-commit\n    rev: v{VERSION}\n"),
        format!("uses: kompile-dev/kompile@v{VERSION}\n"),
    ] {
        assert!(readme.contains(&snippet), "README.md should say {snippet:?}");
    }
}

/// The hook built from source and the one installed from the wheel check the same files the
/// same way.
#[test]
fn both_hooks_agree() {
    let source = hook(".pre-commit-hooks.yaml");
    let wheel = hook("pre-commit/.pre-commit-hooks.yaml");
    assert_eq!(source["id"], "kompile-check-source");
    assert_eq!(source["language"], "rust");
    for key in ["entry", "files", "require_serial"] {
        assert_eq!(source[key], wheel[key], "{key}");
    }
}

/// GitHub reads workflows as YAML and rejects a file that is not (e2e.yml once had a `run:`
/// line ending in `::`, a mapping).
#[test]
fn workflows_are_yaml() {
    let dir = support::root().join(".github/workflows");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let workflow = yaml(&Path::new(".github/workflows").join(&name).to_string_lossy());
        assert!(workflow["jobs"].is_object(), "{name} has no jobs");
        names.push(name);
    }
    assert!(names.iter().any(|n| n == "release.yml"), "{names:?}");
    let release = read(".github/workflows/release.yml");
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(release.contains(&format!("target: {target},")), "release.yml builds no binary for {target}");
    }
}
