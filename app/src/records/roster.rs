//! A clinician's list of patients: the patients she is assigned to, a name search among them,
//! and their names and infants' birth dates decrypted in one transaction with one audit event
//! per patient and data category shown.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::unwrap_patient_key;
use super::infants::decrypt_birth_date;
use super::names::{name_token_index, name_tokens};
use super::schema::{infants, patients};
use super::search::find_by_tokens;
use crate::access::{Action, Authorization, DataCategory};
use crate::audit::record_accesses;
use crate::crypto::{DataClass, KeyProvider};
use crate::identity::Role;
use crate::identity::server::email::BlindIndexKey;
use crate::ids::{ClinicId, PatientId, UserId};

/// Audit element of a name read for a listing.
const FULL_NAME_ELEMENT: &str = "patient.full_name";
/// Audit element of a name search whose result the listing shows.
const NAME_SEARCH_ELEMENT: &str = "patient.search_by_name";
/// Audit element of the infants' birth dates, from which the listing derives weeks since birth.
const BIRTH_DATE_ELEMENT: &str = "infant.birth_date";

/// A patient on a provider's care team, with the roles in which the provider serves her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub patient_id: PatientId,
    pub roles: Vec<Role>,
}

/// Returns the patients, not erased, on whose care team `provider` has a membership active at
/// `at`, ordered by patient id. Reads no clinical content and records no audit event: it only
/// names the patients for which the caller then asks the access policy.
pub async fn assigned_patients(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    provider: UserId,
    at: DateTime<Utc>,
) -> Result<Vec<Assignment>, RecordsError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        patient_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        role: String,
    }
    let rows: Vec<Row> = crate::db::KeptSql::new(
        "SELECT m.patient_id, m.role FROM care_team_members m \
         JOIN patients p ON p.clinic_id = m.clinic_id AND p.id = m.patient_id \
         WHERE m.clinic_id = $1 AND m.provider_user_id = $2 AND p.erased_at IS NULL \
           AND m.starts_at <= $3 AND (m.ends_at IS NULL OR m.ends_at > $3) \
         ORDER BY m.patient_id, m.role",
    )
    .bind::<diesel::sql_types::Uuid, _>(clinic_id.0)
    .bind::<diesel::sql_types::Uuid, _>(provider.0)
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .load(conn)
    .await?;

    let mut assignments: Vec<Assignment> = Vec::new();
    for Row {
        patient_id: patient,
        role,
    } in rows
    {
        let role = Role::parse(&role).ok_or(RecordsError::CorruptValue {
            table: "care_team_members",
            column: "role",
            row_id: patient,
        })?;
        match assignments.last_mut() {
            Some(last) if last.patient_id.0 == patient => {
                if !last.roles.contains(&role) {
                    last.roles.push(role);
                }
            }
            _ => assignments.push(Assignment {
                patient_id: PatientId(patient),
                roles: vec![role],
            }),
        }
    }
    Ok(assignments)
}

/// Returns those of `candidates` whose name contains every token of `name`, through the blind
/// indexes and without decrypting anything. The caller records the search on each patient it
/// shows, through [`read_listed_identities`].
pub async fn patients_named(
    conn: &mut AsyncPgConnection,
    blind_index: &BlindIndexKey,
    clinic_id: ClinicId,
    candidates: &[PatientId],
    name: &str,
) -> Result<Vec<PatientId>, RecordsError> {
    let indexes: Vec<Vec<u8>> = name_tokens(name)
        .iter()
        .map(|token| name_token_index(blind_index, clinic_id, token))
        .collect();
    let candidates: Vec<uuid::Uuid> = candidates.iter().map(|patient| patient.0).collect();
    let found = find_by_tokens(conn, clinic_id, indexes, Some(candidates)).await?;
    Ok(found.into_iter().map(PatientId).collect())
}

/// Identity values of one patient that a listing shows. A value the policy did not allow is `None`.
/// Its `Debug` output hides the values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ListedIdentity {
    pub full_name: Option<String>,
    /// Birth date of her youngest infant.
    pub youngest_infant_birth_date: Option<NaiveDate>,
}

impl std::fmt::Debug for ListedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListedIdentity")
            .field("full_name", &super::patients::redacted(&self.full_name))
            .field(
                "youngest_infant_birth_date",
                &super::patients::redacted(&self.youngest_infant_birth_date),
            )
            .finish()
    }
}

/// Decrypts the names of the patients in `names` (contact read authorizations) and the birth
/// dates of the infants of the patients in `births` (infant read authorizations), and records
/// one audit event per authorization, all in one transaction. `searched` adds the name search
/// to each name event. Patients are loaded in one query per table; each patient's data key is
/// unwrapped once.
pub async fn read_listed_identities(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    names: &[&Authorization],
    births: &[&Authorization],
    searched: bool,
) -> Result<HashMap<PatientId, ListedIdentity>, RecordsError> {
    let mut events = Vec::with_capacity(names.len() + births.len());
    let mut clinic_id = None;
    for authorization in names {
        let (access, _) = authorization.scope(DataCategory::Contact, Action::Read)?;
        access.validate()?;
        clinic_id = Some(access.clinic_id);
        let mut elements = vec![FULL_NAME_ELEMENT.to_owned()];
        if searched {
            elements.push(NAME_SEARCH_ELEMENT.to_owned());
        }
        events.push(authorization.allowed_event(elements));
    }
    for authorization in births {
        let (access, _) = authorization.scope(DataCategory::Infant, Action::Read)?;
        access.validate()?;
        clinic_id = Some(access.clinic_id);
        events.push(authorization.allowed_event(vec![BIRTH_DATE_ELEMENT.to_owned()]));
    }
    let Some(clinic_id) = clinic_id else {
        return Ok(HashMap::new());
    };
    let named: Vec<PatientId> = names.iter().map(|auth| auth.patient()).collect();
    let born: Vec<PatientId> = births.iter().map(|auth| auth.patient()).collect();

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let mut listed = HashMap::new();
        let mut keys = HashMap::new();
        let all: Vec<uuid::Uuid> = named.iter().chain(&born).map(|patient| patient.0).collect();
        type KeyRow = (uuid::Uuid, Option<Vec<u8>>, Option<i32>, i32, Vec<u8>);
        let rows: Vec<KeyRow> = patients::table
            .filter(patients::clinic_id.eq(clinic_id.0))
            .filter(patients::id.eq_any(all))
            .select((
                patients::id,
                patients::data_key_wrapped,
                patients::data_key_kek_version,
                patients::data_key_version,
                patients::full_name_ciphertext,
            ))
            .load(conn)
            .await?;
        for (id, wrapped, kek_version, version, name) in rows {
            let patient_id = PatientId(id);
            let key =
                unwrap_patient_key(provider, patient_id, wrapped, kek_version, version).await?;
            if named.contains(&patient_id) {
                let context =
                    key.context("patients", "full_name_ciphertext", id, DataClass::Contact);
                let entry: &mut ListedIdentity = listed.entry(patient_id).or_default();
                entry.full_name = Some(key.decrypt_text(&context, &name)?);
            }
            keys.insert(patient_id, key);
        }

        let born_ids: Vec<uuid::Uuid> = born.iter().map(|patient| patient.0).collect();
        let infant_rows: Vec<(uuid::Uuid, uuid::Uuid, i32, Vec<u8>)> = infants::table
            .filter(infants::clinic_id.eq(clinic_id.0))
            .filter(infants::patient_id.eq_any(born_ids))
            .select((
                infants::patient_id,
                infants::id,
                infants::data_key_version,
                infants::birth_date_ciphertext,
            ))
            .load(conn)
            .await?;
        for (patient, infant, version, ciphertext) in infant_rows {
            let patient_id = PatientId(patient);
            let Some(key) = keys.get(&patient_id) else {
                return Err(RecordsError::NotFound);
            };
            let birth_date = decrypt_birth_date(key, infant, version, &ciphertext)?;
            let entry = listed.entry(patient_id).or_default();
            entry.youngest_infant_birth_date =
                entry.youngest_infant_birth_date.max(Some(birth_date));
        }

        record_accesses(conn, events).await?;
        Ok(listed)
    })
    .await
}
