//! hadolint's own settings, honoured for the checks that have a hadolint twin
//! ([`crate::diag::codes::HADOLINT`]): the `ignored:` list of a `.hadolint.yaml`, and
//! `# hadolint global ignore=DL3008,...` comments, which silence a rule in the whole file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Silence, Silences};
use crate::dockerfile::Dockerfile;

/// The part of hadolint's configuration kompile reads; the rest is hadolint's business.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Config {
    #[serde(default)]
    ignored: Vec<String>,
    /// hadolint then reads no `# hadolint ...` comments; `# kompile-ignore=` still counts.
    #[serde(default)]
    disable_ignore_pragma: bool,
}

const NAMES: [&str; 2] = [".hadolint.yaml", ".hadolint.yml"];

/// The configuration hadolint would use for `dockerfile`: a `.hadolint.yaml` (or `.yml`) in
/// its directory or one above it up to the repository's root (hadolint reads the one in the
/// directory it runs in, which for a project is one of those), else in the current
/// directory, else hadolint's user configuration.
pub fn find(dockerfile: &Path) -> Option<PathBuf> {
    let absolute = std::env::current_dir().map(|cwd| cwd.join(dockerfile)).unwrap_or_else(|_| dockerfile.into());
    for dir in absolute.ancestors().skip(1) {
        if let Some(found) = NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            return Some(found);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    let cwd = std::env::current_dir().ok();
    let local = cwd.iter().flat_map(|dir| NAMES.map(|n| dir.join(n)));
    local.chain(user_configs()).find(|p| p.is_file())
}

/// `$XDG_CONFIG_HOME/hadolint.yaml`, else `~/.config/hadolint.yaml`, as hadolint looks.
fn user_configs() -> Vec<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config"));
    xdg.or(home).map(|dir| vec![dir.join("hadolint.yaml"), dir.join("hadolint.yml")]).unwrap_or_default()
}

/// The settings of the configuration file found for `dockerfile`. A file that cannot be read
/// is an error, as hadolint refuses it too.
pub fn configured(dockerfile: &Path) -> Result<Silences, Diagnostic> {
    let Some(path) = find(dockerfile) else { return Ok(Silences::default()) };
    let fail = |reason: String| {
        Diagnostic::new(Code::YamlSyntax, format!("cannot read {}: {reason}", path.display()))
            .help("kompile reads its `ignored:` list; hadolint refuses the file too: fix it or remove it")
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let config: Config = match text.trim() {
        "" => Config::default(),
        // The parser's message comes with a code frame of its own: its first line is enough.
        _ => serde_saphyr::from_str(&text)
            .map_err(|e| fail(e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").into()))?,
    };
    Ok(Silences { ignored: codes(&config.ignored), pragmas: !config.disable_ignore_pragma })
}

/// What `# hadolint global ignore=...` comments anywhere in the file silence.
pub fn global(parsed: &Dockerfile) -> Vec<Silence> {
    let comments = parsed.instructions.iter().flat_map(|i| &i.comments_before);
    let lists = comments.filter_map(|c| {
        let text = c.text.trim_start_matches('#').trim();
        text.strip_prefix("hadolint")?.trim_start().strip_prefix("global")?.trim_start().strip_prefix("ignore=")
    });
    codes(&lists.flat_map(|list| list.split(',').map(str::to_string)).collect::<Vec<_>>())
}

/// What a list of hadolint rules (or kompile codes) silences.
fn codes(items: &[String]) -> Vec<Silence> {
    items.iter().flat_map(|item| Silence::named(item.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_comments_name_codes() {
        let parsed = crate::dockerfile::parse("# hadolint global ignore=DL4000,DL3004\nFROM alpine:3.20\nRUN true\n");
        assert_eq!(
            global(&parsed).iter().map(|s| s.code).collect::<Vec<_>>(),
            [Code::MaintainerDeprecated, Code::Sudo]
        );
        let local = crate::dockerfile::parse("FROM alpine:3.20\n# hadolint ignore=DL4000\nRUN true\n");
        assert!(global(&local).is_empty());
    }

    #[test]
    fn the_nearest_configuration_up_to_the_repository_root_is_read() {
        let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let app = repo.path().join("app");
        std::fs::create_dir_all(repo.path().join(".git")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&app).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(repo.path().join(".hadolint.yaml"), "ignored: [DL4000]\nfailure-threshold: error\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let dockerfile = app.join("Dockerfile");
        assert_eq!(
            configured(&dockerfile).ok().map(|s| s.ignored),
            Some(vec![Silence { code: Code::MaintainerDeprecated, rule: Some("DL4000") }])
        );
        std::fs::write(app.join(".hadolint.yml"), "ignored:\n  - DL3004\n").unwrap_or_else(|e| panic!("{e}"));
        let settings = configured(&dockerfile).unwrap_or_default();
        assert_eq!(
            (settings.ignored, settings.pragmas),
            (vec![Silence { code: Code::Sudo, rule: Some("DL3004") }], true)
        );
        std::fs::write(app.join(".hadolint.yml"), "disable-ignore-pragma: true\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(!configured(&dockerfile).unwrap_or_default().pragmas);
        std::fs::write(app.join(".hadolint.yml"), "ignored: [DL3004\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(configured(&dockerfile).err().map(|d| d.code), Some(Code::YamlSyntax));
    }
}
