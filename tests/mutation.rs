//! Mutation test: every fixture's compose files and Dockerfiles, corrupted in many
//! deterministic ways (truncated, lines deleted, duplicated, re-indented or swapped, bytes
//! injected, a scalar made huge), must never make kompile panic or hang, and every
//! diagnostic must point inside the text it names. The fuzz targets in fuzz/ run the same
//! checks (tests/support/hostile.rs) on inputs libFuzzer invents; this test is their stable,
//! always-on counterpart. Mutants that fail are written to target/tmp/mutation-failures/.

mod tree;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::support::{self, hostile, validate};

/// Mutants per file: enough to cover every kind of corruption, few enough to stay fast.
const PER_FILE: usize = 20;
/// A single run slower than this is treated as a hang (real runs take milliseconds).
const HANG: Duration = Duration::from_secs(10);
/// What gets injected: YAML indicators, quotes, interpolation, control bytes, invalid UTF-8.
const INJECT: &[&[u8]] = &[
    b":",
    b"-",
    b"[",
    b"{",
    b"*",
    b"&",
    b"!",
    b"\"",
    b"'",
    b"$",
    b"${",
    b"\t",
    b"\0",
    b"\xff",
    b"\r",
    b"- [",
    b": {",
    b"*a",
    b"&a ",
    b"!!binary ",
    b"${A:-${",
    b"<<: *",
    b"\\",
    b"\xe2\x82",
];

/// xorshift64*: small, seeded, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the seed text, never zero.
        let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Rng(hash | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when n is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

struct Mutant {
    what: String,
    bytes: Vec<u8>,
}

/// Lines with their terminators, so joining them gives the text back.
fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn mutants(original: &[u8], seed: &str) -> Vec<Mutant> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let lines = lines(original);
    let n = lines.len();
    let mut push = |what: String, bytes: Vec<u8>| out.push(Mutant { what, bytes });
    for _ in 0..3 {
        let at = rng.below(original.len() + 1);
        push(format!("truncate at byte {at}"), original[..at].to_vec());
    }
    // Inside a multi-byte character when there is one, else the empty file.
    let mid = original.iter().position(|&b| b >= 0x80).map_or(0, |i| i + 1);
    push(format!("truncate at byte {mid} (mid-character or empty)"), original[..mid].to_vec());
    let edit = |what: &str, i: usize, f: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let mut copy = lines.clone();
        f(&mut copy);
        (format!("{what} line {}", i + 1), copy.concat())
    };
    for _ in 0..2 {
        let i = rng.below(n);
        let (what, bytes) = edit("delete", i, &|l| {
            if i < l.len() {
                l.remove(i);
            }
        });
        push(what, bytes);
    }
    for _ in 0..2 {
        let i = rng.below(n);
        let (what, bytes) = edit("duplicate", i, &|l| {
            if let Some(line) = l.get(i).cloned() {
                l.insert(i, line);
            }
        });
        push(what, bytes);
    }
    for indent in [b"  ".as_slice(), b" "] {
        let i = rng.below(n);
        let (what, bytes) = edit(&format!("indent by {}", indent.len()), i, &|l| {
            if let Some(line) = l.get_mut(i) {
                line.splice(0..0, indent.iter().copied());
            }
        });
        push(what, bytes);
    }
    let i = rng.below(n);
    let (what, bytes) = edit("dedent", i, &|l| {
        if let Some(line) = l.get_mut(i) {
            let spaces = line.iter().take(2).take_while(|&&b| b == b' ').count();
            line.drain(..spaces);
        }
    });
    push(what, bytes);
    for _ in 0..2 {
        let (i, j) = (rng.below(n), rng.below(n));
        let (what, bytes) = edit("swap with another", i, &|l| {
            if i < l.len() && j < l.len() {
                l.swap(i, j);
            }
        });
        push(format!("{what} ({})", j + 1), bytes);
    }
    for _ in 0..6 {
        let token = INJECT[rng.below(INJECT.len())];
        let at = rng.below(original.len() + 1);
        let mut bytes = original.to_vec();
        bytes.splice(at..at, token.iter().copied());
        push(format!("inject {:?} at byte {at}", String::from_utf8_lossy(token)), bytes);
    }
    let (what, bytes) = huge_scalar(original, &mut rng);
    push(what, bytes);
    out
}

/// A line's value (after the first `: ` or `= `) or its key (what precedes it) replaced by
/// 128 KiB of text, or a huge line added when there is no such line. Longer than 65,535
/// columns, which renderers that pad with `{:width$}` cannot handle.
fn huge_scalar(original: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let mut lines = lines(original);
    let split = |line: &[u8]| line.windows(2).position(|w| w == b": " || w == b"= ");
    let candidates: Vec<usize> = (0..lines.len()).filter(|&i| split(&lines[i]).is_some()).collect();
    let huge = b"x".repeat(128 * 1024);
    let Some(&i) = candidates.get(rng.below(candidates.len())) else {
        lines.push(huge);
        return ("huge last line".to_string(), lines.concat());
    };
    let line = &mut lines[i];
    let at = split(line).unwrap_or(0);
    let what = if rng.below(2) == 0 {
        line.truncate(at + 2);
        line.extend_from_slice(&huge);
        line.push(b'\n');
        "value"
    } else {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        line.splice(indent..at, huge);
        "key"
    };
    (format!("huge {what} on line {}", i + 1), lines.concat())
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().flatten() {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The fixture projects, and in each the files to corrupt.
fn targets() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    for group in ["projects", "features", "conformance", "diagnostics"] {
        for dir in support::fixtures(group) {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
                .into_iter()
                .flatten()
                .filter(|e| e.file_type().is_file())
                .map(|e| e.path().strip_prefix(&dir).unwrap().to_path_buf())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.ends_with(".yaml") || name.starts_with("Dockerfile")
                })
                .collect();
            files.sort();
            out.push((dir, files));
        }
    }
    out
}

thread_local! {
    /// Inside [`guarded`]: panics are recorded here instead of printed.
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics inside [`guarded`] with where they
/// happened, and leaves every other panic (a failing assertion) to the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let recorded = CAUGHT.with_borrow_mut(|caught| match caught {
                Some(slot) => {
                    *slot = Some(info.to_string());
                    true
                }
                None => false,
            });
            if !recorded {
                default(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic (with where it happened) or a slow run into an error.
fn guarded(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    install_hook();
    CAUGHT.set(Some(None));
    let started = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    let took = started.elapsed();
    let caught = CAUGHT.take().flatten();
    match outcome {
        Ok(Ok(())) if took > HANG => Err(format!("took {took:?}")),
        Ok(Ok(())) => Ok(took),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(format!("panic: {}", caught.unwrap_or_default())),
    }
}

fn save_failure(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name.replace(['/', ' '], "_"));
    let _ = std::fs::write(&path, bytes);
    path
}

#[test]
fn corrupted_fixtures_never_panic_and_diagnostics_point_inside() {
    let started = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let (mut count, mut diagnosed, mut slowest) = (0usize, 0usize, (Duration::ZERO, String::new()));
    let mut failures = Vec::new();
    for (index, (dir, files)) in targets().into_iter().enumerate() {
        let copy = scratch.path().join(index.to_string());
        copy_dir(&dir, &copy);
        let options = support::options(&copy);
        for file in files {
            let path = copy.join(&file);
            let original = std::fs::read(&path).unwrap();
            let label = format!("{}/{}", dir.strip_prefix(support::root()).unwrap().display(), file.display());
            let is_dockerfile = file.file_name().is_some_and(|n| n.to_string_lossy().starts_with("Dockerfile"));
            for (m, mutant) in mutants(&original, &label).into_iter().take(PER_FILE).enumerate() {
                count += 1;
                let outcome = if is_dockerfile {
                    guarded(|| hostile::dockerfile(&mutant.bytes))
                } else {
                    std::fs::write(&path, &mutant.bytes).unwrap();
                    guarded(|| {
                        diagnosed += usize::from(hostile::compose_files(&options)? > 0);
                        String::from_utf8_lossy(&mutant.bytes)
                            .lines()
                            .try_for_each(|l| hostile::interpolation(l.as_bytes()))
                    })
                };
                match outcome {
                    Ok(took) if took > slowest.0 => slowest = (took, format!("{label}: {}", mutant.what)),
                    Ok(_) => {}
                    Err(error) => {
                        let saved = save_failure(&format!("{label}.{m}"), &mutant.bytes);
                        failures.push(format!("{label}: {}: {error}\n    (saved as {})", mutant.what, saved.display()));
                    }
                }
            }
            std::fs::write(&path, &original).unwrap();
        }
    }
    println!(
        "{count} mutants ({diagnosed} of the compose ones diagnosed) in {:.1?}; slowest {:.1?}: {}",
        started.elapsed(),
        slowest.0,
        slowest.1
    );
    assert!(count > 1000, "only {count} mutants: are the fixtures there?");
    assert!(failures.is_empty(), "{} of {count} mutants failed:\n{}", failures.len(), failures.join("\n"));
}

/// Whole files that are hostile by construction, through the full pipeline: each must end in
/// diagnostics that point inside the text, never a panic, a hang or a blow-up. `true` when
/// the input must be refused with an error.
#[test]
fn hostile_files_are_diagnosed() {
    let mut rng = Rng::new("binary");
    let binary: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    let bomb = {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = format!("*a{}", i - 1);
            text += &format!("a{i}: &a{i} [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]\n");
        }
        text + "services:\n  web:\n    image: x\n    labels: *a11\n"
    };
    let block_nesting: String = (0..1_000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("empty", Vec::new(), false),
        ("blank", b" \n\n\t\n".to_vec(), true),
        ("nul bytes", vec![0; 64], true),
        ("binary", binary, true),
        ("utf-16", b"\xff\xfes\x00e\x00r\x00".to_vec(), true),
        ("flow nesting", "[".repeat(100_000).into_bytes(), true),
        ("mapping nesting", "{a: ".repeat(100_000).into_bytes(), true),
        ("block nesting", block_nesting.into_bytes(), true),
        ("alias bomb", bomb.into_bytes(), true),
        (
            "nested interpolation",
            format!("services:\n  a:\n    image: \"{}\"\n", "${A:-".repeat(10_000)).into_bytes(),
            true,
        ),
        ("self include", b"include:\n  - compose.yaml\nservices:\n  a:\n    image: x\n".to_vec(), true),
        ("self extends", b"services:\n  a:\n    extends: a\n    image: x\n".to_vec(), true),
        (
            "extends itself by file",
            b"services:\n  a:\n    extends:\n      file: compose.yaml\n      service: a\n".to_vec(),
            true,
        ),
        ("document stream", b"services: {}\n---\n".repeat(1_000), false),
    ];
    let mut failures = Vec::new();
    for (name, bytes, must_fail) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), &bytes).unwrap();
        let options = support::options(dir.path());
        let outcome = guarded(|| {
            hostile::compose_files(&options)?;
            hostile::compose_bytes(&bytes, dir.path())?;
            hostile::dockerfile(&bytes)?;
            hostile::interpolation(&bytes)
        });
        let refused = support::diagnose(&options).0.iter().any(|d| d.is_error());
        match outcome {
            Err(error) => failures.push(format!("{name}: {error}")),
            Ok(_) if must_fail && !refused => failures.push(format!("{name}: accepted without an error")),
            Ok(took) => println!("{name}: {took:.1?}"),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A directory where the compose file should be is a read error at no place, not a crash.
#[test]
fn a_directory_as_the_compose_file_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("compose.yaml")).unwrap();
    let options =
        kompile::load::Options { files: vec![dir.path().join("compose.yaml")], ..support::options(dir.path()) };
    let (diagnostics, _) = support::diagnose(&options);
    assert!(diagnostics.iter().any(|d| d.message.contains("directory")), "{diagnostics:?}");
}
