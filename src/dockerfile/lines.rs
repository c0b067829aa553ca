//! Physical lines, and logical lines (an instruction with its continuations joined) that
//! remember where each byte came from so spans point into the original text.

use std::ops::Range;

/// One physical line. `start..end` is its content without `\n` or `\r\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub start: usize,
    pub end: usize,
}

impl Line {
    pub fn span(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Walks the text one physical line at a time.
pub(crate) struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str, start: usize) -> Lines<'a> {
        Lines { text, pos: start }
    }

    pub fn peek(&self) -> Option<Line> {
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let len = rest.find('\n').unwrap_or(rest.len());
        let content = rest.get(..len).unwrap_or("");
        let content_len = content.strip_suffix('\r').map_or(len, str::len);
        Some(Line { start: self.pos, end: self.pos + content_len })
    }

    /// Returns the next line and moves past its line break.
    pub fn next_line(&mut self) -> Option<Line> {
        let line = self.peek()?;
        let after = self.text.get(line.end..).unwrap_or("");
        let break_len = if after.starts_with("\r\n") {
            2
        } else if after.starts_with('\n') || after.starts_with('\r') {
            1
        } else {
            0
        };
        self.pos = line.end + break_len;
        Some(line)
    }

    pub fn text(&self, line: Line) -> &'a str {
        self.text.get(line.span()).unwrap_or("")
    }
}

/// Trims `\r` too, since a lone `\r` may precede a `\n` we already split on.
pub(crate) fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// Comments start with `#` after optional leading whitespace.
pub(crate) fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// If the line ends with the escape character (optionally followed by spaces or tabs), the
/// length of the text before it: the line continues.
pub(crate) fn continuation_cut(text: &str, escape: char) -> Option<usize> {
    let trimmed = text.trim_end_matches([' ', '\t']);
    trimmed.strip_suffix(escape).map(str::len)
}

/// A contiguous run of logical text copied from the original at `original`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    logical: usize,
    original: usize,
    len: usize,
}

/// An instruction's text with continuations removed, plus the map back to the original.
#[derive(Debug, Default)]
pub(crate) struct Logical {
    pub text: String,
    pieces: Vec<Piece>,
    /// Original offset just past the last physical line's content.
    pub end: usize,
}

impl Logical {
    pub fn push(&mut self, original: usize, text: &str) {
        self.pieces.push(Piece { logical: self.text.len(), original, len: text.len() });
        self.text.push_str(text);
        self.end = original + text.len();
    }

    /// Maps a logical offset to the original text. Offsets at a piece boundary map to the
    /// start of the following piece, so a word starting a continuation line points there.
    fn map_start(&self, pos: usize) -> usize {
        let index = self.pieces.partition_point(|p| p.logical + p.len <= pos);
        match self.pieces.get(index) {
            Some(p) => p.original + (pos - p.logical),
            None => self.end,
        }
    }

    /// Maps a logical end offset: it belongs with the byte before it, so a word ending a
    /// line does not stretch over the continuation.
    fn map_end(&self, pos: usize) -> usize {
        if pos == 0 {
            return self.map_start(0);
        }
        let index = self.pieces.partition_point(|p| p.logical + p.len < pos);
        match self.pieces.get(index) {
            Some(p) => p.original + (pos - p.logical),
            None => self.end,
        }
    }

    pub fn map(&self, range: Range<usize>) -> Range<usize> {
        if range.is_empty() {
            let at = self.map_start(range.start);
            return at..at;
        }
        self.map_start(range.start)..self.map_end(range.end)
    }

    pub fn slice(&self, range: Range<usize>) -> &str {
        self.text.get(range).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_lf_and_crlf() {
        let text = "a\r\nbc\n\nd";
        let mut lines = Lines::new(text, 0);
        let mut got = Vec::new();
        while let Some(line) = lines.next_line() {
            got.push(line.span());
        }
        assert_eq!(got, vec![0..1, 3..5, 6..6, 7..8]);
    }

    #[test]
    fn continuation_with_trailing_blanks() {
        assert_eq!(continuation_cut("echo a \\  \t", '\\'), Some(7));
        assert_eq!(continuation_cut("echo a", '\\'), None);
        assert_eq!(continuation_cut("dir C:\\ `", '`'), Some(8));
    }

    #[test]
    fn logical_map_across_pieces() {
        let mut logical = Logical::default();
        logical.push(4, "abc"); // original 4..7
        logical.push(20, "def"); // original 20..23
        assert_eq!(logical.map(0..3), 4..7);
        assert_eq!(logical.map(3..6), 20..23);
        assert_eq!(logical.map(1..5), 5..22);
        assert_eq!(logical.map(6..6), 23..23);
    }
}
