//! Infants, whose records belong to their mother's.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::RecordsError;
use super::access::{self, PatientKey, RecordKeys, version_to_db};
use super::schema::infants;
use crate::access::{Action, Authorization, DataCategory};
use crate::audit::AccessAction;
use crate::clinical::growth::Sex;
use crate::clinical::units::{Entered, MassUnit};
use crate::crypto::DataClass;
use crate::ids::{ClinicId, InfantId, PatientId};

const TABLE: &str = "infants";
const MAX_NAME_CHARS: usize = 200;
/// Plausible birth weight in kg: from extremely preterm newborns to the heaviest term newborns.
const BIRTH_WEIGHT_RANGE_KG: (f64, f64) = (0.2, 7.0);
const ELEMENTS: [&str; 4] = [
    "infant.name",
    "infant.birth_date",
    "infant.birth_weight",
    "infant.sex",
];

/// A newborn to add to the mother's record. Its `Debug` output hides the name and birth date.
#[derive(Clone, PartialEq)]
pub struct NewInfant {
    pub name: String,
    pub birth_date: NaiveDate,
    pub birth_weight: Entered<MassUnit>,
    pub sex: Sex,
}

/// An infant with decrypted details. Its `Debug` output hides the name and birth date.
#[derive(Clone, PartialEq)]
pub struct Infant {
    pub id: InfantId,
    pub patient_id: PatientId,
    pub name: String,
    pub birth_date: NaiveDate,
    /// Birth weight as entered.
    pub birth_weight: Entered<MassUnit>,
    pub birth_weight_kg: f64,
    pub sex: Sex,
}

impl std::fmt::Debug for NewInfant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewInfant")
            .field("birth_weight", &self.birth_weight)
            .field("sex", &self.sex)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Infant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Infant")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("birth_weight_kg", &self.birth_weight_kg)
            .field("sex", &self.sex)
            .finish_non_exhaustive()
    }
}

/// Birth weight as stored: as entered and in kg.
#[derive(Serialize, Deserialize)]
struct StoredWeight {
    entered: Entered<MassUnit>,
    kilograms: f64,
}

#[derive(Insertable)]
#[diesel(table_name = infants)]
pub(super) struct InfantRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    data_key_version: i32,
    name_ciphertext: Vec<u8>,
    birth_date_ciphertext: Vec<u8>,
    birth_weight_ciphertext: Vec<u8>,
    sex_ciphertext: Vec<u8>,
}

/// Checks and encrypts a new infant of the patient whose key is `key`.
pub(super) fn encrypt_infant(
    key: &PatientKey,
    clinic_id: ClinicId,
    new: &NewInfant,
) -> Result<(InfantId, InfantRow), RecordsError> {
    let name_length = new.name.trim().chars().count();
    if name_length == 0 || name_length > MAX_NAME_CHARS {
        return Err(RecordsError::InvalidInput(format!(
            "infant name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let kilograms = new.birth_weight.to_kilograms();
    let (low, high) = BIRTH_WEIGHT_RANGE_KG;
    if !(low..=high).contains(&kilograms) {
        return Err(RecordsError::InvalidInput(format!(
            "birth weight must be {low} to {high} kg; check the value and its unit"
        )));
    }

    let id = InfantId::new_random();
    let context = |column| key.context(TABLE, column, id.0, DataClass::Infant);
    let weight = StoredWeight {
        entered: new.birth_weight,
        kilograms,
    };
    let row = InfantRow {
        id: id.0,
        clinic_id: clinic_id.0,
        patient_id: key.patient_id.0,
        data_key_version: version_to_db(key.version)?,
        name_ciphertext: key.encrypt(&context("name_ciphertext"), new.name.trim().as_bytes())?,
        birth_date_ciphertext: key.encrypt(
            &context("birth_date_ciphertext"),
            new.birth_date.to_string().as_bytes(),
        )?,
        birth_weight_ciphertext: key.encrypt_json(&context("birth_weight_ciphertext"), &weight)?,
        sex_ciphertext: key.encrypt_json(&context("sex_ciphertext"), &new.sex)?,
    };
    Ok((id, row))
}

pub(super) async fn insert_infants(
    conn: &mut AsyncPgConnection,
    rows: &[InfantRow],
) -> Result<(), RecordsError> {
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(infants::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Fails with [`RecordsError::NotFound`] unless `infant_id` is an infant of the patient.
pub(super) async fn ensure_infant_of(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    infant_id: InfantId,
) -> Result<(), RecordsError> {
    infants::table
        .find((clinic_id.0, infant_id.0))
        .filter(infants::patient_id.eq(patient_id.0))
        .select(infants::id)
        .first::<uuid::Uuid>(conn)
        .await
        .optional()?
        .map(|_| ())
        .ok_or(RecordsError::NotFound)
}

/// Adds an infant to a patient's record.
pub async fn add_infant(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    new: &NewInfant,
) -> Result<InfantId, RecordsError> {
    let (access, patient_id) = authorization.scope(DataCategory::Infant, Action::Write)?;
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        let (id, row) = encrypt_infant(&key, access.clinic_id, new)?;
        insert_infants(conn, &[row]).await?;

        let elements = ELEMENTS.map(str::to_owned).to_vec();
        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists a patient's infants with their decrypted details, oldest record first.
pub async fn list_infants(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
) -> Result<Vec<Infant>, RecordsError> {
    let (access, patient_id) = authorization.scope(DataCategory::Infant, Action::Read)?;
    access.validate()?;

    crate::db::in_transaction(conn, async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        type Row = (uuid::Uuid, i32, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);
        let rows: Vec<Row> = infants::table
            .filter(infants::clinic_id.eq(access.clinic_id.0))
            .filter(infants::patient_id.eq(patient_id.0))
            .order((infants::created_at, infants::id))
            .select((
                infants::id,
                infants::data_key_version,
                infants::name_ciphertext,
                infants::birth_date_ciphertext,
                infants::birth_weight_ciphertext,
                infants::sex_ciphertext,
            ))
            .load(conn)
            .await?;

        let mut found = Vec::with_capacity(rows.len());
        for (id, version, name, birth_date, weight, sex) in rows {
            let context = |column| {
                let mut context = key.context(TABLE, column, id, DataClass::Infant);
                context.data_key_version = access::version_from_db(version);
                context
            };
            let birth_date = decrypt_birth_date(&key, id, version, &birth_date)?;
            let weight: StoredWeight =
                key.decrypt_json(&context("birth_weight_ciphertext"), &weight)?;
            found.push(Infant {
                id: InfantId(id),
                patient_id,
                name: key.decrypt_text(&context("name_ciphertext"), &name)?,
                birth_date,
                birth_weight: weight.entered,
                birth_weight_kg: weight.kilograms,
                sex: key.decrypt_json(&context("sex_ciphertext"), &sex)?,
            });
        }

        let elements = ELEMENTS.map(str::to_owned).to_vec();
        access::record(conn, access, patient_id, AccessAction::Read, elements).await?;
        Ok(found)
    })
    .await
}

/// Returns what the growth rules need of one infant of the patient: her birth date, birth
/// weight in kg and sex. Call it inside the transaction of the operation that needs them.
pub(super) async fn growth_facts(
    conn: &mut AsyncPgConnection,
    key: &PatientKey,
    clinic_id: ClinicId,
    patient_id: PatientId,
    infant_id: InfantId,
) -> Result<(NaiveDate, f64, Sex), RecordsError> {
    type Row = (uuid::Uuid, i32, Vec<u8>, Vec<u8>, Vec<u8>);
    let (id, version, birth_date, weight, sex): Row = infants::table
        .filter(infants::clinic_id.eq(clinic_id.0))
        .filter(infants::patient_id.eq(patient_id.0))
        .filter(infants::id.eq(infant_id.0))
        .select((
            infants::id,
            infants::data_key_version,
            infants::birth_date_ciphertext,
            infants::birth_weight_ciphertext,
            infants::sex_ciphertext,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or(RecordsError::NotFound)?;
    let context = |column| {
        let mut context = key.context(TABLE, column, id, DataClass::Infant);
        context.data_key_version = access::version_from_db(version);
        context
    };
    let birth_date = decrypt_birth_date(key, id, version, &birth_date)?;
    let weight: StoredWeight = key.decrypt_json(&context("birth_weight_ciphertext"), &weight)?;
    let sex: Sex = key.decrypt_json(&context("sex_ciphertext"), &sex)?;
    Ok((birth_date, weight.kilograms, sex))
}

/// Decrypts and parses the birth date of infant row `id`.
pub(super) fn decrypt_birth_date(
    key: &PatientKey,
    id: uuid::Uuid,
    version: i32,
    ciphertext: &[u8],
) -> Result<NaiveDate, RecordsError> {
    let mut context = key.context(TABLE, "birth_date_ciphertext", id, DataClass::Infant);
    context.data_key_version = access::version_from_db(version);
    key.decrypt_text(&context, ciphertext)?
        .parse()
        .map_err(|_| RecordsError::CorruptValue {
            table: TABLE,
            column: context.column,
            row_id: id,
        })
}
