//! The one way the tests run the `kompile` binary: [`kompile`] gives a builder with a clean,
//! fixed environment (nothing from the machine running the tests leaks in), a working
//! directory, arguments, optionally standard input and a time limit; [`Run`] is one finished
//! run as the tests look at it.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The whole environment kompile runs with unless a test adds to it: no colors, and a wide
/// terminal, so that a machine's temp path never wraps a line.
pub const ENVIRONMENT: &[(&str, &str)] = &[("HOME", "/home/user"), ("NO_COLOR", "1"), ("COLUMNS", "400")];

/// `kompile` run in `dir` with only [`ENVIRONMENT`] set; `.env` adds to it.
pub fn kompile(dir: impl AsRef<Path>) -> Kompile {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kompile"));
    command.current_dir(dir).env_clear().envs(ENVIRONMENT.iter().copied());
    Kompile { command, shown: Vec::new(), stdin: None, limit: None }
}

pub struct Kompile {
    command: Command,
    /// The arguments, for messages.
    shown: Vec<String>,
    stdin: Option<Vec<u8>>,
    limit: Option<Duration>,
}

impl Kompile {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Kompile {
        self.shown.push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(self, args: impl IntoIterator<Item = S>) -> Kompile {
        args.into_iter().fold(self, Kompile::arg)
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Kompile {
        self.command.env(key, value);
        self
    }

    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Kompile {
        self.command.envs(vars);
        self
    }

    /// Terminal width for the human-readable diagnostics.
    pub fn columns(self, columns: usize) -> Kompile {
        self.env("COLUMNS", columns.to_string())
    }

    /// What kompile reads on standard input (otherwise it reads nothing: /dev/null).
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Kompile {
        self.stdin = Some(text.into());
        self
    }

    /// A run still going after `limit` is killed: [`Kompile::output`] then fails the test and
    /// [`Kompile::output_within`] returns `None`. For inputs that once hung.
    pub fn limit(mut self, limit: Duration) -> Kompile {
        self.limit = Some(limit);
        self
    }

    /// Runs kompile on a pseudo-terminal, through util-linux `script` (check that it is there
    /// with [`super::script_found`]): same arguments, environment and directory, plus `TERM=xterm`.
    pub fn on_terminal(self) -> Kompile {
        let words = std::iter::once(self.command.get_program()).chain(self.command.get_args());
        let line = words.map(|w| shell_words::quote(&w.to_string_lossy()).into_owned()).collect::<Vec<_>>().join(" ");
        let mut command = Command::new("script");
        command.args(["-qec", &line, "/dev/null"]).env_clear().env("TERM", "xterm");
        for (key, value) in self.command.get_envs() {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
        if let Some(dir) = self.command.get_current_dir() {
            command.current_dir(dir);
        }
        Kompile { command, ..self }
    }

    /// The program and arguments as a shell would show them.
    pub fn line(&self) -> String {
        format!("kompile {}", self.shown.join(" "))
    }

    /// Runs to the end; fails the test when kompile cannot be started or outlives its limit.
    pub fn output(self) -> Output {
        let line = self.line();
        let limit = self.limit;
        self.output_within_limit().unwrap_or_else(|| panic!("`{line}` was still running after {limit:?}"))
    }

    /// Runs to the end, or `None` when it is still running after `limit` (it is killed).
    pub fn output_within(self, limit: Duration) -> Option<Output> {
        self.limit(limit).output_within_limit()
    }

    /// [`Kompile::output`] as a [`Run`], echoed so a failing test shows what kompile printed.
    pub fn run(self) -> Run {
        let shown = self.shown.clone();
        let output = self.output();
        Run::from_output(&shown.iter().map(String::as_str).collect::<Vec<_>>(), &output)
    }

    fn output_within_limit(mut self) -> Option<Output> {
        let line = self.line();
        self.command.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().unwrap_or_else(|e| panic!("cannot run `{line}`: {e}"));
        // Standard input is written and both outputs read on threads of their own, so that a
        // large input or output cannot block kompile or this test on a full pipe.
        let writer = child.stdin.take().zip(self.stdin).map(|(mut pipe, text)| {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&text);
            })
        });
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = match self.limit {
            None => child.wait().unwrap_or_else(|e| panic!("`{line}`: {e}")),
            Some(limit) => wait_within(&mut child, limit)?,
        };
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Some(Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The exit status, or `None` after killing a child still running after `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(error) => panic!("waiting for kompile: {error}"),
        }
    }
}

/// One finished run of the `kompile` binary, its output as text.
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
