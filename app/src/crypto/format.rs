//! The versioned ciphertext format and the AES-256-GCM primitive under it.

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};

use super::{CryptoError, Plaintext};

/// Format version written as the first byte of every ciphertext.
pub const FORMAT_VERSION: u8 = 1;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Length of the encryption of an empty plaintext, the shortest valid ciphertext.
pub const MIN_CIPHERTEXT_LEN: usize = HEADER_LEN + TAG_LEN;

/// Expands `key` into an AES-256-GCM cipher: the AES key schedule and the GHASH key. The
/// workspace enables aes-gcm's `zeroize` feature, so both are cleared when the cipher is dropped.
pub(super) fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key))
}

/// Encrypts `plaintext` with `cipher` and a fresh random nonce, returning the versioned format.
pub(super) fn seal(
    cipher: &Aes256Gcm,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);

    // The capacity is exact, so the vector never reallocates and leaves no plaintext copy behind.
    let mut sealed = Vec::with_capacity(MIN_CIPHERTEXT_LEN + plaintext.len());
    sealed.push(FORMAT_VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(plaintext);

    let tag = cipher
        .encrypt_inout_detached(
            &Nonce::from(nonce),
            aad,
            InOutBuf::from(&mut sealed[HEADER_LEN..]),
        )
        .map_err(|_| CryptoError::PlaintextTooLong {
            len: plaintext.len(),
        })?;
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// Checks the format of `sealed` and decrypts it with `cipher`. The body is copied once into
/// the returned buffer and decrypted there, and the buffer is cleared when dropped.
pub(super) fn open(
    cipher: &Aes256Gcm,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Plaintext, CryptoError> {
    let Some(&version) = sealed.first() else {
        return Err(CryptoError::Malformed {
            reason: "the input is empty",
        });
    };
    if version != FORMAT_VERSION {
        return Err(CryptoError::UnsupportedFormat { version });
    }
    if sealed.len() < MIN_CIPHERTEXT_LEN {
        return Err(CryptoError::Malformed {
            reason: "the input is shorter than a nonce and a tag",
        });
    }

    let (header, rest) = sealed.split_at(HEADER_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = header[1..].try_into().map_err(|_| CryptoError::Malformed {
        reason: "the nonce has the wrong length",
    })?;
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| CryptoError::Malformed {
        reason: "the tag has the wrong length",
    })?;

    // aes-gcm checks the tag before it decrypts, so on failure the buffer still contains ciphertext.
    let mut buffer = Plaintext::from(body.to_vec());
    cipher
        .decrypt_inout_detached(
            &Nonce::from(nonce),
            aad,
            InOutBuf::from(buffer.expose_mut()),
            &Tag::from(tag),
        )
        .map_err(|_| CryptoError::Authentication)?;
    Ok(buffer)
}

/// Appends `field` to `out` as its 4-byte big-endian length followed by its bytes.
pub(super) fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    // Table and column names, labels and ids are far below 4 GiB.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}
