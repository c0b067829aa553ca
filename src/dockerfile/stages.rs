//! Build stages: which instructions belong to which `FROM`, and what each stage builds on.

use std::ops::Range;

use super::ast::{Dockerfile, Keyword};

/// What a stage starts from, or what `COPY --from=` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// An external image (possibly with unexpanded `$VARS`), or `scratch`.
    Image(String),
    /// An earlier stage, by index.
    Stage(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub index: usize,
    /// Lowercased, as Docker compares stage names.
    pub name: Option<String>,
    pub name_span: Option<Range<usize>>,
    pub base: Base,
    pub base_span: Range<usize>,
    /// The `--platform` value, raw.
    pub platform: Option<String>,
    /// From the FROM keyword to the end of the stage's last instruction.
    pub span: Range<usize>,
    /// Indices into `Dockerfile::instructions`, starting with the FROM.
    pub instructions: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stages {
    /// Indices of the ARG instructions before the first FROM: the only ARGs a FROM can use.
    pub global_args: Vec<usize>,
    pub stages: Vec<Stage>,
}

impl Stages {
    /// A stage by name (case-insensitive) or index, as `--target` or `COPY --from` name it.
    pub fn find(&self, reference: &str) -> Option<&Stage> {
        let lower = reference.to_ascii_lowercase();
        self.stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str())).or_else(|| {
            let index: usize = reference.parse().ok()?;
            self.stages.get(index)
        })
    }

    /// Resolves `COPY --from=<reference>` inside stage `current`: an earlier stage by name or
    /// index, otherwise an image (or a named build context).
    pub fn resolve_from(&self, current: usize, reference: &str) -> Base {
        match self.find(reference) {
            Some(stage) if stage.index < current => Base::Stage(stage.index),
            _ => Base::Image(reference.to_string()),
        }
    }

    /// The stage a build uses: the named target, or the last stage.
    pub fn target(&self, target: Option<&str>) -> Option<&Stage> {
        match target {
            Some(name) => self.find(name),
            None => self.stages.last(),
        }
    }
}

/// Splits the instructions into stages. Instructions other than ARG before the first FROM
/// belong to no stage (the parser reports them).
pub fn stages(dockerfile: &Dockerfile) -> Stages {
    let instructions = &dockerfile.instructions;
    let mut result = Stages::default();
    let first_from = instructions.iter().position(|i| i.keyword == Keyword::From).unwrap_or(instructions.len());
    let before = instructions.iter().take(first_from).enumerate();
    result.global_args = before.filter(|(_, i)| i.keyword == Keyword::Arg).map(|(index, _)| index).collect();
    let starts: Vec<usize> =
        instructions.iter().enumerate().filter(|(_, i)| i.keyword == Keyword::From).map(|(index, _)| index).collect();
    for (index, start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(instructions.len());
        let Some(stage) = stage(dockerfile, &result, index, *start..end) else { continue };
        result.stages.push(stage);
    }
    result
}

fn stage(dockerfile: &Dockerfile, earlier: &Stages, index: usize, range: Range<usize>) -> Option<Stage> {
    let from_instruction = dockerfile.instructions.get(range.start)?;
    let last = dockerfile.instructions.get(range.end.checked_sub(1)?)?;
    let from = from_instruction.as_from();
    let image = from.map(|f| f.image);
    let base_text = image.map_or(String::new(), |w| w.text.clone());
    let base = match earlier.find(&base_text) {
        // Only names refer to stages in FROM; a number is an image name.
        Some(stage) if stage.name.is_some() && base_text.parse::<usize>().is_err() => Base::Stage(stage.index),
        _ => Base::Image(base_text),
    };
    Some(Stage {
        index,
        name: from.and_then(|f| f.stage_name).map(|w| w.text.to_ascii_lowercase()),
        name_span: from.and_then(|f| f.stage_name).map(|w| w.span.clone()),
        base,
        base_span: image.map_or(from_instruction.span.clone(), |w| w.span.clone()),
        platform: from.and_then(|f| f.platform).and_then(|f| f.value.clone()),
        span: from_instruction.span.start..last.span.end,
        instructions: range,
    })
}
