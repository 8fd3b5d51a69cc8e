//! Blind-index search for patients by name or date of birth.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, RecordKeys};
use super::names::{date_of_birth_index, name_token_index, name_tokens};
use super::patients::PatientQuery;
use super::schema::{patient_name_tokens, patients};
use crate::audit::AccessAction;
use crate::ids::{ClinicId, PatientId};

/// Finds patients of the caller's clinic by name or date of birth through the blind indexes,
/// without decrypting anything. Each patient found is recorded as a read of the searched field.
/// Erased patients are never found, because their indexes are deleted.
pub async fn search_patients(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    query: &PatientQuery,
) -> Result<Vec<PatientId>, RecordsError> {
    access.validate()?;
    let clinic_id = access.clinic_id;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let (found, element) = match query {
            PatientQuery::Name(name) => {
                let indexes: Vec<Vec<u8>> = name_tokens(name)
                    .iter()
                    .map(|token| name_token_index(keys.blind_index, clinic_id, token))
                    .collect();
                (
                    find_by_tokens(conn, clinic_id, indexes).await?,
                    "patient.search_by_name",
                )
            }
            PatientQuery::DateOfBirth(date) => {
                let index = date_of_birth_index(keys.blind_index, clinic_id, *date);
                let ids: Vec<uuid::Uuid> = patients::table
                    .filter(patients::clinic_id.eq(clinic_id.0))
                    .filter(patients::date_of_birth_index.eq(index))
                    .order(patients::id)
                    .select(patients::id)
                    .load(conn)
                    .await?;
                (ids, "patient.search_by_date_of_birth")
            }
        };

        let found: Vec<PatientId> = found.into_iter().map(PatientId).collect();
        for patient_id in &found {
            let elements = vec![element.to_owned()];
            access::record(conn, access, *patient_id, AccessAction::Read, elements).await?;
        }
        Ok(found)
    })
    .await
}

/// Returns the patients that have every one of the token indexes.
async fn find_by_tokens(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    indexes: Vec<Vec<u8>>,
) -> Result<Vec<uuid::Uuid>, RecordsError> {
    if indexes.is_empty() {
        return Err(RecordsError::InvalidInput(
            "the name must contain at least one letter or digit".to_owned(),
        ));
    }
    let required = i64::try_from(indexes.len()).unwrap_or(i64::MAX);
    let ids = patient_name_tokens::table
        .filter(patient_name_tokens::clinic_id.eq(clinic_id.0))
        .filter(patient_name_tokens::token_index.eq_any(indexes))
        .group_by(patient_name_tokens::patient_id)
        .having(diesel::dsl::count(patient_name_tokens::token_index).eq(required))
        .order(patient_name_tokens::patient_id)
        .select(patient_name_tokens::patient_id)
        .load(conn)
        .await?;
    Ok(ids)
}
