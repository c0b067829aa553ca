//! Which environment values are secrets: one home for `lower` (what goes into the Secret
//! `<service>-secret-env` instead of the pod template or a ConfigMap) and `load` (what the
//! code frames of diagnostics mask), so the two never disagree.

use std::collections::BTreeSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{FileSource, Project, Service, ServiceSettings};

/// Known secret values shorter than this are not looked for inside other values. Short
/// values such as `1`, `true`, `app`, `admin` or `5432` occur by chance in plain values
/// (ports, user names, flags), which would all move into Secrets and be masked in code
/// frames; six characters is the shortest password common tools accept (Postgres's and
/// MySQL's examples are longer), and a shorter one is guessed, not read, whatever is hidden.
pub const MIN_CONTAINED_CHARS: usize = 6;

/// Whether an environment variable's name says its value is a secret (`DB_PASSWORD`,
/// `API_TOKEN`); `*_FILE` and `*_PATH` name where a secret is, not the secret.
pub fn looks_secret(name: &str) -> bool {
    let bytes = name.as_bytes();
    let ends_with =
        |suffix: &[u8]| bytes.len() >= suffix.len() && bytes[bytes.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    // A file's place, or a key that is public by design (`GPG_KEY` in official images).
    if ends_with(b"_FILE") || ends_with(b"_PATH") || ends_with(b"PUBLIC_KEY") || ends_with(b"GPG_KEY") {
        return false;
    }
    // The official database images' switches (`MYSQL_ALLOW_EMPTY_PASSWORD: "yes"`,
    // `MARIADB_RANDOM_ROOT_PASSWORD: "1"`) say how a password is made; they hold none.
    // Every name is asked: the end first, which few names have.
    let contains = |word: &[u8]| bytes.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    if ends_with(b"_PASSWORD") && (contains(b"ALLOW_EMPTY_") || contains(b"RANDOM_ROOT_")) {
        return false;
    }
    // Short forms that end a name (`DB_PASS`, `MYSQL_PWD`, `JWT_KEY`, `SMTP_CREDENTIALS`): as
    // word endings only, so `PASSENGER_*`, `PWD` (the working directory) and `KEY_PREFIX` stay.
    let word_end = [&b"_PASS"[..], b"_PWD", b"_KEY", b"CREDENTIALS"];
    if word_end.iter().any(|w| ends_with(w)) {
        return true;
    }
    // Every environment name is asked: compared in place, ignoring case, without a copy, and
    // only where a word's first letter is.
    let at = |i: usize, word: &[u8]| bytes.get(i..i + word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word));
    (0..bytes.len()).any(|i| match bytes[i].to_ascii_uppercase() {
        b'P' => at(i, b"PASSWORD") || at(i, b"PASSWD") || at(i, b"PRIVATE_KEY"),
        b'S' => at(i, b"SECRET"),
        b'T' => at(i, b"TOKEN"),
        b'A' => at(i, b"API_KEY") || at(i, b"APIKEY") || at(i, b"ACCESS_KEY"),
        _ => false,
    })
}

/// The byte ranges of the passwords in URLs' userinfo in `text`:
/// `postgres://app:PASSWORD@db:5432/app`, `redis://:PASSWORD@cache:6379`. A URL with only a
/// user (`https://git@host`) has none. Every URL of the text is looked at (`a://…,b://…`).
pub fn url_passwords(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    // Every value of the project is asked; nearly none has an `@`, which a search finds fast.
    if !text.as_bytes().contains(&b'@') {
        return found;
    }
    for (at, _) in text.match_indices("://") {
        let start = at + 3;
        let rest = &text[start..];
        // The authority ends where the path, query or fragment starts, or the text quoting
        // the URL does; a password holding one of these characters is written percent-encoded.
        let end =
            rest.find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace()).unwrap_or(rest.len());
        // The last `@` ends the userinfo: an unencoded `@` in a password belongs to it.
        let Some((userinfo, _host)) = rest[..end].rsplit_once('@') else { continue };
        if let Some(colon) = userinfo.find(':')
            && colon + 1 < userinfo.len()
        {
            found.push(start + colon + 1..start + userinfo.len());
        }
    }
    found
}

/// The project's secret values: those of variables whose names say so (`looks_secret`,
/// `x-kompile.secret_env`) in `environment` and `env_file`s, the passwords of URLs in any
/// of them, and top-level `secrets` read from the environment or a file. A value that holds
/// one of them shows it, whatever its variable is called: [`SecretValues::is_secret`].
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    /// Each at least [`MIN_CONTAINED_CHARS`] long, each once.
    known: Vec<String>,
    /// Finds any of `known` in one pass: every value of the project is asked. `None` when
    /// there are none, or too many to index (then each is looked for in turn).
    matcher: Option<AhoCorasick>,
}

impl SecretValues {
    pub fn of(project: &Project) -> SecretValues {
        let mut known = BTreeSet::new();
        for service in &project.services {
            for (name, value) in values(service) {
                if service.settings.is_secret_env(name) {
                    known.insert(value);
                }
                known.extend(url_passwords(value).into_iter().map(|range| &value[range]));
            }
        }
        for secret in &project.secrets {
            match &secret.source {
                FileSource::Environment { value, .. } => {
                    known.insert(value.as_str());
                }
                // A file read for a mount: its text, without the final line break editors add.
                FileSource::File { bytes: Some(bytes), .. } => {
                    known.extend(std::str::from_utf8(bytes).ok().map(str::trim));
                }
                _ => {}
            }
        }
        let known: Vec<String> =
            known.into_iter().filter(|v| v.chars().count() >= MIN_CONTAINED_CHARS).map(str::to_string).collect();
        SecretValues { matcher: matcher(&known), known }
    }

    /// Whether the value of the variable `name`, in a service with `settings`, belongs in a
    /// Secret: its name says so, it carries a URL's password, or it holds another secret
    /// value of the project (`DATABASE_URL` with the database's `POSTGRES_PASSWORD` in it).
    pub fn is_secret(&self, settings: &ServiceSettings, name: &str, value: &str) -> bool {
        settings.is_secret_env(name) || !url_passwords(value).is_empty() || self.holds_known(value)
    }

    /// What of `text`, a secret value as written, to mask so that it shows no secret: the
    /// passwords of its URLs, which keeps hosts and ports readable; all of it when a known
    /// secret value shows elsewhere too (`jdbc:…?password=…`, a user name that is also the
    /// password). Masking all of it there is what keeps a secret from showing in part where
    /// two known values overlap.
    pub fn to_mask(&self, text: &str) -> Vec<Range<usize>> {
        let passwords = url_passwords(text);
        let mut rest = text.to_string();
        for range in &passwords {
            // The ends are `:` and `@`, ASCII: char boundaries.
            rest.replace_range(range.clone(), &"*".repeat(range.len()));
        }
        if self.holds_known(&rest) { std::iter::once(0..text.len()).collect() } else { passwords }
    }

    fn holds_known(&self, value: &str) -> bool {
        match &self.matcher {
            Some(matcher) => matcher.is_match(value),
            None => self.known.iter().any(|known| value.contains(known.as_str())),
        }
    }
}

/// Finds any of `known` in one pass. A contiguous NFA: the automaton `AhoCorasick::new`
/// would choose for few patterns, a DFA, takes minutes to build for one value of 100 KiB.
fn matcher(known: &[String]) -> Option<AhoCorasick> {
    if known.is_empty() {
        return None;
    }
    AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).build(known).ok()
}

/// A service's environment values that are set, from `environment` and its `env_file`s.
fn values(service: &Service) -> impl Iterator<Item = (&str, &str)> {
    let environment = service.environment.iter().filter_map(|v| Some((v.name.as_str(), v.value.as_ref()?.as_str())));
    let files = service.env_files.iter().flat_map(|f| f.values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    environment.chain(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(text: &str) -> Project {
        let mut sources = crate::source::Sources::default();
        let mut diags = crate::diag::Diagnostics::default();
        let environment = crate::load::Environment::default();
        let directory = std::path::Path::new("/nonexistent");
        crate::load::load_str(text, directory, &environment, &mut sources, &mut diags).expect("loads").typed
    }

    #[test]
    fn url_passwords_are_found_in_the_userinfo() {
        let password = |text: &str| url_passwords(text).into_iter().map(|r| text[r].to_string()).collect::<Vec<_>>();
        assert_eq!(password("postgres://app:s3cr3tpw@db:5432/app"), ["s3cr3tpw"]);
        assert_eq!(password("redis://:pw@cache:6379/0"), ["pw"]);
        assert_eq!(password("amqp://u:p@ss@rabbit"), ["p@ss"], "the last `@` ends the userinfo");
        assert_eq!(password("redis://:a1@s1,redis://:b2@s2"), ["a1", "b2"]);
        assert_eq!(password("--db=jdbc:mysql://root:hunter22@db/x?ssl=1"), ["hunter22"]);
        for none in ["https://git@github.com/x", "http://api:8000/a@b", "redis://u:@cache", "db:5432", "", "://"] {
            assert!(url_passwords(none).is_empty(), "{none}");
        }
    }

    /// The reviewer's case: the database's password inside another service's URL, and a URL
    /// password whatever the variable is called; short secrets are not looked for.
    #[test]
    fn values_holding_a_secret_are_secret() {
        let project = loaded(
            "services:\n  db: {image: postgres:16.4, environment: {POSTGRES_PASSWORD: s3cr3tpw, POSTGRES_USER: app}}\n  web:\n    image: app:1\n    environment: {A: 1}\n    x-kompile: {secret_env: [LICENSE]}\n",
        );
        let secrets = SecretValues::of(&project);
        let web = &project.services[1].settings;
        assert!(secrets.is_secret(web, "DATABASE_URL", "postgres://app:s3cr3tpw@db:5432/app"));
        assert!(secrets.is_secret(web, "JDBC", "jdbc:postgresql://db/app?password=s3cr3tpw"));
        assert!(secrets.is_secret(web, "CACHE", "redis://:x@cache"), "a URL password of any length");
        assert!(secrets.is_secret(web, "LICENSE", "abc"), "secret_env");
        assert!(secrets.is_secret(web, "DB_PASSWORD", "pw"), "by name");
        for plain in ["postgres://app@db:5432/app", "app", "s3cr3t", "info"] {
            assert!(!secrets.is_secret(web, "PLAIN", plain), "{plain}");
        }
        let short = loaded("services:\n  db: {image: p:1, environment: {DB_PASSWORD: 12345}}\n");
        let secrets = SecretValues::of(&short);
        assert!(!secrets.is_secret(&short.services[0].settings, "PORT", "12345"), "below the threshold");
    }

    /// Passwords inside URLs, env files' secrets and top-level secrets count as known values.
    #[test]
    fn known_values_come_from_urls_env_files_and_secrets() {
        let mut project = loaded(
            "services:\n  a: {image: a:1, environment: {URL: 'amqp://u:rabbit-pw@mq'}}\nsecrets:\n  s: {environment: S}\n",
        );
        let key = super::super::Spanned::new("API_TOKEN".to_string(), crate::source::Span::NONE);
        let path = super::super::Spanned::new("/p/.env".to_string(), crate::source::Span::NONE);
        let values = vec![(key, "tok-from-file".to_string())];
        project.services[0].env_files.push(super::super::EnvFile { path, required: true, values });
        let variable = super::super::Spanned::new("S".to_string(), crate::source::Span::NONE);
        project.secrets[0].source = FileSource::Environment { variable, value: "from-the-shell".into() };
        let secrets = SecretValues::of(&project);
        let settings = ServiceSettings::default();
        for value in ["x rabbit-pw", "Bearer tok-from-file", "from-the-shell!"] {
            assert!(secrets.is_secret(&settings, "PLAIN", value), "{value}");
        }
        let masked = |text: &str| secrets.to_mask(text).into_iter().map(|r| text[r].to_string()).collect::<Vec<_>>();
        assert_eq!(masked("amqp://u:rabbit-pw@mq:5672"), ["rabbit-pw"], "the host stays readable");
        assert_eq!(masked("u=amqp://u:x@mq tok-from-file"), ["u=amqp://u:x@mq tok-from-file"], "all of it");
        assert_eq!(masked("a=1"), Vec::<String>::new());
    }

    #[test]
    fn secret_names_are_recognised_in_any_case() {
        for name in [
            "DB_PASSWORD",
            "db_passwd",
            "Api_Key",
            "GITHUB_TOKEN",
            "x-secret",
            "AWS_SECRET_ACCESS_KEY",
            "APIKEY",
            "DB_PASS",
            "SMTP_PASS",
            "MYSQL_PWD",
            "JWT_KEY",
            "ENCRYPTION_KEY",
            "CREDENTIALS",
            "GOOGLE_CREDENTIALS",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "DB_PASSWORD_FILE",
            "token_path",
            "LOG_LEVEL",
            "PASS",
            "TOKE",
            "",
            "KEY",
            "PWD",
            "OLDPWD",
            "PASSENGER_APP_ENV",
            "KEY_PREFIX",
            "GPG_KEY",
            "VAPID_PUBLIC_KEY",
            "DB_PASS_FILE",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MARIADB_RANDOM_ROOT_PASSWORD",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
