//! Rotation of the key-encryption key (KEK): rewrapping every data key, of patients and of
//! users, under the provider's current KEK version.
//!
//! Each call rewraps one batch in its own transaction and returns how many keys it rewrapped,
//! so a rotation interrupted at any point resumes by calling again: rows already rewrapped are
//! on the current version and are not selected again. Batches lock their rows with
//! `FOR UPDATE SKIP LOCKED`, so two rotations running at once take different rows. Rewrapping
//! changes no ciphertext of patient data, because the data keys themselves stay the same.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{version_from_db, version_to_db};
use super::schema::patients;
use crate::crypto::{KeyProvider, WrappedDataKey};
use crate::ids::PatientId;
use crate::schema::users;

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
        }
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
        let rows: Vec<(uuid::Uuid, Vec<u8>, i32)> = users::table
            .filter(users::data_key_kek_version.ne(current))
            .order(users::id)
            .limit(i64::from(batch_size.max(1)))
            .select((
                users::id,
                users::data_key_wrapped,
                users::data_key_kek_version,
            ))
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;

        let count = rows.len();
        for (id, bytes, kek_version) in rows {
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
        }
        Ok(count)
    })
    .await
}
