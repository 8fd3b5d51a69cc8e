//! The `data_exports` table: the queue of exports and their states.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ExportStatus;
use crate::access::DataCategory;
use crate::error::AppError;
use crate::ids::{ClinicId, ExportId, PatientId, UserId};

diesel::table! {
    data_exports (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        requester_user_id -> Uuid,
        recipient -> Text,
        purpose -> Text,
        data_categories -> Array<Text>,
        status -> Text,
        requested_at -> Timestamptz,
        built_at -> Nullable<Timestamptz>,
        released_at -> Nullable<Timestamptz>,
        withheld_at -> Nullable<Timestamptz>,
        withheld_reason -> Nullable<Text>,
        data_key_version -> Nullable<Int4>,
        bundle_ciphertext -> Nullable<Bytea>,
    }
}

/// Columns of an export without its bundle.
type Columns = (
    data_exports::id,
    data_exports::clinic_id,
    data_exports::patient_id,
    data_exports::requester_user_id,
    data_exports::recipient,
    data_exports::purpose,
    data_exports::data_categories,
    data_exports::status,
    data_exports::requested_at,
    data_exports::built_at,
    data_exports::released_at,
    data_exports::withheld_reason,
);

const COLUMNS: Columns = (
    data_exports::id,
    data_exports::clinic_id,
    data_exports::patient_id,
    data_exports::requester_user_id,
    data_exports::recipient,
    data_exports::purpose,
    data_exports::data_categories,
    data_exports::status,
    data_exports::requested_at,
    data_exports::built_at,
    data_exports::released_at,
    data_exports::withheld_reason,
);

type Row = (
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    Vec<String>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// A stored export, without its bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub id: ExportId,
    /// The patient's clinic.
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub requester: UserId,
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<DataCategory>,
    pub status: ExportStatus,
    pub requested_at: DateTime<Utc>,
    pub built_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub withheld_reason: Option<String>,
}

fn corrupt(id: uuid::Uuid, column: &str) -> AppError {
    tracing::error!(%id, column, "data export row contains an invalid value");
    AppError::internal()
}

fn from_row(row: Row) -> Result<ExportRow, AppError> {
    let id = row.0;
    let categories = row
        .6
        .iter()
        .map(|name| {
            DataCategory::ALL
                .into_iter()
                .find(|category| category.as_str() == name)
                .ok_or_else(|| corrupt(id, "data_categories"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ExportRow {
        id: ExportId(id),
        clinic_id: ClinicId(row.1),
        patient_id: PatientId(row.2),
        requester: UserId(row.3),
        recipient: row.4,
        purpose: row.5,
        categories,
        status: ExportStatus::parse(&row.7).ok_or_else(|| corrupt(id, "status"))?,
        requested_at: row.8,
        built_at: row.9,
        released_at: row.10,
        withheld_reason: row.11,
    })
}

/// Inserts a queued export.
pub async fn insert_queued(conn: &mut AsyncPgConnection, row: &ExportRow) -> Result<(), AppError> {
    let names: Vec<&str> = row
        .categories
        .iter()
        .map(|category| category.as_str())
        .collect();
    diesel::insert_into(data_exports::table)
        .values((
            data_exports::id.eq(row.id.0),
            data_exports::clinic_id.eq(row.clinic_id.0),
            data_exports::patient_id.eq(row.patient_id.0),
            data_exports::requester_user_id.eq(row.requester.0),
            data_exports::recipient.eq(&row.recipient),
            data_exports::purpose.eq(&row.purpose),
            data_exports::data_categories.eq(names),
            data_exports::status.eq(ExportStatus::Queued.as_str()),
            data_exports::requested_at.eq(row.requested_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Loads an export of `requester`, locked for update until the transaction ends. An export of
/// anyone else is not found.
pub async fn lock_for_requester(
    conn: &mut AsyncPgConnection,
    requester: UserId,
    id: ExportId,
) -> Result<Option<ExportRow>, AppError> {
    let row: Option<Row> = data_exports::table
        .filter(data_exports::id.eq(id.0))
        .filter(data_exports::requester_user_id.eq(requester.0))
        .select(COLUMNS)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    row.map(from_row).transpose()
}

/// Loads a queued export, locked for update; `None` when it is gone or no longer queued. Other
/// workers skip a row that one worker holds.
pub async fn lock_queued(
    conn: &mut AsyncPgConnection,
    id: ExportId,
) -> Result<Option<ExportRow>, AppError> {
    let row: Option<Row> = data_exports::table
        .filter(data_exports::id.eq(id.0))
        .filter(data_exports::status.eq(ExportStatus::Queued.as_str()))
        .select(COLUMNS)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?;
    row.map(from_row).transpose()
}

/// Returns the oldest queued exports, up to `limit`.
pub async fn queued(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<ExportId>, AppError> {
    let ids: Vec<uuid::Uuid> = data_exports::table
        .filter(data_exports::status.eq(ExportStatus::Queued.as_str()))
        .order((data_exports::requested_at, data_exports::id))
        .select(data_exports::id)
        .limit(limit)
        .load(conn)
        .await?;
    Ok(ids.into_iter().map(ExportId).collect())
}

/// Lists the exports of `patient` that `requester` asked for, newest first.
pub async fn list_for_requester(
    conn: &mut AsyncPgConnection,
    requester: UserId,
    patient: PatientId,
) -> Result<Vec<ExportRow>, AppError> {
    let rows: Vec<Row> = data_exports::table
        .filter(data_exports::requester_user_id.eq(requester.0))
        .filter(data_exports::patient_id.eq(patient.0))
        .order((data_exports::requested_at.desc(), data_exports::id))
        .select(COLUMNS)
        .load(conn)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// Returns the sealed bundle of an export, or `None` when it has none.
pub async fn bundle(
    conn: &mut AsyncPgConnection,
    row: &ExportRow,
) -> Result<Option<Vec<u8>>, AppError> {
    let found: Option<Option<Vec<u8>>> = data_exports::table
        .find((row.clinic_id.0, row.id.0))
        .select(data_exports::bundle_ciphertext)
        .first(conn)
        .await
        .optional()?;
    Ok(found.flatten())
}

/// Stores the sealed bundle and marks the export ready.
pub async fn mark_ready(
    conn: &mut AsyncPgConnection,
    row: &ExportRow,
    bundle: Vec<u8>,
    data_key_version: i32,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(data_exports::table.find((row.clinic_id.0, row.id.0)))
        .set((
            data_exports::status.eq(ExportStatus::Ready.as_str()),
            data_exports::built_at.eq(Some(at)),
            data_exports::bundle_ciphertext.eq(Some(bundle)),
            data_exports::data_key_version.eq(Some(data_key_version)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the bundle and marks the export released.
pub async fn mark_released(
    conn: &mut AsyncPgConnection,
    row: &ExportRow,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(data_exports::table.find((row.clinic_id.0, row.id.0)))
        .set((
            data_exports::status.eq(ExportStatus::Released.as_str()),
            data_exports::released_at.eq(Some(at)),
            data_exports::bundle_ciphertext.eq(None::<Vec<u8>>),
            data_exports::data_key_version.eq(None::<i32>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the bundle, if any, and marks the export withheld with `reason`.
pub async fn mark_withheld(
    conn: &mut AsyncPgConnection,
    row: &ExportRow,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(data_exports::table.find((row.clinic_id.0, row.id.0)))
        .set((
            data_exports::status.eq(ExportStatus::Withheld.as_str()),
            data_exports::withheld_at.eq(Some(at)),
            data_exports::withheld_reason.eq(Some(reason)),
            data_exports::bundle_ciphertext.eq(None::<Vec<u8>>),
            data_exports::data_key_version.eq(None::<i32>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
