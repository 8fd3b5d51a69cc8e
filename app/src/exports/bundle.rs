//! The content of an export bundle: the permitted categories of one patient's record, read
//! through the record store under export authorizations, so each read is audited as an export.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::store::ExportRow;
use crate::access::{Authorization, DataCategory};
use crate::error::AppError;
use crate::records::{self, Classification, ObservationKind, PatientField, RecordKeys};

/// Builds the bundle's JSON document. `authorizations` contains one export authorization per
/// category of the export; nothing outside those categories is read.
pub async fn build(
    conn: &mut diesel_async::AsyncPgConnection,
    keys: RecordKeys<'_>,
    row: &ExportRow,
    authorizations: &[Authorization],
    at: DateTime<Utc>,
) -> Result<String, AppError> {
    let mut data = serde_json::Map::new();
    for authorization in authorizations {
        let category = authorization.category();
        let section = match Classification::from_category(category) {
            Some(classification) => {
                clinical_section(conn, keys, authorization, classification).await?
            }
            None => contact_section(conn, keys, authorization).await?,
        };
        data.insert(category.as_str().to_owned(), section);
    }
    let document = json!({
        "export_id": row.id,
        "patient_id": row.patient_id,
        "recipient": row.recipient,
        "purpose": row.purpose,
        "generated_at": at.to_rfc3339(),
        "categories": row.categories.iter().map(|category| category.as_str()).collect::<Vec<_>>(),
        "data": data,
    });
    Ok(document.to_string())
}

/// Reads the entries, notes and observations of one clinical category.
async fn clinical_section(
    conn: &mut diesel_async::AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    classification: Classification,
) -> Result<Value, AppError> {
    let entries = records::list_clinical_entries(conn, keys, authorization, classification).await?;
    let notes = records::list_notes(conn, keys, authorization, classification).await?;
    let observations = if has_observations(authorization.category()) {
        records::list_observations(conn, keys, authorization, ObservationKind::ALL).await?
    } else {
        Vec::new()
    };
    Ok(json!({
        "entries": entries.into_iter().map(|entry| json!({
            "id": entry.id,
            "infant_id": entry.infant_id,
            "entry_type": entry.entry_type,
            "recorded_at": entry.recorded_at.to_rfc3339(),
            "content": entry.payload,
        })).collect::<Vec<_>>(),
        "notes": notes.into_iter().map(|note| json!({
            "id": note.id,
            "written_at": note.written_at.to_rfc3339(),
            "body": note.body,
        })).collect::<Vec<_>>(),
        "observations": observations.into_iter().map(|observation| json!({
            "id": observation.id,
            "infant_id": observation.infant_id,
            "observed_at": observation.observed_at.to_rfc3339(),
            "value": observation.value,
        })).collect::<Vec<_>>(),
    }))
}

/// Family history has entries and notes but no observations.
fn has_observations(category: DataCategory) -> bool {
    matches!(
        category,
        DataCategory::Maternal | DataCategory::Infant | DataCategory::MentalHealth
    )
}

/// Reads the patient's name, date of birth, address and phone number.
async fn contact_section(
    conn: &mut diesel_async::AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
) -> Result<Value, AppError> {
    let identity =
        records::read_patient_identity(conn, keys, authorization, &PatientField::ALL).await?;
    Ok(json!({
        "full_name": identity.full_name,
        "date_of_birth": identity.date_of_birth.map(|date| date.to_string()),
        "address": identity.address,
        "phone": identity.phone,
    }))
}
