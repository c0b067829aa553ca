//! What the built image's configuration will be, as far as the Dockerfile tells: exposed
//! ports, healthcheck, user, entrypoint and command of the stage that is built, after the
//! stages it inherits from and with the build args applied.
//!
//! A chain of stages ends either in `scratch` (nothing is inherited, so a fact nobody sets
//! is known to be unset) or in an image kompile cannot see (a fact nobody sets may come from
//! it). Values that depend on such an image — a variable it may define, say — are `None`,
//! never guessed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use super::ast::{Dockerfile, Instruction, Keyword};
use super::files::{ContextCopy, ImageFiles, Made, MadeBy, clean_relative, mkdir_paths, resolve};
use super::stages::{Base, Stage, Stages, stages};
use super::substitute::{references, substitute};
use super::views::{Command, parse_port_spec};
use crate::model::{Healthcheck, ProbeCommand};

/// One fact about the image and the instruction that set it. `value` is `None` when the
/// instruction's value depends on something kompile cannot see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact<T> {
    pub value: Option<T>,
    pub span: Range<usize>,
}

/// A port from `EXPOSE`, ranges expanded. `protocol` is `tcp`, `udp` or `sctp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    pub port: u16,
    pub protocol: String,
    pub span: Range<usize>,
}

/// The built stage's image configuration. Each `Option` is `None` when no visible stage set
/// it; then `base` says whether an invisible image might have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The stage that is built.
    pub stage: usize,
    /// The image the chain of stages starts from; `None` for `scratch`.
    pub base: Option<String>,
    pub expose: Vec<Exposed>,
    /// `Some(Fact { value: Some(None), .. })` is `HEALTHCHECK NONE`.
    pub healthcheck: Option<Fact<Option<Healthcheck>>>,
    /// `user[:group]` after variable substitution.
    pub user: Option<Fact<String>>,
    /// Argv, shell form already wrapped in the shell.
    pub entrypoint: Option<Fact<Vec<String>>>,
    /// Argv; an ENTRYPOINT resets an inherited CMD to empty, as Docker does.
    pub cmd: Option<Fact<Vec<String>>>,
    /// Where the build context is copied, and what is put where.
    pub files: ImageFiles,
    /// The image's `ENV`, by name (`None`: the value depends on what kompile cannot see).
    pub env: BTreeMap<String, Option<String>>,
}

impl ImageConfig {
    /// Whether facts nobody in the Dockerfile set may come from a base image.
    pub fn inherits_unknown(&self) -> bool {
        self.base.is_some()
    }
}

/// Platform ARGs BuildKit fills in itself: their values depend on the machine that builds.
pub const PLATFORM_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// The configuration of the image `docker build --target <target>` would produce, with
/// `args` as `--build-arg`s. `None` when the target names no stage or there is no stage.
pub fn image_config(
    dockerfile: &Dockerfile,
    target: Option<&str>,
    args: &BTreeMap<String, String>,
) -> Option<ImageConfig> {
    let all = stages(dockerfile);
    let built = all.target(target)?;
    let chain = chain(&all, built);
    let root = chain.first()?;
    let base = match &root.base {
        Base::Image(image) if !image.eq_ignore_ascii_case("scratch") => Some(image.clone()),
        _ => None,
    };
    let mut state = State::new(dockerfile, args, base.is_some());
    state.globals(&all);
    for (position, stage) in chain.iter().enumerate() {
        state.enter_stage();
        if let Some(parent) = position.checked_sub(1).and_then(|p| chain.get(p)) {
            state.run_onbuild(parent);
        }
        for instruction in dockerfile.instructions.get(stage.instructions.clone()).unwrap_or_default().iter().skip(1) {
            state.apply(instruction);
        }
    }
    Some(ImageConfig {
        stage: built.index,
        base,
        expose: state.expose,
        healthcheck: state.healthcheck,
        user: state.user,
        entrypoint: state.entrypoint,
        cmd: state.cmd,
        files: state.files,
        env: state.env,
    })
}

/// The stages a build runs through, root first: the built stage and those it is `FROM`.
fn chain<'a>(all: &'a Stages, built: &'a Stage) -> Vec<&'a Stage> {
    let mut chain = vec![built];
    let mut current = built;
    while let Base::Stage(parent) = current.base {
        // Stages only refer to earlier ones, so this ends; the guard is for safety.
        let Some(stage) = all.stages.get(parent).filter(|s| s.index < current.index) else { break };
        chain.push(stage);
        current = stage;
    }
    chain.reverse();
    chain
}

/// A variable's value: known, or depending on what kompile cannot see.
type Var = Option<String>;

struct State<'a> {
    dockerfile: &'a Dockerfile,
    build_args: &'a BTreeMap<String, String>,
    /// Undefined variables may be ENV of the invisible base image.
    unknown_base: bool,
    global_args: BTreeMap<String, Var>,
    /// ARGs of the current stage; they do not carry over to a child stage.
    args: BTreeMap<String, Var>,
    /// ENV carries over to child stages and wins over an ARG of the same name.
    env: BTreeMap<String, Var>,
    shell: Vec<String>,
    /// Whether the current stage set CMD: an ENTRYPOINT then keeps it.
    cmd_in_stage: bool,
    expose: Vec<Exposed>,
    healthcheck: Option<Fact<Option<Healthcheck>>>,
    user: Option<Fact<String>>,
    entrypoint: Option<Fact<Vec<String>>>,
    cmd: Option<Fact<Vec<String>>>,
    /// The working directory; `None` while it depends on the invisible base image.
    workdir: Option<String>,
    files: ImageFiles,
}

impl<'a> State<'a> {
    fn new(dockerfile: &'a Dockerfile, build_args: &'a BTreeMap<String, String>, unknown_base: bool) -> State<'a> {
        State {
            dockerfile,
            build_args,
            unknown_base,
            global_args: BTreeMap::new(),
            args: BTreeMap::new(),
            env: BTreeMap::new(),
            shell: vec!["/bin/sh".to_string(), "-c".to_string()],
            cmd_in_stage: false,
            expose: Vec::new(),
            healthcheck: None,
            user: None,
            entrypoint: None,
            cmd: None,
            // A base image may have set one; `scratch` starts at `/`.
            workdir: (!unknown_base).then(|| "/".to_string()),
            files: ImageFiles::default(),
        }
    }

    /// ARGs before the first FROM; a stage sees them only by declaring them again.
    fn globals(&mut self, all: &Stages) {
        // Before the first FROM only global ARGs exist: nothing comes from a base image yet.
        let unknown_base = std::mem::replace(&mut self.unknown_base, false);
        for index in &all.global_args {
            let Some(decls) = self.dockerfile.instructions.get(*index).and_then(Instruction::as_arg) else { continue };
            for decl in decls {
                let value = match self.build_args.get(&decl.name.text) {
                    Some(given) => Some(given.clone()),
                    None => decl.default.as_ref().map_or(Some(String::new()), |d| self.expand(&d.text)),
                };
                self.global_args.insert(decl.name.text.clone(), value.clone());
                // Global ARGs are in scope for expansion of later global defaults.
                self.args.insert(decl.name.text, value);
            }
        }
        self.unknown_base = unknown_base;
    }

    fn enter_stage(&mut self) {
        self.args.clear();
        self.cmd_in_stage = false;
    }

    /// A parent stage's ONBUILD triggers run at the start of the child.
    fn run_onbuild(&mut self, parent: &Stage) {
        let instructions = self.dockerfile.instructions.get(parent.instructions.clone()).unwrap_or_default();
        for trigger in instructions.iter().filter_map(Instruction::as_onbuild) {
            self.apply(trigger);
        }
    }

    fn apply(&mut self, instruction: &Instruction) {
        match instruction.keyword {
            Keyword::Arg => self.arg(instruction),
            Keyword::Env => self.env(instruction),
            Keyword::Shell => self.set_shell(instruction),
            Keyword::Expose => self.add_expose(instruction),
            Keyword::Healthcheck => self.set_healthcheck(instruction),
            Keyword::User => self.set_user(instruction),
            Keyword::Entrypoint => self.set_entrypoint(instruction),
            Keyword::Cmd => self.set_cmd(instruction),
            Keyword::Workdir => self.set_workdir(instruction),
            Keyword::Copy | Keyword::Add => self.copy(instruction),
            Keyword::Run => self.run(instruction),
            _ => {}
        }
    }

    fn arg(&mut self, instruction: &Instruction) {
        for decl in instruction.as_arg().unwrap_or_default() {
            let name = decl.name.text;
            let value = if let Some(given) = self.build_args.get(&name) {
                Some(given.clone())
            } else if let Some(default) = &decl.default {
                self.expand(&default.text)
            } else if PLATFORM_ARGS.contains(&name.as_str()) {
                None
            } else {
                // `ARG NAME` inside a stage takes the global default, if there is one.
                self.global_args.get(&name).cloned().unwrap_or(Some(String::new()))
            };
            self.args.insert(name, value);
        }
    }

    fn env(&mut self, instruction: &Instruction) {
        let Some(pairs) = instruction.as_env() else { return };
        for pair in pairs.pairs {
            let value = self.expand(&pair.value.text);
            self.env.insert(pair.key.text, value);
        }
    }

    fn set_shell(&mut self, instruction: &Instruction) {
        if let Some(words) = instruction.as_shell() {
            self.shell = words.iter().map(|w| w.text.clone()).collect();
        }
    }

    fn add_expose(&mut self, instruction: &Instruction) {
        for word in instruction.as_expose().unwrap_or_default() {
            // A port that depends on an invisible variable is left out rather than guessed.
            let Some(text) = self.expand(&word.text) else { continue };
            let Ok(spec) = parse_port_spec(&text) else { continue };
            let protocol = spec.protocol.unwrap_or("tcp").to_ascii_lowercase();
            if !crate::ports::is_protocol(&protocol) {
                continue;
            }
            for port in spec.start..=spec.end {
                self.expose.push(Exposed { port, protocol: protocol.clone(), span: word.span.clone() });
            }
        }
    }

    fn set_healthcheck(&mut self, instruction: &Instruction) {
        let Some(check) = instruction.as_healthcheck() else { return };
        let positive = |d: Option<Duration>| d.filter(|d| !d.is_zero());
        // Absent or zero flags are `None`: Docker's defaults apply, as they do for compose.
        let value = check.command.map(|command| Healthcheck {
            test: Some(match command {
                Command::Exec(words) => ProbeCommand::Exec(words.iter().map(|w| w.text.clone()).collect()),
                Command::Shell(word) => ProbeCommand::Shell(word.text.clone()),
            }),
            interval: positive(check.interval),
            timeout: positive(check.timeout),
            start_period: positive(check.start_period),
            start_interval: positive(check.start_interval),
            retries: check.retries.filter(|r| *r > 0),
        });
        self.healthcheck = Some(Fact { value: Some(value), span: instruction.span.clone() });
    }

    fn set_user(&mut self, instruction: &Instruction) {
        let Some(word) = instruction.args.text() else { return };
        self.user = Some(Fact { value: self.expand(&word.text), span: instruction.span.clone() });
    }

    fn set_entrypoint(&mut self, instruction: &Instruction) {
        let Some(argv) = self.argv(instruction) else { return };
        self.entrypoint = Some(Fact { value: Some(argv), span: instruction.span.clone() });
        if !self.cmd_in_stage {
            self.cmd = Some(Fact { value: Some(Vec::new()), span: instruction.span.clone() });
        }
    }

    fn set_cmd(&mut self, instruction: &Instruction) {
        let Some(argv) = self.argv(instruction) else { return };
        self.cmd = Some(Fact { value: Some(argv), span: instruction.span.clone() });
        self.cmd_in_stage = true;
    }

    /// WORKDIR: relative to the one before, and created.
    fn set_workdir(&mut self, instruction: &Instruction) {
        let path = instruction.as_workdir().and_then(|word| self.expand(&word.text));
        self.workdir = path.and_then(|path| resolve(&path, self.workdir.as_deref()));
        if let Some(path) = &self.workdir {
            let made = Made { path: path.clone(), by: MadeBy::Workdir, span: instruction.span.clone() };
            self.files.made.push(made);
        }
    }

    /// COPY and ADD: what lands at the destination, and which context paths it is.
    fn copy(&mut self, instruction: &Instruction) {
        let Some(view) = instruction.as_copy() else { return };
        let Some(written) = self.expand(&view.destination.text) else { return };
        let Some(destination) = resolve(&written, self.workdir.as_deref()) else { return };
        let span = instruction.span.clone();
        self.files.made.push(Made { path: destination.clone(), by: MadeBy::Copy, span: span.clone() });
        // From a stage, an image or another named context; `--parents` keeps source paths.
        if view.from.is_some() || instruction.flag("parents").is_some() {
            return;
        }
        let remote = |text: &str| text.contains("://") || text.starts_with("git@");
        let sources: Vec<String> = view
            .sources
            .iter()
            .filter(|word| !word.text.starts_with("<<"))
            .filter_map(|word| self.expand(&word.text))
            .filter(|text| !(instruction.keyword == Keyword::Add && remote(text)))
            .map(|text| clean_relative(&text))
            .collect();
        if sources.is_empty() {
            return;
        }
        let into_directory = written.ends_with('/') || view.sources.len() > 1;
        self.files.context_copies.push(ContextCopy { sources, destination, into_directory, span });
    }

    /// RUN: the directories its `mkdir`s create (exec form, shell form and heredoc scripts).
    fn run(&mut self, instruction: &Instruction) {
        let Some(run) = instruction.as_run() else { return };
        let mut scripts: Vec<String> = match run.command {
            Command::Shell(word) => vec![word.text.clone()],
            Command::Exec(words) => {
                let argv: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
                let shell = argv.first().is_some_and(|p| matches!(p.rsplit('/').next(), Some("sh" | "bash" | "ash")));
                match argv.as_slice() {
                    [_, "-c", script, ..] if shell => vec![script.to_string()],
                    _ => vec![shell_words::join(argv)],
                }
            }
        };
        scripts.extend(run.heredocs.iter().map(|h| h.body.clone()));
        for script in scripts {
            for mkdir in mkdir_paths(&script) {
                let Some(path) = self.expand(&mkdir.path) else { continue };
                let cwd = match mkdir.cd.map(|cd| self.expand(&cd)) {
                    Some(cd) => cd.and_then(|cd| resolve(&cd, self.workdir.as_deref())),
                    None => self.workdir.clone(),
                };
                let Some(path) = resolve(&path, cwd.as_deref()) else { continue };
                self.files.made.push(Made { path, by: MadeBy::Mkdir, span: instruction.span.clone() });
            }
        }
    }

    /// CMD or ENTRYPOINT as the argv Docker stores: shell form runs in the SHELL. Docker
    /// does not expand variables here; the shell does, at run time.
    fn argv(&self, instruction: &Instruction) -> Option<Vec<String>> {
        Some(match instruction.as_command()? {
            Command::Exec(words) => words.iter().map(|w| w.text.clone()).collect(),
            Command::Shell(word) => self.shell.iter().cloned().chain([word.text.clone()]).collect(),
        })
    }

    /// Expands variables as the builder would; `None` when one of them may be defined by
    /// the invisible base image or the build platform.
    fn expand(&self, text: &str) -> Option<String> {
        let escape = self.dockerfile.escape;
        for (name, _) in references(text, escape) {
            match self.lookup(&name) {
                Some(None) => return None,
                None if self.unknown_base => return None,
                _ => {}
            }
        }
        let known = |name: &str| self.lookup(name).flatten();
        substitute(text, escape, &known).ok()
    }

    /// ENV first, then the stage's ARGs. `None`: not defined; `Some(None)`: not knowable.
    fn lookup(&self, name: &str) -> Option<Var> {
        self.env.get(name).or_else(|| self.args.get(name)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn config(text: &str, target: Option<&str>, args: &[(&str, &str)]) -> ImageConfig {
        let args = args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        image_config(&parse(text), target, &args).expect("a stage")
    }

    fn ports(config: &ImageConfig) -> Vec<(u16, &str)> {
        config.expose.iter().map(|e| (e.port, e.protocol.as_str())).collect()
    }

    fn value<T: Clone>(fact: &Option<Fact<T>>) -> Option<T> {
        fact.as_ref().and_then(|f| f.value.clone())
    }

    #[test]
    fn the_target_and_its_parents_count_other_stages_do_not() {
        let text = "FROM node:22 AS base\nEXPOSE 3000\nUSER 1000\n\
                    FROM base AS dev\nEXPOSE 9229\n\
                    FROM base AS prod\nEXPOSE 8080/udp\n\
                    FROM nginx:1.27 AS other\nEXPOSE 80\n";
        let dev = config(text, Some("DEV"), &[]);
        assert_eq!(ports(&dev), [(3000, "tcp"), (9229, "tcp")]);
        assert_eq!(value(&dev.user).as_deref(), Some("1000"));
        assert_eq!(dev.base.as_deref(), Some("node:22"));
        assert_eq!(ports(&config(text, Some("prod"), &[])), [(3000, "tcp"), (8080, "udp")]);
        assert_eq!(ports(&config(text, None, &[])), [(80, "tcp")]);
        assert!(image_config(&parse(text), Some("nope"), &BTreeMap::new()).is_none());
    }

    #[test]
    fn build_args_override_defaults_and_reach_expose_and_user() {
        let text =
            "ARG PORT=8000\nFROM python:3.13\nARG PORT\nARG UID=1000\nEXPOSE ${PORT} 9000-9001/TCP\nUSER $UID:$UID\n";
        let plain = config(text, None, &[]);
        assert_eq!(ports(&plain), [(8000, "tcp"), (9000, "tcp"), (9001, "tcp")]);
        assert_eq!(value(&plain.user).as_deref(), Some("1000:1000"));
        let given = config(text, None, &[("PORT", "5000"), ("UID", "10001")]);
        assert_eq!(ports(&given)[0], (5000, "tcp"));
        assert_eq!(value(&given.user).as_deref(), Some("10001:10001"));
    }

    #[test]
    fn variables_the_base_image_may_define_are_not_guessed() {
        let text = "FROM python:3.13\nEXPOSE $PORT 80\nUSER $APP_UID\n";
        let from_image = config(text, None, &[]);
        assert_eq!(ports(&from_image), [(80, "tcp")]);
        let user = from_image.user.expect("USER is there");
        assert_eq!(user.value, None);
        let scratch = config("FROM scratch\nUSER ${APP_UID:-65532}\n", None, &[]);
        assert_eq!(value(&scratch.user).as_deref(), Some("65532"));
        assert!(!scratch.inherits_unknown());
        let platform = config("FROM alpine:3.20\nARG TARGETARCH\nUSER $TARGETARCH\n", None, &[]);
        assert_eq!(platform.user.and_then(|u| u.value), None);
    }

    #[test]
    fn env_wins_over_arg_and_carries_into_child_stages() {
        let text = "FROM alpine:3.20 AS base\nENV PORT=7000\nFROM base\nARG PORT=1\nEXPOSE $PORT\n";
        assert_eq!(ports(&config(text, None, &[])), [(7000, "tcp")]);
    }

    #[test]
    fn healthcheck_none_turns_an_inherited_one_off() {
        let text = "FROM alpine:3.20 AS base\nHEALTHCHECK --interval=10s --retries=0 CMD [\"wget\", \"-q\", \"localhost\"]\n\
                    FROM base AS quiet\nHEALTHCHECK NONE\nFROM base AS loud\n";
        let inherited = value(&config(text, Some("loud"), &[]).healthcheck).flatten().expect("a check");
        assert_eq!(inherited.test, Some(ProbeCommand::Exec(vec!["wget".into(), "-q".into(), "localhost".into()])));
        assert_eq!(inherited.interval, Some(Duration::from_secs(10)));
        assert_eq!(inherited.retries, None, "zero means Docker's default");
        assert_eq!(value(&config(text, Some("quiet"), &[]).healthcheck), Some(None));
        let shell = config("FROM alpine:3.20\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\n", None, &[]);
        assert_eq!(
            value(&shell.healthcheck).flatten().and_then(|h| h.test),
            Some(ProbeCommand::Shell("curl -f http://localhost/ || exit 1".into()))
        );
    }

    #[test]
    fn entrypoint_resets_an_inherited_cmd_but_not_one_of_its_own_stage() {
        let text = "FROM alpine:3.20 AS base\nCMD [\"serve\"]\nFROM base AS wrapped\nENTRYPOINT [\"tini\", \"--\"]\n\
                    FROM base AS both\nCMD [\"run\"]\nENTRYPOINT [\"tini\"]\n";
        let wrapped = config(text, Some("wrapped"), &[]);
        assert_eq!(value(&wrapped.cmd), Some(Vec::new()));
        assert_eq!(value(&config(text, Some("base"), &[]).cmd), Some(vec!["serve".to_string()]));
        assert_eq!(value(&config(text, Some("both"), &[]).cmd), Some(vec!["run".to_string()]));
    }

    #[test]
    fn shell_form_runs_in_the_shell_of_the_stage() {
        let text = "FROM alpine:3.20\nCMD echo $HOME\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nENTRYPOINT exec app\n";
        let image = config(text, None, &[]);
        assert_eq!(
            value(&image.entrypoint),
            Some(vec!["/bin/bash".into(), "-eo".into(), "pipefail".into(), "-c".into(), "exec app".into()])
        );
        assert_eq!(value(&image.cmd), Some(vec!["/bin/sh".into(), "-c".into(), "echo $HOME".into()]));
    }

    #[test]
    fn onbuild_triggers_of_a_parent_stage_run_in_the_child() {
        let text = "FROM alpine:3.20 AS base\nONBUILD EXPOSE 4000\nEXPOSE 3000\nFROM base\n";
        assert_eq!(ports(&config(text, None, &[])), [(3000, "tcp"), (4000, "tcp")]);
        assert_eq!(ports(&config(text, Some("base"), &[])), [(3000, "tcp")]);
    }

    #[test]
    fn escape_directive_and_heredocs_do_not_confuse_inference() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN <<EOF\necho EXPOSE 1\nEOF\nEXPOSE `\n  8080\nUSER ContainerUser\n";
        let image = config(text, None, &[]);
        assert_eq!(ports(&image), [(8080, "tcp")]);
        assert_eq!(value(&image.user).as_deref(), Some("ContainerUser"));
    }

    fn copies(config: &ImageConfig) -> Vec<(Vec<&str>, &str)> {
        let copies = config.files.context_copies.iter();
        copies.map(|c| (c.sources.iter().map(String::as_str).collect(), c.destination.as_str())).collect()
    }

    fn made(config: &ImageConfig) -> Vec<(&str, MadeBy)> {
        config.files.made.iter().map(|m| (m.path.as_str(), m.by)).collect()
    }

    #[test]
    fn copy_destinations_resolve_against_the_workdir() {
        let text = "FROM node:22\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n\
                    WORKDIR lib\nCOPY ./src/ ../src\nADD https://example.com/a.tgz vendor/\n";
        let image = config(text, None, &[]);
        assert_eq!(
            copies(&image),
            [(vec!["package*.json"], "/usr/src/app"), (vec![""], "/usr/src/app"), (vec!["src"], "/usr/src/app/src"),],
            "a URL is not the context"
        );
        let first = &image.files.context_copies[0];
        assert!(first.into_directory, "`./` names a directory");
        assert!(!image.files.context_copies[1].into_directory);
        assert!(image.files.context_copy_at("", false, "/usr/src/app").is_some());
        assert_eq!(
            made(&image),
            [
                ("/usr/src/app", MadeBy::Workdir),
                ("/usr/src/app", MadeBy::Copy),
                ("/usr/src/app", MadeBy::Copy),
                ("/usr/src/app/lib", MadeBy::Workdir),
                ("/usr/src/app/src", MadeBy::Copy),
                ("/usr/src/app/lib/vendor", MadeBy::Copy),
            ]
        );
    }

    /// A base image may have set WORKDIR: a relative destination under it is not guessed;
    /// `scratch` starts at `/`.
    #[test]
    fn relative_paths_under_a_base_images_workdir_are_unknown() {
        let image = config("FROM python:3.13\nCOPY . .\nCOPY req.txt /app/\nWORKDIR $APP_DIR\nCOPY x y\n", None, &[]);
        assert_eq!(copies(&image), [(vec!["req.txt"], "/app")]);
        let scratch = config("FROM scratch\nCOPY . .\n", None, &[]);
        assert_eq!(copies(&scratch), [(vec![""], "/")]);
        let args = config("FROM alpine:3.20\nARG DIR=/srv/app\nWORKDIR ${DIR}\nCOPY . .\n", None, &[("DIR", "/opt/x")]);
        assert_eq!(copies(&args), [(vec![""], "/opt/x")]);
    }

    #[test]
    fn only_the_built_stage_and_its_parents_count() {
        let text = "FROM node:22 AS deps\nWORKDIR /build\nCOPY . .\nRUN npm ci && mkdir -p /build/out\n\
                    FROM node:22-slim AS base\nWORKDIR /app\nRUN mkdir -p data logs\n\
                    FROM base AS prod\nCOPY --from=deps /build/node_modules ./node_modules\nCOPY server.js ./\n\
                    FROM base AS dev\nCOPY . .\n";
        let prod = config(text, Some("prod"), &[]);
        assert_eq!(copies(&prod), [(vec!["server.js"], "/app")], "`COPY --from` is not the context");
        assert!(prod.files.context_copy_at("", false, "/build").is_none(), "the deps stage is not built into prod");
        assert_eq!(
            made(&prod),
            [
                ("/app", MadeBy::Workdir),
                ("/app/data", MadeBy::Mkdir),
                ("/app/logs", MadeBy::Mkdir),
                ("/app/node_modules", MadeBy::Copy),
                ("/app", MadeBy::Copy),
            ]
        );
        assert!(config(text, Some("dev"), &[]).files.context_copy_at("", false, "/app").is_some());
        assert!(config(text, Some("prod"), &[]).files.context_copy_at("", false, "/app").is_none());
        let deps = config(text, Some("deps"), &[]);
        assert!(deps.files.made.iter().any(|m| m.path == "/build/out" && m.by == MadeBy::Mkdir));
    }

    #[test]
    fn mkdir_runs_in_every_form() {
        let text = "FROM alpine:3.20\nENV DATA=/var/lib/app\nWORKDIR /srv\nRUN [\"mkdir\", \"-p\", \"/exec\"]\n\
                    RUN [\"/bin/sh\", \"-c\", \"mkdir -p $DATA/db\"]\nRUN <<EOF\nset -e\nmkdir -p cache \\\n  tmp\nEOF\n\
                    RUN cd /opt && mkdir plugins\n";
        let image = config(text, None, &[]);
        let paths: Vec<&str> =
            image.files.made.iter().filter(|m| m.by == MadeBy::Mkdir).map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["/exec", "/var/lib/app/db", "/srv/cache", "/srv/tmp", "/opt/plugins"]);
    }
}
