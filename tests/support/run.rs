//! One finished run of the `kompile` binary, as the cluster tests look at it.

use std::process::Output;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Captures `output`, echoing it so a failing test shows what kompile printed.
    pub fn from_output(args: &[&str], output: &Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        println!("$ kompile {}\n--- exit {}\n{}\n{}", args.join(" "), run.code, run.stdout, run.stderr);
        run
    }
}
