//! Compose-style variable interpolation (`$VAR`, `${VAR:-default}`, ...).
//!
//! Behaviour follows Docker Compose v2 (compose-go), checked against the
//! reference binary:
//!
//! - `$VAR` and `${VAR}` substitute; names are `[_A-Za-z][_A-Za-z0-9]*`.
//! - `${VAR:-d}` / `${VAR-d}`: `d` when VAR is unset or empty / only unset.
//! - `${VAR:?m}` / `${VAR?m}`: error when VAR is unset or empty / only unset.
//! - `${VAR:+a}` / `${VAR+a}`: `a` when VAR is set and non-empty / set,
//!   otherwise the empty string.
//! - `$$` is a literal `$`. A `$` not followed by `$`, `{` or a name start
//!   (`$1`, `$ `, `$-`, a trailing `$`) is kept literally.
//! - Inside `${...}` only `${` opens a nested level; a lone `{` does not, so
//!   `${A:-{x}` gives `{x` and `${A:-a}}` gives `a}`.
//! - Nested expressions in defaults, alternatives and messages are evaluated
//!   eagerly, even in the branch that is not taken: compose reports unset
//!   variables there and even fails on `${SET:-${UNSET:?boom}}`.
//! - Any other form after the name (`${A:}`, `${A:=x}`, `${A%x}`, `${#A}`,
//!   `${ A}`) is a syntax error, as is a missing `}`.
//! - Only a plain `$VAR`/`${VAR}` that is unset is reported in
//!   [`Interpolated::unset`]; forms with an operator never are.

/// Where, inside the input string, something happened (byte offsets into `input`).
pub type Offsets = std::ops::Range<usize>;

/// Nesting limit for `${..${..}..}` so hostile input cannot overflow the stack.
pub const MAX_DEPTH: usize = 64;

/// The largest value interpolation produces. Variables that repeat each other
/// (`A1=${A0}${A0}`, …) double at every line; real values are far smaller.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolated {
    pub value: String,
    /// Variables referenced without a default that were unset: (name, offsets of the `${..}`/`$NAME` expression).
    pub unset: Vec<(String, Offsets)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${VAR:?msg}` / `${VAR?msg}` with VAR unset (or empty for `:?`). `message` is the (interpolated) msg text, may be empty.
    Required { name: String, message: String, at: Offsets },
    /// Malformed expression, e.g. `${`, `${VAR`, `${1abc}`, `${VAR:x}`; `message` explains in plain English.
    Syntax { message: String, at: Offsets },
    /// The value would grow beyond [`MAX_VALUE_BYTES`]; `at` is the expression that crossed it.
    TooLarge { at: Offsets },
}

impl std::fmt::Display for InterpolationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Required { name, message, .. } if message.is_empty() => {
                write!(f, "required variable {name} is missing a value")
            }
            Self::Required { name, message, .. } => {
                write!(f, "required variable {name} is missing a value: {message}")
            }
            Self::Syntax { message, .. } => f.write_str(message),
            Self::TooLarge { .. } => write!(f, "the value expands to more than {} MiB", MAX_VALUE_BYTES >> 20),
        }
    }
}

impl std::error::Error for InterpolationError {}

/// True when `input` contains a `$`. When false, [`interpolate`] would return
/// the input unchanged, so callers can skip the call and its allocation.
pub fn has_variables(input: &str) -> bool {
    input.contains('$')
}

/// True when `input` is one `$NAME` or `${...}` expression and nothing else, so its value
/// is entirely what interpolation gives (`${PASSWORD}`, `${TOKEN:-}`; not `pw-${X}`).
pub fn is_one_expression(input: &str) -> bool {
    let bytes = input.as_bytes();
    let starts = bytes.first() == Some(&b'$') && bytes.get(1).is_some_and(|&c| c == b'{' || is_name_start(c));
    if !starts {
        return false;
    }
    // Every variable set, so `${A:?message}` parses through instead of failing.
    let lookup = |_: &str| Some("x".to_string());
    let mut parser = Parser { input, pos: 0, lookup: &lookup, unset: Vec::new() };
    parser.dollar(&mut String::new(), 0).is_ok() && parser.pos == input.len()
}

/// Substitutes variables in `input`, resolving names through `lookup`
/// (`None` means unset, `Some("")` means set but empty).
pub fn interpolate(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Interpolated, InterpolationError> {
    let mut parser = Parser { input, pos: 0, lookup, unset: Vec::new() };
    let value = parser.text(None)?;
    Ok(Interpolated { value, unset: parser.unset })
}

/// The operator after the name inside `${NAME...}`.
#[derive(Clone, Copy)]
enum Operator {
    Default,
    Required,
    Alternative,
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unset: Vec<(String, Offsets)>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.input.as_bytes().get(self.pos + ahead).copied()
    }

    /// Reads text up to the end of input (top level, `open` is None) or up to
    /// the `}` closing the `${` that started at `open` (the `}` is consumed).
    fn text(&mut self, open: Option<(usize, usize)>) -> Result<String, InterpolationError> {
        let mut out = String::new();
        loop {
            self.copy_plain(&mut out, open.is_some());
            match self.peek() {
                None => return self.end_of_input(open, out),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(_) => {
                    let start = self.pos;
                    self.dollar(&mut out, open.map_or(0, |(_, depth)| depth))?;
                    if out.len() > MAX_VALUE_BYTES {
                        return Err(InterpolationError::TooLarge { at: start..self.pos });
                    }
                }
            }
        }
    }

    fn end_of_input(&self, open: Option<(usize, usize)>, out: String) -> Result<String, InterpolationError> {
        match open {
            None => Ok(out),
            Some((start, _)) => Err(unclosed(start, self.input.len())),
        }
    }

    /// Copies bytes that need no work; stops at `$`, at `}` when nested, or at the end.
    fn copy_plain(&mut self, out: &mut String, nested: bool) {
        let rest = &self.input[self.pos..];
        let stop = rest.find(|c| c == '$' || (nested && c == '}')).unwrap_or(rest.len());
        out.push_str(&rest[..stop]);
        self.pos += stop;
    }

    /// Handles the `$` at the current position.
    fn dollar(&mut self, out: &mut String, depth: usize) -> Result<(), InterpolationError> {
        let start = self.pos;
        match self.peek_at(1) {
            Some(b'$') => {
                out.push('$');
                self.pos += 2;
            }
            Some(b'{') => {
                self.pos += 2;
                out.push_str(&self.braced(start, depth + 1)?);
            }
            Some(c) if is_name_start(c) => {
                self.pos += 1;
                let name = self.name();
                out.push_str(&self.plain_variable(name, start));
            }
            // Compose keeps `$1`, `$ `, `$-` and a trailing `$` as they are.
            _ => {
                out.push('$');
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// Reads a name starting at the current position (may be empty).
    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        self.input[start..self.pos].to_owned()
    }

    /// Resolves `$NAME` / `${NAME}`; `start` is the offset of the `$`.
    fn plain_variable(&mut self, name: String, start: usize) -> String {
        match (self.lookup)(&name) {
            Some(value) => value,
            None => {
                self.unset.push((name, start..self.pos));
                String::new()
            }
        }
    }

    /// Handles `${...}`; `start` is the offset of the `$`, the position is just after `${`.
    fn braced(&mut self, start: usize, depth: usize) -> Result<String, InterpolationError> {
        if depth > MAX_DEPTH {
            let message = format!("`${{` is nested more than {MAX_DEPTH} levels deep");
            return Err(syntax(&message, start..self.pos));
        }
        let name = self.braced_name(start)?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(self.plain_variable(name, start));
        }
        let (operator, colon) = self.operator(start)?;
        let argument = self.text(Some((start, depth)))?;
        let value = (self.lookup)(&name);
        // With a colon, an empty value counts as missing.
        let present = value.as_ref().is_some_and(|v| !colon || !v.is_empty());
        match operator {
            Operator::Default if present => Ok(value.unwrap_or_default()),
            Operator::Default => Ok(argument),
            Operator::Alternative if present => Ok(argument),
            Operator::Alternative => Ok(String::new()),
            Operator::Required if present => Ok(value.unwrap_or_default()),
            Operator::Required => Err(InterpolationError::Required { name, message: argument, at: start..self.pos }),
        }
    }

    fn braced_name(&mut self, start: usize) -> Result<String, InterpolationError> {
        let name_start = self.pos;
        let name = self.name();
        let valid_start = name.bytes().next().is_some_and(is_name_start);
        match self.peek() {
            None => Err(unclosed(start, self.input.len())),
            _ if !valid_start => {
                let end = self.char_end(name_start);
                Err(syntax(
                    "a variable name must start with a letter or `_` and contain only letters, digits and `_`",
                    start..end,
                ))
            }
            _ => Ok(name),
        }
    }

    /// Reads `-`, `?`, `+`, optionally preceded by `:`.
    fn operator(&mut self, start: usize) -> Result<(Operator, bool), InterpolationError> {
        let colon = self.peek() == Some(b':');
        let symbol = if colon { self.peek_at(1) } else { self.peek() };
        let operator = match symbol {
            Some(b'-') => Operator::Default,
            Some(b'?') => Operator::Required,
            Some(b'+') => Operator::Alternative,
            None => return Err(unclosed(start, self.input.len())),
            Some(_) => {
                if colon {
                    self.pos += 1;
                }
                let end = self.char_end(self.pos);
                return Err(syntax(
                    "expected `}`, `:-`, `-`, `:?`, `?`, `:+` or `+` after the variable name",
                    start..end,
                ));
            }
        };
        self.pos += if colon { 2 } else { 1 };
        Ok((operator, colon))
    }

    /// End offset of the character starting at `offset` (or `offset` at the input end).
    fn char_end(&self, offset: usize) -> usize {
        let next = self.input.get(offset..).and_then(|rest| rest.chars().next());
        next.map_or(offset, |c| offset + c.len_utf8())
    }
}

fn syntax(message: &str, at: Offsets) -> InterpolationError {
    InterpolationError::Syntax { message: message.to_owned(), at }
}

fn unclosed(start: usize, end: usize) -> InterpolationError {
    syntax("`${` is never closed by `}`", start..end)
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "B" => Some("bee".into()),
            "E" => Some(String::new()),
            "X" => Some("1".into()),
            _ => None,
        }
    }

    fn value(input: &str) -> String {
        match interpolate(input, &env) {
            Ok(done) => done.value,
            Err(err) => panic!("{input:?} failed: {err:?}"),
        }
    }

    fn error(input: &str) -> InterpolationError {
        match interpolate(input, &env) {
            Ok(done) => panic!("{input:?} unexpectedly gave {done:?}"),
            Err(err) => err,
        }
    }

    fn syntax_at(input: &str) -> Offsets {
        match error(input) {
            InterpolationError::Syntax { at, .. } => at,
            other => panic!("{input:?}: expected a syntax error, got {other:?}"),
        }
    }

    fn required(input: &str) -> (String, String, Offsets) {
        match error(input) {
            InterpolationError::Required { name, message, at } => (name, message, at),
            other => panic!("{input:?}: expected a required error, got {other:?}"),
        }
    }

    #[test]
    fn one_expression_is_the_whole_text() {
        for whole in ["${A}", "$A", "${A:-}", "${A:-x${B}}", "${A:?m}"] {
            assert!(is_one_expression(whole), "{whole}");
        }
        for partial in ["pw-${A}", "${A}x", "$A$B", "$$A", "$1", "plain", "", "${A", "x"] {
            assert!(!is_one_expression(partial), "{partial}");
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(value(""), "");
        assert_eq!(value("hello {world} }"), "hello {world} }");
        assert_eq!(value("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn simple_variables() {
        assert_eq!(value("$A"), "apple");
        assert_eq!(value("${A}"), "apple");
        assert_eq!(value("x$A-y"), "xapple-y");
        assert_eq!(value("${A}b"), "appleb");
        assert_eq!(value("$Ab"), "");
        assert_eq!(value("$A.$B"), "apple.bee");
        assert_eq!(value("$Aé"), "appleé");
    }

    #[test]
    fn unset_is_empty_and_reported() {
        let done = interpolate("a $U_1 ${V} $E", &env);
        let expected = Interpolated { value: "a   ".into(), unset: vec![("U_1".into(), 2..6), ("V".into(), 7..11)] };
        assert_eq!(done, Ok(expected));
    }

    #[test]
    fn names_are_case_sensitive_and_may_start_with_underscore() {
        assert_eq!(value("$a"), "");
        let done = interpolate("${_x}$_", &|n| Some(format!("<{n}>")));
        assert_eq!(done.map(|d| d.value), Ok("<_x><_>".into()));
    }

    #[test]
    fn default_forms() {
        assert_eq!(value("${U:-d}"), "d");
        assert_eq!(value("${E:-d}"), "d");
        assert_eq!(value("${A:-d}"), "apple");
        assert_eq!(value("${U-d}"), "d");
        assert_eq!(value("${E-d}"), "");
        assert_eq!(value("${U-}"), "");
        assert_eq!(value("${U:- sp }"), " sp ");
        assert_eq!(value("${U:-a:b}"), "a:b");
        assert_eq!(interpolate("${U:-d}", &env).map(|d| d.unset), Ok(vec![]));
    }

    #[test]
    fn alternative_forms() {
        assert_eq!(value("${A:+alt}"), "alt");
        assert_eq!(value("${E:+alt}"), "");
        assert_eq!(value("${U:+alt}"), "");
        assert_eq!(value("${A+alt}"), "alt");
        assert_eq!(value("${E+alt}"), "alt");
        assert_eq!(value("${U+alt}"), "");
    }

    #[test]
    fn required_forms() {
        assert_eq!(value("${A:?boom}"), "apple");
        assert_eq!(value("${E?boom}"), "");
        assert_eq!(required("${E:?boom}"), ("E".into(), "boom".into(), 0..10));
        assert_eq!(required("x${U?}"), ("U".into(), String::new(), 1..6));
        assert_eq!(required("${U:?x:y}"), ("U".into(), "x:y".into(), 0..9));
        assert_eq!(required("${U:?a}b}"), ("U".into(), "a".into(), 0..7));
    }

    #[test]
    fn required_message_is_interpolated() {
        assert_eq!(required("${U?$B}").1, "bee");
        assert_eq!(required("${U?${V:-q}}").1, "q");
        assert_eq!(required("${U?a${V?inner}b}"), ("V".into(), "inner".into(), 5..15));
    }

    #[test]
    fn error_display() {
        assert_eq!(error("${U:?boom}").to_string(), "required variable U is missing a value: boom");
        assert_eq!(error("${U?}").to_string(), "required variable U is missing a value");
    }

    #[test]
    fn nesting() {
        assert_eq!(value("${U:-${B:-x}}"), "bee");
        assert_eq!(value("${U:-${V:-x}}"), "x");
        assert_eq!(value("${U-${V-${W-deep}}}"), "deep");
        assert_eq!(value("${U:-${B}x${B}}"), "beexbee");
        assert_eq!(value("${U:-$B$B}"), "beebee");
        assert_eq!(value("${A:+${B}}"), "bee");
    }

    #[test]
    fn nested_expressions_are_evaluated_eagerly() {
        // Compose warns about V even though the default is not used.
        let done = interpolate("${A:-$V}", &env);
        let expected = Interpolated { value: "apple".into(), unset: vec![("V".into(), 5..7)] };
        assert_eq!(done, Ok(expected));
        assert_eq!(required("${X:-${U:?boom}}").0, "U");
        assert_eq!(required("${U:+${V:?boom}}").0, "V");
    }

    #[test]
    fn dollar_escapes_and_literal_dollars() {
        assert_eq!(value("$$"), "$");
        assert_eq!(value("$$A"), "$A");
        assert_eq!(value("$${A}"), "${A}");
        assert_eq!(value("$$$"), "$$");
        assert_eq!(value("$"), "$");
        assert_eq!(value("a $1 $ b $- $9abc $é"), "a $1 $ b $- $9abc $é");
        assert_eq!(value("${U:-$}"), "$");
        assert_eq!(value("${U:-$$}"), "$");
        assert_eq!(value("${U:-$$B}"), "$B");
    }

    #[test]
    fn braces_inside_arguments() {
        assert_eq!(value("${U:-a}}"), "a}");
        assert_eq!(value("${U:-{x}"), "{x");
        assert_eq!(value("${U:-\"q}\"}"), "\"q\"}");
        assert_eq!(value("${U:-\\}}"), "\\}");
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(syntax_at("${"), 0..2);
        assert_eq!(syntax_at("x${A"), 1..4);
        assert_eq!(syntax_at("${}"), 0..3);
        assert_eq!(syntax_at("${1abc}"), 0..3);
        assert_eq!(syntax_at("${9}"), 0..3);
        assert_eq!(syntax_at("${ A}"), 0..3);
        assert_eq!(syntax_at("${A }"), 0..4);
        assert_eq!(syntax_at("${A:x}"), 0..5);
        assert_eq!(syntax_at("${A:}"), 0..5);
        assert_eq!(syntax_at("${A:=x}"), 0..5);
        assert_eq!(syntax_at("${A%x}"), 0..4);
        assert_eq!(syntax_at("${#A}"), 0..3);
        assert_eq!(syntax_at("${A!}"), 0..4);
        assert_eq!(syntax_at("${é}"), 0..4);
        assert_eq!(syntax_at("${A:"), 0..4);
        assert_eq!(syntax_at("${A:-x"), 0..6);
        assert_eq!(syntax_at("${A:-${B}"), 0..9);
        assert_eq!(syntax_at("${U:-${1}}"), 5..8);
    }

    #[test]
    fn syntax_error_message_is_plain_english() {
        match error("${A:x}") {
            InterpolationError::Syntax { message, .. } => assert!(message.contains("`:-`")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}x{}", "${U:-".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(value(&ok), "x");
        let deep = format!("{}x{}", "${U:-".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
        let start = 5 * MAX_DEPTH;
        assert_eq!(syntax_at(&deep), start..start + 2);
        // Far deeper than the limit must still fail cleanly, not overflow.
        assert!(interpolate(&"${U:-".repeat(100_000), &env).is_err());
    }

    #[test]
    fn has_variables_checks_for_dollar() {
        assert!(!has_variables("plain {text}"));
        assert!(has_variables("a$"));
        assert!(has_variables("$$"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = ["$", "${", "${:", "${A:", "${A:-", "}", "$}", "${A-$", "$\u{1F600}", "${\u{1F600}}"];
        for sample in samples {
            let _ = interpolate(sample, &env);
        }
    }
}
