//! Parser directives: `# syntax=`, `# escape=`, `# check=` at the very top of the file.

use super::ast::{Directive, ParseError};
use super::lines::{Line, Lines};

const KNOWN: [&str; 3] = ["syntax", "escape", "check"];

/// Reads directives from the top. Stops, without consuming it, at the first line that is
/// not a known directive: after that, `# escape=x` is an ordinary comment.
pub(crate) fn read(lines: &mut Lines<'_>, errors: &mut Vec<ParseError>) -> Vec<Directive> {
    let mut directives: Vec<Directive> = Vec::new();
    while let Some(line) = lines.peek() {
        let Some(directive) = parse_line(lines.text(line), line) else { break };
        lines.next_line();
        if directives.iter().any(|d| d.name == directive.name) {
            let message = format!("only one `{}` parser directive can be used", directive.name);
            errors.push(ParseError::new(message, directive.span.clone()));
            continue;
        }
        if directive.name == "escape" && !matches!(directive.value.as_str(), "\\" | "`") {
            let message = format!("invalid escape token `{}`", directive.value);
            let error = ParseError::new(message, directive.value_span.clone());
            errors.push(error.with_help("the escape character must be `\\` or a backtick"));
            continue;
        }
        directives.push(directive);
    }
    directives
}

/// Matches `#\s*name\s*=\s*value\s*` where name is a known directive (case-insensitive).
fn parse_line(text: &str, line: Line) -> Option<Directive> {
    let leading = text.len() - text.trim_start().len();
    let after_hash = text.trim_start().strip_prefix('#')?;
    let name_start = leading + 1 + (after_hash.len() - after_hash.trim_start().len());
    let rest = text.get(name_start..)?;
    let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let name = rest.get(..name_len)?.to_ascii_lowercase();
    if !KNOWN.contains(&name.as_str()) {
        return None;
    }
    let after_name = rest.get(name_len..)?.trim_start();
    let value_part = after_name.strip_prefix('=')?;
    let value = value_part.trim();
    if value.is_empty() {
        return None;
    }
    let value_start = text.len() - value_part.trim_start().len();
    let start = line.start + value_start;
    Some(Directive {
        name,
        value: value.to_string(),
        span: line.start + leading..line.end,
        value_span: start..start + value.len(),
    })
}
