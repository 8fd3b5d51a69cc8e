//! Verification of the hash chains, as run by `nurture verify-audit`.
//!
//! Every event's hash is recomputed with the audit key version it names, so a chain rewritten
//! by someone without the key fails at the first altered event, even if every later hash and the
//! chain head were recomputed. Events without a key (version 0) pass only within the prefix of
//! each chain that existed when keys were introduced, as recorded in `audit_unkeyed_prefixes`,
//! which the runtime role cannot write.
//!
//! NOTE: the tables' owner role can still remove events from the end of a chain and move its
//! head back without detection. Detecting that needs the heads copied to a store that role
//! cannot write.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Int2, Int8, Text, Uuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::hash::GENESIS_HASH;
use super::keys::AuditKeyring;
use super::rows::{AccessRow, ChainRow, SecurityRow};
use super::statements::NextEvents;
use super::{AuditError, AuditTable};
use crate::ids::ClinicId;

/// Number of events read per query while walking a chain.
pub const VERIFY_BATCH_SIZE: i64 = 5000;

/// Result of checking every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_break().is_none()
    }

    /// Returns the first broken link, in table and then clinic id order.
    pub fn first_break(&self) -> Option<&BrokenLink> {
        self.chains
            .iter()
            .find_map(|chain| chain.first_break.as_ref())
    }
}

/// Result of checking every shard of one clinic's chain in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub table: AuditTable,
    pub clinic_id: ClinicId,
    /// Number of shards that have a head or events.
    pub shards: u32,
    /// Number of events in all shards, including any after a break.
    pub events: u64,
    /// The break in the lowest-numbered broken shard.
    pub first_break: Option<BrokenLink>,
}

/// The first event at which a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub table: AuditTable,
    pub clinic_id: ClinicId,
    pub shard: i16,
    /// Sequence number within the shard.
    pub sequence: i64,
    pub reason: BreakReason,
}

/// Reason a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// The stored hash differs from the hash recomputed from the event: the event was changed.
    HashMismatch,
    /// The event's previous hash differs from the hash of the event before it.
    PrevHashMismatch,
    /// The sequence numbers skip or repeat: events were removed or inserted.
    Gap { expected: i64 },
    /// The chain head names a later or different last event: events at the end were removed.
    HeadMismatch { last_event_sequence: i64 },
    /// Events exist but the chain head row is missing.
    MissingHead,
    /// The event has no key, but it is not among the events stored before keys were introduced.
    Unkeyed,
    /// The event names an audit key version that the verifier was not given.
    UnknownKey { version: i32 },
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} chain of clinic {} shard {} is broken at sequence {}: ",
            self.table, self.clinic_id, self.shard, self.sequence
        )?;
        match self.reason {
            BreakReason::HashMismatch => f.write_str("the stored hash does not match the event"),
            BreakReason::PrevHashMismatch => {
                f.write_str("the previous hash does not match the event before it")
            }
            BreakReason::Gap { expected } => write!(f, "expected sequence {expected}"),
            BreakReason::HeadMismatch {
                last_event_sequence,
            } => write!(
                f,
                "the chain head does not match the last event, which has sequence {last_event_sequence}"
            ),
            BreakReason::MissingHead => f.write_str("the chain head row is missing"),
            BreakReason::Unkeyed => f.write_str(
                "the event carries no audit key version but was not stored before keys were introduced",
            ),
            BreakReason::UnknownKey { version } => write!(
                f,
                "the event names audit key version {version}, which is not configured \
                 (list older keys in NURTURE_AUDIT_KEY_PREVIOUS)"
            ),
        }
    }
}

#[derive(QueryableByName)]
struct ChainKeyRow {
    #[diesel(sql_type = Uuid)]
    clinic_id: uuid::Uuid,
    #[diesel(sql_type = Int2)]
    shard: i16,
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = Uuid)]
    clinic_id: uuid::Uuid,
    #[diesel(sql_type = Int2)]
    shard: i16,
    #[diesel(sql_type = Int8)]
    last_sequence: i64,
    #[diesel(sql_type = Bytea)]
    last_hash: Vec<u8>,
}

/// One shard's chain: its clinic and shard number.
type ChainKey = (uuid::Uuid, i16);

/// Last sequence number and hash of a chain, from its head or from its last event.
type ChainEnd = (i64, Vec<u8>);

/// Walks every shard of every clinic's chain in both tables in sequence order,
/// [`VERIFY_BATCH_SIZE`] events at a time, recomputes each hash with the key version the event
/// names, and reports the first broken link of each clinic and table.
///
/// Runs in its own read-only REPEATABLE READ transaction, so events appended meanwhile cannot
/// make the heads disagree with the events read. `conn` must not be inside a transaction.
pub async fn verify_chains(
    conn: &mut AsyncPgConnection,
    keys: &AuditKeyring,
) -> Result<VerifyReport, AuditError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut chains = Vec::new();
            for table in AuditTable::ALL {
                let walk = Walk {
                    table,
                    keys,
                    unkeyed: unkeyed_prefixes(conn, table).await?,
                };
                match table {
                    AuditTable::DataAccess => {
                        verify_table::<AccessRow>(conn, &walk, &mut chains).await?
                    }
                    AuditTable::SecurityEvents => {
                        verify_table::<SecurityRow>(conn, &walk, &mut chains).await?
                    }
                }
            }
            Ok(VerifyReport { chains })
        })
        .await
}

/// Inputs of the walk over one table besides its events: the keys and the unkeyed prefixes.
struct Walk<'a> {
    table: AuditTable,
    keys: &'a AuditKeyring,
    /// Last sequence number of each shard whose events may have no key.
    unkeyed: BTreeMap<ChainKey, i64>,
}

#[derive(QueryableByName)]
struct PrefixRow {
    #[diesel(sql_type = Uuid)]
    clinic_id: uuid::Uuid,
    #[diesel(sql_type = Int2)]
    shard: i16,
    #[diesel(sql_type = Int8)]
    last_sequence: i64,
}

/// Reads how far each shard of `table` held events when chains became keyed.
async fn unkeyed_prefixes(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
) -> Result<BTreeMap<ChainKey, i64>, AuditError> {
    let rows: Vec<PrefixRow> = diesel::sql_query(
        "SELECT clinic_id, shard, last_sequence FROM audit_unkeyed_prefixes WHERE chain = $1",
    )
    .bind::<Text, _>(table.name())
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ((row.clinic_id, row.shard), row.last_sequence))
        .collect())
}

/// Verifies every shard of `table` and appends one report per clinic, in clinic id order.
async fn verify_table<Row: ChainRow>(
    conn: &mut AsyncPgConnection,
    walk: &Walk<'_>,
    chains: &mut Vec<ChainReport>,
) -> Result<(), AuditError> {
    let table = walk.table;
    // Heads are read in one query, and shards without events are not walked: most shards of a
    // clinic may be empty, and two queries each would cost more than walking the events.
    let heads = chain_heads(conn, table).await?;
    let with_events = shards_with_events(conn, table).await?;
    let keys: BTreeSet<ChainKey> = heads.keys().chain(&with_events).copied().collect();

    for key in keys {
        let head = heads.get(&key);
        let report = if with_events.contains(&key) {
            verify_shard::<Row>(conn, walk, key, head).await?
        } else {
            ShardReport {
                events: 0,
                first_break: check_head(head, 0, &GENESIS_HASH),
            }
        };
        add_shard(chains, table, key, report);
    }
    Ok(())
}

/// Heads of every chain of `table`.
async fn chain_heads(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
) -> Result<BTreeMap<ChainKey, ChainEnd>, AuditError> {
    let rows: Vec<HeadRow> = diesel::sql_query(
        "SELECT clinic_id, shard, last_sequence, last_hash FROM audit_chain_heads \
         WHERE chain = $1",
    )
    .bind::<Text, _>(table.name())
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                (row.clinic_id, row.shard),
                (row.last_sequence, row.last_hash),
            )
        })
        .collect())
}

/// Chains of `table` that have at least one event, whether or not they have a head.
async fn shards_with_events(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
) -> Result<BTreeSet<ChainKey>, AuditError> {
    let rows: Vec<ChainKeyRow> =
        diesel::sql_query(format!("SELECT DISTINCT clinic_id, shard FROM {table}"))
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.clinic_id, row.shard))
        .collect())
}

/// Adds one shard's result to its clinic's report, which is the last one when it exists.
fn add_shard(
    chains: &mut Vec<ChainReport>,
    table: AuditTable,
    (clinic_id, shard): ChainKey,
    report: ShardReport,
) {
    let clinic_id = ClinicId(clinic_id);
    let same_clinic = chains
        .last()
        .is_some_and(|chain| chain.table == table && chain.clinic_id == clinic_id);
    if !same_clinic {
        chains.push(ChainReport {
            table,
            clinic_id,
            shards: 0,
            events: 0,
            first_break: None,
        });
    }
    let Some(chain) = chains.last_mut() else {
        return;
    };
    chain.shards += 1;
    chain.events += report.events;
    if chain.first_break.is_none() {
        chain.first_break = report.first_break.map(|(sequence, reason)| BrokenLink {
            table,
            clinic_id,
            shard,
            sequence,
            reason,
        });
    }
}

/// Result of walking one shard: its event count and its first break, as a sequence number and
/// a reason.
struct ShardReport {
    events: u64,
    first_break: Option<(i64, BreakReason)>,
}

async fn verify_shard<Row: ChainRow>(
    conn: &mut AsyncPgConnection,
    walk: &Walk<'_>,
    key: ChainKey,
    head: Option<&ChainEnd>,
) -> Result<ShardReport, AuditError> {
    let mut state = ShardState {
        report: ShardReport {
            events: 0,
            first_break: None,
        },
        last_sequence: 0,
        last_hash: GENESIS_HASH.to_vec(),
        unkeyed_until: walk.unkeyed.get(&key).copied().unwrap_or(0),
    };
    let mut batch: Vec<Row> = next_batch(conn, walk.table, key, (0, uuid::Uuid::nil())).await?;
    while let Some(last) = batch.last() {
        let cursor = (last.sequence(), last.id());
        // The next batch is requested before this one is checked, so that PostgreSQL reads it
        // while the hashes are recomputed here: once the statement is prepared on this
        // connection, the first poll of `next_batch` sends the request.
        let (next, ()) = tokio::join!(next_batch::<Row>(conn, walk.table, key, cursor), async {
            state.check(&batch, walk.keys)
        });
        batch = next?;
    }

    let mut report = state.report;
    if report.first_break.is_none() {
        report.first_break = check_head(head, state.last_sequence, &state.last_hash);
    }
    Ok(report)
}

/// Progress of the walk over one shard.
struct ShardState {
    report: ShardReport,
    last_sequence: i64,
    last_hash: Vec<u8>,
    unkeyed_until: i64,
}

impl ShardState {
    /// Checks the next events of the shard, in chain order, and counts them.
    fn check<Row: ChainRow>(&mut self, batch: &[Row], keys: &AuditKeyring) {
        for row in batch {
            self.report.events += 1;
            if self.report.first_break.is_some() {
                continue;
            }
            let reason = if row.sequence() != self.last_sequence + 1 {
                Some(BreakReason::Gap {
                    expected: self.last_sequence + 1,
                })
            } else if row.prev_hash() != self.last_hash.as_slice() {
                Some(BreakReason::PrevHashMismatch)
            } else {
                check_hash(row, keys, self.unkeyed_until)
            };
            self.report.first_break = reason.map(|reason| (row.sequence(), reason));
            self.last_sequence = row.sequence();
            self.last_hash = row.hash().to_vec();
        }
    }
}

/// Recomputes an event's hash with the key it names; returns the break, if any.
fn check_hash<Row: ChainRow>(
    row: &Row,
    keys: &AuditKeyring,
    unkeyed_until: i64,
) -> Option<BreakReason> {
    let version = row.key_version();
    let key = if version == 0 {
        if row.sequence() > unkeyed_until {
            return Some(BreakReason::Unkeyed);
        }
        None
    } else {
        let key = u32::try_from(version)
            .ok()
            .and_then(|version| keys.get(version));
        match key {
            Some(key) => Some(key),
            None => return Some(BreakReason::UnknownKey { version }),
        }
    };
    (row.recompute_hash(key).as_slice() != row.hash()).then_some(BreakReason::HashMismatch)
}

async fn next_batch<Row: ChainRow>(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    (clinic_id, shard): ChainKey,
    after: (i64, uuid::Uuid),
) -> Result<Vec<Row>, AuditError> {
    let query = NextEvents {
        table,
        columns: Row::COLUMNS,
        clinic_id,
        shard,
        after,
        limit: VERIFY_BATCH_SIZE,
    };
    Ok(query.load(conn).await?)
}

/// Compares a shard's head with the last event walked; returns the break, if any.
fn check_head(
    head: Option<&ChainEnd>,
    last_sequence: i64,
    last_hash: &[u8],
) -> Option<(i64, BreakReason)> {
    match head {
        None if last_sequence > 0 => Some((last_sequence, BreakReason::MissingHead)),
        None => None,
        Some((head_sequence, head_hash))
            if *head_sequence != last_sequence || head_hash.as_slice() != last_hash =>
        {
            Some((
                *head_sequence,
                BreakReason::HeadMismatch {
                    last_event_sequence: last_sequence,
                },
            ))
        }
        Some(_) => None,
    }
}
