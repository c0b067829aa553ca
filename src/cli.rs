//! Command-line arguments (clap derive). Each subcommand's work lives in `cmd::<name>`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "kompile", version, about = "Compile docker-compose projects into Kubernetes manifests")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the resolved compose project, as `docker compose config` does.
    Config(ConfigArgs),
}

/// How the project is found and loaded; the same flags `docker compose` takes.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Compose files, in merge order (same as `-f`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A compose file; repeat to merge several.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    #[arg(short = 'p', long)]
    pub project_name: Option<String>,
    /// Where relative paths and `.env` are resolved (default: the first file's directory).
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Read variables from this file instead of `.env`; repeatable.
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Enable services with this profile; repeatable, `*` enables all.
    #[arg(long)]
    pub profile: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}
