//! Appending events to the audit tables.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::chain::{ChainHead, ensure_in_transaction, lock_head, remember, take_remembered};
use super::hash::{access_hash, security_hash};
use super::keys::{AuditKey, signing_key};
use super::rows::{AccessRow, SecurityRow};
use super::statements::{AppendAccess, AppendAccessGroups, AppendSecurity};
use super::{AccessAction, AuditError, AuditEventId, AuditTable, NewAccessEvent, NewSecurityEvent};
use crate::ids::ClinicId;

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
    check_events(&events, clinic_id)?;
    let key = signing_key()?;
    let version = key_version(key)?;
    let mut rows: Vec<AccessRow> = events
        .into_iter()
        .map(|event| access_row(event, version))
        .collect();
    append(conn, AuditTable::DataAccess, clinic_id, &mut rows, key).await?;
    Ok(rows.iter().map(|row| AuditEventId(row.id)).collect())
}

/// Records the accesses of several clinics in the caller's transaction: each list contains the
/// events of one clinic, and no two lists name the same clinic. Returns the ids list by list.
///
/// When this process remembers a head of each clinic and the events fit one statement, all of
/// them are appended by that one statement. A clinic whose remembered head has moved or is
/// held by another transaction, or that has none, is then appended as [`record_accesses`]
/// appends.
pub async fn record_clinic_accesses(
    conn: &mut AsyncPgConnection,
    groups: Vec<Vec<NewAccessEvent>>,
) -> Result<Vec<Vec<AuditEventId>>, AuditError> {
    ensure_in_transaction(conn)?;
    let key = signing_key()?;
    let version = key_version(key)?;
    let mut clinics = Vec::with_capacity(groups.len());
    let mut pending = Vec::with_capacity(groups.len());
    for events in groups {
        let Some(clinic_id) = events.first().map(|event| event.clinic_id) else {
            return Err(AuditError::Database(
                diesel::result::Error::QueryBuilderError(
                    "each clinic's list of events must hold one at least".into(),
                ),
            ));
        };
        check_events(&events, clinic_id)?;
        if clinics.contains(&clinic_id) {
            return Err(AuditError::MixedClinics);
        }
        clinics.push(clinic_id);
        let rows: Vec<AccessRow> = events
            .into_iter()
            .map(|event| access_row(event, version))
            .collect();
        pending.push((clinic_id, rows));
    }
    let mut done: Vec<Option<Vec<AccessRow>>> = vec![None; pending.len()];

    let total: usize = pending.iter().map(|(_, rows)| rows.len()).sum();
    if pending.len() > 1 && total <= APPEND_CHUNK {
        let mut together = Vec::new();
        let mut alone = Vec::new();
        for (index, (clinic_id, mut rows)) in pending.into_iter().enumerate() {
            match take_remembered(AuditTable::DataAccess, clinic_id) {
                Some(head) => {
                    let moved = link_after(&head, &mut rows, key);
                    together.push((index, clinic_id, head, moved, rows));
                }
                None => alone.push((index, clinic_id, rows)),
            }
        }
        let groups: Vec<(ChainHead, Vec<AccessRow>)> = together
            .iter()
            .map(|(_, _, head, _, rows)| (head.clone(), rows.clone()))
            .collect();
        let appended: Vec<uuid::Uuid> = if groups.is_empty() {
            Vec::new()
        } else {
            AppendAccessGroups { groups: &groups }.load(conn).await?
        };
        for (index, clinic_id, _, moved, rows) in together {
            if appended.contains(&clinic_id.0) {
                remember(AuditTable::DataAccess, clinic_id, moved);
                done[index] = Some(rows);
            } else {
                alone.push((index, clinic_id, rows));
            }
        }
        pending = Vec::new();
        for (index, clinic_id, mut rows) in alone {
            append(conn, AuditTable::DataAccess, clinic_id, &mut rows, key).await?;
            done[index] = Some(rows);
        }
    }
    for (index, (clinic_id, mut rows)) in pending.into_iter().enumerate() {
        append(conn, AuditTable::DataAccess, clinic_id, &mut rows, key).await?;
        done[index] = Some(rows);
    }
    Ok(done
        .into_iter()
        .map(|rows| {
            rows.unwrap_or_default()
                .iter()
                .map(|row| AuditEventId(row.id))
                .collect()
        })
        .collect())
}

/// Checks events that are to be recorded together for `clinic_id`.
fn check_events(events: &[NewAccessEvent], clinic_id: ClinicId) -> Result<(), AuditError> {
    if events.iter().any(|event| event.clinic_id != clinic_id) {
        return Err(AuditError::MixedClinics);
    }
    if events
        .iter()
        .any(|event| event.patient_id.is_none() && event.action != AccessAction::Search)
    {
        return Err(AuditError::PatientRequired);
    }
    Ok(())
}

/// Links `rows` as the events that follow `head` and returns the head of the shard once they
/// are appended.
fn link_after<R: ChainedRow>(head: &ChainHead, rows: &mut [R], key: &AuditKey) -> ChainHead {
    let mut position = head.clone();
    for row in rows.iter_mut() {
        position.last_sequence += 1;
        position.last_hash = row.link(position.last_sequence, position.last_hash, key);
    }
    position
}

/// A row of an audit table that takes a place in a shard's chain.
trait ChainedRow: Sized {
    /// Places the row at `sequence` after the event whose hash is `prev_hash`, signs it with
    /// `key` and returns its hash.
    fn link(&mut self, sequence: i64, prev_hash: Vec<u8>, key: &AuditKey) -> Vec<u8>;

    /// Runs the append statement for `rows`, consecutive events after `head`. Returns true if
    /// it appended them and false if it found the head moved or locked by another transaction.
    async fn insert_after(
        conn: &mut AsyncPgConnection,
        rows: &[Self],
        head: &ChainHead,
    ) -> Result<bool, AuditError>;
}

impl ChainedRow for AccessRow {
    fn link(&mut self, sequence: i64, prev_hash: Vec<u8>, key: &AuditKey) -> Vec<u8> {
        self.sequence = sequence;
        self.prev_hash = prev_hash;
        self.hash = access_hash(self, key).to_vec();
        self.hash.clone()
    }

    async fn insert_after(
        conn: &mut AsyncPgConnection,
        rows: &[Self],
        head: &ChainHead,
    ) -> Result<bool, AuditError> {
        let moved = AppendAccess { rows, head }.execute(conn).await?;
        Ok(moved == 1)
    }
}

impl ChainedRow for SecurityRow {
    fn link(&mut self, sequence: i64, prev_hash: Vec<u8>, key: &AuditKey) -> Vec<u8> {
        self.sequence = sequence;
        self.prev_hash = prev_hash;
        self.hash = security_hash(self, key).to_vec();
        self.hash.clone()
    }

    async fn insert_after(
        conn: &mut AsyncPgConnection,
        rows: &[Self],
        head: &ChainHead,
    ) -> Result<bool, AuditError> {
        let [row] = rows else {
            return Err(AuditError::Database(
                diesel::result::Error::QueryBuilderError(
                    "security events are appended one at a time".into(),
                ),
            ));
        };
        let moved = AppendSecurity { row, head }.execute(conn).await?;
        Ok(moved == 1)
    }
}

/// Appends `rows` to one shard of the clinic's chain in `table`, in [`APPEND_CHUNK`]s, filling
/// in their places and hashes.
///
/// First tries the head that this process last moved and the least recently (see
/// [`take_remembered`]), which costs one statement per chunk. If that head moved or another
/// transaction holds it, the first statement writes nothing and the append locks a free shard
/// with [`lock_head`] instead, an extra round trip.
async fn append<R: ChainedRow>(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
    rows: &mut [R],
    key: &AuditKey,
) -> Result<(), AuditError> {
    ensure_in_transaction(conn)?;
    if let Some(head) = take_remembered(table, clinic_id)
        && let Some(moved) = append_after(conn, head, rows, key).await?
    {
        remember(table, clinic_id, moved);
        return Ok(());
    }
    let head = lock_head(conn, table, clinic_id).await?;
    let moved = append_after(conn, head, rows, key)
        .await?
        .ok_or(AuditError::HeadMoved)?;
    remember(table, clinic_id, moved);
    Ok(())
}

/// Links `rows` after `head` and appends them chunk by chunk. Returns the head after the last
/// row, or `None` if the first chunk found `head` moved or locked, in which case nothing was
/// written. Once the first chunk is in, this transaction has locked the head, so a later chunk can
/// only fail with an error.
async fn append_after<R: ChainedRow>(
    conn: &mut AsyncPgConnection,
    head: ChainHead,
    rows: &mut [R],
    key: &AuditKey,
) -> Result<Option<ChainHead>, AuditError> {
    let mut position = head;
    for (index, chunk) in rows.chunks_mut(APPEND_CHUNK).enumerate() {
        let start = position;
        position = link_after(&start, chunk, key);
        if !R::insert_after(conn, chunk, &start).await? {
            if index == 0 {
                return Ok(None);
            }
            return Err(AuditError::HeadMoved);
        }
    }
    Ok(Some(position))
}

/// Most events inserted by one statement. Each event takes 19 bind parameters, and PostgreSQL
/// accepts at most 65,535 in one statement.
pub const APPEND_CHUNK: usize = 500;

/// Builds the row of an event; its place in a chain and its hash are filled in by
/// [`ChainedRow::link`].
fn access_row(event: NewAccessEvent, key_version: i32) -> AccessRow {
    AccessRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: event.clinic_id.0,
        sequence: 0,
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
        prev_hash: Vec::new(),
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
    let clinic_id = event.clinic_id;
    let mut rows = [SecurityRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: event.clinic_id.0,
        sequence: 0,
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
        prev_hash: Vec::new(),
        hash: Vec::new(),
        key_version: key_version(key)?,
    }];
    append(conn, AuditTable::SecurityEvents, clinic_id, &mut rows, key).await?;
    Ok(AuditEventId(rows[0].id))
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
