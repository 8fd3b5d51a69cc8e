//! Key providers: wrap and unwrap data keys under a key-encryption key (KEK).
//!
//! A wrapped data key is sealed in the ciphertext format. Its AAD is the label
//! `nurture.data-key.v1`, the patient id and the KEK version, each length-prefixed, so a wrapped
//! key moved to another patient or relabelled with another KEK version fails to unwrap.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::Aes256Gcm;
use async_trait::async_trait;

use super::format::{cipher, open, push_field, seal};
use super::{CryptoError, DataKey, WrappedDataKey};
use crate::ids::PatientId;

/// Wraps and unwraps data keys. It is asynchronous so that a cloud KMS can implement it.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// Version of the KEK that wraps new data keys.
    fn current_kek_version(&self) -> u32;

    /// Wraps `data_key` for `patient_id` under the current KEK.
    async fn wrap(
        &self,
        patient_id: PatientId,
        data_key: &DataKey,
    ) -> Result<WrappedDataKey, CryptoError>;

    /// Unwraps a data key wrapped for `patient_id` under any KEK version the provider holds.
    async fn unwrap(
        &self,
        patient_id: PatientId,
        wrapped: &WrappedDataKey,
    ) -> Result<DataKey, CryptoError>;

    /// Generates a data key for a new patient, returning it with its wrapped form.
    async fn new_data_key(
        &self,
        patient_id: PatientId,
    ) -> Result<(DataKey, WrappedDataKey), CryptoError> {
        let data_key = DataKey::generate();
        let wrapped = self.wrap(patient_id, &data_key).await?;
        Ok((data_key, wrapped))
    }

    /// Rewraps a data key under the current KEK during rotation; a key already wrapped under the
    /// current KEK is returned unchanged.
    async fn rewrap(
        &self,
        patient_id: PatientId,
        wrapped: &WrappedDataKey,
    ) -> Result<WrappedDataKey, CryptoError> {
        if wrapped.kek_version == self.current_kek_version() {
            return Ok(wrapped.clone());
        }
        let data_key = self.unwrap(patient_id, wrapped).await?;
        self.wrap(patient_id, &data_key).await
    }
}

/// Encodes the AAD of a wrapped data key.
pub fn wrap_aad(patient_id: PatientId, kek_version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48);
    push_field(&mut aad, b"nurture.data-key.v1");
    push_field(&mut aad, patient_id.0.as_bytes());
    push_field(&mut aad, &kek_version.to_be_bytes());
    aad
}

/// A key provider holding the KEKs in process memory: the current one and, during rotation,
/// older versions that still unwrap keys not yet rewrapped. Each KEK is kept only as its
/// expanded AES-256-GCM cipher, which is cleared when dropped.
pub struct LocalKeyProvider {
    current_version: u32,
    keys: BTreeMap<u32, Aes256Gcm>,
}

impl LocalKeyProvider {
    /// Creates a provider whose current KEK is `key` with version `version`.
    pub fn new(version: u32, key: &[u8; 32]) -> Self {
        Self {
            current_version: version,
            keys: BTreeMap::from([(version, cipher(key))]),
        }
    }

    /// Adds an older KEK that is used only to unwrap.
    pub fn with_previous(mut self, version: u32, key: &[u8; 32]) -> Result<Self, CryptoError> {
        if self.keys.contains_key(&version) {
            return Err(CryptoError::DuplicateKekVersion { version });
        }
        self.keys.insert(version, cipher(key));
        Ok(self)
    }

    fn key(&self, version: u32) -> Result<&Aes256Gcm, CryptoError> {
        self.keys
            .get(&version)
            .ok_or(CryptoError::UnknownKekVersion { version })
    }
}

impl fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyProvider")
            .field("current_version", &self.current_version)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for LocalKeyProvider {
    fn current_kek_version(&self) -> u32 {
        self.current_version
    }

    async fn wrap(
        &self,
        patient_id: PatientId,
        data_key: &DataKey,
    ) -> Result<WrappedDataKey, CryptoError> {
        let version = self.current_version;
        let bytes = seal(
            self.key(version)?,
            &wrap_aad(patient_id, version),
            data_key.expose(),
        )?;
        Ok(WrappedDataKey {
            kek_version: version,
            bytes,
        })
    }

    async fn unwrap(
        &self,
        patient_id: PatientId,
        wrapped: &WrappedDataKey,
    ) -> Result<DataKey, CryptoError> {
        let version = wrapped.kek_version;
        let key = open(
            self.key(version)?,
            &wrap_aad(patient_id, version),
            &wrapped.bytes,
        )?;
        let bytes: [u8; 32] = key
            .expose()
            .try_into()
            .map_err(|_| CryptoError::Malformed {
                reason: "the unwrapped data key is not 32 bytes",
            })?;
        Ok(DataKey::from_bytes(bytes))
    }
}
