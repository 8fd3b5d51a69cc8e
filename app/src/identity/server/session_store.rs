//! tower-sessions store over diesel-async, so sessions live in PostgreSQL and survive a restart
//! of any app node.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::db::DbPool;
use crate::schema::sessions;

/// Session keys whose values are also copied into columns of `sessions`.
pub const USER_ID_KEY: &str = "user_id";
pub const USER_AGENT_KEY: &str = "user_agent";

/// Stores session records in the `sessions` table.
#[derive(Clone)]
pub struct PgSessionStore {
    pool: DbPool,
}

impl PgSessionStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// Deletes every expired session; run periodically by the server.
    pub async fn delete_expired(&self) -> Result<usize, String> {
        let mut connection = self.pool.get().await.map_err(|error| error.to_string())?;
        diesel::delete(sessions::table.filter(sessions::expires_at.lt(Utc::now())))
            .execute(&mut connection)
            .await
            .map_err(|error| error.to_string())
    }
}

impl fmt::Debug for PgSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PgSessionStore")
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    data: serde_json::Value,
    expires_at: DateTime<Utc>,
    user_id: Option<uuid::Uuid>,
    user_agent: Option<String>,
    last_seen_at: DateTime<Utc>,
}

impl SessionRow {
    fn from_record(record: &Record) -> session_store::Result<Self> {
        let data = serde_json::to_value(&record.data)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let user_id = record
            .data
            .get(USER_ID_KEY)
            .and_then(|value| serde_json::from_value(value.clone()).ok());
        let user_agent = record
            .data
            .get(USER_AGENT_KEY)
            .and_then(|value| value.as_str())
            .map(|agent| agent.chars().take(300).collect());
        Ok(Self {
            id: record.id.to_string(),
            data,
            expires_at: to_chrono(record.expiry_date),
            user_id,
            user_agent,
            last_seen_at: Utc::now(),
        })
    }
}

fn to_chrono(instant: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(instant.unix_timestamp(), instant.nanosecond()).unwrap_or_default()
}

fn backend(error: impl fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut connection = self.pool.get().await.map_err(backend)?;
        // A collision of 128-bit random ids is unlikely, but an existing session must never be
        // overwritten by a new one, so draw another id until the insert succeeds.
        loop {
            let row = SessionRow::from_record(record)?;
            let inserted = diesel::insert_into(sessions::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(&mut connection)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates an existing session. A session whose row was deleted (signed out, ended by its
    /// owner or an admin, deactivated, rotated) stays deleted: a request that loaded it before
    /// the deletion must not write it back when it finishes. New sessions go through `create`.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut connection = self.pool.get().await.map_err(backend)?;
        let row = SessionRow::from_record(record)?;
        let updated = diesel::update(sessions::table.filter(sessions::id.eq(&row.id)))
            .set((
                sessions::data.eq(&row.data),
                sessions::expires_at.eq(row.expires_at),
                sessions::user_id.eq(row.user_id),
                sessions::user_agent.eq(&row.user_agent),
                sessions::last_seen_at.eq(row.last_seen_at),
            ))
            .execute(&mut connection)
            .await
            .map_err(backend)?;
        if updated == 0 {
            tracing::info!("a deleted session was not written back");
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let mut connection = self.pool.get().await.map_err(backend)?;
        let row: Option<(serde_json::Value, DateTime<Utc>)> = sessions::table
            .filter(sessions::id.eq(session_id.to_string()))
            .filter(sessions::expires_at.gt(Utc::now()))
            .select((sessions::data, sessions::expires_at))
            .first(&mut connection)
            .await
            .optional()
            .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_value(data)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp())
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let mut connection = self.pool.get().await.map_err(backend)?;
        diesel::delete(sessions::table.filter(sessions::id.eq(session_id.to_string())))
            .execute(&mut connection)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
