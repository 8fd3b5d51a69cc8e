//! Appending events to the audit tables.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::chain::lock_head;
use super::hash::{access_hash, security_hash};
use super::keys::{AuditKey, signing_key};
use super::rows::{AccessRow, SecurityRow};
use super::statements::{AppendAccess, AppendSecurity};
use super::{AccessAction, AuditError, AuditEventId, AuditTable, NewAccessEvent, NewSecurityEvent};

/// Records an access to a patient's data in `data_access_audit`, signed with the installed
/// audit key (see [`super::install_audit_keys`]). Only a [`AccessAction::Search`] may name no
/// patient.
///
/// Must run inside the caller's transaction, which also holds the lock on the head of one of
/// the clinic's chain shards until it ends. If the database rejects the event, for example
/// because the purpose is empty, the transaction is aborted and the access it records cannot
/// commit either.
pub async fn record_access(
    conn: &mut AsyncPgConnection,
    event: NewAccessEvent,
) -> Result<AuditEventId, AuditError> {
    let ids = record_accesses(conn, vec![event]).await?;
    ids.into_iter()
        .next()
        .ok_or(AuditError::Database(diesel::result::Error::NotFound))
}

/// Records several accesses to data of one clinic, in order, under the rules of
/// [`record_access`]. The events take consecutive places in one shard, and the shard's head
/// moves once per [`APPEND_CHUNK`] events instead of once per event, which makes a transaction
/// that records many events, such as an import, much faster.
pub async fn record_accesses(
    conn: &mut AsyncPgConnection,
    events: Vec<NewAccessEvent>,
) -> Result<Vec<AuditEventId>, AuditError> {
    let Some(clinic_id) = events.first().map(|event| event.clinic_id) else {
        return Ok(Vec::new());
    };
    if events.iter().any(|event| event.clinic_id != clinic_id) {
        return Err(AuditError::MixedClinics);
    }
    if events
        .iter()
        .any(|event| event.patient_id.is_none() && event.action != AccessAction::Search)
    {
        return Err(AuditError::PatientRequired);
    }
    let key = signing_key()?;
    let version = key_version(key)?;
    let head = lock_head(conn, AuditTable::DataAccess, clinic_id).await?;

    let mut rows = Vec::with_capacity(events.len());
    let (mut sequence, mut prev_hash) = (head.last_sequence, head.last_hash);
    for event in events {
        sequence += 1;
        let mut row = access_row(event, sequence, prev_hash, version);
        row.hash = access_hash(&row, key).to_vec();
        prev_hash = row.hash.clone();
        rows.push(row);
    }
    for chunk in rows.chunks(APPEND_CHUNK) {
        AppendAccess {
            rows: chunk,
            shard: head.shard,
        }
        .execute(conn)
        .await?;
    }
    Ok(rows.iter().map(|row| AuditEventId(row.id)).collect())
}

/// Most events inserted by one statement. Each event takes 19 bind parameters, and PostgreSQL
/// accepts at most 65,535 in one statement.
pub const APPEND_CHUNK: usize = 500;

/// Builds the row of an event at `sequence` after the event whose hash is `prev_hash`; the hash
/// is left empty.
fn access_row(
    event: NewAccessEvent,
    sequence: i64,
    prev_hash: Vec<u8>,
    key_version: i32,
) -> AccessRow {
    AccessRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: event.clinic_id.0,
        sequence,
        occurred_at: now_in_micros(),
        actor_user_id: event.actor_user_id.map(|id| id.0),
        actor_roles: event.actor_roles,
        patient_id: event.patient_id.map(|id| id.0),
        action: event.action.as_str().to_owned(),
        purpose: event.purpose,
        data_elements: event.data_elements,
        client_address: event.client.address.map(|address| address.to_string()),
        user_agent: event
            .client
            .user_agent
            .map(|text| truncate(text, MAX_USER_AGENT_CHARS)),
        request_id: event
            .client
            .request_id
            .map(|text| truncate(text, MAX_REQUEST_ID_CHARS)),
        outcome: event.outcome.as_str().to_owned(),
        emergency: event.emergency,
        prev_hash,
        hash: Vec::new(),
        key_version,
    }
}

/// Records an identity event in `security_events`, under the same transaction rules as
/// [`record_access`]. The detail must be a JSON object.
pub async fn record_security_event(
    conn: &mut AsyncPgConnection,
    event: NewSecurityEvent,
) -> Result<AuditEventId, AuditError> {
    if !event.detail.is_object() {
        return Err(AuditError::DetailNotObject);
    }
    let key = signing_key()?;
    let head = lock_head(conn, AuditTable::SecurityEvents, event.clinic_id).await?;

    let mut row = SecurityRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: event.clinic_id.0,
        sequence: head.last_sequence + 1,
        occurred_at: now_in_micros(),
        actor_user_id: event.actor_user_id.map(|id| id.0),
        subject_user_id: event.subject_user_id.map(|id| id.0),
        kind: event.kind.as_str().to_owned(),
        detail: event.detail,
        client_address: event.client.address.map(|address| address.to_string()),
        user_agent: event
            .client
            .user_agent
            .map(|text| truncate(text, MAX_USER_AGENT_CHARS)),
        request_id: event
            .client
            .request_id
            .map(|text| truncate(text, MAX_REQUEST_ID_CHARS)),
        prev_hash: head.last_hash,
        hash: Vec::new(),
        key_version: key_version(key)?,
    };
    row.hash = security_hash(&row, key).to_vec();

    AppendSecurity {
        row: &row,
        shard: head.shard,
    }
    .execute(conn)
    .await?;
    Ok(AuditEventId(row.id))
}

/// Converts the key's version for the `integer` column.
fn key_version(key: &AuditKey) -> Result<i32, AuditError> {
    i32::try_from(key.version()).map_err(|_| AuditError::InvalidKeyVersion)
}

/// Limits of the tables' CHECK constraints. Values sent by the client are cut to fit, so that an
/// overlong header cannot make the database reject the event and with it the access.
const MAX_USER_AGENT_CHARS: usize = 1000;
const MAX_REQUEST_ID_CHARS: usize = 200;

/// Cuts `text` to at most `max_chars` characters, the unit of PostgreSQL's `length()`.
fn truncate(mut text: String, max_chars: usize) -> String {
    if let Some((index, _)) = text.char_indices().nth(max_chars) {
        text.truncate(index);
    }
    text
}

/// Returns the current time truncated to the microseconds that PostgreSQL stores, so that the
/// hash computed now matches the one recomputed from the stored row.
fn now_in_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
