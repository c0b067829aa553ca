//! The command line: clap definitions only; `cmd` does the work. Values that are not paths
//! say `value_hint = ValueHint::Other`, so shell completion offers no files for them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

#[derive(Debug, Parser)]
#[command(name = "kompile", version, about = "Compile compose projects and Dockerfiles into Kubernetes manifests")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output: `auto` colours a terminal unless `NO_COLOR` is set (or when
    /// `FORCE_COLOR` is); `always` and `never` override both variables.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// Each subcommand's exit statuses, shown by its `--help` ([`with_exit_statuses`]) and its
/// man page. Commands not listed exit 0, or 2 on a usage error.
pub const EXIT_STATUSES: &[(&str, &[(u8, &str)])] = &[
    (
        "build",
        &[
            (0, "compiled; warnings go to standard error"),
            (1, "the input has errors: nothing is written and no existing file changes"),
            (2, "a usage error"),
        ],
    ),
    ("config", &[(0, "the project is valid"), (1, "the input has errors"), (2, "a usage error")]),
    (
        "check",
        &[
            (0, "no errors (warnings allowed)"),
            (1, "errors, or warnings with `--deny warnings`"),
            (2, "a usage error, or a file that cannot be read"),
        ],
    ),
    ("images", &[(0, "listed"), (1, "the input has errors"), (2, "a usage error")]),
    (
        "apply",
        &[
            (0, "applied, and every workload ready"),
            (1, "the input has errors: nothing was sent"),
            (2, "a usage error"),
            (3, "the cluster refused, failed or could not be reached, or a workload did not become ready"),
        ],
    ),
    (
        "diff",
        &[
            (0, "no differences"),
            (1, "differences"),
            (2, "the input has errors, or a usage error"),
            (3, "the cluster refused, failed or could not be reached"),
        ],
    ),
    (
        "status",
        &[
            (0, "every workload is ready"),
            (1, "some workloads are not ready"),
            (2, "the input has errors, or a usage error"),
            (3, "the cluster failed or could not be reached, or the project was never applied there (K419)"),
        ],
    ),
    (
        "down",
        &[
            (0, "deleted (with `--dry-run`: listed)"),
            (1, "the input has errors"),
            (2, "not confirmed (K420): no terminal and no `--yes`, or not answered `y`; or a usage error"),
            (
                3,
                "the cluster refused, failed or could not be reached, the project was never applied there (K419), or an object was not gone by `--timeout` (K421)",
            ),
        ],
    ),
];

/// `command` with each subcommand's [`EXIT_STATUSES`] at the end of its `--help`, wrapped to
/// `width` under their text (clap would wrap them back to the margin).
pub fn with_exit_statuses(mut command: clap::Command, width: usize) -> clap::Command {
    for (name, statuses) in EXIT_STATUSES {
        let lines: Vec<String> = statuses
            .iter()
            .map(|(code, text)| {
                let first = format!("  {code}  ");
                let options = textwrap::Options::new(width).initial_indent(&first).subsequent_indent("     ");
                textwrap::wrap(text, options).join("\n")
            })
            .collect();
        let text = format!("Exit status:\n{}", lines.join("\n"));
        command = command.mut_subcommand(*name, |sub| sub.after_long_help(text));
    }
    command
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
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
    /// Compile the project and apply it to the cluster (server-side apply), then wait for it.
    Apply(ApplyArgs),
    /// Show what `apply` would change in the cluster; exits 0 when nothing, 1 when something.
    Diff(DiffArgs),
    /// Show the project's workloads in the cluster: ready/desired, image, age, address; exits
    /// 0 when all are ready, 1 when some are not.
    Status(StatusArgs),
    /// Delete the project's objects from the cluster, dependents first, and wait until they
    /// are gone; volume claims only with `--volumes`.
    Down(DownArgs),
    /// Print a shell completion script (see the README for where each shell loads it from).
    Completions(CompletionsArgs),
    /// Print the man page in roff: kompile(1), or kompile-SUBCOMMAND(1).
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (default: kompile(1), which lists them all).
    #[arg(value_name = "SUBCOMMAND", value_parser = clap::builder::PossibleValuesParser::new(MAN_PAGES))]
    pub subcommand: Option<String>,
}

/// The subcommands with a page of their own (all but clap's `help`); possible values so every
/// shell completes them.
pub const MAN_PAGES: &[&str] =
    &["build", "config", "check", "explain", "images", "apply", "diff", "status", "down", "completions", "man"];

/// Which cluster, and how objects are sent; shared by `apply` and `diff`.
#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Field manager name recorded for every field kompile sets.
    #[arg(value_hint = ValueHint::Other, long, value_name = "NAME", default_value = "kompile")]
    pub field_manager: String,
    /// Take over fields another field manager owns instead of failing on the conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Take over objects that exist but belong to another project or were created by another
    /// tool (they become this project's, and `--prune` may later delete them).
    #[arg(long)]
    pub adopt: bool,
    /// Delete objects of this project that are no longer in the compose files.
    #[arg(long)]
    pub prune: bool,
    /// With `--prune`, also delete volume claims (and so their data).
    #[arg(long, requires = "prune")]
    pub prune_volumes: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// `server`: send everything with `dryRun=All`; the cluster validates but changes nothing.
    /// `client`: print the objects that would be sent; no cluster is contacted.
    #[arg(long, value_enum, value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Do not wait for workloads to become ready.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for workloads, e.g. `90s`, `5m`.
    #[arg(value_hint = ValueHint::Other, long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// How often rollouts are checked while waiting.
    #[arg(value_hint = ValueHint::Other, long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration, hide = true)]
    pub poll_interval: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Show Secret values instead of `***`.
    #[arg(long)]
    pub show_secrets: bool,
    /// `human`: a coloured unified diff per object; `json`: every object's live and merged form.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
}

/// Which cluster and namespace: `apply` and `diff` (through [`ClusterArgs`]), `status` and
/// `down` share these flags.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Namespace of the project's objects (default: the context's namespace, else `default`).
    #[arg(value_hint = ValueHint::Other, short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Kubeconfig file (default: `KUBECONFIG`, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(value_hint = ValueHint::Other, long, value_name = "NAME")]
    pub context: Option<String>,
    /// Requests in flight at once.
    #[arg(value_hint = ValueHint::Other, long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The compose files name the project (and so its ApplySet); what is shown comes from
    /// the cluster.
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// `text`: one line per workload; `json`: the document in docs/cluster.md#status.
    #[arg(short = 'o', long, value_enum, default_value_t = StatusFormat::Text)]
    pub output: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// The compose files name the project (and so its ApplySet); what is deleted comes from
    /// the cluster.
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Also delete volume claims, and so their data (the project's, and those its
    /// StatefulSets made from claim templates).
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// `server` (the only mode): send every delete with `dryRun=All`, list what would go,
    /// delete nothing. There is no `client` mode: what `down` deletes comes from the cluster.
    #[arg(long, value_enum, value_name = "MODE")]
    pub dry_run: Option<DownDryRun>,
    /// How long to wait for everything to be gone, e.g. `90s`, `5m`.
    #[arg(value_hint = ValueHint::Other, long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// How often deleted objects are checked while waiting.
    #[arg(value_hint = ValueHint::Other, long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, hide = true)]
    pub poll_interval: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// The API server runs the whole request and persists nothing.
    Server,
    /// Print the objects that would be sent, with the ApplySet labels and annotations;
    /// contacts no cluster.
    Client,
}

/// `down --dry-run`'s modes: only `server`, since the ApplySet's members are read from the
/// cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DownDryRun {
    /// The API server runs every delete and persists nothing.
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
}

/// `300`, `90s`, `5m`, `1h`, `500ms`, `1m30s`: Go's syntax, or a bare number of seconds, as
/// compose durations ([`crate::units::parse_duration`]).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::units::parse_duration(text).ok_or_else(|| format!("`{}` is not a duration like 90s or 5m", text.trim()))
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
    #[arg(value_hint = ValueHint::Other, short = 'p', long, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Directory that relative paths and `.env` are resolved against.
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Read variables from this file instead of `.env` (repeatable).
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Enable services with this profile (repeatable; `*` enables all).
    #[arg(value_hint = ValueHint::Other, long, value_name = "PROFILE")]
    pub profile: Vec<String>,
    /// Refuse files outside the project directory (`configs`/`secrets` `file`, `env_file`,
    /// `include`, `extends.file`) instead of reading them with a warning.
    #[arg(long)]
    pub strict_paths: bool,
    /// Registry for images of built services without `image`: they become
    /// `<REGISTRY>/<project>-<service>:sha-<content hash>` (overrides `x-kompile.registry`).
    #[arg(value_hint = ValueHint::Other, long, value_name = "REGISTRY", env = "KOMPILE_REGISTRY")]
    pub registry: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Output format on standard output.
    #[arg(short = 'o', long, value_parser = OutputFormatParser, default_value = "yaml")]
    pub output: OutputFormat,
    /// Write one file per object and a kustomization.yaml into DIR instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub out_dir: Option<PathBuf>,
    /// With `--out-dir`: write DIR/base/ and a kustomize overlay DIR/overlays/NAME/ holding
    /// what FILE, merged over the compose files, changes (repeatable). `NAME=profile:P`
    /// activates profile P instead of merging a file.
    #[arg(long, value_name = "NAME=FILE", requires = "out_dir")]
    pub overlay: Vec<String>,
    /// Namespace to put every object in.
    #[arg(value_hint = ValueHint::Other, short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub chart: ChartArgs,
}

/// `build --helm`: a Helm chart instead of manifests.
#[derive(Debug, Clone, Default, Args)]
pub struct ChartArgs {
    /// Write a Helm chart into DIR instead of printing (see docs/helm.md).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out_dir", "output", "overlay"])]
    pub helm: Option<PathBuf>,
    /// The chart's `version`, a SemVer 2 version (default 0.1.0).
    #[arg(value_hint = ValueHint::Other, long, value_name = "VERSION", requires = "helm")]
    pub helm_version: Option<String>,
    /// The chart's `appVersion`.
    #[arg(value_hint = ValueHint::Other, long, value_name = "VERSION", requires = "helm")]
    pub helm_app_version: Option<String>,
    /// Start every object name with the release name (`<release>-db`), so that releases can
    /// share a namespace; clients must then be given the new Service names.
    #[arg(long, requires = "helm")]
    pub helm_release_prefix: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub format: OutputFormat,
    /// Print the service names, one per line, each after those it depends on (wins over
    /// `--volumes` and `-q`, as in Compose).
    #[arg(long)]
    pub services: bool,
    /// Print the names of the volumes services use, one per line (wins over `-q`).
    #[arg(long)]
    pub volumes: bool,
    /// Only validate: print nothing but diagnostics; the exit code says whether it is valid.
    #[arg(short = 'q', long)]
    pub quiet: bool,
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
    #[arg(value_hint = ValueHint::Other, long, value_name = "CODE")]
    pub deny: Vec<String>,
    /// Report a code as a warning.
    #[arg(value_hint = ValueHint::Other, long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Do not report a code.
    #[arg(value_hint = ValueHint::Other, long, value_name = "CODE")]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Source excerpts with underlines and help (coloured as `--color` decides).
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
    #[arg(value_hint = ValueHint::Other, value_name = "CODE", required_unless_present = "list", conflicts_with = "list")]
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

/// `-o yaml|json`, with a tip when the value is a path (`-o k8s/`, `-o ./out`): that is `--out-dir`.
#[derive(Debug, Clone, Copy)]
pub struct OutputFormatParser;

impl clap::builder::TypedValueParser for OutputFormatParser {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        let formats = clap::builder::EnumValueParser::<OutputFormat>::new();
        formats.parse_ref(cmd, arg, value).map_err(|mut error| {
            let text = value.to_string_lossy();
            // A path (`k8s/`, `./out`, an existing directory): no format has a separator.
            if text.contains('/') || text.contains(std::path::MAIN_SEPARATOR) || std::path::Path::new(value).is_dir() {
                let tip = format!("to write one file per object into a directory, use `--out-dir {text}`");
                error.insert(
                    clap::error::ContextKind::Suggested,
                    clap::error::ContextValue::StyledStrs(vec![tip.into()]),
                );
            }
            error
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(OutputFormat::value_variants().iter().filter_map(|v| v.to_possible_value())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }
}
