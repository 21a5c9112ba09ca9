//! `X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body, keyed by
//! the webhook secret, compared in constant time (`Mac::verify_slice`).
//! Runs before anything looks at the payload, so an unauthenticated sender
//! cannot reach the JSON decoder.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Why a delivery was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// Not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    /// Well-formed but matches none of the configured secrets.
    #[error("signature does not match")]
    Mismatch,
}

/// Verifies `header` (the `X-Hub-Signature-256` value) against `body` with
/// each secret in turn (several during a rotation). Every secret is tried
/// even after a match is impossible to tell apart by timing: the loop does
/// not short-circuit on the secret's content, only on success.
pub fn verify_signature(
    secrets: &[SecretString],
    body: &[u8],
    header: Option<&[u8]>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_sig = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_sig.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_sig, &mut expected).map_err(|_| SignatureError::Malformed)?;
    let mut ok = false;
    for secret in secrets {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_bytes(secret))
            .expect("HMAC accepts keys of any length");
        mac.update(body);
        ok |= mac.verify_slice(&expected).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Computes the header value GitHub would send (`sha256=<hex>`); used by
/// tests and the load benchmark to sign deliveries.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Splits a comma-separated secret list, dropping empty entries and
/// surrounding whitespace (a trailing newline from a mounted file is common).
pub fn parse_secrets(list: &str) -> Vec<SecretString> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect()
}

/// Exposes a secret's bytes for HMAC keys; kept here so call sites that
/// touch secret material are easy to find.
pub fn secret_bytes(s: &SecretString) -> &[u8] {
    s.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &str) -> Vec<SecretString> {
        parse_secrets(list)
    }

    /// GitHub's documented test vector
    /// (docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
    const VECTOR_SECRET: &str = "It's a Secret to Everybody";
    const VECTOR_SIG: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_documented_vector() {
        assert_eq!(sign(VECTOR_SECRET.as_bytes(), b"Hello, World!"), VECTOR_SIG);
        assert_eq!(
            verify_signature(
                &secrets(VECTOR_SECRET),
                b"Hello, World!",
                Some(VECTOR_SIG.as_bytes())
            ),
            Ok(())
        );
    }

    #[test]
    fn tampered_body_or_wrong_secret_rejected() {
        let s = secrets(VECTOR_SECRET);
        assert_eq!(
            verify_signature(&s, b"Hello, World?", Some(VECTOR_SIG.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(
                &secrets("other"),
                b"Hello, World!",
                Some(VECTOR_SIG.as_bytes())
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_any_configured_secret() {
        let s = secrets(&format!("new-secret,{VECTOR_SECRET}"));
        assert!(verify_signature(&s, b"Hello, World!", Some(VECTOR_SIG.as_bytes())).is_ok());
        let sig = sign(b"new-secret", b"x");
        assert!(verify_signature(&s, b"x", Some(sig.as_bytes())).is_ok());
    }

    #[test]
    fn missing_and_malformed_headers() {
        let s = secrets("k");
        assert_eq!(
            verify_signature(&s, b"", None),
            Err(SignatureError::Missing)
        );
        for bad in [
            "",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=",
            "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1700",
        ] {
            assert_eq!(
                verify_signature(&s, b"Hello, World!", Some(bad.as_bytes())),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
