//! Writes a large compose project for benchmarking by hand:
//! `cargo run --release --example gen-compose -- N DIR [--built]`.
//! With `--built`, every service is also built from its own directory with a Dockerfile.

#[path = "../benches/support/gen.rs"]
mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let built = args.iter().any(|a| a == "--built");
    let positional: Vec<&String> = args.iter().filter(|a| *a != "--built").collect();
    let (Some(n), Some(dir), 2) =
        (positional.first().and_then(|n| n.parse::<usize>().ok()), positional.get(1), positional.len())
    else {
        eprintln!(
            "usage: gen-compose N DIR [--built]   (writes DIR/compose.yaml with N services, and DIR/api_key.txt)"
        );
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    let written = if built { generate::write_built_project(n, &dir) } else { generate::write_project(n, &dir) };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot write {}: {error}", dir.display());
            ExitCode::FAILURE
        }
    }
}
