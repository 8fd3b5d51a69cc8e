//! Reading the audit trail: a patient's access history and a user's identity events.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Int8, Nullable, Timestamptz, Uuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::rows::{ACCESS_COLUMNS, AccessRow, SECURITY_COLUMNS, SecurityRow};
use super::{AccessAction, AccessOutcome, AuditError, AuditEventId, ClientInfo, SecurityEventKind};
use crate::ids::{ClinicId, PatientId, UserId};

/// Largest page the read functions return.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Position after which the next page starts: the last event of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCursor {
    pub occurred_at: DateTime<Utc>,
    pub id: AuditEventId,
}

/// A page request, newest events first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPage {
    /// Number of events to return, from 1 to [`MAX_PAGE_SIZE`]; other values are clamped.
    pub limit: u32,
    /// `None` for the first page.
    pub before: Option<HistoryCursor>,
}

/// A recorded access to a patient's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEvent {
    pub id: AuditEventId,
    pub clinic_id: ClinicId,
    /// Position in one shard of the clinic's chain, so two events of a clinic can share it.
    pub sequence: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    pub actor_roles: Vec<String>,
    /// `None` for a search that found nobody.
    pub patient_id: Option<PatientId>,
    pub action: AccessAction,
    pub purpose: String,
    pub data_elements: Vec<String>,
    pub outcome: AccessOutcome,
    pub emergency: bool,
    pub client: ClientInfo,
}

impl AccessEvent {
    /// Returns the cursor that requests the page after this event.
    pub fn cursor(&self) -> HistoryCursor {
        HistoryCursor {
            occurred_at: self.occurred_at,
            id: self.id,
        }
    }
}

/// A recorded identity event.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    pub id: AuditEventId,
    pub clinic_id: ClinicId,
    /// Position in one shard of the clinic's chain, so two events of a clinic can share it.
    pub sequence: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<UserId>,
    pub subject_user_id: Option<UserId>,
    pub kind: SecurityEventKind,
    pub detail: serde_json::Value,
    pub client: ClientInfo,
}

impl SecurityEvent {
    /// Returns the cursor that requests the page after this event.
    pub fn cursor(&self) -> HistoryCursor {
        HistoryCursor {
            occurred_at: self.occurred_at,
            id: self.id,
        }
    }
}

/// Lists accesses to a patient's data, newest first.
pub async fn patient_access_history(
    conn: &mut AsyncPgConnection,
    patient_id: PatientId,
    page: HistoryPage,
) -> Result<Vec<AccessEvent>, AuditError> {
    let rows: Vec<AccessRow> = diesel::sql_query(format!(
        "SELECT {ACCESS_COLUMNS} FROM data_access_audit WHERE patient_id = $1 \
         AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3)) \
         ORDER BY occurred_at DESC, id DESC LIMIT $4"
    ))
    .bind::<Uuid, _>(patient_id)
    .bind::<Nullable<Timestamptz>, _>(page.before.map(|cursor| cursor.occurred_at))
    .bind::<Uuid, _>(page.before.map_or(uuid::Uuid::nil(), |cursor| cursor.id.0))
    .bind::<Int8, _>(clamped_limit(page.limit))
    .load(conn)
    .await?;
    rows.into_iter().map(AccessEvent::try_from).collect()
}

/// Lists identity events that a user caused or that concern them, newest first.
pub async fn user_security_events(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    page: HistoryPage,
) -> Result<Vec<SecurityEvent>, AuditError> {
    let rows: Vec<SecurityRow> = diesel::sql_query(format!(
        "SELECT {SECURITY_COLUMNS} FROM security_events \
         WHERE (subject_user_id = $1 OR actor_user_id = $1) \
         AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3)) \
         ORDER BY occurred_at DESC, id DESC LIMIT $4"
    ))
    .bind::<Uuid, _>(user_id)
    .bind::<Nullable<Timestamptz>, _>(page.before.map(|cursor| cursor.occurred_at))
    .bind::<Uuid, _>(page.before.map_or(uuid::Uuid::nil(), |cursor| cursor.id.0))
    .bind::<Int8, _>(clamped_limit(page.limit))
    .load(conn)
    .await?;
    rows.into_iter().map(SecurityEvent::try_from).collect()
}

fn clamped_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE_SIZE))
}

fn client_info(
    address: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
) -> Result<ClientInfo, AuditError> {
    let address = address
        .map(|text| {
            text.parse::<IpAddr>()
                .map_err(|_| AuditError::InvalidStoredValue {
                    column: "client_address",
                    value: text,
                })
        })
        .transpose()?;
    Ok(ClientInfo {
        address,
        user_agent,
        request_id,
    })
}

impl TryFrom<AccessRow> for AccessEvent {
    type Error = AuditError;

    fn try_from(row: AccessRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: AuditEventId(row.id),
            clinic_id: ClinicId(row.clinic_id),
            sequence: row.sequence,
            occurred_at: row.occurred_at,
            actor_user_id: row.actor_user_id.map(UserId),
            actor_roles: row.actor_roles,
            patient_id: row.patient_id.map(PatientId),
            action: row.action.parse()?,
            purpose: row.purpose,
            data_elements: row.data_elements,
            outcome: row.outcome.parse()?,
            emergency: row.emergency,
            client: client_info(row.client_address, row.user_agent, row.request_id)?,
        })
    }
}

impl TryFrom<SecurityRow> for SecurityEvent {
    type Error = AuditError;

    fn try_from(row: SecurityRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: AuditEventId(row.id),
            clinic_id: ClinicId(row.clinic_id),
            sequence: row.sequence,
            occurred_at: row.occurred_at,
            actor_user_id: row.actor_user_id.map(UserId),
            subject_user_id: row.subject_user_id.map(UserId),
            kind: row.kind.parse()?,
            detail: row.detail,
            client: client_info(row.client_address, row.user_agent, row.request_id)?,
        })
    }
}
