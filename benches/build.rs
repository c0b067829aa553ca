//! `cargo bench --bench build [-- --strict]`: times `kompile build` on generated projects of
//! 10 to 4,000 services and checks the performance targets: 1,000 services in at most
//! 100 ms and 150 MB peak RSS, 4,000 services at most 4.5× the 1,000-service time, and at
//! least 10× faster than `docker-compose config --format json` when that is available
//! (`KOMPILE_COMPOSE_REF`, the reference plugin path, or `docker-compose` on `PATH`).
//!
//! Every run goes through a fresh copy of this binary (`--measure`), whose only child is the
//! measured command: `getrusage(RUSAGE_CHILDREN)` then reports exactly that command's peak
//! RSS and CPU time, not the largest of all earlier runs.
//!
//! Prints a table and PASS/FAIL per target; exits non-zero on a miss only with `--strict`.

#[path = "support/gen.rs"]
mod generate;
#[path = "support/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use measure::run_once;

const KOMPILE: &str = env!("CARGO_BIN_EXE_kompile");
const REFERENCE_PLUGIN: &str = "/opt/compose-ref/usr/libexec/docker/cli-plugins/docker-compose";
const SIZES: [usize; 4] = [10, 100, 1_000, 4_000];
const TARGET_MS: f64 = 100.0;
const TARGET_MB: f64 = 150.0;
const TARGET_GROWTH: f64 = 4.5;
const TARGET_SPEEDUP: f64 = 10.0;
/// `kompile check` with every service built from a Dockerfile: (services, limit in ms).
const CHECK_TARGETS: [(usize, f64); 2] = [(10, 20.0), (1_000, 150.0)];

/// Several runs of the same command: median times, highest peak.
struct Summary {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        return measure::measure(&args[1..]);
    }
    let strict = args.iter().any(|a| a == "--strict");
    match bench() {
        Ok(all_pass) if all_pass || !strict => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("benchmark failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One warm-up run (page cache, binary loaded), then `runs` measured ones.
fn sample(dir: &Path, program: &Path, args: &[&str], runs: usize) -> Result<Summary, String> {
    run_once(dir, program, args)?;
    let runs = (0..runs).map(|_| run_once(dir, program, args)).collect::<Result<Vec<_>, _>>()?;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    Ok(Summary {
        wall: median(runs.iter().map(|r| r.wall).collect()),
        cpu: median(runs.iter().map(|r| r.cpu).collect()),
        max_rss_kb: runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1_024.0
}

/// The reference docker-compose, if any: `KOMPILE_COMPOSE_REF`, the plugin path, or `PATH`.
fn reference_compose() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KOMPILE_COMPOSE_REF") {
        return Some(PathBuf::from(path));
    }
    if Path::new(REFERENCE_PLUGIN).is_file() {
        return Some(PathBuf::from(REFERENCE_PLUGIN));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("docker-compose")).find(|p| p.is_file())
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

fn bench() -> Result<bool, String> {
    let root = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let kompile = Path::new(KOMPILE);
    println!("kompile build <dir>/compose.yaml  ({KOMPILE}; median of N runs after one warm-up)\n");
    println!("{:>9} {:>10} {:>5} {:>10} {:>10} {:>10}", "services", "yaml KiB", "runs", "wall ms", "cpu ms", "peak MB");
    let mut results = Vec::new();
    for n in SIZES {
        let dir = root.path().join(format!("p{n}"));
        generate::write_project(n, &dir).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
        let size = std::fs::metadata(dir.join("compose.yaml")).map(|m| m.len()).unwrap_or(0);
        let runs = if n >= 4_000 { 5 } else { 11 };
        let file = dir.join("compose.yaml");
        let file = file.to_str().ok_or("temporary path is not UTF-8")?;
        let s = sample(&dir, kompile, &["build", file], runs)?;
        println!(
            "{n:>9} {:>10} {runs:>5} {:>10.1} {:>10.1} {:>10.1}",
            size / 1_024,
            ms(s.wall),
            ms(s.cpu),
            mb(s.max_rss_kb)
        );
        results.push((n, dir, s));
    }
    let at = |n: usize| results.iter().find(|r| r.0 == n).map(|r| (&r.1, &r.2)).ok_or("missing size");
    let (dir_1k, k1) = at(1_000)?;
    let (_, k4) = at(4_000)?;
    let growth = ms(k4.wall) / ms(k1.wall);
    let cpu_growth = ms(k4.cpu) / ms(k1.cpu);

    let compose = match reference_compose() {
        Some(program) => {
            let s = sample(dir_1k, &program, &["config", "--format", "json"], 3)?;
            println!(
                "\ndocker-compose config --format json, 1,000 services ({}): wall {:.1} ms, cpu {:.1} ms, peak {:.1} MB",
                program.display(),
                ms(s.wall),
                ms(s.cpu),
                mb(s.max_rss_kb)
            );
            Some(s)
        }
        None => {
            println!("\ndocker-compose not found (set KOMPILE_COMPOSE_REF): speed-up not measured");
            None
        }
    };

    println!("\n{:<44} {:>14} {:>12}  result", "target", "measured", "limit");
    let mut all = true;
    let mut row = |name: &str, measured: String, limit: String, pass: bool| {
        all &= pass;
        println!("{name:<44} {measured:>14} {limit:>12}  {}", verdict(pass));
    };
    row(
        "1,000 services: wall time",
        format!("{:.1} ms", ms(k1.wall)),
        format!("<= {TARGET_MS} ms"),
        ms(k1.wall) <= TARGET_MS,
    );
    row(
        "1,000 services: peak RSS",
        format!("{:.1} MB", mb(k1.max_rss_kb)),
        format!("<= {TARGET_MB} MB"),
        mb(k1.max_rss_kb) <= TARGET_MB,
    );
    row(
        "4,000 / 1,000 services: wall time",
        format!("{growth:.2}x (cpu {cpu_growth:.2}x)"),
        format!("<= {TARGET_GROWTH}x"),
        growth <= TARGET_GROWTH,
    );
    if let Some(c) = compose {
        let speedup = ms(c.wall) / ms(k1.wall);
        row(
            "speed-up over docker-compose config",
            format!("{speedup:.1}x"),
            format!(">= {TARGET_SPEEDUP}x"),
            speedup >= TARGET_SPEEDUP,
        );
    }
    all &= check_bench(root.path())?;
    Ok(all)
}

/// `kompile check` on projects whose services are all built from Dockerfiles.
fn check_bench(root: &Path) -> Result<bool, String> {
    println!("\nkompile check <dir>/compose.yaml, every service built from its own Dockerfile\n");
    println!(
        "{:>9} {:>5} {:>10} {:>10} {:>10} {:>12}  result",
        "services", "runs", "wall ms", "cpu ms", "peak MB", "limit"
    );
    let mut all = true;
    for (n, limit) in CHECK_TARGETS {
        let dir = root.join(format!("built{n}"));
        generate::write_built_project(n, &dir).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
        let file = dir.join("compose.yaml");
        let file = file.to_str().ok_or("temporary path is not UTF-8")?;
        let s = sample(&dir, Path::new(KOMPILE), &["check", "--format", "short", file], 11)?;
        let pass = ms(s.wall) <= limit;
        all &= pass;
        let limit = format!("<= {limit} ms");
        println!(
            "{n:>9} {:>5} {:>10.1} {:>10.1} {:>10.1} {limit:>12}  {}",
            11,
            ms(s.wall),
            ms(s.cpu),
            mb(s.max_rss_kb),
            verdict(pass)
        );
    }
    Ok(all)
}
