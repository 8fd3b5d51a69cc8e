//! The audit key: the HMAC key under which every event's chain hash is computed.
//!
//! Whoever holds the database credentials can insert rows and, as the tables' owner, even
//! rewrite them, but cannot compute a valid hash without this key, which lives only in the
//! application's configuration (`NURTURE_AUDIT_KEY`). Each event stores the version of the key
//! that signed it, so the key can be replaced: new events are signed with the current version,
//! and the verifier also holds the previous versions.
//!
//! The writer's keyring is installed once per process with [`install`], at startup. Audit events
//! are recorded from dozens of places in identity and records code, many of which have no
//! `Services` at hand, and the key never changes while a process runs, so it is kept like the
//! rest of the startup configuration instead of being passed through every call. Installing a
//! different current key later fails, and recording an event before [`install`] fails closed.
//! The verifier takes its keyring as an argument.

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;
use zeroize::Zeroize;

use super::AuditError;

/// One version of the audit key. `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey {
    version: u32,
    bytes: [u8; 32],
}

impl AuditKey {
    /// Creates a key; `version` must be 1 or more, because 0 marks events hashed without a key.
    pub fn new(version: u32, bytes: [u8; 32]) -> Result<Self, AuditError> {
        if version == 0 {
            return Err(AuditError::InvalidKeyVersion);
        }
        Ok(Self { version, bytes })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub(super) fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so a 32-byte key cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.bytes)
            .unwrap_or_else(|_| unreachable!("HMAC-SHA-256 takes keys of any length"))
    }
}

impl Drop for AuditKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey(version {}, redacted)", self.version)
    }
}

/// The current audit key, which signs new events, and older versions that only verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditKeyring {
    current: AuditKey,
    previous: Vec<AuditKey>,
}

impl AuditKeyring {
    pub fn new(current: AuditKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds an older key that verifies events signed before a key change.
    pub fn with_previous(mut self, key: AuditKey) -> Result<Self, AuditError> {
        if self.get(key.version).is_some() {
            return Err(AuditError::DuplicateKeyVersion {
                version: key.version,
            });
        }
        self.previous.push(key);
        Ok(self)
    }

    pub fn current(&self) -> &AuditKey {
        &self.current
    }

    /// Returns the key of `version`, if this keyring contains it.
    pub fn get(&self, version: u32) -> Option<&AuditKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.version == version)
    }
}

static INSTALLED: OnceLock<AuditKeyring> = OnceLock::new();

/// Installs the keyring whose current key signs every event this process records. Installing
/// the same current key again succeeds; a different one fails.
pub fn install(keyring: AuditKeyring) -> Result<(), AuditError> {
    let installed = INSTALLED.get_or_init(|| keyring.clone());
    if installed.current == keyring.current {
        Ok(())
    } else {
        Err(AuditError::KeyAlreadyInstalled)
    }
}

/// Returns the key that signs new events.
pub(super) fn signing_key() -> Result<&'static AuditKey, AuditError> {
    INSTALLED
        .get()
        .map(AuditKeyring::current)
        .ok_or(AuditError::NoKeyInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key() {
        let key = AuditKey::new(3, [7; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "AuditKey(version 3, redacted)");
    }

    #[test]
    fn version_zero_rejected() {
        assert!(matches!(
            AuditKey::new(0, [1; 32]),
            Err(AuditError::InvalidKeyVersion)
        ));
    }

    #[test]
    fn keyring_finds_each_version_once() {
        let keyring = AuditKeyring::new(AuditKey::new(2, [2; 32]).unwrap())
            .with_previous(AuditKey::new(1, [1; 32]).unwrap())
            .unwrap();
        assert_eq!(keyring.get(1).map(AuditKey::version), Some(1));
        assert_eq!(keyring.current().version(), 2);
        assert!(keyring.get(3).is_none());
        assert!(
            keyring
                .with_previous(AuditKey::new(2, [9; 32]).unwrap())
                .is_err()
        );
    }
}
