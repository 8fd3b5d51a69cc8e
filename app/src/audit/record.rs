//! Appending events to the audit tables.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::chain::lock_head;
use super::hash::{access_hash, security_hash};
use super::rows::{AccessRow, SecurityRow};
use super::statements::{AppendAccess, AppendSecurity};
use super::{AuditError, AuditEventId, AuditTable, NewAccessEvent, NewSecurityEvent};

/// Records an access to a patient's data in `data_access_audit`.
///
/// Must run inside the caller's transaction, which also holds the lock on the head of one of
/// the clinic's chain shards until it ends. If the database rejects the event, for example
/// because the purpose is empty, the transaction is aborted and the access it records cannot
/// commit either.
pub async fn record_access(
    conn: &mut AsyncPgConnection,
    event: NewAccessEvent,
) -> Result<AuditEventId, AuditError> {
    let head = lock_head(conn, AuditTable::DataAccess, event.clinic_id).await?;

    let mut row = AccessRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: event.clinic_id.0,
        sequence: head.last_sequence + 1,
        occurred_at: now_in_micros(),
        actor_user_id: event.actor_user_id.map(|id| id.0),
        actor_roles: event.actor_roles,
        patient_id: event.patient_id.0,
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
        prev_hash: head.last_hash,
        hash: Vec::new(),
    };
    row.hash = access_hash(&row).to_vec();

    AppendAccess {
        row: &row,
        shard: head.shard,
    }
    .execute(conn)
    .await?;
    Ok(AuditEventId(row.id))
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
    };
    row.hash = security_hash(&row).to_vec();

    AppendSecurity {
        row: &row,
        shard: head.shard,
    }
    .execute(conn)
    .await?;
    Ok(AuditEventId(row.id))
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
