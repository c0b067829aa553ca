//! "Did you mean ...?": the one place that picks the known name closest to a mistyped one,
//! for compose keys, settings, references, Dockerfile keywords, stages and codes.

/// The candidate closest to `word`: within a few edits, case-insensitively (adjacent swaps
/// count as one edit, so `--form` finds `--from`), else the one most alike by Jaro-Winkler
/// above 0.8 (which finds `imgae` → `image` and `postgress` → `postgres`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Long inputs are never close to a short name; skip the quadratic work.
    if word.len() > 64 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let limit = (lower.chars().count() / 3).clamp(1, 3);
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let by_edits = candidates
        .iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    by_edits.or_else(|| {
        candidates
            .iter()
            .map(|c| (strsim::jaro_winkler(word, c), *c))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c)
    })
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn close_names_are_found_and_far_ones_are_not() {
        let keywords = ["RUN", "COPY", "ENTRYPOINT"];
        assert_eq!(closest("RUNN", keywords), Some("RUN"));
        assert_eq!(closest("entrypiont", keywords), Some("ENTRYPOINT"));
        assert_eq!(closest("xyzzy", keywords), None);
        assert_eq!(closest("--form", ["--from", "--chown"]), Some("--from"));
        assert_eq!(closest("environmnet", ["environment", "entrypoint"]), Some("environment"));
        assert_eq!(closest("postgress", ["postgres", "redis"]), Some("postgres"));
        assert_eq!(closest(&"x".repeat(100), ["x"]), None);
    }
}
