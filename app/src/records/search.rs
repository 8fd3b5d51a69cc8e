//! Blind-index search for patients by name or date of birth.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, RecordKeys};
use super::names::{date_of_birth_index, name_token_index, name_tokens};
use super::patients::PatientQuery;
use super::schema::{patient_name_tokens, patients};
use crate::audit::{AccessAction, AccessOutcome, NewAccessEvent, record_access};
use crate::ids::{ClinicId, PatientId};

/// Finds patients of the caller's clinic by name or date of birth through the blind indexes,
/// without decrypting anything. Each patient found is recorded as a read of the searched field,
/// and a search that finds nobody is recorded as one `search` event without a patient, so that
/// looking for someone leaves a trace even when she is not there. Erased patients are never
/// found, because their indexes are deleted.
pub async fn search_patients(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    query: &PatientQuery,
) -> Result<Vec<PatientId>, RecordsError> {
    access.validate()?;
    let clinic_id = access.clinic_id;

    crate::db::in_transaction(conn, async move |conn| {
        let (found, element) = match query {
            PatientQuery::Name(name) => {
                let indexes: Vec<Vec<u8>> = name_tokens(name)
                    .iter()
                    .map(|token| name_token_index(keys.blind_index, clinic_id, token))
                    .collect();
                (
                    find_by_tokens(conn, clinic_id, indexes, None).await?,
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
        if found.is_empty() {
            record_search_without_match(conn, access, element).await?;
        }
        for patient_id in &found {
            let elements = vec![element.to_owned()];
            access::record(conn, access, *patient_id, AccessAction::Read, elements).await?;
        }
        Ok(found)
    })
    .await
}

/// Records a search that found nobody: action `search`, no patient, the searched field.
async fn record_search_without_match(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    element: &str,
) -> Result<(), RecordsError> {
    let event = NewAccessEvent {
        clinic_id: access.clinic_id,
        actor_user_id: Some(access.actor),
        actor_roles: access
            .actor_roles
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        patient_id: None,
        action: AccessAction::Search,
        purpose: access.purpose.trim().to_owned(),
        data_elements: vec![element.to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: access.emergency,
        client: access.client.clone(),
    };
    record_access(conn, event).await?;
    Ok(())
}

/// Returns the patients, among `within` when it is given, that have every one of the token
/// indexes.
pub(super) async fn find_by_tokens(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    indexes: Vec<Vec<u8>>,
    within: Option<Vec<uuid::Uuid>>,
) -> Result<Vec<uuid::Uuid>, RecordsError> {
    if indexes.is_empty() {
        return Err(RecordsError::InvalidInput(
            "the name must contain at least one letter or digit".to_owned(),
        ));
    }
    let required = i64::try_from(indexes.len()).unwrap_or(i64::MAX);
    let mut query = patient_name_tokens::table
        .filter(patient_name_tokens::clinic_id.eq(clinic_id.0))
        .filter(patient_name_tokens::token_index.eq_any(indexes))
        .group_by(patient_name_tokens::patient_id)
        .having(diesel::dsl::count(patient_name_tokens::token_index).eq(required))
        .order(patient_name_tokens::patient_id)
        .select(patient_name_tokens::patient_id)
        .into_boxed();
    if let Some(within) = within {
        query = query.filter(patient_name_tokens::patient_id.eq_any(within));
    }
    let ids = query.load(conn).await?;
    Ok(ids)
}
