//! The value syntaxes of Compose and Docker: Go durations (the one duration parser, used by
//! compose keys, Dockerfile HEALTHCHECK flags and `--timeout`), byte sizes with binary units,
//! CPU counts.

use std::time::Duration;

/// Go's `time.Duration` counts nanoseconds in an `i64`: longer durations do not exist in
/// Compose, and refusing them keeps every later sum and conversion from overflowing.
const MAX_DURATION_NANOS: f64 = 9_223_372_036_854_775_807.0;

/// Parses a duration as Compose accepts them: Go's syntax ([`parse_go_duration`]), or a bare
/// number taken as seconds, as Compose does for some keys; around spaces ignored. `None` for
/// anything malformed, negative, or longer than Go's longest duration (about 292 years).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return nanos(seconds * 1e9);
    }
    parse_go_duration(text).ok()
}

/// Why [`parse_go_duration`] refused a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Empty, a number missing or malformed, or longer than Go's longest duration.
    Invalid,
    /// A number without a unit, or with one Go does not know.
    Unit,
}

/// The one parser of Go's `time.ParseDuration` syntax, which both Docker (HEALTHCHECK flags)
/// and Compose use: `0`, or numbers (decimals allowed) each followed by a unit `ns`, `us`
/// (`µs`, `μs`), `ms`, `s`, `m` or `h` (`1m30s`, `1.5h`, `250ms`). Unlike Go, no sign: a
/// negative duration is never valid here. At most Go's longest duration.
pub fn parse_go_duration(text: &str) -> Result<Duration, DurationError> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(DurationError::Invalid);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| DurationError::Invalid)?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(DurationError::Unit),
        };
        total += number * nanos_per_unit;
        rest = &rest[unit_len..];
    }
    nanos(total).ok_or(DurationError::Invalid)
}

/// A count of nanoseconds as a duration, when it is one Go can hold.
fn nanos(total: f64) -> Option<Duration> {
    (total.is_finite() && (0.0..MAX_DURATION_NANOS).contains(&total))
        .then(|| Duration::from_nanos(total.round() as u64))
}

/// Prints a duration as Go's `time.Duration.String()` does (`1m30s`, `1.5s`, `500ms`),
/// the form `docker compose config` prints.
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000_000_000 {
        let (unit, scale) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", fraction(nanos, scale));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let seconds = fraction(nanos % 60_000_000_000, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `value / scale` with the fraction's trailing zeros removed.
fn fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Parses a byte size as Compose does (`512M`, `1g`, `512mb`, `1.5g`, `1024`): units are
/// binary (k = 1024), case-insensitive, with an optional `i` and `b` (`5Gi` as Kubernetes
/// writes it is 5 GiB, as the reference reads it too).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let number_len = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_len);
    let number: f64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "ki" | "kib" => 1 << 10,
        "m" | "mb" | "mi" | "mib" => 1 << 20,
        "g" | "gb" | "gi" | "gib" => 1 << 30,
        "t" | "tb" | "ti" | "tib" => 1 << 40,
        "p" | "pb" | "pi" | "pib" => 1 << 50,
        _ => return None,
    };
    let bytes = number * multiplier as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// CPUs as a number of cores (`0.5`, `"1.50"`, `2`).
pub fn parse_cpus(text: &str) -> Option<f64> {
    let cpus: f64 = text.trim().parse().ok()?;
    (cpus.is_finite() && cpus >= 0.0).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        let cases = [
            ("90s", "1m30s"),
            ("1m", "1m0s"),
            ("1h30m", "1h30m0s"),
            ("1500ms", "1.5s"),
            ("0.5s", "500ms"),
            ("0s", "0s"),
            ("10s", "10s"),
            ("2m30s", "2m30s"),
            ("120s", "2m0s"),
            ("1.25s", "1.25s"),
            ("100us", "100µs"),
        ];
        for (input, expected) in cases {
            assert_eq!(format_duration(parse_duration(input).unwrap()), expected, "{input}");
        }
    }

    #[test]
    fn bad_durations_are_rejected() {
        for bad in ["", "10x", "s", "-1s", "1.2.3s", "1e400"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_go_duration("2μs"), parse_go_duration("2µs"));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("5"), Err(DurationError::Unit));
        assert_eq!(parse_go_duration("10 s"), Err(DurationError::Unit));
        assert_eq!(parse_go_duration(""), Err(DurationError::Invalid));
        assert_eq!(parse_go_duration("s"), Err(DurationError::Invalid));
        assert_eq!(parse_go_duration("3000000h"), Err(DurationError::Invalid));
    }

    #[test]
    fn durations_longer_than_go_allows_are_rejected_not_a_panic() {
        // 1e20 seconds overflowed `Duration::from_secs_f64` (exit 101).
        for huge in ["1e20", "18446744073709551616", "1e19s", "3000000h", "NaN", "inf"] {
            assert_eq!(parse_duration(huge), None, "{huge}");
        }
        assert_eq!(parse_duration("2000000h"), Some(Duration::from_secs(2_000_000 * 3600)));
    }

    #[test]
    fn sizes_use_binary_units() {
        let cases = [
            ("512M", 536_870_912),
            ("1g", 1_073_741_824),
            ("512mb", 536_870_912),
            ("100kb", 102_400),
            ("1.5g", 1_610_612_736),
            ("1024", 1024),
            ("10m", 10_485_760),
            ("5Gi", 5 << 30),
            ("64Mi", 64 << 20),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_bytes(input), Some(expected), "{input}");
        }
        for bad in ["", "m", "12q", "-5m", "1..5g"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn cpus_parse() {
        assert_eq!(parse_cpus("0.5"), Some(0.5));
        assert_eq!(parse_cpus("1.50"), Some(1.5));
        assert_eq!(parse_cpus("-1"), None);
        assert_eq!(parse_cpus("lots"), None);
    }
}
