//! Project files that services bind-mount: `lower` ships them in ConfigMaps, so `load` reads
//! them here and records what each mount ships ([`BindContents`]), and `lower` reads no files.
//!
//! The rules keep what must not leak out of a ConfigMap, which anyone who can read the
//! namespace reads in clear text: env files, `.git`, the files of compose secrets and what
//! `.dockerignore` excludes are left out; a symlink is never followed out of the project;
//! pipes and devices are never read (`read_regular`); at most 1 MiB is read per mount.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::read_regular;
use crate::compose::{BindContents, LeftOut, ProjectFiles, Service, VolumeKind};
use crate::dockerignore::Ignore;

/// The most a ConfigMap can hold; larger project files cannot be shipped this way.
const CONFIG_MAP_LIMIT: u64 = 1024 * 1024;

/// Decides (and reads) what every bind mount of `services` ships. `secret_files` are the
/// files of the project's compose secrets, which are never shipped as project files.
pub fn read_bind_mounts(services: &mut [Service], directory: &Path, secret_files: Vec<PathBuf>) {
    // Worked out at the first mount of project files (it reads `.dockerignore` and resolves
    // every secret's file), and kept for the rest.
    let cell = OnceCell::new();
    let rules = || cell.get_or_init(|| ShippingRules::new(directory, &secret_files));
    for volume in services.iter_mut().flat_map(|s| s.volumes.iter_mut()) {
        if volume.kind != VolumeKind::Bind {
            continue;
        }
        let Some(source) = &volume.source else { continue };
        // Compose keeps an absolute source as written (`/a/../b`); decide on the clean path.
        let source = super::canonical::clean(Path::new(source));
        volume.value.contents = Some(contents(&source, directory, rules));
    }
}

/// What the bind mount of `path` (clean, absolute) ships.
fn contents<'r>(path: &Path, directory: &Path, rules: impl FnOnce() -> &'r ShippingRules) -> BindContents {
    if !path.starts_with(directory) {
        return BindContents::Outside;
    }
    let rules = rules();
    if rules.leads_outside(path) {
        return BindContents::SymlinkOutside;
    }
    let mut left_out = Vec::new();
    let shipped = read_project_files(path, rules, &mut left_out);
    BindContents::Project { left_out, shipped }
}

/// Which project files never go into a ConfigMap, where anyone who can read the
/// namespace reads them in clear text.
struct ShippingRules {
    /// The project directory, symlinks resolved.
    root: PathBuf,
    /// The files of the project's compose secrets, symlinks resolved.
    secret_files: BTreeSet<PathBuf>,
    /// The project's `.dockerignore`, if it has one.
    ignore: Ignore,
}

impl ShippingRules {
    fn new(directory: &Path, secret_files: &[PathBuf]) -> ShippingRules {
        let root = std::fs::canonicalize(directory).unwrap_or_else(|_| directory.to_path_buf());
        let secret_files =
            secret_files.iter().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())).collect();
        let ignore = read_regular(&root.join(".dockerignore"), CONFIG_MAP_LIMIT)
            .map(|bytes| Ignore::parse(&String::from_utf8_lossy(&bytes)))
            .unwrap_or_default();
        ShippingRules { root, secret_files, ignore }
    }

    /// Whether `path` exists and, symlinks resolved, lies outside the project.
    fn leads_outside(&self, path: &Path) -> bool {
        std::fs::canonicalize(path).is_ok_and(|real| !real.starts_with(&self.root))
    }

    /// Why the project file at `path` is not shipped, if it is not.
    fn excluded(&self, path: &Path) -> Option<&'static str> {
        let name = path.file_name()?.to_string_lossy();
        if name.starts_with(".env") {
            return Some("env file");
        }
        if name == ".git" {
            return Some("git repository");
        }
        let real = std::fs::canonicalize(path).ok()?;
        if !real.starts_with(&self.root) {
            return Some("symlink to outside the project");
        }
        if self.secret_files.contains(&real) {
            return Some("compose secret");
        }
        let relative = real.strip_prefix(&self.root).ok()?.to_string_lossy().into_owned();
        self.ignore.excludes(&relative).then_some(".dockerignore")
    }
}

/// A file (one entry) or the files directly in a directory (one entry each); also whether
/// it was a single file, and whether any file is executable. Files `rules` exclude are left
/// out and listed in `left_out`.
fn read_project_files(path: &Path, rules: &ShippingRules, left_out: &mut Vec<LeftOut>) -> Result<ProjectFiles, String> {
    let meta = std::fs::metadata(path).map_err(|_| "it does not exist".to_string())?;
    let candidates: Vec<PathBuf> = if meta.is_file() {
        vec![path.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(path).map_err(|e| e.to_string())?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        paths
    };
    let mut files = Vec::new();
    if meta.is_file() && rules.excluded(path).is_some() {
        return Err("it is a file that is never shipped".into());
    }
    for candidate in candidates {
        if let Some(reason) = rules.excluded(&candidate) {
            left_out.push(LeftOut { path: candidate, reason });
        } else if candidate.is_dir() {
            return Err("it contains directories, which a ConfigMap cannot hold".into());
        } else {
            files.push(candidate);
        }
    }
    let mut total = 0u64;
    let mut read = Vec::new();
    let executable = files.iter().any(|f| is_executable(f));
    for file in &files {
        let bytes = read_regular(file, CONFIG_MAP_LIMIT - total).map_err(|e| e.to_string())?;
        total += bytes.len() as u64;
        if total > CONFIG_MAP_LIMIT {
            return Err("it is larger than the 1 MiB a ConfigMap can hold".into());
        }
        read.push((file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), bytes));
    }
    Ok(ProjectFiles { files: read, single: meta.is_file(), executable })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::compose::{BindContents, LeftOut, ProjectFiles};

    /// Loads `compose` in a fresh directory after `prepare` has put files next to it, and
    /// returns what each bind mount of the first service ships, by target.
    fn bind_contents(compose: &str, prepare: impl FnOnce(&Path)) -> BTreeMap<String, BindContents> {
        let (project, diags) = crate::load::testing::load_in_dir(compose, prepare);
        assert!(!diags.has_errors(), "{:?}", diags.items());
        let project = project.expect("loads");
        let volumes = &project.typed.services[0].volumes;
        volumes.iter().filter_map(|v| Some((v.target.clone(), v.contents.clone()?))).collect()
    }

    fn shipped(contents: &BindContents) -> (&[LeftOut], &Result<ProjectFiles, String>) {
        match contents {
            BindContents::Project { left_out, shipped } => (left_out, shipped),
            other => panic!("not project files: {other:?}"),
        }
    }

    fn names(files: &ProjectFiles) -> Vec<&str> {
        files.files.iter().map(|(name, _)| name.as_str()).collect()
    }

    fn left_out(left_out: &[LeftOut]) -> Vec<String> {
        let name = |l: &LeftOut| l.path.file_name().unwrap().to_string_lossy().into_owned();
        left_out.iter().map(|l| format!("{} ({})", name(l), l.reason)).collect()
    }

    #[test]
    fn symlinks_out_of_the_project_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("shadow"), "TOPSECRET").unwrap();
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf, ./link:/etc/link]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/ok.txt"), "fine").unwrap();
            std::os::unix::fs::symlink(outside.path().join("shadow"), dir.join("conf/leak")).unwrap();
            std::os::unix::fs::symlink(outside.path(), dir.join("link")).unwrap();
        });
        let (out, files) = shipped(&contents["/etc/conf"]);
        assert_eq!(left_out(out), ["leak (symlink to outside the project)"]);
        let files = files.as_ref().unwrap();
        assert_eq!(files.files, [("ok.txt".to_string(), b"fine".to_vec())], "the other files are shipped");
        assert!(!files.single);
        assert_eq!(contents["/etc/link"], BindContents::SymlinkOutside, "nothing behind the link is read");
    }

    #[test]
    fn mounting_the_project_ships_no_secrets_env_files_or_ignored_files() {
        let compose = "services:\n  a:\n    image: x:1\n    secrets: [db]\n    volumes: [./:/app, ./.env.local:/x]\nsecrets:\n  db:\n    file: ./db.txt\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::write(dir.join(".env"), "DB_PASSWORD=hunter2\n").unwrap();
            std::fs::write(dir.join(".env.local"), "TOKEN=envlocal\n").unwrap();
            std::fs::write(dir.join("db.txt"), "dbsecret").unwrap();
            std::fs::write(dir.join("notes.tmp"), "ignoredtext").unwrap();
            std::fs::write(dir.join(".dockerignore"), "*.tmp\n").unwrap();
            std::fs::write(dir.join("app.py"), "print()").unwrap();
        });
        let (out, files) = shipped(&contents["/app"]);
        let out = left_out(out);
        for name in [".env (env file)", ".env.local (env file)", "db.txt (compose secret)", "notes.tmp (.dockerignore)"]
        {
            assert!(out.iter().any(|o| o == name), "{name} not in {out:?}");
        }
        let files = files.as_ref().unwrap();
        assert_eq!(names(files), [".dockerignore", "app.py", "compose.yaml"]);
        let (out, single) = shipped(&contents["/x"]);
        assert!(out.is_empty());
        assert_eq!(single.as_ref().unwrap_err(), "it is a file that is never shipped");
    }

    #[test]
    fn a_plain_project_directory_leaves_nothing_out() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/app.env.example"), "A=1").unwrap();
        });
        let (out, files) = shipped(&contents["/etc/conf"]);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(names(files.as_ref().unwrap()), ["app.env.example"]);
    }

    #[test]
    fn a_single_executable_file_is_read_as_such() {
        use std::os::unix::fs::PermissionsExt;
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./run.sh:/run.sh, ./conf:/conf]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(dir.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/a"), "a").unwrap();
        });
        let files = shipped(&contents["/run.sh"]).1.as_ref().unwrap();
        assert!(files.single && files.executable, "{files:?}");
        let files = shipped(&contents["/conf"]).1.as_ref().unwrap();
        assert!(!files.single && !files.executable, "{files:?}");
    }

    #[test]
    fn paths_outside_the_project_are_not_read() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: ['/etc/ssl:/certs', './../x:/x']\n";
        let contents = bind_contents(compose, |_| {});
        assert_eq!(contents["/certs"], BindContents::Outside);
        assert_eq!(contents["/x"], BindContents::Outside);
    }

    #[test]
    fn directories_missing_sources_and_more_than_a_config_map_holds_cannot_be_shipped() {
        let compose =
            "services:\n  a:\n    image: x:1\n    volumes: [./nested:/n, ./missing:/m, ./big:/b, ./huge:/h]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir_all(dir.join("nested/sub")).unwrap();
            std::fs::create_dir(dir.join("big")).unwrap();
            // Each file fits; together they do not.
            std::fs::write(dir.join("big/a"), vec![b'a'; 600 << 10]).unwrap();
            std::fs::write(dir.join("big/b"), vec![b'b'; 600 << 10]).unwrap();
            // Read no further than the budget.
            std::fs::File::create(dir.join("huge")).unwrap().set_len(1 << 30).unwrap();
        });
        let reason = |target: &str| shipped(&contents[target]).1.clone().unwrap_err();
        assert_eq!(reason("/n"), "it contains directories, which a ConfigMap cannot hold");
        assert_eq!(reason("/m"), "it does not exist");
        assert_eq!(reason("/b"), "it is larger than the 1 MiB a ConfigMap can hold");
        assert_eq!(reason("/h"), "it is larger than the 1 MiB a ConfigMap can hold");
    }

    #[test]
    fn pipes_are_not_read_as_project_files() {
        // Opening a FIFO without a writer never returns.
        let mount = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/conf]\n";
        let contents = bind_contents(mount, |dir| {
            std::fs::create_dir(dir.join("conf")).unwrap();
            std::fs::write(dir.join("conf/ok.txt"), "fine").unwrap();
            let made = std::process::Command::new("mkfifo").arg(dir.join("conf/pipe")).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        });
        let reason = shipped(&contents["/etc/conf"]).1.clone().unwrap_err();
        assert!(reason.contains("is not a regular file"), "{reason}");
    }
}
