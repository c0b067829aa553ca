//! The `kompile` command line.

mod cli;
mod cmd;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match &cli.command {
        cli::Command::Config(args) => cmd::config::run(args),
    };
    std::process::exit(code);
}
