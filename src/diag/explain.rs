//! `kompile explain`: suggesting a code for a query that names none, and listing the code
//! table. Codes are read by `Code::matching`; the pages come with the table (`Code::page`).

use super::Code;

/// The code closest to a `query` that names none, for "did you mean" (`kompile explain`,
/// `--deny` and the `x-kompile` lists), with its spelling closest to the query: id or name.
pub fn suggest(query: &str) -> Option<(Code, &'static str)> {
    let spellings = Code::ALL.iter().flat_map(|c| [c.id(), c.name()]);
    let spelling = crate::suggest::closest(query.trim(), spellings)?;
    Code::lookup(spelling).map(|code| (code, spelling))
}

/// Every code, one per line: id, name, severity and summary, in columns.
pub fn list() -> String {
    let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for code in Code::ALL {
        let severity = code.default_severity().word();
        out.push_str(&format!("{}  {:<width$}  {severity:<7}  {}\n", code.id(), code.name(), code.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_codes() {
        assert_eq!(suggest("unknwn-key"), Some((Code::UnknownKey, "unknown-key")));
        assert_eq!(suggest("host-paths").map(|(c, _)| c), Some(Code::HostPath));
        assert_eq!(suggest("K3O7"), Some((Code::Sudo, "K307")));
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
