//! Writes a large compose project for benchmarking by hand:
//! `cargo run --release --example gen-compose -- N DIR`.

#[path = "../benches/support/gen.rs"]
mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(dir), 2) = (args.first().and_then(|n| n.parse::<usize>().ok()), args.get(1), args.len()) else {
        eprintln!("usage: gen-compose N DIR   (writes DIR/compose.yaml with N services, and DIR/api_key.txt)");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match generate::write_project(n, &dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot write {}: {error}", dir.display());
            ExitCode::FAILURE
        }
    }
}
