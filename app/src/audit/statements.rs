//! The statements of an append, written as query types so that diesel keeps them prepared.
//!
//! diesel marks every `sql_query` unsafe to cache, so diesel-async 0.10 prepares it again on
//! each call: one round trip to prepare and one to execute. These types render fixed SQL and do
//! not opt out of the cache, so each connection prepares them once, keyed by their SQL text, and
//! an append then takes one round trip per statement.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, Bool, Bytea, Int2, Int4, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid,
};
use diesel_async::RunQueryDsl;

use super::AuditTable;
use super::rows::{AccessRow, SecurityRow};

/// Pushes each value as a bind parameter of its SQL type, separated by commas.
macro_rules! push_binds {
    ($out:ident; $first_type:ty => $first:expr $(, $type:ty => $value:expr)* $(,)?) => {
        $out.push_bind_param::<$first_type, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$type, _>($value)?;
        )*
    };
}

/// Locks the lowest-numbered head of a clinic's chain in `table` that no other transaction has
/// locked. Returns its shard, last sequence number and last hash, or no row when all are locked.
pub(super) struct LockFreeShard {
    pub table: AuditTable,
    pub clinic_id: uuid::Uuid,
}

impl QueryFragment<Pg> for LockFreeShard {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT shard, last_sequence, last_hash FROM audit_chain_heads WHERE chain = ",
        );
        out.push_bind_param::<Text, _>(self.table.name())?;
        out.push_sql(" AND clinic_id = ");
        out.push_bind_param::<Uuid, _>(&self.clinic_id)?;
        out.push_sql(" ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED");
        Ok(())
    }
}

impl Query for LockFreeShard {
    type SqlType = (Int2, Int8, Bytea);
}

/// Inserts consecutive access events into shard `shard` and moves that shard's head to the
/// last of them, in one statement. The `INSERT` in the `WITH` clause returns the values the
/// `UPDATE` needs, and its errors, such as a violated CHECK constraint, abort the whole
/// statement. `rows` must not be empty.
pub(super) struct AppendAccess<'a> {
    pub rows: &'a [AccessRow],
    pub shard: i16,
}

impl QueryFragment<Pg> for AppendAccess<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH event AS (INSERT INTO data_access_audit (id, clinic_id, sequence, \
             occurred_at, actor_user_id, actor_roles, patient_id, action, purpose, \
             data_elements, client_address, user_agent, request_id, outcome, emergency, \
             prev_hash, hash, key_version, shard) VALUES ",
        );
        for (index, row) in self.rows.iter().enumerate() {
            if index > 0 {
                out.push_sql(", ");
            }
            out.push_sql("(");
            push_binds!(out;
                Uuid => &row.id,
                Uuid => &row.clinic_id,
                Int8 => &row.sequence,
                Timestamptz => &row.occurred_at,
                Nullable<Uuid> => &row.actor_user_id,
                Array<Text> => &row.actor_roles,
                Nullable<Uuid> => &row.patient_id,
                Text => &row.action,
                Text => &row.purpose,
                Array<Text> => &row.data_elements,
            );
            out.push_sql(", CAST(");
            out.push_bind_param::<Nullable<Text>, _>(&row.client_address)?;
            out.push_sql(" AS inet), ");
            push_binds!(out;
                Nullable<Text> => &row.user_agent,
                Nullable<Text> => &row.request_id,
                Text => &row.outcome,
                Bool => &row.emergency,
                Bytea => &row.prev_hash,
                Bytea => &row.hash,
                Int4 => &row.key_version,
                Int2 => &self.shard,
            );
            out.push_sql(")");
        }
        push_advance_head(out, AuditTable::DataAccess);
        Ok(())
    }
}

/// Inserts a security event into shard `shard` and moves that shard's head to it, as
/// [`AppendAccess`] does.
pub(super) struct AppendSecurity<'a> {
    pub row: &'a SecurityRow,
    pub shard: i16,
}

impl QueryFragment<Pg> for AppendSecurity<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.row;
        out.push_sql(
            "WITH event AS (INSERT INTO security_events (id, clinic_id, sequence, occurred_at, \
             actor_user_id, subject_user_id, kind, detail, client_address, user_agent, \
             request_id, prev_hash, hash, key_version, shard) VALUES (",
        );
        push_binds!(out;
            Uuid => &row.id,
            Uuid => &row.clinic_id,
            Int8 => &row.sequence,
            Timestamptz => &row.occurred_at,
            Nullable<Uuid> => &row.actor_user_id,
            Nullable<Uuid> => &row.subject_user_id,
            Text => &row.kind,
            Jsonb => &row.detail,
        );
        out.push_sql(", CAST(");
        out.push_bind_param::<Nullable<Text>, _>(&row.client_address)?;
        out.push_sql(" AS inet), ");
        push_binds!(out;
            Nullable<Text> => &row.user_agent,
            Nullable<Text> => &row.request_id,
            Bytea => &row.prev_hash,
            Bytea => &row.hash,
            Int4 => &row.key_version,
            Int2 => &self.shard,
        );
        out.push_sql(")");
        push_advance_head(out, AuditTable::SecurityEvents);
        Ok(())
    }
}

/// Ends an append statement: returns the inserted events' chain positions and moves the head of
/// their shard to the last one. The table name is a fixed identifier, not client input.
fn push_advance_head(mut out: AstPass<'_, '_, Pg>, table: AuditTable) {
    out.push_sql(
        " RETURNING clinic_id, shard, sequence, hash) \
         UPDATE audit_chain_heads SET last_sequence = event.sequence, last_hash = event.hash \
         FROM (SELECT * FROM event ORDER BY sequence DESC LIMIT 1) AS event \
         WHERE audit_chain_heads.chain = '",
    );
    out.push_sql(table.name());
    out.push_sql(
        "' AND audit_chain_heads.clinic_id = event.clinic_id \
         AND audit_chain_heads.shard = event.shard",
    );
}

macro_rules! cached_by_sql_text {
    ($($name:ty),+) => {
        $(
            // No static query id: diesel keys its statement cache by the SQL text instead.
            impl QueryId for $name {
                type QueryId = ();
                const HAS_STATIC_QUERY_ID: bool = false;
            }

            impl<Conn> RunQueryDsl<Conn> for $name {}
        )+
    };
}

/// Reads up to `limit` events of one shard that follow `after` (a sequence number and an id) in
/// chain order, selecting `columns`, as the verifier walks a shard.
pub(super) struct NextEvents {
    pub table: AuditTable,
    pub columns: &'static str,
    pub clinic_id: uuid::Uuid,
    pub shard: i16,
    pub after: (i64, uuid::Uuid),
    pub limit: i64,
}

impl QueryFragment<Pg> for NextEvents {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        out.push_sql(self.columns);
        out.push_sql(" FROM ");
        out.push_sql(self.table.name());
        out.push_sql(" WHERE clinic_id = ");
        out.push_bind_param::<Uuid, _>(&self.clinic_id)?;
        out.push_sql(" AND shard = ");
        out.push_bind_param::<Int2, _>(&self.shard)?;
        out.push_sql(" AND (sequence, id) > (");
        out.push_bind_param::<Int8, _>(&self.after.0)?;
        out.push_sql(", ");
        out.push_bind_param::<Uuid, _>(&self.after.1)?;
        out.push_sql(") ORDER BY sequence, id LIMIT ");
        out.push_bind_param::<Int8, _>(&self.limit)?;
        Ok(())
    }
}

impl Query for NextEvents {
    type SqlType = diesel::sql_types::Untyped;
}

cached_by_sql_text!(
    LockFreeShard,
    AppendAccess<'_>,
    AppendSecurity<'_>,
    NextEvents
);
