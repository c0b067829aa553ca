//! Project files that services bind-mount: `lower` ships them in ConfigMaps, so `load` reads
//! them here and records what each mount ships ([`BindContents`]), and `lower` reads no files.
//!
//! The rules keep what must not leak out of a ConfigMap, which anyone who can read the
//! namespace reads in clear text: env files, `.git`, the files of compose secrets and private
//! keys (PEM `PRIVATE KEY` blocks) are left out, at any depth; a symlink is never followed out of the
//! project; pipes and devices are never read (`read_regular`). A directory is read whole,
//! subdirectories included, within bounds that keep memory small: no file over the 1 MiB a
//! ConfigMap holds, at most [`MAX_FILES`] files and [`MAX_MOUNT_BYTES`] per mount, and
//! [`MAX_PROJECT_BYTES`] for all the mounts of the project.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::read_regular;
use crate::compose::{BindContents, LeftOut, NotShipped, ProjectFile, ProjectFiles, Service, VolumeKind};

/// The most a ConfigMap can hold; a larger project file cannot be shipped this way.
pub const CONFIG_MAP_LIMIT: u64 = 1024 * 1024;
/// What `bytes` take of a ConfigMap's 1 MiB under the key `key`: the key and the value as
/// the manifest writes it (text as it is; other bytes in `binaryData`, base64, a third more).
pub fn stored_size(key: &str, bytes: &[u8]) -> u64 {
    let value = if std::str::from_utf8(bytes).is_ok() { bytes.len() } else { bytes.len().div_ceil(3) * 4 };
    (key.len() + value) as u64
}

/// The most files one mount ships.
pub const MAX_FILES: usize = 1000;
/// The most bytes one mount ships (spread over several ConfigMaps).
pub const MAX_MOUNT_BYTES: u64 = 8 * CONFIG_MAP_LIMIT;
/// The most bytes all the bind mounts of a project ship together.
pub const MAX_PROJECT_BYTES: u64 = 32 * CONFIG_MAP_LIMIT;
/// The most directory entries looked at per mount, shipped or not.
const MAX_ENTRIES: usize = 10 * MAX_FILES;
/// The deepest subdirectory followed.
const MAX_DEPTH: usize = 32;

/// Decides (and reads) what every bind mount of `services` ships. `secret_files` are the
/// files of the project's compose secrets, which are never shipped as project files.
pub fn read_bind_mounts(services: &mut [Service], directory: &Path, secret_files: Vec<PathBuf>) {
    // Worked out at the first mount of project files (it reads `.dockerignore` and resolves
    // every secret's file), and kept for the rest.
    let cell = OnceCell::new();
    let rules = || cell.get_or_init(|| ShippingRules::new(directory, &secret_files));
    let mut budget = MAX_PROJECT_BYTES;
    for volume in services.iter_mut().flat_map(|s| s.volumes.iter_mut()) {
        if volume.kind != VolumeKind::Bind {
            continue;
        }
        let Some(source) = &volume.source else { continue };
        // Compose keeps an absolute source as written (`/a/../b`); decide on the clean path.
        let source = super::canonical::clean(Path::new(source));
        volume.value.contents = Some(contents(&source, directory, rules, &mut budget));
    }
}

/// What the bind mount of `path` (clean, absolute) ships; what it reads is taken from
/// `budget`, the bytes the project's mounts may still ship.
fn contents<'r>(
    path: &Path,
    directory: &Path,
    rules: impl FnOnce() -> &'r ShippingRules,
    budget: &mut u64,
) -> BindContents {
    if !path.starts_with(directory) {
        return BindContents::Outside;
    }
    let rules = rules();
    if rules.leads_outside(path) {
        return BindContents::SymlinkOutside;
    }
    let mut walk = Walk { rules, budget: *budget, left_out: Vec::new(), files: Vec::new(), bytes: 0, entries: 0 };
    let shipped = walk.read(path);
    if shipped.is_ok() {
        *budget -= walk.bytes;
    }
    BindContents::Project { left_out: walk.left_out, shipped }
}

/// Which project files never go into a ConfigMap, where anyone who can read the
/// namespace reads them in clear text.
struct ShippingRules {
    /// The project directory, symlinks resolved.
    root: PathBuf,
    /// The files of the project's compose secrets, symlinks resolved.
    secret_files: BTreeSet<PathBuf>,
}

impl ShippingRules {
    fn new(directory: &Path, secret_files: &[PathBuf]) -> ShippingRules {
        let root = std::fs::canonicalize(directory).unwrap_or_else(|_| directory.to_path_buf());
        let secret_files =
            secret_files.iter().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())).collect();
        ShippingRules { root, secret_files }
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
        // A `.dockerignore` says what the image leaves out, not what is secret: a service
        // often mounts exactly what its build leaves out (configuration), so it ships.
        self.secret_files.contains(&real).then_some("compose secret")
    }
}

/// The reading of one mount's files: what ships, what is left out, and the bounds.
struct Walk<'r> {
    rules: &'r ShippingRules,
    /// The bytes the project's mounts may still ship.
    budget: u64,
    left_out: Vec<LeftOut>,
    files: Vec<ProjectFile>,
    /// Bytes read so far.
    bytes: u64,
    /// Directory entries looked at so far.
    entries: usize,
}

impl Walk<'_> {
    /// The file at `path`, or every file under the directory at `path`.
    fn read(&mut self, path: &Path) -> Result<ProjectFiles, NotShipped> {
        let meta = std::fs::metadata(path).map_err(|_| other(NotShipped::MISSING))?;
        if meta.is_file() {
            if let Some(reason) = self.rules.excluded(path) {
                return Err(NotShipped::NeverShipped(reason));
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            self.read_file(path, name)?;
            if let (true, Some(left_out)) = (self.files.is_empty(), self.left_out.pop()) {
                return Err(NotShipped::NeverShipped(left_out.reason));
            }
        } else {
            let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            self.read_directory(path, "", &mut vec![real])?;
        }
        Ok(ProjectFiles { files: std::mem::take(&mut self.files), single: meta.is_file() })
    }

    /// The files under `dir`, whose path relative to the mount is `prefix` (empty, or ending
    /// in `/`); `above` holds the real paths of `dir` and the directories above it, so a
    /// link back up is not followed round and round.
    fn read_directory(&mut self, dir: &Path, prefix: &str, above: &mut Vec<PathBuf>) -> Result<(), NotShipped> {
        let entries = std::fs::read_dir(dir).map_err(|e| other(&e.to_string()))?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).take(MAX_ENTRIES + 1).collect();
        paths.sort();
        if paths.is_empty() && !prefix.is_empty() {
            self.left_out.push(LeftOut { path: dir.to_path_buf(), reason: LeftOut::EMPTY_DIRECTORY });
        }
        for candidate in paths {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(other(&format!("it holds more than {MAX_ENTRIES} files and directories")));
            }
            if let Some(reason) = self.rules.excluded(&candidate) {
                self.left_out.push(LeftOut { path: candidate, reason });
                continue;
            }
            let name = candidate.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            // Kubernetes refuses an item path starting `..` (`..data` is its own link).
            if prefix.is_empty() && name.starts_with("..") {
                self.left_out.push(LeftOut { path: candidate, reason: "name starting with `..`" });
                continue;
            }
            let relative = format!("{prefix}{name}");
            if !candidate.is_dir() {
                self.read_file(&candidate, relative)?;
                continue;
            }
            let real = std::fs::canonicalize(&candidate).unwrap_or_else(|_| candidate.clone());
            if above.contains(&real) {
                self.left_out.push(LeftOut { path: candidate, reason: "link to a directory above it" });
                continue;
            }
            if above.len() >= MAX_DEPTH {
                return Err(other(&format!("it nests directories more than {MAX_DEPTH} deep")));
            }
            above.push(real);
            self.read_directory(&candidate, &format!("{relative}/"), above)?;
            above.pop();
        }
        Ok(())
    }

    /// Reads one file, within the bounds.
    fn read_file(&mut self, path: &Path, relative: String) -> Result<(), NotShipped> {
        if self.files.len() >= MAX_FILES {
            return Err(other(&format!("it holds more than {MAX_FILES} files, more than kompile ships")));
        }
        let bytes = read_regular(path, CONFIG_MAP_LIMIT).map_err(|e| other(&super::io_reason(&e)))?;
        // Its name stands for the key it gets (`lower` makes it from the path).
        if stored_size(&relative, &bytes) > CONFIG_MAP_LIMIT {
            let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
            return Err(NotShipped::TooLarge { path: path.to_path_buf(), size });
        }
        self.bytes += bytes.len() as u64;
        if self.bytes > MAX_MOUNT_BYTES {
            return Err(other(&format!(
                "its files are larger than the {} MiB kompile ships per mount",
                MAX_MOUNT_BYTES >> 20
            )));
        }
        if self.bytes > self.budget {
            return Err(other(&format!(
                "the project's bind mounts together are larger than the {} MiB kompile ships",
                MAX_PROJECT_BYTES >> 20
            )));
        }
        if is_private_key(&bytes) {
            self.left_out.push(LeftOut { path: path.to_path_buf(), reason: "private key" });
            return Ok(());
        }
        self.files.push(ProjectFile { path: relative, bytes, executable: is_executable(path) });
        Ok(())
    }
}

/// Whether `bytes` hold a PEM private key (`-----BEGIN RSA PRIVATE KEY-----`, `... EC ...`,
/// `... OPENSSH ...`, `... ENCRYPTED ...`): a credential, which belongs in a Secret.
fn is_private_key(bytes: &[u8]) -> bool {
    const MARK: &[u8] = b"PRIVATE KEY-----";
    bytes.windows(MARK.len()).any(|w| w == MARK) && bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn other(reason: &str) -> NotShipped {
    NotShipped::Other(reason.to_string())
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

    use crate::compose::{BindContents, LeftOut, NotShipped, ProjectFiles};

    /// Loads `compose` in a fresh directory after `prepare` has put files next to it, and
    /// returns what each bind mount of the first service ships, by target.
    fn bind_contents(compose: &str, prepare: impl FnOnce(&Path)) -> BTreeMap<String, BindContents> {
        let (project, diags) = crate::load::testing::load_in_dir(compose, prepare);
        assert!(!diags.has_errors(), "{:?}", diags.items());
        let project = project.expect("loads");
        let volumes = &project.typed.services[0].volumes;
        volumes.iter().filter_map(|v| Some((v.target.clone(), v.contents.clone()?))).collect()
    }

    fn shipped(contents: &BindContents) -> (&[LeftOut], &Result<ProjectFiles, NotShipped>) {
        match contents {
            BindContents::Project { left_out, shipped } => (left_out, shipped),
            other => panic!("not project files: {other:?}"),
        }
    }

    fn names(files: &ProjectFiles) -> Vec<&str> {
        files.files.iter().map(|f| f.path.as_str()).collect()
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
        let read: Vec<_> = files.files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
        assert_eq!(read, [("ok.txt", &b"fine"[..])], "the other files are shipped");
        assert!(!files.single);
        assert_eq!(contents["/etc/link"], BindContents::SymlinkOutside, "nothing behind the link is read");
    }

    #[test]
    fn mounting_the_project_ships_no_secrets_env_files_or_private_keys() {
        let compose = "services:\n  a:\n    image: x:1\n    secrets: [db]\n    volumes: [./:/app, ./.env.local:/x]\nsecrets:\n  db:\n    file: ./db.txt\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::write(dir.join(".env"), "DB_PASSWORD=hunter2\n").unwrap();
            std::fs::write(dir.join(".env.local"), "TOKEN=envlocal\n").unwrap();
            std::fs::write(dir.join("db.txt"), "dbsecret").unwrap();
            std::fs::write(dir.join("notes.tmp"), "ignoredtext").unwrap();
            std::fs::write(dir.join(".dockerignore"), "*.tmp\n").unwrap();
            std::fs::write(dir.join("app.py"), "print()").unwrap();
            std::fs::write(dir.join("tls.key"), "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n")
                .unwrap();
        });
        let (out, files) = shipped(&contents["/app"]);
        let out = left_out(out);
        for name in [".env (env file)", ".env.local (env file)", "db.txt (compose secret)", "tls.key (private key)"] {
            assert!(out.iter().any(|o| o == name), "{name} not in {out:?}");
        }
        let files = files.as_ref().unwrap();
        // What the image leaves out is what a service mounts: it ships.
        assert_eq!(names(files), [".dockerignore", "app.py", "compose.yaml", "notes.tmp"]);
        let (out, single) = shipped(&contents["/x"]);
        assert!(out.is_empty());
        assert_eq!(single.as_ref().unwrap_err(), &NotShipped::NeverShipped("env file"));
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
        assert!(files.single && files.files[0].executable, "{files:?}");
        let files = shipped(&contents["/conf"]).1.as_ref().unwrap();
        assert!(!files.single && !files.files[0].executable, "{files:?}");
    }

    #[test]
    fn paths_outside_the_project_are_not_read() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: ['/etc/ssl:/certs', './../x:/x']\n";
        let contents = bind_contents(compose, |_| {});
        assert_eq!(contents["/certs"], BindContents::Outside);
        assert_eq!(contents["/x"], BindContents::Outside);
    }

    /// Subdirectories are read whole, at their paths, with each file's executable bit; an
    /// empty one is left out (a ConfigMap holds files only).
    #[test]
    fn a_directory_is_read_with_its_subdirectories() {
        use std::os::unix::fs::PermissionsExt;
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./conf:/etc/nginx]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir_all(dir.join("conf/conf.d")).unwrap();
            std::fs::create_dir_all(dir.join("conf/tls/.git")).unwrap();
            std::fs::create_dir_all(dir.join("conf/empty")).unwrap();
            std::fs::write(dir.join("conf/nginx.conf"), "events {}").unwrap();
            std::fs::write(dir.join("conf/conf.d/default.conf"), "server {}").unwrap();
            std::fs::write(dir.join("conf/conf.d/.env"), "TOKEN=x").unwrap();
            std::fs::write(dir.join("conf/tls/cert.der"), [0x30, 0x82, 0xff]).unwrap();
            std::fs::write(dir.join("conf/tls/reload.sh"), "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(dir.join("conf/tls/reload.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::write(dir.join("conf/..data"), "x").unwrap();
            // A link back up is not followed round and round.
            std::os::unix::fs::symlink("..", dir.join("conf/tls/up")).unwrap();
        });
        let (out, files) = shipped(&contents["/etc/nginx"]);
        let files = files.as_ref().unwrap();
        assert_eq!(names(files), ["conf.d/default.conf", "nginx.conf", "tls/cert.der", "tls/reload.sh"]);
        let executable: Vec<_> = files.files.iter().filter(|f| f.executable).map(|f| f.path.as_str()).collect();
        assert_eq!(executable, ["tls/reload.sh"]);
        assert_eq!(files.files[2].bytes, [0x30, 0x82, 0xff]);
        assert_eq!(
            left_out(out),
            [
                "..data (name starting with `..`)",
                ".env (env file)",
                "empty (empty directory)",
                ".git (git repository)",
                "up (link to a directory above it)"
            ]
        );
    }

    #[test]
    fn missing_sources_and_files_larger_than_a_config_map_cannot_be_shipped() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./missing:/m, ./big:/b, ./huge:/h, ./deep:/d]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir(dir.join("big")).unwrap();
            // Each file fits; together they are more than one ConfigMap, which is fine.
            std::fs::write(dir.join("big/a"), vec![b'a'; 600 << 10]).unwrap();
            std::fs::write(dir.join("big/b"), vec![b'b'; 600 << 10]).unwrap();
            // Read no further than the limit.
            std::fs::File::create(dir.join("huge")).unwrap().set_len(1 << 30).unwrap();
            std::fs::create_dir_all(dir.join("deep")).unwrap();
            std::fs::File::create(dir.join("deep/model.bin")).unwrap().set_len(3 << 20).unwrap();
        });
        let reason = |target: &str| shipped(&contents[target]).1.clone().unwrap_err();
        assert_eq!(reason("/m"), NotShipped::Other("it does not exist".into()));
        assert_eq!(shipped(&contents["/b"]).1.as_ref().unwrap().files.len(), 2);
        assert!(matches!(reason("/h"), NotShipped::TooLarge { size, .. } if size == 1 << 30));
        assert!(
            matches!(reason("/d"), NotShipped::TooLarge { path, size } if path.ends_with("deep/model.bin") && size == 3 << 20)
        );
    }

    /// Memory stays bounded: a mount of too many files or bytes, or a project whose mounts
    /// together are too large, is reported, never read whole.
    #[test]
    fn mounts_are_read_within_bounds() {
        let compose = "services:\n  a:\n    image: x:1\n    volumes: [./many:/m, ./large:/l, ./a:/a, ./b:/b, ./c:/c, ./d:/d, ./e:/e]\n";
        let contents = bind_contents(compose, |dir| {
            std::fs::create_dir(dir.join("many")).unwrap();
            for i in 0..=super::MAX_FILES {
                std::fs::write(dir.join(format!("many/{i}")), "x").unwrap();
            }
            std::fs::create_dir(dir.join("large")).unwrap();
            // Each file a little under what one ConfigMap holds, its name included.
            let size = (1 << 20) - 16;
            for i in 0..9 {
                std::fs::File::create(dir.join(format!("large/{i}"))).unwrap().set_len(size).unwrap();
            }
            // 5 × 7 MiB: the fifth is over the project's 32 MiB.
            for name in ["a", "b", "c", "d", "e"] {
                std::fs::create_dir(dir.join(name)).unwrap();
                for i in 0..7 {
                    std::fs::File::create(dir.join(format!("{name}/{i}"))).unwrap().set_len(size).unwrap();
                }
            }
        });
        let reason = |target: &str| match shipped(&contents[target]).1 {
            Err(NotShipped::Other(reason)) => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(reason("/m"), "it holds more than 1000 files, more than kompile ships");
        assert_eq!(reason("/l"), "its files are larger than the 8 MiB kompile ships per mount");
        assert!(["/a", "/b", "/c", "/d"].iter().all(|t| shipped(&contents[*t]).1.is_ok()));
        assert_eq!(reason("/e"), "the project's bind mounts together are larger than the 32 MiB kompile ships");
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
        assert_eq!(reason, NotShipped::Other("it is not a regular file".into()));
    }
}
