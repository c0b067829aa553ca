//! `kompile images --format bake` read back by `docker buildx bake --print` (it needs no
//! engine): buildx must accept the file and build exactly the images the manifests name.
//! Skips with a message when `docker buildx` is not installed (`.ci/install-buildx.sh`), and
//! fails under CI.

use std::process::Command;

use crate::support;

#[test]
fn buildx_accepts_the_bake_file() {
    let found = support::runs("docker", &["buildx", "version"]).then_some(());
    if support::tool("docker buildx", "run .ci/install-buildx.sh", found).is_none() {
        return;
    }
    let dir = support::root().join("fixtures/features/dockerfile-inference");
    let images = support::kompile(&dir).args(["images", "--format", "json"]).output();
    assert!(images.status.success(), "{}", String::from_utf8_lossy(&images.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&images.stdout).expect("JSON");
    let bake = support::kompile(&dir).args(["images", "--format", "bake"]).output();
    assert!(bake.status.success(), "{}", String::from_utf8_lossy(&bake.stderr));
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &bake.stdout).expect("written");
    let printed = Command::new("docker")
        .args(["buildx", "bake", "--print", "-f"])
        .arg(file.path())
        .output()
        .expect("buildx runs");
    assert!(printed.status.success(), "buildx refused the file: {}", String::from_utf8_lossy(&printed.stderr));
    let resolved: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("buildx prints JSON");
    let mut tags: Vec<String> = resolved["target"]
        .as_object()
        .expect("targets")
        .values()
        .flat_map(|t| t["tags"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(String::from))
        .collect();
    let mut wanted: Vec<String> =
        listed.as_array().expect("a list").iter().filter_map(|i| i["image"].as_str().map(String::from)).collect();
    tags.sort();
    wanted.sort();
    assert!(!wanted.is_empty());
    assert_eq!(tags, wanted, "buildx would push exactly the images the manifests reference");
}
