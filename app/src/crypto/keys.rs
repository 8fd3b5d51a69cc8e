//! Data keys, wrapped data keys and decrypted plaintext.

use std::fmt;

use aes_gcm::Aes256Gcm;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::format::{cipher, open, seal};
use super::{CryptoError, FieldContext};

/// A patient's 256-bit data key with its expanded AES-256-GCM cipher, built once so that each
/// value does not pay for the key schedule. Both are cleared from memory when dropped, its
/// `Debug` output is redacted, and it is deliberately not serialisable: only its wrapped form is
/// stored.
#[derive(Clone)]
pub struct DataKey {
    bytes: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

// `Zeroizing` clears the key bytes, and aes-gcm's `zeroize` feature makes `Aes256Gcm` clear its
// key schedule and GHASH key on drop. The bound below fails to compile without that feature.
impl ZeroizeOnDrop for DataKey {}

const _: fn() = || {
    fn clears_on_drop<T: ZeroizeOnDrop>() {}
    clears_on_drop::<Aes256Gcm>();
};

impl DataKey {
    /// Draws a new random data key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(&mut *bytes);
        Self::from_zeroizing(bytes)
    }

    /// Builds a key from the bytes a key provider unwrapped.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::from_zeroizing(Zeroizing::new(bytes))
    }

    fn from_zeroizing(bytes: Zeroizing<[u8; 32]>) -> Self {
        let cipher = cipher(&bytes);
        Self { bytes, cipher }
    }

    /// Returns the raw key for a key provider to wrap. Never log or store it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Encrypts `plaintext` for `context` in the versioned ciphertext format.
    pub fn encrypt(
        &self,
        context: &FieldContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.cipher, &context.to_aad(), plaintext)
    }

    /// Decrypts a value encrypted for exactly `context` under this key.
    pub fn decrypt(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<Plaintext, CryptoError> {
        open(&self.cipher, &context.to_aad(), ciphertext)
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
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    /// Returns the decrypted bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub(super) fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
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
        Self(bytes)
    }
}

impl Drop for Plaintext {
    // zeroize 1.9 clears a `Vec<u8>` one volatile byte write at a time, which costs about as much
    // as decrypting the value. A byte slice and its spare capacity are cleared with one memset
    // and an optimization barrier, which covers the same memory.
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.spare_capacity_mut().zeroize();
    }
}

impl ZeroizeOnDrop for Plaintext {}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext({} bytes, redacted)", self.0.len())
    }
}
