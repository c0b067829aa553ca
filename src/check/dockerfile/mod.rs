//! Dockerfile checks: the rules hadolint and `docker build --check` make on one file, and
//! the ones only kompile can make because it also reads the compose file that builds it
//! (targets, build args, ports, users).
//!
//! Every Dockerfile is checked once for what the file alone shows, then once per service
//! that builds it for what the service's `build`, `ports` and `user` add. Warnings that
//! point into the Dockerfile can be silenced with `# kompile-ignore=` or `# hadolint ignore=`.

mod commands;
mod compose;
mod instructions;
mod stages;
mod variables;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::compose::{Build, BuildFile, Project, Service, Spanned};
use crate::diag::Diagnostics;
use crate::dockerfile::{self, Base, Instruction, Stage, Stages, Word};
use crate::load::dockerfiles::without_ignored;
use crate::source::Span;

/// Checks every Dockerfile the project builds, with the services that build it.
pub fn check(project: &Project, diags: &mut Diagnostics) {
    // Each Dockerfile is checked on its own; a monorepo's many Dockerfiles use every core.
    let found = crate::parallel::chunks(&project.dockerfiles, 16, |builds| {
        let mut found = Diagnostics::default();
        for build in builds {
            let uses: Vec<Use<'_>> = build.services.iter().filter_map(|name| Use::of(project, name)).collect();
            check_file(build, &uses, &mut found);
        }
        found
    });
    found.into_iter().for_each(|f| diags.extend(f));
}

/// Checks a Dockerfile that no compose project builds (`kompile check Dockerfile`).
pub fn check_alone(build: &BuildFile, diags: &mut Diagnostics) {
    check_file(build, &[], diags);
}

/// One service that builds the file: the service and its `build`.
pub struct Use<'a> {
    pub name: &'a str,
    pub service: &'a Service,
    pub build: &'a Build,
}

impl<'a> Use<'a> {
    fn of(project: &'a Project, name: &'a str) -> Option<Use<'a>> {
        let service = project.service(name)?;
        let build = &service.build.as_ref()?.value;
        Some(Use { name, service, build })
    }

    /// `build.args` as name → value; a value-less arg (taken from an unset variable) is absent.
    fn args(&self) -> BTreeMap<String, String> {
        crate::compose::to_map(&self.build.args)
    }

    fn target(&self) -> Option<&'a Spanned<String>> {
        self.build.target.as_ref()
    }

    /// Names given in `build.additional_contexts`: `COPY --from` and `FROM` may use them.
    fn contexts(&self) -> Vec<String> {
        self.build.additional_contexts.iter().map(|(name, _)| name.value.clone()).collect()
    }
}

/// A Dockerfile being checked, with what every rule needs to know about it.
pub struct File<'a> {
    pub build: &'a BuildFile,
    pub stages: Stages,
    /// Build args compose passes (the first service that builds the file wins a conflict).
    pub args: BTreeMap<String, String>,
    /// Named build contexts compose defines.
    pub contexts: Vec<String>,
}

impl<'a> File<'a> {
    fn new(build: &'a BuildFile, uses: &[Use<'_>]) -> File<'a> {
        let mut args = BTreeMap::new();
        let mut contexts = Vec::new();
        for used in uses {
            for (name, value) in used.args() {
                args.entry(name).or_insert(value);
            }
            contexts.extend(used.contexts());
        }
        File { build, stages: dockerfile::stages(&build.parsed), args, contexts }
    }

    fn instructions(&self) -> &'a [Instruction] {
        &self.build.parsed.instructions
    }

    fn escape(&self) -> char {
        self.build.parsed.escape
    }

    /// A byte range of the Dockerfile as a diagnostic span.
    fn span(&self, range: &Range<usize>) -> Span {
        Span::new(self.build.file, range.start, range.end)
    }

    /// The span of a part of a word (the whole word when continuations make offsets inexact).
    fn sub_span(&self, word: &Word, range: Range<usize>) -> Span {
        self.span(&word.sub(range).span)
    }

    /// A stage's instructions with their indices, the FROM included.
    fn stage_instructions(&self, stage: &Stage) -> impl Iterator<Item = (usize, &'a Instruction)> + 'a {
        let all = self.instructions();
        stage.instructions.clone().filter_map(move |index| Some((index, all.get(index)?)))
    }

    /// The stage and the stages it builds on, the stage itself first.
    fn chain(&self, stage: &'a Stage) -> Vec<&Stage> {
        let mut chain = vec![stage];
        let mut current = stage;
        // Bases are always earlier stages, so this ends; the bound guards malformed input.
        while let Base::Stage(index) = current.base {
            let Some(parent) = self.stages.stages.get(index).filter(|p| p.index < current.index) else { break };
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// The stages that are built: each service's target that exists, or the last stage.
    fn built_stages(&self, uses: &[Use<'_>]) -> Vec<&Stage> {
        let mut built: Vec<&Stage> = Vec::new();
        let targets: Vec<Option<String>> = if uses.is_empty() {
            vec![None]
        } else {
            uses.iter().map(|u| u.target().map(|t| t.value.clone())).collect()
        };
        for target in targets {
            let Some(stage) = self.stages.target(target.as_deref()) else { continue };
            if !built.iter().any(|s| s.index == stage.index) {
                built.push(stage);
            }
        }
        built
    }
}

fn check_file(build: &BuildFile, uses: &[Use<'_>], diags: &mut Diagnostics) {
    let file = File::new(build, uses);
    // Filtered by `kompile-ignore` comments below: nothing may count towards a cap before that.
    let mut in_dockerfile = Diagnostics::uncapped();
    let mut in_compose = Diagnostics::default();
    instructions::check(&file, &mut in_dockerfile);
    commands::check(&file, &mut in_dockerfile);
    stages::check(&file, &mut in_dockerfile);
    variables::check(&file, &mut in_dockerfile);
    for stage in file.built_stages(uses) {
        stages::root_user(&file, stage, &mut in_dockerfile);
    }
    for used in uses {
        compose::check(&file, used, &mut in_dockerfile, &mut in_compose);
    }
    diags.extend(without_ignored(&build.silences, &build.parsed, in_dockerfile));
    diags.extend(in_compose);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::{Code, Diagnostic};
    use crate::source::Sources;

    /// Everything `kompile check Dockerfile` reports for `text`, sorted as printed.
    fn check_text(text: &str) -> Vec<Diagnostic> {
        let mut sources = Sources::default();
        let path = Path::new("Dockerfile");
        let file = sources.add(path, text);
        let mut diags = Diagnostics::default();
        let (parsed, silences) = crate::load::dockerfiles::parse(path, file, text, &mut diags);
        let build = BuildFile {
            path: path.to_path_buf(),
            file,
            parsed,
            services: Vec::new(),
            ignore: Default::default(),
            silences,
        };
        check_alone(&build, &mut diags);
        diags.sorted()
    }

    fn messages(found: &[Diagnostic], code: Code) -> Vec<&str> {
        found.iter().filter(|d| d.code == code).map(|d| d.message.as_str()).collect()
    }

    /// One install command with many unpinned packages is one problem, listing a few.
    #[test]
    fn unpinned_packages_once_per_install_command() {
        let packages: Vec<String> = (1..=1_200).map(|i| format!("p{i}")).collect();
        let text = format!("FROM debian:12\nRUN apt-get install -y {} && apk add a b\nUSER 1\n", packages.join(" "));
        assert_eq!(
            messages(&check_text(&text), Code::UnpinnedPackage),
            [
                "1,200 apt packages are installed without a version: `p1`, `p2`, `p3` and 1,197 more",
                "2 apk packages are installed without a version: `a` and `b`",
            ]
        );
    }

    /// 1,500 RUNs each with an unpinned package: the first 1,000 are kept, the rest counted.
    #[test]
    fn many_diagnostics_of_one_code_are_capped() {
        let runs: String = (0..1_500).map(|i| format!("RUN apk add p{i}\n")).collect();
        let found = check_text(&format!("FROM alpine:3\n{runs}USER 1\n"));
        let unpinned = messages(&found, Code::UnpinnedPackage);
        assert_eq!(unpinned.len(), 1_001);
        assert_eq!(
            unpinned.last().copied(),
            Some(
                "500 more K309 (unpinned-package) diagnostics are not shown: kompile keeps at most 1,000 of one code and 10,000 in all"
            )
        );
    }

    /// Warnings silenced by comments are dropped before the cap counts anything.
    #[test]
    fn silenced_warnings_count_towards_no_cap() {
        let runs: String = (0..1_500).map(|i| format!("# kompile-ignore=K309\nRUN apk add p{i}\n")).collect();
        let found = check_text(&format!("FROM alpine:3\n{runs}USER 1\n"));
        assert!(messages(&found, Code::UnpinnedPackage).is_empty(), "{:?}", messages(&found, Code::UnpinnedPackage));
    }
}
