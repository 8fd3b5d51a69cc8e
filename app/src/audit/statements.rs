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
use super::chain::ChainHead;
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

/// Inserts consecutive access events after `head` and moves the head to the last of them, in
/// one statement, if the head is still at `head`'s position and no other transaction has locked it.
/// `rows` must not be empty and must continue the chain from `head`.
///
/// The statement locks the head with `FOR UPDATE SKIP LOCKED` and inserts only if that returned
/// it. So it either appends and moves the head (one row updated), or does nothing because the
/// head had moved or was locked by another transaction (no row updated). It can also fail, for
/// example on a violated CHECK constraint, which aborts the transaction. A head
/// that the caller's own transaction already locked is not skipped.
pub(super) struct AppendAccess<'a> {
    pub rows: &'a [AccessRow],
    pub head: &'a ChainHead,
}

impl QueryFragment<Pg> for AppendAccess<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some(first) = self.rows.first() else {
            return Err(diesel::result::Error::QueryBuilderError(
                "an append needs at least one event".into(),
            ));
        };
        push_lock_head(
            &mut out,
            AuditTable::DataAccess,
            &first.clinic_id,
            self.head,
        )?;
        out.push_sql(", event AS (INSERT INTO data_access_audit (");
        out.push_sql(ACCESS_INSERT_COLUMNS);
        out.push_sql(") SELECT * FROM (VALUES ");
        push_access_values(&mut out, self.rows, &self.head.shard, true)?;
        push_advance_head(out, AuditTable::DataAccess);
        Ok(())
    }
}

/// Columns of `data_access_audit` that an append writes, in the order of
/// [`push_access_values`].
const ACCESS_INSERT_COLUMNS: &str = "id, clinic_id, sequence, occurred_at, actor_user_id, \
    actor_roles, patient_id, action, purpose, data_elements, client_address, user_agent, \
    request_id, outcome, emergency, prev_hash, hash, key_version, shard";

/// Pushes one parenthesized list of values per row, separated by commas, each ending with
/// `shard`. Continues a list of earlier values when `first` is false.
fn push_access_values<'b>(
    out: &mut AstPass<'_, 'b, Pg>,
    rows: &'b [AccessRow],
    shard: &'b i16,
    first: bool,
) -> QueryResult<()> {
    for (index, row) in rows.iter().enumerate() {
        if index > 0 || !first {
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
            Int2 => shard,
        );
        out.push_sql(")");
    }
    Ok(())
}

/// Appends the access events of several clinics in one statement: each group's rows continue
/// the chain from its head. Like [`AppendAccess`], a group is appended only if its head is
/// still at the expected position and no other transaction has locked it. The statement
/// returns the clinic of each group it appended and writes nothing for the others. Every group must name
/// a different clinic and have at least one row, and all rows together must fit one statement
/// ([`super::APPEND_CHUNK`]).
pub(super) struct AppendAccessGroups<'a> {
    pub groups: &'a [(ChainHead, Vec<AccessRow>)],
}

impl QueryFragment<Pg> for AppendAccessGroups<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut expected = Vec::with_capacity(self.groups.len());
        for (head, rows) in self.groups {
            let Some(first) = rows.first() else {
                return Err(diesel::result::Error::QueryBuilderError(
                    "an append needs at least one event".into(),
                ));
            };
            expected.push((&first.clinic_id, head));
        }
        out.push_sql("WITH expected (clinic_id, shard, last_sequence, last_hash) AS (VALUES ");
        for (index, (clinic_id, head)) in expected.into_iter().enumerate() {
            if index > 0 {
                out.push_sql(", ");
            }
            out.push_sql("(");
            push_binds!(out;
                Uuid => clinic_id,
                Int2 => &head.shard,
                Int8 => &head.last_sequence,
                Bytea => &head.last_hash,
            );
            out.push_sql(")");
        }
        out.push_sql(
            "), head AS (SELECT head.clinic_id, head.shard FROM audit_chain_heads AS head \
             JOIN expected USING (clinic_id, shard, last_sequence, last_hash) \
             WHERE head.chain = 'data_access_audit' FOR UPDATE OF head SKIP LOCKED), \
             event AS (INSERT INTO data_access_audit (",
        );
        out.push_sql(ACCESS_INSERT_COLUMNS);
        out.push_sql(") SELECT new_event.* FROM (VALUES ");
        for (index, (head, rows)) in self.groups.iter().enumerate() {
            push_access_values(&mut out, rows, &head.shard, index == 0)?;
        }
        out.push_sql(") AS new_event (");
        out.push_sql(ACCESS_INSERT_COLUMNS);
        out.push_sql(
            ") WHERE EXISTS (SELECT 1 FROM head WHERE head.clinic_id = new_event.clinic_id \
             AND head.shard = new_event.shard) \
             RETURNING clinic_id, shard, sequence, hash) \
             UPDATE audit_chain_heads SET last_sequence = newest.sequence, last_hash = newest.hash \
             FROM (SELECT DISTINCT ON (clinic_id, shard) clinic_id, shard, sequence, hash \
                 FROM event ORDER BY clinic_id, shard, sequence DESC) AS newest \
             WHERE audit_chain_heads.chain = 'data_access_audit' \
             AND audit_chain_heads.clinic_id = newest.clinic_id \
             AND audit_chain_heads.shard = newest.shard \
             RETURNING audit_chain_heads.clinic_id",
        );
        Ok(())
    }
}

impl Query for AppendAccessGroups<'_> {
    type SqlType = Uuid;
}

/// Inserts a security event after `head` and moves the head to it, under the conditions of
/// [`AppendAccess`].
pub(super) struct AppendSecurity<'a> {
    pub row: &'a SecurityRow,
    pub head: &'a ChainHead,
}

impl QueryFragment<Pg> for AppendSecurity<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.row;
        push_lock_head(
            &mut out,
            AuditTable::SecurityEvents,
            &row.clinic_id,
            self.head,
        )?;
        out.push_sql(
            ", event AS (INSERT INTO security_events (id, clinic_id, sequence, occurred_at, \
             actor_user_id, subject_user_id, kind, detail, client_address, user_agent, \
             request_id, prev_hash, hash, key_version, shard) SELECT * FROM (VALUES (",
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
            Int2 => &self.head.shard,
        );
        out.push_sql(")");
        push_advance_head(out, AuditTable::SecurityEvents);
        Ok(())
    }
}

/// Starts an append statement with the CTE `head`, which locks the head of the shard if it is
/// still at `head`'s position and no other transaction holds it. The table name is a fixed
/// identifier, not client input.
fn push_lock_head<'b>(
    out: &mut AstPass<'_, 'b, Pg>,
    table: AuditTable,
    clinic_id: &'b uuid::Uuid,
    head: &'b ChainHead,
) -> QueryResult<()> {
    out.push_sql("WITH head AS (SELECT 1 FROM audit_chain_heads WHERE chain = '");
    out.push_sql(table.name());
    out.push_sql("' AND clinic_id = ");
    out.push_bind_param::<Uuid, _>(clinic_id)?;
    out.push_sql(" AND shard = ");
    out.push_bind_param::<Int2, _>(&head.shard)?;
    out.push_sql(" AND last_sequence = ");
    out.push_bind_param::<Int8, _>(&head.last_sequence)?;
    out.push_sql(" AND last_hash = ");
    out.push_bind_param::<Bytea, _>(&head.last_hash)?;
    out.push_sql(" FOR UPDATE SKIP LOCKED)");
    Ok(())
}

/// Ends an append statement: inserts the listed events only if `head` was locked, returns their
/// chain positions and moves the head of their shard to the last one.
fn push_advance_head(mut out: AstPass<'_, '_, Pg>, table: AuditTable) {
    out.push_sql(
        ") AS new_event WHERE EXISTS (SELECT 1 FROM head) \
         RETURNING clinic_id, shard, sequence, hash) \
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
    AppendAccessGroups<'_>,
    AppendSecurity<'_>,
    NextEvents
);
