//! Writes emitted objects out: one YAML stream, one JSON `List`, or a kustomize directory.

pub mod compose;
mod exposure;
pub mod helm;
mod overlay;
mod yaml;

pub use exposure::exposure_table;

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::emit::Object;

/// Marks a directory as kompile's and lists what kompile wrote into it, so a later run may
/// replace it without ever deleting a file kompile did not create.
const MARKER: &str = ".kompile";
const MARKER_HEADER: &str = "# Written by kompile; replaced on every run. Files kompile owns here:";
const KUSTOMIZATION: &str = "kustomization.yaml";

/// A multi-document YAML stream, every document introduced by `---`.
pub fn yaml(objects: &[Object]) -> String {
    // Rendering each object is independent; large outputs use every core.
    crate::parallel::chunks(objects, 256, |chunk| chunk.iter().map(|o| document(&o.to_value())).collect::<String>())
        .concat()
}

/// All objects as one `v1/List`, pretty-printed, with a trailing newline.
pub fn json(objects: &[Object]) -> String {
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": objects.iter().map(Object::to_value).collect::<Vec<_>>(),
    });
    // Printing a Value cannot fail: its keys are strings and its numbers finite.
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
    text.push('\n');
    text
}

/// One object as YAML, without the document marker: what `kompile diff` compares.
pub fn value_yaml(value: &Value) -> String {
    document(value).trim_start_matches("---\n").to_string()
}

fn document(value: &Value) -> String {
    yaml::document(value)
}

/// Writes one YAML file per object into `dir`, plus a `kustomization.yaml` listing them in
/// apply order, and returns the paths of those files (see [`write_tree`]).
pub fn write_dir(objects: &[Object], dir: &Path) -> io::Result<Vec<PathBuf>> {
    write_tree(&dir_files(objects, false), dir)
}

/// Writes a kustomize tree into `dir`: `base/` as [`write_dir`] writes a directory (kept in
/// kompile's order), and `overlays/NAME/` for each named set of objects, holding only what it
/// changes in the base. One tree, replaced whole (see [`write_tree`]).
pub fn write_kustomize(base: &[Object], overlays: &[(String, Vec<Object>)], dir: &Path) -> io::Result<Vec<PathBuf>> {
    write_tree(&kustomize_files(base, overlays), dir)
}

/// The files of [`write_kustomize`], paths relative to its directory.
pub fn kustomize_files(base: &[Object], overlays: &[(String, Vec<Object>)]) -> Vec<(String, String)> {
    let mut files = prefixed("base", dir_files(base, true));
    let base: Vec<Value> = base.iter().map(Object::to_value).collect();
    for (name, objects) in overlays {
        let objects: Vec<Value> = objects.iter().map(Object::to_value).collect();
        files.extend(prefixed(&format!("overlays/{name}"), overlay::overlay_files(&base, &objects)));
    }
    files
}

fn prefixed(dir: &str, files: Vec<(String, String)>) -> Vec<(String, String)> {
    files.into_iter().map(|(name, text)| (format!("{dir}/{name}"), text)).collect()
}

/// Writes `files` (paths relative to `dir`, `/`-separated, in the order returned) into `dir`
/// and returns their paths.
///
/// The directory is built beside `dir` and swapped in, so readers see the old set of files
/// or the new one, never a mix. An existing `dir` is only replaced when everything in it was
/// written by kompile; otherwise this fails with [`ErrorKind::AlreadyExists`], naming the
/// first file kompile did not write, and changes nothing.
pub fn write_tree(files: &[(String, String)], dir: &Path) -> io::Result<Vec<PathBuf>> {
    let replace = check_target(dir)?;
    let parent = parent_of(dir);
    fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new().prefix(".kompile-new-").tempdir_in(parent)?;
    write_files(files, staging.path())?;
    if replace {
        swap(staging.path(), dir, parent)?;
    } else {
        fs::rename(staging.path(), dir)?;
    }
    // The staging directory now is `dir`; keep it from being cleaned up.
    let _ = staging.keep();
    Ok(files.iter().map(|(name, _)| dir.join(name)).collect())
}

/// Whether `dir` exists and may be replaced; an error saying why when it may not.
fn check_target(dir: &Path) -> io::Result<bool> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let refusal = if meta.is_symlink() {
        match fs::metadata(dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => "it is a dangling symbolic link",
            _ => "it is a symbolic link; kompile replaces only a directory it wrote",
        }
    } else if !meta.is_dir() {
        "it is not a directory"
    } else {
        match foreign_entry(dir)? {
            None => return Ok(true),
            Some(path) => {
                let shown = path.to_string_lossy();
                return Err(io::Error::new(
                    ErrorKind::AlreadyExists,
                    format!("it has files kompile did not write, such as `{shown}`"),
                ));
            }
        }
    };
    Err(io::Error::new(ErrorKind::AlreadyExists, refusal))
}

/// The first entry of `dir`, at any depth, that its marker does not list as kompile's (a
/// plain file listed, or a directory holding only such files); `None` when kompile wrote it
/// all (an empty directory qualifies: there is nothing to lose).
fn foreign_entry(dir: &Path) -> io::Result<Option<PathBuf>> {
    let marker = match fs::read_to_string(dir.join(MARKER)) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let owned = owned_names(&marker);
    let mut todo = vec![PathBuf::new()];
    while let Some(relative) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(dir.join(&relative))?.collect::<io::Result<_>>()?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let path = relative.join(entry.file_name());
            let Some(name) = path.to_str().map(|p| p.replace('\\', "/")) else { return Ok(Some(path)) };
            let kind = entry.file_type()?;
            if kind.is_dir() && owned.iter().any(|o| o.starts_with(&format!("{name}/"))) {
                todo.push(path);
            } else if !(kind.is_file() && (name == MARKER || owned.contains(&name.as_str()))) {
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

/// The file names a marker lists; a marker without kompile's header lists nothing.
fn owned_names(marker: &str) -> Vec<&str> {
    let mut lines = marker.lines();
    if lines.next() != Some(MARKER_HEADER) {
        return Vec::new();
    }
    lines.filter(|l| !l.is_empty()).collect()
}

/// Moves the old `dir` aside, the new one in, then deletes the old one. If the second move
/// fails the old directory is put back; if even that fails it is kept where it is, never
/// deleted.
fn swap(staging: &Path, dir: &Path, parent: &Path) -> io::Result<()> {
    let aside = tempfile::Builder::new().prefix(".kompile-old-").tempdir_in(parent)?;
    let old = aside.path().join("old");
    fs::rename(dir, &old)?;
    if let Err(e) = fs::rename(staging, dir) {
        if fs::rename(&old, dir).is_err() {
            let _ = aside.keep();
        }
        return Err(e);
    }
    // The new output is in place; failing to delete the old copy must not report the run as
    // failed, so a leftover `.kompile-old-*` directory is all that can remain.
    let _ = aside.close();
    Ok(())
}

/// `dir`'s parent, with `.` for a bare relative name.
fn parent_of(dir: &Path) -> &Path {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes every file into `staging`, making its directories, and the marker listing them.
fn write_files(files: &[(String, String)], staging: &Path) -> io::Result<()> {
    for (name, text) in files {
        let path = staging.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, text)?;
    }
    let names = files.iter().map(|(name, _)| name.as_str());
    let marker = std::iter::once(MARKER_HEADER).chain(names);
    fs::write(staging.join(MARKER), marker.map(|l| format!("{l}\n")).collect::<String>())
}

/// The files of an `--out-dir`: one per object, in apply order, and the kustomization.
/// `fifo` asks kustomize to keep that order instead of sorting by kind (`sortOptions`), so
/// `kubectl kustomize` prints what `kompile build` prints; the flat directory leaves it out
/// as it always has.
fn dir_files(objects: &[Object], fifo: bool) -> Vec<(String, String)> {
    let width = objects.len().to_string().len().max(2);
    let mut files: Vec<(String, String)> =
        objects.iter().enumerate().map(|(i, o)| (file_name(i + 1, width, o), document(&o.to_value()))).collect();
    let mut kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    });
    if fifo {
        kustomization["sortOptions"] = json!({"order": "fifo"});
    }
    kustomization["resources"] = files.iter().map(|(name, _)| Value::from(name.as_str())).collect();
    files.push((KUSTOMIZATION.to_string(), document(&kustomization)));
    files
}

/// `<nn>-<kind>-<name>.yaml`: the number keeps apply order under `ls` and `kubectl apply -f`.
pub(crate) fn file_name(position: usize, width: usize, object: &Object) -> String {
    let kind = object.kind().to_ascii_lowercase();
    format!("{position:0width$}-{kind}-{}.yaml", safe_name(object.name()))
}

/// An object name fit for a file name. Object names are DNS-1123 subdomains already; this
/// only guards against path tricks.
fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::emit::emit;
    use crate::emit::fixtures::{app, port, service};
    use crate::model::{
        AccessMode, App, Config, ConfigData, EnvFromConfigMap, EnvVar, Healthcheck, Mount, MountSource, ProbeCommand,
        Secret, Volume,
    };

    /// Strings a YAML 1.1 or 1.2 reader would otherwise take for numbers, booleans or null.
    const TRICKY: [&str; 20] = [
        "8080",
        "true",
        "1.0",
        "yes",
        "on",
        "off",
        "no",
        "y",
        "null",
        "~",
        "0o17",
        "017",
        "0x1F",
        "1e3",
        "1_000",
        "12:30",
        ".inf",
        "2024-01-01",
        "",
        "-",
    ];

    /// A project that exercises every kind and many value shapes.
    fn sample() -> App {
        let mut a = app();
        a.namespace = Some("prod".into());
        let mut web = service("web");
        web.ports = vec![port(8080)];
        web.environment = TRICKY
            .iter()
            .enumerate()
            .map(|(i, v)| EnvVar { name: format!("V{i}"), value: Some(v.to_string()) })
            .collect();
        web.environment
            .push(EnvVar { name: "MULTI".into(), value: Some("line one\n  indented  two\ttab \nlast ".into()) });
        web.environment.push(EnvVar { name: "INDENTED".into(), value: Some("  leading\nnext\n\n\n".into()) });
        web.environment.push(EnvVar { name: "UNICODE".into(), value: Some("héllo: wörld # ✓\r\n".into()) });
        web.environment.push(EnvVar { name: "LONG".into(), value: Some("word  ".repeat(40)) });
        web.command = Some(vec!["--flag=yes".into(), "#not-a-comment".into(), "key: value".into()]);
        web.labels = BTreeMap::from([("version".into(), "1.10".into())]);
        web.env_from = Some(EnvFromConfigMap {
            k8s_name: "web-env".into(),
            data: BTreeMap::from([("PORT".into(), "8080".into())]),
        });
        web.healthcheck = Some(Healthcheck {
            test: Some(ProbeCommand::Shell("curl -f http://localhost:8080/ || exit 1".into())),
            interval: Some(Duration::from_secs(10)),
            timeout: None,
            start_period: Some(Duration::from_secs(30)),
            start_interval: None,
            retries: None,
        });
        web.mounts = vec![
            Mount::new("/data".into(), false, MountSource::Volume { k8s_name: "data".into() }),
            Mount::new(
                "/run/secrets/token".into(),
                true,
                MountSource::Secret { k8s_name: "token".into(), key: "token".into(), mode: Some(0o400) },
            ),
        ];
        a.services = vec![web, service("worker")];
        a.volumes = vec![Volume {
            name: "data".into(),
            k8s_name: "data".into(),
            access_mode: AccessMode::ReadWriteOnce,
            size: Some(10 << 30),
            storage_class: None,
        }];
        a.secrets =
            vec![Secret { name: "token".into(), k8s_name: "token".into(), key: "token".into(), data: vec![0, 1, 254] }];
        a.configs = vec![Config {
            name: "site".into(),
            k8s_name: "site".into(),
            data: BTreeMap::from([
                ("index.html".into(), ConfigData::Text("<h1>hi</h1>\n".into())),
                ("logo.png".into(), ConfigData::Binary(vec![137, 80, 78, 71])),
            ]),
        }];
        a
    }

    fn parse_stream(text: &str) -> Vec<Value> {
        serde_saphyr::from_str_multiple(text).unwrap()
    }

    #[test]
    fn yaml_round_trips() {
        let objects = emit(&sample());
        let text = yaml(&objects);
        assert!(text.starts_with("---\n"));
        let parsed = parse_stream(&text);
        let expected: Vec<Value> = objects.iter().map(Object::to_value).collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn yaml_quotes_lookalike_strings() {
        let text = yaml(&emit(&sample()));
        for (i, v) in TRICKY.iter().enumerate() {
            let line = text.lines().skip_while(|l| !l.ends_with(&format!("name: V{i}"))).nth(1).unwrap();
            let value = line.trim().trim_start_matches("value:").trim();
            assert!(value.starts_with('\'') || value.starts_with('"'), "{v:?} written as {line:?}");
        }
    }

    #[test]
    fn yaml_keeps_k8s_openapi_key_order() {
        let text = yaml(&emit(&sample()));
        let first_doc = text.split("---\n").nth(1).unwrap();
        let top: Vec<_> = first_doc.lines().filter(|l| !l.starts_with(' ') && !l.starts_with('-')).collect();
        assert_eq!(top.first().copied(), Some("apiVersion: v1"));
        assert_eq!(top.get(1).copied(), Some("kind: ConfigMap"));
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(yaml(&emit(&sample())), yaml(&emit(&sample())));
        assert_eq!(json(&emit(&sample())), json(&emit(&sample())));
    }

    #[test]
    fn json_list() {
        let objects = emit(&sample());
        let text = json(&objects);
        assert!(text.ends_with("}\n"));
        let list: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["kind"], "List");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), objects.len());
        assert_eq!(items[0], objects[0].to_value());
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn write_dir_creates_files_and_kustomization() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("k8s");
        let objects = emit(&sample());
        let paths = write_dir(&objects, &out).unwrap();
        assert_eq!(paths.len(), objects.len() + 1);
        assert!(paths[0].ends_with("01-configmap-site.yaml"));
        assert!(paths.iter().all(|p| p.is_file()));
        let kustomization: Value =
            serde_saphyr::from_str(&fs::read_to_string(out.join(KUSTOMIZATION)).unwrap()).unwrap();
        let listed: Vec<_> = kustomization["resources"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let written: Vec<_> = paths[..objects.len()].iter().filter_map(|p| p.file_name()?.to_str()).collect();
        assert_eq!(listed, written);
        let doc: Value = serde_saphyr::from_str(&fs::read_to_string(&paths[0]).unwrap()).unwrap();
        assert_eq!(doc, objects[0].to_value());
        // Only `k8s` is left beside the output: staging directories are gone.
        assert_eq!(entries(root.path()), ["k8s"]);
    }

    #[test]
    fn write_dir_replaces_its_own_output() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("k8s");
        write_dir(&emit(&sample()), &out).unwrap();
        let mut smaller = sample();
        smaller.services.retain(|s| s.name == "worker");
        smaller.volumes.clear();
        let paths = write_dir(&emit(&smaller), &out).unwrap();
        let mut expected: Vec<_> = paths.iter().filter_map(|p| p.file_name()?.to_str().map(String::from)).collect();
        expected.push(MARKER.to_string());
        expected.sort();
        assert_eq!(entries(&out), expected, "stale files must be gone");
        assert!(!entries(&out).iter().any(|n| n.contains("web")));
        assert_eq!(entries(root.path()), ["k8s"]);
    }

    #[test]
    fn write_dir_leaves_foreign_directory_alone() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("k8s");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = write_dir(&emit(&sample()), &out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(entries(&out), ["notes.txt"]);
        assert_eq!(entries(root.path()), ["k8s"]);
    }

    #[test]
    fn write_dir_refuses_when_user_added_a_file() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("k8s");
        write_dir(&emit(&sample()), &out).unwrap();
        fs::write(out.join("extra.yaml"), "kind: Thing\n").unwrap();
        let before = entries(&out);
        let err = write_dir(&emit(&app()), &out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(entries(&out), before);
    }

    #[test]
    fn write_dir_refuses_a_file_and_accepts_an_empty_dir() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("k8s.yaml");
        fs::write(&file, "x").unwrap();
        assert_eq!(write_dir(&[], &file).unwrap_err().kind(), ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
        let empty = root.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let paths = write_dir(&[], &empty).unwrap();
        assert_eq!(paths, [empty.join(KUSTOMIZATION)]);
    }

    #[test]
    fn a_tree_is_replaced_whole_and_a_foreign_file_in_it_is_named() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("chart");
        let file = |name: &str, text: &str| (name.to_string(), text.to_string());
        let first = [file("Chart.yaml", "name: a\n"), file("templates/a.yaml", "a\n"), file("templates/b.yaml", "b\n")];
        write_tree(&first, &out).unwrap();
        assert_eq!(entries(&out.join("templates")), ["a.yaml", "b.yaml"]);
        let second = [file("Chart.yaml", "name: a\n"), file("templates/a.yaml", "a2\n")];
        write_tree(&second, &out).unwrap();
        assert_eq!(entries(&out.join("templates")), ["a.yaml"], "the stale template is gone");
        assert_eq!(fs::read_to_string(out.join("templates/a.yaml")).unwrap(), "a2\n");
        // A file the user put in a subdirectory is theirs: nothing is replaced, and it is named.
        fs::write(out.join("templates/mine.yaml"), "kind: Thing\n").unwrap();
        let err = write_tree(&first, &out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("templates/mine.yaml"), "{err}");
        assert_eq!(fs::read_to_string(out.join("templates/a.yaml")).unwrap(), "a2\n");
        assert_eq!(entries(root.path()), ["chart"]);
    }

    #[test]
    fn forged_marker_without_header_owns_nothing() {
        assert!(owned_names("notes.txt\n").is_empty());
        assert_eq!(owned_names(&format!("{MARKER_HEADER}\na.yaml\n")), ["a.yaml"]);
    }
}
