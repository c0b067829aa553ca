//! The one parser of the `PORT[-PORT][/PROTOCOL]` syntax, shared by compose `expose`, the
//! host and container parts of compose's short `ports` (`load/canonical/ports.rs`) and
//! Dockerfile `EXPOSE` (`dockerfile/views.rs`).
//!
//! The syntax is the same; what differs is given by the caller:
//! - the lowest port: Compose refuses port 0 (`1-65535`), Docker's EXPOSE takes `0`;
//! - the protocol: [`Spec::protocol`] is returned as written; Compose lowercases it and
//!   refuses an unknown one, while kompile's Dockerfile checks report an unknown or uppercase
//!   protocol with their own codes, so each caller checks it with [`is_protocol`];
//! - the words of an error: each caller writes its message from an [`Error`], since the
//!   compose and Dockerfile diagnostics are worded differently.

use std::ops::RangeInclusive;

/// The protocols Compose and Docker know, lowercase.
/// The nodePorts a cluster allocates from by default (`--service-node-port-range`).
pub const NODE_PORTS: RangeInclusive<u16> = 30000..=32767;

pub const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];

/// Whether `protocol` (lowercase it first) is one of [`PROTOCOLS`].
pub fn is_protocol(protocol: &str) -> bool {
    PROTOCOLS.contains(&protocol)
}

/// A parsed `PORT[-PORT][/PROTOCOL]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec<'a> {
    pub start: u16,
    pub end: u16,
    /// As written, without the `/`; `None` when there is no `/`.
    pub protocol: Option<&'a str>,
}

impl Spec<'_> {
    pub fn ports(&self) -> RangeInclusive<u16> {
        self.start..=self.end
    }
}

/// What is wrong with a port or range, with the part of the text at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A port number is empty (`""`, `80-`).
    Missing,
    /// Not only ASCII digits.
    NotANumber(String),
    /// Digits, but below the lowest port the caller allows or above 65535.
    OutOfRange(String),
    /// A range whose end is below its start (`90-80`), as written.
    Backwards(String),
}

impl Error {
    /// The part of the text at fault: a port number, or the range for [`Error::Backwards`].
    pub fn part(&self) -> &str {
        match self {
            Error::Missing => "",
            Error::NotANumber(part) | Error::OutOfRange(part) | Error::Backwards(part) => part,
        }
    }
}

/// `PORT[-PORT][/PROTOCOL]`, split at the first `/`; every port from `lowest` to 65535.
pub fn spec(text: &str, lowest: u16) -> Result<Spec<'_>, Error> {
    let (ports, protocol) = match text.split_once('/') {
        Some((ports, protocol)) => (ports, Some(protocol)),
        None => (text, None),
    };
    let ports = range(ports, lowest)?;
    Ok(Spec { start: *ports.start(), end: *ports.end(), protocol })
}

/// `80` or `9000-9002`; every port from `lowest` to 65535.
pub fn range(text: &str, lowest: u16) -> Result<RangeInclusive<u16>, Error> {
    let (start, end) = match text.split_once('-') {
        Some((start, end)) => (number(start, lowest)?, number(end, lowest)?),
        None => {
            let port = number(text, lowest)?;
            (port, port)
        }
    };
    if end < start {
        return Err(Error::Backwards(text.to_string()));
    }
    Ok(start..=end)
}

/// One port number: ASCII digits only (no sign), from `lowest` to 65535.
pub fn number(text: &str, lowest: u16) -> Result<u16, Error> {
    if text.is_empty() {
        return Err(Error::Missing);
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::NotANumber(text.to_string()));
    }
    match text.parse::<u32>() {
        Ok(n) if (u32::from(lowest)..=65535).contains(&n) => Ok(n as u16),
        _ => Err(Error::OutOfRange(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(spec("80", 1), Ok(Spec { start: 80, end: 80, protocol: None }));
        assert_eq!(spec("8000-8010/TCP", 1), Ok(Spec { start: 8000, end: 8010, protocol: Some("TCP") }));
        assert_eq!(spec("0", 0).map(|s| s.ports()), Ok(0..=0));
        assert_eq!(spec("0", 1), Err(Error::OutOfRange("0".into())));
        assert_eq!(spec("70000", 0), Err(Error::OutOfRange("70000".into())));
        assert_eq!(spec("+80", 0), Err(Error::NotANumber("+80".into())));
        assert_eq!(spec("90-80/udp", 1), Err(Error::Backwards("90-80".into())));
        assert_eq!(spec("80-", 1), Err(Error::Missing));
        assert!(is_protocol("sctp") && !is_protocol("TCP"));
    }
}
