//! Patients: creation, reading identity fields, blind-index search and erasure.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, PatientKey, RecordKeys, version_to_db};
use super::names::{date_of_birth_index, name_token_index, name_tokens};
use super::schema::{patient_name_tokens, patients};
use crate::access::{Authorization, DataCategory};
use crate::audit::AccessAction;
use crate::crypto::DataClass;
use crate::ids::{ClinicId, PatientId, UserId};

const TABLE: &str = "patients";
const MAX_NAME_CHARS: usize = 200;
const MAX_ADDRESS_CHARS: usize = 500;
const MAX_PHONE_CHARS: usize = 40;

/// Identity fields of a new patient. Its `Debug` output hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPatient {
    /// The patient's own account, if she has one.
    pub user_id: Option<UserId>,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub address: String,
    pub phone: String,
}

/// An encrypted identity field of a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatientField {
    FullName,
    DateOfBirth,
    Address,
    Phone,
}

impl PatientField {
    pub const ALL: [PatientField; 4] = [
        PatientField::FullName,
        PatientField::DateOfBirth,
        PatientField::Address,
        PatientField::Phone,
    ];

    fn column(self) -> &'static str {
        match self {
            PatientField::FullName => "full_name_ciphertext",
            PatientField::DateOfBirth => "date_of_birth_ciphertext",
            PatientField::Address => "address_ciphertext",
            PatientField::Phone => "phone_ciphertext",
        }
    }

    /// Name of the data element in the audit trail.
    fn element(self) -> &'static str {
        match self {
            PatientField::FullName => "patient.full_name",
            PatientField::DateOfBirth => "patient.date_of_birth",
            PatientField::Address => "patient.address",
            PatientField::Phone => "patient.phone",
        }
    }
}

/// Decrypted identity fields; a field that was not requested is `None`. Its `Debug` output
/// shows only which fields are present.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PatientIdentity {
    pub full_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

/// Returns what `Debug` shows in place of an optional identifying value.
pub(super) fn redacted<T>(value: &Option<T>) -> Option<&'static str> {
    value.as_ref().map(|_| "redacted")
}

impl std::fmt::Debug for PatientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientIdentity")
            .field("full_name", &redacted(&self.full_name))
            .field("date_of_birth", &redacted(&self.date_of_birth))
            .field("address", &redacted(&self.address))
            .field("phone", &redacted(&self.phone))
            .finish()
    }
}

impl std::fmt::Debug for NewPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPatient")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Criterion of a patient search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    /// Every token of the name must match a token of the patient's name, in any order.
    Name(String),
    DateOfBirth(NaiveDate),
}

#[derive(Insertable)]
#[diesel(table_name = patients)]
pub(super) struct PatientRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    user_id: Option<uuid::Uuid>,
    data_key_wrapped: Option<Vec<u8>>,
    data_key_kek_version: Option<i32>,
    data_key_version: i32,
    full_name_ciphertext: Vec<u8>,
    date_of_birth_ciphertext: Vec<u8>,
    address_ciphertext: Vec<u8>,
    phone_ciphertext: Vec<u8>,
    date_of_birth_index: Option<Vec<u8>>,
}

#[derive(Insertable)]
#[diesel(table_name = patient_name_tokens)]
pub(super) struct NameTokenRow {
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    token_index: Vec<u8>,
}

/// A new patient's rows, encrypted, with her unwrapped data key for her further rows.
pub(super) struct EncryptedPatient {
    pub key: PatientKey,
    pub row: PatientRow,
    pub tokens: Vec<NameTokenRow>,
}

/// Checks the fields, draws the patient's data key and encrypts her identity fields.
pub(super) async fn encrypt_patient(
    keys: RecordKeys<'_>,
    clinic_id: ClinicId,
    new: &NewPatient,
) -> Result<EncryptedPatient, RecordsError> {
    let tokens = validate(new)?;
    let patient_id = PatientId::new_random();
    let (data_key, wrapped) = keys.provider.new_data_key(patient_id).await?;
    let key = PatientKey::new(patient_id, 1, data_key);

    let seal = |field: PatientField, value: &str| {
        let context = key.context(TABLE, field.column(), patient_id.0, DataClass::Contact);
        key.encrypt(&context, value.as_bytes())
    };
    let row = PatientRow {
        id: patient_id.0,
        clinic_id: clinic_id.0,
        user_id: new.user_id.map(|id| id.0),
        data_key_wrapped: Some(wrapped.bytes),
        data_key_kek_version: Some(version_to_db(wrapped.kek_version)?),
        data_key_version: version_to_db(key.version)?,
        full_name_ciphertext: seal(PatientField::FullName, new.full_name.trim())?,
        date_of_birth_ciphertext: seal(PatientField::DateOfBirth, &new.date_of_birth.to_string())?,
        address_ciphertext: seal(PatientField::Address, new.address.trim())?,
        phone_ciphertext: seal(PatientField::Phone, new.phone.trim())?,
        date_of_birth_index: Some(date_of_birth_index(
            keys.blind_index,
            clinic_id,
            new.date_of_birth,
        )),
    };
    let tokens = tokens
        .iter()
        .map(|token| NameTokenRow {
            clinic_id: clinic_id.0,
            patient_id: patient_id.0,
            token_index: name_token_index(keys.blind_index, clinic_id, token),
        })
        .collect();
    Ok(EncryptedPatient { key, row, tokens })
}

/// Returns the name's search tokens after checking every field's length.
fn validate(new: &NewPatient) -> Result<Vec<String>, RecordsError> {
    let check = |value: &str, min: usize, max: usize, field: &str| {
        let length = value.trim().chars().count();
        if length < min || length > max {
            return Err(RecordsError::InvalidInput(format!(
                "{field} must be {min} to {max} characters"
            )));
        }
        Ok(())
    };
    check(&new.full_name, 1, MAX_NAME_CHARS, "full name")?;
    // Address and phone may be empty: a patient invited to the portal gives them later.
    check(&new.address, 0, MAX_ADDRESS_CHARS, "address")?;
    check(&new.phone, 0, MAX_PHONE_CHARS, "phone")?;

    let tokens = name_tokens(&new.full_name);
    if tokens.is_empty() {
        return Err(RecordsError::InvalidInput(
            "full name must contain at least one letter or digit".to_owned(),
        ));
    }
    Ok(tokens)
}

/// Inserts encrypted patients and their name tokens.
pub(super) async fn insert_patients(
    conn: &mut AsyncPgConnection,
    rows: &[PatientRow],
    tokens: &[NameTokenRow],
) -> Result<(), RecordsError> {
    // Eleven parameters per row keep 5,000 rows below PostgreSQL's 65,535 parameter limit.
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(patients::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    // Batches keep each statement below PostgreSQL's limit of 65,535 bound parameters.
    for chunk in tokens.chunks(10_000) {
        diesel::insert_into(patient_name_tokens::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Creates a patient in the caller's clinic with a fresh data key.
pub async fn create_patient(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    new: &NewPatient,
) -> Result<PatientId, RecordsError> {
    access.validate()?;
    let encrypted = encrypt_patient(keys, access.clinic_id, new).await?;
    let patient_id = encrypted.key.patient_id;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        insert_patients(conn, &[encrypted.row], &encrypted.tokens).await?;
        let elements = PatientField::ALL.map(|field| field.element().to_owned());
        access::record(
            conn,
            access,
            patient_id,
            AccessAction::Write,
            elements.to_vec(),
        )
        .await
    })
    .await?;
    Ok(patient_id)
}

/// Decrypts the requested identity fields of the authorized patient.
pub async fn read_patient_identity(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    fields: &[PatientField],
) -> Result<PatientIdentity, RecordsError> {
    let (access, patient_id, audited) = authorization.read_scope(DataCategory::Contact)?;
    access.validate()?;
    if fields.is_empty() {
        return Err(RecordsError::InvalidInput(
            "request at least one identity field".to_owned(),
        ));
    }

    crate::db::in_transaction(conn, async move |conn| {
        // The wrapped data key comes with the row, one query instead of two.
        type Row = ((Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>), access::WrappedKeyRow);
        let row: Option<Row> = patients::table
            .find((access.clinic_id.0, patient_id.0))
            .select((
                (
                    patients::full_name_ciphertext,
                    patients::date_of_birth_ciphertext,
                    patients::address_ciphertext,
                    patients::phone_ciphertext,
                ),
                access::WRAPPED_KEY_COLUMNS,
            ))
            .first(conn)
            .await
            .optional()?;
        let Some(((name, birth, address, phone), wrapped_key)) = row else {
            return Err(RecordsError::NotFound);
        };
        let key =
            access::patient_key_of_row(keys.provider, access.clinic_id, patient_id, wrapped_key)
                .await?;

        let open = |field: PatientField, ciphertext: &[u8]| -> Result<String, RecordsError> {
            let context = key.context(TABLE, field.column(), patient_id.0, DataClass::Contact);
            key.decrypt_text(&context, ciphertext)
        };
        let mut identity = PatientIdentity::default();
        for field in fields {
            match field {
                PatientField::FullName => identity.full_name = Some(open(*field, &name)?),
                PatientField::DateOfBirth => {
                    let text = open(*field, &birth)?;
                    identity.date_of_birth =
                        Some(text.parse().map_err(|_| RecordsError::CorruptValue {
                            table: TABLE,
                            column: field.column(),
                            row_id: patient_id.0,
                        })?);
                }
                PatientField::Address => identity.address = Some(open(*field, &address)?),
                PatientField::Phone => identity.phone = Some(open(*field, &phone)?),
            }
        }

        let elements = fields
            .iter()
            .map(|field| field.element().to_owned())
            .collect();
        access::record(conn, access, patient_id, audited, elements).await?;
        Ok(identity)
    })
    .await
}

/// Erases a patient by destroying her wrapped data key (crypto-shredding) and her blind
/// indexes. Her ciphertexts stay in place, but the database no longer holds a key for them, so
/// every later read fails with [`RecordsError::Erased`]. Her infants' records are encrypted under
/// the same key and become unreadable too. The erasure is recorded as a delete.
///
/// A backup taken before the erasure still contains the wrapped key. It becomes unreadable once
/// the KEK is rotated and the old KEK version is destroyed.
// NOTE: the patient's own portal account in `users`, if she has one, keeps its separate data key
// and is not erased or deactivated here.
pub async fn erase_patient(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
) -> Result<(), RecordsError> {
    access.validate()?;
    let clinic_id = access.clinic_id;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let erased = diesel::update(
            patients::table
                .find((clinic_id.0, patient_id.0))
                .filter(patients::erased_at.is_null()),
        )
        .set((
            patients::data_key_wrapped.eq(None::<Vec<u8>>),
            patients::data_key_kek_version.eq(None::<i32>),
            patients::date_of_birth_index.eq(None::<Vec<u8>>),
            patients::erased_at.eq(Some(Utc::now())),
        ))
        .execute(conn)
        .await?;
        if erased == 0 {
            return Err(patient_missing_or_erased(conn, clinic_id, patient_id).await);
        }
        diesel::delete(
            patient_name_tokens::table
                .filter(patient_name_tokens::clinic_id.eq(clinic_id.0))
                .filter(patient_name_tokens::patient_id.eq(patient_id.0)),
        )
        .execute(conn)
        .await?;

        let elements = vec!["patient.data_key".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Delete, elements).await
    })
    .await
}

async fn patient_missing_or_erased(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> RecordsError {
    let exists = patients::table
        .find((clinic_id.0, patient_id.0))
        .select(patients::id)
        .first::<uuid::Uuid>(conn)
        .await
        .optional();
    match exists {
        Ok(Some(_)) => RecordsError::Erased,
        Ok(None) => RecordsError::NotFound,
        Err(error) => RecordsError::Database(error),
    }
}

/// The clinic and portal account of a patient, which the access policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientOwner {
    pub clinic: ClinicId,
    pub user: Option<UserId>,
}

/// Returns the clinic and account of a patient who exists and is not erased, in any clinic. It
/// reads no encrypted field and writes no audit event: the policy calls it before deciding.
pub async fn patient_owner(
    conn: &mut AsyncPgConnection,
    patient_id: PatientId,
) -> Result<Option<PatientOwner>, RecordsError> {
    let mut owners = patient_owners(conn, &[patient_id]).await?;
    Ok(owners.remove(&patient_id))
}

/// Returns [`patient_owner`] of each of `patient_ids` in one query; a patient who does not
/// exist or is erased is left out.
pub async fn patient_owners(
    conn: &mut AsyncPgConnection,
    patient_ids: &[PatientId],
) -> Result<HashMap<PatientId, PatientOwner>, RecordsError> {
    let owners = patients::table
        .filter(patients::erased_at.is_null())
        .select((patients::id, patients::clinic_id, patients::user_id));
    // A single patient (a chart, a portal page) is compared with `=`, because PostgreSQL keeps
    // a plan for that lookup but planned `= ANY` again at every execution (BENCHMARKS.md).
    let rows: Vec<(uuid::Uuid, uuid::Uuid, Option<uuid::Uuid>)> = match patient_ids {
        [patient] => owners.filter(patients::id.eq(patient.0)).load(conn).await?,
        _ => {
            let ids: Vec<uuid::Uuid> = patient_ids.iter().map(|patient| patient.0).collect();
            owners.filter(patients::id.eq_any(ids)).load(conn).await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, clinic, user)| {
            let owner = PatientOwner {
                clinic: ClinicId(clinic),
                user: user.map(UserId),
            };
            (PatientId(id), owner)
        })
        .collect())
}
