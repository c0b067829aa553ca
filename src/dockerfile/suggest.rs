//! "Did you mean ...?" suggestions by edit distance.

/// The closest candidate within a small edit distance, compared case-insensitively.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    // Long inputs are never close to a short keyword; skip the quadratic work.
    if word.len() > 64 {
        return None;
    }
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting an adjacent swap as one edit (optimal string alignment), so
/// `--form` still finds `--from`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    // Row-major (a.len() + 1) x (b.len() + 1) table; inputs are capped at 64 chars.
    let mut table = vec![0usize; (a.len() + 1) * width];
    let cell = |table: &[usize], i: usize, j: usize| table.get(i * width + j).copied().unwrap_or(usize::MAX / 2);
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            let value = if i == 0 || j == 0 {
                i + j
            } else {
                let same = a.get(i - 1) == b.get(j - 1);
                let mut best = (cell(&table, i - 1, j) + 1)
                    .min(cell(&table, i, j - 1) + 1)
                    .min(cell(&table, i - 1, j - 1) + usize::from(!same));
                let swapped = i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1);
                if swapped {
                    best = best.min(cell(&table, i - 2, j - 2) + 1);
                }
                best
            };
            if let Some(slot) = table.get_mut(i * width + j) {
                *slot = value;
            }
        }
    }
    cell(&table, a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("runn", "run"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("form", "from"), 1);
    }

    #[test]
    fn suggestions() {
        let keywords = ["RUN", "COPY", "ENTRYPOINT"];
        assert_eq!(closest("RUNN", keywords), Some("RUN"));
        assert_eq!(closest("entrypiont", keywords), Some("ENTRYPOINT"));
        assert_eq!(closest("xyzzy", keywords), None);
    }
}
