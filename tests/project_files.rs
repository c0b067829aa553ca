//! Bind-mounted project files arrive whole: from the emitted ConfigMaps (their `data`,
//! `binaryData`), the pod's volumes (`configMap` and `projected`, their `items` and modes) and
//! each container's mounts (`subPath` included), the file tree each container sees at each
//! mount is rebuilt and compared with the project directory: paths, bytes, executable bits.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use k8s_openapi::api::core::v1::{ConfigMap, KeyToPath, PodSpec, Volume, VolumeMount};
use kompile::emit::Object;

use crate::support;

/// A file as a container sees it: bytes and whether it is executable.
type Tree = BTreeMap<String, (Vec<u8>, bool)>;

/// The files under `dir`, by path relative to it.
fn on_disk(dir: &Path) -> Tree {
    let mut tree = Tree::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
            let executable = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o111 != 0;
            tree.insert(relative, (std::fs::read(&path).expect("read"), executable));
        }
    }
    tree
}

/// Every ConfigMap key's bytes, by ConfigMap name.
fn config_maps(objects: &[Object]) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    let mut maps = BTreeMap::new();
    for object in objects {
        let Object::ConfigMap(map) = object else { continue };
        let ConfigMap { metadata, data, binary_data, .. } = map.as_ref();
        let mut keys: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (key, text) in data.iter().flatten() {
            keys.insert(key.clone(), text.clone().into_bytes());
        }
        for (key, bytes) in binary_data.iter().flatten() {
            assert!(std::str::from_utf8(&bytes.0).is_err(), "`{key}` is UTF-8: it belongs in data");
            keys.insert(key.clone(), bytes.0.clone());
        }
        maps.insert(metadata.name.clone().expect("named"), keys);
    }
    maps
}

/// The pod spec of each workload, by name.
fn pods(objects: &[Object]) -> BTreeMap<String, PodSpec> {
    let mut pods = BTreeMap::new();
    for object in objects {
        let spec = match object {
            Object::Deployment(d) => d.spec.as_ref().and_then(|s| s.template.spec.clone()),
            Object::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.template.spec.clone()),
            _ => None,
        };
        if let Some(spec) = spec {
            pods.insert(object.name().to_string(), spec);
        }
    }
    pods
}

/// The files a volume holds, by path in it: each ConfigMap's items (or all its keys) with
/// their modes, the default 0644 when none is given.
fn volume_files(
    volume: &Volume,
    maps: &BTreeMap<String, BTreeMap<String, Vec<u8>>>,
) -> BTreeMap<String, (Vec<u8>, u32)> {
    let mut sources: Vec<(String, Option<Vec<KeyToPath>>, Option<i32>)> = Vec::new();
    if let Some(map) = &volume.config_map {
        sources.push((map.name.clone(), map.items.clone(), map.default_mode));
    }
    if let Some(projected) = &volume.projected {
        for source in projected.sources.iter().flatten() {
            let map = source.config_map.as_ref().expect("only ConfigMaps are projected here");
            sources.push((map.name.clone(), map.items.clone(), projected.default_mode));
        }
    }
    let mut files = BTreeMap::new();
    for (name, items, default_mode) in sources {
        let keys = maps.get(&name).unwrap_or_else(|| panic!("volume `{}` names no ConfigMap `{name}`", volume.name));
        let items = items.unwrap_or_else(|| {
            keys.keys().map(|k| KeyToPath { key: k.clone(), path: k.clone(), mode: None }).collect()
        });
        for item in items {
            let bytes = keys.get(&item.key).unwrap_or_else(|| panic!("`{name}` has no key `{}`", item.key));
            let mode = item.mode.or(default_mode).unwrap_or(0o644) as u32;
            let earlier = files.insert(item.path.clone(), (bytes.clone(), mode));
            assert!(earlier.is_none(), "two items at `{}`", item.path);
        }
    }
    files
}

/// What a container sees at `mount`: with a `subPath`, that one file at the mount path
/// (the empty path here); else every file of the volume at its path.
fn seen_at(mount: &VolumeMount, pod: &PodSpec, maps: &BTreeMap<String, BTreeMap<String, Vec<u8>>>) -> Tree {
    let volume = pod.volumes.iter().flatten().find(|v| v.name == mount.name).expect("the mount's volume");
    let files = volume_files(volume, maps);
    let as_seen = |(bytes, mode): &(Vec<u8>, u32)| (bytes.clone(), mode & 0o111 != 0);
    match &mount.sub_path {
        Some(sub_path) => {
            let file = files.get(sub_path).unwrap_or_else(|| panic!("subPath `{sub_path}` is no file of the volume"));
            Tree::from([(String::new(), as_seen(file))])
        }
        None => files.iter().map(|(path, file)| (path.clone(), as_seen(file))).collect(),
    }
}

#[test]
fn every_container_sees_the_project_files_as_they_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let write = |path: &str, bytes: &[u8]| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, bytes).expect("written");
    };
    write(
        "compose.yaml",
        b"services:\n  app:\n    image: app:1\n    volumes:\n      - ./tree:/srv/tree:ro\n      - ./tree/bin/run.sh:/usr/local/bin/run.sh\n      - ./conf:/etc/app\n  sidecar:\n    image: tail:1\n    volumes: [./conf:/conf]\n",
    );
    write("tree/a/b/c.txt", b"deep\n");
    write("tree/a/b.txt", b"a slash\n");
    write("tree/a_b.txt", b"an underscore\n");
    write("tree/notes file.txt", b"a space\n");
    write("tree/bin/run.sh", b"#!/bin/sh\necho run\n");
    std::fs::set_permissions(root.join("tree/bin/run.sh"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    write("tree/img/logo.png", &binary);
    // More than one ConfigMap holds, together.
    write("tree/data/one.sql", &b"INSERT INTO t VALUES (1);\n".repeat(28_000));
    write("tree/data/two.sql", &b"INSERT INTO t VALUES (2);\n".repeat(28_000));
    write("conf/app.toml", b"level = \"info\"\n");
    write("conf/tls/ca.der", &[0x30, 0x82, 0xff, 0x00]);

    let compiled = support::compile(&support::options(root));
    let objects = compiled.objects.unwrap_or_else(|| panic!("{}", compiled.diagnostics));
    let maps = config_maps(&objects);
    let pods = pods(&objects);
    let mut seen: BTreeMap<(String, String), Tree> = BTreeMap::new();
    for pod in pods.values() {
        for container in &pod.containers {
            for mount in container.volume_mounts.iter().flatten() {
                let tree = seen_at(mount, pod, &maps);
                seen.insert((container.name.clone(), mount.mount_path.clone()), tree);
            }
        }
    }
    let tree = on_disk(&root.join("tree"));
    let conf = on_disk(&root.join("conf"));
    let one_file = |path: &str| Tree::from([(String::new(), on_disk(root).remove(path).expect("on disk"))]);
    assert_eq!(tree.len(), 8, "{:?}", tree.keys());
    assert_eq!(seen[&("app".into(), "/srv/tree".into())], tree);
    assert_eq!(seen[&("app".into(), "/etc/app".into())], conf);
    assert_eq!(seen[&("sidecar".into(), "/conf".into())], conf);
    let run = &seen[&("app".into(), "/usr/local/bin/run.sh".into())];
    assert_eq!(run, &Tree::from([(String::new(), tree["bin/run.sh"].clone())]));
    assert!(run[""].1, "still executable");
    assert_eq!(one_file("tree/bin/run.sh"), *run);

    // The tree was split, and it is one volume at one target.
    let split: Vec<&String> = maps.keys().filter(|name| name.starts_with("app-tree")).collect();
    assert!(split.len() >= 2, "{split:?}");
    let app = &pods["app"];
    let projected: Vec<&Volume> = app.volumes.iter().flatten().filter(|v| v.projected.is_some()).collect();
    assert_eq!(projected.len(), 1, "{projected:?}");
    assert!(compiled.diagnostics.contains("one projected volume mounted at /srv/tree"), "{}", compiled.diagnostics);
}

/// The file a container reads at a single-file mount over 1 MiB is never a directory: the
/// build stops with K265, which names the way out.
#[test]
fn a_single_file_over_a_config_map_stops_the_build() {
    let dir = tempfile::tempdir().expect("temp dir");
    let compose =
        "services:\n  db:\n    image: postgres:16.4\n    volumes: [./dump.sql:/docker-entrypoint-initdb.d/dump.sql]\n";
    std::fs::write(dir.path().join("compose.yaml"), compose).expect("written");
    std::fs::File::create(dir.path().join("dump.sql")).expect("created").set_len(3 << 20).expect("sized");
    let compiled = support::compile(&support::options(dir.path()));
    assert!(compiled.objects.is_none(), "no manifests");
    assert!(compiled.diagnostics.contains("error[K265]"), "{}", compiled.diagnostics);
    assert!(compiled.diagnostics.contains("(3.0 MiB)"), "{}", compiled.diagnostics);
}

/// The to-do project as the public examples write it (fixtures/projects/todo): MariaDB sees
/// its init directory whole (the `data/` folder and the executable loader included), the
/// Node app runs the image's sources and modules (both mounts dropped), and the upload
/// service, whose image runs as 1000:1000, owns its claim and finds the image's files in it.
#[test]
fn the_todo_project_runs_as_under_compose() {
    let dir = support::root().join("fixtures/projects/todo");
    let compiled = support::compile(&support::options(&dir));
    let objects = compiled.objects.unwrap_or_else(|| panic!("{}", compiled.diagnostics));
    let maps = config_maps(&objects);
    let pods = pods(&objects);

    let db = &pods["db"];
    let init = db.containers[0].volume_mounts.iter().flatten().find(|m| m.mount_path == "/docker-entrypoint-initdb.d");
    let init = seen_at(init.expect("the init directory is mounted"), db, &maps);
    assert_eq!(init, on_disk(&dir.join("db/init")));
    assert!(init.contains_key("data/items.csv") && init["03-load.sh"].1, "{:?}", init.keys());

    let app = &pods["app"];
    let targets: Vec<&str> = app.containers[0].volume_mounts.iter().flatten().map(|m| m.mount_path.as_str()).collect();
    assert!(!targets.iter().any(|t| t.starts_with("/app")), "the image's /app shows through: {targets:?}");

    let uploads = &pods["uploads"];
    let context = uploads.security_context.clone().expect("a pod security context");
    assert_eq!((context.fs_group, context.fs_group_change_policy.as_deref()), (Some(1000), Some("OnRootMismatch")));
    let seeder = uploads.init_containers.iter().flatten().find(|c| c.name.starts_with("seed-")).expect("a seeder");
    assert_eq!(seeder.image, uploads.containers[0].image, "the same image");
    assert_eq!(seeder.command.as_ref().map(|c| c[4].as_str()), Some("/srv/files"), "copies the image's /srv/files");
    for code in ["K260", "K261", "K264"] {
        assert!(compiled.diagnostics.contains(&format!("[{code}]")), "{code} missing: {}", compiled.diagnostics);
    }
}
