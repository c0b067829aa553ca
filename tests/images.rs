//! `kompile images` and the content-hash tags of built images: the listing and bake file
//! of a fixture, and tags that change with the code and only with it.

use std::path::Path;

use crate::support;

const FIXTURE: &str = "fixtures/features/dockerfile-inference";

fn kompile(args: &[&str]) -> (String, i32) {
    let output = support::kompile(support::root()).args(args).output();
    let root = support::root().display().to_string();
    (String::from_utf8_lossy(&output.stdout).replace(&root, "[ROOT]"), output.status.code().unwrap_or(-1))
}

#[test]
fn images_lists_every_build_in_each_format() {
    let file = format!("{FIXTURE}/compose.yaml");
    for format in ["text", "json", "bake"] {
        let (out, code) = kompile(&["images", "-f", &file, "--format", format]);
        assert_eq!(code, 0, "{format}: {out}");
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("images-{format}"), out);
        });
    }
}

#[test]
fn the_command_line_registry_wins_and_no_registry_is_an_error() {
    let file = format!("{FIXTURE}/compose.yaml");
    let (out, _) = kompile(&["images", "-f", &file, "--format", "json", "--registry", "ghcr.io/other/"]);
    assert!(out.contains("\"ghcr.io/other/shop-api:sha-"), "{out}");
    let (_, code) = kompile(&["images", "-f", "fixtures/diagnostics/K205/compose.yaml"]);
    assert_eq!(code, 1);
}

/// The image reference of service `api` in a project at `dir`, as `kompile images` prints it.
fn api_image(dir: &Path) -> String {
    let output = support::kompile(dir).args(["images", "--format", "json", "--registry", "r.example.com"]).output();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let api = listed.as_array().expect("a list").iter().find(|i| i["service"] == "api").expect("api is listed");
    api["image"].as_str().expect("api is named").to_string()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn tags_change_with_what_the_build_reads_and_only_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let compose = "name: shop\nservices:\n  api:\n    build:\n      context: ./api\n      args: {MODE: fast}\n";
    write(dir.path(), "compose.yaml", compose);
    write(dir.path(), "api/Dockerfile", "FROM python:3.13-slim\nCOPY . /app\n");
    write(dir.path(), "api/.dockerignore", "*.log\n");
    write(dir.path(), "api/app.py", "print('v1')\n");
    let first = api_image(dir.path());
    assert!(first.starts_with("r.example.com/shop-api:sha-"), "{first}");
    assert_eq!(api_image(dir.path()), first, "nothing changed");

    write(dir.path(), "api/debug.log", "noise");
    write(dir.path(), "notes.txt", "outside the context");
    assert_eq!(api_image(dir.path()), first, "ignored and outside files do not count");

    write(dir.path(), "api/app.py", "print('v2')\n");
    let second = api_image(dir.path());
    assert_ne!(second, first, "changed code, new tag");

    write(dir.path(), "api/Dockerfile", "FROM python:3.13-slim\nCOPY . /srv\n");
    let third = api_image(dir.path());
    assert_ne!(third, second, "a changed Dockerfile, new tag");

    write(dir.path(), "compose.yaml", &compose.replace("fast", "slow"));
    assert_ne!(api_image(dir.path()), third, "changed build args, new tag");
}

#[test]
fn bake_passes_build_secrets_by_file_and_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let compose = "name: shop\nservices:\n  api:\n    image: r.example.com/api:1\n    build:\n      context: ./api\n      secrets:\n        - npmrc\n        - {source: token, target: gh}\nsecrets:\n  npmrc: {file: './npm,rc'}\n  token: {environment: GH_TOKEN}\n";
    write(dir.path(), "compose.yaml", compose);
    write(dir.path(), "api/Dockerfile", "FROM scratch\n");
    write(dir.path(), "npm,rc", "secret value\n");
    let file = dir.path().join("compose.yaml");
    let (out, code) = kompile(&["images", "-f", &file.display().to_string(), "--format", "bake"]);
    assert_eq!(code, 0, "{out}");
    let bake: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let src = dir.path().join("npm,rc").display().to_string();
    let wanted = serde_json::json!([format!("id=npmrc,\"src={src}\""), "id=gh,env=GH_TOKEN"]);
    assert_eq!(bake["target"]["api"]["secret"], wanted);
    assert!(!out.contains("secret value"), "secret values are never read");
}
