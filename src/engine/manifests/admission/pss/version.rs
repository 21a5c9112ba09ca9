//! Pod Security Admission policy versions (`admission.version`, a
//! namespace's `pod-security.kubernetes.io/enforce-version`).
//!
//! Spelled as PSA's `api.ParseVersion` accepts them: `latest` or `v1.N`
//! (`N` without leading zeros). PSA evaluates a version newer than its newest
//! versioned check with that newest check set (`checkRegistry.maxVersion`),
//! so every `v1.N` above [`LATEST_MINOR`] is `latest` here too.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The newest minor version any PSA check is registered for
/// (`check_sysctls.go`, v1.37): `latest` evaluates this version's checks.
pub const LATEST_MINOR: u32 = 37;

/// A PSA policy version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PsaVersion {
    /// `v1.N` (PSA reads N with Go's `Atoi`: up to 2^63-1).
    V1(u64),
    /// `latest`: the newest policy (PSA's default).
    #[default]
    Latest,
}

/// A version string PSA would not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a Pod Security version: must be \"latest\" or \"v1.x\" (for example v1.30), as PSA's enforce-version"
)]
pub struct VersionError(pub String);

impl PsaVersion {
    /// Parses `latest` or `v1.N` exactly as PSA's `ParseVersion`
    /// (`^v1\.([0-9]|[1-9][0-9]*)$`).
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        if s == "latest" {
            return Ok(PsaVersion::Latest);
        }
        let bad = || VersionError(s.to_owned());
        let digits = s.strip_prefix("v1.").ok_or_else(bad)?;
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !well_formed {
            return Err(bad());
        }
        // Digits only, so the one failure is overflow, where Go's 64-bit
        // `Atoi` fails too.
        match digits.parse::<i64>() {
            Ok(n) => Ok(PsaVersion::V1(n.unsigned_abs())),
            Err(_) => Err(bad()),
        }
    }

    /// The minor version whose checks apply: `latest` and anything newer
    /// than [`LATEST_MINOR`] evaluate as [`LATEST_MINOR`].
    pub fn minor(self) -> u32 {
        match self {
            PsaVersion::V1(n) => u32::try_from(n).map_or(LATEST_MINOR, |n| n.min(LATEST_MINOR)),
            PsaVersion::Latest => LATEST_MINOR,
        }
    }

    /// The same policy as `other` (`v1.40` and `latest` are one policy).
    pub fn same_policy(self, other: PsaVersion) -> bool {
        self.minor() == other.minor()
    }
}

impl fmt::Display for PsaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PsaVersion::V1(n) => write!(f, "v1.{n}"),
            PsaVersion::Latest => f.write_str("latest"),
        }
    }
}

impl Serialize for PsaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PsaVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PsaVersion::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_psa() {
        assert_eq!(PsaVersion::parse("latest"), Ok(PsaVersion::Latest));
        assert_eq!(PsaVersion::parse("v1.0"), Ok(PsaVersion::V1(0)));
        assert_eq!(PsaVersion::parse("v1.25"), Ok(PsaVersion::V1(25)));
        assert_eq!(PsaVersion::parse("v1.999"), Ok(PsaVersion::V1(999)));
        assert_eq!(
            PsaVersion::parse("v1.9223372036854775807"),
            Ok(PsaVersion::V1(i64::MAX as u64))
        );
        for bad in [
            "",
            "Latest",
            "1.25",
            "v1",
            "v1.",
            "v1.025",
            "v1.00",
            "v2.0",
            "v1.2.3",
            "v1.-1",
            "v1.+1",
            " v1.2",
            "v1.2 ",
            "v1.9223372036854775808",
        ] {
            assert!(PsaVersion::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn newer_than_known_is_latest() {
        assert_eq!(PsaVersion::V1(36).minor(), 36);
        assert_eq!(PsaVersion::V1(LATEST_MINOR.into()).minor(), LATEST_MINOR);
        assert_eq!(PsaVersion::V1(80).minor(), LATEST_MINOR);
        assert_eq!(
            PsaVersion::V1(u64::from(u32::MAX) + 1).minor(),
            LATEST_MINOR
        );
        assert!(PsaVersion::V1(80).same_policy(PsaVersion::Latest));
        assert!(!PsaVersion::V1(36).same_policy(PsaVersion::Latest));
        assert_eq!(PsaVersion::Latest.minor(), LATEST_MINOR);
    }

    #[test]
    fn displays_as_written() {
        assert_eq!(PsaVersion::V1(7).to_string(), "v1.7");
        assert_eq!(PsaVersion::Latest.to_string(), "latest");
    }
}
