//! Clinical entries (structured JSON documents such as a birth outcome) and clinical notes
//! (free text), each with a data classification.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::RecordsError;
use super::access::{self, PatientKey, RecordKeys, version_from_db, version_to_db};
use super::infants::ensure_infant_of;
use super::schema::{clinical_entries, clinical_notes};
use crate::access::{Action, Authorization, DataCategory};
use crate::audit::AccessAction;
use crate::crypto::DataClass;
use crate::ids::{ClinicId, InfantId, PatientId, UserId};

const ENTRIES: &str = "clinical_entries";
const NOTES: &str = "clinical_notes";
const MAX_ENTRY_TYPE_CHARS: usize = 63;
/// Maximum length of a note body, in characters.
const MAX_NOTE_CHARS: usize = 20_000;

/// Clinical data classification of an entry or a note. Contact data has its own columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Maternal,
    Infant,
    MentalHealth,
    FamilyHistory,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Maternal,
        Classification::Infant,
        Classification::MentalHealth,
        Classification::FamilyHistory,
    ];

    pub fn data_class(self) -> DataClass {
        match self {
            Classification::Maternal => DataClass::Maternal,
            Classification::Infant => DataClass::Infant,
            Classification::MentalHealth => DataClass::MentalHealth,
            Classification::FamilyHistory => DataClass::FamilyHistory,
        }
    }

    /// Value stored in the `classification` columns.
    pub fn as_str(self) -> &'static str {
        self.data_class().label()
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|class| class.as_str() == text)
    }

    /// The access-policy category of data in this classification.
    pub fn category(self) -> DataCategory {
        match self {
            Classification::Maternal => DataCategory::Maternal,
            Classification::Infant => DataCategory::Infant,
            Classification::MentalHealth => DataCategory::MentalHealth,
            Classification::FamilyHistory => DataCategory::FamilyHistory,
        }
    }

    /// The classification of a clinical category; `None` for contact data and care logistics.
    pub fn from_category(category: DataCategory) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|class| class.category() == category)
    }
}

/// A new structured entry, such as `birth_outcome` with delivery type and parity.
#[derive(Debug, Clone, PartialEq)]
pub struct NewClinicalEntry {
    pub classification: Classification,
    pub infant_id: Option<InfantId>,
    /// Lower-case name of the document type: a letter, then letters, digits or underscores.
    pub entry_type: String,
    pub recorded_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

/// A stored entry with its decrypted payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicalEntry {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub infant_id: Option<InfantId>,
    pub classification: Classification,
    pub entry_type: String,
    pub recorded_at: DateTime<Utc>,
    pub author: UserId,
    pub payload: serde_json::Value,
}

/// A new free-text note. Its `Debug` output hides the body.
#[derive(Clone, PartialEq, Eq)]
pub struct NewClinicalNote {
    pub classification: Classification,
    pub written_at: DateTime<Utc>,
    pub body: String,
}

/// A stored note with its decrypted body. Its `Debug` output hides the body.
#[derive(Clone, PartialEq, Eq)]
pub struct ClinicalNote {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub classification: Classification,
    pub written_at: DateTime<Utc>,
    pub author: UserId,
    pub body: String,
}

impl std::fmt::Debug for NewClinicalNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClinicalNote")
            .field("classification", &self.classification)
            .field("written_at", &self.written_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ClinicalNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicalNote")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("classification", &self.classification)
            .field("written_at", &self.written_at)
            .field("author", &self.author)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = clinical_entries)]
pub(super) struct EntryRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    infant_id: Option<uuid::Uuid>,
    classification: &'static str,
    author_user_id: uuid::Uuid,
    recorded_at: DateTime<Utc>,
    entry_type: String,
    data_key_version: i32,
    payload_ciphertext: Vec<u8>,
}

fn valid_entry_type(entry_type: &str) -> bool {
    let mut chars = entry_type.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && entry_type.len() <= MAX_ENTRY_TYPE_CHARS
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Validates and encrypts an entry written by `author`.
pub(super) fn encrypt_entry(
    key: &PatientKey,
    clinic_id: ClinicId,
    author: UserId,
    new: &NewClinicalEntry,
) -> Result<EntryRow, RecordsError> {
    if !valid_entry_type(&new.entry_type) {
        return Err(RecordsError::InvalidInput(
            "entry type must be 1 to 63 lower-case letters, digits or underscores, starting with a letter"
                .to_owned(),
        ));
    }
    let id = uuid::Uuid::new_v4();
    let context = key.context(
        ENTRIES,
        "payload_ciphertext",
        id,
        new.classification.data_class(),
    );
    Ok(EntryRow {
        id,
        clinic_id: clinic_id.0,
        patient_id: key.patient_id.0,
        infant_id: new.infant_id.map(|infant| infant.0),
        classification: new.classification.as_str(),
        author_user_id: author.0,
        recorded_at: new.recorded_at,
        entry_type: new.entry_type.clone(),
        data_key_version: version_to_db(key.version)?,
        payload_ciphertext: key.encrypt_json(&context, &new.payload)?,
    })
}

pub(super) async fn insert_entries(
    conn: &mut AsyncPgConnection,
    rows: &[EntryRow],
) -> Result<(), RecordsError> {
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(clinical_entries::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn element(prefix: &str, classification: Classification) -> String {
    format!("{prefix}.{}", classification.as_str())
}

/// Adds a structured clinical entry to the authorized patient's record.
pub async fn add_clinical_entry(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    new: &NewClinicalEntry,
) -> Result<uuid::Uuid, RecordsError> {
    let (access, patient_id) = authorization.scope(new.classification.category(), Action::Write)?;
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        if let Some(infant_id) = new.infant_id {
            ensure_infant_of(conn, access.clinic_id, patient_id, infant_id).await?;
        }
        let row = encrypt_entry(&key, access.clinic_id, access.actor, new)?;
        let id = row.id;
        insert_entries(conn, &[row]).await?;

        let elements = vec![element("clinical_entry", new.classification)];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists the authorized patient's clinical entries of one classification, oldest first.
pub async fn list_clinical_entries(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    classification: Classification,
) -> Result<Vec<ClinicalEntry>, RecordsError> {
    load_entries(conn, keys, authorization, classification, None).await
}

/// Loads entries of one classification, all of them or only the one with id `only`.
pub(super) async fn load_entries(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    classification: Classification,
    only: Option<uuid::Uuid>,
) -> Result<Vec<ClinicalEntry>, RecordsError> {
    let (access, patient_id, audited) = authorization.read_scope(classification.category())?;
    access.validate()?;

    crate::db::in_transaction(conn, async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        type Row = (
            uuid::Uuid,
            Option<uuid::Uuid>,
            String,
            DateTime<Utc>,
            uuid::Uuid,
            i32,
            Vec<u8>,
        );
        let mut query = clinical_entries::table
            .filter(clinical_entries::clinic_id.eq(access.clinic_id.0))
            .filter(clinical_entries::patient_id.eq(patient_id.0))
            .filter(clinical_entries::classification.eq(classification.as_str()))
            .into_boxed();
        if let Some(id) = only {
            query = query.filter(clinical_entries::id.eq(id));
        }
        let rows: Vec<Row> = query
            .order((clinical_entries::recorded_at, clinical_entries::id))
            .select((
                clinical_entries::id,
                clinical_entries::infant_id,
                clinical_entries::entry_type,
                clinical_entries::recorded_at,
                clinical_entries::author_user_id,
                clinical_entries::data_key_version,
                clinical_entries::payload_ciphertext,
            ))
            .load(conn)
            .await?;

        let mut found = Vec::with_capacity(rows.len());
        for (id, infant_id, entry_type, recorded_at, author, version, ciphertext) in rows {
            let mut context = key.context(
                ENTRIES,
                "payload_ciphertext",
                id,
                classification.data_class(),
            );
            context.data_key_version = version_from_db(version);
            found.push(ClinicalEntry {
                id,
                patient_id,
                infant_id: infant_id.map(InfantId),
                classification,
                entry_type,
                recorded_at,
                author: UserId(author),
                payload: key.decrypt_json(&context, &ciphertext)?,
            });
        }

        let elements = vec![element("clinical_entry", classification)];
        access::record(conn, access, patient_id, audited, elements).await?;
        Ok(found)
    })
    .await
}

/// Adds a free-text clinical note written by the caller to the authorized patient's record.
pub async fn add_note(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    new: &NewClinicalNote,
) -> Result<uuid::Uuid, RecordsError> {
    let (access, patient_id) = authorization.scope(new.classification.category(), Action::Write)?;
    access.validate()?;
    let length = new.body.trim().chars().count();
    if length == 0 || length > MAX_NOTE_CHARS {
        return Err(RecordsError::InvalidInput(format!(
            "a note must be 1 to {MAX_NOTE_CHARS} characters"
        )));
    }

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        let id = uuid::Uuid::new_v4();
        let context = key.context(
            NOTES,
            "body_ciphertext",
            id,
            new.classification.data_class(),
        );
        diesel::insert_into(clinical_notes::table)
            .values((
                clinical_notes::id.eq(id),
                clinical_notes::clinic_id.eq(access.clinic_id.0),
                clinical_notes::patient_id.eq(patient_id.0),
                clinical_notes::classification.eq(new.classification.as_str()),
                clinical_notes::author_user_id.eq(access.actor.0),
                clinical_notes::written_at.eq(new.written_at),
                clinical_notes::data_key_version.eq(version_to_db(key.version)?),
                clinical_notes::body_ciphertext.eq(key.encrypt(&context, new.body.as_bytes())?),
            ))
            .execute(conn)
            .await?;

        let elements = vec![element("clinical_note", new.classification)];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists the authorized patient's notes of one classification with their bodies, oldest first.
pub async fn list_notes(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    classification: Classification,
) -> Result<Vec<ClinicalNote>, RecordsError> {
    let mut lists =
        list_notes_by_classification(conn, keys, &[(authorization, classification)]).await?;
    Ok(lists.pop().unwrap_or_default())
}

/// Lists one patient's notes of several classifications in one query, each classification
/// read under its own authorization and recorded as an access event. The lists come back in
/// the order of `reads`, each oldest first.
pub async fn list_notes_by_classification(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    reads: &[(&Authorization, Classification)],
) -> Result<Vec<Vec<ClinicalNote>>, RecordsError> {
    let mut scopes = Vec::with_capacity(reads.len());
    for (authorization, classification) in reads {
        let scope = authorization.read_scope(classification.category())?;
        scope.0.validate()?;
        scopes.push(scope);
    }
    let Some((clinic_id, patient_id)) = access::one_patient(&scopes, "notes")? else {
        return Ok(Vec::new());
    };
    let classifications: Vec<Classification> = reads.iter().map(|(_, class)| *class).collect();
    let names: Vec<&str> = classifications.iter().map(|class| class.as_str()).collect();

    crate::db::in_transaction(conn, async move |conn| {
        let key = access::patient_key(conn, keys.provider, clinic_id, patient_id).await?;
        type Row = (uuid::Uuid, String, DateTime<Utc>, uuid::Uuid, i32, Vec<u8>);
        let rows: Vec<Row> = clinical_notes::table
            .filter(clinical_notes::clinic_id.eq(clinic_id.0))
            .filter(clinical_notes::patient_id.eq(patient_id.0))
            .filter(clinical_notes::classification.eq_any(&names))
            .order((clinical_notes::written_at, clinical_notes::id))
            .select((
                clinical_notes::id,
                clinical_notes::classification,
                clinical_notes::written_at,
                clinical_notes::author_user_id,
                clinical_notes::data_key_version,
                clinical_notes::body_ciphertext,
            ))
            .load(conn)
            .await?;

        let mut found: Vec<Vec<ClinicalNote>> = vec![Vec::new(); classifications.len()];
        for (id, class, written_at, author, version, ciphertext) in rows {
            let Some(index) = names.iter().position(|name| *name == class) else {
                return Err(RecordsError::CorruptValue {
                    table: NOTES,
                    column: "classification",
                    row_id: id,
                });
            };
            let classification = classifications[index];
            let mut context =
                key.context(NOTES, "body_ciphertext", id, classification.data_class());
            context.data_key_version = version_from_db(version);
            found[index].push(ClinicalNote {
                id,
                patient_id,
                classification,
                written_at,
                author: UserId(author),
                body: key.decrypt_text(&context, &ciphertext)?,
            });
        }

        for ((access, patient_id, audited), classification) in scopes.iter().zip(&classifications) {
            let elements = vec![element("clinical_note", *classification)];
            access::record(conn, access, *patient_id, *audited, elements).await?;
        }
        Ok(found)
    })
    .await
}
