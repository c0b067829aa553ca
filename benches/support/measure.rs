//! Measuring one command: every run goes through a fresh copy of the bench binary
//! (`--measure`), whose only child is the measured command, so `getrusage(RUSAGE_CHILDREN)`
//! reports exactly that command's peak RSS and CPU time, not the largest of all earlier runs.
//! Shared by `benches/build.rs` and `benches/hostile.rs`, each of which uses part of it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// One measured run of a command.
#[derive(Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kb: u64,
    /// The command's exit code (-1 when a signal ended it).
    pub code: i32,
}

/// `--measure DIR PROGRAM ARGS...`: runs PROGRAM in DIR with its output discarded and prints
/// `wall_ns cpu_ns max_rss_kb exit_code` of that one child.
pub fn measure(args: &[String]) -> ExitCode {
    let [dir, program, rest @ ..] = args else {
        eprintln!("usage: --measure DIR PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let status = Command::new(program).args(rest).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let wall = start.elapsed();
    let code = match status {
        Ok(status) => status.code().unwrap_or(-1),
        Err(error) => {
            eprintln!("cannot run {program}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else {
        eprintln!("getrusage failed");
        return ExitCode::FAILURE;
    };
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u128 * 1_000_000 + t.tv_usec() as u128;
    let cpu_ns = (micros(usage.user_time()) + micros(usage.system_time())) * 1_000;
    // Linux reports ru_maxrss in kilobytes.
    println!("{} {cpu_ns} {} {code}", wall.as_nanos(), usage.max_rss());
    ExitCode::SUCCESS
}

/// Runs `program args` in `dir` once, through a fresh copy of this binary; a command that
/// does not exit 0 is an error.
pub fn run_once(dir: &Path, program: &Path, args: &[&str]) -> Result<Run, String> {
    let run = run_any(dir, program, args)?;
    if run.code != 0 {
        return Err(format!(
            "{} {} failed in {} (exit {})",
            program.display(),
            args.join(" "),
            dir.display(),
            run.code
        ));
    }
    Ok(run)
}

/// Runs `program args` in `dir` once, through a fresh copy of this binary, whatever it exits.
pub fn run_any(dir: &Path, program: &Path, args: &[&str]) -> Result<Run, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find the bench binary: {e}"))?;
    let output = Command::new(me)
        .arg("--measure")
        .arg(dir)
        .arg(program)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the measuring wrapper: {e}"))?;
    if !output.status.success() {
        return Err(format!("could not measure {} {} in {}", program.display(), args.join(" "), dir.display()));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<i128> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let [wall, cpu, rss, code] = fields[..] else {
        return Err(format!("unexpected measurement {text:?}"));
    };
    let nanos = |n: i128| Duration::from_nanos(n as u64);
    Ok(Run { wall: nanos(wall), cpu: nanos(cpu), max_rss_kb: rss as u64, code: code as i32 })
}
