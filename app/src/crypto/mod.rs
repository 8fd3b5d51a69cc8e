//! Envelope encryption of patient data.
//!
//! Each patient has a random 256-bit [`DataKey`]. The database stores it only wrapped by a
//! key-encryption key (KEK), through a [`KeyProvider`], as a [`WrappedDataKey`] that names the
//! KEK version. Each value is encrypted with AES-256-GCM under the patient's data key, with a
//! fresh random 96-bit nonce, and its additional authenticated data (AAD) is built from a
//! [`FieldContext`]: table, column, row id, patient id, data class and data-key version. A
//! ciphertext copied to another row, column or patient therefore fails to decrypt.
//!
//! # Ciphertext format, version 1
//!
//! ```text
//! format version (1 byte, 0x01) || nonce (12 bytes) || ciphertext || tag (16 bytes)
//! ```
//!
//! The shortest valid value is 29 bytes (an empty plaintext). Wrapped data keys use the same
//! format with the KEK as key, so they are 61 bytes long.
//!
//! # AAD encoding
//!
//! The AAD is a sequence of fields, each written as its length (4 bytes, big-endian) followed by
//! its bytes, so that no two different contexts encode to the same bytes. The first field is a
//! label naming the purpose and format version (`nurture.field.v1` for values,
//! `nurture.data-key.v1` for wrapped data keys). Ids are their 16 UUID bytes and versions are
//! 4-byte big-endian integers. See [`FieldContext`] and [`provider`] for the field order.
//!
//! Nonces and keys come from `rand` 0.10's thread-local generator, ChaCha12 seeded from the
//! operating system and reseeded after every 64 kB of output. With random nonces, NIST SP 800-38D
//! allows at most 2^32 encryptions under one key (as quoted in the `aead` 0.6 crate docs). That
//! is far above the values of one patient's record, or the data keys one KEK wraps.

mod context;
mod error;
mod format;
mod keys;
pub mod provider;

pub use context::{DataClass, FieldContext};
pub use error::CryptoError;
pub use format::{FORMAT_VERSION, MIN_CIPHERTEXT_LEN};
pub use keys::{DataKey, Plaintext, WrappedDataKey};
pub use provider::{KeyProvider, LocalKeyProvider};
