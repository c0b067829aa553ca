//! The content hash that tags a built image: it changes exactly when what the build reads
//! changes. See docs/images.md for what goes in and why.
//!
//! SHA-256 (the `sha2` crate): the digest OCI registries and Docker already use, with
//! hardware acceleration on current x86 and ARM CPUs, and easy to reproduce with standard
//! tools. Every field is length-prefixed, so no two different inputs share a byte stream.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::dockerignore::Ignore;

/// Bumped whenever the layout below changes, so old and new tags never collide.
const VERSION: &[u8] = b"kompile-build-hash-v1";

/// What one build depends on besides its context's files.
#[derive(Debug, Clone, Copy)]
pub struct Recipe<'a> {
    pub dockerfile: &'a [u8],
    pub target: Option<&'a str>,
    pub args: &'a BTreeMap<String, String>,
    /// The digest of the context's files ([`context_digest`]), or a remote context's URL.
    pub context: &'a [u8],
}

/// `sha-` and the first 12 hex digits of the recipe's hash.
pub fn tag(recipe: &Recipe<'_>) -> String {
    let mut hasher = Sha256::new();
    field(&mut hasher, VERSION);
    field(&mut hasher, recipe.dockerfile);
    field(&mut hasher, recipe.target.unwrap_or("").as_bytes());
    hasher.update((recipe.args.len() as u64).to_le_bytes());
    for (name, value) in recipe.args {
        field(&mut hasher, name.as_bytes());
        field(&mut hasher, value.as_bytes());
    }
    field(&mut hasher, recipe.context);
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha-{hex}")
}

/// The SHA-256 of every file and symlink of a context that `ignore` lets through, in
/// byte order of their paths: path, kind, executable bit and content (a symlink's target,
/// never what it points to). Timestamps, owners and the rest of the mode stay out, so a
/// fresh checkout elsewhere hashes the same.
pub fn context_digest(root: &Path, ignore: &Ignore) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut walk = WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(io::Error::other)?;
        let Some(relative) = relative_path(root, entry.path()) else { continue };
        if ignore.excludes(&relative) {
            if entry.file_type().is_dir() && !ignore.has_exceptions() {
                walk.skip_current_dir();
            }
            continue;
        }
        entry_into(&mut hasher, &relative, &entry)?;
    }
    Ok(hasher.finalize().into())
}

/// `/`-separated and relative to the root; `None` for the root itself.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Directories themselves are left out: Git does not record empty ones, and the files in
/// a directory already name it.
fn entry_into(hasher: &mut Sha256, relative: &str, entry: &walkdir::DirEntry) -> io::Result<()> {
    let kind = entry.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(entry.path())?;
        field(hasher, relative.as_bytes());
        field(hasher, b"link");
        field(hasher, target.to_string_lossy().as_bytes());
    } else if kind.is_file() {
        field(hasher, relative.as_bytes());
        field(hasher, if is_executable(entry)? { b"exec" } else { b"file" });
        content(hasher, entry.path())?;
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(entry: &walkdir::DirEntry) -> io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    Ok(entry.metadata().map_err(io::Error::other)?.permissions().mode() & 0o111 != 0)
}

/// Other systems have no executable bit to record.
#[cfg(not(unix))]
fn is_executable(_: &walkdir::DirEntry) -> io::Result<bool> {
    Ok(false)
}

/// The file's length, then its bytes, streamed: contexts may hold large files.
fn content(hasher: &mut Sha256, path: &Path) -> io::Result<()> {
    let mut file = File::open(path)?;
    let length = file.metadata()?.len();
    hasher.update(length.to_le_bytes());
    let mut buffer = vec![0u8; 64 * 1024];
    let mut seen = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        seen += read as u64;
        hasher.update(buffer.get(..read).unwrap_or_default());
    }
    if seen != length {
        return Err(io::Error::other(format!("{} changed while it was read", path.display())));
    }
    Ok(())
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(dir: &Path, ignore: &str) -> [u8; 32] {
        context_digest(dir, &Ignore::parse(ignore)).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn content_and_names_count_ignored_files_and_timestamps_do_not() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.py", "print(1)\n");
        write(dir.path(), "logs/today.log", "x");
        let first = digest(dir.path(), "logs\n");
        write(dir.path(), "logs/today.log", "y");
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        assert_eq!(digest(dir.path(), "logs\n"), first, "ignored files and empty directories do not count");
        write(dir.path(), "app.py", "print(2)\n");
        let changed = digest(dir.path(), "logs\n");
        assert_ne!(changed, first);
        write(dir.path(), "app.py", "print(1)\n");
        assert_eq!(digest(dir.path(), "logs\n"), first, "same content, same digest, whatever the mtime");
        std::fs::rename(dir.path().join("app.py"), dir.path().join("main.py")).unwrap();
        assert_ne!(digest(dir.path(), "logs\n"), first, "a rename is a change");
    }

    #[cfg(unix)]
    #[test]
    fn only_the_executable_bit_of_the_mode_counts_and_links_are_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "run.sh", "echo\n");
        let set =
            |mode: u32| std::fs::set_permissions(dir.path().join("run.sh"), std::fs::Permissions::from_mode(mode));
        set(0o644).unwrap();
        let plain = digest(dir.path(), "");
        set(0o600).unwrap();
        assert_eq!(digest(dir.path(), ""), plain);
        set(0o755).unwrap();
        assert_ne!(digest(dir.path(), ""), plain);
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", "a");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let linked = digest(dir.path(), "");
        write(outside.path(), "secret", "b");
        assert_eq!(digest(dir.path(), ""), linked, "what a link points to is not read");
    }

    #[test]
    fn tags_follow_every_part_of_the_recipe() {
        let args = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let base = Recipe { dockerfile: b"FROM x\n", target: None, args: &args, context: b"c" };
        let tag_of = |recipe: Recipe<'_>| tag(&recipe);
        let first = tag_of(base);
        assert!(first.starts_with("sha-") && first.len() == 16, "{first}");
        assert_eq!(tag_of(base), first);
        assert_ne!(tag_of(Recipe { target: Some("prod"), ..base }), first);
        assert_ne!(tag_of(Recipe { dockerfile: b"FROM y\n", ..base }), first);
        assert_ne!(tag_of(Recipe { context: b"d", ..base }), first);
        let other = BTreeMap::from([("A".to_string(), "2".to_string())]);
        assert_ne!(tag_of(Recipe { args: &other, ..base }), first);
    }
}
