//! Errors of the crypto module. None of them carries key bytes or plaintext.

/// A failure to encrypt, decrypt, wrap or unwrap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The tag did not verify: the ciphertext was altered, the key is wrong, or it was decrypted
    /// under a different context (row, column, patient or key version) than it was encrypted for.
    #[error(
        "decryption failed: the ciphertext is corrupt or was decrypted with the wrong key or context"
    )]
    Authentication,
    /// The input is too short or otherwise not in the ciphertext format.
    #[error("malformed ciphertext: {reason}")]
    Malformed { reason: &'static str },
    /// The ciphertext starts with a format version this build cannot read.
    #[error("unsupported ciphertext format version {version}")]
    UnsupportedFormat { version: u8 },
    /// No key-encryption key with this version is configured.
    #[error("unknown key-encryption key version {version}")]
    UnknownKekVersion { version: u32 },
    /// Two key-encryption keys were configured with the same version.
    #[error("key-encryption key version {version} is configured twice")]
    DuplicateKekVersion { version: u32 },
    /// The plaintext exceeds the AES-GCM limit of about 64 GiB per message.
    #[error("plaintext of {len} bytes is too long to encrypt")]
    PlaintextTooLong { len: usize },
    /// A remote key provider failed; the message must describe the failure without key material.
    #[error("key provider failed: {0}")]
    Provider(String),
}
