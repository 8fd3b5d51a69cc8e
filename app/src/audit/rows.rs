//! Rows of the audit tables exactly as stored, shared by the writer, the readers and the
//! verifier so that all of them hash the same values.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Array, Bool, Bytea, Int4, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid};

use super::hash::{access_hash, legacy_access_hash, legacy_security_hash, security_hash};
use super::keys::AuditKey;

/// Columns of `data_access_audit` in [`AccessRow`] order. `host()` returns the address without
/// a netmask.
pub(super) const ACCESS_COLUMNS: &str = "id, clinic_id, sequence, occurred_at, actor_user_id, \
    actor_roles, patient_id, action, purpose, data_elements, host(client_address) AS \
    client_address, user_agent, request_id, outcome, emergency, prev_hash, hash, key_version";

/// Columns of `security_events` in [`SecurityRow`] order.
pub(super) const SECURITY_COLUMNS: &str = "id, clinic_id, sequence, occurred_at, actor_user_id, \
    subject_user_id, kind, detail, host(client_address) AS client_address, user_agent, \
    request_id, prev_hash, hash, key_version";

#[derive(Debug, Clone, QueryableByName)]
pub(super) struct AccessRow {
    #[diesel(sql_type = Uuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Uuid)]
    pub clinic_id: uuid::Uuid,
    #[diesel(sql_type = Int8)]
    pub sequence: i64,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Uuid>)]
    pub actor_user_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Array<Text>)]
    pub actor_roles: Vec<String>,
    /// `None` for a search that found nobody.
    #[diesel(sql_type = Nullable<Uuid>)]
    pub patient_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub purpose: String,
    #[diesel(sql_type = Array<Text>)]
    pub data_elements: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub client_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_agent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub outcome: String,
    #[diesel(sql_type = Bool)]
    pub emergency: bool,
    #[diesel(sql_type = Bytea)]
    pub prev_hash: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    pub hash: Vec<u8>,
    /// Version of the audit key that signed the event; 0 for events stored before keys.
    #[diesel(sql_type = Int4)]
    pub key_version: i32,
}

#[derive(Debug, Clone, QueryableByName)]
pub(super) struct SecurityRow {
    #[diesel(sql_type = Uuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Uuid)]
    pub clinic_id: uuid::Uuid,
    #[diesel(sql_type = Int8)]
    pub sequence: i64,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Uuid>)]
    pub actor_user_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Uuid>)]
    pub subject_user_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub detail: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    pub client_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_agent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Bytea)]
    pub prev_hash: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    pub hash: Vec<u8>,
    /// Version of the audit key that signed the event; 0 for events stored before keys.
    #[diesel(sql_type = Int4)]
    pub key_version: i32,
}

/// A stored event as the chain verifier reads it.
pub(super) trait ChainRow: QueryableByName<Pg> + Send + 'static {
    const COLUMNS: &'static str;
    fn sequence(&self) -> i64;
    fn id(&self) -> uuid::Uuid;
    fn prev_hash(&self) -> &[u8];
    fn hash(&self) -> &[u8];
    fn key_version(&self) -> i32;
    /// Recomputes the hash with `key`, or without a key for an event of key version 0.
    fn recompute_hash(&self, key: Option<&AuditKey>) -> [u8; 32];
}

impl ChainRow for AccessRow {
    const COLUMNS: &'static str = ACCESS_COLUMNS;
    fn sequence(&self) -> i64 {
        self.sequence
    }
    fn id(&self) -> uuid::Uuid {
        self.id
    }
    fn prev_hash(&self) -> &[u8] {
        &self.prev_hash
    }
    fn hash(&self) -> &[u8] {
        &self.hash
    }
    fn key_version(&self) -> i32 {
        self.key_version
    }
    fn recompute_hash(&self, key: Option<&AuditKey>) -> [u8; 32] {
        match key {
            Some(key) => access_hash(self, key),
            None => legacy_access_hash(self),
        }
    }
}

impl ChainRow for SecurityRow {
    const COLUMNS: &'static str = SECURITY_COLUMNS;
    fn sequence(&self) -> i64 {
        self.sequence
    }
    fn id(&self) -> uuid::Uuid {
        self.id
    }
    fn prev_hash(&self) -> &[u8] {
        &self.prev_hash
    }
    fn hash(&self) -> &[u8] {
        &self.hash
    }
    fn key_version(&self) -> i32 {
        self.key_version
    }
    fn recompute_hash(&self, key: Option<&AuditKey>) -> [u8; 32] {
        match key {
            Some(key) => security_hash(self, key),
            None => legacy_security_hash(self),
        }
    }
}
