//! What the built image holds on its file system, as far as the Dockerfile tells: where the
//! build context is copied (`COPY`/`ADD` without `--from`), and the paths the built stage and
//! the stages it is `FROM` put something at (`COPY`/`ADD` destinations, `WORKDIR`s, `RUN
//! mkdir`). `image_config` collects them on its walk through those stages, so other stages of
//! a multi-stage build never count.
//!
//! Paths are absolute and clean (`/`-separated, no `.` or `..`). A path that depends on
//! something kompile cannot see (a variable the base image may define, a relative path under
//! a base image's unknown `WORKDIR`) is left out, never guessed.

use std::ops::Range;

/// The facts, in Dockerfile order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFiles {
    /// `COPY`/`ADD` of build context paths.
    pub context_copies: Vec<ContextCopy>,
    /// Every path something was put at.
    pub made: Vec<Made>,
}

/// One `COPY` or `ADD` from the build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextCopy {
    /// Context-relative and clean: `""` is the context itself (`.`, `./`, `/`). Globs are
    /// kept as written (they never match a mounted path).
    pub sources: Vec<String>,
    /// Absolute and clean.
    pub destination: String,
    /// The destination names a directory the sources go into (it ends in `/`, or there are
    /// several sources); otherwise a single file source becomes the destination itself.
    pub into_directory: bool,
    /// The instruction.
    pub span: Range<usize>,
}

/// A path the Dockerfile puts something at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// Absolute and clean.
    pub path: String,
    pub by: MadeBy,
    /// The instruction.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeBy {
    /// The destination of a `COPY` or `ADD` (from the context, a stage, an image or a heredoc).
    Copy,
    /// A `WORKDIR`: the directory is created, and `RUN` steps write below it.
    Workdir,
    /// A directory `RUN mkdir` creates.
    Mkdir,
}

impl ImageFiles {
    /// The `COPY`/`ADD` that puts the build context's `relative` path (`""` for the context
    /// itself, `sub/dir` for a directory in it) at `target` in the image: one of its sources is
    /// that path or a directory above it, and it lands exactly at `target`. `single_file`: the
    /// path is a file, which `COPY file dir/` puts inside `dir`. Files the `.dockerignore`
    /// leaves out are not in the image; the rest is.
    pub fn context_copy_at(&self, relative: &str, single_file: bool, target: &str) -> Option<&ContextCopy> {
        let relative = clean_relative(relative);
        let target = clean_absolute(target);
        // The last copy wins where several land at one place; any of them holds the files.
        self.context_copies.iter().rev().find(|copy| {
            copy.sources.iter().any(|source| {
                let lands = if source == &relative {
                    if single_file && copy.into_directory {
                        let name = relative.rsplit('/').next().unwrap_or_default();
                        join(&copy.destination, name)
                    } else {
                        copy.destination.clone()
                    }
                } else if let Some(below) = below(source, &relative) {
                    join(&copy.destination, below)
                } else {
                    return false;
                };
                lands == target
            })
        })
    }

    /// What puts content at `path` in the image (for seeding a volume mounted there):
    /// something put at `path` or inside it, else a `COPY`/`ADD` or `WORKDIR` above it (a
    /// copied directory, or a `RUN` in that directory such as `npm install`, may have made it).
    /// `/` is above every path and says nothing. A `mkdir` above `path` makes only its own
    /// directory.
    pub fn content_at(&self, path: &str) -> Option<&Made> {
        let path = clean_absolute(path);
        let into = self.made.iter().find(|m| m.path == path || is_inside(&m.path, &path));
        into.or_else(|| self.made.iter().find(|m| m.by != MadeBy::Mkdir && m.path != "/" && is_inside(&path, &m.path)))
    }
}

/// Whether `path` is strictly inside `dir` (both absolute and clean).
pub fn is_inside(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

/// `path` below the context-relative directory `dir` (`""` is the context): `None` when it is
/// not strictly below.
fn below<'a>(dir: &str, path: &'a str) -> Option<&'a str> {
    if dir.is_empty() {
        return (!path.is_empty()).then_some(path);
    }
    path.strip_prefix(dir)?.strip_prefix('/').filter(|rest| !rest.is_empty())
}

fn join(dir: &str, name: &str) -> String {
    if name.is_empty() {
        dir.to_string()
    } else if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// A clean absolute container path: `.` and empty parts dropped, `..` resolved, never above
/// `/`.
pub fn clean_absolute(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A clean path relative to the build context: a leading `/` or `./` is the context root, and
/// `..` never leaves it (as the builder reads `COPY` sources).
pub fn clean_relative(path: &str) -> String {
    clean_absolute(path).trim_start_matches('/').to_string()
}

/// `path` resolved against the working directory: absolute paths stay, relative ones are
/// joined to `workdir` (`None`: unknown, so the result is too).
pub fn resolve(path: &str, workdir: Option<&str>) -> Option<String> {
    if path.starts_with('/') {
        return Some(clean_absolute(path));
    }
    Some(clean_absolute(&format!("{}/{path}", workdir?)))
}

/// The directories `mkdir` creates in a shell script, as written (relative ones resolved
/// later): each simple command of `&&`, `||`, `;`, `|` and line lists whose program is
/// `mkdir`, its operands without options. `cd DIR` before it in the same script is
/// followed. Words kompile cannot read plainly (globs, braces, command substitution) are
/// left out; variables are left as written for the caller to expand.
pub fn mkdir_paths(script: &str) -> Vec<MkdirPath> {
    let mut out = Vec::new();
    // Most RUNs make no directory: they are not split into words.
    if !script.contains("mkdir") {
        return out;
    }
    let mut cd: Option<String> = None;
    let script = script.replace("\\\n", " ");
    for command in script.split(['\n', ';', '|', '&']) {
        let Ok(words) = shell_words::split(command) else { continue };
        let mut words = words.iter().map(String::as_str).skip_while(|w| *w == "sudo" || is_assignment(w));
        let Some(program) = words.next() else { continue };
        // `(mkdir /x)`: a subshell, whose parentheses are not part of the words.
        let subshell = program.starts_with('(');
        let program = program.trim_start_matches('(').rsplit('/').next().unwrap_or(program);
        match program {
            "cd" => cd = words.next().map(str::to_string),
            "mkdir" => {
                let mut takes_value = false;
                for word in words {
                    let word = if subshell { word.trim_end_matches(')') } else { word };
                    if std::mem::take(&mut takes_value) {
                        continue;
                    }
                    if word == "-m" || word == "--mode" {
                        takes_value = true;
                        continue;
                    }
                    if word.starts_with('-') {
                        continue;
                    }
                    if word.contains(['*', '?', '[', '`', '(', ')']) || has_brace(word) {
                        continue;
                    }
                    out.push(MkdirPath { path: word.to_string(), cd: cd.clone() });
                }
            }
            _ => {}
        }
    }
    out
}

/// One operand of `mkdir`, with the directory a `cd` before it moved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MkdirPath {
    pub path: String,
    pub cd: Option<String>,
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// A `{` that is not part of `${`: brace expansion in shells that have it.
fn has_brace(word: &str) -> bool {
    word.char_indices().any(|(at, c)| c == '{' && !word[..at].ends_with('$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(sources: &[&str], destination: &str, into_directory: bool) -> ContextCopy {
        ContextCopy {
            sources: sources.iter().map(|s| s.to_string()).collect(),
            destination: destination.to_string(),
            into_directory,
            span: 0..0,
        }
    }

    fn made(path: &str, by: MadeBy) -> Made {
        Made { path: path.to_string(), by, span: 0..0 }
    }

    #[test]
    fn paths_are_cleaned_as_the_builder_reads_them() {
        assert_eq!(clean_absolute("/usr/src/app/"), "/usr/src/app");
        assert_eq!(clean_absolute("/a/./b/../c"), "/a/c");
        assert_eq!(clean_absolute("/../../etc"), "/etc");
        assert_eq!(clean_absolute("/"), "/");
        assert_eq!(clean_relative("."), "");
        assert_eq!(clean_relative("./"), "");
        assert_eq!(clean_relative("/src/"), "src");
        assert_eq!(clean_relative("../outside"), "outside", "the context is the root");
        assert_eq!(resolve(".", Some("/usr/src/app")).as_deref(), Some("/usr/src/app"));
        assert_eq!(resolve("./lib/", Some("/app")).as_deref(), Some("/app/lib"));
        assert_eq!(resolve("../x", Some("/app")).as_deref(), Some("/x"));
        assert_eq!(resolve("/abs", None).as_deref(), Some("/abs"));
        assert_eq!(resolve("rel", None), None, "relative to an unknown WORKDIR");
    }

    #[test]
    fn the_context_or_a_directory_above_lands_at_the_target() {
        let files = ImageFiles {
            context_copies: vec![copy(&["package.json"], "/app", true), copy(&[""], "/app", false)],
            made: Vec::new(),
        };
        assert!(files.context_copy_at("", false, "/app").is_some(), "COPY . /app");
        assert!(files.context_copy_at("", false, "/app/").is_some());
        assert!(files.context_copy_at("src", false, "/app/src").is_some(), "a directory inside the context");
        assert!(files.context_copy_at("src/lib", false, "/app/src/lib").is_some());
        assert!(files.context_copy_at("src", false, "/app").is_none(), "not where it lands");
        assert!(files.context_copy_at("", false, "/srv").is_none());
        assert!(files.context_copy_at("package.json", true, "/app/package.json").is_some());
    }

    #[test]
    fn a_copied_subdirectory_holds_only_itself() {
        let files = ImageFiles { context_copies: vec![copy(&["src"], "/app/src", false)], made: Vec::new() };
        assert!(files.context_copy_at("src", false, "/app/src").is_some());
        assert!(files.context_copy_at("src/api", false, "/app/src/api").is_some());
        assert!(files.context_copy_at("", false, "/app").is_none(), "the rest of the context is not copied");
        assert!(files.context_copy_at("srcs", false, "/app/srcs").is_none());
    }

    #[test]
    fn a_single_file_goes_into_a_directory_destination() {
        let files = ImageFiles {
            context_copies: vec![copy(&["nginx.conf"], "/etc/nginx", true), copy(&["run.sh"], "/usr/bin/run", false)],
            made: Vec::new(),
        };
        assert!(files.context_copy_at("nginx.conf", true, "/etc/nginx/nginx.conf").is_some());
        assert!(files.context_copy_at("nginx.conf", true, "/etc/nginx").is_none());
        assert!(files.context_copy_at("run.sh", true, "/usr/bin/run").is_some(), "renamed");
    }

    #[test]
    fn content_is_at_a_path_something_is_put_into_or_above() {
        let files = ImageFiles {
            context_copies: Vec::new(),
            made: vec![
                made("/", MadeBy::Workdir),
                made("/usr/src/app", MadeBy::Workdir),
                made("/var/lib/app/seed.db", MadeBy::Copy),
                made("/srv", MadeBy::Mkdir),
                made("/cache/pip", MadeBy::Mkdir),
            ],
        };
        let by = |path: &str| files.content_at(path).map(|m| (m.path.as_str(), m.by));
        assert_eq!(by("/usr/src/app/node_modules"), Some(("/usr/src/app", MadeBy::Workdir)), "RUN npm install there");
        assert_eq!(by("/usr/src/app"), Some(("/usr/src/app", MadeBy::Workdir)));
        assert_eq!(by("/var/lib/app"), Some(("/var/lib/app/seed.db", MadeBy::Copy)), "a file copied into it");
        assert_eq!(by("/cache"), Some(("/cache/pip", MadeBy::Mkdir)));
        assert_eq!(by("/srv/data"), None, "mkdir makes only its own directory");
        assert_eq!(by("/data"), None, "`/` is above everything and says nothing");
        assert_eq!(by("/usr/src/application"), None, "a sibling with a common prefix");
    }

    #[test]
    fn mkdir_operands_are_read_from_shell_lists() {
        let paths = |script: &str| -> Vec<(String, Option<String>)> {
            mkdir_paths(script).into_iter().map(|m| (m.path, m.cd)).collect()
        };
        assert_eq!(
            paths("apt-get update && mkdir -p /data/db /var/log/app && chown app /data"),
            [("/data/db".into(), None), ("/var/log/app".into(), None)]
        );
        assert_eq!(
            paths("mkdir -m 0750 -p \"/srv/my dir\"; sudo mkdir --mode=700 x"),
            [("/srv/my dir".into(), None), ("x".into(), None)]
        );
        assert_eq!(paths("cd /opt && /bin/mkdir cache"), [("cache".into(), Some("/opt".into()))]);
        assert_eq!(paths("mkdir -p /a/{b,c} /d/* $(pwd)/x ${HOME}/y"), [("${HOME}/y".into(), None)]);
        assert!(paths("echo mkdir /nope; mkdirs /x").is_empty());
        assert_eq!(paths("(mkdir /sub)"), [("/sub".into(), None)]);
    }
}
