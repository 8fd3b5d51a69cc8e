//! Reading single entries and observations by id. The owner lookup reads only the row's patient
//! and category, so that the caller can authorize that patient before anything is decrypted.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::entries::{Classification, ClinicalEntry, load_entries};
use super::observation_values::ObservationKind;
use super::observations::{Observation, load_observations, observation_category};
use super::schema::{clinical_entries, observations};
use super::{RecordKeys, RecordsError};
use crate::access::{Authorization, DataCategory};
use crate::ids::PatientId;

/// Returns the patient and category of an entry in any clinic, or `None` if there is none. A
/// row of another clinic is found too, so that the policy denies and audits the attempt.
pub async fn entry_owner(
    conn: &mut AsyncPgConnection,
    entry_id: uuid::Uuid,
) -> Result<Option<(PatientId, DataCategory)>, RecordsError> {
    let row: Option<(uuid::Uuid, String)> = clinical_entries::table
        .filter(clinical_entries::id.eq(entry_id))
        .select((
            clinical_entries::patient_id,
            clinical_entries::classification,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((patient, classification)) = row else {
        return Ok(None);
    };
    let classification =
        Classification::parse(&classification).ok_or(RecordsError::CorruptValue {
            table: "clinical_entries",
            column: "classification",
            row_id: entry_id,
        })?;
    Ok(Some((PatientId(patient), classification.category())))
}

/// Returns the patient and category of an observation in any clinic, or `None`.
pub async fn observation_owner(
    conn: &mut AsyncPgConnection,
    observation_id: uuid::Uuid,
) -> Result<Option<(PatientId, DataCategory)>, RecordsError> {
    let row: Option<(uuid::Uuid, String, Option<uuid::Uuid>)> = observations::table
        .filter(observations::id.eq(observation_id))
        .select((
            observations::patient_id,
            observations::kind,
            observations::infant_id,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((patient, kind, infant)) = row else {
        return Ok(None);
    };
    let kind = ObservationKind::parse(&kind).ok_or(RecordsError::CorruptValue {
        table: "observations",
        column: "kind",
        row_id: observation_id,
    })?;
    Ok(Some((
        PatientId(patient),
        observation_category(kind, infant.is_some()),
    )))
}

/// Reads one entry of the authorized patient; [`RecordsError::NotFound`] if she has no entry
/// with this id in the authorized category.
pub async fn read_clinical_entry(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    entry_id: uuid::Uuid,
) -> Result<ClinicalEntry, RecordsError> {
    let classification =
        Classification::from_category(authorization.category()).ok_or(RecordsError::NotFound)?;
    load_entries(conn, keys, authorization, classification, Some(entry_id))
        .await?
        .pop()
        .ok_or(RecordsError::NotFound)
}

/// Reads one observation of the authorized patient in the authorized category.
pub async fn read_observation(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    observation_id: uuid::Uuid,
) -> Result<Observation, RecordsError> {
    let read = (authorization, ObservationKind::ALL);
    load_observations(conn, keys, &[read], Some(observation_id))
        .await?
        .pop()
        .and_then(|mut found| found.pop())
        .ok_or(RecordsError::NotFound)
}
