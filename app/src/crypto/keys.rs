//! Data keys, wrapped data keys and decrypted plaintext.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::format::{open, seal};
use super::{CryptoError, FieldContext};

/// A patient's 256-bit data key. It is cleared from memory when dropped, its `Debug` output is
/// redacted, and it is deliberately not serialisable: only its wrapped form is stored.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// Draws a new random data key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// Builds a key from the bytes a key provider unwrapped.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Returns the raw key for a key provider to wrap. Never log or store it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext` for `context` in the versioned ciphertext format.
    pub fn encrypt(
        &self,
        context: &FieldContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.0, &context.to_aad(), plaintext)
    }

    /// Decrypts a value encrypted for exactly `context` under this key.
    pub fn decrypt(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<Plaintext, CryptoError> {
        open(&self.0, &context.to_aad(), ciphertext).map(Plaintext)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

/// A data key encrypted under a key-encryption key, as stored in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    /// Version of the key-encryption key that wrapped it.
    pub kek_version: u32,
    /// The wrapped key in the versioned ciphertext format (61 bytes).
    pub bytes: Vec<u8>,
}

/// Decrypted data, cleared from memory when dropped. Its `Debug` output shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    /// Returns the decrypted bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Plaintext {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext({} bytes, redacted)", self.0.len())
    }
}
