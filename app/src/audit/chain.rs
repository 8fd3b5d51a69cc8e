//! Chain heads: the last sequence number and hash of each (table, clinic) chain.

use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Int8, Text, Uuid};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};

use super::hash::GENESIS_HASH;
use super::{AuditError, AuditTable};
use crate::ids::ClinicId;

/// The head of a chain as locked for an append.
pub(super) struct ChainHead {
    pub last_sequence: i64,
    pub last_hash: Vec<u8>,
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = Int8)]
    last_sequence: i64,
    #[diesel(sql_type = Bytea)]
    last_hash: Vec<u8>,
}

/// Fails unless `conn` is inside a transaction. Outside one, the head's row lock would be
/// released after each statement, two writers could take the same sequence number, and the
/// event would commit even if the caller's access rolled back.
pub(super) fn ensure_in_transaction(conn: &mut AsyncPgConnection) -> Result<(), AuditError> {
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    match depth {
        Some(_) => Ok(()),
        None => Err(AuditError::NotInTransaction),
    }
}

/// Locks the head of the clinic's chain until the caller's transaction ends, creating it at
/// sequence 0 with the genesis hash if the clinic has no event yet.
pub(super) async fn lock_head(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
) -> Result<ChainHead, AuditError> {
    ensure_in_transaction(conn)?;
    if let Some(head) = select_for_update(conn, table, clinic_id).await? {
        return Ok(head);
    }

    // Two first writers may both get here. The second one's insert waits for the first to
    // commit and then does nothing, and its SELECT FOR UPDATE then waits for the first's lock.
    diesel::sql_query(
        "INSERT INTO audit_chain_heads (chain, clinic_id, last_sequence, last_hash) \
         VALUES ($1, $2, 0, $3) ON CONFLICT (chain, clinic_id) DO NOTHING",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .bind::<Bytea, _>(GENESIS_HASH.as_slice())
    .execute(conn)
    .await?;
    select_for_update(conn, table, clinic_id)
        .await?
        .ok_or(AuditError::Database(diesel::result::Error::NotFound))
}

async fn select_for_update(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
) -> Result<Option<ChainHead>, AuditError> {
    let rows: Vec<HeadRow> = diesel::sql_query(
        "SELECT last_sequence, last_hash FROM audit_chain_heads \
         WHERE chain = $1 AND clinic_id = $2 FOR UPDATE",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|row| ChainHead {
        last_sequence: row.last_sequence,
        last_hash: row.last_hash,
    }))
}

/// Moves the locked head to the event just appended.
pub(super) async fn advance_head(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
    sequence: i64,
    hash: &[u8; 32],
) -> Result<(), AuditError> {
    diesel::sql_query(
        "UPDATE audit_chain_heads SET last_sequence = $3, last_hash = $4 \
         WHERE chain = $1 AND clinic_id = $2",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .bind::<Int8, _>(sequence)
    .bind::<Bytea, _>(hash.as_slice())
    .execute(conn)
    .await?;
    Ok(())
}
