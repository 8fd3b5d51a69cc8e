//! Parts shared by every record operation: the caller's context, the keys, the patient's data
//! key and the audit event.

use std::cell::RefCell;
use std::future::Future;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RecordsError;
use super::schema::patients;
use crate::audit::{
    AccessAction, AccessOutcome, ClientInfo, NewAccessEvent, record_in_transaction,
};
use crate::crypto::{DataClass, DataKey, FieldContext, KeyProvider, WrappedDataKey};
use crate::identity::Role;
use crate::identity::server::email::BlindIndexKey;
use crate::ids::{ClinicId, PatientId, UserId};
use crate::services::Services;

/// Maximum length of a purpose, in characters, that the audit trail stores.
const MAX_PURPOSE_CHARS: usize = 500;

/// Context of an access to patient data: the actor and her roles, the clinic, the purpose and
/// the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessContext {
    pub actor: UserId,
    pub actor_roles: Vec<Role>,
    pub clinic_id: ClinicId,
    /// Reason for the access, such as "postnatal visit"; 1 to 500 characters.
    pub purpose: String,
    /// Whether break-glass emergency access applies.
    pub emergency: bool,
    pub client: ClientInfo,
}

/// The keys that record operations use: the provider that unwraps data keys and the key of the
/// blind indexes.
#[derive(Clone, Copy)]
pub struct RecordKeys<'a> {
    pub provider: &'a dyn KeyProvider,
    pub blind_index: &'a BlindIndexKey,
}

impl<'a> RecordKeys<'a> {
    pub fn from_services(services: &'a Services) -> Self {
        Self {
            provider: services.keys.as_ref(),
            blind_index: &services.blind_index,
        }
    }
}

impl AccessContext {
    /// Rejects a purpose that the audit trail would not store, before any work is done.
    pub(super) fn validate(&self) -> Result<(), RecordsError> {
        validate_purpose(&self.purpose)
    }
}

/// Rejects a purpose that is empty or longer than the audit trail stores.
pub fn validate_purpose(purpose: &str) -> Result<(), RecordsError> {
    let length = purpose.trim().chars().count();
    if length == 0 || length > MAX_PURPOSE_CHARS {
        return Err(RecordsError::InvalidInput(format!(
            "the purpose must be 1 to {MAX_PURPOSE_CHARS} characters"
        )));
    }
    Ok(())
}

/// Records the access in the audit trail. Call it inside the operation's transaction, after the
/// data was read or written, so that the two commit or roll back together. The functions that
/// take an [`crate::access::Authorization`] were allowed by the policy; denials are recorded by
/// [`crate::access::guard::authorize`] itself.
pub(super) async fn record(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
    action: AccessAction,
    data_elements: Vec<String>,
) -> Result<(), RecordsError> {
    let event = NewAccessEvent {
        clinic_id: access.clinic_id,
        actor_user_id: Some(access.actor),
        actor_roles: access
            .actor_roles
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        patient_id: Some(patient_id),
        action,
        purpose: access.purpose.trim().to_owned(),
        data_elements,
        outcome: AccessOutcome::Allowed,
        emergency: access.emergency,
        client: access.client.clone(),
    };
    record_in_transaction(conn, event).await?;
    Ok(())
}

/// A patient's unwrapped data key with the ids that every field context of hers names.
#[derive(Clone)]
pub(super) struct PatientKey {
    pub patient_id: PatientId,
    pub version: u32,
    key: DataKey,
}

impl PatientKey {
    pub fn new(patient_id: PatientId, version: u32, key: DataKey) -> Self {
        Self {
            patient_id,
            version,
            key,
        }
    }

    pub fn context(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: uuid::Uuid,
        data_class: DataClass,
    ) -> FieldContext {
        FieldContext {
            table,
            column,
            row_id,
            patient_id: self.patient_id,
            data_class,
            data_key_version: self.version,
        }
    }

    pub fn encrypt(
        &self,
        context: &FieldContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RecordsError> {
        Ok(self.key.encrypt(context, plaintext)?)
    }

    /// Encrypts `value` as JSON.
    pub fn encrypt_json<T: Serialize>(
        &self,
        context: &FieldContext,
        value: &T,
    ) -> Result<Vec<u8>, RecordsError> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|_| {
            RecordsError::InvalidInput(format!("{} cannot be encoded as JSON", context.column))
        })?);
        self.encrypt(context, &json)
    }

    /// Decrypts a value stored under `context`. The row's data-key version must match the key.
    pub fn decrypt(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<crate::crypto::Plaintext, RecordsError> {
        self.key
            .decrypt(context, ciphertext)
            .map_err(|source| RecordsError::Decryption {
                table: context.table,
                column: context.column,
                row_id: context.row_id,
                source,
            })
    }

    /// Decrypts a UTF-8 text value.
    pub fn decrypt_text(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<String, RecordsError> {
        let plaintext = self.decrypt(context, ciphertext)?;
        String::from_utf8(plaintext.expose().to_vec()).map_err(|_| corrupt(context))
    }

    /// Decrypts a JSON value.
    pub fn decrypt_json<T: DeserializeOwned>(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<T, RecordsError> {
        let plaintext = self.decrypt(context, ciphertext)?;
        serde_json::from_slice(plaintext.expose()).map_err(|_| corrupt(context))
    }
}

fn corrupt(context: &FieldContext) -> RecordsError {
    RecordsError::CorruptValue {
        table: context.table,
        column: context.column,
        row_id: context.row_id,
    }
}

/// Loads and unwraps the data key of a patient of `clinic_id`. Fails with
/// [`RecordsError::NotFound`] for a patient of another clinic and [`RecordsError::Erased`] once
/// her key is destroyed. Inside [`remembering_keys`] each patient's key is loaded once.
pub(super) async fn patient_key(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> Result<PatientKey, RecordsError> {
    if let Some(key) = remembered_key(clinic_id, patient_id) {
        return Ok(key);
    }
    let row: Option<WrappedKeyRow> = patients::table
        .find((clinic_id.0, patient_id.0))
        .select(WRAPPED_KEY_COLUMNS)
        .first(conn)
        .await
        .optional()?;
    let Some(wrapped_key) = row else {
        return Err(RecordsError::NotFound);
    };
    unwrap_and_remember(provider, clinic_id, patient_id, wrapped_key).await
}

/// The columns of `patients` that contain a patient's wrapped data key.
pub(super) const WRAPPED_KEY_COLUMNS: (
    patients::data_key_wrapped,
    patients::data_key_kek_version,
    patients::data_key_version,
) = (
    patients::data_key_wrapped,
    patients::data_key_kek_version,
    patients::data_key_version,
);

/// A patient's wrapped data key as read from [`WRAPPED_KEY_COLUMNS`]: the wrapped bytes and
/// the KEK version (both missing once the key is destroyed), and the data-key version.
pub(super) type WrappedKeyRow = (Option<Vec<u8>>, Option<i32>, i32);

/// Returns the data key of a patient of `clinic_id` from the [`WRAPPED_KEY_COLUMNS`] read with
/// her row, which saves the separate lookup of [`patient_key`]. Inside [`remembering_keys`] a
/// key unwrapped earlier is used instead, and this one is kept for later reads.
pub(super) async fn patient_key_of_row(
    provider: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
    wrapped_key: WrappedKeyRow,
) -> Result<PatientKey, RecordsError> {
    if let Some(key) = remembered_key(clinic_id, patient_id) {
        return Ok(key);
    }
    unwrap_and_remember(provider, clinic_id, patient_id, wrapped_key).await
}

/// Unwraps a patient's data key and keeps it for later reads inside [`remembering_keys`].
async fn unwrap_and_remember(
    provider: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
    (wrapped, kek_version, version): WrappedKeyRow,
) -> Result<PatientKey, RecordsError> {
    let key = unwrap_patient_key(provider, patient_id, wrapped, kek_version, version).await?;
    let _ = REMEMBERED_KEYS.try_with(|keys| keys.borrow_mut().push((clinic_id, key.clone())));
    Ok(key)
}

/// Returns the clinic and the patient of read scopes that one query reads together, or `None`
/// when there are none. Fails unless they are all of one patient, and `records` names what is
/// read in the message.
pub(super) fn one_patient(
    scopes: &[(&AccessContext, PatientId, AccessAction)],
    records: &str,
) -> Result<Option<(ClinicId, PatientId)>, RecordsError> {
    let Some(&(first, patient_id, _)) = scopes.first() else {
        return Ok(None);
    };
    if scopes
        .iter()
        .any(|(access, patient, _)| *patient != patient_id || access.clinic_id != first.clinic_id)
    {
        return Err(RecordsError::InvalidInput(format!(
            "{records} are listed for one patient at a time"
        )));
    }
    Ok(Some((first.clinic_id, patient_id)))
}

/// Returns the patient's data key when it was unwrapped earlier inside [`remembering_keys`].
fn remembered_key(clinic_id: ClinicId, patient_id: PatientId) -> Option<PatientKey> {
    REMEMBERED_KEYS
        .try_with(|keys| {
            keys.borrow()
                .iter()
                .find(|(clinic, key)| *clinic == clinic_id && key.patient_id == patient_id)
                .map(|(_, key)| key.clone())
        })
        .ok()
        .flatten()
}

tokio::task_local! {
    /// The data keys unwrapped inside [`remembering_keys`], with their patients' clinics.
    static REMEMBERED_KEYS: RefCell<Vec<(ClinicId, PatientKey)>>;
}

/// Runs `work`, unwrapping each patient's data key at most once in it, for a request that reads
/// many parts of one record, such as the chart. The keys are dropped when `work` ends.
/// NOTE: nothing checks that `work` does not rotate or erase a key it has used, which would leave
/// a stale copy here. Only the chart and the portal home use it, and both only read.
pub async fn remembering_keys<F: Future>(work: F) -> F::Output {
    REMEMBERED_KEYS.scope(RefCell::new(Vec::new()), work).await
}

/// Unwraps a patient's data key from the columns of her `patients` row. Fails with
/// [`RecordsError::Erased`] once the wrapped key is destroyed.
pub(super) async fn unwrap_patient_key(
    provider: &dyn KeyProvider,
    patient_id: PatientId,
    wrapped: Option<Vec<u8>>,
    kek_version: Option<i32>,
    version: i32,
) -> Result<PatientKey, RecordsError> {
    let (Some(bytes), Some(kek_version)) = (wrapped, kek_version) else {
        return Err(RecordsError::Erased);
    };

    let wrapped = WrappedDataKey {
        kek_version: version_from_db(kek_version),
        bytes,
    };
    let key = provider.unwrap(patient_id, &wrapped).await?;
    Ok(PatientKey::new(patient_id, version_from_db(version), key))
}

/// Converts a version stored as `integer`; the columns' CHECK constraints keep them positive.
pub(super) fn version_from_db(version: i32) -> u32 {
    u32::try_from(version).unwrap_or(0)
}

/// Converts a version for an `integer` column.
pub(super) fn version_to_db(version: u32) -> Result<i32, RecordsError> {
    i32::try_from(version)
        .map_err(|_| RecordsError::InvalidInput(format!("key version {version} is too large")))
}

/// Fails unless the patient exists in `clinic_id` and is not erased, for operations on records
/// that hold nothing encrypted.
pub(super) async fn ensure_active_patient(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> Result<(), RecordsError> {
    // A data key unwrapped earlier in the same request shows that the patient existed and was
    // not erased then: the table's CHECK ties `erased_at` to the destroyed key.
    if remembered_key(clinic_id, patient_id).is_some() {
        return Ok(());
    }
    let erased_at: Option<Option<chrono::DateTime<chrono::Utc>>> = patients::table
        .find((clinic_id.0, patient_id.0))
        .select(patients::erased_at)
        .first(conn)
        .await
        .optional()?;
    match erased_at {
        None => Err(RecordsError::NotFound),
        Some(Some(_)) => Err(RecordsError::Erased),
        Some(None) => Ok(()),
    }
}
