//! Markdown for a terminal, as `kompile explain` shows a code's page when standard output is
//! one: headings bold and underlined, paragraphs and lists wrapped to the width, code blocks
//! indented, inline code highlighted, links as `text (url)`, tables in aligned columns.
//! Without colour the same layout, with backquotes kept around inline code and headings
//! underlined with rules.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use textwrap::core::display_width;
use textwrap::{WordSeparator, WordSplitter};

const BOLD: &str = "\x1b[1m";
const BOLD_OFF: &str = "\x1b[22m";
const ITALIC: &str = "\x1b[3m";
const ITALIC_OFF: &str = "\x1b[23m";
const UNDERLINE: &str = "\x1b[4m";
const UNDERLINE_OFF: &str = "\x1b[24m";
const CODE: &str = "\x1b[36m";
const CODE_OFF: &str = "\x1b[39m";

/// How far code blocks are indented from the text around them.
const CODE_INDENT: &str = "    ";

/// `markdown` laid out for a terminal `width` columns wide, coloured when `color`.
pub fn render(markdown: &str, width: usize, color: bool) -> String {
    let mut writer = Writer { width: width.max(20), color, ..Writer::default() };
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        writer.event(event);
    }
    writer.flush();
    writer.out
}

#[derive(Default)]
struct Writer {
    width: usize,
    color: bool,
    out: String,
    /// The styled text of the paragraph, heading, list item or table cell being read.
    inline: String,
    /// Open block quotes.
    quotes: usize,
    /// Open lists: the next number of an ordered list, `None` for bullets.
    lists: Vec<Option<u64>>,
    /// The widths of the bullets of the open list items: their text is indented by the sum.
    items: Vec<usize>,
    /// The bullet of an item whose first line is still to be written.
    bullet: Option<String>,
    /// The destinations of the open links.
    links: Vec<String>,
    code_block: Option<String>,
    table: Option<Table>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    header_rows: usize,
}

impl Writer {
    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code_block {
                Some(code) => code.push_str(&text),
                None => self.inline.push_str(&text),
            },
            Event::Code(code) => self.code(&code),
            Event::SoftBreak => self.inline.push(' '),
            Event::HardBreak => self.inline.push('\n'),
            Event::Rule => {
                self.block_start();
                let rule = "─".repeat(self.width.min(40));
                self.out.push_str(&format!("{}{rule}\n", self.indent()));
            }
            Event::Html(html) | Event::InlineHtml(html) => self.inline.push_str(&html),
            Event::FootnoteReference(_) | Event::TaskListMarker(_) | Event::InlineMath(_) | Event::DisplayMath(_) => {}
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Paragraph => {
                self.flush();
                self.block_start();
            }
            Tag::Heading { .. } => {
                self.flush();
                self.block_start();
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.block_start();
                self.quotes += 1;
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.block_start();
                self.code_block = Some(String::new());
            }
            Tag::List(first) => {
                self.flush();
                if self.items.is_empty() {
                    self.block_start();
                }
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush();
                let bullet = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        *number += 1;
                        format!("{}. ", *number - 1)
                    }
                    _ => "• ".to_string(),
                };
                self.items.push(display_width(&bullet));
                self.bullet = Some(bullet);
            }
            Tag::Table(_) => {
                self.flush();
                self.block_start();
                self.table = Some(Table::default());
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.style(ITALIC),
            Tag::Strong => self.style(BOLD),
            Tag::Link { dest_url, .. } => self.links.push(dest_url.into_string()),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(level) => self.heading(level),
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quotes = self.quotes.saturating_sub(1);
            }
            TagEnd::CodeBlock => self.code_block_end(),
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.flush();
                self.items.pop();
                self.bullet = None;
            }
            TagEnd::TableHead => {
                if let Some(table) = &mut self.table {
                    table.header_rows = table.rows.len();
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(cell.trim().to_string());
                }
            }
            TagEnd::Table => self.table_end(),
            TagEnd::Emphasis => self.style(ITALIC_OFF),
            TagEnd::Strong => self.style(BOLD_OFF),
            TagEnd::Link => self.link_end(),
            _ => {}
        }
    }

    fn style(&mut self, code: &str) {
        if self.color {
            self.inline.push_str(code);
        }
    }

    fn code(&mut self, code: &str) {
        if self.color {
            self.inline.push_str(&format!("{CODE}{code}{CODE_OFF}"));
        } else {
            self.inline.push_str(&format!("`{code}`"));
        }
    }

    /// Links show where they go after their text; a link to another code's page says how to
    /// read that page here.
    fn link_end(&mut self) {
        let Some(url) = self.links.pop() else { return };
        let shown = match url.strip_suffix(".md") {
            Some(id) if is_code_id(id) => format!("kompile explain {id}"),
            _ if url.contains(':') || url.starts_with('#') => url,
            _ => docs_url(&url),
        };
        if !self.inline.ends_with(&shown) {
            self.inline.push_str(&format!(" ({shown})"));
        }
    }

    /// A blank line between blocks, except inside list items (tight lists stay tight) and at
    /// the start.
    fn block_start(&mut self) {
        if !self.out.is_empty() && self.items.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// What starts a line here: the block quotes' bars and the list items' indentation.
    fn indent(&self) -> String {
        let quotes = "│ ".repeat(self.quotes);
        format!("{quotes}{}", " ".repeat(self.items.iter().sum()))
    }

    /// Writes the inline text read so far, wrapped, behind the current item's bullet.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.inline);
        if text.trim().is_empty() {
            return;
        }
        let rest = self.indent();
        let first = match self.bullet.take() {
            Some(bullet) => {
                let pad = self.items.iter().sum::<usize>().saturating_sub(display_width(&bullet));
                format!("{}{}{bullet}", "│ ".repeat(self.quotes), " ".repeat(pad))
            }
            None => rest.clone(),
        };
        for line in self.wrap(text.trim(), &first, &rest) {
            self.out.push_str(line.trim_end());
            self.out.push('\n');
        }
    }

    fn wrap(&self, text: &str, first: &str, rest: &str) -> Vec<String> {
        let options = textwrap::Options::new(self.width)
            .initial_indent(first)
            .subsequent_indent(rest)
            .word_separator(WordSeparator::AsciiSpace)
            .word_splitter(WordSplitter::NoHyphenation)
            .break_words(false);
        textwrap::wrap(text, options).into_iter().map(|line| line.into_owned()).collect()
    }

    fn heading(&mut self, level: HeadingLevel) {
        let text = std::mem::take(&mut self.inline);
        let indent = self.indent();
        if self.color {
            self.out.push_str(&format!("{indent}{BOLD}{UNDERLINE}{}{UNDERLINE_OFF}{BOLD_OFF}\n", text.trim()));
        } else {
            let rule = if level == HeadingLevel::H1 { "═" } else { "─" };
            let width = display_width(text.trim());
            self.out.push_str(&format!("{indent}{}\n{indent}{}\n", text.trim(), rule.repeat(width)));
        }
    }

    fn code_block_end(&mut self) {
        let code = self.code_block.take().unwrap_or_default();
        let indent = self.indent();
        for line in code.trim_end_matches('\n').lines() {
            let line = format!("{indent}{CODE_INDENT}{line}");
            self.out.push_str(line.trim_end());
            self.out.push('\n');
        }
    }

    /// Columns aligned; when the table is wider than the terminal, the last column wraps
    /// under itself.
    fn table_end(&mut self) {
        let Some(table) = self.table.take() else { return };
        let columns = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths: Vec<usize> = (0..columns)
            .map(|c| table.rows.iter().filter_map(|r| r.get(c)).map(|cell| display_width(cell)).max().unwrap_or(0))
            .collect();
        let indent = self.indent();
        let before_last: usize = widths.iter().rev().skip(1).map(|w| w + 2).sum();
        if display_width(&indent) + before_last + 20 > self.width {
            return self.table_stacked(&table);
        }
        if let Some(last) = widths.last_mut() {
            let room = self.width.saturating_sub(display_width(&indent) + before_last).max(20);
            *last = (*last).min(room);
        }
        for (index, row) in table.rows.iter().enumerate() {
            let header = index < table.header_rows;
            self.table_row(row, &widths, &indent, header);
            if header && index + 1 == table.header_rows {
                let rules: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
                self.out.push_str(&format!("{indent}{}\n", rules.join("  ")));
            }
        }
    }

    /// A table too wide for columns: each row's first cell on a line, the others wrapped and
    /// indented under it.
    fn table_stacked(&mut self, table: &Table) {
        let indent = self.indent();
        let under = format!("{indent}{CODE_INDENT}");
        for (index, row) in table.rows.iter().enumerate() {
            let Some((first, others)) = row.split_first() else { continue };
            if index < table.header_rows {
                continue;
            }
            let cells = std::iter::once((first, &indent)).chain(others.iter().map(|c| (c, &under)));
            for (cell, prefix) in cells.filter(|(c, _)| !c.is_empty()) {
                for line in self.wrap(cell, prefix, prefix) {
                    self.out.push_str(line.trim_end());
                    self.out.push('\n');
                }
            }
        }
    }

    fn table_row(&mut self, row: &[String], widths: &[usize], indent: &str, header: bool) {
        let Some((last, cells)) = row.split_last() else { return };
        let mut first = indent.to_string();
        for (cell, &width) in cells.iter().zip(widths) {
            let padded = format!("{cell}{}  ", " ".repeat(width.saturating_sub(display_width(cell))));
            first.push_str(&if header && self.color { format!("{BOLD}{padded}{BOLD_OFF}") } else { padded });
        }
        let last = if header && self.color { format!("{BOLD}{last}{BOLD_OFF}") } else { last.clone() };
        let rest = " ".repeat(display_width(&first));
        let width = display_width(&first) + widths.get(cells.len()).copied().unwrap_or(0);
        let options = textwrap::Options::new(width.max(1))
            .initial_indent(&first)
            .subsequent_indent(&rest)
            .word_separator(WordSeparator::AsciiSpace)
            .word_splitter(WordSplitter::NoHyphenation)
            .break_words(false);
        for line in textwrap::wrap(&last, options) {
            self.out.push_str(line.trim_end());
            self.out.push('\n');
        }
    }
}

/// A code page's relative link (`../cluster.md#status`) as the page on the repository at this
/// release's tag: an installed kompile has no `docs/` beside it.
fn docs_url(relative: &str) -> String {
    let mut parts = vec!["docs", "codes"];
    for part in relative.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            part => parts.push(part),
        }
    }
    format!("{}/blob/v{}/{}", env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"), parts.join("/"))
}

/// `K101`: a kompile code id, as the code pages link to each other (`K101.md`).
fn is_code_id(text: &str) -> bool {
    text.len() == 4 && text.starts_with('K') && text[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# K999 example\n\n**Severity:** warning\n\nA `key` is [wrong](https://example.com/x) and \
                        [K101](K101.md) says why, in words long enough to wrap around.\n\n## Fix\n\n- one\n- two \
                        `items`\n  1. nested\n\n```yaml\nservices:\n  web: {}\n```\n\n| Key | Means |\n|---|---|\n| \
                        `a` | first |\n| bb | second |\n";

    #[test]
    fn plain_layout_without_colour() {
        let text = render(PAGE, 40, false);
        let expected = "\
K999 example
════════════

Severity: warning

A `key` is wrong (https://example.com/x)
and K101 (kompile explain K101) says
why, in words long enough to wrap
around.

Fix
───

• one
• two `items`
  1. nested

    services:
      web: {}

Key  Means
───  ──────
`a`  first
bb   second
";
        assert_eq!(text, expected);
    }

    #[test]
    fn colours_headings_code_and_emphasis() {
        let text = render(PAGE, 80, true);
        assert!(text.starts_with("\x1b[1m\x1b[4mK999 example\x1b[24m\x1b[22m\n"), "{text:?}");
        assert!(text.contains("A \x1b[36mkey\x1b[39m is wrong (https://example.com/x)"), "{text:?}");
        assert!(text.contains("\x1b[1mSeverity:\x1b[22m warning"), "{text:?}");
    }

    /// An installed kompile has no docs/ beside it: relative links name the release's pages.
    #[test]
    fn relative_links_name_the_release_page() {
        let text = render("See [status](../cluster.md#status) and [top](#fix).\n", 200, false);
        let page = format!(
            "https://github.com/kompile-dev/kompile/blob/v{}/docs/cluster.md#status",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(text, format!("See status ({page}) and top (#fix).\n"));
    }

    #[test]
    fn every_code_page_renders() {
        for &code in crate::diag::Code::ALL {
            let text = render(code.page(), 80, false);
            assert!(text.starts_with(&format!("{} {}\n", code.id(), code.name())), "{}", code.id());
            // Only code and words longer than the line itself (paths, URLs) may stick out.
            let too_wide = text.lines().filter(|l| !l.starts_with(CODE_INDENT) && display_width(l) > 80);
            for line in too_wide {
                assert!(!line.trim().contains(' '), "{}: {line}", code.id());
            }
        }
    }
}
