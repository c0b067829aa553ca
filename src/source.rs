//! Every text kompile reads lives here, so diagnostics can point into it long after parsing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(u32);

/// A byte range in one source file. Values that come from no file (defaults, the shell
/// environment) carry [`Span::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const NONE: Span = Span { file: FileId(u32::MAX), start: 0, end: 0 };

    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end.max(start)) }
    }

    pub fn is_none(&self) -> bool {
        self.file == Span::NONE.file
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// A sub-range of this span, relative to its start, clamped to it.
    pub fn sub(&self, range: std::ops::Range<usize>) -> Span {
        if self.is_none() {
            return *self;
        }
        let len = (self.end - self.start) as usize;
        let start = self.start as usize + range.start.min(len);
        let end = self.start as usize + range.end.min(len);
        Span::new(self.file, start, end)
    }
}

#[derive(Debug)]
pub struct SourceFile {
    /// The path as given by the user or resolved from it; used to read sibling files.
    pub path: PathBuf,
    /// The path as shown in diagnostics (relative to the working directory when possible).
    pub display: String,
    pub text: Arc<str>,
    /// Byte offset of every line start; shared with diagnostic rendering, hence the `Arc`.
    line_starts: Arc<[u32]>,
    /// Whether some `\r` is not followed by `\n` (an old-Mac line break, which miette counts
    /// as a line break but `line_starts` does not).
    lone_cr: bool,
}

impl SourceFile {
    /// 0-based index of the line holding a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset where 0-based line `line` starts; the text's length past the last line.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).map_or(self.text.len(), |&s| s as usize)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_start(line);
        let col = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Line starts (after every `\n`), or `None` when a lone `\r` makes them disagree with
    /// the line breaks miette sees.
    pub fn line_starts(&self) -> Option<&Arc<[u32]>> {
        (!self.lone_cr).then_some(&self.line_starts)
    }
}

/// Owns every source text read during one run.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| (i + 1) as u32));
        let bytes = text.as_bytes();
        let lone_cr = text.match_indices('\r').any(|(i, _)| bytes.get(i + 1) != Some(&b'\n'));
        let line_starts = line_starts.into();
        let id = FileId(self.files.len() as u32);
        let file = SourceFile { path: path.to_path_buf(), display: display_path(path), text, line_starts, lone_cr };
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The text a span covers, or "" for a span into no file.
    pub fn text(&self, span: Span) -> &str {
        self.get(span.file).and_then(|f| f.text.get(span.range())).unwrap_or("")
    }

    /// Masks what `spans` cover with `*`, byte for byte (offsets and lines stay where they
    /// were), so no diagnostic quotes it: a secret written in a compose file is shown by no
    /// code frame, not even as a line of context. Call it once parsing is done: later stages
    /// read values from the typed project, never from here.
    pub fn mask(&mut self, spans: impl IntoIterator<Item = Span>) {
        let mut by_file: std::collections::BTreeMap<FileId, Vec<Span>> = Default::default();
        for span in spans.into_iter().filter(|s| !s.is_none()) {
            by_file.entry(span.file).or_default().push(span);
        }
        for (id, spans) in by_file {
            let Some(file) = self.files.get_mut(id.0 as usize) else { continue };
            let mut bytes = file.text.as_bytes().to_vec();
            for span in spans {
                if let Some(covered) = bytes.get_mut(span.range()) {
                    // Every byte of a character becomes one `*`: still UTF-8, same length.
                    covered.fill(b'*');
                }
            }
            if let Ok(text) = String::from_utf8(bytes) {
                file.text = text.into();
            }
        }
    }
}

/// Paths under the working directory are shown relative to it, like compilers do; used
/// for file names in diagnostics' messages too.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path);
    if shown.as_os_str().is_empty() { ".".to_string() } else { shown.display().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_offsets_lines_and_utf8() {
        let mut sources = Sources::default();
        let file = sources.add(Path::new("c.yaml"), "a: pässword\nb: ok\n");
        let value = Span::new(file, 3, 12);
        sources.mask([value, Span::NONE]);
        let masked = sources.get(file).map(|f| f.text.to_string());
        assert_eq!(masked.as_deref(), Some("a: *********\nb: ok\n"), "ä is two bytes, two stars");
        assert_eq!(sources.text(Span::new(file, 13, 18)), "b: ok");
    }
}
