//! Dockerfile variable substitution, as the builder applies it to ADD, COPY, ENV, EXPOSE,
//! FROM, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR arguments.
//!
//! Like Docker's word processing it also removes quotes: `'...'` is literal, `"..."` allows
//! expansion, and the escape character makes the next character literal (inside double
//! quotes only before `"`, `$` and itself).

use std::ops::Range;

/// How deep `${a:-${b:-...}}` may nest. Real files nest two or three levels.
const MAX_DEPTH: usize = 32;

/// Why a substitution failed; `span` is a byte range into the text given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstError {
    pub message: String,
    pub span: Range<usize>,
}

/// Expands `$v`, `${v}`, `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`, `${v:?w}`, `${v?w}`.
/// Unset variables expand to nothing, as in Docker. `escape` is the Dockerfile's escape
/// character.
pub fn substitute(text: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, SubstError> {
    let mut lexer = Lexer { text, pos: 0, escape, lookup: Some(lookup), found: Vec::new() };
    lexer.word(None, 0)
}

/// Removes quotes and escapes but leaves `$` references as written (for display, and for
/// values Docker does not expand).
pub fn unquote(text: &str, escape: char) -> Result<String, SubstError> {
    let mut lexer = Lexer { text, pos: 0, escape, lookup: None, found: Vec::new() };
    lexer.word(None, 0)
}

/// The variables a text refers to, each with the span of `$name` or `${name`, in order (for
/// "undefined variable" checks). References in single quotes are not references. On a
/// syntax error, the references found before it.
pub fn references(text: &str, escape: char) -> Vec<(String, Range<usize>)> {
    let none = |_: &str| None;
    let mut lexer = Lexer { text, pos: 0, escape, lookup: Some(&none), found: Vec::new() };
    let _ = lexer.word(None, 0);
    lexer.found
}

/// Looks a variable up by name; `None` means unset.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    escape: char,
    /// `None`: leave references as written.
    lookup: Option<Lookup<'a>>,
    /// Every reference seen, for [`references`].
    found: Vec<(String, Range<usize>)>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error(&self, message: impl Into<String>, start: usize) -> SubstError {
        SubstError { message: message.into(), span: start..self.pos.max(start) }
    }

    /// Reads up to `stop` (not consumed) or the end. `depth` counts enclosing `${...}`.
    fn word(&mut self, stop: Option<char>, depth: usize) -> Result<String, SubstError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                return Ok(out);
            }
            match c {
                '\'' => out.push_str(&self.single_quoted()?),
                '"' => out.push_str(&self.double_quoted(depth)?),
                '$' => out.push_str(&self.dollar(depth)?),
                c if c == self.escape => {
                    self.bump();
                    // A trailing escape character stays, as Docker keeps it.
                    out.push(self.bump().unwrap_or(c));
                }
                c => {
                    self.bump();
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    fn single_quoted(&mut self) -> Result<String, SubstError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
                None => return Err(self.error("unterminated single quote", start)),
            }
        }
    }

    fn double_quoted(&mut self, depth: usize) -> Result<String, SubstError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar(depth)?),
                Some(c) if c == self.escape => {
                    self.bump();
                    match self.peek() {
                        Some(next) if next == '"' || next == '$' || next == self.escape => {
                            self.bump();
                            out.push(next);
                        }
                        _ => out.push(c),
                    }
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
                None => return Err(self.error("unterminated double quote", start)),
            }
        }
    }

    /// At a `$`: a name, `${...}`, or a literal `$`.
    fn dollar(&mut self, depth: usize) -> Result<String, SubstError> {
        let start = self.pos;
        self.bump();
        if self.peek() == Some('{') {
            return self.braced(start, depth + 1);
        }
        let name = self.name();
        if name.is_empty() {
            return Ok("$".to_string());
        }
        self.found.push((name.clone(), start..self.pos));
        Ok(match self.lookup {
            Some(lookup) => lookup(&name).unwrap_or_default(),
            None => self.text.get(start..self.pos).unwrap_or("").to_string(),
        })
    }

    /// A name: letters, digits, `_`; a leading digit makes a positional name of digits only.
    fn name(&mut self) -> String {
        let start = self.pos;
        let digits_only = self.peek().is_some_and(|c| c.is_ascii_digit());
        while let Some(c) = self.peek() {
            let ok = if digits_only { c.is_ascii_digit() } else { c.is_ascii_alphanumeric() || c == '_' };
            if !ok {
                break;
            }
            self.bump();
        }
        self.text.get(start..self.pos).unwrap_or("").to_string()
    }

    fn braced(&mut self, start: usize, depth: usize) -> Result<String, SubstError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("variables nested more than {MAX_DEPTH} levels deep"), start));
        }
        self.bump();
        let name = self.name();
        if name.is_empty() {
            return Err(self.error("bad substitution: missing variable name", start));
        }
        self.found.push((name.clone(), start..self.pos));
        let modifier = self.modifier(start)?;
        let word = match modifier {
            Some(_) => self.word(Some('}'), depth)?,
            None => String::new(),
        };
        if self.bump() != Some('}') {
            return Err(self.error("bad substitution: missing `}`", start));
        }
        let Some(lookup) = self.lookup else {
            return Ok(self.text.get(start..self.pos).unwrap_or("").to_string());
        };
        apply(modifier, lookup(&name), word).map_err(|message| self.error(message.replace("{name}", &name), start))
    }

    /// After `${name`: `}` (none) or one of `:-`, `-`, `:+`, `+`, `:?`, `?`.
    fn modifier(&mut self, start: usize) -> Result<Option<Modifier>, SubstError> {
        let colon = self.peek() == Some(':');
        if colon {
            self.bump();
        }
        let kind = match self.peek() {
            Some('}') if !colon => return Ok(None),
            Some('-') => Kind::Default,
            Some('+') => Kind::Alternative,
            Some('?') => Kind::Required,
            Some(c) => return Err(self.error(format!("unsupported modifier `{c}` in substitution"), start)),
            None => return Err(self.error("bad substitution: missing `}`", start)),
        };
        self.bump();
        Ok(Some(Modifier { kind, colon }))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Default,
    Alternative,
    Required,
}

/// `colon`: an empty value counts as unset.
#[derive(Clone, Copy)]
struct Modifier {
    kind: Kind,
    colon: bool,
}

fn apply(modifier: Option<Modifier>, value: Option<String>, word: String) -> Result<String, String> {
    let Some(Modifier { kind, colon }) = modifier else { return Ok(value.unwrap_or_default()) };
    let set = value.as_ref().is_some_and(|v| !colon || !v.is_empty());
    match kind {
        Kind::Default => Ok(if set { value.unwrap_or_default() } else { word }),
        Kind::Alternative => Ok(if set { word } else { String::new() }),
        Kind::Required if set => Ok(value.unwrap_or_default()),
        Kind::Required if word.is_empty() => Err("{name}: parameter not set or null".to_string()),
        Kind::Required => Err(format!("{{name}}: {word}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "a" => Some("A".to_string()),
            "empty" => Some(String::new()),
            "path" => Some("/usr/bin".to_string()),
            _ => None,
        }
    }

    fn sub(text: &str) -> Result<String, SubstError> {
        substitute(text, '\\', &env)
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(sub("$a-${a}_$a_x").as_deref(), Ok("A-A_"));
        assert_eq!(sub("x$path:y").as_deref(), Ok("x/usr/bin:y"));
        assert_eq!(sub("$unset|${unset}").as_deref(), Ok("|"));
        assert_eq!(sub("cost $ 5 and $").as_deref(), Ok("cost $ 5 and $"));
    }

    #[test]
    fn modifiers() {
        assert_eq!(sub("${unset:-w} ${empty:-w} ${a:-w}").as_deref(), Ok("w w A"));
        assert_eq!(sub("${unset-w} [${empty-w}] ${a-w}").as_deref(), Ok("w [] A"));
        assert_eq!(sub("[${unset:+w}] [${empty:+w}] ${a:+w}").as_deref(), Ok("[] [] w"));
        assert_eq!(sub("[${unset+w}] ${empty+w} ${a+w}").as_deref(), Ok("[] w w"));
        assert_eq!(sub("${unset:-${a}-x}").as_deref(), Ok("A-x"));
        assert_eq!(sub("${a:?}").as_deref(), Ok("A"));
        let error = sub("x ${unset:?is required}").err().map(|e| (e.message, e.span));
        assert_eq!(error, Some(("unset: is required".to_string(), 2..23)));
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(sub(r#""two $a" '$a' \$a \\"#).as_deref(), Ok("two A $a $a \\"));
        assert_eq!(sub(r#""say \"hi\" \n""#).as_deref(), Ok(r#"say "hi" \n"#));
        assert_eq!(substitute("`$a C:\\dir", '`', &env).as_deref(), Ok("$a C:\\dir"));
    }

    #[test]
    fn errors_have_spans() {
        assert_eq!(sub("ab 'cd").map_err(|e| e.span), Err(3..6));
        assert_eq!(sub("\"cd").map_err(|e| e.span), Err(0..3));
        assert_eq!(sub("x ${a").map_err(|e| e.span), Err(2..5));
        assert_eq!(sub("${}").map_err(|e| e.message), Err("bad substitution: missing variable name".to_string()));
        assert_eq!(sub("${a%b}").map_err(|e| e.message), Err("unsupported modifier `%` in substitution".to_string()));
    }

    #[test]
    fn ten_thousand_nested_braces_is_an_error_not_a_crash() {
        let text = format!("{}{}", "${".repeat(10_000), "}".repeat(10_000));
        assert!(sub(&text).is_err());
        let deep = format!("{}x{}", "${a:-".repeat(10_000), "}".repeat(10_000));
        let error = sub(&deep).err().map(|e| e.message);
        assert_eq!(error, Some(format!("variables nested more than {MAX_DEPTH} levels deep")));
        let ok = format!("{}x{}", "${unset:-".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(sub(&ok).as_deref(), Ok("x"));
    }

    #[test]
    fn unquote_keeps_references() {
        assert_eq!(unquote(r#""a b" $x ${y:-z} 'c'"#, '\\').as_deref(), Ok("a b $x ${y:-z} c"));
    }

    #[test]
    fn references_with_spans() {
        let refs = references("$a ${b:-$c} ${a} '$d'", '\\');
        let expected =
            vec![("a".to_string(), 0..2), ("b".to_string(), 3..6), ("c".to_string(), 8..10), ("a".to_string(), 12..15)];
        assert_eq!(refs, expected);
    }
}
