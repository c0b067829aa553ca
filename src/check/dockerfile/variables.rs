//! Variables the builder expands: which are defined where, their values when kompile can know
//! them, and the rules about them (undefined variables, ENV using its own keys).

use std::collections::BTreeMap;
use std::ops::Range;

use super::File;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::dockerfile::{Args, Base, Flag, Instruction, Keyword, Stage, Word, closest, references, substitute};

/// ARGs the builder defines in the global scope, usable in FROM without declaring them.
pub use crate::dockerfile::PLATFORM_ARGS;

/// ARGs Docker accepts without an ARG instruction (proxies, BuildKit settings).
pub const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
    "SOURCE_DATE_EPOCH",
    "BUILDKIT_INLINE_CACHE",
    "BUILDKIT_SYNTAX",
    "BUILDKIT_CONTEXT_KEEP_GIT_DIR",
    "BUILDKIT_MULTI_PLATFORM",
    "BUILDKIT_SANDBOX_HOSTNAME",
];

/// The variables defined at one point of a Dockerfile: name → value, `None` when the value
/// is not known statically (an ARG without default, a platform ARG).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    values: BTreeMap<String, Option<String>>,
}

impl Scope {
    /// The global scope: the ARGs before the first FROM, with compose's build args applied.
    pub fn global(file: &File<'_>) -> Scope {
        let mut scope = Scope::default();
        for name in PLATFORM_ARGS {
            scope.values.insert((*name).to_string(), None);
        }
        for index in &file.stages.global_args {
            if let Some(ins) = file.instructions().get(*index) {
                scope.apply(file, ins, &Scope::default());
            }
        }
        scope
    }

    /// What is defined just before instruction `index` of `stage`, counting the stages it
    /// builds on. Base images may define more; kompile cannot see them.
    pub fn before(file: &File<'_>, stage: &Stage, index: usize) -> Scope {
        let global = Scope::global(file);
        let mut scope = Scope::default();
        for name in PREDEFINED_ARGS {
            scope.values.insert((*name).to_string(), None);
        }
        for ancestor in file.chain(stage).into_iter().rev() {
            for (at, ins) in file.stage_instructions(ancestor) {
                if ancestor.index == stage.index && at >= index {
                    return scope;
                }
                scope.apply(file, ins, &global);
            }
        }
        scope
    }

    fn apply(&mut self, file: &File<'_>, ins: &Instruction, global: &Scope) {
        if let Some(decls) = ins.as_arg() {
            for decl in decls {
                let name = decl.name.text.clone();
                let value = match (file.args.get(&name), &decl.default) {
                    (Some(given), _) => Some(given.clone()),
                    (None, Some(default)) => self.resolve(file, &default.text),
                    (None, None) => global.values.get(&name).cloned().flatten(),
                };
                self.values.insert(name, value);
            }
        }
        if let Some(env) = ins.as_env() {
            // Every value in one ENV sees the variables as they were before it.
            let values: Vec<(String, Option<String>)> =
                env.pairs.iter().map(|p| (p.key.text.clone(), self.resolve(file, &p.value.text))).collect();
            self.values.extend(values);
        }
    }

    pub fn defines(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The expanded text, or `None` when it uses a variable whose value is unknown.
    pub fn resolve(&self, file: &File<'_>, text: &str) -> Option<String> {
        let unknown = references(text, file.escape())
            .into_iter()
            .any(|(name, range)| !has_fallback(text, &range) && self.values.get(&name).is_none_or(Option::is_none));
        if unknown {
            return None;
        }
        substitute(text, file.escape(), &|name| self.values.get(name).cloned().flatten()).ok()
    }
}

/// `${name:-x}`, `${name-x}`, `${name:+x}`, `${name+x}`: the reference works unset too.
/// `range` covers `${name`, as [`references`] reports it.
pub fn has_fallback(text: &str, range: &Range<usize>) -> bool {
    let braced = text.get(range.start..).is_some_and(|t| t.starts_with("${"));
    let after = text.get(range.end..).unwrap_or("");
    braced && ["-", ":-", "+", ":+"].iter().any(|op| after.starts_with(op))
}

pub fn check(file: &File<'_>, diags: &mut Diagnostics) {
    let global = Scope::global(file);
    for stage in &file.stages.stages {
        from_variables(file, stage, &global, diags);
        for (index, ins) in file.stage_instructions(stage).skip(1) {
            env_self_reference(file, ins, diags);
            undefined_in(file, stage, index, ins, &global, diags);
        }
    }
}

/// FROM can only use ARGs declared before the first FROM (and the platform ARGs).
fn from_variables(file: &File<'_>, stage: &Stage, global: &Scope, diags: &mut Diagnostics) {
    let Some(from) = file.instructions().get(stage.instructions.start).and_then(Instruction::as_from) else { return };
    let mut words = vec![from.image.clone()];
    words.extend(from.platform.and_then(flag_word));
    for word in &words {
        for (name, range) in references(&word.text, file.escape()) {
            if global.defines(&name) || has_fallback(&word.text, &range) {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::UndefinedVariable,
                format!("FROM uses `${name}`, which no ARG before the first FROM declares"),
            )
            .at(file.sub_span(word, range), "undefined here");
            diagnostic = match closest(&name, global.names()) {
                Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                None => diagnostic
                    .help(format!("declare `ARG {name}=<default>` at the top of the file, before the first FROM")),
            };
            diags.push(diagnostic);
        }
    }
}

/// The words of an instruction the builder expands variables in (RUN, CMD and ENTRYPOINT
/// are expanded by the shell at run time instead).
fn expanded_words(ins: &Instruction) -> Vec<Word> {
    match ins.keyword {
        Keyword::Add | Keyword::Copy => {
            let flags = ins.flags.iter().filter(|f| f.name != "from").filter_map(flag_word);
            ins.args.words().iter().cloned().chain(flags).collect()
        }
        Keyword::Expose | Keyword::Volume | Keyword::Label | Keyword::Env | Keyword::Arg => match &ins.args {
            Args::Words(words) | Args::Json(words) => words.clone(),
            _ => Vec::new(),
        },
        Keyword::User | Keyword::Workdir | Keyword::Stopsignal => ins.args.text().into_iter().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A flag's value as a word, for variable checks.
fn flag_word(flag: &Flag) -> Option<Word> {
    Some(Word { text: flag.value.clone()?, span: flag.value_span.clone()? })
}

/// A variable used in an expanded word that the stage never defines. Base images define
/// variables kompile cannot see, so only the sure cases are reported: a global ARG the stage
/// forgot to redeclare, a near miss of a defined name, or a stage that starts from scratch.
fn undefined_in(
    file: &File<'_>,
    stage: &Stage,
    index: usize,
    ins: &Instruction,
    global: &Scope,
    diags: &mut Diagnostics,
) {
    let words = expanded_words(ins);
    // Building the scope walks the stage's ancestry; most instructions use no variable.
    if words.iter().all(|w| references(&w.text, file.escape()).is_empty()) {
        return;
    }
    let scope = Scope::before(file, stage, index);
    let own_keys: Vec<String> =
        ins.as_env().map(|e| e.pairs.into_iter().map(|p| p.key.text).collect()).unwrap_or_default();
    let from_scratch = file.chain(stage).last().is_some_and(|root| root.base == Base::Image("scratch".into()));
    for word in &words {
        for (name, range) in references(&word.text, file.escape()) {
            if scope.defines(&name) || own_keys.contains(&name) || has_fallback(&word.text, &range) {
                continue;
            }
            let span = file.sub_span(word, range);
            let problem = if global.defines(&name) && !PLATFORM_ARGS.contains(&name.as_str()) {
                Some((
                    format!("`${name}` is a global ARG, which a stage does not see unless it declares it again"),
                    format!("add `ARG {name}` inside the stage, before this line"),
                ))
            } else if let Some(near) = closest(&name, scope.names()) {
                Some((format!("`${name}` is not defined in this stage"), format!("did you mean `{near}`?")))
            } else if from_scratch {
                Some((
                    format!("`${name}` is not defined in this stage"),
                    format!("declare it with `ARG {name}` or `ENV {name}=...` before this line"),
                ))
            } else {
                None
            };
            let Some((message, help)) = problem else { continue };
            diags.push(
                Diagnostic::new(Code::UndefinedVariable, message).at(span, "expands to an empty string").help(help),
            );
        }
    }
}

/// `ENV A=1 B=$A`: B gets the value A had before this ENV, not 1.
fn env_self_reference(file: &File<'_>, ins: &Instruction, diags: &mut Diagnostics) {
    let Some(env) = ins.as_env() else { return };
    for (position, pair) in env.pairs.iter().enumerate() {
        let earlier: Vec<&str> = env.pairs.iter().take(position).map(|p| p.key.text.as_str()).collect();
        for (name, range) in references(&pair.value.text, file.escape()) {
            if !earlier.contains(&name.as_str()) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    Code::EnvSelfReference,
                    format!("`{}` uses `${name}`, which the same ENV sets", pair.key.text),
                )
                .at(file.sub_span(&pair.value, range), "takes the value from before this ENV")
                .help(format!("set `{name}` in an ENV of its own before this one")),
            );
        }
    }
}
