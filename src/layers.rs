//! The stages use each other in one direction only, and the files of `cluster/` import each
//! other without a circle. Checked on the source text (`crate::x` and `super::x` paths), so a
//! new backward use fails here instead of growing a knot that no one decided on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules in pipeline order: each may use only the ones before it.
const ORDER: &[&str] = &[
    "source",
    "parallel",
    "suggest",
    "names",
    "units",
    "ports",
    "dockerignore",
    "diag",
    "model",
    "dockerfile",
    "compose",
    "load",
    "check",
    "images",
    "lower",
    "emit",
    "render",
    "cluster",
    "cli",
    "terminal",
    "cmd",
];

/// Uses against [`ORDER`] that exist and are not removed yet: (user, used, why).
const KNOWN_BACKWARD: &[(&str, &str, &str)] = &[];

/// Files that must not use a module although the order would allow it: (file, module, why).
const FORBIDDEN: &[(&str, &str, &str)] = &[("cmd/build.rs", "cluster", "building never talks to a cluster")];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files of a top-level module: `src/<name>.rs` or everything under `src/<name>/`.
fn files(module: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let walk = walkdir::WalkDir::new(src().join(module)).sort_by_file_name().into_iter().flatten();
    walk.map(|e| e.into_path()).filter(|p| p.extension().is_some_and(|x| x == "rs")).collect()
}

/// The lines of `path` that are compiled outside tests and are not comments: tests may use
/// any stage, and prose may name any path.
fn code(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" {
            skip_item(&mut lines);
        } else if !trimmed.starts_with("//") {
            out.push(line.to_string());
        }
    }
    out
}

/// Skips the item after an attribute: one line (`mod fixtures;`), or a block to its closing
/// brace, counted line by line.
fn skip_item<'a>(lines: &mut impl Iterator<Item = &'a str>) {
    let mut depth = 0i64;
    for line in lines.by_ref() {
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if depth <= 0 && (line.contains('}') || line.trim_end().ends_with(';')) {
            return;
        }
    }
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// The first segment of every path after `prefix` in `line`; for a group
/// (`prefix{a, b::c}`) the first segment of each member.
fn segments_after<'a>(line: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices(prefix) {
        let rest = &line[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => found.extend(members(group).into_iter().map(|member| ident(member.trim()))),
            None => found.push(ident(rest)),
        }
    }
    found.retain(|s| !s.is_empty() && *s != "super" && *s != "self");
    found
}

/// The members of a `{a, b::{c, d}, e}` group, given the text after its `{`.
fn members(group: &str) -> Vec<&str> {
    let (mut found, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                found.push(&group[start..at]);
                return found;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                found.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    found.push(&group[start..]);
    found
}

#[test]
fn stages_use_only_earlier_stages() {
    let mut wrong = Vec::new();
    for (rank, module) in ORDER.iter().enumerate() {
        let mut used = BTreeSet::new();
        for path in files(module) {
            for line in code(&path) {
                used.extend(segments_after(&line, "crate::").into_iter().map(str::to_string));
            }
        }
        for other in used.iter().filter(|u| ORDER.contains(&u.as_str()) && *u != module) {
            let later = ORDER.iter().position(|m| m == other).is_some_and(|r| r > rank);
            let known = KNOWN_BACKWARD.iter().any(|(u, d, _)| u == module && d == other);
            if later && !known {
                wrong.push(format!("{module} uses {other}, a later stage"));
            }
        }
    }
    assert!(wrong.is_empty(), "stages used against the pipeline order:\n{}", wrong.join("\n"));
}

#[test]
fn every_module_is_in_the_order() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap_or_default();
    let declared: Vec<&str> = lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let missing: Vec<&&str> = declared.iter().filter(|m| !ORDER.contains(m)).collect();
    assert!(missing.is_empty(), "add these modules to ORDER in src/layers.rs: {missing:?}");
}

#[test]
fn forbidden_uses_are_absent() {
    for (file, module, why) in FORBIDDEN {
        let uses = code(&src().join(file)).iter().any(|l| segments_after(l, "crate::").contains(module));
        assert!(!uses, "{file} uses {module}: {why}");
    }
}

/// What each file of `cluster/` imports of the others; `mod` stands for mod.rs, whose own
/// items the children use through `super::`.
fn cluster_graph() -> BTreeMap<String, BTreeSet<String>> {
    let dir = src().join("cluster");
    let paths: Vec<PathBuf> = files("cluster").into_iter().filter(|p| p.parent() == Some(dir.as_path())).collect();
    let names: BTreeSet<String> =
        paths.iter().filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned())).collect();
    let node = |segment: &str| if names.contains(segment) { segment.to_string() } else { "mod".to_string() };
    let mut graph = BTreeMap::new();
    for path in &paths {
        let from = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut to = BTreeSet::new();
        for line in code(path) {
            if from == "mod" {
                // mod.rs names its children by relative paths (`plan::x`, `use client::…`).
                let relative = names.iter().filter(|n| relative_use(&line, n)).cloned();
                to.extend(relative.filter(|_| !line.trim_start().starts_with("pub mod")));
            } else {
                to.extend(segments_after(&line, "super::").into_iter().map(node));
            }
            to.extend(segments_after(&line, "crate::cluster::").into_iter().map(node));
        }
        to.remove(&from);
        graph.insert(from, to);
    }
    graph
}

/// Whether `line` has a path starting with `name::` (not one inside a longer path).
fn relative_use(line: &str, name: &str) -> bool {
    line.match_indices(&format!("{name}::")).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// A circle in `graph`, as the files along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_string());
            return Some(found);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn cluster_files_import_without_a_circle() {
    let graph = cluster_graph();
    assert!(graph.get("diff").is_some_and(|d| d.contains("plan")), "the import scan finds nothing: {graph:?}");
    if let Some(found) = circle(&graph) {
        panic!("src/cluster imports in a circle: {}", found.join(" → "));
    }
}

#[test]
fn a_circle_is_found() {
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(circle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(
        segments_after("use super::{Settings, plan::{self, Key}, get};", "super::"),
        ["Settings", "plan", "get"]
    );
}
