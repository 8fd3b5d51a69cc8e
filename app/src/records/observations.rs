//! Observations: maternal vital signs, infant growth, feeding and nappies, and screening
//! questionnaires. Each value is stored encrypted as JSON with its units as entered and
//! normalised (mmHg, °C, kg, cm).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, PatientKey, RecordKeys, version_from_db, version_to_db};
use super::infants::{self, ensure_infant_of};
use super::observation_values::{ObservationKind, ObservationValue, data_class};
use super::schema::observations;
use crate::access::{Action, Authorization, DataCategory};
use crate::audit::AccessAction;
use crate::clinical::growth::age_in_days;
use crate::crypto::DataClass;
use crate::ids::{ClinicId, InfantId, PatientId, UserId};
use crate::protocols::{self, InfantFacts, NewObservationFacts};

const TABLE: &str = "observations";
const COLUMN: &str = "value_ciphertext";

/// A new observation of the patient or, with `infant_id`, of one of her infants.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObservation {
    pub infant_id: Option<InfantId>,
    pub observed_at: DateTime<Utc>,
    pub value: ObservationValue,
}

/// A stored observation with its decrypted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub infant_id: Option<InfantId>,
    pub observed_at: DateTime<Utc>,
    pub author: UserId,
    pub value: ObservationValue,
}

#[derive(Insertable)]
#[diesel(table_name = observations)]
pub(super) struct ObservationRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    infant_id: Option<uuid::Uuid>,
    kind: &'static str,
    observed_at: DateTime<Utc>,
    author_user_id: uuid::Uuid,
    data_key_version: i32,
    value_ciphertext: Vec<u8>,
}

/// Checks that the kind fits the subject: growth, feeding and nappies are about an infant, and
/// blood pressure and screening questionnaires about the mother.
fn check_subject(kind: ObservationKind, infant: bool) -> Result<(), RecordsError> {
    use ObservationKind::*;
    match kind {
        Length | HeadCircumference | Feeding | Nappy if !infant => Err(RecordsError::InvalidInput(
            format!("a {} observation needs an infant", kind.as_str()),
        )),
        BloodPressure | Epds | Phq9 | Gad7 if infant => Err(RecordsError::InvalidInput(format!(
            "a {} observation is about the mother, not an infant",
            kind.as_str()
        ))),
        _ => Ok(()),
    }
}

/// Validates, normalises and encrypts an observation written by `author`.
pub(super) fn encrypt_observation(
    key: &PatientKey,
    clinic_id: ClinicId,
    author: UserId,
    new: &NewObservation,
) -> Result<ObservationRow, RecordsError> {
    let value = new.value.clone().normalized()?;
    let kind = value.kind();
    check_subject(kind, new.infant_id.is_some())?;

    let id = uuid::Uuid::new_v4();
    let context = key.context(TABLE, COLUMN, id, data_class(kind, new.infant_id.is_some()));
    Ok(ObservationRow {
        id,
        clinic_id: clinic_id.0,
        patient_id: key.patient_id.0,
        infant_id: new.infant_id.map(|infant| infant.0),
        kind: kind.as_str(),
        observed_at: new.observed_at,
        author_user_id: author.0,
        data_key_version: version_to_db(key.version)?,
        value_ciphertext: key.encrypt_json(&context, &value)?,
    })
}

pub(super) async fn insert_observations(
    conn: &mut AsyncPgConnection,
    rows: &[ObservationRow],
) -> Result<(), RecordsError> {
    // Nine parameters per row keep 5,000 rows below PostgreSQL's 65,535 parameter limit.
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(observations::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn element(kind: ObservationKind) -> String {
    format!("observation.{}", kind.as_str())
}

/// Returns the access-policy category of an observation of `kind`, of an infant or not.
pub fn observation_category(kind: ObservationKind, infant: bool) -> DataCategory {
    match data_class(kind, infant) {
        DataClass::Infant => DataCategory::Infant,
        DataClass::MentalHealth => DataCategory::MentalHealth,
        DataClass::FamilyHistory => DataCategory::FamilyHistory,
        DataClass::Contact => DataCategory::Contact,
        DataClass::Maternal => DataCategory::Maternal,
    }
}

/// Records an observation of the authorized patient, or of her infant, authored by the caller.
pub async fn add_observation(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    new: &NewObservation,
) -> Result<uuid::Uuid, RecordsError> {
    let category = observation_category(new.value.kind(), new.infant_id.is_some());
    let (access, patient_id) = authorization.scope(category, Action::Write)?;
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        if let Some(infant_id) = new.infant_id {
            ensure_infant_of(conn, access.clinic_id, patient_id, infant_id).await?;
        }
        let row = encrypt_observation(&key, access.clinic_id, access.actor, new)?;
        let id = row.id;
        let elements = vec![element(new.value.kind())];
        insert_observations(conn, &[row]).await?;

        let infant = match (new.infant_id, &new.value) {
            (Some(infant_id), ObservationValue::Weight { .. }) => {
                let (birth_date, birth_weight_kg, sex) =
                    infants::growth_facts(conn, &key, access.clinic_id, patient_id, infant_id)
                        .await?;
                age_in_days(birth_date, new.observed_at.date_naive())
                    .ok()
                    .map(|age_days| InfantFacts {
                        sex,
                        age_days,
                        birth_weight_kg: Some(birth_weight_kg),
                    })
            }
            _ => None,
        };
        protocols::apply_to_observation(
            conn,
            NewObservationFacts {
                clinic_id: access.clinic_id,
                patient_id,
                observation_id: id,
                value: &new.value,
                of_infant: new.infant_id.is_some(),
                infant,
                recorded_at: new.observed_at,
            },
        )
        .await
        .map_err(Box::new)?;

        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists the authorized patient's observations of the given kinds, including her infants',
/// oldest first. Only observations in the authorization's category are returned: weights of
/// the mother are maternal data, weights of her infants infant data.
pub async fn list_observations(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    kinds: &[ObservationKind],
) -> Result<Vec<Observation>, RecordsError> {
    let mut lists = load_observations(conn, keys, &[(authorization, kinds)], None).await?;
    Ok(lists.pop().unwrap_or_default())
}

/// Lists one patient's observations for several reads with one query, such as the chart's
/// vital signs, screenings and infants. Each read names the kinds it requests under its own
/// authorization, gets only the observations of that authorization's category and is recorded
/// as its own access event. The lists come back in the order of `reads`, each oldest first.
pub async fn list_observations_by_category(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    reads: &[(&Authorization, &[ObservationKind])],
) -> Result<Vec<Vec<Observation>>, RecordsError> {
    load_observations(conn, keys, reads, None).await
}

/// Loads the observations of each of `reads` (an authorization and the kinds it requests), all of
/// them or only the one with id `only`. An observation goes to the first read whose category
/// and kinds match it.
pub(super) async fn load_observations(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    reads: &[(&Authorization, &[ObservationKind])],
    only: Option<uuid::Uuid>,
) -> Result<Vec<Vec<Observation>>, RecordsError> {
    let mut scopes = Vec::with_capacity(reads.len());
    let mut names: Vec<&str> = Vec::new();
    for (authorization, kinds) in reads {
        let scope = authorization.read_scope(authorization.category())?;
        scope.0.validate()?;
        if kinds.is_empty() {
            return Err(RecordsError::InvalidInput(
                "request at least one observation kind".to_owned(),
            ));
        }
        for kind in kinds.iter() {
            if !names.contains(&kind.as_str()) {
                names.push(kind.as_str());
            }
        }
        scopes.push(scope);
    }
    let Some((clinic_id, patient_id)) = access::one_patient(&scopes, "observations")? else {
        return Ok(Vec::new());
    };

    crate::db::in_transaction(conn, async move |conn| {
        let key = access::patient_key(conn, keys.provider, clinic_id, patient_id).await?;
        type Row = (
            uuid::Uuid,
            Option<uuid::Uuid>,
            String,
            DateTime<Utc>,
            uuid::Uuid,
            i32,
            Vec<u8>,
        );
        let mut query = observations::table
            .filter(observations::clinic_id.eq(clinic_id.0))
            .filter(observations::patient_id.eq(patient_id.0))
            .filter(observations::kind.eq_any(&names))
            .into_boxed();
        if let Some(id) = only {
            query = query.filter(observations::id.eq(id));
        }
        let rows: Vec<Row> = query
            .order((observations::observed_at, observations::id))
            .select((
                observations::id,
                observations::infant_id,
                observations::kind,
                observations::observed_at,
                observations::author_user_id,
                observations::data_key_version,
                observations::value_ciphertext,
            ))
            .load(conn)
            .await?;

        let mut found: Vec<Vec<Observation>> = vec![Vec::new(); reads.len()];
        for (id, infant_id, kind, observed_at, author, version, ciphertext) in rows {
            let kind = ObservationKind::parse(&kind).ok_or(RecordsError::CorruptValue {
                table: TABLE,
                column: "kind",
                row_id: id,
            })?;
            let category = observation_category(kind, infant_id.is_some());
            let Some(index) = reads.iter().position(|(authorization, kinds)| {
                authorization.category() == category && kinds.contains(&kind)
            }) else {
                continue;
            };
            let mut context = key.context(TABLE, COLUMN, id, data_class(kind, infant_id.is_some()));
            context.data_key_version = version_from_db(version);
            found[index].push(Observation {
                id,
                patient_id,
                infant_id: infant_id.map(InfantId),
                observed_at,
                author: UserId(author),
                value: key.decrypt_json(&context, &ciphertext)?,
            });
        }

        for ((access, patient_id, audited), (_, kinds)) in scopes.iter().zip(reads) {
            let elements = kinds.iter().map(|kind| element(*kind)).collect();
            access::record(conn, access, *patient_id, *audited, elements).await?;
        }
        Ok(found)
    })
    .await
}
