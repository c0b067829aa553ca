//! `cargo bench --bench hostile [-- --strict]`: `kompile build` and `kompile check` on inputs
//! made to blow up a compiler of compose files, each at most 1 MiB: thousands of repeated
//! problems, long `extends` chains, self-including files, doubling `.env` variables, tens of
//! thousands of services, huge port ranges, deep nesting. Every run must end with exit 0, 1
//! or 2 within 1 s and 100 MB of peak RSS (the bound in issue 14), which this measures on the
//! release binary; `--strict` exits non-zero when one does not.
//!
//! Each case is written to a temporary directory; the table names it, its size, the exit
//! code, the median wall time of 3 runs and the highest peak RSS.

#[path = "support/measure.rs"]
mod measure;

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

const KOMPILE: &str = env!("CARGO_BIN_EXE_kompile");
const LIMIT: usize = 1024 * 1024;
const TARGET_SECONDS: f64 = 1.0;
const TARGET_MB: f64 = 100.0;
const RUNS: usize = 3;

/// One hostile project: its files, and the command to run on it.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    command: &'static [&'static str],
}

fn service(out: &mut String, name: &str, body: &str) {
    let _ = writeln!(out, "  {name}:\n    image: nginx:1.27\n{body}");
}

fn cases() -> Vec<Case> {
    let build: &[&str] = &["build"];
    let check: &[&str] = &["check", "--format", "short"];
    let mut out = Vec::new();

    // K012 once per occurrence: 400 KB of an unset variable in one value.
    let dollars =
        format!("services:\n  web:\n    image: nginx:1.27\n    environment:\n      X: \"{}\"\n", "$a".repeat(200_000));
    out.push(Case { name: "400 KB of `$a` (unset)", files: vec![("compose.yaml", dollars)], command: build });

    // K309 once per package: one RUN installing tens of thousands of unpinned packages.
    let packages: String = (0..100_000).map(|i| format!(" p{i}")).collect::<String>();
    let dockerfile = format!("FROM debian:12\nRUN apt-get install -y{}\n", &packages[..packages.len().min(LIMIT - 64)]);
    let compose = "services:\n  app:\n    build: .\n    image: app:1\n".to_string();
    out.push(Case {
        name: "1 MB of apt packages",
        files: vec![("compose.yaml", compose), ("Dockerfile", dockerfile)],
        command: check,
    });

    // extends chains: recursion depth and quadratic merging.
    let mut chain = String::from("services:\n  s0:\n    image: nginx:1.27\n");
    for i in 1..10_000 {
        let _ = writeln!(chain, "  s{i}:\n    extends: s{}", i - 1);
    }
    out.push(Case { name: "10,000 chained extends", files: vec![("compose.yaml", chain)], command: build });

    // An include cycle: itself, three times.
    let include = "include:\n  - compose.yaml\n  - compose.yaml\n  - compose.yaml\nservices:\n  a:\n    image: x:1\n";
    out.push(Case { name: "self-include x3", files: vec![("compose.yaml", include.to_string())], command: build });

    // `.env` variables that double each other: 2^40 bytes if expanded.
    let mut env = String::from("A0=xxxxxxxxxxxxxxxx\n");
    for i in 1..41 {
        let _ = writeln!(env, "A{i}=${{A{p}}}${{A{p}}}", p = i - 1);
    }
    let compose = "services:\n  web:\n    image: nginx:1.27\n".to_string();
    out.push(Case { name: ".env doubling x40", files: vec![("compose.yaml", compose), (".env", env)], command: build });

    // Many services without ports (K118 looks at who addresses whom).
    let mut many = String::from("services:\n");
    let mut i = 0;
    while many.len() < LIMIT - 64 {
        let _ = writeln!(many, "  s{i}:\n    image: nginx:1.27");
        i += 1;
    }
    out.push(Case { name: "~40,000 services, no ports", files: vec![("compose.yaml", many)], command: build });

    // Many services with ports, environment and a healthcheck: the normal path, large.
    let mut full = String::from("services:\n");
    let mut i = 0;
    while full.len() < LIMIT - 512 {
        let body = "    ports: [\"8080\"]\n    environment: {A: b, URL: \"http://s1:8080\"}\n    healthcheck: {test: [CMD, \"true\"], interval: 5s}";
        service(&mut full, &format!("s{i}"), body);
        i += 1;
    }
    out.push(Case { name: "~8,000 services with ports", files: vec![("compose.yaml", full)], command: build });

    // A port range the size of the port space.
    let ports = "services:\n  web:\n    image: nginx:1.27\n    ports: [\"1-65535:1-65535\"]\n".to_string();
    out.push(Case { name: "port range 1-65535", files: vec![("compose.yaml", ports)], command: build });

    // Unknown keys: one warning each.
    let mut keys = String::from("services:\n  web:\n    image: nginx:1.27\n");
    let mut i = 0;
    while keys.len() < LIMIT - 64 {
        let _ = writeln!(keys, "    unknown{i}: x");
        i += 1;
    }
    out.push(Case { name: "~60,000 unknown keys", files: vec![("compose.yaml", keys)], command: check });

    // Flow nesting a megabyte deep, and a megabyte-long value.
    out.push(Case { name: "1 MB of `[`", files: vec![("compose.yaml", "[".repeat(LIMIT))], command: build });
    let long = format!("services:\n  web:\n    image: nginx:1.27\n    command: \"{}\"\n", "x".repeat(LIMIT - 64));
    out.push(Case { name: "1 MB value", files: vec![("compose.yaml", long)], command: build });

    // A depends_on chain for the cycle check and startup order.
    let mut deps = String::from("services:\n");
    for i in 0..8_000 {
        let body = if i > 0 { format!("    depends_on: [s{}]", i - 1) } else { String::new() };
        service(&mut deps, &format!("s{i}"), &body);
    }
    out.push(Case { name: "8,000-long depends_on chain", files: vec![("compose.yaml", deps)], command: build });

    // An alias bomb, capped at 100k nodes by the loader.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = format!("*a{}", i - 1);
        let _ = writeln!(bomb, "a{i}: &a{i} [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]");
    }
    bomb.push_str("services:\n  web:\n    image: x:1\n    labels: *a11\n");
    out.push(Case { name: "alias bomb", files: vec![("compose.yaml", bomb)], command: build });
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        return measure::measure(&args[1..]);
    }
    let strict = args.iter().any(|a| a == "--strict");
    let mut all_pass = true;
    println!("| input | size | command | exit | wall (median of {RUNS}) | peak RSS | result |");
    println!("|---|---:|---|---:|---:|---:|---|");
    for case in cases() {
        match run(&case) {
            Ok(line) => {
                all_pass &= line.pass;
                println!("{}", line.text);
            }
            Err(error) => {
                all_pass = false;
                println!("| {} | | | | | | ERROR: {error} |", case.name);
            }
        }
    }
    if all_pass || !strict { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

struct Line {
    text: String,
    pass: bool,
}

fn run(case: &Case) -> Result<Line, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut size = 0;
    for (name, text) in &case.files {
        size += text.len();
        std::fs::write(dir.path().join(name), text).map_err(|e| e.to_string())?;
    }
    let runs = (0..RUNS)
        .map(|_| measure::run_any(dir.path(), Path::new(KOMPILE), case.command))
        .collect::<Result<Vec<_>, _>>()?;
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    let wall = walls[walls.len() / 2].as_secs_f64();
    let mb = runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    let code = runs[0].code;
    let pass = wall <= TARGET_SECONDS && mb <= TARGET_MB && (0..=2).contains(&code);
    let text = format!(
        "| {} | {} KB | `{}` | {code} | {:.0} ms | {mb:.1} MB | {} |",
        case.name,
        size / 1024,
        case.command.join(" "),
        wall * 1_000.0,
        if pass { "PASS" } else { "FAIL" }
    );
    Ok(Line { text, pass })
}
