//! `.dockerignore` as Docker reads it (moby's patternmatcher and BuildKit's reader), so the
//! files kompile hashes are the files `docker build` sends:
//!
//! - one pattern per line; `#` lines and blank lines are skipped, whitespace is trimmed;
//! - patterns are relative to the context root: a leading `/` or `./` changes nothing, and
//!   `foo` matches `foo` at the top only (not `a/foo`, unlike `.gitignore`);
//! - `*` is any run of characters but `/`, `?` one such character, `[a-z]` a class
//!   (`[^a]` or `[!a]` negated), `\` makes the next character literal, `**` any number of
//!   directories (zero included);
//! - a pattern that matches a directory matches everything below it;
//! - `!pattern` re-includes; the last matching pattern decides.

/// The `.dockerignore` a build of `context` reads: BuildKit takes `<Dockerfile>.dockerignore`
/// next to the Dockerfile when there is one, else `.dockerignore` at the root of the context.
pub fn file_for(context: &std::path::Path, dockerfile: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    let beside = dockerfile.map(|d| {
        let mut name = d.as_os_str().to_os_string();
        name.push(".dockerignore");
        std::path::PathBuf::from(name)
    });
    beside.filter(|p| p.is_file()).or_else(|| Some(context.join(".dockerignore")).filter(|p| p.is_file()))
}

/// The parsed rules of one `.dockerignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    exception: bool,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `**` at the end: anything, `/` included.
    Rest,
    /// `**/` (or `**` before more pattern): any number of whole directories, zero included.
    Dirs,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rules = text.lines().filter(|l| !l.starts_with('#')).filter_map(rule).collect();
        Ignore { rules }
    }

    /// Whether a path (relative to the context, `/`-separated) is left out of the context.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            // A rule can only change the outcome in its own direction.
            if rule.exception != excluded {
                continue;
            }
            if rule.matches_or_parent(path) {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// Whether some `!` rule could bring back a file inside an excluded directory; if not,
    /// the walk can skip the directory.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.exception)
    }
}

fn rule(line: &str) -> Option<Rule> {
    let line = line.trim();
    let (exception, pattern) = match line.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, line),
    };
    let pattern = clean(pattern);
    if pattern.is_empty() {
        return None;
    }
    Some(Rule { exception, tokens: tokens(&pattern) })
}

/// Like Go's `filepath.Clean` for a relative pattern: no empty, `.` or trailing parts, `..`
/// resolved where it can be; a leading `/` dropped, since patterns start at the root anyway.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() { Token::Rest } else { Token::Dirs }
            }
            '*' => Token::Star,
            '?' => Token::One,
            '[' => {
                // An unterminated class is a literal `[` (Docker refuses the pattern).
                let mut ahead = chars.clone();
                match class(&mut ahead) {
                    Some(class) => {
                        chars = ahead;
                        class
                    }
                    None => Token::Char('['),
                }
            }
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            c => Token::Char(c),
        };
        out.push(token);
    }
    out
}

/// `[...]` after its `[`; `None` when it is not closed.
fn class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Token> {
    let negated = matches!(chars.peek(), Some('^' | '!'));
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    while let Some(c) = chars.next() {
        if c == ']' && !ranges.is_empty() {
            return Some(Token::Class { negated, ranges });
        }
        let low = if c == '\\' { chars.next().unwrap_or(c) } else { c };
        let high = if chars.peek() == Some(&'-') {
            chars.next();
            chars.next().unwrap_or(low)
        } else {
            low
        };
        ranges.push((low, high));
    }
    None
}

impl Rule {
    /// The path itself or one of its parent directories matches.
    fn matches_or_parent(&self, path: &str) -> bool {
        if self.matches(path) {
            return true;
        }
        path.match_indices('/').any(|(end, _)| path.get(..end).is_some_and(|parent| self.matches(parent)))
    }

    fn matches(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        let mut memo = vec![None; (self.tokens.len() + 1) * (chars.len() + 1)];
        matches_at(&self.tokens, &chars, 0, 0, &mut memo)
    }
}

/// Whether `tokens[t..]` matches `chars[c..]` exactly; memoised, so patterns with many
/// stars stay linear in practice instead of backtracking exponentially.
fn matches_at(tokens: &[Token], chars: &[char], t: usize, c: usize, memo: &mut [Option<bool>]) -> bool {
    let key = t * (chars.len() + 1) + c;
    if let Some(Some(known)) = memo.get(key) {
        return *known;
    }
    let result = match tokens.get(t) {
        None => c == chars.len(),
        Some(token) => step(token, tokens, chars, t, c, memo),
    };
    if let Some(slot) = memo.get_mut(key) {
        *slot = Some(result);
    }
    result
}

fn step(token: &Token, tokens: &[Token], chars: &[char], t: usize, c: usize, memo: &mut [Option<bool>]) -> bool {
    let here = chars.get(c).copied();
    match token {
        Token::Rest => true,
        Token::Star => {
            matches_at(tokens, chars, t + 1, c, memo)
                || (here.is_some_and(|h| h != '/') && matches_at(tokens, chars, t, c + 1, memo))
        }
        // Zero directories, or skip through the next `/` and try again.
        Token::Dirs => {
            matches_at(tokens, chars, t + 1, c, memo)
                || chars
                    .iter()
                    .enumerate()
                    .skip(c)
                    .filter(|(_, ch)| **ch == '/')
                    .any(|(slash, _)| matches_at(tokens, chars, t + 1, slash + 1, memo))
        }
        Token::One => here.is_some_and(|h| h != '/') && matches_at(tokens, chars, t + 1, c + 1, memo),
        Token::Char(want) => here == Some(*want) && matches_at(tokens, chars, t + 1, c + 1, memo),
        Token::Class { negated, ranges } => {
            let hit = |h: char| ranges.iter().any(|(low, high)| (*low..=*high).contains(&h));
            here.is_some_and(|h| h != '/' && hit(h) != *negated) && matches_at(tokens, chars, t + 1, c + 1, memo)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ignore;

    fn excluded(rules: &str, paths: &[&str]) -> Vec<bool> {
        let ignore = Ignore::parse(rules);
        paths.iter().map(|p| ignore.excludes(p)).collect()
    }

    #[test]
    fn patterns_are_anchored_at_the_context_root() {
        assert_eq!(excluded("foo\n", &["foo", "foo/bar", "a/foo", "foobar"]), [true, true, false, false]);
        assert_eq!(excluded("/foo\n", &["foo", "a/foo"]), [true, false]);
        assert_eq!(excluded("./foo/\n", &["foo/x"]), [true]);
    }

    #[test]
    fn star_stays_within_a_directory_and_double_star_crosses_them() {
        assert_eq!(excluded("*.md\n", &["README.md", "docs/a.md"]), [true, false]);
        assert_eq!(excluded("*/*.md\n", &["docs/a.md", "docs/x/a.md"]), [true, false]);
        assert_eq!(excluded("**/*.md\n", &["README.md", "docs/x/a.md", "a.txt"]), [true, true, false]);
        assert_eq!(excluded("a/**/b\n", &["a/b", "a/x/b", "a/x/y/b", "a/xb"]), [true, true, true, false]);
        assert_eq!(excluded("node_modules/**\n", &["node_modules/x/y", "node_modules"]), [true, false]);
        assert_eq!(excluded("?.txt\n", &["a.txt", "ab.txt", "/.txt"]), [true, false, false]);
    }

    #[test]
    fn exceptions_re_include_and_the_last_match_wins() {
        let rules = "# comment\n*.md\n!README.md\n\n  docs  \n!docs/keep.md\n";
        let paths = ["a.md", "README.md", "docs/x.md", "docs/keep.md", "src/a.md"];
        assert_eq!(excluded(rules, &paths), [true, false, true, false, false]);
        assert_eq!(excluded("!a\na\n", &["a"]), [true]);
        assert_eq!(excluded("*\n!src\n", &["x", "src/main.rs", "srcx"]), [true, false, true]);
    }

    #[test]
    fn classes_and_escapes() {
        assert_eq!(excluded("[a-c].txt\n", &["b.txt", "d.txt"]), [true, false]);
        assert_eq!(excluded("[^a-c].txt\n[!x]y\n", &["b.txt", "d.txt", "zy", "xy"]), [false, true, true, false]);
        assert_eq!(excluded("\\*.txt\n", &["*.txt", "a.txt"]), [true, false]);
        assert_eq!(excluded("[.txt\n", &["[.txt"]), [true]);
    }

    #[test]
    fn blank_and_dot_patterns_match_nothing_by_themselves() {
        assert_eq!(excluded("\n   \n.\n!\n", &["a", "b/c"]), [false, false]);
        assert_eq!(excluded("a/../b\n", &["b", "a"]), [true, false]);
    }
}
