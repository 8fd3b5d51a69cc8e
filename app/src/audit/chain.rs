//! Chain heads: the last sequence number and hash of each (table, clinic, shard) chain, and
//! this process's memory of the heads it last moved.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};

use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Int2, Int8, Text, Uuid};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};

use super::hash::GENESIS_HASH;
use super::statements::LockFreeShard;
use super::{AuditError, AuditTable};
use crate::ids::ClinicId;

/// Number of chains per clinic and table. Up to this many transactions can append to one
/// clinic's chains at the same time without waiting for each other. Raising it later is safe,
/// because the heads of missing shards are created on demand and the verifier walks every shard
/// it finds. Lowering it leaves the higher shards unused but still verified.
pub(super) const SHARDS: i16 = 32;

/// The head of a chain, as locked for an append or as this process last left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChainHead {
    pub shard: i16,
    pub last_sequence: i64,
    pub last_hash: Vec<u8>,
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = Int2)]
    shard: i16,
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

/// Locks the head of one of the clinic's shards until the caller's transaction ends.
///
/// Takes the lowest-numbered shard that no other transaction has locked, so a clinic without
/// concurrent writers keeps appending to shard 0, and a transaction that appends twice reuses
/// the shard it already holds. A clinic's first append creates the head of shard 0, and the
/// first append that finds every head locked creates the heads of all [`SHARDS`] shards, each
/// at sequence 0 with the genesis hash. If all of them are locked too, the transaction waits
/// for shard 0. Waiting only ever on shard 0 means no two appenders to one table and clinic can
/// wait for each other in a cycle.
pub(super) async fn lock_head(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
) -> Result<ChainHead, AuditError> {
    ensure_in_transaction(conn)?;
    for shard_count in [1, SHARDS] {
        if let Some(head) = lock_free_shard(conn, table, clinic_id).await? {
            return Ok(head);
        }
        create_heads(conn, table, clinic_id, shard_count).await?;
    }
    if let Some(head) = lock_free_shard(conn, table, clinic_id).await? {
        return Ok(head);
    }

    // NOTE: no test locks all 32 shards of a clinic at once, so this wait runs only under load.
    let rows: Vec<HeadRow> = diesel::sql_query(
        "SELECT shard, last_sequence, last_hash FROM audit_chain_heads \
         WHERE chain = $1 AND clinic_id = $2 AND shard = 0 FOR UPDATE",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .load(conn)
    .await?;
    let row = rows
        .into_iter()
        .next()
        .ok_or(AuditError::Database(diesel::result::Error::NotFound))?;
    Ok(ChainHead {
        shard: row.shard,
        last_sequence: row.last_sequence,
        last_hash: row.last_hash,
    })
}

async fn lock_free_shard(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
) -> Result<Option<ChainHead>, AuditError> {
    let rows: Vec<(i16, i64, Vec<u8>)> = LockFreeShard {
        table,
        clinic_id: clinic_id.0,
    }
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|(shard, last_sequence, last_hash)| ChainHead {
            shard,
            last_sequence,
            last_hash,
        }))
}

/// Creates the heads of shards 0 to `shard_count - 1` that do not exist yet.
///
/// The `NOT EXISTS` test skips heads that exist in the statement's snapshot. Without it, `ON
/// CONFLICT` would also check them and wait for any open transaction that has advanced one of
/// them. Two writers may still create the same missing head: the second one's insert waits for
/// the first to commit and then does nothing.
async fn create_heads(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
    shard_count: i16,
) -> Result<(), AuditError> {
    diesel::sql_query(
        "INSERT INTO audit_chain_heads (chain, clinic_id, shard, last_sequence, last_hash) \
         SELECT $1, $2, missing.shard, 0, $3 FROM generate_series(0, $4 - 1) AS missing (shard) \
         WHERE NOT EXISTS (SELECT 1 FROM audit_chain_heads AS head \
             WHERE head.chain = $1 AND head.clinic_id = $2 AND head.shard = missing.shard) \
         ON CONFLICT (chain, clinic_id, shard) DO NOTHING",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .bind::<Bytea, _>(GENESIS_HASH.as_slice())
    .bind::<Int2, _>(shard_count)
    .execute(conn)
    .await?;
    Ok(())
}

/// Maximum number of clinics whose heads one process remembers. Past it, the memory starts again empty,
/// which only costs the next appends of each clinic the locking path.
const REMEMBERED_CLINICS: usize = 10_000;

type Remembered = HashMap<(AuditTable, ClinicId), VecDeque<ChainHead>>;

/// Heads that appends of this process moved, per table and clinic, least recently moved first.
///
/// An append that starts from a remembered head writes the event and moves the head in one
/// statement, which checks that no other transaction has locked the head and that it has not moved
/// since (see [`super::statements`]). That saves the round trip of [`lock_head`] in the common
/// case. A remembered head can be stale: the appending transaction rolled back, or another
/// server appended to the same shard. The check then fails, nothing is written, and the append
/// locks a head as if nothing were remembered. The memory only ever saves work; the database
/// decides.
///
/// Taking the least recently moved head first gives the transaction that moved it the longest
/// time to commit, so under steady load a taken head is rarely still locked.
static REMEMBERED: LazyLock<Mutex<Remembered>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Takes the least recently moved head of `table` and `clinic_id` that this process remembers.
pub(super) fn take_remembered(table: AuditTable, clinic_id: ClinicId) -> Option<ChainHead> {
    let mut remembered = REMEMBERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    remembered.get_mut(&(table, clinic_id))?.pop_front()
}

/// Remembers `head` as the newest position of its shard, replacing what was remembered of it.
pub(super) fn remember(table: AuditTable, clinic_id: ClinicId, head: ChainHead) {
    let mut remembered = REMEMBERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if remembered.len() >= REMEMBERED_CLINICS && !remembered.contains_key(&(table, clinic_id)) {
        remembered.clear();
    }
    let heads = remembered.entry((table, clinic_id)).or_default();
    heads.retain(|known| known.shard != head.shard);
    heads.push_back(head);
}
