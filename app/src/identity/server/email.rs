//! Email normalisation and the keyed blind index used to find an account by email.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

/// Key of the HMAC that turns normalised emails and names into blind indexes.
#[derive(Clone)]
pub struct BlindIndexKey([u8; 32]);

impl BlindIndexKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HMAC-SHA-256 of `purpose` and `value`; the purpose keeps indexes of different fields
    /// apart, so an email index never equals a name index.
    pub fn index(&self, purpose: &str, value: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(&(purpose.len() as u32).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexKey(redacted)")
    }
}

/// Checks and normalises an email address: trimmed, Unicode NFC, lower case.
pub fn normalize_email(email: &str) -> Result<String, &'static str> {
    let email: String = email.trim().nfc().collect::<String>().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("Enter an email address such as name@example.org.");
    };
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err("Enter an email address such as name@example.org.")
    }
}

/// Blind index of an email address, after normalisation.
pub fn email_index(key: &BlindIndexKey, normalized_email: &str) -> Vec<u8> {
    key.index("email", normalized_email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_and_spaces() {
        assert_eq!(
            normalize_email("  Ana.Midwife@Example.ORG ").unwrap(),
            "ana.midwife@example.org"
        );
    }

    #[test]
    fn invalid_emails_rejected() {
        for email in [
            "",
            "no-at-sign",
            "@example.org",
            "a@example",
            "a@.org",
            "a b@example.org",
        ] {
            assert!(normalize_email(email).is_err(), "{email:?}");
        }
    }

    #[test]
    fn index_depends_on_key_and_purpose() {
        let first = BlindIndexKey::new([1; 32]);
        let second = BlindIndexKey::new([2; 32]);
        assert_eq!(
            email_index(&first, "a@b.org"),
            email_index(&first, "a@b.org")
        );
        assert_ne!(
            email_index(&first, "a@b.org"),
            email_index(&second, "a@b.org")
        );
        assert_ne!(first.index("email", "x"), first.index("name", "x"));
    }
}
