//! Rotation of the key-encryption key (KEK): rewrapping every data key, of patients and of
//! users, under the provider's current KEK version.
//!
//! Each call rewraps one batch in its own transaction and returns how many keys it rewrapped,
//! so a rotation interrupted at any point resumes by calling again: rows already rewrapped are
//! on the current version and are not selected again. Batches lock their rows with
//! `FOR UPDATE SKIP LOCKED`, so two rotations running at once take different rows. Rewrapping
//! changes no ciphertext of patient data, because the data keys themselves stay the same.
//!
//! A rotation is a security event of every clinic: [`record_rotation_started`] and
//! [`record_rotation_finished`] record its start and end, and each batch records, in its own
//! transaction, one `data_keys_rewrapped` event per clinic whose keys it rewrapped.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use std::collections::BTreeMap;

use super::RecordsError;
use super::access::{version_from_db, version_to_db};
use super::schema::patients;
use crate::audit::{ClientInfo, NewSecurityEvent, SecurityEventKind, record_security_event};
use crate::crypto::{KeyProvider, WrappedDataKey};
use crate::ids::{ClinicId, PatientId};
use crate::schema::{clinics, users};

/// Whose data keys a rotation batch rewraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOwner {
    Users,
    Patients,
}

impl KeyOwner {
    fn as_str(self) -> &'static str {
        match self {
            KeyOwner::Users => "users",
            KeyOwner::Patients => "patients",
        }
    }
}

/// Records in every clinic that a rotation to KEK version `kek_version` started, with the number
/// of keys left to rewrap in the whole installation.
pub async fn record_rotation_started(
    conn: &mut AsyncPgConnection,
    kek_version: u32,
    pending_users: i64,
    pending_patients: i64,
) -> Result<(), RecordsError> {
    let detail = serde_json::json!({
        "kek_version": kek_version,
        "pending_user_keys": pending_users,
        "pending_patient_keys": pending_patients,
    });
    record_in_every_clinic(conn, SecurityEventKind::KeyRotationStarted, detail).await
}

/// Records in every clinic that no data key is left on a KEK version other than `kek_version`.
pub async fn record_rotation_finished(
    conn: &mut AsyncPgConnection,
    kek_version: u32,
) -> Result<(), RecordsError> {
    let detail = serde_json::json!({ "kek_version": kek_version });
    record_in_every_clinic(conn, SecurityEventKind::KeyRotationFinished, detail).await
}

async fn record_in_every_clinic(
    conn: &mut AsyncPgConnection,
    kind: SecurityEventKind,
    detail: serde_json::Value,
) -> Result<(), RecordsError> {
    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let clinic_ids: Vec<uuid::Uuid> = clinics::table
            .order(clinics::id)
            .select(clinics::id)
            .load(conn)
            .await?;
        for clinic_id in clinic_ids {
            record_system_event(conn, ClinicId(clinic_id), kind, detail.clone()).await?;
        }
        Ok(())
    })
    .await
}

/// Records, for each clinic of a batch, how many of its keys the batch rewrapped.
async fn record_batch(
    conn: &mut AsyncPgConnection,
    owner: KeyOwner,
    kek_version: i32,
    per_clinic: BTreeMap<uuid::Uuid, usize>,
) -> Result<(), RecordsError> {
    for (clinic_id, keys) in per_clinic {
        let detail = serde_json::json!({
            "owner": owner.as_str(),
            "keys": keys,
            "kek_version": kek_version,
        });
        let kind = SecurityEventKind::DataKeysRewrapped;
        record_system_event(conn, ClinicId(clinic_id), kind, detail).await?;
    }
    Ok(())
}

/// Records an event that the system caused on its own, with no actor and no client.
async fn record_system_event(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    kind: SecurityEventKind,
    detail: serde_json::Value,
) -> Result<(), RecordsError> {
    let event = NewSecurityEvent {
        clinic_id,
        actor_user_id: None,
        subject_user_id: None,
        kind,
        detail,
        client: ClientInfo::default(),
    };
    record_security_event(conn, event).await?;
    Ok(())
}

/// Counts patients whose data key is wrapped under a KEK version other than `current`.
/// Erased patients have no key and are not counted.
pub async fn pending_patient_keys(
    conn: &mut AsyncPgConnection,
    current: u32,
) -> Result<i64, RecordsError> {
    let count = patients::table
        .filter(patients::data_key_wrapped.is_not_null())
        .filter(patients::data_key_kek_version.ne(version_to_db(current)?))
        .count()
        .get_result(conn)
        .await?;
    Ok(count)
}

/// Counts users whose data key is wrapped under a KEK version other than `current`.
pub async fn pending_user_keys(
    conn: &mut AsyncPgConnection,
    current: u32,
) -> Result<i64, RecordsError> {
    let count = users::table
        .filter(users::data_key_kek_version.ne(version_to_db(current)?))
        .count()
        .get_result(conn)
        .await?;
    Ok(count)
}

/// Rewraps up to `batch_size` patients' data keys under the current KEK in one transaction and
/// returns how many it rewrapped; 0 means none is left.
pub async fn rotate_patient_keys(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    batch_size: u32,
) -> Result<usize, RecordsError> {
    let current = version_to_db(provider.current_kek_version())?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        type Row = (uuid::Uuid, uuid::Uuid, Option<Vec<u8>>, Option<i32>);
        let rows: Vec<Row> = patients::table
            .filter(patients::data_key_wrapped.is_not_null())
            .filter(patients::data_key_kek_version.ne(current))
            .order((patients::clinic_id, patients::id))
            .limit(i64::from(batch_size.max(1)))
            .select((
                patients::clinic_id,
                patients::id,
                patients::data_key_wrapped,
                patients::data_key_kek_version,
            ))
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;

        let mut rewrapped = 0;
        let mut per_clinic = BTreeMap::new();
        for (clinic_id, id, wrapped, kek_version) in rows {
            let (Some(bytes), Some(kek_version)) = (wrapped, kek_version) else {
                continue;
            };
            let wrapped = WrappedDataKey {
                kek_version: version_from_db(kek_version),
                bytes,
            };
            let new = provider.rewrap(PatientId(id), &wrapped).await?;
            diesel::update(patients::table.find((clinic_id, id)))
                .set((
                    patients::data_key_wrapped.eq(Some(new.bytes)),
                    patients::data_key_kek_version.eq(Some(version_to_db(new.kek_version)?)),
                ))
                .execute(conn)
                .await?;
            rewrapped += 1;
            *per_clinic.entry(clinic_id).or_insert(0) += 1;
        }
        record_batch(conn, KeyOwner::Patients, current, per_clinic).await?;
        Ok(rewrapped)
    })
    .await
}

/// Rewraps up to `batch_size` users' data keys under the current KEK in one transaction and
/// returns how many it rewrapped; 0 means none is left.
pub async fn rotate_user_keys(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    batch_size: u32,
) -> Result<usize, RecordsError> {
    let current = version_to_db(provider.current_kek_version())?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let rows: Vec<(uuid::Uuid, uuid::Uuid, Vec<u8>, i32)> = users::table
            .filter(users::data_key_kek_version.ne(current))
            .order(users::id)
            .limit(i64::from(batch_size.max(1)))
            .select((
                users::clinic_id,
                users::id,
                users::data_key_wrapped,
                users::data_key_kek_version,
            ))
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;

        let count = rows.len();
        let mut per_clinic = BTreeMap::new();
        for (clinic_id, id, bytes, kek_version) in rows {
            let wrapped = WrappedDataKey {
                kek_version: version_from_db(kek_version),
                bytes,
            };
            // A user's data key is wrapped with her user id in the patient-id slot of the AAD.
            let new = provider.rewrap(PatientId(id), &wrapped).await?;
            diesel::update(users::table.find(id))
                .set((
                    users::data_key_wrapped.eq(new.bytes),
                    users::data_key_kek_version.eq(version_to_db(new.kek_version)?),
                ))
                .execute(conn)
                .await?;
            *per_clinic.entry(clinic_id).or_insert(0) += 1;
        }
        record_batch(conn, KeyOwner::Users, current, per_clinic).await?;
        Ok(count)
    })
    .await
}
