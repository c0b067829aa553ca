//! The command line: clap definitions only; `cmd` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "kompile", version, about = "Compile compose projects and Dockerfiles into Kubernetes manifests")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the project into Kubernetes manifests.
    Build(BuildArgs),
    /// Print the resolved compose project (interpolated, merged, normalized).
    Config(ConfigArgs),
    /// Report every problem in compose files and Dockerfiles; writes nothing.
    Check(CheckArgs),
    /// Explain a diagnostic code: what it means, a failing example and the fix.
    Explain(ExplainArgs),
    /// List the images the project builds: context, Dockerfile, target, args and the image
    /// reference the manifests use.
    Images(ImagesArgs),
}

/// How to find and read the compose project; shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose files, in merge order (`-` reads standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Compose file (repeatable); same as the positional FILE.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Project name (default: `name:` in the file, else the directory name).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Directory that relative paths and `.env` are resolved against.
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Read variables from this file instead of `.env` (repeatable).
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Enable services with this profile (repeatable; `*` enables all).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Vec<String>,
    /// Registry for images of built services without `image`: they become
    /// `<REGISTRY>/<project>-<service>:sha-<content hash>` (overrides `x-kompile.registry`).
    #[arg(long, value_name = "REGISTRY", env = "KOMPILE_REGISTRY")]
    pub registry: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Output format on standard output.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
    /// Write one file per object and a kustomization.yaml into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Namespace to put every object in.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Compose files and Dockerfiles to check (default: the project, found as `build` finds it).
    #[command(flatten)]
    pub project: ProjectArgs,
    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
    /// Treat a code (id or name) as an error; `--deny warnings` fails on any warning.
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,
    /// Report a code as a warning.
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Do not report a code.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Source excerpts with underlines and help (colour on a terminal, never with NO_COLOR).
    Human,
    /// `file:line:col: severity[CODE]: message`, one per line.
    Short,
    /// A JSON document (see docs/diagnostics-json.md).
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code's id (`K101`, any case) or name (`unknown-key`).
    #[arg(value_name = "CODE", required_unless_present = "list", conflicts_with = "list")]
    pub code: Option<String>,
    /// List every code with its severity and summary.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// `text` for people, `json` for scripts, `bake` for `docker buildx bake -f - --push`.
    #[arg(long, value_enum, default_value_t = ImagesFormat::Text)]
    pub format: ImagesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImagesFormat {
    Text,
    Json,
    Bake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}
