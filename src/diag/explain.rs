//! `kompile explain`: finding a code by id or name, and listing the code table. The pages
//! themselves come with the table (`Code::page`).

use super::Code;

/// The code `query` names: its id in any case (`k101`) or its name in any case, with `_`
/// for `-` allowed (`unknown-key`, `unknown_key`).
pub fn lookup(query: &str) -> Option<Code> {
    let query = query.trim().replace('_', "-");
    Code::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(&query) || c.name().eq_ignore_ascii_case(&query))
}

/// The code closest to a `query` that names none, for "did you mean".
pub fn suggest(query: &str) -> Option<Code> {
    let query = query.trim().to_ascii_lowercase();
    // Reversed, so that among equally close codes `max_by` keeps the lowest id.
    Code::ALL
        .iter()
        .rev()
        .map(|&c| {
            let score =
                strsim::jaro_winkler(&query, &c.id().to_ascii_lowercase()).max(strsim::jaro_winkler(&query, c.name()));
            (score, c)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Every code, one per line: id, name, severity and summary, in columns.
pub fn list() -> String {
    let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for code in Code::ALL {
        let severity = match code.default_severity() {
            super::Severity::Error => "error",
            super::Severity::Warning => "warning",
        };
        out.push_str(&format!("{}  {:<width$}  {severity:<7}  {}\n", code.id(), code.name(), code.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_codes_by_id_or_name() {
        assert_eq!(lookup("K101"), Some(Code::UnknownKey));
        assert_eq!(lookup("k101"), Some(Code::UnknownKey));
        assert_eq!(lookup("unknown-key"), Some(Code::UnknownKey));
        assert_eq!(lookup("Unknown-Key"), Some(Code::UnknownKey));
        assert_eq!(lookup("unknown_key"), Some(Code::UnknownKey));
        assert_eq!(lookup("K999"), None);
    }

    #[test]
    fn suggests_close_codes() {
        assert_eq!(suggest("unknwn-key"), Some(Code::UnknownKey));
        assert_eq!(suggest("host-paths"), Some(Code::HostPath));
        assert_eq!(suggest("zzzzzz"), None);
    }

    #[test]
    fn every_page_starts_with_its_title() {
        for &code in Code::ALL {
            let title = format!("# {} {}\n", code.id(), code.name());
            assert!(code.page().starts_with(&title), "{}", code.id());
        }
    }
}
